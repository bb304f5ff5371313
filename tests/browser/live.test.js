// Live across browsers, reminders, and settings, against the real server with
// the offline assistant. The second "tab" is a separate browser profile signed
// in as the same person, so what it sees comes from the server's
// /api/events stream, not from the first tab's BroadcastChannel.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, screenshot, signInThroughUi, signUpThroughUi, startServer, watchErrors } from "./harness.js";

// How long to wait for a reminder before concluding this server has no
// reminder emitter yet (then the test is skipped, not failed).
const REMINDER_WAIT_MS = 8000;

let server;
let first;
let second;
let page;
let other;
let email;
const errors = [];

before(async () => {
  server = await startServer({ env: { TODOKIT_REMINDER_INTERVAL_SECS: "1" } });
  first = await launchBrowser({ baseURL: server.baseURL });
  second = await launchBrowser({ baseURL: server.baseURL });
  page = first.context.pages()[0] || (await first.context.newPage());
  other = second.context.pages()[0] || (await second.context.newPage());
  errors.push(watchErrors(page), watchErrors(other));
});

after(async () => {
  await first?.close();
  await second?.close();
  await server?.stop();
});

const row = (p, title) => p.locator("li.task", { has: p.locator(".task-title", { hasText: title }) });

describe("live", () => {
  test("another browser sees a task created, completed and deleted, without reloading", async () => {
    email = await signUpThroughUi(page);
    await signInThroughUi(other, email);
    // Navigations of `other` from here on would hide a missing live update.
    let navigations = 0;
    other.on("framenavigated", (frame) => frame === other.mainFrame() && navigations++);

    await page.locator("#quick-add").fill("Call the plumber tomorrow 9am !high");
    await page.locator("#quick-add").press("Enter");
    await row(page, "Call the plumber").waitFor();
    await row(other, "Call the plumber").waitFor();
    assert.match(await row(other, "Call the plumber").innerText(), /High/i);

    await row(page, "Call the plumber").getByRole("checkbox").check();
    // Done: it leaves the other browser's Active list and is counted under Done.
    await row(other, "Call the plumber").waitFor({ state: "detached" });
    await other.locator('.view-count[data-count="done"]', { hasText: "1" }).waitFor();

    await page.locator("#view-done").click();
    await row(page, "Call the plumber").getByRole("button", { name: /^Delete/ }).click();
    await other.locator('.view-count[data-count="done"]', { hasText: "0" }).waitFor();
    await page.locator("#view-active").click();
    assert.equal(navigations, 0);
  });

  test("another browser sees the chat reply in the open conversation, live", async () => {
    // Both open the same conversation; the second then only watches.
    await page.getByRole("button", { name: "Open assistant" }).click();
    const input = page.getByLabel("Message the assistant");
    await input.fill("add water the plants friday");
    await input.press("Enter");
    await page.locator("#chat-panel .chat-assistant:not(.streaming) .bubble", { hasText: /plants/i }).first().waitFor();
    await row(other, "water the plants").waitFor(); // what the assistant did shows up elsewhere at once

    await other.getByRole("button", { name: "Open assistant" }).click();
    await other.locator("#chat-history-toggle").click();
    await other.locator("#chat-history .thread-open").first().click();
    await other.locator("#chat-panel .chat-user .bubble", { hasText: "add water the plants friday" }).waitFor();
    assert.equal(await other.locator("#connection-status").getAttribute("data-connected"), "true");

    await input.fill("add buy stamps tomorrow");
    await input.press("Enter");
    await other.locator("#chat-panel .chat-user .bubble", { hasText: "add buy stamps tomorrow" }).waitFor();
    await other.locator("#chat-panel .chat-assistant .bubble", { hasText: /stamps/i }).first().waitFor();
    await row(other, "buy stamps").waitFor();
    await screenshot(other, "live-second-browser-light");
    // Same conversation, same items, in the same order.
    const items = (p) => p.locator("#chat-panel .chat-item").evaluateAll((els) => els.map((el) => el.dataset.itemId));
    await page.locator("#chat-panel .chat-assistant:not(.streaming)", { hasText: /stamps/i }).first().waitFor();
    await other.locator("#chat-panel .chat-assistant:not(.streaming)", { hasText: /stamps/i }).first().waitFor();
    assert.deepEqual(await items(other), await items(page));
  });

  test("a renamed conversation is renamed in the other browser", async () => {
    await page.locator("#chat-history-toggle").click();
    const first = page.locator("#chat-history .thread-row").first();
    await first.getByRole("button", { name: /^Rename/ }).click();
    await first.getByLabel("Conversation title").fill("Errands");
    await first.getByRole("button", { name: "Save" }).click();
    await other.locator("#chat-thread-title", { hasText: "Errands" }).waitFor();
    await page.locator("#chat-history-toggle").click();
    await page.getByRole("button", { name: "Close assistant" }).click();
    await other.getByRole("button", { name: "Close assistant" }).click();
  });

  test("a due reminder shows a toast that opens the task", async (t) => {
    const due = new Date(Date.now() - 60_000).toISOString();
    const response = await page.request.post("/api/tasks", {
      data: { title: "Renew the passport", due_at: due, reminder_offset_minutes: 0 },
      headers: { Origin: server.baseURL },
    });
    assert.equal(response.status(), 201, await response.text());
    const toastEl = page.locator(".reminder-toast", { hasText: "Renew the passport" });
    // The server checks reminders every second here (TODOKIT_REMINDER_INTERVAL_SECS=1).
    await toastEl.waitFor({ timeout: REMINDER_WAIT_MS });
    await other.locator(".reminder-toast", { hasText: "Renew the passport" }).waitFor();
    await screenshot(page, "reminder-toast-light");
    await toastEl.getByRole("button", { name: "Open" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel("Title").inputValue(), "Renew the passport");
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });

  test("notifications are asked for from a button, not on load", async () => {
    // No prompt happened on load: the permission is still undecided.
    assert.equal(await page.evaluate(() => Notification.permission), "default");
    await page.locator("#notify-enable").waitFor();
    await first.context.grantPermissions(["notifications"]);
    await page.locator("#notify-enable").click();
    await page.locator("#notify-enable").waitFor({ state: "hidden" });
  });

  test("settings: create a personal access token, use it once, revoke it", async () => {
    await page.locator("#settings-link").click();
    await page.waitForURL("**/settings");
    await page.getByRole("heading", { name: "Personal access tokens" }).waitFor();
    await page.getByText("No access tokens yet.").waitFor();
    assert.equal(await page.locator("#mcp-url").innerText(), `${server.baseURL}/mcp`);
    assert.match(await page.locator("#mcp-config").innerText(), /"Authorization": "Bearer tdk_your_token_here"/);

    await page.getByLabel("Token name").fill("Claude <img src=x onerror=alert(1)>");
    await page.getByLabel("Expires").selectOption("30");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.locator("#token-secret").innerText()).trim();
    assert.match(secret, /^tdk_/);
    await page.locator(".token-row", { hasText: "Claude <img" }).waitFor();
    assert.equal(await page.locator(".token-list img").count(), 0);
    await screenshot(page, "settings-token-created-light");

    // The secret works against the API, and the list never shows it again.
    const withToken = await fetch(`${server.baseURL}/api/tasks`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(withToken.status, 200);
    await page.reload();
    await page.locator(".token-row", { hasText: "Claude <img" }).waitFor();
    assert.equal(await page.locator("#token-secret").count(), 0);
    assert.ok(!(await page.locator("#main").innerText()).includes(secret));

    const tokenRow = page.locator(".token-row", { hasText: "Claude <img" });
    await tokenRow.getByRole("button", { name: /^Revoke/ }).click();
    await tokenRow.getByRole("button", { name: "Revoke token" }).click();
    await page.locator(".token-row .token-revoked").waitFor();
    const afterRevoke = await fetch(`${server.baseURL}/api/tasks`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(afterRevoke.status, 401);
    await screenshot(page, "settings-light");
    await page.locator("#theme-toggle").click();
    await screenshot(page, "settings-dark");
    await page.locator("#theme-toggle").click();
    await page.getByRole("link", { name: "Back to tasks" }).click();
    await page.getByRole("heading", { name: "My tasks" }).waitFor();
  });

  test("no script errors or CSP violations happened", () => {
    assert.deepEqual(errors.flat(), []);
  });
});
