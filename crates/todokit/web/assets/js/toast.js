// Stackable, dismissable toasts announced to screen readers.

import { h, icon } from "./dom.js";

function region() {
  let el = document.getElementById("toasts");
  if (!el) {
    el = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  return el;
}

/** toast("Saved", {kind: "success"|"error"|"warning"|"info", action: {label, run}, timeout}) */
export function toast(message, { kind = "info", action = null, timeout = 5000, className = null } = {}) {
  let timer;
  const close = () => {
    clearTimeout(timer);
    el.remove();
  };
  const el = h(
    "div",
    { class: ["toast", `toast-${kind}`, className] },
    h("span", { class: "toast-message" }, message),
    action &&
      h(
        "button",
        {
          type: "button",
          class: "toast-action",
          on: {
            click: () => {
              close();
              action.run();
            },
          },
        },
        action.label,
      ),
    h("button", { type: "button", class: "toast-close icon-button", "aria-label": "Dismiss", on: { click: close } }, icon("x")),
  );
  region().append(el);
  if (timeout) timer = setTimeout(close, timeout);
  return close;
}
