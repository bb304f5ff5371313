// A ChatKit protocol client (chatkit-protocol.md): one POST endpoint, JSON for
// reads and thread management, `data: {json}\n\n` SSE for the six streaming
// request types, and a reducer that applies stream events to a thread.

import { ApiError, headers } from "./api.js";
import { reportRequest } from "./live.js";

export const ENDPOINT = "/api/chatkit";

/** Non-streaming request → parsed JSON. */
export async function chatRequest(type, params = {}, { signal } = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      credentials: "same-origin",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ type, params, metadata: {} }),
      signal,
    });
  } catch (err) {
    if (err.name !== "AbortError") reportRequest(false);
    throw err;
  }
  reportRequest(true);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * Streaming request: calls `onEvent(event)` for each SSE event until the body
 * ends. Rejects with ApiError for a non-200 answer, with the fetch error on a
 * network drop, and with an AbortError when `signal` aborts (which only stops
 * listening: the reply is detached, so it goes on on the server until `stopRun`).
 */
export async function chatStream(type, params, { signal, onEvent }) {
  const response = await send(ENDPOINT, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream", "X-Todokit-Detach": "1" }),
    body: JSON.stringify({ type, params, metadata: {} }),
    signal,
  });
  await readEvents(response, onEvent);
}

/**
 * Re-attaches to the reply running on a thread. Resolves with a function that
 * reads it (every event from the reply's start, then the live ones), or null
 * when no reply is running.
 */
export async function attachRun(threadId, { signal }) {
  const response = await send(`${ENDPOINT}/runs/${encodeURIComponent(threadId)}`, {
    method: "GET",
    headers: headers({ Accept: "text/event-stream" }),
    signal,
  });
  if (response.status === 204) return null;
  return (onEvent) => readEvents(response, onEvent);
}

/** Stops the reply running on a thread; the partial reply is kept. False when none ran. */
export async function stopRun(threadId) {
  try {
    await send(`${ENDPOINT}/runs/${encodeURIComponent(threadId)}/stop`, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: "{}",
    });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}

async function send(url, init) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...init });
  } catch (err) {
    if (err.name !== "AbortError") reportRequest(false);
    throw err;
  }
  reportRequest(true);
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw new ApiError(response.status, data);
  }
  return response;
}

async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const flush = (block) => {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
      .join("\n");
    if (!data) return;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return; // a malformed event is skipped, not fatal
    }
    onEvent(event);
  };
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      if (err.name !== "AbortError") reportRequest(false);
      throw err;
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let boundary;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(buffer.slice(boundary).match(/^\r?\n\r?\n/)[0].length + boundary);
      flush(block);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim()) flush(buffer);
}

/** Load a thread and all its items (oldest first). */
export async function loadThread(threadId) {
  const thread = await chatRequest("threads.get_by_id", { thread_id: threadId });
  const items = [];
  let after = null;
  for (let guard = 0; guard < 50; guard++) {
    const page = await chatRequest("items.list", { thread_id: threadId, order: "asc", limit: 100, after });
    items.push(...(page.data || []));
    if (!page.has_more || !page.after) break;
    after = page.after;
  }
  return { thread, items };
}

/** The thread as the UI sees it, changed only through `applyEvent`. */
export class ThreadState {
  constructor(thread = null, items = []) {
    this.thread = thread;
    this.items = [];
    this.index = new Map();
    for (const item of items) this.upsert(item);
  }

  upsert(item) {
    const at = this.index.get(item.id);
    if (at === undefined) {
      this.index.set(item.id, this.items.length);
      this.items.push(item);
    } else {
      this.items[at] = item;
    }
  }

  remove(id) {
    if (!this.index.has(id)) return;
    this.items = this.items.filter((item) => item.id !== id);
    this.reindex();
  }

  /** Drops every item after `id` (retry deletes them on the server too). */
  truncateAfter(id) {
    const at = this.index.get(id);
    if (at === undefined) return;
    this.items = this.items.slice(0, at + 1);
    this.reindex();
  }

  reindex() {
    this.index = new Map(this.items.map((item, i) => [item.id, i]));
  }

  get(id) {
    const at = this.index.get(id);
    return at === undefined ? null : this.items[at];
  }

  /** Applies one stream event; returns the id of the item that changed, if any. */
  applyEvent(event) {
    switch (event.type) {
      case "thread.created":
      case "thread.updated":
        this.thread = { ...event.thread, items: undefined };
        return null;
      case "thread.item.added":
      case "thread.item.done":
      case "thread.item.replaced":
        this.upsert(structuredClone(event.item));
        return event.item.id;
      case "thread.item.removed":
        this.remove(event.item_id);
        return event.item_id;
      case "thread.item.updated": {
        const item = this.get(event.item_id);
        if (item) applyUpdate(item, event.update);
        return event.item_id;
      }
      default:
        return null;
    }
  }
}

function applyUpdate(item, update) {
  switch (update.type) {
    case "assistant_message.content_part.added":
    case "assistant_message.content_part.done":
      item.content = item.content || [];
      item.content[update.content_index] = structuredClone(update.content);
      break;
    case "assistant_message.content_part.text_delta": {
      item.content = item.content || [];
      while (item.content.length <= update.content_index) {
        item.content.push({ type: "output_text", text: "", annotations: [] });
      }
      item.content[update.content_index].text += update.delta;
      break;
    }
    case "workflow.task.added":
    case "workflow.task.updated":
      item.workflow = item.workflow || { type: "custom", tasks: [] };
      item.workflow.tasks[update.task_index] = structuredClone(update.task);
      break;
    case "widget.root.updated":
      item.widget = structuredClone(update.widget);
      break;
    case "widget.component.updated":
      replaceComponent(item.widget, update.component_id, () => structuredClone(update.component));
      break;
    case "widget.streaming_text.value_delta":
      replaceComponent(item.widget, update.component_id, (c) => ({
        ...c,
        value: (c.value || "") + update.delta,
        streaming: !update.done,
      }));
      break;
    case "generated_image.updated":
      item.image = update.image;
      break;
    default:
      break;
  }
}

function replaceComponent(node, id, make) {
  if (!node || typeof node !== "object") return false;
  for (const key of ["children", "child"]) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i]?.id === id) {
          value[i] = make(value[i]);
          return true;
        }
        if (replaceComponent(value[i], id, make)) return true;
      }
    } else if (value && typeof value === "object") {
      if (value.id === id) {
        node[key] = make(value);
        return true;
      }
      if (replaceComponent(value, id, make)) return true;
    }
  }
  return false;
}

/** Plain text of a user message. */
export function userText(item) {
  return (item.content || []).map((part) => part.text || "").join("");
}

/** Plain text of an assistant message. */
export function assistantText(item) {
  return (item.content || []).map((part) => part.text || "").join("\n\n");
}
