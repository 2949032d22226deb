// The two capability tiers in one headless Chromium that has WebGPU (SwiftShader): the loader
// picks the WebGPU bundle, whose maps and plans run as compute shaders on Bevy's own device;
// `?backend=webgl2` loads the WebGL2 bundle (CPU path) in the same browser. Both must produce
// the same plans, and a lost GPU device must fall back to the CPU without losing the state.
//
// SwiftShader runs WebGPU on the CPU, so the grids here are small and the timings say nothing
// about GPU speed (see `valuescape bench --backend gpu` on a real GPU).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE, OUT, describePlanEvent, hashOf, launch, planWith, waitEvent } from "./harness.mjs";

// Each GPU plan awaits a dozen buffer read-backs, each a trip through the browser's event loop:
// seconds apiece on SwiftShader. Small grids keep this file within minutes.
const GRID = 24;
// The first case is loaded from the URL; the others are applied with setState.
const CASES = [
  { scene: "rubbish_in_bin" },
  { scene: "open_drawer" },
  { scene: "blocks_and_mug" },
];

let browser;
const plans = { webgpu: [], webgl2: [] };
const measurements = {};

before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch({ webgpu: true });
  const page = await browser.newPage();
  await page.goto(BASE + "pkg/bundles.json");
  const has = await page.evaluate(async () => {
    const a = navigator.gpu && (await navigator.gpu.requestAdapter());
    return a ? (a.info?.description || a.info?.vendor || "adapter") : null;
  });
  await page.close();
  // Fail loudly rather than test WebGL2 twice.
  assert.ok(has, "this Chromium offers no WebGPU adapter with --enable-unsafe-webgpu (SwiftShader)");
  measurements.webgpu_adapter = has;
});

after(async () => {
  await browser?.close();
  writeFileSync(join(OUT, "tiers.json"), JSON.stringify(measurements, null, 2));
  console.log("tiers:", JSON.stringify(measurements, null, 2));
});

/** Opens the playground on the first case with `query` and plans every case. */
async function planAll(tier, query) {
  const page = await browser.newPage();
  const t0 = Date.now();
  await page.goto(BASE + query + hashOf({ ...CASES[0], grid: GRID }), { waitUntil: "load" });
  const first = await waitEvent(page, ["plan", "error"]);
  assert.equal(first.name, "plan", `${tier}: ${describePlanEvent(first)}`);
  const state = await page.evaluate(() => window.valuescape.state());
  assert.equal(state.tier, tier, `the ${tier} bundle was not loaded`);
  assert.equal(state.compute, tier === "webgpu" ? "gpu" : "cpu", JSON.stringify(await page.evaluate(() => window.valuescape.tier())));
  plans[tier].push(first.detail);
  for (const c of CASES.slice(1)) {
    const ev = await planWith(page, { ...c, grid: GRID, instruction: "" });
    assert.equal(ev.name, "plan", `${tier} ${c.scene}: ${describePlanEvent(ev)}`);
    plans[tier].push(ev.detail);
  }
  measurements[tier] = {
    wall_ms: Date.now() - t0,
    plan_total_ms: plans[tier].map((d) => Math.round(d.timing_ms.total)),
  };
  return page;
}

const last = (s) => s.waypoints[s.waypoints.length - 1].voxel;
const cheb = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe("capability tiers", () => {
  let gpuPage;

  test("with WebGPU the loader picks the WebGPU bundle and plans on the GPU", async () => {
    gpuPage = await planAll("webgpu", "");
    const tier = await gpuPage.evaluate(() => window.valuescape.tier());
    measurements.webgpu_tier = tier;
    assert.equal(tier.compute, "gpu");
  });

  test("?backend=webgl2 in the same browser plans on the CPU, and both tiers plan the same", async () => {
    const page = await planAll("webgl2", "?backend=webgl2");
    await page.close();
    const diffs = [];
    CASES.forEach((c, i) => {
      const g = plans.webgpu[i];
      const w = plans.webgl2[i];
      assert.equal(g.steps.length, w.steps.length, `${c.scene}: number of steps`);
      g.steps.forEach((gs, k) => {
        const ws = w.steps[k];
        assert.equal(gs.instruction, ws.instruction);
        assert.deepEqual(gs.programs, ws.programs, `${c.scene} step ${k}: programs`);
        assert.ok(gs.target_reached && ws.target_reached, `${c.scene} step ${k}: target reached on both`);
        // Both planners are optimal (A* on the CPU; cost-to-go sweeps descended on the GPU),
        // so their paths cost the same; equal-cost paths may differ voxel by voxel, and a
        // different (equally good) end voxel shifts the next step's start slightly.
        // (A step that does not move, e.g. opening the gripper, costs 0 on both.)
        const rel = Math.abs(gs.path_cost - ws.path_cost) / Math.max(ws.path_cost, 1e-9);
        diffs.push({ scene: c.scene, step: k, gpu: gs.path_cost, cpu: ws.path_cost, rel, end: cheb(last(gs), last(ws)) });
        assert.ok(rel <= (k === 0 ? 1e-3 : 0.02), `${c.scene} step ${k}: path cost GPU ${gs.path_cost} vs CPU ${ws.path_cost}`);
        assert.ok(cheb(last(gs), last(ws)) <= 2, `${c.scene} step ${k}: ends ${last(gs)} vs ${last(ws)}`);
      });
    });
    measurements.same_plan = diffs;
  });

  test("the bench page times every preset (WebGL2 tier: quick at small grids)", async () => {
    const page = await browser.newPage();
    await page.goto(BASE + "bench.html?grids=24&runs=1&backend=webgl2", { waitUntil: "load" });
    await page.waitForFunction(() => window.__bench, null, { timeout: 600_000, polling: 500 });
    const b = await page.evaluate(() => window.__bench);
    await page.close();
    measurements.bench_page = b.byGrid;
    assert.equal(b.tier.tier, "webgl2");
    assert.deepEqual(b.rows.filter((r) => r.cycle_ms == null), [], "every preset planned");
    assert.ok(b.byGrid[0].median_cycle_ms > 0);
  });

  test("a lost GPU device falls back to the CPU and keeps the state", async () => {
    const before = await gpuPage.evaluate(() => window.valuescape.state());
    const n = await gpuPage.evaluate(() => window.__vs.events.filter((e) => e.name === "notice").length);
    await gpuPage.evaluate(() => window.valuescape.loseGpuDevice());
    const notice = await waitEvent(gpuPage, ["notice"], n);
    assert.match(notice.detail.message, /lost/);
    const after = await gpuPage.evaluate(() => window.valuescape.state());
    assert.equal(after.compute, "cpu");
    assert.equal(after.tier, "webgpu");
    assert.deepEqual({ ...after, compute: undefined }, { ...before, compute: undefined }, "the state survived");
    // Planning goes on, on the CPU.
    const ev = await planWith(gpuPage, { ...CASES[0], grid: GRID, instruction: "" });
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    assert.ok(ev.detail.steps.every((s) => s.target_reached));
    const status = await gpuPage.evaluate(() => window.valuescape.status());
    measurements.after_loss = { status, tier: await gpuPage.evaluate(() => window.valuescape.tier()) };
    assert.deepEqual(browser.pageErrors, [], "no uncaught errors");
  });
});
