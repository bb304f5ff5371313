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

/** Stable hue per tag name. */
export function tagHue(tag) {
  let hash = 0;
  for (const ch of tag) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function describeRecurrence(rule) {
  if (!rule) return "";
  const unit = { daily: "day", weekly: "week", monthly: "month", yearly: "year" }[rule.frequency] || rule.frequency;
  const every = rule.interval > 1 ? `Every ${rule.interval} ${unit}s` : `Every ${unit}`;
  const limits = [];
  if (rule.count) limits.push(`${rule.count} times`);
  if (rule.until) limits.push(`until ${dayFormat.format(new Date(rule.until))}`);
  return limits.length ? `${every}, ${limits.join(", ")}` : every;
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
