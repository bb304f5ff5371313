// App shell: the session, client-side routes and the signed-in layout.
//
// Routes: /            landing (signed out) or redirect to /tasks
//         /sign-in     /sign-up   (?next=<path> returns there afterwards)
//         /tasks       the dashboard (filters in the query string)
//         /settings    sessions, password, export/import, calendar feed, access
//                      tokens, MCP connection, notifications, deleting the account

import { api, setUnauthorizedHandler } from "./api.js";
import { authView, landingView, loadSession, signOut } from "./auth.js";
import { createChat } from "./chat.js";
import { createDashboard } from "./dashboard.js";
import { h, icon, replace } from "./dom.js";
import { announce, connectEventStream, connectionState, disconnectEventStream, onChange } from "./live.js";
import { forgetUser, rememberUser, rememberedUser, syncQueueWhenOnline } from "./offline.js";
import { notificationControl, watchReminders } from "./reminders.js";
import { openShortcuts } from "./shortcuts.js";
import { createSettings } from "./settings.js";
import { applyTheme, currentTheme, toggleTheme } from "./theme.js";

applyTheme();

const root = document.getElementById("app");
let session = null;
let shell = null; // {el, dashboard, chat} while signed in
let expiredNotice = null;

function navigate(path, { replace: replaceState = false } = {}) {
  history[replaceState ? "replaceState" : "pushState"](null, "", path);
  render();
}

function safeNext(value) {
  // Only a path on this origin: never "//host", "/\\host" (browsers read it as "//host") or a scheme.
  if (!value || !value.startsWith("/")) return "/tasks";
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return "/tasks";
  }
  if (url.origin !== location.origin || url.pathname.startsWith("/sign-")) return "/tasks";
  return url.pathname + url.search + url.hash;
}

function teardownShell() {
  if (!shell) return;
  shell.dashboard.destroy();
  shell.chat.destroy();
  shell.settings?.destroy();
  shell.stopReminders();
  shell.stopQueue();
  shell.stopStatus();
  shell = null;
  document.body.classList.remove("chat-open", "chat-overlay");
  disconnectEventStream();
}

