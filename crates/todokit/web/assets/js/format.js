// Dates in the user's zone, due-date urgency and stable tag colours.

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
const yearFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function startOfDay(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

/** A due date the parser set without a time ends the day at 23:59:59. */
export function isEndOfDay(date) {
  return date.getHours() === 23 && date.getMinutes() === 59;
}

/** "overdue" | "today" | "soon" (within 2 days) | "later" | null */
export function dueUrgency(task, now = new Date()) {
  if (!task.due_at || task.completed) return null;
  const due = new Date(task.due_at);
  if (due < now) return "overdue";
  const today = startOfDay(now);
  const days = Math.round((startOfDay(due) - today) / 86400000);
  if (days === 0) return "today";
  if (days <= 2) return "soon";
  return "later";
}

/** "Today 17:00", "Tomorrow", "Mon, Nov 23 9:00 AM", "2 days ago". */
export function formatDue(iso, now = new Date()) {
  const due = new Date(iso);
  const days = Math.round((startOfDay(due) - startOfDay(now)) / 86400000);
  const time = isEndOfDay(due) ? "" : ` ${timeFormat.format(due)}`;
  if (days === 0) return `Today${time}`;
  if (days === 1) return `Tomorrow${time}`;
  if (days === -1) return `Yesterday${time}`;
  if (Math.abs(days) < 7 && days > 0) return `${due.toLocaleDateString(undefined, { weekday: "long" })}${time}`;
  const format = due.getFullYear() === now.getFullYear() ? dayFormat : yearFormat;
  return `${format.format(due)}${time}`;
}

export function formatFull(iso) {
  return fullFormat.format(new Date(iso));
}

export function formatTime(iso) {
  return timeFormat.format(new Date(iso));
}

/** Value for <input type="datetime-local">, in local time. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Stable hue per tag name, from a palette that stays clear of the reds and
 * oranges that mean "overdue" and "high priority".
 */
const TAG_HUES = [210, 190, 168, 145, 120, 235, 258, 280, 300, 200, 155, 225];
export function tagHue(tag) {
  let hash = 0;
  for (const ch of tag) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return TAG_HUES[hash % TAG_HUES.length];
}

const UNITS = { daily: ["day", "days"], weekly: ["week", "weeks"], monthly: ["month", "months"], yearly: ["year", "years"] };
export const WEEKDAYS = [
  ["mon", "Mon"],
  ["tue", "Tue"],
  ["wed", "Wed"],
  ["thu", "Thu"],
  ["fri", "Fri"],
  ["sat", "Sat"],
  ["sun", "Sun"],
];

/** "Every 2 weeks on Mon, Thu · ends after 10 times". */
export function describeRecurrence(rule) {
  if (!rule) return "";
  const [one, many] = UNITS[rule.frequency] || [rule.frequency, rule.frequency];
  const interval = rule.interval || 1;
  let words = interval > 1 ? `Every ${interval} ${many}` : `Every ${one}`;
  if (rule.frequency === "weekly" && Array.isArray(rule.weekdays) && rule.weekdays.length) {
    const names = WEEKDAYS.filter(([key]) => rule.weekdays.includes(key)).map(([, name]) => name);
    words += ` on ${names.join(", ")}`;
  }
  const until = rule.until || rule.end_date;
  if (rule.count) words += ` · ends after ${rule.count} time${rule.count === 1 ? "" : "s"}`;
  else if (until) words += ` · ends ${dayFormat.format(new Date(until))}`;
  return words;
}

export const REMINDER_CHOICES = [
  [0, "At due time"],
  [5, "5 minutes before"],
  [15, "15 minutes before"],
  [30, "30 minutes before"],
  [60, "1 hour before"],
  [120, "2 hours before"],
  [360, "6 hours before"],
  [1440, "1 day before"],
  [2880, "2 days before"],
];
