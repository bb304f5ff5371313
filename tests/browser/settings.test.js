// The settings page in a real Chromium against the real server: sessions
// (this device, another one, revoking it, signing out everywhere else),
// changing the password, export downloads, importing a Todoist CSV, the
// calendar feed (create, fetch, revoke), and deleting the account. Server
// strings are shown as text (a user agent with markup stays text), and axe
// finds nothing serious on the page with data in it, light and dark.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { PASSWORD, createTasks, launchBrowser, repoRoot, screenshot, signInThroughUi, signUpThroughUi, startServer, watchErrors } from "./harness.js";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const MARKUP_AGENT = "<img src=x onerror=alert(1)>Evil/1.0";

let server;
let browser;
let page;
let errors;
let email;
let password = PASSWORD;
let files;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ baseURL: server.baseURL });
  page = browser.context.pages()[0] || (await browser.context.newPage());
  errors = watchErrors(page);
  files = mkdtempSync(join(tmpdir(), "todokit-settings-"));
  email = await signUpThroughUi(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

/** Signs in outside the browser (another device); returns the response's status and token. */
async function signInElsewhere(userAgent, pass = password) {
  const response = await fetch(`${server.baseURL}/api/auth/sign-in`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": userAgent },
    body: JSON.stringify({ email, password: pass }),
  });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, token: body.token };
}

async function statusWith(token) {
  const response = await fetch(`${server.baseURL}/api/tasks`, { headers: { authorization: `Bearer ${token}` } });
  return response.status;
}

async function openSettings() {
  await page.goto("/settings");
  await page.getByRole("heading", { name: "Settings", exact: true }).waitFor();
}

