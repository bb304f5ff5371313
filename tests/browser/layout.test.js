// Layout and accessibility in a real Chromium: at every width from 320 to
// 1920 px no interactive control is covered (the centre of each one is hit-
// tested, with the assistant open and closed), nothing scrolls sideways,
// touch targets are 44 px on small screens, axe-core finds no serious or
// critical violation in light and dark, and keyboard focus lands somewhere
// sensible after every list action and dialog.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { createTasks, launchBrowser, screenshot, signUpThroughUi, startServer, watchErrors } from "./harness.js";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const WIDTHS = [
  [320, 640],
  [390, 844],
  [768, 1024],
  [1024, 768],
  [1280, 800],
  [1920, 1080],
];

let server;
let browser;
let page;
let errors;

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

/**
 * `days` from today at `hour`, in the page's time zone (the browser's, not this
 * process's: between midnight UTC and midnight in New York they name different days).
 */
function daysFromNow(days, hour = 10) {
  return page.evaluate(
    ([days, hour]) => {
      const d = new Date();
      d.setDate(d.getDate() + days);
      d.setHours(hour, 0, 0, 0);
      return d.toISOString();
    },
    [days, hour],
  );
}

/** Opens a view by its tab and waits until the list shows that view's answer. */
async function showView(view) {
  await page.locator(`#view-${view}`).click();
  await page.locator(`#view-${view}[aria-current="page"]`).waitFor();
  await page.locator('ul.task-list[aria-label="Tasks"]:not([aria-busy])').waitFor();
}

/**
 * Every visible, non-inert interactive control whose centre is not itself
 * (or inside it) when hit-tested, after scrolling it to the middle of its
 * scroll containers. Returns descriptions of the covered ones.
 */
function coveredControls() {
  return page.evaluate(() => {
    const selector = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1']), [role=button]";
    const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}[${(el.getAttribute("aria-label") || el.textContent || el.placeholder || "").trim().slice(0, 40)}]`;
    const covered = [];
    for (const el of document.querySelectorAll(selector)) {
      if (el.closest("[inert]") || el.disabled) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.pointerEvents === "none") continue;
      let rect = el.getBoundingClientRect();
      if (rect.width <= 1 || rect.height <= 1) continue; // not rendered, or visually hidden for screen readers
      if (el.classList.contains("skip-link")) continue; // shown on focus only
      el.scrollIntoView({ block: "center", inline: "center" });
      rect = el.getBoundingClientRect();
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      const hit = document.elementFromPoint(x, y);
      const ok = hit && (hit === el || el.contains(hit) || (hit.tagName === "LABEL" && hit.control === el));
      if (!ok) covered.push(`${describe(el)} under ${hit ? describe(hit) : "nothing (off screen)"}`);
    }
    window.scrollTo(0, 0);
    return covered;
  });
}

/** Controls smaller than 44 × 44 px (WCAG 2.5.5), links inside running text aside. */
function smallTargets() {
  return page.evaluate(() => {
    const small = [];
    for (const el of document.querySelectorAll("a[href], button, input, select, textarea, [role=button]")) {
      if (el.closest("[inert], [hidden]") || el.classList.contains("skip-link")) continue;
      const rect = el.getBoundingClientRect();
      if (rect.width <= 1 || rect.height <= 1) continue;
      if (el.tagName === "A" && el.closest("p")) continue;
      if (rect.width < 44 || rect.height < 44) small.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}[${(el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 30)}] ${Math.round(rect.width)}×${Math.round(rect.height)}`);
    }
    return small;
  });
}

