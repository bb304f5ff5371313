// Starts the real todokit binary and Debian's Chromium for the browser tests.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";
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

/**
 * The real server on a free port with an empty data directory; `env` adds
 * settings. `port` and `dataDir` start it again where an earlier one ran
 * (after `halt()`), as a restart of the same server.
 */
export async function startServer({ env = {}, port = null, dataDir = null } = {}) {
  const bin = process.env.TODOKIT_BIN ? resolve(process.env.TODOKIT_BIN) : join(repoRoot, "target/debug/todokit");
  if (!existsSync(bin)) throw new Error(`todokit binary not found at ${bin}; build it or set TODOKIT_BIN`);
  dataDir ??= mkdtempSync(join(tmpdir(), "todokit-browser-"));
  port ??= await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], {
    // No drain on SIGTERM: a test server has no load balancer to wait for.
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn", TODOKIT_DRAIN_SECS: "0", ...env },
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
  async function halt() {
    if (!exited) {
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await done;
    }
  }
  return {
    baseURL,
    port,
    dataDir,
    /** Stops the process and keeps its data (start again with {port, dataDir}). */
    halt,
    async stop() {
      await halt();
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

/** Seeds tasks through the API with the page's cookies; returns them as created. */
export async function createTasks(page, baseURL, bodies) {
  const created = [];
  for (const data of bodies) {
    const response = await page.request.post("/api/tasks", { data, headers: { Origin: baseURL } });
    if (response.status() !== 201) throw new Error(`could not create ${data.title}: ${response.status()} ${await response.text()}`);
    created.push(await response.json());
  }
  return created;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false, animations: "disabled" });
}

/**
 * The scripted fake LLM (crates/fake-llm), the only stand-in the tests use.
 * Returns {baseURL (for TODOKIT_LLM_BASE_URL), setScript(script), stop}.
 */
export async function startFakeLlm(script) {
  const bin = process.env.FAKE_LLM_BIN
    ? resolve(process.env.FAKE_LLM_BIN)
    : join(dirname(process.env.TODOKIT_BIN ? resolve(process.env.TODOKIT_BIN) : join(repoRoot, "target/debug/todokit")), "todokit-fake-llm");
  if (!existsSync(bin)) throw new Error(`todokit-fake-llm not found at ${bin}; build it (cargo build -p todokit-fake-llm) or set FAKE_LLM_BIN`);
  const child = spawn(bin, ["--addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((r) => child.once("exit", r));
  const lines = createInterface({ input: child.stdout });
  const addr = await new Promise((resolveAddr, reject) => {
    lines.once("line", (line) => resolveAddr(line.trim()));
    child.once("exit", (code) => reject(new Error(`todokit-fake-llm exited with ${code}`)));
  });
  const control = `http://${addr}/_fake`;
  const fake = {
    baseURL: `http://${addr}/v1`,
    async setScript(next) {
      const response = await fetch(`${control}/script`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(next),
      });
      if (!response.ok) throw new Error(`fake LLM refused the script: ${response.status} ${await response.text()}`);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
  if (script) await fake.setScript(script);
  return fake;
}

/**
 * A TCP proxy in front of the server, to cut the browser's connections for
 * real: `cut()` drops every open connection and refuses new ones until
 * `restore()`.
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    baseURL: `http://127.0.0.1:${server.address().port}`,
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      refusing = false;
    },
    async stop() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Signs in through the UI (a second browser signed in as the same person). */
export async function signInThroughUi(page, email) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/tasks");
  await page.getByRole("heading", { name: "My tasks" }).waitFor();
}
