// The one module that owns "what changed elsewhere" and "are we connected".
//
// The server's live stream (`GET /api/events`, SSE) tells every open tab what
// changed: tasks, threads, items, replies starting and finishing, reminders.
// Tabs of the same browser also tell each other through a BroadcastChannel,
// which keeps them in step while the server cannot be reached.
//
// Connectivity follows the event stream and the app's own requests (the chat
// stream included); while the server is unreachable a /healthz probe backs off
// until it answers, then everyone hears "reconnected" and reloads what it shows.

const listeners = new Map(); // topic -> Set<fn>
const channel = "BroadcastChannel" in window ? new BroadcastChannel("todokit") : null;

let connection = navigator.onLine ? "connected" : "offline";
let probeTimer = null;
let probeDelay = 500;

function emit(topic, detail) {
  for (const fn of listeners.get(topic) || []) {
    try {
      fn(detail);
    } catch (err) {
      console.error(err);
    }
  }
}

/**
 * Subscribe to a topic: "tasks" (task list changed), "threads" (a thread was
 * created, renamed or deleted), "items" (items of a thread changed), "runs"
 * (a reply started or finished), "reminder" (a reminder is due), "connection",
 * "reconnected" (back after a drop: reload), "session".
 */
export function onChange(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

/** Announce a local change to this tab and to the others. */
export function announce(topic, detail = {}) {
  emit(topic, { ...detail, local: true });
  // While the server's stream is open it tells the other tabs itself.
  const serverTells = SERVER_TOPICS.has(topic) && stream.source?.readyState === EventSource.OPEN;
  if (!serverTells) channel?.postMessage({ topic, detail });
}

const SERVER_TOPICS = new Set(["tasks", "threads"]);

channel?.addEventListener("message", (event) => {
  const { topic, detail } = event.data || {};
  if (typeof topic === "string") emit(topic, { ...(detail || {}), local: false });
});

export function connectionState() {
  return connection;
}

function setConnection(state) {
  if (state === connection) return;
  connection = state;
  emit("connection", { state });
}

function downState() {
  return navigator.onLine ? "reconnecting" : "offline";
}

/** Back after a drop: everyone reloads what it shows. */
function recovered() {
  const wasDown = connection !== "connected";
  clearTimeout(probeTimer);
  probeTimer = null;
  probeDelay = 500;
  setConnection("connected");
  if (wasDown) emit("reconnected", {});
}

/** Called by the API layer after every request. */
export function reportRequest(ok) {
  if (ok) {
    if (connection !== "connected") recovered();
    return;
  }
  setConnection(downState());
  scheduleProbe();
}

function scheduleProbe() {
  if (probeTimer) return;
  probeTimer = setTimeout(async () => {
    probeTimer = null;
    try {
      const response = await fetch("/healthz", { cache: "no-store" });
      if (response.ok) {
        recovered();
        if (stream.wanted && !stream.source) openStream();
        return;
      }
    } catch {
      /* still down */
    }
    setConnection(downState());
    probeDelay = Math.min(probeDelay * 2, 5000);
    scheduleProbe();
  }, probeDelay);
}

window.addEventListener("offline", () => setConnection("offline"));
window.addEventListener("online", () => {
  setConnection("reconnecting");
  probeDelay = 200;
  clearTimeout(probeTimer);
  probeTimer = null;
  scheduleProbe();
});

// ----- the server's event stream -------------------------------------------

/** Server event kind → topic the views listen to. */
const TOPICS = {
  "task.created": "tasks",
  "task.updated": "tasks",
  "task.completed": "tasks",
  "task.reopened": "tasks",
  "task.deleted": "tasks",
  "tasks.bulk_changed": "tasks",
  "thread.created": "threads",
  "thread.updated": "threads",
  "thread.deleted": "threads",
  "thread.item.done": "items",
  "thread.item.removed": "items",
  "run.started": "runs",
  "run.finished": "runs",
  "reminder.due": "reminder",
};

const stream = { wanted: false, source: null, lastId: null, retryTimer: null, retryDelay: 500, onClosed: null };

function openStream() {
  clearTimeout(stream.retryTimer);
  stream.retryTimer = null;
  // Reconnecting by hand (rather than the browser's fixed retry) keeps the
  // backoff ours; the last id we saw makes the server replay what we missed.
  const url = stream.lastId ? `/api/events?last_event_id=${encodeURIComponent(stream.lastId)}` : "/api/events";
  const source = new EventSource(url, { withCredentials: true });
  stream.source = source;
  source.addEventListener("open", () => {
    stream.retryDelay = 500;
    recovered();
  });
  source.addEventListener("message", (message) => {
    if (message.lastEventId) stream.lastId = message.lastEventId;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event.kind === "reset") {
      // Too far behind for a replay: reload everything.
      emit("reconnected", { reset: true });
      return;
    }
    const topic = TOPICS[event.kind];
    if (topic) emit(topic, { ...(event.data || {}), kind: event.kind, at: event.at, local: false, server: true });
  });
  source.addEventListener("error", () => {
    if (stream.source !== source) return;
    source.close();
    stream.source = null;
    if (!stream.wanted) return;
    setConnection(downState());
    // A refused stream (signed out, too many tabs) looks the same as a drop
    // to EventSource; the owner may check the session.
    stream.onClosed?.();
    stream.retryTimer = setTimeout(openStream, stream.retryDelay);
    stream.retryDelay = Math.min(stream.retryDelay * 2, 5000);
  });
}

/** Opens the signed-in user's live stream (idempotent). */
export function connectEventStream({ onClosed } = {}) {
  stream.wanted = true;
  stream.onClosed = onClosed || null;
  if (!stream.source && !stream.retryTimer) openStream();
}

/** Closes the live stream (signing out). */
export function disconnectEventStream() {
  stream.wanted = false;
  clearTimeout(stream.retryTimer);
  stream.retryTimer = null;
  stream.source?.close();
  stream.source = null;
  stream.lastId = null;
}

window.addEventListener("online", () => {
  if (stream.wanted && !stream.source) openStream();
});
