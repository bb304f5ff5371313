// The assistant panel against the real ChatKit endpoint with the offline
// assistant.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, screenshot, signUpThroughUi, startServer, watchErrors } from "./harness.js";

const server = await startServer();

let browser;
let page;
let errors;

before(async () => {
  browser = await launchBrowser({ baseURL: server.baseURL });
  page = browser.context.pages()[0] || (await browser.context.newPage());
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await server.stop();
});

const row = (p, title) => p.locator("li.task", { has: p.locator(".task-title", { hasText: title }) });

describe("chat", () => {
  test("an empty thread suggests prompts and the panel shows the connection", async () => {
    await signUpThroughUi(page);
    await page.getByRole("button", { name: "Open assistant" }).click();
    const panel = page.locator("#chat-panel");
    await panel.getByRole("heading", { name: "AI Assistant" }).waitFor();
    await panel.getByRole("button", { name: "List all my tasks" }).waitFor();
    assert.equal(await page.locator("#connection-status").getAttribute("data-connected"), "true");
    await screenshot(page, "chat-empty-light");
  });

  test("“add buy milk tomorrow at 5pm” streams a reply and the task appears with the right due time", async () => {
    const input = page.getByLabel("Message the assistant");
    await input.fill("add buy milk tomorrow at 5pm");
    await input.press("Enter");
    const panel = page.locator("#chat-panel");
    await panel.locator(".chat-user .bubble", { hasText: "add buy milk tomorrow at 5pm" }).waitFor();
    // The reply has finished streaming when its bubble has text and no cursor.
    const reply = panel.locator(".chat-assistant:not(.streaming) .bubble").last();
    await reply.waitFor();
    assert.match(await reply.innerText(), /milk/i);
    // Routine replies carry no note about configuring a model (it comes with "help", below).
    assert.doesNotMatch(await reply.innerText(), /GEMINI_API_KEY/);
    // "✅ Added …": the emoji is drawn as a named icon, never left to an emoji font.
    assert.equal(await reply.locator(".status-icon [role=img][aria-label=Done]").count(), 1);
    assert.doesNotMatch(await reply.innerText(), /✅/u);
    await page.locator("#chat-send").waitFor(); // the stop button is gone again
    await row(page, "milk").waitFor();
    const { tasks } = await (await page.request.get("/api/tasks?q=milk")).json();
    assert.equal(tasks.length, 1);
    const local = await page.evaluate((iso) => {
      const due = new Date(iso);
      const tomorrow = new Date();
      tomorrow.setDate(tomorrow.getDate() + 1);
      return { hours: due.getHours(), minutes: due.getMinutes(), tomorrow: due.toDateString() === tomorrow.toDateString() };
    }, tasks[0].due_at);
    assert.deepEqual(local, { hours: 17, minutes: 0, tomorrow: true });
    assert.match(await row(page, "milk").locator(".due-badge").innerText(), /Tomorrow 5:00/);
    // The created task's card: the default priority draws no badge, Delete is outlined.
    const card = page.locator("#chat-panel .chat-widget");
    await card.locator(".w-text", { hasText: "#1 Buy milk" }).waitFor();
    assert.equal(await card.locator(".badge").count(), 0, "no Medium badge");
    const del = card.getByRole("button", { name: "Delete" });
    assert.match(await del.getAttribute("class"), /danger-secondary/);
    assert.doesNotMatch(await del.getAttribute("class"), /\bprimary\b/);
    await screenshot(page, "chat-reply-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
    await screenshot(page, "chat-reply-dark");
    await page.evaluate(() => document.documentElement.setAttribute("data-theme", "light"));

    // "help" ends with the hint in _italics_ that holds a code span with underscores: it
    // renders as <em> around <code>, with no underscore left over.
    await input.fill("help");
    await input.press("Enter");
    await panel.locator(".chat-user .bubble", { hasText: "help" }).waitFor();
    const help = panel.locator(".chat-assistant:not(.streaming) .bubble", { hasText: "Here's what I can do" }).last();
    await help.waitFor();
    const hint = help.locator("em", { hasText: "built-in offline assistant" });
    await hint.waitFor();
    assert.equal(await hint.locator("code").innerText(), "GEMINI_API_KEY");
    assert.doesNotMatch(await help.innerText(), /(^|\s)_|_$/m);
    await page.locator("#chat-send").waitFor();
  });

  test("a second tab sees the task and the conversation", async () => {
    const second = await browser.context.newPage();
    await second.goto("/tasks");
    await row(second, "milk").waitFor();
    await second.getByRole("button", { name: "Open assistant" }).click();
    await second.locator("#chat-history-toggle").click();
    const thread = second.locator("#chat-history .thread-open").first();
    await thread.waitFor();
    await thread.click();
    await second.locator("#chat-panel .chat-user .bubble", { hasText: "add buy milk tomorrow at 5pm" }).waitFor();
    await second.locator("#chat-panel .chat-assistant .bubble", { hasText: /milk/i }).first().waitFor();
    await second.close();
  });

  test("completing by chat: one compact step, the sentence, and no card repeating it", async () => {
    const panel = page.locator("#chat-panel");
    const input = page.getByLabel("Message the assistant");
    const before = await panel.locator(".chat-widget").count();
    await input.fill("mark task 1 as complete");
    await input.press("Enter");
    await panel.locator(".chat-assistant:not(.streaming) .bubble", { hasText: "Marked" }).waitFor();
    await page.locator("#chat-send").waitFor();
    await row(page, "milk").waitFor({ state: "detached" });
    assert.equal(await panel.locator(".chat-widget").count(), before, "no card after a completion");
    const step = panel.locator(".chat-workflow").last();
    assert.equal(await step.locator(".workflow-task").count(), 1);
    assert.equal(await step.locator(".workflow-summary").count(), 0, "no summary repeating the one step");
    // A task that is not there: the reply says so and nothing new is offered.
    await input.fill("mark task 99 as complete");
    await input.press("Enter");
    await panel.locator(".chat-assistant:not(.streaming) .bubble", { hasText: /couldn't find task #99/i }).waitFor();
    await page.locator("#chat-send").waitFor();
    assert.equal(await panel.locator(".chat-widget").count(), before);
    await screenshot(page, "chat-complete-light");
  });

  test("a listed task's priority dot is drawn, never left to an emoji font", async () => {
    const panel = page.locator("#chat-panel");
    const input = page.getByLabel("Message the assistant");
    await input.fill("add renew the passport, high priority");
    await input.press("Enter");
    await panel.locator(".chat-assistant:not(.streaming) .bubble", { hasText: /passport/i }).waitFor();
    await page.locator("#chat-send").waitFor();
    await input.fill("show my high priority tasks");
    await input.press("Enter");
    const reply = panel.locator(".chat-assistant:not(.streaming) .bubble", { hasText: "Renew the passport" }).last();
    await reply.waitFor();
    await page.locator("#chat-send").waitFor();
    assert.match(await reply.innerText(), /high/);
    assert.doesNotMatch(await reply.innerText(), /🔴/u);
    assert.equal(await reply.locator(".status-high svg[aria-hidden=true]").count(), 1);
  });

  test("threads can be renamed and deleted", async () => {
    await page.locator("#chat-history-toggle").click();
    const first = page.locator("#chat-history .thread-row").first();
    await first.getByRole("button", { name: /^Rename/ }).click();
    await first.getByLabel("Conversation title").fill("Groceries <b>plan</b>");
    await first.getByRole("button", { name: "Save" }).click();
    await page.locator("#chat-history .thread-title", { hasText: "Groceries <b>plan</b>" }).waitFor();
    assert.equal(await page.locator("#chat-history b").count(), 0);
    await page.locator("#chat-history .thread-row").first().getByRole("button", { name: /^Delete/ }).click();
    await page.locator("#chat-history .thread-row").first().getByRole("button", { name: "Delete", exact: true }).click();
    await page.locator("#chat-history .thread-row").waitFor({ state: "detached" });
    await page.locator("#chat-panel .suggestion").first().waitFor();
  });

  test("no script errors or CSP violations happened", () => {
    assert.deepEqual(errors, []);
  });
});
