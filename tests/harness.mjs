// Shared by the browser tests: launching Debian's Chromium through playwright-core with no
// request allowed outside the page's origin, recording the playground's events, and waiting
// for plans.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const BASE = process.env.VALUESCAPE_URL ?? "http://127.0.0.1:8080/";
export const EXE = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const OUT = process.env.VALUESCAPE_TEST_OUT ?? join(tmpdir(), "valuescape-browser-tests");
// Software rendering and wasm planning are slow; generous but bounded.
export const EVENT_TIMEOUT = Number(process.env.VALUESCAPE_EVENT_TIMEOUT_MS ?? 180_000);

const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--headless",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--ignore-gpu-blocklist",
];

// WebGPU on SwiftShader, rendering to a canvas too (headless Chromium needs all of these).
const WEBGPU_ARGS = [
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
];

// Records the playground's events with their time (performance.now(): ms since navigation).
const RECORDER = () => {
  window.__vs = { events: [] };
  for (const name of ["ready", "plan", "error", "notice", "state"]) {
    window.addEventListener(`valuescape:${name}`, (e) => {
      window.__vs.events.push({ name, t: performance.now(), detail: e.detail });
    });
  }
};

/**
 * Launches Chromium (with WebGPU when `webgpu`); returns `{ context, consoleErrors, pageErrors,
 * newPage, close }`. Console errors and uncaught page errors are collected per kind.
 */
export async function launch({ webgpu = false } = {}) {
  const userDir = mkdtempSync(join(tmpdir(), "valuescape-chromium-"));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: EXE,
    headless: true,
    args: webgpu ? [...COMMON_ARGS, ...WEBGPU_ARGS] : COMMON_ARGS,
  });
  const consoleErrors = [];
  const pageErrors = [];
  const origin = new URL(BASE).origin;
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.origin !== origin && u.protocol !== "data:") {
      consoleErrors.push(`request outside the origin: ${u.href}`);
      return route.abort();
    }
    return route.continue();
  });
  const newPage = async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1100, height: 700 });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => pageErrors.push(`${page.url()}: page error: ${e.message}`));
    await page.addInitScript(RECORDER);
    return page;
  };
  const close = async () => {
    await context.close();
    rmSync(userDir, { recursive: true, force: true });
  };
  return { context, consoleErrors, pageErrors, newPage, close };
}

/** Waits for the n-th (0-based) event among `names` and returns it. */
export async function waitEvent(page, names, n = 0) {
  await page.waitForFunction(
    ([names, n]) => window.__vs && window.__vs.events.filter((e) => names.includes(e.name)).length > n,
    [names, n],
    { timeout: EVENT_TIMEOUT, polling: 100 },
  );
  return page.evaluate(
    ([names, n]) => window.__vs.events.filter((e) => names.includes(e.name))[n],
    [names, n],
  );
}

export const count = (page, names) =>
  page.evaluate((names) => window.__vs.events.filter((e) => names.includes(e.name)).length, names);

/** Applies a state and waits for the plan (or error) it causes. */
export async function planWith(page, state) {
  const n = await count(page, ["plan", "error"]);
  await page.evaluate((s) => window.valuescape.setState(s), state);
  return waitEvent(page, ["plan", "error"], n);
}

/**
 * Grabs an object with the real mouse (a few pixels below its top centre `at`, from
 * `layout().objects`: on its face, not its edge) and drags it 80 by 32 CSS pixels in eight
 * moves 120 ms apart, leaving the button down; resolves to the number of plan and error
 * events before the drag began.
 */
export async function startDrag(page, at) {
  const n = await count(page, ["plan", "error"]);
  const [x, y] = [at[0], at[1] + 4];
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.waitForTimeout(400);
  for (let i = 1; i <= 8; i++) {
    await page.mouse.move(x + 10 * i, y + 4 * i);
    await page.waitForTimeout(120);
  }
  return n;
}

export function describePlanEvent(ev) {
  return ev.name === "error" ? `error: ${ev.detail?.text ?? JSON.stringify(ev.detail)}` : "plan";
}

/** The URL hash of a state (the viewer's `#v1.` + base64url of its JSON). */
export function hashOf(state) {
  return "#v1." + Buffer.from(JSON.stringify(state)).toString("base64url");
}
