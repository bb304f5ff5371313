// Landing page, sign-in and sign-up forms, and the session itself.

import { api, ApiError } from "./api.js";
import { h, icon } from "./dom.js";

/** The signed-in user ({user, expires_at}) or null. */
export async function loadSession() {
  try {
    return await api.get("/api/auth/session", { quietAuth: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signOut() {
  await api.post("/api/auth/sign-out", {}, { quietAuth: true });
}

export function landingView({ navigate }) {
  return h(
    "main",
    { class: "landing", id: "main" },
    h(
      "section",
      { class: "landing-hero" },
      h("div", { class: "brand brand-large" }, h("span", { class: "brand-mark" }, icon("check")), "todokit"),
      h("h1", {}, "Your tasks, and an assistant that can change them."),
      h(
        "p",
        { class: "lead" },
        "Type “call mom tomorrow at 5pm #family !high” and it lands in the right place. Ask the assistant what's overdue, or to finish task 3. Priorities, tags, reminders and repeating tasks — on your own server, offline if you like.",
      ),
      h(
        "div",
        { class: "landing-actions" },
        h("a", { href: "/sign-up", class: "button primary", "data-link": true }, "Create an account"),
        h("a", { href: "/sign-in", class: "button", "data-link": true }, "Sign in"),
      ),
    ),
    h(
      "ul",
      { class: "landing-features" },
      feature("Quick add that understands you", "Dates, times, priorities and #tags in one line, shown before you save."),
      feature("An assistant in the side panel", "Ask in plain words; it changes your list through the same rules you use."),
      feature("Yours alone", "One binary, your database, no tracking, works without the internet."),
    ),
  );
  function feature(title, text) {
    return h("li", {}, h("h2", {}, title), h("p", {}, text));
  }
}

/**
 * mode: "sign-in" | "sign-up". `onSignedIn(session)` is called on success.
 * `notice` is shown above the form (e.g. "Your session has expired").
 */
export function authView({ mode, navigate, onSignedIn, notice }) {
  const signUp = mode === "sign-up";
  const error = h("p", { class: "form-error", role: "alert", id: "auth-error", hidden: true });
  const email = h("input", {
    id: "auth-email",
    name: "email",
    type: "email",
    autocomplete: "email",
    required: true,
    maxlength: 255,
    "aria-describedby": "auth-error",
  });
  const password = h("input", {
    id: "auth-password",
    name: "password",
    type: "password",
    autocomplete: signUp ? "new-password" : "current-password",
    required: true,
    minlength: signUp ? 8 : null,
    "aria-describedby": signUp ? "password-hint auth-error" : "auth-error",
  });
  // Servers that admit sign-ups by invite only (`--signup invite`) ask for a one-time code: the
  // field shows when the link carries one (`/sign-up?invite=…`) or once the server asks for it.
  const inviteFromLink = signUp ? new URLSearchParams(location.search).get("invite") || "" : "";
  const invite = h("input", {
    id: "auth-invite",
    name: "invite_code",
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 64,
    value: inviteFromLink,
    "aria-describedby": "invite-hint auth-error",
  });
  const inviteField = h(
    "div",
    { class: "invite-field", hidden: !inviteFromLink },
    h("label", { for: "auth-invite" }, "Invite code"),
    invite,
    h("p", { class: "hint", id: "invite-hint" }, "This server admits new accounts by invitation. Ask its administrator for a code."),
  );
  const submit = h("button", { type: "submit", class: "button primary wide" }, signUp ? "Create account" : "Sign in");

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const path = signUp ? "/api/auth/sign-up" : "/api/auth/sign-in";
      const credentials = { email: email.value.trim(), password: password.value };
      const code = invite.value.trim();
      if (signUp && code) credentials.invite_code = code;
      const body = await api.post(path, credentials, { quietAuth: true });
      onSignedIn({ user: body.user, expires_at: body.expires_at });
    } catch (err) {
      error.textContent = err.message || "Something went wrong; try again.";
      error.hidden = false;
      if (err.code === "invite_required" || err.code === "invalid_invite") {
        inviteField.hidden = false;
        invite.focus();
      } else {
        (err.field === "password" ? password : email).focus();
      }
    } finally {
      submit.disabled = false;
    }
  }

  const form = h(
    "form",
    { class: "auth-card", novalidate: false, on: { submit: onSubmit }, "aria-labelledby": "auth-title" },
    h("a", { href: "/", class: "brand", "data-link": true }, h("span", { class: "brand-mark" }, icon("check")), "todokit"),
    h("h1", { id: "auth-title" }, signUp ? "Create your account" : "Welcome back"),
    notice && h("p", { class: "notice", role: "status" }, notice),
    error,
    h("label", { for: "auth-email" }, "Email"),
    email,
    h("label", { for: "auth-password" }, "Password"),
    password,
    signUp && h("p", { class: "hint", id: "password-hint" }, "At least 8 characters."),
    signUp && inviteField,
    submit,
    h(
      "p",
      { class: "auth-switch" },
      signUp ? "Already have an account? " : "New here? ",
      h(
        "a",
        { href: signUp ? "/sign-in" + location.search : "/sign-up" + location.search, "data-link": true },
        signUp ? "Sign in" : "Create an account",
      ),
    ),
  );
  queueMicrotask(() => email.focus());
  return h("main", { class: "auth-page", id: "main" }, form);
}
