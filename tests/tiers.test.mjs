// The two capability tiers in one headless Chromium that has WebGPU (SwiftShader): the loader
// picks the WebGPU bundle, whose maps and plans run as compute shaders on Bevy's own device;
// `?backend=webgl2` loads the WebGL2 bundle (CPU path) in the same browser. Both must produce
// the same plans, a GPU plan's cost map must be drawn from its device buffer, and a lost GPU
// device must restart the page on the CPU path without losing the state.
//
// SwiftShader runs WebGPU on the CPU, so the grids here are small and the timings say nothing
// about GPU speed (see `valuescape bench --backend gpu` on a real GPU).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE, OUT, count, describePlanEvent, hashOf, launch, planWith, startDrag, waitEvent } from "./harness.mjs";
import { decodePng } from "./png.mjs";

// Each GPU plan awaits a dozen buffer read-backs, each a trip through the browser's event loop:
// seconds apiece on SwiftShader. Small grids keep this file within minutes.
const GRID = 24;
// The first case is loaded from the URL; the others are applied with setState. The block is
// pushed in the plane, so its plan runs the pass kernels of the plane, which the GPU tier
// compiles the first time a plan needs them.
const CASES = [
  { scene: "rubbish_in_bin" },
  { scene: "open_drawer" },
  { scene: "blocks_and_mug" },
  { scene: "slide_block" },
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

/** The grid's on-screen box right of the panel (about 400 CSS pixels wide), `[x, y, w, h]`. */
const PANEL = 400;
const viewRect = (r) => [Math.max(r[0], PANEL), r[1], r[0] + r[2] - Math.max(r[0], PANEL), r[3]];

/** Polls `layout()` until `pred` holds; returns it. */
async function waitLayout(page, pred, what, timeout = 120_000) {
  const t0 = Date.now();
  for (;;) {
    const l = await page.evaluate(() => window.valuescape.layout());
    if (pred(l)) return l;
    if (Date.now() - t0 > timeout) throw new Error(`layout never showed ${what}: ${JSON.stringify(l)}`);
    await page.waitForTimeout(250);
  }
}

/** Pixels of `rect` ([x, y, w, h] CSS pixels, device scale 1) where two screenshots differ by
 * more than `tol` in some channel, as a Set of pixel indices. */
function diffMask(a, b, rect, tol = 16) {
  const [x0, y0] = [Math.max(0, Math.floor(rect[0])), Math.max(0, Math.floor(rect[1]))];
  const x1 = Math.min(a.width, Math.ceil(rect[0] + rect[2]));
  const y1 = Math.min(a.height, Math.ceil(rect[1] + rect[3]));
  const out = new Set();
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * a.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        if (Math.abs(a.rgba[o + c] - b.rgba[o + c]) > tol) {
          out.add(y * a.width + x);
          break;
        }
      }
    }
  }
  return out;
}

/** A screenshot once the view has settled: two in a row (half a second apart) agree inside
 * `rect` (the gripper's playback has ended, the new map is drawn). */