async function axeViolations() {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

const sessionRows = () => page.locator("#session-list .session-row");

describe("settings page", () => {
  test("sessions: this device and another one; revoking the other ends it", async () => {
    const phone = await signInElsewhere(IPHONE);
    assert.equal(phone.status, 200);
    assert.equal(await statusWith(phone.token), 200);
    const marked = await signInElsewhere(MARKUP_AGENT);
    assert.equal(marked.status, 200);

    await openSettings();
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    await sessionRows().nth(2).waitFor();
    assert.equal(await sessionRows().count(), 3);
    // This browser's session comes first, marked, with no button to cut it off.
    const current = page.locator("#session-list .session-row.current");
    assert.equal(await current.count(), 1);
    assert.match(await current.innerText(), /This device/);
    assert.match(await current.innerText(), /Chrome on Linux/);
    assert.equal(await current.getByRole("button").count(), 0);
    assert.equal(await sessionRows().first().getAttribute("class"), await current.getAttribute("class"));
    // The phone reads as a device, with when it was last seen.
    const phoneRow = sessionRows().filter({ hasText: "Safari on iPhone" });
    assert.equal(await phoneRow.count(), 1);
    assert.match(await phoneRow.innerText(), /Last seen (just now|\d+ (seconds?|minutes?) ago)/);
    // A user agent with markup in it is text, not an element.
    await sessionRows().filter({ hasText: "<img src=x" }).waitFor();
    assert.equal(await page.locator("#session-list img").count(), 0);

    await phoneRow.getByRole("button", { name: /^Sign out Safari on iPhone/ }).click();
    await phoneRow.waitFor({ state: "detached" });
    assert.equal(await sessionRows().count(), 2);
    assert.equal(await statusWith(phone.token), 401);
    assert.equal(await statusWith(marked.token), 200);
    // Focus stays in the list.
    assert.ok(await page.evaluate(() => Boolean(document.activeElement?.closest("#session-list"))));
  });

  test("sessions: sign out everywhere else keeps this one", async () => {
    const laptop = await signInElsewhere(FIREFOX);
    await openSettings();
    await sessionRows().nth(2).waitFor();
    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await page.locator(".toast", { hasText: /Signed out 2 other sessions/ }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#session-list .session-row").length === 1);
    assert.equal(await page.locator("#session-list .session-row.current").count(), 1);
    assert.equal(await page.getByRole("button", { name: "Sign out everywhere else" }).isVisible(), false);
    assert.equal(await statusWith(laptop.token), 401);
    // This browser is still signed in.
    assert.equal((await page.request.get("/api/auth/session")).status(), 200);
  });

  test("password: a wrong current password is refused; the new one signs in, the old one no longer", async () => {
    const other = await signInElsewhere(FIREFOX);
    await openSettings();
    const form = page.locator("#password-form");
    const newPassword = "a much better passphrase";

    // The confirmation must match, before anything is sent.
    await form.getByLabel("Current password", { exact: true }).fill(password);
    await form.getByLabel("New password", { exact: true }).fill(newPassword);
    await form.getByLabel("Confirm new password", { exact: true }).fill("something else entirely");
    await form.getByRole("button", { name: "Change password" }).click();
    await page.locator("#password-error", { hasText: "do not match" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "password-confirm");

    await form.getByLabel("Current password", { exact: true }).fill("not my password at all");
    await form.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
    await form.getByRole("button", { name: "Change password" }).click();
    await page.locator("#password-error", { hasText: "current password is not right" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "password-current");
    assert.equal((await signInElsewhere(FIREFOX, newPassword)).status, 401);

    await form.getByLabel("Current password", { exact: true }).fill(password);
    await form.getByRole("button", { name: "Change password" }).click();
    await page.locator("#password-success", { hasText: "Password changed" }).waitFor();
    assert.equal(await page.locator("#password-error").isVisible(), false);
    assert.equal(await form.getByLabel("Current password", { exact: true }).inputValue(), "");

    assert.equal((await signInElsewhere(FIREFOX, password)).status, 401);
    const fresh = await signInElsewhere(FIREFOX, newPassword);
    assert.equal(fresh.status, 200);
    password = newPassword;
    // Other sessions were signed out; this one was not.
    assert.equal(await statusWith(other.token), 401);
    assert.equal((await page.request.get("/api/auth/session")).status(), 200);
  });

  test("export: the JSON, CSV and iCalendar downloads hold the user's task", async () => {
    await createTasks(page, server.baseURL, [{ title: "Export me <b>please</b>", description: "with a description", priority: "high", due_at: new Date(Date.now() + 86400000).toISOString(), tags: ["exported"] }]);
    await openSettings();
    for (const [button, check] of [
      [
        "Download JSON",
        (text, name) => {
          assert.match(name, /\.json$/);
          const doc = JSON.parse(text);
          assert.ok(JSON.stringify(doc).includes("Export me <b>please</b>"), "the task is in the JSON export");
          assert.ok(!text.includes(PASSWORD) && !text.includes(password), "no password in the export");
        },
      ],
      [
        "Download CSV",
        (text, name) => {
          assert.match(name, /\.csv$/);
          assert.ok(text.includes("Export me <b>please</b>"));
        },
      ],
      [
        "Download iCalendar",
        (text, name) => {
          assert.match(name, /\.ics$/);
          assert.match(text, /BEGIN:VCALENDAR/);
          assert.match(text, /BEGIN:VTODO/);
          assert.match(text, /SUMMARY:Export me <b>please<\/b>/);
        },
      ],
    ]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: button }).click()]);
      const path = join(files, download.suggestedFilename());
      await download.saveAs(path);
      check(readFileSync(path, "utf8"), download.suggestedFilename());
    }
  });

  test("import: a Todoist CSV adds its tasks; a bad file imports nothing and says which line", async () => {
    const good = join(files, "Groceries.csv");
    writeFileSync(
      good,
      "\ufeffTYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT,DEADLINE,DEADLINE_LANG\r\n" +
        "meta,view_style=list,,,,,,,,,,,,\r\n" +
        "section,Errands,,,,,,,,,,,,\r\n" +
        "task,Buy oat milk @shopping,Barista edition,1,1,Ann (41200001),,every monday,en,America/New_York,,,,\r\n" +
        "note,Check the fridge first,,,,Ann (41200001),,,,,,,,\r\n" +
        "\r\n" +
        "task,Return the library books,,4,1,Ann (41200001),,tomorrow,en,America/New_York,,,,\r\n",
    );
    const bad = join(files, "broken.csv");
    writeFileSync(bad, "TYPE,CONTENT,PRIORITY\r\ntask,Fine row,1\r\ntask,Broken row,9\r\n");

    await openSettings();
    await page.getByLabel("File to import").setInputFiles(bad);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const error = page.locator("#import-error");
    await error.waitFor();
    assert.match(await error.innerText(), /Nothing was imported/);
    assert.match(await error.innerText(), /line 3/i);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "import-file");

    await page.getByLabel("File to import").setInputFiles(good);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.locator("#import-result", { hasText: "Imported 2 tasks" }).waitFor();
    assert.equal(await error.isVisible(), false);

    await page.getByRole("link", { name: "Back to tasks" }).click();
    await page.getByRole("heading", { name: "My tasks" }).waitFor();
    await page.locator("li.task", { hasText: "Buy oat milk" }).waitFor();
    await page.locator("li.task", { hasText: "Return the library books" }).waitFor();
    assert.equal(await page.locator("li.task", { hasText: "Fine row" }).count(), 0);
  });

  test("calendar feed: create shows the secret address once; it serves text/calendar until revoked", async () => {
    await openSettings();
    await page.locator("#feed-status", { hasText: "No feed address" }).waitFor();
    await page.getByRole("button", { name: "Create feed address" }).click();
    const url = (await page.locator("#feed-url").innerText()).trim();
    assert.match(url, /^https?:\/\/[^/]+\/./);
    assert.match(await page.locator("#feed-reveal").innerText(), /secret/i);
    await page.locator("#feed-copy").waitFor();
    await page.locator("#feed-howto", { hasText: "Google Calendar" }).waitFor();

    const feed = await fetch(url);
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get("content-type"), /^text\/calendar/);
    assert.match(await feed.text(), /BEGIN:VCALENDAR/);
    await screenshot(page, "settings-feed-created");

    // Replacing warns first; the old address then stops working.
    await page.getByRole("button", { name: "Replace feed address" }).click();
    await page.locator("#feed-confirm", { hasText: "replaces the old one" }).waitFor();
    await page.getByRole("button", { name: "Replace address" }).click();
    await page.waitForFunction((old) => document.getElementById("feed-url")?.textContent.trim() !== old, url);
    const replacement = (await page.locator("#feed-url").innerText()).trim();
    assert.equal((await fetch(url)).status, 404);
    assert.equal((await fetch(replacement)).status, 200);

    await page.getByRole("button", { name: "Turn off feed" }).click();
    await page.getByRole("button", { name: "Turn off", exact: true }).click();
    await page.locator("#feed-status", { hasText: "No feed address" }).waitFor();
    assert.equal(await page.locator("#feed-url").count(), 0);
    assert.equal((await fetch(replacement)).status, 404);
  });

  test("invites are only offered to an administrator when sign-up is by invite", async () => {
    await openSettings();
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator("#invites").isVisible(), false);
    assert.equal(await page.getByRole("link", { name: "Invites" }).count(), 0);
  });

  test("the section links move focus to their section", async () => {
    await openSettings();
    await page.getByRole("navigation", { name: "Settings sections" }).getByRole("link", { name: "Calendar feed" }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "calendar");
    assert.equal(new URL(page.url()).pathname, "/settings");
  });

  test("axe and screenshots with data, desktop and phone, light and dark", async () => {
    await signInElsewhere(IPHONE);
    await openSettings();
    await sessionRows().nth(1).waitFor();
    for (const theme of ["light", "dark"]) {
      await page.evaluate((t) => {
        localStorage.setItem("todokit.theme", t);
        document.documentElement.dataset.theme = t;
        // Buttons fade to the new theme's colours: axe reads them once they are there.
        return Promise.all(document.getAnimations().map((animation) => animation.finished));
      }, theme);
      for (const [width, height] of [
        [1280, 860],
        [390, 844],
      ]) {
        await page.setViewportSize({ width, height });
        assert.deepEqual(await axeViolations(), [], `${theme} ${width}`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), `${theme} ${width}: nothing scrolls sideways`);
        await screenshot(page, `settings-account-${width}-${theme}`);
      }
    }
    await page.evaluate(() => localStorage.removeItem("todokit.theme"));
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  test("delete account: needs the password and the typed phrase; then back to sign-in, and signing in fails", async () => {
    await openSettings();
    const form = page.locator("#delete-form");
    await form.getByLabel("Your password").fill(password);
    await form.getByRole("button", { name: "Delete my account" }).click();
    await page.locator("#delete-error", { hasText: "delete my account" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "delete-confirm");

    await form.getByLabel(/to confirm/).fill("delete my account");
    await form.getByLabel("Your password").fill("wrong password here");
    await form.getByRole("button", { name: "Delete my account" }).click();
    await page.locator("#delete-error", { hasText: "not right" }).waitFor();
    assert.equal((await page.request.get("/api/auth/session")).status(), 200);

    await form.getByLabel("Your password").fill(password);
    await form.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL("**/sign-in");
    await page.locator(".notice", { hasText: "deleted" }).waitFor();
    assert.equal((await page.request.get("/api/auth/session")).status(), 401);

    assert.equal((await signInElsewhere(FIREFOX, password)).status, 401);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#auth-error").waitFor();
    assert.equal(new URL(page.url()).pathname, "/sign-in");
  });

  test("no script errors or CSP violations happened", () => {
    assert.deepEqual(errors.flat(), []);
  });
});

