// "My tasks": quick add with parsed chips, a filter bar kept in the URL, the
// list with inline complete, edit and delete-with-undo, counts and paging.

import { ApiError, api } from "./api.js";
import { debounce, h, icon, replace } from "./dom.js";
import { describeRecurrence, dueUrgency, formatDue, formatFull, tagHue } from "./format.js";
import { announce, onChange } from "./live.js";
import { openTaskDialog } from "./task-dialog.js";
import { toast } from "./toast.js";

const PAGE_SIZE = 50;
const FILTER_KEYS = ["q", "status", "priority", "due", "tags", "sort", "order", "page"];
const LABELS = {
  status: { all: "All tasks", pending: "Active", completed: "Completed", overdue: "Overdue" },
  priority: { "": "Any priority", high: "High", medium: "Medium", low: "Low" },
  due: { "": "Any time", overdue: "Overdue", today: "Today", week: "This week", month: "This month" },
  sort: { due: "Sort: due date", priority: "Sort: priority", created: "Sort: created", updated: "Sort: last changed", title: "Sort: title" },
};

/** Filter state from the URL (the only place it lives). */
function readFilters() {
  const params = new URLSearchParams(location.search);
  return {
    q: params.get("q") || "",
    status: params.get("status") || "all",
    priority: params.get("priority") || "",
    due: params.get("due") || "",
    tags: (params.get("tags") || "").split(",").filter(Boolean),
    sort: params.get("sort") || "due",
    order: params.get("order") || "",
    page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
  };
}

function writeFilters(filters, { push = false } = {}) {
  const params = new URLSearchParams(location.search);
  for (const key of FILTER_KEYS) params.delete(key);
  if (filters.q) params.set("q", filters.q);
  if (filters.status !== "all") params.set("status", filters.status);
  if (filters.priority) params.set("priority", filters.priority);
  if (filters.due) params.set("due", filters.due);
  if (filters.tags.length) params.set("tags", filters.tags.join(","));
  if (filters.sort !== "due") params.set("sort", filters.sort);
  if (filters.order) params.set("order", filters.order);
  if (filters.page > 1) params.set("page", String(filters.page));
  const query = params.toString();
  const url = location.pathname + (query ? `?${query}` : "");
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

function listQuery(filters) {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.status !== "all") params.set("status", filters.status);
  if (filters.priority) params.set("priority", filters.priority);
  if (filters.due) params.set("due", filters.due);
  for (const tag of filters.tags) params.append("tags", tag);
  params.set("sort", filters.sort);
  if (filters.order) params.set("order", filters.order);
  params.set("offset", String((filters.page - 1) * PAGE_SIZE));
  params.set("limit", String(PAGE_SIZE));
  return params.toString();
}

function hasFilters(f) {
  return Boolean(f.q || f.status !== "all" || f.priority || f.due || f.tags.length);
}

