// The assistant panel: thread history (new / rename / delete), the open
// thread with streaming Markdown replies, live tool progress, task widgets with
// working buttons, retry, stop and suggestions.
//
// Where the window is wide enough the panel docks beside the list; narrower,
// it is a modal overlay: a backdrop, the rest of the page inert (so focus
// stays in the panel), Esc closes, and focus returns to what opened it. The
// connection status is the app's own (main.js), not the panel's.

import { ApiError } from "./api.js";
import { ThreadState, assistantText, attachRun, chatRequest, chatStream, loadThread, stopRun, userText } from "./chatkit.js";
import { debounce, h, icon, replace } from "./dom.js";
import { formatFull, formatTime } from "./format.js";
import { announce, onChange } from "./live.js";
import { renderMarkdown } from "./markdown.js";
import { renderWidget } from "./widgets.js";

const THREAD_KEY = "todokit.thread";
const OPEN_KEY = "todokit.chatOpen";
const SUGGESTIONS = ["Create a task called Buy groceries", "List all my tasks", "Mark task #1 as complete", "What's overdue?"];
/** Below this width the panel covers the page (as a modal) instead of docking beside it. */
const OVERLAY_QUERY = "(max-width: 1023px)";

/**
 * Status emoji in replies ("✅ Added …", "⚠️ overdue", "🔴 high") become drawn icons:
 * without an emoji font they would render as empty boxes, and their meaning should
 * not rest on a glyph alone (a status icon has a text name; a priority dot is
 * decoration, as the priority's word follows it).
 */
const STATUS_EMOJI = new Map([
  ["✅", ["check", "Done", "ok"]],
  ["✔️", ["check", "Done", "ok"]],
  ["❌", ["x", "Failed", "bad"]],
  ["⚠️", ["alert", "Warning", "warn"]],
  ["⚠", ["alert", "Warning", "warn"]],
  ["🔴", ["dot", null, "high"]],
  ["🟡", ["dot", null, "medium"]],
  ["⚪", ["dot", null, "low"]],
]);
const STATUS_PATTERN = /(✅|✔️|❌|⚠️|⚠|🔴|🟡|⚪)/u;

function withStatusIcons(fragment) {
  const walker = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) if (STATUS_PATTERN.test(walker.currentNode.data)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = node.data.split(STATUS_PATTERN).filter(Boolean);
    node.replaceWith(
      ...parts.map((part) => {
        const status = STATUS_EMOJI.get(part);
        return status ? h("span", { class: `status-icon status-${status[2]}` }, icon(status[0], status[1])) : document.createTextNode(part);
      }),
    );
  }
  return fragment;
}

