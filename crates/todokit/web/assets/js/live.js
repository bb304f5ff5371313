// The one module that owns "what changed elsewhere" and "are we connected".
//
// Today: tabs of the same browser tell each other through a BroadcastChannel,
// and connectivity is learned from the requests the app makes (plus a /healthz
// probe while the server is unreachable). When the server's `/api/events`
// stream lands, it plugs in here (`connectEventStream`) and every view that
// listens through `onChange` updates without further changes.

const listeners = new Map(); // topic -> Set<fn>
const channel = "BroadcastChannel" in window ? new BroadcastChannel("todokit") : null;

let connection = navigator.onLine ? "connected" : "offline";
let probeTimer = null;

function emit(topic, detail) {
  for (const fn of listeners.get(topic) || []) {
    try {
      fn(detail);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Subscribe to a topic: "tasks" (task list changed), "threads", "connection". */
export function onChange(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

/** Announce a local change to this tab and to the others. */
export function announce(topic, detail = {}) {
  emit(topic, { ...detail, local: true });
  channel?.postMessage({ topic, detail });
}

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

/** Called by the API layer after every request. */
export function reportRequest(ok) {
  if (ok) {
    clearTimeout(probeTimer);
    probeTimer = null;
    setConnection("connected");
    return;
  }
  setConnection(navigator.onLine ? "reconnecting" : "offline");
  scheduleProbe(1000);
}

function scheduleProbe(delay) {
  if (probeTimer) return;
  probeTimer = setTimeout(async () => {
    probeTimer = null;
    try {
      const response = await fetch("/healthz", { cache: "no-store" });
      if (response.ok) {
        setConnection("connected");
        emit("reconnected", {});
        return;
      }
    } catch {
      /* still down */
    }
    setConnection(navigator.onLine ? "reconnecting" : "offline");
    scheduleProbe(Math.min(delay * 2, 15000));
  }, delay);
}

window.addEventListener("offline", () => setConnection("offline"));
window.addEventListener("online", () => {
  setConnection("reconnecting");
  scheduleProbe(200);
});

/**
 * Placeholder for the server's live stream (`GET /api/events`): when it
 * exists, read it here and `emit` each event under its topic.
 */
export function connectEventStream() {}