async function settledShot(page, rect) {
  let prev = null;
  for (let i = 0; i < 60; i++) {
    const img = decodePng(await page.screenshot());
    if (prev && diffMask(prev, img, rect, 2).size === 0) return img;
    prev = img;
    await page.waitForTimeout(500);
  }
  throw new Error("the view never settled");
}

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
    // No GPU buffers on this tier: the cost map is the CPU's mesh.
    await page.evaluate(() => window.valuescape.setState({ map: "cost" }));
    await waitLayout(page, (l) => l.map_source === "mesh", "the cost map as a mesh");
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

  test("a GPU plan's cost map is drawn from the device buffer, covering what the CPU mesh covers", async () => {
    const page = gpuPage;
    const set = (s) => page.evaluate((s) => window.valuescape.setState(s), s);
    // No voxel is above a threshold of 1: the scene alone, with the map's material in place.
    await set({ map: "cost", step: 0, threshold: 1.0, invert: false });
    let l = await waitLayout(page, (l) => l.map_source === "gpu" && l.map_rect, "the cost map drawn from the GPU");
    const rect = viewRect(l.map_rect);
    assert.ok(rect[2] > 50 && rect[3] > 50, `the grid's box is on screen: ${JSON.stringify(l.map_rect)}`);
    const empty = await settledShot(page, rect);
    await set({ threshold: 0.7 });
    await page.waitForTimeout(500);
    const gpu = await settledShot(page, rect);
    await page.screenshot({ path: join(OUT, "map-gpu.png") });
    assert.equal((await page.evaluate(() => window.valuescape.layout())).map_source, "gpu");
    await page.evaluate(() => window.valuescape.setMeshOnly(true));
    l = await waitLayout(page, (l) => l.map_source === "mesh", "the CPU mesh");
    const mesh = await settledShot(page, rect);
    await page.screenshot({ path: join(OUT, "map-mesh.png") });
    await page.evaluate(() => window.valuescape.setMeshOnly(false));
    await waitLayout(page, (l) => l.map_source === "gpu", "the GPU map again");
    const g = diffMask(empty, gpu, rect);
    const m = diffMask(empty, mesh, rect);
    let both = 0;
    for (const i of g) if (m.has(i)) both++;
    const iou = both / (g.size + m.size - both);
    measurements.map_volume = { rect, gpu_pixels: g.size, mesh_pixels: m.size, iou };
    // Drawn at all, and the same voxels: the ray-marched volume and the mesh differ only in
    // shading and at pixel edges.
    assert.ok(g.size > 2000, `the GPU map drew ${g.size} pixels`);
    assert.ok(m.size > 2000, `the mesh drew ${m.size} pixels`);
    assert.ok(iou >= 0.9, `the GPU map and the CPU mesh cover different pixels (IoU ${iou.toFixed(3)})`);
  });

  test("dragging on the WebGPU tier: previews plan on the GPU and leave their cost maps there, drawn from the device; the release brings them back", async () => {
    const page = gpuPage;
    const scene = "blocks_and_mug";
    const instruction = "move to 5cm above the yellow block";
    const base = await planWith(page, { scene, instruction, grid: GRID, programs: [], positions: {}, map: "cost", step: 0 });
    assert.equal(base.name, "plan", describePlanEvent(base));
    await waitLayout(page, (l) => l.map_source === "gpu" && l.map_on_host, "the plan's cost map drawn from the GPU, its values also on the host");
    const at = (await page.evaluate(() => window.valuescape.layout())).objects["yellow block"];
    assert.ok(at && at[0] > PANEL + 20, `the yellow block is in the 3D view: ${JSON.stringify(at)}`);
    const n = await startDrag(page, at);
    const preview = await waitEvent(page, ["plan", "error"], n);
    assert.equal(preview.name, "plan", describePlanEvent(preview));
    // Mid-drag: the preview's cost map is drawn from the buffer it was composed in, and no
    // copy of it came to the host (KeepMaps::Programs: only the path was read back).
    await waitLayout(page, (l) => l.map_source === "gpu" && !l.map_on_host, "a preview's cost map drawn from the GPU alone");
    assert.equal((await page.evaluate(() => window.valuescape.state())).positions["yellow block"], undefined);
    const previews = (await count(page, ["plan", "error"])) - n;
    await page.mouse.up();
    await page.waitForFunction(
      () => window.valuescape.state().positions["yellow block"] && !window.valuescape.status().planning,
      null,
      { timeout: 120_000, polling: 100 },
    );
    // The released plan keeps every map: its cost map is on the host again (mesh, slice).
    await waitLayout(page, (l) => l.map_source === "gpu" && l.map_on_host, "the released plan's cost map on the host again");
    const ev = (await page.evaluate(() => window.__vs.events.filter((e) => e.name === "plan" || e.name === "error"))).at(-1);
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    const moved = (await page.evaluate(() => window.valuescape.state())).positions["yellow block"];
    const end = ev.detail.steps[0].waypoints.at(-1).position;
    assert.ok(Math.hypot(end[0] - moved[0], end[1] - moved[1]) < 0.06, `ends above the block: ${end} vs ${moved}`);
    measurements.gpu_drag = {
      previews,
      preview_ms: preview.detail.timing_ms,
      released_ms: ev.detail.timing_ms,
    };
  });

  test("the bench page times each stage on the GPU and on the CPU in one WebGPU page, with MPPI's rollouts per second", async () => {
    const page = await browser.newPage();
    // Small and few: SwiftShader's GPU MPPI takes seconds a step (no warm-up plans either).
    const presets = ["bowls_and_sticker", "push_button"];
    await page.goto(BASE + `bench.html?grids=24&runs=1&warmup=0&planners=value,mppi&presets=${presets.join(",")}`, { waitUntil: "load" });
    await page.waitForFunction(() => window.__bench, null, { timeout: 600_000, polling: 500 });
    const b = await page.evaluate(() => window.__bench);
    const after = await page.evaluate(() => window.valuescape.tier());
    const refused = await page.evaluate(() => {
      try {
        window.valuescape.setCompute("tpu");
        return null;
      } catch (e) {
        return String(e.message);
      }
    });
    await page.close();
    assert.match(refused ?? "", /"tpu" is neither "gpu" nor "cpu"/);
    measurements.bench_page = b.summary;
    assert.equal(b.tier.tier, "webgpu");
    assert.deepEqual(b.computes, ["gpu", "cpu"]);
    assert.equal(after.compute, "gpu", "the page goes back to the GPU when the bench is done");
    assert.equal(b.rows.length, presets.length * 2 * 2, JSON.stringify(b.rows));
    for (const r of b.rows) {
      const what = `${r.preset} ${r.planner} on the ${r.compute}`;
      assert.equal(r.error, null, what);
      assert.equal(r.ran_on, r.compute, `${what}: the page reported compute ${r.ran_on}`);
      // A stage can take less than the browser's timer resolution (0.1 ms) on the CPU at 24^3.
      for (const k of ["programs_ms", "cost_ms", "plan_ms"]) assert.ok(r[k] >= 0, `${what}: ${k} ${r[k]}`);
      assert.ok(r.cycle_ms > 0, what);
      assert.ok(Math.abs(r.cycle_ms - (r.programs_ms + r.cost_ms + r.plan_ms)) < 1e-6, `${what}: the cycle is the stages' sum`);
      if (r.planner === "mppi") assert.ok(r.rollouts_per_s > 0, `${what}: rollouts/s ${r.rollouts_per_s}`);
      else assert.equal(r.rollouts_per_s, null, what);
    }
    // The value planner finds paths of the same cost on both paths, in the same page.
    for (const p of presets) {
      const [g, c] = ["gpu", "cpu"].map((k) => b.rows.find((r) => r.preset === p && r.planner === "value" && r.compute === k));
      assert.equal(g.path_costs.length, c.path_costs.length, p);
      g.path_costs.forEach((x, i) => assert.ok(Math.abs(x - c.path_costs[i]) <= 1e-4 * Math.max(1, Math.abs(c.path_costs[i])), `${p} step ${i}: ${x} vs ${c.path_costs[i]}`));
    }
    for (const s of b.summary) assert.ok(s.cpu_over_gpu > 0 && s.gpu.presets === presets.length && s.cpu.presets === presets.length, JSON.stringify(s));
  });

  test("a lost GPU device restarts the page on the CPU path from the same state, and it draws", async () => {
    const strip = (s) => ({ ...s, tier: undefined, compute: undefined });
    // Text typed into the instruction box and not submitted is not in the state: it must
    // survive the restart too. The click lands inside the text (a fifth of the way along the
    // box), so that the words typed after `End` end the draft only if `End` moved the
    // cursor to the end.
    const box = (await gpuPage.evaluate(() => window.valuescape.layout())).widgets.instruction;
    assert.ok(box, "the panel reports its instruction box");
    // Not the state's instruction: `status().draft` reports the box's text only where it
    // differs from that.
    const typedBefore = "push the mug 10cm to the left of the yellow block";
    await gpuPage.evaluate((t) => window.valuescape.setDraft(t), typedBefore);
    await gpuPage.waitForFunction((t) => window.valuescape.status().draft === t, typedBefore, {
      timeout: 60_000,
      polling: 100,
    });
    await gpuPage.mouse.click(box[0] + box[2] * 0.2, box[1] + box[3] / 2);
    await gpuPage.waitForFunction(() => window.valuescape.layout().focus === "instruction", null, {
      timeout: 60_000,
      polling: 100,
    });
    await gpuPage.keyboard.press("End");
    await gpuPage.keyboard.type(" slowly", { delay: 20 });
    await gpuPage.waitForFunction(() => (window.valuescape.status().draft ?? "").includes(" slowly"), null, {
      timeout: 60_000,
      polling: 200,
    });
    const draft = (await gpuPage.evaluate(() => window.valuescape.status())).draft;
    assert.equal(draft, typedBefore + " slowly", "End moves the cursor to the end of the instruction");
    const before = await gpuPage.evaluate(() => window.valuescape.state());
    const lost = gpuPage.evaluate(
      () => new Promise((r) => window.addEventListener("valuescape:devicelost", (e) => r(e.detail), { once: true })),
    );
    const restarted = gpuPage.waitForURL(/backend=webgl2/, { timeout: 120_000 });
    await gpuPage.evaluate(() => window.valuescape.loseGpuDevice());
    const detail = await lost.catch(() => null); // the page may already be navigating away
    await restarted;
    measurements.device_lost_event = detail;
    const first = await waitEvent(gpuPage, ["plan", "error"]);
    assert.equal(first.name, "plan", describePlanEvent(first));
    assert.ok(first.detail.steps.every((s) => s.target_reached));
    const after = await gpuPage.evaluate(() => window.valuescape.state());
    assert.equal(after.tier, "webgl2");
    assert.equal(after.compute, "cpu");
    assert.deepEqual(strip(after), strip(before), "the state survived the restart");
    await gpuPage.waitForFunction((d) => window.valuescape.status().draft === d, draft, { timeout: 60_000, polling: 200 });
    // The restarted page draws: hiding the map (threshold 1) changes what is on screen.
    await gpuPage.evaluate(() => window.valuescape.setState({ map: "cost", threshold: 0.7 }));
    const l = await waitLayout(gpuPage, (l) => l.map_source === "mesh" && l.map_rect, "the map after the restart");
    const rect = viewRect(l.map_rect);
    const shown = await settledShot(gpuPage, rect);
    await gpuPage.screenshot({ path: join(OUT, "after-loss.png") });
    await gpuPage.evaluate(() => window.valuescape.setState({ threshold: 1.0 }));
    await gpuPage.waitForTimeout(500);
    const hidden = await settledShot(gpuPage, rect);
    const changed = diffMask(shown, hidden, rect).size;
    measurements.after_loss = { redraw_pixels: changed, tier: await gpuPage.evaluate(() => window.valuescape.tier()) };
    assert.ok(changed > 2000, `after the restart the view did not redraw (${changed} pixels changed)`);
    assert.deepEqual(browser.pageErrors, [], "no uncaught errors");
  });
});
