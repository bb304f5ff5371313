// "My tasks": quick add with parsed chips, views (Active, Today, Upcoming,
// Overdue, Done, All) and filters kept in the URL, the list with inline
// complete, edit and delete-with-undo, and paging.
//
// Focus never drops to the page: a row that goes away hands focus to the same
// control of its neighbour, and a re-render puts focus back where it was.
//
// While the server cannot be reached the last list is shown from this
// browser's copy (offline.js) and changes are queued, to be sent in order.

import { ApiError, api } from "./api.js";
import { debounce, h, icon, replace } from "./dom.js";
import { describeRecurrence, dueUrgency, formatDue, formatFull, tagHue } from "./format.js";
import { announce, onChange } from "./live.js";
import { describeAge, enqueue, isNetworkError, loadSnapshot, pendingChanges, saveSnapshot, withQueuedChanges } from "./offline.js";
import { openTaskDialog } from "./task-dialog.js";
import { toast } from "./toast.js";

const PAGE_SIZE = 50;
const FILTER_KEYS = ["q", "view", "status", "priority", "due", "tags", "sort", "order", "page"];

/** The views, in tab order. `query` adds list parameters; `grouped` shows day headings. */
const VIEWS = {
  active: { label: "Active", query: () => ({ status: "pending" }) },
  today: { label: "Today", query: () => ({ status: "pending", due_before: startOfDay(1).toISOString() }) },
  upcoming: { label: "Upcoming", query: () => ({ status: "pending", due: "week" }), grouped: true },
  overdue: { label: "Overdue", query: () => ({ status: "overdue" }) },
  done: { label: "Done", query: () => ({ status: "completed" }) },
  all: { label: "All", query: () => ({}) },
};
const DEFAULT_VIEW = "active";
/** Links written before views existed (`?status=pending`) still open the right one. */
const VIEW_OF_STATUS = { pending: "active", completed: "done", overdue: "overdue", all: "all" };

const LABELS = {
  priority: { "": "Any priority", high: "High", medium: "Medium", low: "Low" },
  sort: { due: "Sort: due date", priority: "Sort: priority", created: "Sort: created", updated: "Sort: last changed", title: "Sort: title" },
};

const EMPTY_TEXT = {
  active: ["Nothing to do.", "Type a task in the box above, or ask the assistant."],
  today: ["Nothing due today.", "Tasks due today, and any overdue ones, show up here."],
  upcoming: ["Nothing due in the next 7 days.", "Tasks with a due date this week show up here, day by day."],
  overdue: ["Nothing overdue.", "Well done."],
  done: ["Nothing done yet.", "Completed tasks are kept here."],
  all: ["No tasks yet.", "Type one in the box above, or ask the assistant."],
};

function startOfDay(offsetDays = 0) {
  const day = new Date();
  day.setHours(0, 0, 0, 0);
  day.setDate(day.getDate() + offsetDays);
  return day;
}

/** Filter state from the URL (the only place it lives). */
function readFilters() {
  const params = new URLSearchParams(location.search);
  const view = params.get("view") || VIEW_OF_STATUS[params.get("status")] || DEFAULT_VIEW;
  return {
    q: params.get("q") || "",
    view: VIEWS[view] ? view : DEFAULT_VIEW,
    priority: params.get("priority") || "",
    tags: (params.get("tags") || "").split(",").filter(Boolean),
    sort: params.get("sort") || "due",
    order: params.get("order") || "",
    page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
  };
}

