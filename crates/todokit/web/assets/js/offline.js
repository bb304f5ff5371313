// Working without the server: the last task list this browser saw (per user
// and view, in localStorage) and a queue of changes made meanwhile, sent in
// order when the connection is back. Signing out forgets both, so nothing of
// one user is left for the next person on the same browser.
//
// Queued changes: {kind: "create", text} (the quick-add line, read by the
// server when sent), {kind: "add", title, body} (the full form's new task),
// {kind: "update", id, title, patch} (the edit dialog's save, the fields as
// the dialog sends them), {kind: "complete", id, title, completed} and
// {kind: "delete", id, title}. A change the server refuses (the task was
// deleted meanwhile, say) is dropped with a note; one that cannot be sent
// yet stays, and so does everything after it.

import { ApiError, api } from "./api.js";
import { announce, onChange } from "./live.js";
import { toast } from "./toast.js";

const PREFIX = "todokit.offline.";
const LAST_USER_KEY = "todokit.lastUser";

const snapshotKey = (user, view) => `${PREFIX}${user.id}.list.${view}`;
const queueKey = (user) => `${PREFIX}${user.id}.queue`;

function read(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: working offline is a bonus, not a duty */
  }
}

/** A fetch that never reached the server (as opposed to an answer with an error). */
export function isNetworkError(err) {
  return !(err instanceof ApiError) && err?.name !== "AbortError";
}

export function saveSnapshot(user, view, data) {
  write(snapshotKey(user, view), { at: Date.now(), data });
}

/** {at, data} or null. */
export function loadSnapshot(user, view) {
  return read(snapshotKey(user, view), null);
}

/** "3:04 PM (12 minutes ago)". */
export function describeAge(at) {
  const minutes = Math.round((Date.now() - at) / 60000);
  const ago =
    minutes < 1 ? "just now" : minutes < 60 ? `${minutes} minute${minutes === 1 ? "" : "s"} ago` : minutes < 1440 ? `${Math.round(minutes / 60)} h ago` : `${Math.round(minutes / 1440)} days ago`;
  const when = new Date(at).toLocaleString(undefined, { weekday: minutes >= 1440 ? "short" : undefined, hour: "numeric", minute: "2-digit" });
  return `${when} (${ago})`;
}

export function enqueue(user, change) {
  const queue = read(queueKey(user), []);
  queue.push({ ...change, queuedAt: Date.now() });
  write(queueKey(user), queue);
  announce("offline-queue", { size: queue.length });
}

export function pendingChanges(user) {
  return read(queueKey(user), []).length;
}

/**
 * The saved list as it will be once the queue is sent: deleted tasks gone,
 * edits applied, completed ones marked (and gone from views of active tasks).
 */
export function withQueuedChanges(user, tasks, { activeOnly = false } = {}) {
  const queue = read(queueKey(user), []);
  const deleted = new Set(queue.filter((c) => c.kind === "delete").map((c) => c.id));
  const completed = new Map(queue.filter((c) => c.kind === "complete").map((c) => [c.id, c.completed]));
  const edits = queue.filter((c) => c.kind === "update");
  return tasks
    .filter((task) => !deleted.has(task.id))
    .map((task) => edits.filter((c) => c.id === task.id).reduce((t, c) => ({ ...t, ...localPatch(c.patch) }), task))
    .map((task) => (completed.has(task.id) ? { ...task, completed: completed.get(task.id) } : task))
    .filter((task) => !(activeOnly && task.completed));
}

/** An edit as the list shows it: the dialog's local wall time read as this browser's time. */
function localPatch(patch) {
  const shown = { ...patch };
  if (typeof patch.due_at === "string") {
    const due = new Date(patch.due_at);
    shown.due_at = Number.isNaN(due.getTime()) ? null : due.toISOString();
  }
  return shown;
}

/** The signed-in user, remembered so the app can open while the server is down. */
export function rememberUser(session) {
  write(LAST_USER_KEY, session ? { user: session.user } : null);
}

export function rememberedUser() {
  return read(LAST_USER_KEY, null);
}

/** Signing out: this browser keeps nothing of the user's. */
export function forgetUser(user) {
  localStorage.removeItem(LAST_USER_KEY);
  if (!user) return;
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(`${PREFIX}${user.id}.`)) localStorage.removeItem(key);
  }
}

async function send(change) {
  switch (change.kind) {
    case "create": {
      const parsed = await api.post("/api/tasks/parse", { text: change.text });
      if (!parsed.title) throw new ApiError(422, { error: { message: "the line had no title" } });
      const body = { title: parsed.title, tags: parsed.tags };
      for (const key of ["description", "priority", "due_at", "reminder_offset_minutes", "recurrence"]) {
        if (parsed[key] !== undefined && parsed[key] !== null) body[key] = parsed[key];
      }
      return api.post("/api/tasks", body);
    }
    case "add":
      return api.post("/api/tasks", change.body);
    case "update":
      return api.patch(`/api/tasks/${change.id}`, change.patch);
    case "complete":
      return api.post(`/api/tasks/${change.id}/complete`, { completed: change.completed });
    case "delete":
      return api.delete(`/api/tasks/${change.id}`);
    default:
      return null;
  }
}

function describe(change) {
  if (change.kind === "create") return `Adding “${change.text.trim()}”`;
  if (change.kind === "add") return `Adding “${change.title}”`;
  if (change.kind === "update") return `Saving your changes to “${change.title}”`;
  if (change.kind === "complete") return `Marking “${change.title}” ${change.completed ? "done" : "not done"}`;
  return `Deleting “${change.title}”`;
}

let flushing = false;

/**
 * Sends the queue in order; returns how many changes were applied. Tabs share
 * the queue, so one tab at a time sends it (a Web Lock where there is one).
 */
export function flushQueue(user) {
  if (!user) return Promise.resolve(0);
  if (navigator.locks) return navigator.locks.request(`todokit-queue-${user.id}`, { ifAvailable: true }, (lock) => (lock ? sendQueue(user) : 0));
  return sendQueue(user);
}

async function sendQueue(user) {
  if (flushing) return 0;
  flushing = true;
  let applied = 0;
  try {
    for (;;) {
      const queue = read(queueKey(user), []);
      if (!queue.length) break;
      const [change] = queue;
      try {
        await send(change);
        applied++;
      } catch (err) {
        if (isNetworkError(err) || err.status === 401 || err.status >= 500 || err.status === 429) break; // try again later
        const reason = err.status === 404 ? "the task no longer exists" : err.message;
        toast(`${describe(change)} was not done: ${reason}.`, { kind: "warning", timeout: 0, className: "offline-refused" });
      }
      // Sent or refused: either way it leaves the queue (a refusal will not change by retrying).
      write(queueKey(user), read(queueKey(user), []).slice(1));
    }
  } finally {
    flushing = false;
  }
  if (applied) {
    toast(`Sent ${applied} change${applied === 1 ? "" : "s"} made while offline.`, { kind: "success", timeout: 4000 });
    announce("tasks");
  }
  announce("offline-queue", { size: pendingChanges(user) });
  return applied;
}

/** Flushes whenever the connection comes back (and once now). Returns the unsubscribe. */
export function syncQueueWhenOnline(user) {
  const stop = onChange("reconnected", () => flushQueue(user));
  flushQueue(user);
  return stop;
}
