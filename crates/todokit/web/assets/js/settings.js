// Settings: the account (sessions, password, export and import, calendar
// feed, invites, deleting the account; see account.js), personal access
// tokens (for MCP clients and scripts), how to connect an MCP client, and
// reminder notifications.

import { createAccountSections } from "./account.js";
import { api } from "./api.js";
import { h, icon, replace } from "./dom.js";
import { formatFull } from "./format.js";
import { notificationControl } from "./reminders.js";
import { toast } from "./toast.js";

const EXPIRY_CHOICES = [
  ["30", "30 days"],
  ["90", "90 days"],
  ["365", "1 year"],
  ["", "Never"],
];

async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied`, { kind: "success", timeout: 2500 });
  } catch {
    toast("Could not copy: select the text and copy it by hand.", { kind: "warning" });
  }
}

function copyButton(getText, what, id) {
  return h("button", { type: "button", class: "button small", id, on: { click: () => copyText(getText(), what) } }, "Copy");
}

/**
 * `user`: the signed-in user; `onAccountDeleted()`: the account is gone (sign
 * out locally); `onImported()`: tasks were imported.
 */
export function createSettings({ user, onAccountDeleted, onImported } = {}) {
  const account = createAccountSections({ user, onDeleted: onAccountDeleted, onImported });
  // ----- access tokens -------------------------------------------------------
  const list = h("ul", { class: "token-list", id: "token-list", "aria-live": "polite" });
  const reveal = h("div", { class: "token-reveal", id: "token-reveal", hidden: true });
  const nameInput = h("input", { id: "token-name", name: "name", required: true, maxlength: 100, placeholder: "e.g. Claude Desktop", autocomplete: "off" });
  const expiry = h(
    "select",
    { id: "token-expiry", name: "expires" },
    EXPIRY_CHOICES.map(([value, label]) => h("option", { value, selected: value === "90" }, label)),
  );
  const formError = h("p", { class: "form-error", role: "alert", hidden: true });
  const createButton = h("button", { type: "submit", class: "button primary" }, icon("plus"), "Create token");
  const form = h(
    "form",
    { class: "token-form", on: { submit: onCreate } },
    h("div", { class: "field" }, h("label", { for: "token-name" }, "Token name"), nameInput),
    h("div", { class: "field" }, h("label", { for: "token-expiry" }, "Expires"), expiry),
    createButton,
    formError,
  );

  async function onCreate(event) {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return nameInput.focus();
    formError.hidden = true;
    createButton.disabled = true;
    try {
      const body = { name };
      if (expiry.value) body.expires_in_days = Number(expiry.value);
      const created = await api.post("/api/tokens", body);
      nameInput.value = "";
      showSecret(created);
      await loadTokens();
    } catch (err) {
      formError.hidden = false;
      replace(formError, err.message);
    } finally {
      createButton.disabled = false;
    }
  }

  function showSecret(created) {
    const secret = h("code", { class: "token-secret", id: "token-secret" }, created.token_secret);
    reveal.hidden = false;
    replace(
      reveal,
      h("p", {}, h("strong", {}, `Token “${created.name}” created.`), " Copy it now: it will not be shown again."),
      h("div", { class: "secret-row" }, secret, copyButton(() => created.token_secret, "Token", "token-copy")),
      h("button", { type: "button", class: "button subtle small", on: { click: () => ((reveal.hidden = true), replace(reveal)) } }, "I have saved it"),
    );
  }

  async function loadTokens() {
    list.setAttribute("aria-busy", "true");
    try {
      const { tokens } = await api.get("/api/tokens");
      replace(list, tokens.length ? tokens.map(tokenRow) : h("li", { class: "empty" }, "No access tokens yet."));
    } catch (err) {
      if (err.status !== 401) replace(list, h("li", { class: "empty error" }, `Could not load tokens: ${err.message}`));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  function tokenStatus(token) {
    if (token.revoked_at) return h("span", { class: "badge token-revoked" }, "Revoked");
    if (!token.active) return h("span", { class: "badge token-expired" }, "Expired");
    return h("span", { class: "badge token-active" }, "Active");
  }

  function tokenRow(token) {
    const row = h("li", { class: ["token-row", !token.active && "inactive"], dataset: { tokenId: token.id } });
    const details = [
      `Created ${formatFull(token.created_at)}`,
      token.last_used_at ? `last used ${formatFull(token.last_used_at)}` : "never used",
      token.revoked_at ? `revoked ${formatFull(token.revoked_at)}` : token.expires_at ? `expires ${formatFull(token.expires_at)}` : "no expiry",
    ].join(" · ");
    const show = () =>
      replace(
        row,
        h(
          "div",
          { class: "token-main" },
          h("span", { class: "token-name" }, token.name),
          " ",
          tokenStatus(token),
          h("div", { class: "token-meta" }, h("code", {}, `${token.prefix}…`), " ", details),
        ),
        token.active &&
          h("button", { type: "button", class: "button small danger", "aria-label": `Revoke “${token.name}”`, on: { click: confirmRevoke } }, "Revoke"),
      );
    function confirmRevoke() {
      replace(
        row,
        h("span", { class: "token-main" }, `Revoke “${token.name}”? Clients using it stop working at once.`),
        h(
          "div",
          { class: "token-actions" },
          h(
            "button",
            {
              type: "button",
              class: "button small danger",
              on: {
                click: async () => {
                  try {
                    await api.delete(`/api/tokens/${token.id}`);
                    toast(`Revoked “${token.name}”`, { kind: "success", timeout: 3000 });
                    await loadTokens();
                  } catch (err) {
                    toast(`Could not revoke: ${err.message}`, { kind: "error" });
                    show();
                  }
                },
              },
            },
            "Revoke token",
          ),
          h("button", { type: "button", class: "button small", on: { click: show } }, "Cancel"),
        ),
      );
    }
    show();
    return row;
  }

  // ----- MCP -----------------------------------------------------------------
  const mcpUrl = `${location.origin}/mcp`;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const sampleConfig = JSON.stringify(
    {
      mcpServers: {
        todokit: {
          type: "http",
          url: mcpUrl,
          headers: { Authorization: "Bearer tdk_your_token_here", "X-Timezone": zone },
        },
      },
    },
    null,
    2,
  );

  const tokensCard = h(
    "section",
    { class: "settings-card", id: "tokens", "aria-labelledby": "tokens-heading", tabindex: "-1" },
    h("h2", { id: "tokens-heading" }, "Personal access tokens"),
    h("p", { class: "muted" }, "Tokens let MCP clients (Claude, ChatGPT, IDE agents) and scripts use your tasks. Each secret is shown once; revoke a token to cut its access at once."),
    form,
    reveal,
    list,
  );
  const mcpCard = h(
    "section",
    { class: "settings-card", id: "mcp", "aria-labelledby": "mcp-heading", tabindex: "-1" },
    h("h2", { id: "mcp-heading" }, "Connect an MCP client"),
    h("p", { class: "muted" }, "todokit is an MCP server with the same task tools the assistant uses. Point your client at this address and send a token as a Bearer header."),
    h("div", { class: "secret-row" }, h("code", { id: "mcp-url" }, mcpUrl), copyButton(() => mcpUrl, "MCP URL", "mcp-url-copy")),
    h("p", {}, "For example, in ", h("code", {}, ".mcp.json"), " (Claude Code, Cursor, VS Code):"),
    h("div", { class: "code-block" }, h("pre", { id: "mcp-config", tabindex: "0", "aria-label": "MCP client configuration" }, sampleConfig), copyButton(() => sampleConfig, "Configuration", "mcp-config-copy")),
    h(
      "p",
      { class: "muted" },
      "Desktop clients that start a command can run ",
      h("code", {}, "todokit mcp"),
      " with the token in ",
      h("code", {}, "TODOKIT_TOKEN"),
      ". More in docs/mcp.md of the todokit sources; the REST API is described at ",
      h("a", { href: "/api/docs/" }, "/api/docs"),
      ".",
    ),
  );
  const notifyCard = h(
    "section",
    { class: "settings-card", id: "notifications", "aria-labelledby": "notify-heading", tabindex: "-1" },
    h("h2", { id: "notify-heading" }, "Reminder notifications"),
    notificationControl(),
  );

  // In page order; the table of contents follows it (the invites card shows for admins only).
  const sections = [
    ["sessions", "Sessions", account.sessions],
    ["password", "Password", account.password],
    ["data", "Export and import", account.data],
    ["calendar", "Calendar feed", account.feed],
    ["tokens", "Access tokens", tokensCard],
    ["mcp", "MCP clients", mcpCard],
    ["notifications", "Notifications", notifyCard],
    ["invites", "Invites", account.invites],
    ["delete", "Delete account", account.danger],
  ];
  const toc = h(
    "nav",
    { class: "settings-toc", "aria-label": "Settings sections" },
    h(
      "ul",
      {},
      sections.map(([id, label, card]) => {
        const item = h("li", {}, h("a", { href: `#${id}`, class: ["toc-link", id === "delete" && "toc-danger"], on: { click: (event) => jumpTo(event, card) } }, label));
        // The invites link follows its card's visibility.
        if (id === "invites") {
          item.hidden = card.hidden;
          new MutationObserver(() => (item.hidden = card.hidden)).observe(card, { attributes: true, attributeFilter: ["hidden"] });
        }
        return item;
      }),
    ),
  );
  function jumpTo(event, card) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault(); // no hash change: it would re-route the app
    card.scrollIntoView({ behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth", block: "start" });
    card.focus({ preventScroll: true });
  }

  const el = h(
    "section",
    { class: "settings", "aria-labelledby": "settings-heading" },
    h("div", { class: "dashboard-head" }, h("h1", { id: "settings-heading" }, "Settings"), h("a", { href: "/tasks", class: "button subtle back-link", "data-link": true }, "Back to tasks")),
    toc,
    sections.map(([, , card]) => card),
  );

  loadTokens();
  return {
    el,
    refresh() {
      loadTokens();
      account.refresh();
    },
    destroy() {},
  };
}