export function createDashboard() {
  let filters = readFilters();
  let loadSeq = 0;
  let lastTasks = [];

  // ----- quick add -------------------------------------------------------
  const quickInput = h("input", {
    id: "quick-add",
    class: "quick-add-input",
    placeholder: "Add a task — e.g. “Pay rent friday 9am #home !high”",
    autocomplete: "off",
    maxlength: 2000,
    "aria-describedby": "quick-add-preview",
  });
  const quickPreview = h("div", { id: "quick-add-preview", class: "chips quick-preview", "aria-live": "polite" });
  const quickButton = h("button", { type: "submit", class: "button primary" }, icon("plus"), h("span", {}, "Add"));
  let parsed = null; // {text, result}
  let parseSeq = 0;

  async function parseNow(text) {
    const seq = ++parseSeq;
    if (!text.trim()) {
      parsed = null;
      replace(quickPreview);
      return null;
    }
    try {
      const result = await api.post("/api/tasks/parse", { text });
      if (seq !== parseSeq) return null;
      parsed = { text, result };
      renderPreview(result);
      return result;
    } catch {
      return null;
    }
  }
  const parseSoon = debounce((text) => parseNow(text), 200);

  function renderPreview(result) {
    const chips = [];
    if (result.title) chips.push(chip("title", "Title", result.title));
    if (result.due_at) {
      chips.push(chip("due", "Due", formatDue(result.due_at)));
    }
    if (result.priority) chips.push(chip(`priority priority-${result.priority}`, "Priority", result.priority));
    for (const tag of result.tags) chips.push(tagBadge(tag));
    if (result.description) chips.push(chip("description", "Note", result.description));
    replace(quickPreview, chips);
  }

  function chip(kind, label, value) {
    return h(
      "span",
      { class: `chip chip-${kind.split(" ")[0]} ${kind.includes(" ") ? kind.split(" ")[1] : ""}`, dataset: { chip: kind.split(" ")[0] } },
      h("span", { class: "chip-label" }, `${label}: `),
      value,
    );
  }

  quickInput.addEventListener("input", () => parseSoon(quickInput.value));

  async function onQuickAdd(event) {
    event.preventDefault();
    const text = quickInput.value;
    if (!text.trim()) return;
    parseSoon.cancel();
    quickButton.disabled = true;
    try {
      const result = parsed && parsed.text === text ? parsed.result : await parseNow(text);
      if (!result) throw new Error("Could not read that line; try again.");
      if (!result.title) {
        toast("Say what the task is — the line only had a date, priority or tags.", { kind: "warning" });
        return;
      }
      const body = { title: result.title, tags: result.tags };
      if (result.description) body.description = result.description;
      if (result.priority) body.priority = result.priority;
      if (result.due_at) body.due_at = result.due_at;
      const task = await api.post("/api/tasks", body);
      quickInput.value = "";
      parsed = null;
      replace(quickPreview);
      toast(`Added “${task.title}”`, { kind: "success", timeout: 3000 });
      announce("tasks");
    } catch (err) {
      toast(err.message, { kind: "error" });
    } finally {
      quickButton.disabled = false;
      quickInput.focus();
    }
  }

  const quickAdd = h(
    "form",
    { class: "quick-add", on: { submit: onQuickAdd }, "aria-label": "Quick add" },
    h("label", { for: "quick-add", class: "visually-hidden" }, "Quick add a task"),
    h("div", { class: "quick-add-row" }, quickInput, quickButton),
    quickPreview,
  );

  // ----- filter bar ------------------------------------------------------
  const search = h("input", {
    id: "filter-search",
    type: "search",
    placeholder: "Search tasks",
    value: filters.q,
    autocomplete: "off",
  });
  const clearSearch = h(
    "button",
    {
      type: "button",
      class: "icon-button search-clear",
      "aria-label": "Clear search",
      on: {
        click: () => {
          search.value = "";
          update({ q: "" });
          search.focus();
        },
      },
    },
    icon("x"),
  );
  const searchSoon = debounce(() => update({ q: search.value.trim() }), 300);
  search.addEventListener("input", () => {
    clearSearch.hidden = !search.value;
    searchSoon();
  });

  function select(idName, label, options, key) {
    const el = h(
      "select",
      { id: idName, "aria-label": label, on: { change: () => update({ [key]: el.value }) } },
      Object.entries(options).map(([value, text]) => h("option", { value }, text)),
    );
    return el;
  }
  const statusSelect = select("filter-status", "Status", LABELS.status, "status");
  const prioritySelect = select("filter-priority", "Priority", LABELS.priority, "priority");
  const dueSelect = select("filter-due", "Due", LABELS.due, "due");
  const sortSelect = select("filter-sort", "Sort by", LABELS.sort, "sort");
  const orderButton = h("button", {
    type: "button",
    id: "filter-order",
    class: "button subtle",
    on: { click: () => update({ order: effectiveOrder() === "asc" ? "desc" : "asc" }) },
  });
  const tagSelect = h("select", {
    id: "filter-tag",
    "aria-label": "Filter by tag",
    on: {
      change: () => {
        if (tagSelect.value && !filters.tags.includes(tagSelect.value)) update({ tags: [...filters.tags, tagSelect.value] });
        tagSelect.value = "";
      },
    },
  });
  const clearButton = h(
    "button",
    { type: "button", class: "button subtle", id: "filter-clear", on: { click: () => update({ q: "", status: "all", priority: "", due: "", tags: [] }, true) } },
    "Clear",
  );
  const activeChips = h("div", { class: "chips active-filters", "aria-label": "Active filters" });

  function effectiveOrder() {
    return filters.order || ({ due: "asc", title: "asc" }[filters.sort] ?? "desc");
  }

  const filterBar = h(
    "section",
    { class: "filter-bar", "aria-label": "Filters" },
    h(
      "div",
      { class: "search-box" },
      icon("search"),
      h("label", { for: "filter-search", class: "visually-hidden" }, "Search tasks"),
      search,
      clearSearch,
    ),
    statusSelect,
    prioritySelect,
    dueSelect,
    tagSelect,
    h("div", { class: "sort-group" }, sortSelect, orderButton),
    clearButton,
  );

  function syncControls() {
    if (document.activeElement !== search) search.value = filters.q;
    clearSearch.hidden = !search.value;
    statusSelect.value = filters.status;
    prioritySelect.value = filters.priority;
    dueSelect.value = filters.due;
    sortSelect.value = filters.sort;
    const order = effectiveOrder();
    replace(orderButton, order === "asc" ? "↑ Asc" : "↓ Desc");
    orderButton.setAttribute("aria-label", `Sort order: ${order === "asc" ? "ascending" : "descending"}`);
    clearButton.hidden = !hasFilters(filters);
    const chips = [];
    const remove = (label, patch) =>
      h(
        "button",
        { type: "button", class: "chip chip-removable", "aria-label": `Remove filter ${label}`, on: { click: () => update(patch) } },
        label,
        icon("x"),
      );
    if (filters.q) chips.push(remove(`“${filters.q}”`, { q: "" }));
    if (filters.status !== "all") chips.push(remove(`Status: ${LABELS.status[filters.status] || filters.status}`, { status: "all" }));
    if (filters.priority) chips.push(remove(`${LABELS.priority[filters.priority] || filters.priority} priority`, { priority: "" }));
    if (filters.due) chips.push(remove(`Due: ${LABELS.due[filters.due] || filters.due}`, { due: "" }));
    for (const tag of filters.tags) chips.push(remove(`#${tag}`, { tags: filters.tags.filter((t) => t !== tag) }));
    replace(activeChips, chips);
  }

  function update(patch, push = false) {
    filters = { ...filters, page: 1, ...patch };
    writeFilters(filters, { push });
    syncControls();
    load();
  }

  // ----- list ------------------------------------------------------------
  const counts = h("div", { class: "counts", "aria-live": "polite" });
  const list = h("ul", { class: "task-list", "aria-label": "Tasks" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const newButton = h(
    "button",
    {
      type: "button",
      class: "button primary",
      id: "new-task",
      on: {
        click: async () => {
          const task = await openTaskDialog(null);
          if (task) {
            toast(`Created “${task.title}”`, { kind: "success", timeout: 3000 });
            announce("tasks");
          }
        },
      },
    },
    icon("plus"),
    h("span", {}, "New task"),
  );

  function skeleton() {
    replace(
      list,
      [1, 2, 3].map(() => h("li", { class: "task skeleton", "aria-hidden": "true" }, h("span"), h("span"))),
    );
  }

  async function load() {
    const seq = ++loadSeq;
    list.setAttribute("aria-busy", "true");
    if (!lastTasks.length) skeleton();
    try {
      const [page, overdue, tags] = await Promise.all([
        api.get(`/api/tasks?${listQuery(filters)}`),
        api.get("/api/tasks?status=overdue&limit=1"),
        api.get("/api/tasks/tags"),
      ]);
      if (seq !== loadSeq) return;
      lastTasks = page.tasks;
      renderList(page, overdue.total, tags.tags);
    } catch (err) {
      if (seq !== loadSeq || err.status === 401) return;
      // Unreachable: keep what is shown; the list reloads when the connection is back.
      if (!(err instanceof ApiError) && lastTasks.length) return;
      const reason = err instanceof ApiError ? err.message : "the server cannot be reached; the list reloads when the connection is back";
      replace(list, h("li", { class: "empty error" }, `Could not load tasks: ${reason}`, " ", retryButton()));
    } finally {
      if (seq === loadSeq) list.removeAttribute("aria-busy");
    }
  }

  function retryButton() {
    return h("button", { type: "button", class: "button small", on: { click: load } }, "Retry");
  }

  function renderList(page, overdueCount, tags) {
    replace(
      tagSelect,
      h("option", { value: "" }, tags.length ? "Any tag" : "No tags yet"),
      tags.filter((t) => !filters.tags.includes(t.name)).map((t) => h("option", { value: t.name }, `#${t.name} (${t.count})`)),
    );
    tagSelect.disabled = !tags.length;

    const c = page.counts;
    replace(
      counts,
      h("span", { id: "showing" }, page.total ? `Showing ${page.offset + 1}–${page.offset + page.tasks.length} of ${page.total}` : "Showing 0 of 0"),
      h(
        "span",
        { class: "count-pills" },
        countPill("pending", c.pending, "active", { status: "pending" }),
        countPill("overdue", overdueCount, "overdue", { status: "overdue" }),
        countPill("completed", c.completed, "done", { status: "completed" }),
        countPill("total", c.total, "total", { status: "all" }),
      ),
    );

    if (!page.tasks.length) {
      const empty = hasFilters(filters)
        ? h(
            "li",
            { class: "empty" },
            h("strong", {}, "No tasks match these filters."),
            h("button", { type: "button", class: "button small", on: { click: () => update({ q: "", status: "all", priority: "", due: "", tags: [] }) } }, "Clear filters"),
          )
        : h(
            "li",
            { class: "empty" },
            h("strong", {}, c.total ? "Nothing here." : "No tasks yet."),
            h("span", {}, "Type one in the box above, or ask the assistant."),
          );
      replace(list, empty);
    } else {
      replace(list, page.tasks.map(taskRow));
    }

    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    pager.hidden = pages <= 1;
    replace(
      pager,
      h("button", { type: "button", class: "button small", disabled: filters.page <= 1, on: { click: () => update({ page: filters.page - 1 }, true) } }, "Previous"),
      h("span", {}, `Page ${filters.page} of ${pages}`),
      h("button", { type: "button", class: "button small", disabled: filters.page >= pages, on: { click: () => update({ page: filters.page + 1 }, true) } }, "Next"),
    );
  }

  function countPill(kind, value, label, patch) {
    return h(
      "button",
      { type: "button", class: ["count-pill", `count-${kind}`], dataset: { count: kind }, on: { click: () => update(patch) } },
      h("strong", {}, String(value)),
      ` ${label}`,
    );
  }

  function taskRow(task) {
    const urgency = dueUrgency(task);
    const checkbox = h("input", {
      type: "checkbox",
      class: "task-check",
      checked: task.completed,
      "aria-label": `Mark “${task.title}” ${task.completed ? "not done" : "done"}`,
    });
    const row = h(
      "li",
      {
        class: ["task", task.completed && "completed", urgency && `due-${urgency}`, `priority-${task.priority}`],
        dataset: { id: task.id, number: task.number },
      },
      checkbox,
      h(
        "div",
        { class: "task-main" },
        h(
          "div",
          { class: "task-title-line" },
          h("span", { class: "task-number" }, `#${task.number}`),
          h("span", { class: "task-title" }, task.title),
        ),
        task.description && h("p", { class: "task-description" }, task.description),
        h(
          "div",
          { class: "task-meta" },
          h("span", { class: ["badge", `priority-badge`, `priority-${task.priority}`] }, task.priority),
          task.due_at &&
            h(
              "span",
              { class: ["badge", "due-badge", urgency && `due-${urgency}`], title: formatFull(task.due_at) },
              icon("clock"),
              urgency === "overdue" ? `Overdue · ${formatDue(task.due_at)}` : formatDue(task.due_at),
            ),
          task.recurrence && h("span", { class: "badge recurrence-badge" }, icon("repeat"), describeRecurrence(task.recurrence)),
          task.reminder_offset_minutes !== null &&
            task.reminder_offset_minutes !== undefined &&
            h("span", { class: "badge reminder-badge", title: "Reminder set" }, icon("bell", "Reminder")),
          task.tags.map(tagBadge),
        ),
      ),
      h(
        "div",
        { class: "task-actions" },
        h("button", { type: "button", class: "icon-button", "aria-label": `Edit “${task.title}”`, on: { click: () => edit(task) } }, icon("edit")),
        h("button", { type: "button", class: "icon-button danger", "aria-label": `Delete “${task.title}”`, on: { click: () => remove(task, row) } }, icon("trash")),
      ),
    );
    checkbox.addEventListener("change", () => toggle(task, row, checkbox));
    return row;
  }

  async function toggle(task, row, checkbox) {
    const completed = checkbox.checked;
    row.classList.toggle("completed", completed); // optimistic
    try {
      const result = await api.post(`/api/tasks/${task.id}/complete`, { completed });
      if (result.next_instance) {
        toast(`Next “${result.next_instance.title}” is due ${formatDue(result.next_instance.due_at)}`, { kind: "success" });
      }
      announce("tasks");
    } catch (err) {
      checkbox.checked = !completed;
      row.classList.toggle("completed", !completed);
      toast(`Could not update “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  async function edit(task) {
    const saved = await openTaskDialog(task);
    if (saved) {
      toast(`Saved “${saved.title}”`, { kind: "success", timeout: 3000 });
      announce("tasks");
    }
  }

  async function remove(task, row) {
    row.hidden = true; // optimistic
    try {
      const { task: deleted } = await api.delete(`/api/tasks/${task.id}`);
      toast(`Deleted “${deleted.title}”`, {
        kind: "info",
        timeout: 8000,
        action: { label: "Undo", run: () => restore(deleted) },
      });
      announce("tasks");
    } catch (err) {
      row.hidden = false;
      toast(`Could not delete “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  async function restore(task) {
    const body = {
      title: task.title,
      priority: task.priority,
      tags: task.tags,
      completed: task.completed,
    };
    if (task.description) body.description = task.description;
    if (task.due_at) body.due_at = task.due_at;
    if (task.reminder_offset_minutes !== null && task.reminder_offset_minutes !== undefined) {
      body.reminder_offset_minutes = task.reminder_offset_minutes;
    }
    if (task.recurrence) body.recurrence = task.recurrence;
    try {
      const created = await api.post("/api/tasks", body);
      toast(`Restored “${created.title}”`, { kind: "success", timeout: 3000 });
      announce("tasks");
    } catch (err) {
      toast(`Could not restore “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  // ----- wiring ----------------------------------------------------------
  const refreshSoon = debounce(load, 50);
  const unsubscribe = [onChange("tasks", refreshSoon), onChange("reconnected", refreshSoon)];
  const onPopState = () => {
    filters = readFilters();
    syncControls();
    load();
  };
  window.addEventListener("popstate", onPopState);

  const el = h(
    "section",
    { class: "dashboard", "aria-labelledby": "tasks-heading" },
    h("div", { class: "dashboard-head" }, h("h1", { id: "tasks-heading" }, "My tasks"), newButton),
    quickAdd,
    filterBar,
    activeChips,
    counts,
    list,
    pager,
  );

  syncControls();
  load();

  return {
    el,
    refresh: load,
    focusQuickAdd: () => quickInput.focus(),
    async openTask(taskId) {
      try {
        await edit(await api.get(`/api/tasks/${encodeURIComponent(taskId)}`));
      } catch (err) {
        if (err.status !== 401) toast(err.status === 404 ? "That task no longer exists." : `Could not open the task: ${err.message}`, { kind: "error" });
      }
    },
    destroy() {
      unsubscribe.forEach((fn) => fn());
      window.removeEventListener("popstate", onPopState);
    },
  };
}

export function tagBadge(tag) {
  const badge = h("span", { class: "badge tag-badge", dataset: { tag } }, `#${tag}`);
  badge.style.setProperty("--tag-hue", String(tagHue(tag)));
  return badge;
}