describe("settings page, invite-only sign-up", () => {
  let inviteServer;
  let inviteBrowser;
  let adminPage;
  const adminEmail = "admin@example.com";

  before(async () => {
    // The operator creates the first account (the administrator) from the command line.
    const dataDir = mkdtempSync(join(tmpdir(), "todokit-browser-"));
    const bin = process.env.TODOKIT_BIN ? resolve(process.env.TODOKIT_BIN) : join(repoRoot, "target/debug/todokit");
    const added = spawnSync(bin, ["--data-dir", dataDir, "user", "add", "--email", adminEmail, "--password", PASSWORD], { encoding: "utf8", env: { ...process.env, RUST_LOG: "warn" } });
    assert.equal(added.status, 0, `todokit user add failed: ${added.stderr}`);
    inviteServer = await startServer({ dataDir, env: { TODOKIT_SIGNUP: "invite" } });
    inviteBrowser = await launchBrowser({ baseURL: inviteServer.baseURL });
    adminPage = inviteBrowser.context.pages()[0] || (await inviteBrowser.context.newPage());
  });

  after(async () => {
    await inviteBrowser?.close();
    await inviteServer?.stop();
  });

  test("the administrator creates an invite code that lets one person sign up", async () => {
    await signInThroughUi(adminPage, adminEmail);
    await adminPage.goto("/settings");
    await adminPage.getByRole("heading", { name: "Invites" }).waitFor();
    await adminPage.getByRole("button", { name: "Create invite code" }).click();
    const code = (await adminPage.locator("#invite-list .invite-code").first().innerText()).trim();
    assert.ok(code.length >= 8, code);

    const signUp = (email) =>
      fetch(`${inviteServer.baseURL}/api/auth/sign-up`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: PASSWORD, invite_code: code }),
      });
    // The sign-up link the card offers to copy carries the code into the sign-up form.
    const guest = await launchBrowser({ baseURL: inviteServer.baseURL });
    try {
      const guestPage = guest.context.pages()[0] || (await guest.context.newPage());
      await guestPage.goto(`/sign-up?invite=${encodeURIComponent(code)}`);
      await guestPage.getByLabel("Email").fill("invited@example.com");
      await guestPage.getByLabel("Password").fill(PASSWORD);
      await guestPage.getByRole("button", { name: "Create account" }).click();
      await guestPage.getByRole("heading", { name: "My tasks" }).waitFor();
    } finally {
      await guest.close();
    }
    assert.equal((await signUp("second@example.com")).status, 403, "an invite works once");
  });
});
