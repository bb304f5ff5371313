// The "?" dialog: every keyboard shortcut, in one place.

import { h, icon } from "./dom.js";

const SHORTCUTS = [
  ["n", "Add a task (focus the quick add box)"],
  ["/", "Search tasks"],
  ["c", "Open the assistant"],
  ["?", "Show this list"],
  ["Esc", "Close a dialog or the assistant (on narrow screens)"],
  ["Enter", "Send a message to the assistant"],
  ["Shift + Enter", "New line in a message"],
];

let open = null;

/** Opens the dialog; focus returns to `opener` when it closes. */
export function openShortcuts(opener = document.activeElement) {
  if (open) return;
  const close = () => dialog.close();
  const dialog = h(
    "dialog",
    { class: "shortcuts-dialog", id: "shortcuts-dialog", "aria-labelledby": "shortcuts-heading" },
    h(
      "header",
      { class: "dialog-header" },
      h("h2", { id: "shortcuts-heading" }, "Keyboard shortcuts"),
      h("button", { type: "button", class: "icon-button", "aria-label": "Close", on: { click: close } }, icon("x")),
    ),
    h(
      "dl",
      { class: "shortcut-list" },
      SHORTCUTS.map(([keys, what]) => h("div", { class: "shortcut" }, h("dt", {}, h("kbd", {}, keys)), h("dd", {}, what))),
    ),
    h("p", { class: "hint" }, "Letter shortcuts work when you are not typing in a field."),
  );
  dialog.addEventListener("close", () => {
    dialog.remove();
    open = null;
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dialog);
  open = dialog;
  dialog.showModal();
}