async function horizontalOverflow() {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function axeViolations(context = "body") {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(axeSource);
  const results = await page.evaluate(
    (selector) => window.axe.run(document.querySelector(selector), { resultTypes: ["violations"], runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }),
    context,
  );
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 4).join(", ")}`);
}

async function setTheme(theme) {
  await page.evaluate((value) => localStorage.setItem("todokit.theme", value), theme);
  await page.reload();
  await page.locator(".task-list").waitFor();
}

async function openChat() {
  if (await page.locator("#chat-panel").isVisible()) return;
  await page.locator("#chat-open").click();
  await page.locator("#chat-panel:not([hidden])").waitFor();
}

async function closeChat() {
  if (await page.locator("#chat-panel").isHidden()) return;
  await page.getByRole("button", { name: "Close assistant" }).click();
  await page.locator("#chat-panel").waitFor({ state: "hidden" });
}

describe("layout", () => {
  test("setup: an account with a realistic list", async () => {
    await page.goto("/");
    assert.deepEqual(await axeViolations(), [], "landing page");
    await page.goto("/sign-in");
    await page.getByLabel("Email").waitFor();
    assert.deepEqual(await axeViolations(), [], "sign-in page");
    await signUpThroughUi(page);
    await createTasks(page, server.baseURL, [
      { title: "Renew the passport before the trip", priority: "high", due_at: await daysFromNow(-1), tags: ["admin"] },
      { title: "Pay rent", due_at: await daysFromNow(0, 23), tags: ["home", "money"] },
      { title: "Call the plumber about the kitchen sink that keeps dripping at night", description: "Ask about the price first.", due_at: await daysFromNow(1), reminder_offset_minutes: 30 },
      { title: "Water the plants", priority: "low", due_at: await daysFromNow(3), recurrence: { frequency: "weekly", interval: 2, count: 10 }, tags: ["home", "garden"] },
      { title: "Read a book", tags: ["fun"] },
      { title: "Sort the photos", tags: ["someday", "photos", "family", "archive"] },
    ]);
    await page.reload();
    await row("Sort the photos").waitFor();
  });

  for (const [width, height] of WIDTHS) {
    test(`${width} px: nothing covered, no sideways scroll, chat open and closed`, async () => {
      await page.setViewportSize({ width, height });
      await page.goto("/tasks");
      await row("Sort the photos").waitFor();
      assert.equal(await horizontalOverflow(), 0, "no horizontal scroll");
      assert.deepEqual(await coveredControls(), [], "chat closed");
      if (width <= 640) {
        assert.deepEqual(await smallTargets(), [], "touch targets");
        await page.locator("#filter-toggle").click();
        await page.locator("#filter-priority").waitFor();
        assert.deepEqual(await coveredControls(), [], "filter sheet open");
        assert.deepEqual(await smallTargets(), [], "touch targets in the filter sheet");
        await page.locator("#filter-toggle").click();
        await page.locator("#filter-priority").waitFor({ state: "hidden" });
      }
      await screenshot(page, `width-${width}-light`);

      await openChat();
      const overlay = width < 1024;
      assert.equal(await page.evaluate(() => document.body.classList.contains("chat-overlay")), overlay);
      if (overlay) {
        // The list behind the overlay is inert, so none of it can be reached or covered.
        assert.equal(await page.locator("#main").evaluate((el) => el.inert), true);
        assert.equal(await page.locator(".chat-backdrop").isVisible(), true);
      } else {
        // Docked: the list stays usable beside the panel.
        assert.equal(await page.locator("#main").evaluate((el) => el.inert), false);
        await row("Pay rent").getByRole("button", { name: /^Edit/ }).waitFor();
      }
      assert.equal(await horizontalOverflow(), 0, "no horizontal scroll with the chat open");
      assert.deepEqual(await coveredControls(), [], "chat open");
      // A toast never lands on the composer.
      await page.evaluate(() => import("/assets/js/toast.js").then(({ toast }) => toast("A toast while the assistant is open", { timeout: 0 })));
      const toastBox = await page.locator(".toast", { hasText: "A toast while" }).boundingBox();
      const composerBox = await page.locator(".chat-composer").boundingBox();
      assert.ok(toastBox.y + toastBox.height <= composerBox.y || toastBox.x + toastBox.width <= composerBox.x, `toast ${JSON.stringify(toastBox)} over the composer ${JSON.stringify(composerBox)}`);
      await page.locator(".toast", { hasText: "A toast while" }).getByRole("button", { name: "Dismiss" }).click();
      await screenshot(page, `width-${width}-chat-light`);
      await closeChat();
    });
  }

  test("axe: dashboard (chat open and closed), edit dialog and settings, light and dark", async () => {
    for (const theme of ["light", "dark"]) {
      for (const [width, height] of [
        [1280, 800],
        [390, 844],
      ]) {
        await page.setViewportSize({ width, height });
        await setTheme(theme);
        await row("Pay rent").waitFor();
        assert.deepEqual(await axeViolations(), [], `${theme} ${width} dashboard`);
        await page.evaluate(() => import("/assets/js/toast.js").then(({ toast }) => toast("Deleted “Pay rent”", { action: { label: "Undo", run() {} }, timeout: 0 })));
        assert.deepEqual(await axeViolations(), [], `${theme} ${width} a toast with an action`);
        await page.locator(".toast").getByRole("button", { name: "Dismiss" }).click();
        await openChat();
        assert.deepEqual(await axeViolations(), [], `${theme} ${width} dashboard with the chat open`);
        await closeChat();
        await row("Water the plants").getByRole("button", { name: /^Edit/ }).click();
        await page.getByRole("dialog").waitFor();
        assert.deepEqual(await axeViolations(), [], `${theme} ${width} edit dialog`);
        await screenshot(page, `edit-dialog-${width}-${theme}`);
        await page.keyboard.press("Escape");
        await page.getByRole("dialog").waitFor({ state: "detached" });
        await page.goto("/settings");
        await page.getByRole("heading", { name: "Settings" }).waitFor();
        assert.deepEqual(await axeViolations(), [], `${theme} ${width} settings`);
        await page.goto("/tasks");
      }
    }
    await setTheme("light");
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

describe("console", () => {
  test("a signed-out visit logs nothing red, not even a 401 from the session probe", async () => {
    const fresh = await launchBrowser({ baseURL: server.baseURL });
    try {
      const visitor = fresh.context.pages()[0] || (await fresh.context.newPage());
      const logged = [];
      visitor.on("console", (msg) => msg.type() === "error" && logged.push(msg.text()));
      visitor.on("pageerror", (err) => logged.push(err.message));
      await visitor.goto("/");
      await visitor.getByRole("link", { name: "Create an account" }).waitFor();
      await visitor.goto("/sign-in");
      await visitor.getByLabel("Email").waitFor();
      await visitor.goto("/sign-up");
      await visitor.getByLabel("Password").waitFor();
      await visitor.waitForLoadState("networkidle");
      assert.deepEqual(logged, []);
    } finally {
      await fresh.close();
    }
  });
});

describe("focus", () => {
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement;
      return { control: el?.dataset?.control || el?.id || el?.tagName, task: el?.closest("li.task")?.querySelector(".task-title")?.textContent || null };
    });

  test("completing with the keyboard moves focus to the next task's checkbox", async () => {
    await page.goto("/tasks");
    await row("Pay rent").waitFor();
    const titles = await page.locator("li.task .task-title").allInnerTexts();
    const index = titles.indexOf("Pay rent");
    await row("Pay rent").getByRole("checkbox").focus();
    await page.keyboard.press("Space");
    await row("Pay rent").waitFor({ state: "detached" });
    await page.waitForFunction((next) => document.activeElement?.closest("li.task")?.querySelector(".task-title")?.textContent === next, titles[index + 1]);
    assert.deepEqual(await focused(), { control: "check", task: titles[index + 1] });
  });

  test("deleting moves focus to the next task; undo brings the task back and focuses it", async () => {
    const titles = await page.locator("li.task .task-title").allInnerTexts();
    const target = titles[0];
    const number = await row(target).getAttribute("data-number");
    await row(target).getByRole("button", { name: /^Delete/ }).focus();
    await page.keyboard.press("Enter");
    await row(target).waitFor({ state: "detached" });
    assert.deepEqual(await focused(), { control: "delete", task: titles[1] });
    await page.locator(".toast", { hasText: `Deleted “${target}”` }).getByRole("button", { name: "Undo" }).click();
    await row(target).waitFor();
    assert.equal(await row(target).getAttribute("data-number"), number, "the same number comes back");
    await page.waitForFunction((t) => document.activeElement?.closest("li.task")?.querySelector(".task-title")?.textContent === t, target);
  });

  test("the edit dialog returns focus to its opener, after Cancel and after Save", async () => {
    const edit = row("Read a book").getByRole("button", { name: /^Edit/ });
    await edit.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Title").waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(await focused(), { control: "edit", task: "Read a book" });

    await page.keyboard.press("Enter");
    await dialog.getByLabel("Title").fill("Read a good book");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await row("Read a good book").waitFor();
    await page.waitForFunction(() => document.activeElement?.closest("li.task")?.querySelector(".task-title")?.textContent === "Read a good book");
    assert.deepEqual(await focused(), { control: "edit", task: "Read a good book" });
  });

  test("? lists the shortcuts; Esc closes and focus returns", async () => {
    await page.locator("#new-task").focus();
    await page.keyboard.press("?");
    const dialog = page.locator("#shortcuts-dialog");
    await dialog.waitFor();
    const text = await dialog.innerText();
    for (const key of ["n", "/", "c", "?"]) assert.ok(text.split("\n").includes(key), `lists ${key}`);
    await screenshot(page, "shortcuts-light");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement.id), "new-task");
    await page.keyboard.press("n");
    assert.equal(await page.evaluate(() => document.activeElement.id), "quick-add");
  });

  test("narrow screens: the chat overlay keeps focus inside, Esc closes it and focus returns", async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    await closeChat();
    await page.locator("#chat-open").focus();
    await page.keyboard.press("Enter");
    await page.locator("#chat-panel:not([hidden])").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "chat-input");
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      const inside = await page.evaluate(() => document.activeElement === document.body || Boolean(document.activeElement.closest("#chat-panel")) || document.activeElement.closest("#toasts") !== null);
      assert.ok(inside, "focus stays in the assistant");
    }
    await page.keyboard.press("Escape");
    await page.locator("#chat-panel").waitFor({ state: "hidden" });
    assert.equal(await page.evaluate(() => document.activeElement.id), "chat-open");
    assert.equal(await page.locator("#main").evaluate((el) => el.inert), false);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test("every view's tab counts what the view lists", async () => {
    await page.goto("/tasks");
    const counts = {};
    for (const view of ["today", "upcoming", "overdue", "done", "all", "active"]) {
      await showView(view);
      const shown = await page.locator("li.task").count();
      const count = await page.locator(`.view-count[data-count="${view}"]`).innerText();
      assert.equal(count, String(shown), `${view}: the tab says ${count}, the view lists ${shown}`);
      counts[view] = shown;
    }
    assert.ok(counts.today > 0 && counts.upcoming > 0 && counts.overdue > 0, JSON.stringify(counts));
    assert.ok(counts.today >= counts.overdue, "overdue tasks are today's work too");
  });

  test("views: Today, Upcoming grouped by day, Overdue, Done, all in the URL", async () => {
    await page.goto("/tasks?view=today");
    await row("Renew the passport").waitFor(); // overdue counts as today's work
    assert.equal(await row("Water the plants").count(), 0);
    await showView("upcoming");
    await page.waitForURL(/view=upcoming/);
    await row("Water the plants").waitFor();
    assert.ok((await page.locator(".day-heading").count()) >= 2, "grouped by day");
    assert.equal(await row("Read a good book").count(), 0, "no due date, not upcoming");
    await showView("overdue");
    await page.waitForURL(/view=overdue/);
    await row("Renew the passport").waitFor();
    assert.equal(await page.locator("li.task").count(), 1);
    await showView("done");
    await row("Pay rent").waitFor();
    await page.reload();
    await row("Pay rent").waitFor();
    assert.equal(await page.locator("#view-done").getAttribute("aria-current"), "page");
    // A calm list: the default priority carries no badge.
    await page.goto("/tasks?view=all");
    await row("Read a good book").waitFor();
    assert.equal(await row("Read a good book").locator(".priority-badge").count(), 0);
    assert.match(await row("Renew the passport").locator(".priority-badge").innerText(), /High/);
    assert.match(await row("Water the plants").locator(".recurrence-badge").innerText(), /Every 2 weeks · ends after 10 times/);
  });

  test("no script errors or console errors", () => {
    assert.deepEqual(errors, []);
  });
});
