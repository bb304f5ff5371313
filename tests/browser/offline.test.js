// Works offline, for real: the server process is stopped and started again
// on the same port and data. The page still opens (the service worker keeps
// the app shell), shows the last list read-only with its age, queues changes
// and sends them in order when the server is back; a change the server
// refuses meanwhile gets a clear note.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createTasks, launchBrowser, screenshot, signUpThroughUi, startProxy, startServer, watchErrors } from "./harness.js";

let server;
let proxy;
let browser;
let page;
let errors;

before(async () => {
  server = await startServer();
  // The browser talks to the server through a proxy, so the network can also be cut while
  // the server runs (to change something "elsewhere" while this browser is offline).
  proxy = await startProxy(server.port);
  browser = await launchBrowser({ baseURL: proxy.baseURL });
  page = browser.context.pages()[0] || (await browser.context.newPage());
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
});

const row = (title) => page.locator("li.task", { has: page.locator(".task-title", { hasText: title }) });

/** The task as the server has it, asked directly (not through the browser's network). */
async function serverTask(title) {
  const response = await page.request.get(`${server.baseURL}/api/tasks?q=${encodeURIComponent(title)}`);
  assert.equal(response.status(), 200);
  return (await response.json()).tasks.find((t) => t.title === title);
}

describe("offline", () => {
  test("the server stops: banner, the cached list with its age, changes queued", async () => {
    await signUpThroughUi(page);
    await createTasks(page, proxy.baseURL, [{ title: "Buy stamps" }, { title: "Call the bank" }, { title: "Return the library books" }]);
    await page.reload();
    await row("Return the library books").waitFor();
    // The service worker has the app shell once it controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

    await server.halt();
    await row("Buy stamps").getByRole("checkbox").check();
    await page.locator("#connection-status[data-state='reconnecting']").waitFor();
    assert.match(await page.locator("#connection-status").innerText(), /Cannot reach the server/);
    await page.locator(".toast", { hasText: "“Buy stamps” will be marked done when the connection is back" }).waitFor();

    // A reload with the server down: the page opens and shows the list as last seen.
    await page.reload();
    await row("Call the bank").waitFor();
    await page.locator("#offline-note", { hasText: /as of .*ago|just now/ }).waitFor();
    assert.match(await page.locator("#offline-note").innerText(), /1 change waiting to be sent/);

    await page.locator("#quick-add").fill("Water the plants tomorrow #home");
    await page.locator("#quick-add").press("Enter");
    await page.locator(".toast", { hasText: "will be added when the connection is back" }).waitFor();
    await page.locator("#offline-note", { hasText: "2 changes waiting to be sent" }).waitFor();
    // A full edit is queued too, and the list shows it at once.
    await row("Call the bank").getByRole("button", { name: /^Edit/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Call the bank about the card");
    await dialog.getByLabel("Priority").selectOption("high");
    await dialog.getByLabel("Tags").fill("money");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator(".toast", { hasText: "Your changes to “Call the bank” will be saved when the connection is back" }).waitFor();
    await row("Call the bank about the card").locator(".priority-high").waitFor();
    await page.locator("#offline-note", { hasText: "3 changes waiting to be sent" }).waitFor();
    await screenshot(page, "offline-cached-list-light");
  });

  test("the server is back: the queue is sent in order and the list is live again", async () => {
    server = await startServer({ port: server.port, dataDir: server.dataDir });
    await page.locator("#connection-status[data-connected='true']").waitFor({ timeout: 30000 });
    await page.locator(".toast", { hasText: "Sent 3 changes made while offline." }).waitFor();
    await row("Water the plants").waitFor();
    await page.locator("#offline-note").waitFor({ state: "hidden" });
    assert.equal((await serverTask("Buy stamps")).completed, true);
    const added = await serverTask("Water the plants");
    assert.deepEqual(added.tags, ["home"]);
    assert.ok(added.due_at, "the quick-add line was read by the server when sent");
    assert.equal(await row("Buy stamps").count(), 0, "done, so out of the Active view");
    const edited = await serverTask("Call the bank about the card");
    assert.equal(edited.priority, "high");
    assert.deepEqual(edited.tags, ["money"]);
    assert.equal(await serverTask("Call the bank"), undefined);
  });

  test("a queued change the server refuses is dropped with a clear note", async () => {
    proxy.cut();
    await row("Return the library books").getByRole("button", { name: /^Edit/ }).click();
    await page.getByRole("dialog").getByLabel("Description").fill("Two of them are overdue");
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await page.locator(".toast", { hasText: "Your changes to “Return the library books” will be saved" }).waitFor();
    await row("Call the bank about the card").getByRole("checkbox").check();
    await page.locator(".toast", { hasText: "“Call the bank about the card” will be marked done" }).waitFor();
    // Meanwhile, somewhere else, both tasks are deleted.
    for (const title of ["Return the library books", "Call the bank about the card"]) {
      const task = await serverTask(title);
      const deleted = await page.request.delete(`${server.baseURL}/api/tasks/${task.id}`, { headers: { Origin: server.baseURL } });
      assert.equal(deleted.status(), 200);
    }
    proxy.restore();
    const notes = page.locator(".offline-refused");
    await notes.nth(1).waitFor({ timeout: 30000 });
    const texts = await notes.allInnerTexts();
    assert.match(texts.join("\n"), /Saving your changes to “Return the library books” was not done: the task no longer exists/);
    assert.match(texts.join("\n"), /Marking “Call the bank about the card” done was not done: the task no longer exists/);
    // In the order they were made.
    assert.ok(texts.findIndex((t) => /library/.test(t)) < texts.findIndex((t) => /bank/.test(t)), texts.join(" | "));
    await row("Call the bank about the card").waitFor({ state: "detached" });
    await screenshot(page, "offline-refused-light");
  });

  test("signing out forgets the cached list and the queue", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    const left = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("todokit.offline") || key === "todokit.lastUser"));
    assert.deepEqual(left, []);
  });

  test("no script errors", () => {
    assert.deepEqual(
      errors.filter((e) => !/net::ERR_|ERR_CONNECTION_REFUSED/.test(e)),
      [],
    );
  });
});
