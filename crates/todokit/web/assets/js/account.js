// Settings for the account and its data: sessions, password, export, import,
// the calendar feed, invites (admins, invite-only sign-up) and deleting the
// account. Every server string goes through text nodes (dom.js).

import { api } from "./api.js";
import { h, icon, replace } from "./dom.js";
import { formatFull } from "./format.js";
import { announce } from "./live.js";
import { toast } from "./toast.js";

// ----- small helpers ---------------------------------------------------------

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "yesterday", "3 weeks ago". */
export function timeAgo(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (!Number.isFinite(then)) return "";
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return "just now";
  const steps = [
    [3600, 60, "minute"],
    [86400, 3600, "hour"],
    [604800, 86400, "day"],
    [2629800, 604800, "week"],
    [31557600, 2629800, "month"],
    [Infinity, 31557600, "year"],
  ];
  for (const [limit, size, unit] of steps) {
    if (abs < limit) return relative.format(Math.round(seconds / size), unit);
  }
  return "";
}

/** "Chrome on macOS", "Firefox on Android", "curl", or the raw string shortened. */
export function describeUserAgent(ua) {
  const text = String(ua || "").trim();
  if (!text) return "Unknown device";
  const browsers = [
    [/\bEdg(?:e|A|iOS)?\//, "Edge"],
    [/\bOPR\/|\bOpera\b/, "Opera"],
    [/\bSamsungBrowser\//, "Samsung Internet"],
    [/\bFirefox\/|\bFxiOS\//, "Firefox"],
    [/\bHeadlessChrome\//, "Headless Chrome"],
    [/\bChrom(?:e|ium)\/|\bCriOS\//, "Chrome"],
    [/\bVersion\/[\d.]+.*Safari\//, "Safari"],
    [/^curl\//i, "curl"],
    [/^todokit/i, "todokit CLI"],
    [/^node|undici/i, "Node.js"],
    [/^python/i, "Python"],
  ];
  const systems = [
    [/\biPhone\b/, "iPhone"],
    [/\biPad\b/, "iPad"],
    [/\bAndroid\b/, "Android"],
    [/\bCrOS\b/, "ChromeOS"],
    [/\bWindows\b/, "Windows"],
    [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
    [/\bLinux\b/, "Linux"],
  ];
  const browser = browsers.find(([re]) => re.test(text))?.[1];
  const system = systems.find(([re]) => re.test(text))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `Browser on ${system}`;
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied`, { kind: "success", timeout: 2500 });
  } catch {
    toast("Could not copy: select the text and copy it by hand.", { kind: "warning" });
  }
}

function card(id, title, ...children) {
  return h("section", { class: "settings-card", id, "aria-labelledby": `${id}-heading`, tabindex: "-1" }, h("h2", { id: `${id}-heading` }, title), children);
}

function errorBox(id) {
  return h("p", { class: "form-error", role: "alert", id, hidden: true });
}

function showError(box, message) {
  box.hidden = false;
  replace(box, message);
}

function hideBox(box) {
  box.hidden = true;
  replace(box);
}

/** A 404 from an endpoint this server does not have. */
function missing(err) {
  return err?.status === 404 || err?.status === 405;
}

function passwordField(id, label, { autocomplete, describedBy, minlength } = {}) {
  const input = h("input", { id, name: id, type: "password", autocomplete, required: true, minlength, "aria-describedby": describedBy });
  return { input, field: h("div", { class: "field" }, h("label", { for: id }, label), input) };
}

// ----- sessions --------------------------------------------------------------

function sessionsCard() {
  const list = h("ul", { class: "session-list", id: "session-list", "aria-live": "polite" });
  const othersButton = h(
    "button",
    { type: "button", class: "button danger-secondary", id: "sessions-revoke-others", hidden: true, on: { click: revokeOthers } },
    icon("signout"),
    "Sign out everywhere else",
  );

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const { sessions } = await api.get("/api/auth/sessions");
      const sorted = [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || String(b.last_seen_at).localeCompare(String(a.last_seen_at)));
      replace(list, sorted.length ? sorted.map(row) : h("li", { class: "empty" }, "No sessions."));
      othersButton.hidden = !sorted.some((s) => !s.current);
    } catch (err) {
      othersButton.hidden = true;
      if (missing(err)) replace(list, h("li", { class: "empty" }, "This server does not list sessions."));
      else if (err.status !== 401) replace(list, h("li", { class: "empty error" }, `Could not load sessions: ${err.message}`));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  function row(session) {
    const device = describeUserAgent(session.user_agent);
    const seen = session.last_seen_at || session.created_at;
    const when = session.current
      ? "Active now"
      : seen
        ? h("time", { datetime: seen, title: formatFull(seen) }, `Last seen ${timeAgo(seen)}`)
        : null;
    const meta = [when, session.address || null, session.created_at ? `signed in ${formatFull(session.created_at)}` : null]
      .filter(Boolean)
      .flatMap((part, i) => (i ? [" · ", part] : [part]));
    const li = h("li", { class: ["session-row", session.current && "current"], dataset: { sessionId: session.id } });
    const main = h(
      "div",
      { class: "session-main" },
      h("span", { class: "session-device", title: session.user_agent || "" }, device),
      session.current && [" ", h("span", { class: "badge session-current" }, "This device")],
      h("div", { class: "session-meta" }, meta),
    );
    const revoke = session.current
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "button small danger-secondary",
            "aria-label": `Sign out ${device}${seen ? `, last seen ${timeAgo(seen)}` : ""}`,
            on: {
              click: async (event) => {
                const button = event.currentTarget;
                button.disabled = true;
                try {
                  await api.delete(`/api/auth/sessions/${encodeURIComponent(session.id)}`);
                  toast(`Signed out ${device}`, { kind: "success", timeout: 3000 });
                  await load();
                  // Keep keyboard focus in the list rather than losing it to the page.
                  (list.querySelector("button") || list).focus();
                } catch (err) {
                  button.disabled = false;
                  toast(`Could not sign that session out: ${err.message}`, { kind: "error" });
                }
              },
            },
          },
          "Sign out",
        );
    replace(li, main, revoke);
    return li;
  }

  async function revokeOthers() {
    othersButton.disabled = true;
    try {
      const result = await api.post("/api/auth/sessions/revoke-others");
      const n = result?.revoked ?? 0;
      toast(n ? `Signed out ${n} other session${n === 1 ? "" : "s"}` : "No other sessions were signed in", { kind: "success", timeout: 3500 });
      await load();
      list.focus();
    } catch (err) {
      toast(`Could not sign out the other sessions: ${err.message}`, { kind: "error" });
    } finally {
      othersButton.disabled = false;
    }
  }
  list.tabIndex = -1;

  const el = card(
    "sessions",
    "Sessions",
    h("p", { class: "muted" }, "Where you are signed in. Sign out a device you do not recognise; it has to sign in again with your password."),
    list,
    h("div", { class: "card-actions" }, othersButton),
  );
  return { el, load };
}

// ----- password ----------------------------------------------------------------

function passwordCard({ user, onChanged }) {
  const current = passwordField("password-current", "Current password", { autocomplete: "current-password", describedBy: "password-error" });
  const next = passwordField("password-new", "New password", { autocomplete: "new-password", describedBy: "password-new-hint password-error", minlength: 8 });
  const confirm = passwordField("password-confirm", "Confirm new password", { autocomplete: "new-password", describedBy: "password-error", minlength: 8 });
  const error = errorBox("password-error");
  const success = h("p", { class: "form-success", role: "status", id: "password-success", hidden: true });
  const submit = h("button", { type: "submit", class: "button primary" }, "Change password");

  async function onSubmit(event) {
    event.preventDefault();
    hideBox(error);
    hideBox(success);
    if (!current.input.value) return fail("Enter your current password.", current.input);
    if (next.input.value.length < 8) return fail("The new password needs at least 8 characters.", next.input);
    if (next.input.value !== confirm.input.value) return fail("The two new passwords do not match.", confirm.input);
    submit.disabled = true;
    try {
      await api.post("/api/account/password", { current_password: current.input.value, new_password: next.input.value }, { quietAuth: true });
      for (const f of [current, next, confirm]) f.input.value = "";
      success.hidden = false;
      replace(success, icon("check"), "Password changed. Your other sessions were signed out; this one stays signed in.");
      onChanged?.();
    } catch (err) {
      if (err.status === 403 || err.code === "wrong_password") fail("Your current password is not right.", current.input);
      else if (err.status === 401) fail("Your session has ended. Sign in again to change your password.", current.input);
      else if (err.status === 422 || err.status === 400) fail(err.message, next.input);
      else fail(missing(err) ? "This server cannot change passwords." : `Could not change the password: ${err.message}`, current.input);
    } finally {
      submit.disabled = false;
    }
  }
  function fail(message, input) {
    showError(error, message);
    input.setAttribute("aria-invalid", "true");
    input.focus();
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"), { once: true });
  }

  const el = card(
    "password",
    "Password",
    h(
      "form",
      { class: "settings-form", id: "password-form", novalidate: true, on: { submit: onSubmit } },
      // For password managers: which account this new password belongs to.
      h("input", { type: "email", name: "username", autocomplete: "username", value: user?.email || "", hidden: true, readonly: true, tabindex: "-1", "aria-hidden": "true" }),
      current.field,
      next.field,
      h("p", { class: "hint", id: "password-new-hint" }, "At least 8 characters. Changing it signs out your other sessions."),
      confirm.field,
      error,
      success,
      h("div", { class: "card-actions" }, submit),
    ),
  );
  return { el };
}

// ----- export and import -----------------------------------------------------

function dataCard({ onImported }) {
  const formats = [
    ["json", "/api/account/export", "JSON", "everything: tasks and conversations, for a backup or to import into another todokit"],
    ["csv", "/api/account/export?format=csv", "CSV", "tasks as a spreadsheet"],
    ["ics", "/api/account/export?format=ics", "iCalendar", "tasks as to-dos for calendar apps"],
  ];
  const exportList = h(
    "ul",
    { class: "export-list" },
    formats.map(([key, href, label, what]) =>
      h(
        "li",
        {},
        h("a", { class: "button", id: `export-${key}`, href, download: true, "aria-describedby": `export-${key}-what` }, icon("download"), `Download ${label}`),
        h("span", { class: "muted", id: `export-${key}-what` }, what),
      ),
    ),
  );

  const file = h("input", { type: "file", id: "import-file", name: "file", accept: ".json,.csv,application/json,text/csv", "aria-describedby": "import-hint import-result" });
  const result = h("p", { class: "form-success", role: "status", id: "import-result", hidden: true });
  const error = errorBox("import-error");
  const submit = h("button", { type: "submit", class: "button" }, icon("upload"), "Import");

  function typeOf(chosen) {
    const name = chosen.name.toLowerCase();
    if (name.endsWith(".csv") || chosen.type === "text/csv") return "text/csv";
    return "application/json";
  }

  async function onSubmit(event) {
    event.preventDefault();
    hideBox(error);
    hideBox(result);
    const chosen = file.files?.[0];
    if (!chosen) {
      showError(error, "Choose a file to import first.");
      file.focus();
      return;
    }
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      const body = await api.upload("/api/account/import", chosen, typeOf(chosen));
      const tasks = body?.imported?.tasks ?? 0;
      const threads = body?.imported?.threads ?? 0;
      const parts = [`${tasks} task${tasks === 1 ? "" : "s"}`];
      if (threads) parts.push(`${threads} conversation${threads === 1 ? "" : "s"}`);
      result.hidden = false;
      replace(result, icon("check"), `Imported ${parts.join(" and ")} from “${chosen.name}”.`);
      file.value = "";
      onImported?.();
    } catch (err) {
      let message = err.message;
      if (err.status === 413) message = err.code ? err.message : "The file is too large to import.";
      else if (missing(err)) message = "This server cannot import files.";
      message = String(message || "");
      showError(error, `Nothing was imported. ${message.charAt(0).toUpperCase()}${message.slice(1)}`);
      file.focus();
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  }

  const el = card(
    "data",
    "Your data",
    h("h3", { id: "export-heading" }, "Export"),
    h("p", { class: "muted" }, "Download a copy of your tasks whenever you like."),
    exportList,
    h("h3", { id: "import-heading" }, "Import"),
    h(
      "form",
      { class: "settings-form import-form", id: "import-form", "aria-labelledby": "import-heading", on: { submit: onSubmit } },
      h("div", { class: "field" }, h("label", { for: "import-file" }, "File to import"), file),
      h("p", { class: "hint", id: "import-hint" }, "A todokit JSON export, or a Todoist project exported as CSV. Imported tasks are added to the ones you have; a file with an error imports nothing."),
      error,
      result,
      h("div", { class: "card-actions" }, submit),
    ),
  );
  return { el };
}

// ----- calendar feed -----------------------------------------------------------

function feedCard() {
  const status = h("p", { id: "feed-status", "aria-live": "polite" });
  const reveal = h("div", { class: "token-reveal", id: "feed-reveal", hidden: true });
  const confirmBox = h("div", { class: "confirm-box", id: "feed-confirm", role: "group", "aria-labelledby": "feed-confirm-text", hidden: true });
  const createButton = h("button", { type: "button", class: "button primary", id: "feed-create", on: { click: onCreateClick } }, icon("plus"), "Create feed address");
  const revokeButton = h("button", { type: "button", class: "button danger-secondary", id: "feed-revoke", hidden: true, on: { click: onRevokeClick } }, "Turn off feed");
  const actions = h("div", { class: "card-actions" }, createButton, revokeButton);
  let active = false;
  let available = true;

  async function load() {
    try {
      const feed = await api.get("/api/calendar-feed");
      available = true;
      active = Boolean(feed?.active);
      replace(
        status,
        active
          ? [h("span", { class: "badge token-active" }, "On"), ` Created ${feed.created_at ? formatFull(feed.created_at) : ""}. The address is secret and was shown only once. Lost it? Replace it with a new one; the old address then stops working.`]
          : [h("span", { class: "badge token-revoked" }, "Off"), " No feed address exists."],
      );
    } catch (err) {
      if (missing(err)) {
        available = false;
        replace(status, "This server does not offer a calendar feed.");
      } else if (err.status !== 401) replace(status, `Could not load the feed: ${err.message}`);
    }
    createButton.hidden = !available;
    replace(createButton, icon(active ? "retry" : "plus"), active ? "Replace feed address" : "Create feed address");
    // Creating is the card's main action; replacing a working address is not.
    createButton.classList.toggle("primary", !active);
    revokeButton.hidden = !available || !active;
  }

  function askFirst(text, confirmLabel, run, opener) {
    confirmBox.hidden = false;
    actions.hidden = true;
    const yes = h("button", { type: "button", class: "button small danger", on: { click: () => (close(), run()) } }, confirmLabel);
    const no = h("button", { type: "button", class: "button small", on: { click: close } }, "Cancel");
    replace(confirmBox, h("p", { id: "feed-confirm-text" }, icon("alert"), text), h("div", { class: "token-actions" }, yes, no));
    yes.focus();
    function close() {
      confirmBox.hidden = true;
      replace(confirmBox);
      actions.hidden = false;
      opener?.focus();
    }
  }

  function onCreateClick() {
    if (active) {
      askFirst("A new address replaces the old one: calendars subscribed to the old address stop updating until you give them the new one.", "Replace address", create, createButton);
    } else create();
  }

  function onRevokeClick() {
    askFirst("Turn off the feed? Its address stops working at once, and subscribed calendars stop showing your tasks.", "Turn off", revoke, revokeButton);
  }

  async function create() {
    createButton.disabled = true;
    try {
      const feed = await api.post("/api/calendar-feed");
      showUrl(feed.url);
      await load();
    } catch (err) {
      toast(`Could not create the feed: ${err.message}`, { kind: "error" });
    } finally {
      createButton.disabled = false;
    }
  }

  async function revoke() {
    revokeButton.disabled = true;
    try {
      await api.delete("/api/calendar-feed");
      reveal.hidden = true;
      replace(reveal);
      toast("Calendar feed turned off", { kind: "success", timeout: 3000 });
      await load();
      createButton.focus();
    } catch (err) {
      toast(`Could not turn off the feed: ${err.message}`, { kind: "error" });
    } finally {
      revokeButton.disabled = false;
    }
  }

  function showUrl(url) {
    const code = h("code", { class: "token-secret", id: "feed-url" }, url);
    const copy = h("button", { type: "button", class: "button small", id: "feed-copy", on: { click: () => copyText(url, "Feed address") } }, "Copy");
    reveal.hidden = false;
    replace(
      reveal,
      h("p", {}, h("strong", {}, "Your feed address."), " Keep it secret: anyone who has it can read your tasks. It is shown only now."),
      h("div", { class: "secret-row" }, code, copy),
      h("button", { type: "button", class: "button subtle small", on: { click: () => ((reveal.hidden = true), replace(reveal), createButton.focus()) } }, "I have saved it"),
    );
    copy.focus();
  }

  const el = card(
    "calendar",
    "Calendar feed",
    h("p", { class: "muted" }, "A private address that calendar apps subscribe to, so your tasks with a due date show up next to your events and stay up to date."),
    status,
    reveal,
    confirmBox,
    actions,
    h(
      "p",
      { class: "hint", id: "feed-howto" },
      "To subscribe: in Google Calendar, Other calendars → + → From URL; in Apple Calendar, File → New Calendar Subscription; in Outlook, Add calendar → Subscribe from web. Paste the address there.",
    ),
  );
  return { el, load };
}

// ----- invites (admins, invite-only sign-up) ---------------------------------

function invitesCard() {
  const list = h("ul", { class: "invite-list", id: "invite-list", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "button primary", id: "invite-create", on: { click: create } }, icon("plus"), "Create invite code");
  async function create() {
    button.disabled = true;
    try {
      const invite = await api.post("/api/admin/invites");
      const link = `${location.origin}/sign-up?invite=${encodeURIComponent(invite.code)}`;
      list.prepend(
        h(
          "li",
          { class: "token-reveal" },
          h("div", { class: "secret-row" }, h("code", { class: "invite-code" }, invite.code), h("button", { type: "button", class: "button small", on: { click: () => copyText(invite.code, "Invite code") } }, "Copy code")),
          h("p", { class: "muted" }, `Works once${invite.expires_at ? `, until ${formatFull(invite.expires_at)}` : ""}. Give it to the person you invite: they enter it when they create their account.`),
          h("button", { type: "button", class: "button subtle small", on: { click: () => copyText(link, "Sign-up link") } }, "Copy sign-up link"),
        ),
      );
    } catch (err) {
      toast(`Could not create an invite: ${err.message}`, { kind: "error" });
    } finally {
      button.disabled = false;
    }
  }
  const el = card(
    "invites",
    "Invites",
    h("p", { class: "muted" }, "This server only lets people sign up with an invite code. As an administrator you can create one-time codes."),
    h("div", { class: "card-actions" }, button),
    list,
  );
  return { el };
}

// ----- delete account ----------------------------------------------------------

const DELETE_WORD = "delete my account";

function deleteCard({ user, onDeleted }) {
  const password = passwordField("delete-password", "Your password", { autocomplete: "current-password", describedBy: "delete-error" });
  const typed = h("input", { id: "delete-confirm", name: "confirm", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "delete-confirm-hint delete-error" });
  const error = errorBox("delete-error");
  const submit = h("button", { type: "submit", class: "button danger" }, icon("trash"), "Delete my account");

  async function onSubmit(event) {
    event.preventDefault();
    hideBox(error);
    if (!password.input.value) return fail("Enter your password.", password.input);
    if (typed.value.trim().toLowerCase() !== DELETE_WORD) return fail(`Type “${DELETE_WORD}” to confirm.`, typed);
    submit.disabled = true;
    try {
      await api.delete("/api/account", { body: { password: password.input.value }, quietAuth: true });
      onDeleted?.();
    } catch (err) {
      if (err.status === 403 || err.code === "wrong_password") fail("That password is not right. Nothing was deleted.", password.input);
      else fail(missing(err) ? "This server cannot delete accounts." : `Could not delete the account: ${err.message}`, password.input);
      submit.disabled = false;
    }
  }
  function fail(message, input) {
    showError(error, message);
    input.focus();
  }

  const el = card(
    "delete",
    "Delete account",
    h(
      "div",
      { class: "danger-note", id: "delete-warning" },
      icon("alert"),
      h(
        "p",
        {},
        h("strong", {}, "This cannot be undone."),
        ` Deleting ${user?.email ? `the account ${user.email}` : "your account"} removes it and everything in it at once: every task, conversation, access token, session and calendar feed. Export your data first if you want a copy.`,
      ),
    ),
    h(
      "form",
      { class: "settings-form", id: "delete-form", novalidate: true, "aria-describedby": "delete-warning", on: { submit: onSubmit } },
      h("input", { type: "email", name: "username", autocomplete: "username", value: user?.email || "", hidden: true, readonly: true, tabindex: "-1", "aria-hidden": "true" }),
      password.field,
      h("div", { class: "field" }, h("label", { for: "delete-confirm" }, "Type ", h("q", { class: "confirm-phrase" }, DELETE_WORD), " to confirm"), typed),
      h("p", { class: "hint", id: "delete-confirm-hint" }, "This makes sure nobody deletes the account by accident."),
      error,
      h("div", { class: "card-actions" }, submit),
    ),
  );
  el.classList.add("danger-zone");
  return { el };
}

// ----- the lot -------------------------------------------------------------------

/**
 * The account sections. `user` is the signed-in user; `onDeleted` runs after
 * the account is gone (back to the sign-in page); `onImported` after an import.
 * Returns the cards in page order and `refresh()`.
 */
export function createAccountSections({ user, onDeleted, onImported } = {}) {
  const sessions = sessionsCard();
  const password = passwordCard({ user, onChanged: () => sessions.load() });
  const data = dataCard({
    onImported: () => {
      announce("tasks", { imported: true });
      announce("threads", { imported: true });
      onImported?.();
    },
  });
  const feed = feedCard();
  const invites = invitesCard();
  invites.el.hidden = true;
  const danger = deleteCard({ user, onDeleted });

  async function loadAccount() {
    try {
      const session = await api.get("/api/auth/session");
      const admin = Boolean(session?.is_admin ?? session?.user?.is_admin);
      const signup = session?.signup ?? session?.sign_up ?? null;
      const mode = typeof signup === "string" ? signup : signup?.mode;
      invites.el.hidden = !(admin && mode === "invite");
    } catch {
      invites.el.hidden = true;
    }
  }

  function refresh() {
    sessions.load();
    feed.load();
    loadAccount();
  }
  refresh();
  return { sessions: sessions.el, password: password.el, data: data.el, feed: feed.el, invites: invites.el, danger: danger.el, refresh };
}
