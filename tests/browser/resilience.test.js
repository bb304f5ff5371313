// Replies that survive drops and refreshes, stop, retry after a provider
// error, and the chat rate limit — with the scripted fake LLM (the only
// stand-in) behind the real server, and a TCP proxy between the browser and
// the server so the network can really be cut.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  launchBrowser,
  screenshot,
  signUpThroughUi,
  startFakeLlm,
  startProxy,
  startServer,
  watchErrors,
} from "./harness.js";

const WORDS = Array.from({ length: 70 }, (_, i) => `w${i + 1}`);
const LONG_REPLY = `${WORDS.join(" ")} THE END.`;
const SLOW = { text: LONG_REPLY, chunk: { words: 1 }, chunk_delay_ms: 50 };
const SCRIPT = {
  rules: [
    { when: { user_contains: "slow" }, respond: SLOW },
    { when: { user_contains: "fail" }, respond: { error: { status: 500, message: "the model is having a bad day" } } },
  ],
  fallback: { text: "Noted." },
};

let fake;
let server;
let proxy;
let browser;
let page;
let errors;

before(async () => {
  fake = await startFakeLlm(SCRIPT);
  server = await startServer({
    env: { TODOKIT_LLM_BASE_URL: fake.baseURL, TODOKIT_LLM_MODEL: "fake", TODOKIT_LLM_API_KEY: "x" },
  });
  proxy = await startProxy(server.port);
  browser = await launchBrowser({ baseURL: proxy.baseURL });
  page = browser.context.pages()[0] || (await browser.context.newPage());
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
  await fake?.stop();
});

const panel = () => page.locator("#chat-panel");
const connection = () => page.locator("#connection-status");
const lastReply = () => panel().locator(".chat-assistant .bubble").last();

async function sendMessage(text) {
  const input = page.getByLabel("Message the assistant");
  await input.fill(text);
  await input.press("Enter");
  await panel().locator(".chat-user .bubble", { hasText: text }).waitFor();
}

/** Waits until the reply has started streaming (some words are shown). */
async function replyStarted() {
  await panel().locator(".chat-assistant.streaming .bubble", { hasText: "w1" }).waitFor();
}

async function replyComplete() {
  await panel().locator(".chat-assistant:not(.streaming) .bubble", { hasText: "THE END" }).last().waitFor();
  await page.locator("#chat-send").waitFor();
}