function writeFilters(filters, { push = false } = {}) {
  const params = new URLSearchParams(location.search);
  for (const key of FILTER_KEYS) params.delete(key);
  if (filters.view !== DEFAULT_VIEW) params.set("view", filters.view);
  if (filters.q) params.set("q", filters.q);
  if (filters.priority) params.set("priority", filters.priority);
  if (filters.tags.length) params.set("tags", filters.tags.join(","));
  if (filters.sort !== "due") params.set("sort", filters.sort);
  if (filters.order) params.set("order", filters.order);
  if (filters.page > 1) params.set("page", String(filters.page));
  const query = params.toString();
  const url = location.pathname + (query ? `?${query}` : "");
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

function listQuery(filters) {
  const params = new URLSearchParams(VIEWS[filters.view].query());
  if (filters.q) params.set("q", filters.q);
  if (filters.priority) params.set("priority", filters.priority);
  for (const tag of filters.tags) params.append("tags", tag);
  params.set("sort", filters.sort);
  if (filters.order) params.set("order", filters.order);
  params.set("offset", String((filters.page - 1) * PAGE_SIZE));
  params.set("limit", String(PAGE_SIZE));
  return params.toString();
}

/** Filters beyond the view (the view itself is not a filter to clear). */
function hasFilters(f) {
  return Boolean(f.q || f.priority || f.tags.length);
}

export function createDashboard({ user }) {
  let filters = readFilters();
  let loadSeq = 0;
  let lastTasks = [];
  let snapshotAt = null; // when the list shown was saved, while it is this browser's copy
  let focusPlan = null; // where focus goes after the next render: {id, control, index}

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
  const quickButton = h("button", { type: "submit", class: "button primary", id: "quick-add-submit", "aria-label": "Add" }, icon("plus"), h("span", { "aria-hidden": "true" }, "Add"));
  let parsed = null; // {text, result}
  let parseSeq = 0;

  /** The parsed line, or null when it cannot be read (the reason is thrown). */
  async function parseNow(text) {
    const seq = ++parseSeq;
    if (!text.trim()) {
      parsed = null;
      replace(quickPreview);
      return null;
    }
    const result = await api.post("/api/tasks/parse", { text });
    if (seq !== parseSeq) return null;
    parsed = { text, result };
    renderPreview(result);
    return result;
  }
  const parseSoon = debounce((text) => parseNow(text).catch(() => replace(quickPreview)), 200);

  function renderPreview(result) {
    const chips = [];
    if (result.title) chips.push(chip("title", "Title", result.title));
    if (result.due_at) chips.push(chip("due", "Due", formatDue(result.due_at)));
    if (result.priority) chips.push(chip("priority", "Priority", result.priority, `priority-${result.priority}`));
    for (const tag of result.tags || []) chips.push(tagBadge(tag));
    // The shared parser may also read reminders and repeats; show them when it does.
    if (result.reminder_offset_minutes !== undefined && result.reminder_offset_minutes !== null) {
      chips.push(chip("reminder", "Reminder", reminderWords(result.reminder_offset_minutes)));
    }
    if (result.recurrence) chips.push(chip("recurrence", "Repeats", describeRecurrence(result.recurrence)));
    if (result.description) chips.push(chip("description", "Note", result.description));
    replace(quickPreview, chips);
  }

  function chip(kind, label, value, extraClass = null) {
    return h("span", { class: ["chip", `chip-${kind}`, extraClass], dataset: { chip: kind } }, h("span", { class: "chip-label" }, `${label}: `), value);
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
      if (!result) return;
      if (!result.title) {
        toast("Say what the task is — the line only had a date, priority or tags.", { kind: "warning" });
        return;
      }
      const body = { title: result.title, tags: result.tags };
      for (const key of ["description", "priority", "due_at", "reminder_offset_minutes", "recurrence"]) {
        if (result[key] !== undefined && result[key] !== null) body[key] = result[key];
      }
      const task = await api.post("/api/tasks", body);
      clearQuickAdd();
      toast(`Added “${task.title}” as #${task.number}`, { kind: "success", timeout: 3000 });
      announce("tasks");
    } catch (err) {
      if (isNetworkError(err)) {
        // Kept as typed: the server reads it when the connection is back.
        enqueue(user, { kind: "create", text });
        clearQuickAdd();
        toast(`You are offline. “${text.trim()}” will be added when the connection is back.`, { kind: "info" });
        renderOfflineNote();
      } else {
        toast(err.message, { kind: "error" });
      }
    } finally {
      quickButton.disabled = false;
      quickInput.focus();
    }
  }

  function clearQuickAdd() {
    quickInput.value = "";
    parsed = null;
    replace(quickPreview);
  }

  const quickAdd = h(
    "form",
    { class: "quick-add", on: { submit: onQuickAdd }, "aria-label": "Quick add" },
    h("label", { for: "quick-add", class: "visually-hidden" }, "Quick add a task"),
    h("div", { class: "quick-add-row" }, quickInput, quickButton),
    quickPreview,
  );

  // ----- views -------------------------------------------------------------
  const viewTabs = Object.entries(VIEWS).map(([key, view]) =>
    h(
      "a",
      {
        href: key === DEFAULT_VIEW ? "/tasks" : `/tasks?view=${key}`,
        class: "view-tab",
        id: `view-${key}`,
        dataset: { view: key },
        on: {
          click: (event) => {
            if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
            event.preventDefault();
            event.stopPropagation();
            update({ view: key }, true);
          },
        },
      },
      h("span", {}, view.label),
      h("span", { class: "view-count", dataset: { count: key } }),
    ),
  );
  const viewNav = h("nav", { class: "views", "aria-label": "Views" }, viewTabs);

  // ----- filters (a sheet on narrow screens) --------------------------------
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
  search.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && search.value) {
      event.preventDefault();
      search.value = "";
      update({ q: "" });
    }
  });

  function select(idName, label, options, key) {
    const el = h(
      "select",
      { id: idName, "aria-label": label, on: { change: () => update({ [key]: el.value }) } },
      Object.entries(options).map(([value, text]) => h("option", { value }, text)),
    );
    return el;
  }
  const prioritySelect = select("filter-priority", "Priority", LABELS.priority, "priority");
  const sortSelect = select("filter-sort", "Sort by", LABELS.sort, "sort");
  const orderButton = h("button", {
    type: "button",
    id: "filter-order",
    class: "button",
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
    { type: "button", class: "button subtle", id: "filter-clear", on: { click: () => update({ q: "", priority: "", tags: [] }, true) } },
    "Clear filters",
  );
  const activeChips = h("div", { class: "chips active-filters", "aria-label": "Active filters" });

  function effectiveOrder() {
    return filters.order || ({ due: "asc", title: "asc" }[filters.sort] ?? "desc");
  }

  const filterFields = h(
    "div",
    { class: "filter-fields", id: "filter-fields" },
    prioritySelect,
    tagSelect,
    h("div", { class: "sort-group" }, sortSelect, orderButton),
    clearButton,
  );
  const filterCount = h("span", { class: "filter-count" });
  const filterToggle = h(
    "button",
    {
      type: "button",
      class: "button filter-toggle",
      id: "filter-toggle",
      "aria-expanded": "false",
      "aria-controls": "filter-fields",
      on: { click: () => setSheetOpen(filterToggle.getAttribute("aria-expanded") !== "true") },
    },
    icon("menu"),
    h("span", {}, "Filters"),
    filterCount,
  );
  function setSheetOpen(open) {
    filterToggle.setAttribute("aria-expanded", String(open));
    filterBar.classList.toggle("sheet-open", open);
  }

  const filterBar = h(
    "section",
    { class: "filter-bar", "aria-label": "Search and filters" },
    h(
      "div",
      { class: "search-row" },
      h(
        "div",
        { class: "search-box" },
        icon("search"),
        h("label", { for: "filter-search", class: "visually-hidden" }, "Search tasks"),
        search,
        clearSearch,
      ),
      filterToggle,
    ),
    filterFields,
  );

  function syncControls() {
    if (document.activeElement !== search) search.value = filters.q;
    clearSearch.hidden = !search.value;
    prioritySelect.value = filters.priority;
    sortSelect.value = filters.sort;
    const order = effectiveOrder();
    replace(orderButton, order === "asc" ? "Ascending" : "Descending");
    orderButton.setAttribute("aria-label", `Sort order: ${order === "asc" ? "ascending" : "descending"}`);
    clearButton.hidden = !hasFilters(filters);
    const active = (filters.priority ? 1 : 0) + filters.tags.length;
    replace(filterCount, active ? ` (${active})` : "");
    for (const tab of viewTabs) {
      if (tab.dataset.view === filters.view) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    const chips = [];
    const remove = (label, patch) =>
      h(
        "button",
        { type: "button", class: "chip chip-removable", "aria-label": `Remove filter ${label}`, on: { click: () => update(patch) } },
        label,
        icon("x"),
      );
    if (filters.q) chips.push(remove(`“${filters.q}”`, { q: "" }));
    if (filters.priority) chips.push(remove(`${LABELS.priority[filters.priority] || filters.priority} priority`, { priority: "" }));
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
  const counts = h("p", { class: "counts", id: "showing", "aria-live": "polite" });
  const offlineNote = h("p", { class: "offline-note", id: "offline-note", role: "status", hidden: true });
  const list = h("ul", { class: "task-list", "aria-label": "Tasks" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const newButton = h(
    "button",
    {
      type: "button",
      class: "button primary",
      id: "new-task",
      "aria-label": "New task",
      on: {
        click: async () => {
          const task = await openTaskDialog(null, {
            onOffline: (body) => queueSave({ kind: "add", title: body.title, body }, `“${body.title}” will be added`),
          });
          if (task?.queued) return;
          if (task) {
            focusPlan = { id: task.id, control: "edit" };
            toast(`Created “${task.title}” as #${task.number}`, { kind: "success", timeout: 3000 });
            announce("tasks");
          }
        },
      },
    },
    icon("plus"),
    h("span", { "aria-hidden": "true" }, "New task"),
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
      // The list first: if the session has ended, that one request says so and nothing
      // more is asked (each refused request is a red line in the browser's console).
      const page = await api.get(`/api/tasks?${listQuery(filters)}`);
      if (seq !== loadSeq) return;
      const [today, upcoming, overdue, tags] = await Promise.all([
        viewCount("today"),
        viewCount("upcoming"),
        viewCount("overdue"),
        api.get("/api/tasks/tags"),
      ]);
      if (seq !== loadSeq) return;
      lastTasks = page.tasks;
      const snapshot = { page, todayCount: today.total, upcomingCount: upcoming.total, overdueCount: overdue.total, tags: tags.tags };
      saveSnapshot(user, filters.view, snapshot);
      render(snapshot);
    } catch (err) {
      if (seq !== loadSeq || err.status === 401) return;
      if (isNetworkError(err)) {
        // Unreachable: the last list this browser saw, read-only, with its age.
        const saved = loadSnapshot(user, filters.view);
        if (saved) {
          const activeOnly = ["active", "today", "upcoming", "overdue"].includes(filters.view);
          const tasks = withQueuedChanges(user, saved.data.page.tasks, { activeOnly });
          render({ ...saved.data, page: { ...saved.data.page, tasks } }, saved.at);
          return;
        }
        if (lastTasks.length) return;
      }
      const reason = err instanceof ApiError ? err.message : "the server cannot be reached; the list loads when the connection is back";
      replace(list, h("li", { class: "empty error" }, `Could not load tasks: ${reason}`, " ", retryButton()));
      renderOfflineNote();
    } finally {
      if (seq === loadSeq) list.removeAttribute("aria-busy");
    }
  }

  /** How many tasks a smart view holds: its own query, one row, the list's `total`. */
  function viewCount(view) {
    const params = new URLSearchParams(VIEWS[view].query());
    params.set("limit", "1");
    return api.get(`/api/tasks?${params}`);
  }

  function retryButton() {
    return h("button", { type: "button", class: "button small", on: { click: load } }, "Retry");
  }

  function render({ page, todayCount, upcomingCount, overdueCount, tags }, savedAt = null) {
    replace(
      tagSelect,
      h("option", { value: "" }, tags.length ? "Any tag" : "No tags yet"),
      tags.filter((t) => !filters.tags.includes(t.name)).map((t) => h("option", { value: t.name }, `#${t.name} (${t.count})`)),
    );
    tagSelect.disabled = !tags.length;

    const c = page.counts;
    const viewCounts = { active: c.pending, today: todayCount, upcoming: upcomingCount, overdue: overdueCount, done: c.completed, all: c.total };
    for (const tab of viewTabs) {
      const count = viewCounts[tab.dataset.view];
      const countEl = tab.querySelector(".view-count");
      replace(countEl, count === undefined ? "" : String(count));
      countEl.classList.toggle("alert", tab.dataset.view === "overdue" && count > 0);
    }
    replace(counts, page.total ? `Showing ${page.offset + 1}–${page.offset + page.tasks.length} of ${page.total}` : "Showing 0 of 0");

    const plan = focusPlan || rememberFocus();
    focusPlan = null;
    if (!page.tasks.length) {
      // A new account hears "No tasks yet" whatever the view; later, each view says what it shows.
      const [title, hint] = c.total === 0 ? EMPTY_TEXT.all : EMPTY_TEXT[filters.view];
      const empty = hasFilters(filters)
        ? h(
            "li",
            { class: "empty" },
            h("strong", {}, "No tasks match these filters."),
            h("button", { type: "button", class: "button small", on: { click: () => update({ q: "", priority: "", tags: [] }) } }, "Clear filters"),
          )
        : h("li", { class: "empty" }, h("strong", {}, title), h("span", {}, hint));
      replace(list, empty);
    } else if (VIEWS[filters.view].grouped) {
      replace(list, groupByDay(page.tasks));
    } else {
      replace(list, page.tasks.map(taskRow));
    }
    snapshotAt = savedAt;
    list.classList.toggle("read-only", savedAt !== null);
    restoreFocus(plan);
    renderOfflineNote();

    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    pager.hidden = pages <= 1;
    replace(
      pager,
      h("button", { type: "button", class: "button small", disabled: filters.page <= 1, on: { click: () => update({ page: filters.page - 1 }, true) } }, "Previous"),
      h("span", {}, `Page ${filters.page} of ${pages}`),
      h("button", { type: "button", class: "button small", disabled: filters.page >= pages, on: { click: () => update({ page: filters.page + 1 }, true) } }, "Next"),
    );
  }

  /** Upcoming: one heading per day, in the user's time zone. */
  function groupByDay(tasks) {
    const groups = new Map();
    for (const task of tasks) {
      const day = new Date(task.due_at);
      day.setHours(0, 0, 0, 0);
      const key = day.getTime();
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(task);
    }
    const today = startOfDay(0).getTime();
    return [...groups.entries()].map(([key, dayTasks]) => {
      const date = new Date(key);
      const days = Math.round((key - today) / 86400000);
      const name = days === 0 ? "Today" : days === 1 ? "Tomorrow" : date.toLocaleDateString(undefined, { weekday: "long" });
      const label = `${name} · ${date.toLocaleDateString(undefined, { month: "short", day: "numeric" })}`;
      return h(
        "li",
        { class: "day-group", dataset: { day: date.toISOString().slice(0, 10) } },
        h("h2", { class: "day-heading" }, label),
        h("ul", { class: "task-list", "aria-label": label }, dayTasks.map(taskRow)),
      );
    });
  }

  function renderOfflineNote() {
    const queued = pendingChanges(user);
    const parts = [];
    if (snapshotAt !== null) parts.push(`Offline: this is your list as of ${describeAge(snapshotAt)}. It updates when the connection is back.`);
    if (queued) parts.push(`${queued} change${queued === 1 ? "" : "s"} waiting to be sent.`);
    offlineNote.hidden = !parts.length;
    replace(offlineNote, parts.join(" "));
  }

  // ----- focus -------------------------------------------------------------
  const rows = () => [...list.querySelectorAll("li.task:not([hidden])")];

  function rememberFocus() {
    const el = document.activeElement;
    const row = el?.closest?.("li.task");
    if (!row || !list.contains(row)) return null;
    return { id: row.dataset.id, control: el.dataset.control || "check", index: rows().indexOf(row) };
  }

  /** The same control of the same task, else of the task now at its place, else quick add. */
  function restoreFocus(plan) {
    if (!plan) return;
    const all = rows();
    const row = all.find((r) => r.dataset.id === plan.id) || all[Math.min(plan.index ?? 0, all.length - 1)];
    const target = row?.querySelector(`[data-control="${plan.control}"]`) || row?.querySelector("[data-control]");
    (target || quickInput).focus();
  }

  /** A row is going away: its neighbour (next, else previous) takes focus. */
  function handFocusOn(row, control) {
    const all = rows();
    const index = all.indexOf(row);
    const neighbour = all[index + 1] || all[index - 1];
    focusPlan = neighbour ? { id: neighbour.dataset.id, control, index } : null;
    const target = neighbour?.querySelector(`[data-control="${control}"]`);
    (target || quickInput).focus();
  }

  // ----- rows --------------------------------------------------------------
  function taskRow(task) {
    const urgency = dueUrgency(task);
    const checkbox = h("input", {
      type: "checkbox",
      class: "task-check",
      checked: task.completed,
      dataset: { control: "check" },
      "aria-label": `Mark “${task.title}” ${task.completed ? "not done" : "done"}`,
    });
    const row = h(
      "li",
      {
        class: ["task", task.completed && "completed", urgency && `due-${urgency}`, `priority-${task.priority}`],
        dataset: { id: task.id, number: task.number },
      },
      h("label", { class: "check-target" }, checkbox),
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
        taskMeta(task, urgency),
      ),
      h(
        "div",
        { class: "task-actions" },
        h("button", { type: "button", class: "icon-button", dataset: { control: "edit" }, "aria-label": `Edit “${task.title}”`, on: { click: () => edit(task) } }, icon("edit")),
        h("button", { type: "button", class: "icon-button danger", dataset: { control: "delete" }, "aria-label": `Delete “${task.title}”`, on: { click: () => remove(task, row) } }, icon("trash")),
      ),
    );
    checkbox.addEventListener("change", () => toggle(task, row, checkbox));
    return row;
  }

  function taskMeta(task, urgency) {
    const badges = [];
    // Medium is the default: saying so on every row is noise.
    if (task.priority === "high") badges.push(h("span", { class: "badge priority-badge priority-high" }, "High priority"));
    if (task.priority === "low") badges.push(h("span", { class: "badge priority-badge priority-low" }, "Low priority"));
    if (task.due_at) {
      badges.push(
        h(
          "span",
          { class: ["badge", "due-badge", urgency && `due-${urgency}`], title: formatFull(task.due_at) },
          icon("clock"),
          urgency === "overdue" ? `Overdue · ${formatDue(task.due_at)}` : formatDue(task.due_at),
        ),
      );
    }
    if (task.recurrence) badges.push(h("span", { class: "badge recurrence-badge" }, icon("repeat"), describeRecurrence(task.recurrence)));
    if (task.reminder_offset_minutes !== null && task.reminder_offset_minutes !== undefined) {
      badges.push(h("span", { class: "badge reminder-badge", title: "Reminder" }, icon("bell"), reminderWords(task.reminder_offset_minutes)));
    }
    badges.push(...task.tags.map(tagBadge));
    return badges.length ? h("div", { class: "task-meta" }, badges) : null;
  }

  /** A dialog's save the server could not be reached for: kept, to be sent in order. */
  function queueSave(change, words) {
    enqueue(user, change);
    toast(`You are offline. ${words} when the connection is back.`, { kind: "info" });
    renderOfflineNote();
  }

  async function toggle(task, row, checkbox) {
    const completed = checkbox.checked;
    row.classList.toggle("completed", completed); // optimistic
    try {
      const result = await api.post(`/api/tasks/${task.id}/complete`, { completed });
      const message = result.next_instance
        ? `Next “${result.next_instance.title}” is due ${formatDue(result.next_instance.due_at)}`
        : `${completed ? "Completed" : "Reopened"} “${task.title}”`;
      toast(message, {
        kind: "success",
        timeout: 5000,
        action: completed && !result.next_instance ? { label: "Undo", run: () => reopen(task) } : null,
      });
      announce("tasks");
    } catch (err) {
      if (isNetworkError(err)) {
        enqueue(user, { kind: "complete", id: task.id, title: task.title, completed });
        toast(`You are offline. “${task.title}” will be marked ${completed ? "done" : "not done"} when the connection is back.`, { kind: "info" });
        renderOfflineNote();
        return;
      }
      checkbox.checked = !completed;
      row.classList.toggle("completed", !completed);
      toast(`Could not update “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  async function reopen(task) {
    try {
      await api.post(`/api/tasks/${task.id}/complete`, { completed: false });
      focusPlan = { id: task.id, control: "check" };
      announce("tasks");
    } catch (err) {
      toast(`Could not reopen “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  async function edit(task) {
    const saved = await openTaskDialog(task, {
      onOffline: (patch) => queueSave({ kind: "update", id: task.id, title: task.title, patch }, `Your changes to “${task.title}” will be saved`),
    });
    if (!saved) return;
    focusPlan = { id: saved.id, control: "edit" };
    if (saved.queued) {
      // Shown at once on this browser's copy of the list.
      load();
      return;
    }
    toast(`Saved “${saved.title}”`, { kind: "success", timeout: 3000 });
    announce("tasks");
  }

  async function remove(task, row) {
    handFocusOn(row, "delete");
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
      if (isNetworkError(err)) {
        enqueue(user, { kind: "delete", id: task.id, title: task.title });
        toast(`You are offline. “${task.title}” will be deleted when the connection is back.`, { kind: "info" });
        renderOfflineNote();
        return;
      }
      row.hidden = false;
      toast(`Could not delete “${task.title}”: ${err.message}`, { kind: "error" });
    }
  }

  /** Undo of a delete: the server brings back the same task (id, number and all). */
  async function restore(task) {
    try {
      const restored = await api.post(`/api/tasks/${task.id}/restore`, {});
      focusPlan = { id: restored.id, control: "delete" };
      toast(`Restored “${restored.title}” as #${restored.number}`, { kind: "success", timeout: 3000 });
      announce("tasks");
    } catch (err) {
      const reason = err.status === 404 ? "it was deleted too long ago" : err.message;
      toast(`Could not restore “${task.title}”: ${reason}`, { kind: "error" });
    }
  }

  // ----- wiring ----------------------------------------------------------
  const refreshSoon = debounce(load, 50);
  const unsubscribe = [
    onChange("tasks", refreshSoon),
    onChange("reconnected", refreshSoon),
    onChange("connection", () => renderOfflineNote()),
    onChange("offline-queue", () => renderOfflineNote()),
  ];
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
    viewNav,
    filterBar,
    activeChips,
    offlineNote,
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

function reminderWords(minutes) {
  if (minutes === 0) return "At due time";
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"} before`;
  if (minutes % 60 === 0) return `${minutes / 60} h before`;
  return `${minutes} min before`;
}

export function tagBadge(tag) {
  const badge = h("span", { class: "badge tag-badge", dataset: { tag } }, `#${tag}`);
  badge.style.setProperty("--tag-hue", String(tagHue(tag)));
  return badge;
}
