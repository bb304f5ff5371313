// Starts the real todokit binary and Debian's Chromium for the browser tests.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../..");
export const artifacts = join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The real server on a free port with an empty data directory. */
export async function startServer() {
  const bin = process.env.TODOKIT_BIN ? resolve(process.env.TODOKIT_BIN) : join(repoRoot, "target/debug/todokit");
  if (!existsSync(bin)) throw new Error(`todokit binary not found at ${bin}; build it or set TODOKIT_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), "todokit-browser-"));
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  // Ready when /healthz answers (the process may need a moment to migrate).
  for (let attempt = 0; ; attempt++) {
    if (exited) throw new Error(`todokit exited before it was ready: ${JSON.stringify(exited)}`);
    try {
      const response = await fetch(`${baseURL}/healthz`);
      if (response.ok) break;
    } catch {
      /* not listening yet */
    }
    if (attempt > 600) throw new Error("todokit did not become ready");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    baseURL,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await done;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Chromium with a fresh profile. `timezoneId` makes due-time checks exact.
 * Returns {context, close}.
 */
export async function launchBrowser({ baseURL, timezoneId = "America/New_York", colorScheme = "light" } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), "todokit-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    baseURL,
    timezoneId,
    locale: "en-US",
    colorScheme,
    viewport: { width: 1280, height: 860 },
  });
  context.setDefaultTimeout(15000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

let userCounter = 0;
export function newEmail() {
  userCounter++;
  return `user${Date.now().toString(36)}${userCounter}@example.com`;
}

export const PASSWORD = "correct horse battery";

/** Signs up through the UI and waits for the dashboard. */
export async function signUpThroughUi(page, email = newEmail()) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/tasks");
  await page.getByRole("heading", { name: "My tasks" }).waitFor();
  return email;
}

/** Collects page errors and console errors (CSP violations show up there). */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}