describe("resilience", () => {
  test("the network is cut mid-reply: the indicator shows it, then the whole reply appears", async () => {
    await signUpThroughUi(page);
    await page.getByRole("button", { name: "Open assistant" }).click();
    await sendMessage("tell me something slow");
    await replyStarted();
    assert.equal(await page.locator("#chat-input").isDisabled(), true, "no second message while a reply runs");

    proxy.cut();
    await page.locator("#connection-status[data-state='reconnecting']").waitFor();
    assert.match(await connection().innerText(), /Cannot reach the server/);
    await screenshot(page, "chat-reconnecting-light");
    proxy.restore();

    await page.locator("#connection-status[data-connected='true']").waitFor();
    await replyComplete();
    assert.equal(await lastReply().innerText(), LONG_REPLY);
    assert.equal(await panel().locator(".chat-assistant").count(), 1, "the reply is shown once");
    assert.equal(await panel().locator(".chat-user").count(), 1);
  });

  test("going offline shows it app-wide, coming back says so", async () => {
    await browser.context.setOffline(true);
    await page.locator("#connection-status[data-state='offline']").waitFor();
    assert.match(await connection().innerText(), /You are offline/);
    await browser.context.setOffline(false);
    await page.locator("#connection-status[data-state='back']").waitFor();
    assert.match(await connection().innerText(), /Back online/);
  });

  test("a message that could not be sent says so, and the note goes once the server is back", async () => {
    proxy.cut();
    const input = page.getByLabel("Message the assistant");
    await input.fill("sent while cut off");
    await input.press("Enter");
    const note = panel().locator(".chat-error", { hasText: "Could not reach the server" });
    await note.waitFor();
    assert.equal(await input.inputValue(), "sent while cut off", "the message is back in the box");
    proxy.restore();
    await page.locator("#connection-status[data-connected='true']").waitFor();
    await note.waitFor({ state: "detached" });
    await input.fill("");
  });

  test("a refresh mid-reply re-attaches and shows the rest", async () => {
    await sendMessage("another slow one");
    await replyStarted();
    await page.reload();
    await panel().locator(".chat-user .bubble", { hasText: "another slow one" }).waitFor();
    await replyComplete();
    assert.equal(await lastReply().innerText(), LONG_REPLY);
    assert.equal(await panel().locator(".chat-assistant").count(), 2);
  });

  test("a second tab on the same conversation watches the reply stream live", async () => {
    const watcher = await browser.context.newPage();
    const watcherErrors = watchErrors(watcher);
    try {
      await watcher.goto("/tasks");
      await watcher.getByRole("button", { name: "Open assistant" }).click();
      await watcher.locator("#chat-history-toggle").click();
      await watcher.locator("#chat-history .thread-open").first().click();
      await watcher.locator("#chat-panel .chat-user .bubble", { hasText: "another slow one" }).waitFor();
      await sendMessage("slow for the watcher");
      // Still streaming in the watching tab: it re-attached on run.started.
      await watcher.locator("#chat-panel .chat-assistant.streaming .bubble", { hasText: "w1" }).waitFor();
      assert.equal(await watcher.locator("#chat-input").isDisabled(), true);
      await watcher.locator("#chat-panel .chat-assistant:not(.streaming) .bubble", { hasText: "THE END" }).nth(2).waitFor();
      assert.equal(await watcher.locator("#chat-panel .chat-assistant").count(), 3);
      await replyComplete();
      assert.deepEqual(watcherErrors, []);
    } finally {
      await watcher.close();
    }
  });

  test("a reply started elsewhere a moment ago: the message is held back, the reply shown, nothing refused", async () => {
    const refused = [];
    const logged = [];
    const onResponse = (response) => response.status() >= 400 && refused.push(`${response.status()} ${response.url()}`);
    const onConsole = (msg) => msg.type() === "error" && logged.push(msg.text());
    page.on("response", onResponse);
    page.on("console", onConsole);
    try {
      // Another client starts a reply; this tab sends before it has heard of it (its live
      // stream says so a moment later, and re-attaching takes two more requests).
      await page.evaluate(async () => {
        const threadId = sessionStorage.getItem("todokit.thread");
        const response = await fetch("/api/chatkit", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-Todokit-Detach": "1" },
          body: JSON.stringify({
            type: "threads.add_user_message",
            params: { thread_id: threadId, input: { content: [{ type: "input_text", text: "slow from elsewhere" }], attachments: [], inference_options: {} } },
            metadata: {},
          }),
        });
        if (!response.ok) throw new Error(`could not start the other reply: ${response.status}`);
        const input = document.getElementById("chat-input");
        input.value = "my own message";
        input.closest("form").requestSubmit();
        response.body.cancel();
      });
      await panel().locator(".chat-error", { hasText: "A reply is still being written" }).waitFor();
      await panel().locator(".chat-user .bubble", { hasText: "slow from elsewhere" }).waitFor();
      assert.equal(await page.getByLabel("Message the assistant").inputValue(), "my own message", "kept to send later");
      await panel().locator(".chat-assistant:not(.streaming) .bubble", { hasText: "THE END" }).nth(3).waitFor();
      await page.locator("#chat-send").waitFor();
      await panel().locator(".chat-error").waitFor({ state: "detached" });
      assert.equal(await panel().locator(".chat-user .bubble", { hasText: "my own message" }).count(), 0, "not sent behind the user's back");
      assert.deepEqual(refused, [], "the server was asked first, not refused");
      assert.deepEqual(logged, []);
    } finally {
      page.off("response", onResponse);
      page.off("console", onConsole);
      await page.getByLabel("Message the assistant").fill("");
    }
  });

  test("stop ends the reply on the server and keeps the partial text", async () => {
    await sendMessage("slow, but I will stop you");
    await replyStarted();
    await page.locator("#chat-stop").click();
    await page.locator("#chat-send").waitFor();
    await panel().getByText("Stopped. The partial reply is kept.").waitFor();
    const partial = await lastReply().innerText();
    assert.match(partial, /^w1\b/); // at least the first word (a quick Stop may land before the second)
    assert.ok(!partial.includes("THE END"), "the reply stopped before its end");
    // Saved as it was: a refresh shows the same partial reply.
    await page.reload();
    await panel().locator(".chat-user .bubble", { hasText: "slow, but I will stop you" }).waitFor();
    await panel().locator(".chat-assistant").nth(4).waitFor();
    assert.equal(await panel().locator(".chat-assistant").count(), 5);
    assert.ok(!(await lastReply().innerText()).includes("THE END"));
    assert.match(await lastReply().innerText(), /^w1\b/);
    assert.equal(await page.locator("#chat-input").isDisabled(), false);
  });

  test("a provider error offers Retry, which answers", async () => {
    await sendMessage("please fail");
    const retry = page.locator("#chat-retry");
    await retry.waitFor({ timeout: 30000 });
    await panel().locator(".chat-error[role='alert']").waitFor();
    await screenshot(page, "chat-error-light");
    await fake.setScript({ ...SCRIPT, rules: [], fallback: { text: "Recovered after the retry." } });
    await retry.click();
    await panel().locator(".chat-assistant:not(.streaming) .bubble", { hasText: "Recovered after the retry." }).waitFor();
    await retry.waitFor({ state: "detached" });
    assert.equal(await panel().locator(".chat-error").count(), 0);
    // The failed attempt left nothing behind: one user message, one answer.
    const lastTwo = await panel()
      .locator(".chat-item")
      .evaluateAll((els) => els.slice(-2).map((el) => el.className));
    assert.match(lastTwo[0], /chat-user/);
    assert.match(lastTwo[1], /chat-assistant/);
  });

  test("no script errors or CSP violations happened", () => {
    assert.deepEqual(errors, []);
  });
});