export function createChat() {
  let state = new ThreadState();
  let threadId = sessionStorage.getItem(THREAD_KEY);
  // The reply this tab is showing as it streams: {controller, threadId, local}.
  // `local` when this tab asked for it; otherwise re-attached (after a drop, a
  // refresh, or a reply another tab started). Aborting only stops listening.
  let running = null;
  let streamingItemId = null;
  let progress = null;
  let failure = null; // {message, retry: bool, quiet: bool, network: bool, until: Date}
  let failureTimer = null;
  let dropped = false; // the stream broke off; re-attach when back online
  let stopRequested = false;
  let finishedHere = null; // thread whose reply this tab just streamed to its end
  let syncSeq = 0;
  let available = null;
  let view = "chat";
  let unread = 0;
  const itemEls = new Map();

  // ----- elements ----------------------------------------------------------
  const threadTitle = h("p", { class: "chat-thread-title", id: "chat-thread-title" });
  const messages = h("div", { class: "chat-messages", id: "chat-messages", "aria-live": "polite", "aria-relevant": "additions text" });
  const statusLine = h("div", { class: "chat-status", "aria-live": "polite" });
  const history = h("div", { class: "chat-history", id: "chat-history", hidden: true });
  const input = h("textarea", {
    id: "chat-input",
    class: "chat-input",
    rows: 1,
    maxlength: 10000,
    placeholder: "Message the assistant…",
    "aria-label": "Message the assistant",
    "aria-describedby": "chat-hint",
  });
  const sendButton = h("button", { type: "submit", class: "button primary send-button", id: "chat-send", "aria-label": "Send" }, icon("send"));
  const stopButton = h(
    "button",
    { type: "button", class: "button danger send-button", id: "chat-stop", "aria-label": "Stop", hidden: true, on: { click: stop } },
    icon("stop"),
  );
  const composer = h(
    "form",
    { class: "chat-composer", on: { submit: onSubmit } },
    input,
    sendButton,
    stopButton,
    h("p", { class: "hint visually-hidden", id: "chat-hint" }, "Enter sends, Shift+Enter adds a new line."),
  );
  const historyButton = h(
    "button",
    { type: "button", class: "icon-button", id: "chat-history-toggle", "aria-label": "Conversations", "aria-pressed": "false", on: { click: toggleHistory } },
    icon("history"),
  );
  const newButton = h(
    "button",
    { type: "button", class: "icon-button", id: "chat-new", "aria-label": "New conversation", on: { click: newThread } },
    icon("plus"),
  );
  const closeButton = h("button", { type: "button", class: "icon-button", "aria-label": "Close assistant", on: { click: () => setOpen(false) } }, icon("x"));

  const panel = h(
    "aside",
    { class: "chat-panel", id: "chat-panel", "aria-labelledby": "chat-heading", hidden: true },
    h(
      "header",
      { class: "chat-header" },
      h(
        "div",
        { class: "chat-heading" },
        h("h2", { id: "chat-heading" }, "AI Assistant"),
        h("p", { class: "chat-subtitle" }, "Ask me to create, list, or manage your tasks"),
        h("div", { class: "chat-header-meta" }, threadTitle),
      ),
      h("div", { class: "chat-header-actions" }, historyButton, newButton, closeButton),
    ),
    history,
    messages,
    statusLine,
    composer,
  );

  const unreadBadge = h("span", { class: "unread-badge", hidden: true, "aria-hidden": "true" });
  // In the top bar, never floating over the list (it used to cover rows' buttons).
  const toggle = h(
    "button",
    { type: "button", class: "button chat-toggle", id: "chat-open", "aria-label": "Open assistant", "aria-controls": "chat-panel", "aria-expanded": "false", on: { click: () => setOpen(panel.hidden) } },
    icon("chat"),
    h("span", { class: "hide-narrow" }, "Assistant"),
    unreadBadge,
  );
  const backdrop = h("div", { class: "chat-backdrop", hidden: true, on: { click: () => setOpen(false) } });
  let background = []; // what the overlay makes inert
  let opener = null;
  const overlayQuery = window.matchMedia(OVERLAY_QUERY);

  // ----- composer ------------------------------------------------------------
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", autosize);
  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  function onSubmit(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || running || checking || available === false) return;
    input.value = "";
    autosize();
    send(text);
  }

  async function send(text) {
    const messageInput = { content: [{ type: "input_text", text }], attachments: [], inference_options: {} };
    if (stillLimited(text)) return;
    if (threadId && (await replyRunning(threadId, text))) return;
    if (threadId) return runStream("threads.add_user_message", { thread_id: threadId, input: messageInput }, { text });
    return runStream("threads.create", { input: messageInput }, { text });
  }

  /**
   * Asks first whether a reply is still being written in the thread (one
   * started in another tab or by the MCP that this tab has not heard of yet),
   * rather than letting the server refuse the message with a 409 — which the
   * browser would log as a failed request. When one is, it is shown and the
   * message goes back in the box. Only a reply starting in the instant between
   * the question and the message still meets the 409 (handled the same way).
   */
  let checking = false;
  async function replyRunning(id, text) {
    checking = true;
    const listen = new AbortController();
    let read = null;
    try {
      read = await attachRun(id, { signal: listen.signal });
    } catch {
      return false; // the message itself will say what is wrong
    } finally {
      listen.abort();
      checking = false;
    }
    if (!read || id !== threadId) return Boolean(read);
    failure = busyFailure();
    if (!input.value) {
      input.value = text;
      autosize();
    }
    renderStatus();
    resume(id);
    return true;
  }

  /**
   * After a 429 the client knows when sending works again: until then it says
   * so itself instead of asking the server to refuse once more. (The first
   * refusal cannot be foreseen: nothing tells the client its count before it
   * sends, so that one 429 is the server's to give.)
   */
  let limited = null; // {until: Date, limit}
  function stillLimited(text) {
    if (!limited || !(limited.until > Date.now())) return false;
    failure = rateFailure(limited.until, limited.limit);
    if (!input.value) {
      input.value = text;
      autosize();
    }
    renderStatus();
    return true;
  }

  function rateFailure(at, limitCount) {
    const when = at && !Number.isNaN(at.getTime()) ? ` You can send again at ${formatResetTime(at)}.` : "";
    const limit = limitCount ? ` of ${limitCount} message${limitCount === 1 ? "" : "s"}` : "";
    return { message: `You have reached the chat limit${limit}.${when}`, retry: false, rateLimited: true, until: at };
  }

  function busyFailure() {
    return {
      message: "A reply is still being written in this conversation. It is shown here; send your message when it is done.",
      retry: false,
      busy: true,
    };
  }

  // ----- streaming -----------------------------------------------------------
  function runStream(type, params, { text = null } = {}) {
    return drive((signal, onEvent) => chatStream(type, params, { signal, onEvent }), { local: true, text });
  }

  /** Shows a reply as it streams; `start(signal, onEvent)` produces its events. */
  async function drive(start, { local, text = null }) {
    running?.controller.abort();
    const run = { controller: new AbortController(), threadId, local };
    running = run;
    if (local || !failure?.busy) failure = null; // "busy" stays up while the other reply is shown
    dropped = false;
    stopRequested = false;
    finishedHere = null;
    progress = "Thinking…";
    renderChrome();
    let changedSomething = false;
    let completed = false;
    try {
      await start(run.controller.signal, (event) => {
        changedSomething = true;
        onEvent(event);
      });
      completed = true;
    } catch (err) {
      if (err.name === "AbortError") {
        // This tab stopped listening (another thread was opened); the reply goes on.
      } else if (err instanceof ApiError) {
        failure = describeError(err);
        if (text !== null && !input.value) {
          input.value = text; // nothing was sent: keep what the user wrote
          autosize();
        }
        if (err.status === 404) available = false;
      } else if (!changedSomething && text !== null) {
        // Nothing came back: the message may not have reached the server.
        dropped = true;
        if (!input.value) {
          input.value = text;
          autosize();
        }
        failure = { message: "Could not reach the server. Your message is back in the box; send it again when the connection is back.", retry: false, quiet: true, network: true };
      } else {
        dropped = true;
        failure = {
          message: "Connection lost. The reply goes on on the server and will appear here when the connection is back.",
          retry: false,
          quiet: true,
          network: true,
        };
      }
    } finally {
      if (running === run) {
        running = null;
        streamingItemId = null;
        progress = null;
        if (completed) finishedHere = run.threadId ?? threadId;
        if (completed && failure?.busy) failure = null;
        if (completed && stopRequested) failure = { message: "Stopped. The partial reply is kept.", retry: true, quiet: true };
        renderAll();
        if (!panel.hidden && !input.disabled) input.focus();
      }
      if (changedSomething && local && !dropped) {
        announce("tasks");
        announce("threads");
      }
    }
    // The thread was busy with a reply that started elsewhere: show that one.
    if (failure?.busy && threadId) resume(threadId);
  }

  function describeError(err) {
    if (err.status === 404) return { message: "The assistant is not available on this server.", retry: false };
    if (err.status === 409) return busyFailure();
    if (err.status === 429) {
      const at = err.resetsAt ? new Date(err.resetsAt) : err.retryAfter != null ? new Date(Date.now() + err.retryAfter * 1000) : null;
      limited = at && !Number.isNaN(at.getTime()) ? { until: at, limit: err.limit } : null;
      return rateFailure(at, err.limit);
    }
    if (err.status === 422 || err.status === 400) return { message: err.message, retry: false };
    return { message: err.message || "The assistant could not answer.", retry: false };
  }

  function formatResetTime(date) {
    const sameDay = date.toDateString() === new Date().toDateString();
    const time = date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit", second: sameDay && date - Date.now() < 120000 ? "2-digit" : undefined });
    return sameDay ? time : `${date.toLocaleDateString([], { weekday: "short", month: "short", day: "numeric" })} ${time}`;
  }

  /**
   * Shows the thread as saved, then the reply running on it (if any) from its
   * start and live. Used when opening a thread, after a drop, after a refresh,
   * and when another tab starts a reply on the open thread.
   */
  async function resume(id) {
    if (!id || running?.local) return;
    const seq = ++syncSeq;
    running?.controller.abort();
    const listen = new AbortController();
    let read = null;
    try {
      read = await attachRun(id, { signal: listen.signal });
      const { thread, items } = await loadThread(id);
      if (seq !== syncSeq || threadId !== id || running?.local) {
        listen.abort();
        return;
      }
      state = new ThreadState(thread, items);
      available = true;
      const last = state.items.at(-1);
      if (!read && dropped && last?.type === "user_message") failure = { message: "The reply was interrupted.", retry: true };
      else if (dropped) failure = null;
      dropped = false;
    } catch (err) {
      listen.abort();
      if (seq !== syncSeq) return;
      if (err instanceof ApiError && err.status === 404) {
        // The thread is gone (deleted in another tab) or chat is unavailable.
        setThread(null);
        state = new ThreadState();
        await checkAvailable();
      } else if (!(err instanceof ApiError)) {
        dropped = true;
      } else {
        failure = { message: err.message, retry: false };
      }
      renderAll();
      return;
    } finally {
      messages.removeAttribute("aria-busy");
    }
    renderAll();
    if (read) {
      await drive(
        (signal, onEvent) => {
          signal.addEventListener("abort", () => listen.abort());
          return read(onEvent);
        },
        { local: false },
      );
    }
  }

  function onEvent(event) {
    switch (event.type) {
      case "thread.created":
        setThread(event.thread.id);
        if (running) running.threadId = event.thread.id;
        state.applyEvent(event);
        renderChrome();
        // A new thread arrives named: list it at once.
        if (!history.hidden) loadHistory({ background: true });
        return;
      case "thread.updated":
        state.applyEvent(event);
        renderChrome();
        if (!history.hidden) loadHistory({ background: true });
        return;
      case "stream_options":
        stopButton.disabled = event.stream_options?.allow_cancel === false;
        return;
      case "progress_update":
        progress = event.text || "Working…";
        renderStatus();
        return;
      case "error":
        failure = {
          message: event.message || "The assistant could not finish this reply.",
          retry: Boolean(event.allow_retry),
        };
        renderStatus();
        return;
      case "notice":
        messages.append(h("div", { class: `chat-notice notice-${event.level}` }, event.title && h("strong", {}, event.title, " "), renderMarkdown(event.message)));
        scrollDown();
        return;
      default:
        break;
    }
    const id = state.applyEvent(event);
    if (!id) return;
    const item = state.get(id);
    if (event.type === "thread.item.added" && item?.type === "assistant_message") streamingItemId = id;
    if (event.type === "thread.item.done" && id === streamingItemId) streamingItemId = null;
    if (item?.type === "assistant_message" && assistantText(item)) progress = null;
    if (event.type === "thread.item.done" && item?.type === "assistant_message" && panel.hidden) {
      unread++;
      renderChrome();
    }
    renderItem(id);
    renderStatus();
  }

  async function stop() {
    const id = running?.threadId || threadId;
    if (!running || !id) return;
    stopRequested = true;
    stopButton.disabled = true;
    try {
      // The reply ends on the server; its stream then closes by itself.
      if (!(await stopRun(id))) stopRequested = false;
    } catch (err) {
      stopRequested = false;
      failure = { message: `Could not stop the reply: ${err.message}`, retry: false };
      renderStatus();
    }
  }

  function retry() {
    const lastUser = [...state.items].reverse().find((item) => item.type === "user_message");
    if (!lastUser || !threadId) return;
    state.truncateAfter(lastUser.id);
    renderMessages();
    failure = null;
    runStream("threads.retry_after_item", { thread_id: threadId, item_id: lastUser.id });
  }

  async function onWidgetAction(action, itemId) {
    if (!threadId || running) return;
    if (action.handler === "client") return;
    if (action.streaming === false) {
      try {
        const result = await chatRequest("threads.sync_custom_action", { thread_id: threadId, item_id: itemId, action: { type: action.type, payload: action.payload ?? null } });
        if (result?.updated_item) {
          state.upsert(result.updated_item);
          renderItem(result.updated_item.id);
        }
        announce("tasks");
      } catch (err) {
        failure = { message: err.message, retry: false };
        renderStatus();
      }
      return;
    }
    runStream("threads.custom_action", { thread_id: threadId, item_id: itemId, action: { type: action.type, payload: action.payload ?? null } });
  }

  // ----- threads -------------------------------------------------------------
  function setThread(id) {
    threadId = id;
    if (id) sessionStorage.setItem(THREAD_KEY, id);
    else sessionStorage.removeItem(THREAD_KEY);
  }

  async function openThread(id) {
    if (running) {
      // Only stop listening: a reply keeps going on the server.
      running.controller.abort();
      running = null;
      streamingItemId = null;
      progress = null;
    }
    setThread(id);
    failure = null;
    dropped = false;
    view = "chat";
    history.hidden = true;
    historyButton.setAttribute("aria-pressed", "false");
    state = new ThreadState();
    renderAll();
    if (!id) {
      syncSeq++;
      return;
    }
    messages.setAttribute("aria-busy", "true");
    await resume(id);
  }

  function newThread() {
    openThread(null);
    input.focus();
  }

  async function checkAvailable() {
    try {
      await chatRequest("threads.list", { limit: 1, order: "desc" });
      available = true;
    } catch (err) {
      available = err instanceof ApiError && err.status === 404 ? false : available;
    }
    renderChrome();
  }

  function toggleHistory() {
    const show = history.hidden;
    history.hidden = !show;
    historyButton.setAttribute("aria-pressed", String(show));
    view = show ? "history" : "chat";
    if (show) loadHistory();
  }

  /** `background`: a change elsewhere; leaves a row the user is renaming or deleting alone. */
  async function loadHistory({ background = false } = {}) {
    if (background && history.querySelector(".thread-row.editing")) return;
    if (!background) replace(history, h("p", { class: "muted" }, "Loading conversations…"));
    try {
      const page = await chatRequest("threads.list", { limit: 50, order: "desc" });
      const threads = page?.data || [];
      if (background && history.querySelector(".thread-row.editing")) return;
      replace(
        history,
        h("h3", { class: "history-heading" }, "Conversations"),
        threads.length
          ? h("ul", { class: "thread-list" }, threads.map(threadRow))
          : h("p", { class: "muted" }, "No conversations yet."),
      );
    } catch (err) {
      replace(history, h("p", { class: "form-error" }, err instanceof ApiError && err.status === 404 ? "The assistant is not available on this server." : `Could not load conversations: ${err.message}`));
    }
  }

  function threadRow(thread) {
    const row = h("li", { class: ["thread-row", thread.id === threadId && "current"], dataset: { threadId: thread.id } });
    let title = "";
    const show = () => {
      row.classList.remove("editing");
      title = thread.title || "New conversation";
      replace(
        row,
        h(
          "button",
          { type: "button", class: "thread-open", on: { click: () => openThread(thread.id) }, "aria-current": thread.id === threadId ? "true" : null },
          h("span", { class: "thread-title" }, title),
          h("span", { class: "thread-date" }, formatFull(thread.created_at)),
        ),
        h("button", { type: "button", class: "icon-button", "aria-label": `Rename “${title}”`, on: { click: rename } }, icon("edit")),
        h("button", { type: "button", class: "icon-button danger", "aria-label": `Delete “${title}”`, on: { click: confirmDelete } }, icon("trash")),
      );
    };
    function rename() {
      row.classList.add("editing");
      const field = h("input", { value: thread.title || "", maxlength: 255, "aria-label": "Conversation title" });
      const save = async (event) => {
        event.preventDefault();
        const next = field.value.trim();
        if (!next) return show();
        try {
          const updated = await chatRequest("threads.update", { thread_id: thread.id, title: next });
          thread.title = updated?.title ?? next;
          if (thread.id === threadId && state.thread) state.thread.title = thread.title;
          renderChrome();
          announce("threads");
        } catch (err) {
          failure = { message: err.message, retry: false };
          renderStatus();
        }
        show();
      };
      field.addEventListener("keydown", (event) => event.key === "Escape" && (event.preventDefault(), show()));
      replace(row, h("form", { class: "thread-rename", on: { submit: save } }, field, h("button", { type: "submit", class: "button small primary" }, "Save")));
      field.focus();
      field.select();
    }
    function confirmDelete() {
      row.classList.add("editing");
      replace(
        row,
        h("span", { class: "thread-title" }, `Delete “${title}”?`),
        h(
          "button",
          {
            type: "button",
            class: "button small danger",
            on: {
              click: async () => {
                try {
                  await chatRequest("threads.delete", { thread_id: thread.id });
                  if (thread.id === threadId) openThread(null);
                  row.remove();
                  announce("threads");
                } catch (err) {
                  failure = { message: err.message, retry: false };
                  renderStatus();
                  show();
                }
              },
            },
          },
          "Delete",
        ),
        h("button", { type: "button", class: "button small", on: { click: show } }, "Cancel"),
      );
    }
    show();
    return row;
  }

  // ----- rendering -----------------------------------------------------------
  function renderAll() {
    renderChrome();
    renderMessages();
    renderStatus();
  }

  function renderChrome() {
    replace(threadTitle, state.thread?.title || (threadId ? "" : "New conversation"));
    const busy = Boolean(running);
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
    input.disabled = busy || available === false;
    panel.classList.toggle("busy", busy);
    unreadBadge.hidden = unread === 0;
    replace(unreadBadge, String(unread));
    toggle.setAttribute("aria-label", unread ? `Open assistant (${unread} unread)` : "Open assistant");
  }

  function renderMessages() {
    itemEls.clear();
    if (available === false) {
      replace(messages, h("div", { class: "chat-empty" }, h("p", {}, "The assistant is not available on this server.")));
      return;
    }
    if (!state.items.length) {
      replace(
        messages,
        h(
          "div",
          { class: "chat-empty" },
          h("p", { class: "chat-empty-title" }, "What can I do for you?"),
          h("p", { class: "muted" }, "Try one of these:"),
          h(
            "div",
            { class: "suggestions" },
            SUGGESTIONS.map((text) =>
              h("button", { type: "button", class: "suggestion", on: { click: () => !running && send(text) } }, text),
            ),
          ),
        ),
      );
      return;
    }
    replace(messages);
    for (const item of state.items) renderItem(item.id);
  }

  function renderItem(id) {
    const item = state.get(id);
    const old = itemEls.get(id);
    if (!item) {
      old?.remove();
      itemEls.delete(id);
      return;
    }
    const el = itemView(item);
    if (!el) return;
    if (old) old.replaceWith(el);
    else {
      messages.querySelector(".chat-empty")?.remove();
      messages.append(el);
    }
    itemEls.set(id, el);
    scrollDown();
  }

  function itemView(item) {
    const time = item.created_at ? h("time", { class: "chat-time", datetime: item.created_at }, formatTime(item.created_at)) : null;
    switch (item.type) {
      case "user_message":
        return h("div", { class: "chat-item chat-user", dataset: { itemId: item.id } }, h("div", { class: "bubble" }, userText(item)), time);
      case "assistant_message": {
        const streaming = item.id === streamingItemId;
        return h(
          "div",
          { class: ["chat-item", "chat-assistant", streaming && "streaming"], dataset: { itemId: item.id } },
          h("div", { class: "bubble markdown" }, withStatusIcons(renderMarkdown(assistantText(item)))),
          time,
        );
      }
      case "workflow":
        return workflowView(item);
      case "task":
        return h("div", { class: "chat-item chat-workflow", dataset: { itemId: item.id } }, workflowTask(item.task));
      case "widget":
        return h(
          "div",
          { class: "chat-item chat-widget", dataset: { itemId: item.id } },
          renderWidget(item.widget, { onAction: (action) => onWidgetAction(action, item.id), disabled: false }),
        );
      case "client_tool_call":
        return h("div", { class: "chat-item chat-workflow", dataset: { itemId: item.id } }, `Tool ${item.name}: ${item.status}`);
      default:
        return null; // end_of_turn, generated_image and anything new
    }
  }

  /**
   * One compact block per action: a single step shows only its line (no
   * summary repeating it); the line says what is happening, then what
   * happened — the server words it, so "Done" is never claimed before the
   * tool has answered.
   */
  function workflowView(item) {
    const wf = item.workflow || { tasks: [] };
    const steps = (wf.tasks || []).filter(Boolean);
    const summary = wf.summary?.title || (wf.type === "reasoning" ? "Thinking" : null);
    const showSummary = summary && (steps.length !== 1 || wf.type === "reasoning");
    return h(
      "div",
      { class: "chat-item chat-workflow", dataset: { itemId: item.id } },
      showSummary && h("div", { class: "workflow-summary" }, summary),
      h("ul", { class: "workflow-tasks" }, steps.map((task) => h("li", {}, workflowTask(task, Boolean(wf.summary))))),
    );
  }

  function workflowTask(task, finished = false) {
    const status = task.status_indicator || "none";
    const label = task.title || task.content || task.type;
    // A step of a finished workflow that never completed is one whose tool failed: the
    // server words it ("Couldn't …") and it gets a warning mark, never a check.
    const failed = finished && status === "none" && task.type === "custom";
    const mark =
      status === "loading"
        ? h("span", { class: "spinner", role: "img", "aria-label": "In progress" })
        : status === "complete"
          ? icon("check", "Finished")
          : failed
            ? icon("alert", "Failed")
            : h("span", { class: "dot", "aria-hidden": "true" });
    return h(
      "span",
      { class: ["workflow-task", `status-${status}`, failed && "failed"] },
      mark,
      h("span", { class: "workflow-label" }, label),
      task.title && task.content && task.type !== "thought" ? h("span", { class: "workflow-detail" }, task.content) : null,
    );
  }

  function renderStatus() {
    scheduleExpiry();
    const parts = [];
    if (running && progress) parts.push(h("span", { class: "thinking" }, h("span", { class: "spinner", "aria-hidden": "true" }), progress));
    if (failure) {
      parts.push(
        h(
          "div",
          { class: ["chat-error", failure.quiet && "quiet"], role: failure.quiet ? null : "alert" },
          h("span", {}, failure.message),
          failure.retry &&
            !running &&
            h("button", { type: "button", class: "button small", id: "chat-retry", on: { click: retry } }, icon("retry"), "Retry"),
        ),
      );
    }
    replace(statusLine, parts);
    statusLine.hidden = !parts.length;
    renderChrome();
  }

  /** A rate-limit message goes away once sending works again. */
  function scheduleExpiry() {
    clearTimeout(failureTimer);
    const until = failure?.until;
    if (!until) return;
    const shown = failure;
    const clear = () => {
      if (failure !== shown) return;
      failure = null;
      renderStatus();
    };
    const wait = until.getTime() - Date.now();
    if (wait <= 0) queueMicrotask(clear);
    else failureTimer = setTimeout(clear, Math.min(wait, 2 ** 31 - 1));
  }

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  // ----- open / close ----------------------------------------------------------
  const overlaid = () => overlayQuery.matches;

  /** Docked or overlay, as the window's width says; the page behind an overlay is inert. */
  function applyLayout() {
    const open = !panel.hidden;
    const overlay = open && overlaid();
    document.body.classList.toggle("chat-open", open);
    document.body.classList.toggle("chat-overlay", overlay);
    backdrop.hidden = !overlay;
    panel.setAttribute("role", overlay ? "dialog" : "complementary");
    if (overlay) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
    for (const el of background) el.inert = overlay;
  }

  function setOpen(open) {
    if (open === !panel.hidden) {
      if (open) input.focus();
      return;
    }
    if (open) opener = document.activeElement;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    sessionStorage.setItem(OPEN_KEY, open ? "1" : "");
    applyLayout();
    if (open) {
      unread = 0;
      renderChrome();
      if (available === null) checkAvailable().then(renderMessages);
      input.focus();
      scrollDown();
    } else {
      const back = opener?.isConnected && !opener.closest("#chat-panel") ? opener : toggle;
      opener = null;
      back.focus();
    }
  }

  overlayQuery.addEventListener("change", applyLayout);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented && overlaid()) {
      event.preventDefault();
      setOpen(false);
    }
  });

  // The open thread as saved, when it changed elsewhere and this tab is not streaming it.
  const reloadSoon = debounce(() => {
    if (threadId && !running) resume(threadId);
  }, 150);
  const historySoon = debounce(() => {
    if (!history.hidden) loadHistory({ background: true });
  }, 150);

  const unsubscribe = [
    onChange("reconnected", () => {
      // "Could not reach the server" is stale once it can be reached.
      if (failure?.network && !running) {
        failure = null;
        renderStatus();
      }
      // Back after a drop, a refresh of the stream, or a reset: the saved
      // thread, then the reply still running on it.
      if (threadId && !running) resume(threadId);
      historySoon();
    }),
    onChange("threads", (detail) => {
      if (detail.local) return;
      historySoon();
      if (!threadId || (detail.thread_id && detail.thread_id !== threadId)) return;
      if (detail.kind === "thread.deleted") {
        if (!running?.local) openThread(null);
        return;
      }
      reloadSoon();
    }),
    onChange("items", (detail) => {
      if (!threadId || detail.thread_id !== threadId || running) return;
      const known = state.get(detail.item_id);
      // Saved messages never change; widgets do (buttons pressed in another tab).
      const stale = detail.kind === "thread.item.removed" ? Boolean(known) : !known || known.type === "widget";
      if (stale) reloadSoon();
    }),
    onChange("runs", (detail) => {
      if (!threadId || detail.thread_id !== threadId) return;
      if (detail.kind === "run.started") {
        if (!running) resume(threadId); // another tab (or the MCP) started a reply: watch it live
        return;
      }
      if (finishedHere === threadId) {
        finishedHere = null; // this tab saw the whole reply
        return;
      }
      if (!running) reloadSoon();
    }),
  ];

  renderAll();
  if (threadId) openThread(threadId);
  if (sessionStorage.getItem(OPEN_KEY)) setOpen(true);

  return {
    panel,
    toggle,
    backdrop,
    open: () => setOpen(true),
    /** The parts of the page an overlay makes inert. */
    setBackground(elements) {
      background = elements;
      applyLayout();
    },
    destroy() {
      running?.controller.abort(); // stop listening; the reply itself goes on
      clearTimeout(failureTimer);
      overlayQuery.removeEventListener("change", applyLayout);
      for (const el of background) el.inert = false;
      unsubscribe.forEach((fn) => fn());
      panel.remove();
      backdrop.remove();
      toggle.remove();
    },
  };
}