function render() {
  const path = location.pathname;
  root.removeAttribute("aria-busy");
  if (path === "/sign-in" || path === "/sign-up") {
    const next = safeNext(new URLSearchParams(location.search).get("next"));
    if (session) return navigate(next, { replace: true });
    teardownShell();
    const notice = expiredNotice;
    replace(
      root,
      authView({
        mode: path.slice(1),
        navigate,
        notice,
        onSignedIn(newSession) {
          session = newSession;
          rememberUser(session);
          expiredNotice = null;
          navigate(next, { replace: true });
        },
      }),
    );
    document.title = path === "/sign-in" ? "Sign in · todokit" : "Create account · todokit";
    return;
  }
  if (path === "/") {
    if (session) return navigate("/tasks", { replace: true });
    teardownShell();
    replace(root, landingView({ navigate }));
    document.title = "todokit";
    return;
  }
  if (path === "/tasks" || path === "/settings") {
    if (!session) return navigate(`/sign-in?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    if (!shell) shell = buildShell();
    if (!root.contains(shell.el)) replace(root, shell.el);
    shell.show(path === "/settings" ? "settings" : "tasks");
    document.title = path === "/settings" ? "Settings · todokit" : "My tasks · todokit";
    return;
  }
  teardownShell();
  replace(
    root,
    h(
      "main",
      { class: "auth-page", id: "main" },
      h("div", { class: "auth-card" }, h("h1", {}, "Page not found"), h("p", {}, "There is nothing at this address."), h("a", { href: session ? "/tasks" : "/", class: "button primary", "data-link": true }, "Go home")),
    ),
  );
}

function buildShell() {
  const dashboard = createDashboard({ user: session.user });
  const chat = createChat();
  const themeButton = h("button", {
    type: "button",
    class: "icon-button",
    id: "theme-toggle",
    on: {
      click: () => {
        toggleTheme();
        syncThemeButton();
      },
    },
  });
  function syncThemeButton() {
    const dark = currentTheme() === "dark";
    replace(themeButton, icon(dark ? "sun" : "moon"));
    themeButton.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
  }
  syncThemeButton();

  const header = h(
    "header",
    { class: "topbar" },
    h("a", { href: "#main", class: "skip-link" }, "Skip to tasks"),
    h("a", { href: "/tasks", class: "brand", "data-link": true }, h("span", { class: "brand-mark" }, icon("check")), h("span", { class: "brand-name" }, "todokit")),
    h(
      "div",
      { class: "topbar-actions" },
      h("span", { class: "user-email", id: "user-email", title: "Signed in" }, session.user.email),
      chat.toggle,
      notificationControl({ compact: true }),
      themeButton,
      h(
        "button",
        { type: "button", class: "icon-button", id: "shortcuts-open", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", on: { click: (event) => openShortcuts(event.currentTarget) } },
        h("span", { class: "key-glyph", "aria-hidden": "true" }, "?"),
      ),
      h("a", { href: "/settings", class: "icon-button", id: "settings-link", "aria-label": "Settings", title: "Settings", "data-link": true }, icon("settings")),
      h(
        "button",
        { type: "button", class: "button subtle", id: "sign-out", "aria-label": "Sign out", on: { click: onSignOut } },
        icon("signout"),
        h("span", { class: "hide-narrow" }, "Sign out"),
      ),
    ),
  );
  const status = connectionBanner();
  const main = h("main", { id: "main", class: "workspace", tabindex: "-1" }, dashboard.el);
  const el = h("div", { class: "shell" }, header, status.el, main, chat.backdrop, chat.panel);
  chat.setBackground([header, status.el, main]);
  const built = {
    el,
    dashboard,
    chat,
    settings: null,
    show(view) {
      if (view === "settings") {
        if (!built.settings) {
          built.settings = createSettings({ user: session.user, onAccountDeleted });
          replace(main, built.settings.el);
        } else {
          if (!main.contains(built.settings.el)) replace(main, built.settings.el);
          built.settings.refresh();
        }
      } else if (!main.contains(dashboard.el)) {
        replace(main, dashboard.el);
        dashboard.refresh();
      }
    },
    stopReminders: watchReminders(openTask),
    stopQueue: syncQueueWhenOnline(session.user),
    stopStatus: status.stop,
  };
  connectEventStream({ onClosed: checkSession });
  return built;
}

const CONNECTION_TEXT = {
  offline: "You are offline. Your list is shown as last seen; changes you make are kept and sent when you are back online.",
  reconnecting: "Cannot reach the server. Trying again… Changes you make are kept and sent when it answers.",
  back: "Back online.",
};

/**
 * The one connection status of the app: a polite live region under the top
 * bar, silent while all is well, and a short "Back online" after a drop.
 */
function connectionBanner() {
  const text = h("span", { class: "connection-text" });
  const el = h("div", { class: "connection-status", id: "connection-status", role: "status", "aria-live": "polite" }, h("span", { class: "connection-dot", "aria-hidden": "true" }), text);
  let backTimer = null;
  function show(state) {
    clearTimeout(backTimer);
    el.dataset.state = state === "connected" && el.dataset.state && el.dataset.state !== "connected" ? "back" : state;
    replace(text, CONNECTION_TEXT[el.dataset.state] || "");
    el.classList.toggle("quiet", el.dataset.state === "connected");
    if (el.dataset.state === "back") {
      el.dataset.connected = "true";
      backTimer = setTimeout(() => {
        el.dataset.state = "connected";
        el.classList.add("quiet");
        replace(text);
      }, 4000);
    } else {
      el.dataset.connected = String(state === "connected");
    }
  }
  el.dataset.state = "connected";
  show(connectionState());
  const stop = onChange("connection", ({ state }) => show(state));
  return { el, stop: () => (stop(), clearTimeout(backTimer)) };
}

/** Opens a task's edit dialog (from a reminder), on the dashboard. */
async function openTask(taskId) {
  if (!shell) return;
  if (location.pathname !== "/tasks") navigate("/tasks");
  await shell?.dashboard.openTask(taskId);
}

// The live stream was refused or dropped: if the session ended, say so.
let lastSessionCheck = 0;
async function checkSession() {
  if (Date.now() - lastSessionCheck < 10000) return;
  lastSessionCheck = Date.now();
  try {
    await api.get("/api/auth/session");
  } catch {
    /* a 401 signs out through the handler; anything else is a connection problem */
  }
}

async function onSignOut() {
  try {
    await signOut();
  } catch {
    /* signing out locally is what matters */
  }
  sessionStorage.clear();
  forgetUser(session?.user);
  session = null;
  announce("session", { signedOut: true });
  navigate("/", { replace: true });
}

// The account was deleted from the settings page: nothing of it stays here.
function onAccountDeleted() {
  sessionStorage.clear();
  forgetUser(session?.user);
  session = null;
  announce("session", { signedOut: true });
  teardownShell();
  expiredNotice = "Your account and everything in it were deleted.";
  navigate("/sign-in", { replace: true });
}

// A 401 from any API call: the session expired or was signed out elsewhere.
setUnauthorizedHandler(() => {
  if (!session) return;
  rememberUser(null);
  session = null;
  expiredNotice = "Your session has expired. Sign in again to continue where you were.";
  const here = location.pathname + location.search;
  teardownShell();
  navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
});

// Signing out in one tab signs out the others.
onChange("session", (detail) => {
  if (detail.local || !detail.signedOut || !session) return;
  forgetUser(session.user);
  session = null;
  teardownShell();
  navigate("/", { replace: true });
});

// Same-origin links marked data-link navigate without a reload.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});

// Global shortcuts (listed by the "?" dialog): "/" search, "n" quick add,
// "c" the assistant, "?" the list of shortcuts.
document.addEventListener("keydown", (event) => {
  if (!shell || event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
  if (event.key === "?") {
    event.preventDefault();
    openShortcuts(document.activeElement);
    return;
  }
  const onTasks = location.pathname === "/tasks";
  if (event.key === "/" && onTasks) {
    event.preventDefault();
    document.getElementById("filter-search")?.focus();
  } else if (event.key === "n" && onTasks) {
    event.preventDefault();
    shell.dashboard.focusQuickAdd();
  } else if (event.key === "c") {
    event.preventDefault();
    shell.chat.open();
  }
});

window.addEventListener("popstate", () => {
  if (location.pathname !== "/tasks" || !shell) render();
  else shell.show("tasks");
});

/**
 * Who is signed in. Without a remembered sign-in only the signed-in pages ask
 * (so the landing and sign-in pages log no 401); the server says whether a
 * sign-in still holds, and while it cannot be reached the remembered user
 * opens the app on the list this browser saw last.
 */
async function start() {
  const remembered = rememberedUser();
  const protectedRoute = location.pathname === "/tasks" || location.pathname === "/settings";
  if (remembered || protectedRoute) {
    try {
      session = await loadSession();
      rememberUser(session);
    } catch {
      session = remembered ? { user: remembered.user, offline: true } : null;
    }
  }
  render();
}

// The app shell is cached by a service worker so the page opens without the
// server. Browsers allow that on https and localhost only; elsewhere the app
// simply needs the server to open.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    /* not essential: the app works without it, only not offline */
  });
}

start();