describe("rate limit", () => {
  test("over the limit, the chat says when sending works again and keeps the message", async () => {
    const limited = await startServer({ env: { TODOKIT_CHAT_MESSAGES_PER_DAY: "1" } });
    const b = await launchBrowser({ baseURL: limited.baseURL });
    try {
      const p = b.context.pages()[0] || (await b.context.newPage());
      await b.context.clock.install();
      const pageErrors = watchErrors(p);
      const logged = [];
      p.on("console", (msg) => msg.type() === "error" && logged.push(msg.text()));
      const refusals = [];
      p.on("response", (response) => response.status() === 429 && refusals.push(response.url()));
      await signUpThroughUi(p);
      await p.getByRole("button", { name: "Open assistant" }).click();
      const input = p.getByLabel("Message the assistant");
      await input.fill("add feed the cat");
      await input.press("Enter");
      await p.locator("#chat-panel .chat-assistant:not(.streaming) .bubble").first().waitFor();
      await p.locator("#chat-send").waitFor();
      await input.fill("add feed the dog");
      await input.press("Enter");
      const error = p.locator("#chat-panel .chat-error", { hasText: "chat limit" });
      await error.waitFor();
      assert.match(await error.innerText(), /You can send again at .*\d/);
      assert.equal(await input.inputValue(), "add feed the dog", "the unsent message is kept");
      await screenshot(p, "chat-rate-limited-light");
      // Sending again before the reset: the client knows the answer and says it itself.
      await p.locator("#chat-panel .chat-error").evaluate((el) => el.remove());
      await input.press("Enter");
      await error.waitFor();
      assert.equal(await input.inputValue(), "add feed the dog");
      assert.equal(refusals.length, 1, "asked the server only once");
      // That one refusal could not be foreseen (nothing tells the client its count before it
      // sends), and Chromium logs any 4xx fetch as a failed resource: it is the only red line.
      assert.equal(logged.length, 1, logged.join("\n"));
      assert.match(logged[0], /status of 429/);
      // Once the limit has reset the message goes: a day later (on the page's clock) it is gone.
      await p.clock.fastForward("25:00:00");
      await error.waitFor({ state: "detached" });
      assert.deepEqual(pageErrors, []);
    } finally {
      await b.close();
      await limited.stop();
    }
  });
});
