// Reminders: the server says `reminder.due` on the live stream; every open tab
// shows a toast, and the browser raises a notification once the user allowed
// it (asked only from a button, never on load). Clicking either opens the task.

import { h, icon, replace } from "./dom.js";
import { formatDue } from "./format.js";
import { onChange } from "./live.js";
import { toast } from "./toast.js";

const supported = "Notification" in window;

/** "granted" | "denied" | "default" | "unsupported" */
export function notificationPermission() {
  return supported ? Notification.permission : "unsupported";
}

const permissionListeners = new Set();

export async function askNotificationPermission() {
  if (!supported) return "unsupported";
  let result;
  try {
    result = await Notification.requestPermission();
  } catch {
    result = Notification.permission;
  }
  for (const fn of permissionListeners) fn(result);
  if (result === "granted") toast("Reminders will appear as browser notifications.", { kind: "success", timeout: 4000 });
  else if (result === "denied") toast("Notifications are blocked; reminders still appear here in the app.", { kind: "warning" });
  return result;
}

/**
 * The permission state with a button to ask; re-renders itself when the
 * answer changes. `compact` makes it an icon button for the top bar that
 * disappears once the user has answered.
 */
export function notificationControl({ compact = false } = {}) {
  const el = h("div", { class: compact ? "notify-compact" : "notify-control" });
  const render = () => {
    const state = notificationPermission();
    if (compact) {
      el.hidden = state !== "default";
      replace(
        el,
        h(
          "button",
          { type: "button", class: "icon-button", id: "notify-enable", title: "Turn on reminder notifications", "aria-label": "Turn on reminder notifications", on: { click: askNotificationPermission } },
          icon("bell"),
        ),
      );
      return;
    }
    const text = {
      granted: "Browser notifications are on: due reminders appear even when this tab is in the background.",
      denied: "Browser notifications are blocked for this site. Allow them in the browser's site settings; reminders still appear here as messages.",
      default: "Get reminders as browser notifications, even when this tab is in the background.",
      unsupported: "This browser has no notifications; reminders appear here as messages.",
    }[state];
    replace(
      el,
      h("p", { class: "muted", id: "notify-state", dataset: { state } }, text),
      state === "default" &&
        h("button", { type: "button", class: "button", id: "notify-enable-settings", on: { click: askNotificationPermission } }, icon("bell"), "Turn on notifications"),
    );
  };
  permissionListeners.add(render);
  render();
  return el;
}

/** Shows reminders as they come; `openTask(id)` opens one. Returns an unsubscribe. */
export function watchReminders(openTask) {
  return onChange("reminder", (detail) => {
    const title = String(detail.title || "A task");
    const due = detail.due_at ? formatDue(detail.due_at) : "";
    const label = `Reminder: “${title}”${due ? ` — due ${due}` : ""}`;
    toast(label, {
      kind: "warning",
      timeout: 20000,
      action: { label: "Open", run: () => openTask(detail.task_id) },
      className: "reminder-toast",
    });
    if (notificationPermission() === "granted" && (document.hidden || !document.hasFocus())) {
      try {
        // The tag makes every open tab raise the same single notification.
        const note = new Notification(`Reminder: ${title}`, {
          body: due ? `Due ${due}` : "",
          tag: `todokit-reminder-${detail.task_id}-${detail.due_at || ""}`,
          icon: "/assets/favicon.svg",
        });
        note.addEventListener("click", () => {
          window.focus();
          openTask(detail.task_id);
          note.close();
        });
      } catch {
        /* some platforms only allow notifications from a service worker */
      }
    }
  });
}
