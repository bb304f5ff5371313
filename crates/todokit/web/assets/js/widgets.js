// Renders ChatKit widgets (free-form JSON from the server) as plain DOM:
// Card, ListView, Basic roots; Text, Title, Caption, Markdown, Badge, Button,
// Row, Col, Box, Divider, Spacer, ListViewItem, Checkbox, Label, Icon. Unknown
// components show their children. All values are set as text.

import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** `onAction(action, component)` is called for Button / ListViewItem clicks. */
export function renderWidget(root, { onAction, disabled = false } = {}) {
  if (!root || typeof root !== "object") return h("div");
  return render(root, { onAction, disabled });
}

const SIZES = new Set(["xs", "sm", "md", "lg", "xl", "2xl", "3xl"]);
const COLORS = new Set(["secondary", "success", "danger", "warning", "info", "discovery", "tertiary", "primary"]);

function cls(...names) {
  return names.filter(Boolean).join(" ");
}

function children(node, ctx) {
  const list = Array.isArray(node.children) ? node.children : node.child ? [node.child] : [];
  return list.map((child) => render(child, ctx));
}

function text(value) {
  return value === null || value === undefined ? "" : String(value);
}

function render(node, ctx) {
  if (!node || typeof node !== "object") return document.createTextNode(text(node));
  const size = SIZES.has(node.size) ? `w-size-${node.size}` : "";
  const color = COLORS.has(node.color) ? `w-color-${node.color}` : "";
  switch (node.type) {
    case "Card":
    case "Basic":
      return h("div", { class: cls("w-card", node.type === "Basic" && "w-basic") }, children(node, ctx));
    case "ListView":
      return h("ul", { class: "w-list" }, children(node, ctx).map((c) => (c.tagName === "LI" ? c : h("li", {}, c))));
    case "ListViewItem": {
      const li = h("li", { class: "w-list-item" }, h("div", { class: "w-row" }, children(node, ctx)));
      if (node.onClickAction) actionable(li, node.onClickAction, node, ctx);
      return li;
    }
    case "Row":
      return h("div", { class: cls("w-row", node.justify && `w-justify-${node.justify}`) }, children(node, ctx));
    case "Col":
    case "Box":
    case "Form":
      return h("div", { class: "w-col" }, children(node, ctx));
    case "Title":
      return h("div", { class: cls("w-title", size) }, text(node.value));
    case "Caption":
      return h("div", { class: cls("w-caption", color) }, text(node.value));
    case "Text":
    case "Label": {
      const el = h("div", { class: cls("w-text", size, color, node.weight === "semibold" || node.weight === "bold" ? "w-bold" : "") }, text(node.value));
      if (node.lineThrough) el.classList.add("w-strike");
      return el;
    }
    case "Markdown":
      return h("div", { class: "w-markdown markdown" }, renderMarkdown(node.value));
    case "Badge":
      return h("span", { class: cls("badge", "w-badge", color) }, text(node.label ?? node.value));
    case "Divider":
      return h("hr", { class: "w-divider" });
    case "Spacer":
      return h("div", { class: "w-spacer" });
    case "Icon":
      return h("span", { class: "w-icon", "aria-hidden": "true" }, "•");
    case "Checkbox":
      return h("label", { class: "w-checkbox" }, h("input", { type: "checkbox", checked: Boolean(node.defaultChecked), disabled: true }), text(node.label));
    case "Button": {
      const button = h(
        "button",
        // Destructive buttons are secondary (outlined, red text), never the loudest thing in a card.
        { type: "button", class: cls("button", "small", node.style === "primary" || node.color === "primary" ? "primary" : "", node.color === "danger" && "danger-secondary") },
        text(node.label),
      );
      if (node.onClickAction) actionable(button, node.onClickAction, node, ctx);
      else button.disabled = true;
      return button;
    }
    case "Image":
      return h("span", { class: "w-caption" }, text(node.alt || ""));
    default:
      return h("div", { class: "w-col" }, node.value !== undefined ? text(node.value) : null, children(node, ctx));
  }
}

function actionable(el, action, node, ctx) {
  if (ctx.disabled) {
    if (el.tagName === "BUTTON") el.disabled = true;
    return;
  }
  if (el.tagName !== "BUTTON") {
    el.tabIndex = 0;
    el.setAttribute("role", "button");
    el.classList.add("w-clickable");
    el.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        ctx.onAction?.(action, node);
      }
    });
  }
  el.addEventListener("click", () => ctx.onAction?.(action, node));
}
