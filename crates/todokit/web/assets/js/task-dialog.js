// The create / edit dialog: title, description, priority, tags, due date and
// time, reminder and recurrence. Resolves with the saved task, or null.
//
// When the server cannot be reached, `onOffline(body)` (if given) keeps the
// save for later and the dialog resolves with the task as it will be, marked
// `queued: true`.

import { api } from "./api.js";
import { isNetworkError } from "./offline.js";
import { h, icon } from "./dom.js";
import { REMINDER_CHOICES, WEEKDAYS, describeRecurrence, toLocalInput } from "./format.js";

let counter = 0;

/** Resolves with the saved task, or null; focus goes back to what opened it. */
export function openTaskDialog(task = null, { onOffline = null } = {}) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const id = (name) => `task-${name}-${counter}`;
    counter++;
    const editing = Boolean(task);
    const rule = task?.recurrence || null;

    const title = h("input", { id: id("title"), name: "title", required: true, maxlength: 255, value: task?.title || "" });
    const description = h("textarea", { id: id("description"), name: "description", rows: 3, maxlength: 2000 });
    description.value = task?.description || "";
    const priority = h(
      "select",
      { id: id("priority"), name: "priority" },
      ["high", "medium", "low"].map((p) =>
        h("option", { value: p, selected: (task?.priority || "medium") === p }, p[0].toUpperCase() + p.slice(1)),
      ),
    );
    const tags = h("input", {
      id: id("tags"),
      name: "tags",
      value: (task?.tags || []).join(", "),
      placeholder: "work, home",
      "aria-describedby": id("tags-hint"),
    });
    const due = h("input", { id: id("due"), name: "due", type: "datetime-local", value: toLocalInput(task?.due_at) });
    const clearDue = h(
      "button",
      { type: "button", class: "button subtle small", on: { click: () => ((due.value = ""), sync()) } },
      "Clear",
    );
    const remind = h("input", {
      id: id("remind"),
      type: "checkbox",
      checked: task?.reminder_offset_minutes !== null && task?.reminder_offset_minutes !== undefined,
    });
    const offset = h(
      "select",
      { id: id("offset"), "aria-label": "Reminder time" },
      REMINDER_CHOICES.map(([minutes, label]) =>
        h("option", { value: minutes, selected: (task?.reminder_offset_minutes ?? 15) === minutes }, label),
      ),
    );
    const frequency = h(
      "select",
      { id: id("frequency"), name: "frequency" },
      [
        ["", "Does not repeat"],
        ["daily", "Daily"],
        ["weekly", "Weekly"],
        ["monthly", "Monthly"],
        ["yearly", "Yearly"],
      ].map(([value, label]) => h("option", { value, selected: (rule?.frequency || "") === value }, label)),
    );
    const interval = h("input", {
      id: id("interval"),
      type: "number",
      min: 1,
      max: 365,
      value: rule?.interval || 1,
      "aria-label": "Repeat every",
    });
    const endKind = h(
      "select",
      { id: id("end") },
      [
        ["never", "never"],
        ["count", "after"],
        ["until", "on"],
      ].map(([value, label]) =>
        h("option", { value, selected: (rule?.count ? "count" : rule?.until ? "until" : "never") === value }, label),
      ),
    );
    const count = h("input", { id: id("count"), type: "number", min: 1, max: 100, value: rule?.count || 10, "aria-label": "Number of times" });
    const countUnit = h("span", { class: "unit", "aria-hidden": "true" }, "times");
    const unit = h("span", { class: "unit", id: id("unit") });
    const summary = h("p", { class: "hint recurrence-summary", id: id("recurrence-summary"), "aria-live": "polite" });
    // Weekly rules may name their days ("every 2 weeks on Mon, Thu"); none means the due date's day.
    const dayBoxes = WEEKDAYS.map(([key, name]) =>
      h("input", { type: "checkbox", value: key, id: id(`day-${key}`), checked: Boolean(rule?.weekdays?.includes(key)), dataset: { weekday: key }, "aria-label": name }),
    );
    const weekdays = h(
      "fieldset",
      { class: "weekdays" },
      h("legend", {}, "On"),
      WEEKDAYS.map(([key, name], i) => h("label", { class: "weekday", for: id(`day-${key}`) }, dayBoxes[i], h("span", { "aria-hidden": "true" }, name))),
    );
    const until = h("input", {
      type: "date",
      value: rule?.until ? toLocalInput(rule.until).slice(0, 10) : "",
      "aria-label": "Last date",
    });
    interval.setAttribute("aria-describedby", id("unit"));
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "button primary" }, editing ? "Save" : "Create task");

    const recurrenceDetails = h(
      "div",
      { class: "recurrence-details" },
      h("div", { class: "field-row" }, h("label", { class: "inline", for: id("interval") }, "Every"), interval, unit),
      weekdays,
      h("div", { class: "field-row" }, h("label", { class: "inline", for: id("end") }, "Ends"), endKind, count, countUnit, until),
      summary,
    );

    function sync() {
      const hasDue = Boolean(due.value);
      remind.disabled = !hasDue;
      offset.disabled = !hasDue || !remind.checked;
      recurrenceDetails.hidden = !frequency.value;
      count.hidden = countUnit.hidden = endKind.value !== "count";
      until.hidden = endKind.value !== "until";
      weekdays.hidden = frequency.value !== "weekly";
      const n = Number(interval.value) || 1;
      const units = { daily: ["day", "days"], weekly: ["week", "weeks"], monthly: ["month", "months"], yearly: ["year", "years"] }[frequency.value];
      unit.textContent = units ? units[n === 1 ? 0 : 1] : "";
      countUnit.textContent = Number(count.value) === 1 ? "time" : "times";
      summary.textContent = frequency.value ? describeRecurrence(body().recurrence) : "";
    }
    for (const el of [due, remind, frequency, endKind]) el.addEventListener("change", sync);
    for (const el of [interval, count, until]) el.addEventListener("input", sync);
    for (const el of dayBoxes) el.addEventListener("change", sync);
    due.addEventListener("input", sync);

    function body() {
      const recurrence = frequency.value
        ? {
            frequency: frequency.value,
            interval: Number(interval.value) || 1,
            ...(frequency.value === "weekly" && dayBoxes.some((box) => box.checked)
              ? { weekdays: dayBoxes.filter((box) => box.checked).map((box) => box.value) }
              : {}),
            ...(endKind.value === "count" ? { count: Number(count.value) || 1 } : {}),
            ...(endKind.value === "until" && until.value
              ? { until: new Date(`${until.value}T23:59:59`).toISOString() }
              : {}),
          }
        : null;
      return {
        title: title.value.trim(),
        description: description.value.trim() || null,
        priority: priority.value,
        tags: tags.value
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
        // Local wall time without an offset: the server reads it in X-Timezone.
        due_at: due.value || null,
        reminder_offset_minutes: due.value && remind.checked ? Number(offset.value) : null,
        recurrence,
      };
    }

    async function onSubmit(event) {
      event.preventDefault();
      error.hidden = true;
      const payload = body();
      if (!payload.title) {
        error.textContent = "Give the task a title.";
        error.hidden = false;
        title.focus();
        return;
      }
      save.disabled = true;
      try {
        let saved;
        const sent = editing ? payload : { ...payload };
        if (!editing) for (const key of Object.keys(sent)) if (sent[key] === null) delete sent[key];
        try {
          saved = editing ? await api.patch(`/api/tasks/${task.id}`, sent) : await api.post("/api/tasks", sent);
        } catch (err) {
          if (!onOffline || !isNetworkError(err)) throw err;
          onOffline(sent);
          saved = { ...(task || {}), ...sent, queued: true };
        }
        finish(saved);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        const focusTarget = { title, description, priority, tags, due_at: due, recurrence: frequency }[err.field];
        (focusTarget || title).focus();
      } finally {
        save.disabled = false;
      }
    }

    const dialog = h(
      "dialog",
      { class: "task-dialog", "aria-labelledby": id("heading") },
      h(
        "form",
        { method: "dialog", on: { submit: onSubmit } },
        h(
          "header",
          { class: "dialog-header" },
          h("h2", { id: id("heading") }, editing ? `Edit task #${task.number}` : "New task"),
          h(
            "button",
            { type: "button", class: "icon-button", "aria-label": "Close", on: { click: () => finish(null) } },
            icon("x"),
          ),
        ),
        error,
        h("label", { for: id("title") }, "Title"),
        title,
        h("label", { for: id("description") }, "Description"),
        description,
        h(
          "div",
          { class: "field-grid" },
          h("div", {}, h("label", { for: id("priority") }, "Priority"), priority),
          h(
            "div",
            {},
            h("label", { for: id("tags") }, "Tags"),
            tags,
            h("p", { class: "hint", id: id("tags-hint") }, "Separate with commas."),
          ),
        ),
        h("label", { for: id("due") }, "Due"),
        h("div", { class: "field-row" }, due, clearDue),
        h(
          "div",
          { class: "field-row" },
          h("label", { class: "inline", for: id("remind") }, remind, "Remind me"),
          offset,
        ),
        h("label", { for: id("frequency") }, "Repeat"),
        frequency,
        recurrenceDetails,
        h(
          "footer",
          { class: "dialog-footer" },
          h("button", { type: "button", class: "button", on: { click: () => finish(null) } }, "Cancel"),
          save,
        ),
      ),
    );

    let done = false;
    function finish(result) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      if (opener?.isConnected) opener.focus();
      resolve(result);
    }
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    sync();
    document.body.append(dialog);
    dialog.showModal();
    title.focus();
  });
}
