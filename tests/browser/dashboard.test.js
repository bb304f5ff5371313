// The dashboard in a real browser against the real server: accounts, quick
// add, the edit dialog, complete, delete with undo, filters in the URL, XSS
// probes, session persistence and expiry, themes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PASSWORD, launchBrowser, screenshot, signUpThroughUi, startServer, watchErrors } from "./harness.js";

let server;
let browser;
let page;
let errors;
let email;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ baseURL: server.baseURL });
  page = browser.context.pages()[0] || (await browser.context.newPage());
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const row = (title) => page.locator("li.task", { has: page.locator(".task-title", { hasText: title }) });

/** The task as the API has it (same cookies as the page). */
async function apiTask(title) {
  const response = await page.request.get(`/api/tasks?q=${encodeURIComponent(title)}`);
  assert.equal(response.status(), 200);
  const { tasks } = await response.json();
  return tasks.find((t) => t.title === title);
}

/** Local (page time zone) calendar parts of an instant. */
async function localParts(iso) {
  return page.evaluate((value) => {
    const d = new Date(value);
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    return {
      hours: d.getHours(),
      minutes: d.getMinutes(),
      isTomorrow: d.toDateString() === tomorrow.toDateString(),
      zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
  }, iso);
}

describe("dashboard", () => {
  test("the landing page invites to sign up and the page has a strict CSP", async () => {
    const response = await page.goto("/");
    const csp = response.headers()["content-security-policy"];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.getByRole("link", { name: "Create an account" }).waitFor();
    await screenshot(page, "landing-light");
    const unknownApi = await page.request.get("/api/definitely-not-here");
    assert.equal(unknownApi.status(), 404);
    assert.equal((await unknownApi.json()).error.code, "not_found");
    const clientRoute = await page.request.get("/some/client/route");
    assert.equal(clientRoute.status(), 200);
    assert.match(clientRoute.headers()["content-type"], /text\/html/);
  });

  test("sign up lands on an empty dashboard", async () => {
    email = await signUpThroughUi(page);
    await page.locator("#user-email", { hasText: email }).waitFor();
    await page.getByText("No tasks yet.").waitFor();
    await screenshot(page, "dashboard-empty-light");
  });

  test("quick add shows the parsed date, priority and tags before saving", async () => {
    const box = page.getByLabel("Quick add a task");
    await box.fill("Pay rent tomorrow at 9am #home !high");
    await page.locator(".quick-preview [data-chip=due]").waitFor();
    const chips = await page.locator(".quick-preview").textContent();
    assert.match(chips, /Title: Pay rent/);
    assert.match(chips, /Priority: high/);
    assert.match(chips, /#home/);
    assert.match(chips, /Due: Tomorrow 9:00/);
    await screenshot(page, "quick-add-chips-light");
    await box.press("Enter");
    await row("Pay rent").waitFor();
    assert.match(await row("Pay rent").locator(".priority-badge").innerText(), /high/i);
    assert.match(await row("Pay rent").locator(".tag-badge").innerText(), /#home/);
    assert.match(await row("Pay rent").locator(".due-badge").innerText(), /Tomorrow 9:00/);
    assert.equal(await box.inputValue(), "");
    const task = await apiTask("Pay rent");
    const local = await localParts(task.due_at);
    assert.equal(local.zone, "America/New_York");
    assert.deepEqual([local.hours, local.minutes, local.isTomorrow], [9, 0, true]);
    assert.equal(task.priority, "high");
    assert.deepEqual(task.tags, ["home"]);
  });

  test("the dialog creates a task with every field", async () => {
    await page.getByRole("button", { name: "New task" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Water the plants");
    await dialog.getByLabel("Description").fill("Balcony first, then the kitchen.");
    await dialog.getByLabel("Priority", { exact: true }).selectOption("low");
    await dialog.getByLabel("Tags").fill("home, garden");
    await dialog.getByLabel("Due").fill("2031-05-04T18:30");
    await dialog.getByLabel("Remind me", { exact: true }).check();
    await dialog.getByLabel("Repeat", { exact: true }).selectOption("weekly");
    await screenshot(page, "task-dialog-light");
    await dialog.getByRole("button", { name: "Create task" }).click();
    await dialog.waitFor({ state: "detached" });
    const created = row("Water the plants");
    await created.waitFor();
    assert.match(await created.locator(".recurrence-badge").innerText(), /Every week/);
    assert.equal(await created.locator(".reminder-badge").count(), 1);
    const task = await apiTask("Water the plants");
    assert.equal(task.description, "Balcony first, then the kitchen.");
    assert.equal(task.priority, "low");
    assert.deepEqual(task.tags, ["home", "garden"]);
    assert.equal(task.reminder_offset_minutes, 15);
    assert.equal(task.recurrence.frequency, "weekly");
    const local = await localParts(task.due_at);
    assert.deepEqual([local.hours, local.minutes], [18, 30]);
    assert.equal(task.due_at, "2031-05-04T22:30:00Z"); // 18:30 in New York (EDT)
  });

  test("editing changes title and priority", async () => {
    await row("Water the plants").getByRole("button", { name: /^Edit/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Water all the plants");
    await dialog.getByLabel("Priority", { exact: true }).selectOption("high");
    await dialog.getByLabel("Repeat", { exact: true }).selectOption("");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await row("Water all the plants").waitFor();
    assert.match(await row("Water all the plants").locator(".priority-badge").innerText(), /high/i);
    assert.equal(await row("Water all the plants").locator(".recurrence-badge").count(), 0);
    const task = await apiTask("Water all the plants");
    assert.equal(task.priority, "high");
    assert.equal(task.recurrence, null);
  });

  test("the repeat editor speaks in words, weekdays included", async () => {
    await page.getByRole("button", { name: "New task" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("Gym");
    await dialog.getByLabel("Due").fill("2031-05-05T07:00");
    await dialog.getByLabel("Repeat", { exact: true }).selectOption("weekly");
    await dialog.getByLabel("Every").fill("2");
    await dialog.getByText("weeks", { exact: true }).waitFor();
    await dialog.getByLabel("Mon", { exact: true }).check();
    await dialog.getByLabel("Thu", { exact: true }).check();
    await dialog.getByLabel("Ends").selectOption("count");
    await dialog.getByLabel("Number of times").fill("10");
    await dialog.locator(".recurrence-summary", { hasText: "Every 2 weeks on Mon, Thu · ends after 10 times" }).waitFor();
    await screenshot(page, "task-dialog-weekdays-light");
    await dialog.getByRole("button", { name: "Create task" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.match(await row("Gym").locator(".recurrence-badge").innerText(), /Every 2 weeks on Mon, Thu · ends after 10 times/);
    const task = await apiTask("Gym");
    assert.deepEqual(task.recurrence, { frequency: "weekly", interval: 2, weekdays: ["mon", "thu"], count: 10 });
    await page.request.delete(`/api/tasks/${task.id}`, { headers: { Origin: server.baseURL } });
    await row("Gym").waitFor({ state: "detached" });
  });

  test("a validation error is shown in the dialog and nothing is saved", async () => {
    await page.getByRole("button", { name: "New task" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").fill("x".repeat(255));
    await dialog.getByLabel("Due").fill("1990-01-01T10:00");
    await dialog.getByRole("button", { name: "Create task" }).click();
    await dialog.locator(".form-error").waitFor();
    assert.match(await dialog.locator(".form-error").innerText(), /due date/i);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await (await page.request.get("/api/tasks")).json()).total, 2);
  });

  test("completing moves the task to Done, with an undo", async () => {
    await row("Pay rent").getByRole("checkbox").check();
    await row("Pay rent").waitFor({ state: "detached" }); // the default view shows active tasks
    await page.locator('.view-count[data-count="done"]', { hasText: "1" }).waitFor();
    assert.equal((await apiTask("Pay rent")).completed, true);
    await page.locator("#view-done").click();
    await page.waitForURL(/view=done/);
    await page.locator("li.task.completed", { hasText: "Pay rent" }).waitFor();
    await row("Water all the plants").waitFor({ state: "detached" });
    await page.goBack();
    await row("Water all the plants").waitFor();
  });

  test("filters live in the URL and survive a reload", async () => {
    await page.locator("#view-all").click();
    await page.waitForURL(/view=all/);
    await row("Pay rent").waitFor();
    await page.locator("#view-active").click();
    await page.waitForURL((url) => !url.search);
    await row("Pay rent").waitFor({ state: "detached" });
    await row("Water all the plants").waitFor();
    await page.getByLabel("Search tasks").fill("plants");
    await page.waitForURL(/q=plants/);
    await page.getByLabel("Priority", { exact: true }).selectOption("high");
    await page.waitForURL(/priority=high/);
    await page.getByLabel("Filter by tag").selectOption("garden");
    await page.waitForURL(/tags=garden/);
    await page.reload();
    await row("Water all the plants").waitFor();
    assert.equal(await page.locator("#view-active").getAttribute("aria-current"), "page");
    assert.equal(await page.getByLabel("Search tasks").inputValue(), "plants");
    assert.equal(await page.getByLabel("Priority", { exact: true }).inputValue(), "high");
    assert.equal(await page.locator(".active-filters .chip").count(), 3);
    assert.match(await page.locator("#showing").innerText(), /Showing 1–1 of 1/);
    await page.getByLabel("Search tasks").fill("no such words");
    await page.getByText("No tasks match these filters.").waitFor();
    await screenshot(page, "dashboard-no-match-light");
    await page.locator("#filter-clear").click();
    await page.waitForURL((url) => !url.search);
    await row("Water all the plants").waitFor();
  });

  test("delete offers undo, which brings back the same task", async () => {
    const before = await apiTask("Water all the plants");
    await row("Water all the plants").getByRole("button", { name: /^Delete/ }).click();
    await row("Water all the plants").waitFor({ state: "detached" });
    const toast = page.locator(".toast", { hasText: "Deleted “Water all the plants”" });
    await toast.waitFor();
    assert.equal(await apiTask("Water all the plants"), undefined);
    await toast.getByRole("button", { name: "Undo" }).click();
    await row("Water all the plants").waitFor();
    assert.equal(await row("Water all the plants").getAttribute("data-number"), String(before.number));
    assert.match(await row("Water all the plants").locator(".task-number").innerText(), new RegExp(`#${before.number}$`));
    const restored = await apiTask("Water all the plants");
    assert.deepEqual(restored, before, "same id, number and fields");
    assert.equal(restored.priority, "high");
    assert.deepEqual(restored.tags, ["home", "garden"]);
    assert.equal(restored.due_at, "2031-05-04T22:30:00Z");
    assert.equal(restored.reminder_offset_minutes, 15);
  });

  test("XSS probes in titles and descriptions stay inert text", async () => {
    const probes = [
      { title: `<img src=x onerror="window.__xss='img'">`, description: `<script>window.__xss='script'</script>` },
      { title: `<script>window.__xss='title-script'</script>`, description: `[click me](javascript:window.__xss='link') javascript:alert(1)` },
      { title: `javascript:window.__xss='href'`, description: `<a href="javascript:window.__xss=1">x</a><svg onload="window.__xss='svg'">` },
    ];
    for (const probe of probes) {
      const response = await page.request.post("/api/tasks", { data: probe, headers: { Origin: server.baseURL } });
      assert.equal(response.status(), 201);
    }
    await page.reload();
    await row("<img src=x").waitFor();
    for (const probe of probes) {
      assert.equal(await row(probe.title).locator(".task-title").innerText(), probe.title);
    }
    assert.equal(await page.locator(".task-list img, .task-list script, .task-list svg[onload]").count(), 0);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    // Open the edit dialog of a probe: its fields hold the text as values.
    await row("<img src=x").getByRole("button", { name: /^Edit/ }).click();
    assert.equal(await page.getByRole("dialog").getByLabel("Title").inputValue(), probes[0].title);
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    // The Markdown renderer used for assistant output: no markup, no script links.
    const rendered = await page.evaluate(async () => {
      const { renderMarkdown } = await import("/assets/js/markdown.js");
      const host = document.createElement("div");
      host.append(
        renderMarkdown(
          "# Hi <img src=x onerror=\"window.__xss='md'\">\n\n" +
            "**bold** [safe](https://example.com) [bad](javascript:window.__xss='md-link') " +
            "[data](data:text/html,<script>alert(1)</script>) <script>window.__xss='md-script'</script>\n\n" +
            "- item `<b>code</b>`\n- [mail](mailto:a@example.com)",
        ),
      );
      document.body.append(host);
      const result = {
        links: [...host.querySelectorAll("a")].map((a) => a.getAttribute("href")),
        elements: [...host.querySelectorAll("*")].map((el) => el.tagName.toLowerCase()),
        text: host.textContent,
      };
      host.remove();
      return result;
    });
    assert.deepEqual(rendered.links, ["https://example.com", "mailto:a@example.com"]);
    for (const tag of ["img", "script", "iframe", "svg"]) assert.ok(!rendered.elements.includes(tag), `${tag} rendered`);
    assert.ok(rendered.elements.includes("strong") && rendered.elements.includes("li"));
    assert.match(rendered.text, /<img src=x onerror=/);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await screenshot(page, "dashboard-xss-probes-light");
    for (const probe of probes) {
      const task = await apiTask(probe.title);
      await page.request.delete(`/api/tasks/${task.id}`, { headers: { Origin: server.baseURL } });
    }
  });

  test("the Markdown renderer: emphasis with * and _, and underscores inside words stay literal", async () => {
    const render = (sources) =>
      page.evaluate(async (sources) => {
        const { renderMarkdown } = await import("/assets/js/markdown.js");
        return sources.map((source) => {
          const host = document.createElement("div");
          host.append(renderMarkdown(source));
          return host.innerHTML;
        });
      }, sources);
    const cases = {
      '_try "add milk tomorrow"_': '<p><em>try "add milk tomorrow"</em></p>',
      "*italic* and _italic_": "<p><em>italic</em> and <em>italic</em></p>",
      "_For a model set `GEMINI_API_KEY`._": "<p><em>For a model set <code>GEMINI_API_KEY</code>.</em></p>",
      "*star with `a*b` inside*": "<p><em>star with <code>a*b</code> inside</em></p>",
      "rename my_task_name to snake_case": "<p>rename my_task_name to snake_case</p>",
      "_an emphasised snake_case word_": "<p><em>an emphasised snake_case word</em></p>",
      "_foo_bar stays": "<p>_foo_bar stays</p>",
      "so does foo_bar_": "<p>so does foo_bar_</p>",
      "and café_x_ too": "<p>and café_x_ too</p>",
      "_opens here, closes after foo_bar_ only": "<p><em>opens here, closes after foo_bar</em> only</p>",
      "keep my__dunder__name and __init__": "<p>keep my__dunder__name and <strong>init</strong></p>",
      "_a `b_` c": "<p>_a <code>b_</code> c</p>",
      "2 * 3 * 4 and a _ b _ c": "<p>2 * 3 * 4 and a _ b _ c</p>",
      "**bold _and italic_**": "<p><strong>bold <em>and italic</em></strong></p>",
      "- _hint_ in a list": "<ul><li><em>hint</em> in a list</li></ul>",
    };
    const rendered = await render(Object.keys(cases));
    assert.deepEqual(Object.fromEntries(Object.keys(cases).map((source, i) => [source, rendered[i]])), cases);
  });

  test("dark theme", async () => {
    await page.reload();
    await row("Water all the plants").waitFor();
    await page.locator("#theme-toggle").click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await screenshot(page, "dashboard-dark");
    await page.getByRole("button", { name: "New task" }).click();
    await screenshot(page, "task-dialog-dark");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await page.locator("#theme-toggle").click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "light");
    await screenshot(page, "dashboard-light");
    await page.setViewportSize({ width: 390, height: 844 });
    await row("Water all the plants").waitFor();
    await screenshot(page, "dashboard-phone-light");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  test("the session survives a reload", async () => {
    await page.goto("/tasks?view=all");
    await page.reload();
    await page.locator("#user-email", { hasText: email }).waitFor();
    assert.ok(page.url().endsWith("/tasks?view=all"));
    await row("Water all the plants").waitFor();
  });

  test("an expired session asks to sign in and returns to the same view", async () => {
    const { logged, refused, stop } = watchNetwork(page);
    await browser.context.clearCookies();
    await page.getByLabel("Priority", { exact: true }).selectOption("high");
    await page.waitForURL(/\/sign-in\?next=/);
    await page.getByText("Your session has expired").waitFor();
    await page.waitForLoadState("networkidle");
    stop();
    // Nothing tells a tab beforehand that its session ended elsewhere: the first request is
    // the server's to refuse, and Chromium logs that refusal red. It is the only one: the app
    // signs out at once and asks nothing more.
    assert.equal(refused.length, 1, refused.join("\n"));
    assert.match(refused[0], /^401 /);
    assert.equal(logged.length, 1, logged.join("\n"));
    assert.match(logged[0], /status of 401/);
    await screenshot(page, "session-expired-light");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/tasks\?view=all&priority=high$/);
    await row("Water all the plants").waitFor();
  });

  test("sign out returns to the landing page and protects the dashboard", async () => {
    const { logged, refused, stop } = watchNetwork(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByRole("link", { name: "Create an account" }).waitFor();
    await page.waitForLoadState("networkidle");
    stop();
    assert.deepEqual(refused, [], "nothing asked after signing out");
    assert.deepEqual(logged, []);
    await page.goto("/tasks");
    await page.waitForURL(/\/sign-in\?next=%2Ftasks/);
    assert.equal((await page.request.get("/api/tasks")).status(), 401);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".form-error", { hasText: "Invalid email or password" }).waitFor();
    await screenshot(page, "sign-in-light");
  });

  test("a sign-in link whose next would leave the site lands on the tasks", async () => {
    // Browsers read "/\\host" as "//host": only a path on this origin is followed.
    await page.goto(`/sign-in?next=${encodeURIComponent("/\\evil.example/")}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/tasks");
    assert.equal(new URL(page.url()).origin, await page.evaluate(() => location.origin));
  });

  /** Refused requests and every red console line (failed resources included) until `stop()`. */
  function watchNetwork(p) {
    const logged = [];
    const refused = [];
    const onConsole = (msg) => msg.type() === "error" && logged.push(msg.text());
    const onResponse = (response) => response.status() >= 400 && refused.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    p.on("console", onConsole);
    p.on("response", onResponse);
    return { logged, refused, stop: () => (p.off("console", onConsole), p.off("response", onResponse)) };
  }

  test("no script errors or CSP violations happened", () => {
    assert.deepEqual(errors, []);
  });
});
