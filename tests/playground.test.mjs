// Browser tests of the Valuescape playground: playwright-core driving Debian's Chromium
// (WebGL2 on SwiftShader: no WebGPU flags, so the loader picks the WebGL2 bundle). Run by
// `cargo xtask test`, which builds the release bundles, serves www/ and sets VALUESCAPE_URL;
// by hand:
//   cargo xtask serve &   (then)   cd tests && VALUESCAPE_URL=http://127.0.0.1:8080/ node --test
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePng, pixelStats } from "./png.mjs";
import { BASE, OUT, count, describePlanEvent, launch, planWith, startDrag, waitEvent } from "./harness.mjs";

// The panel is about 380 CSS pixels wide; the 3D view is to its right.
const PANEL = 400;

let browser;
let consoleErrors = [];
const measurements = {};
const newPage = () => browser.newPage();

before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
  consoleErrors = browser.consoleErrors;
});

after(async () => {
  await browser?.close();
  writeFileSync(join(OUT, "measurements.json"), JSON.stringify(measurements, null, 2));
  console.log("measurements:", JSON.stringify(measurements, null, 2));
});

describe("playground", () => {
  let page;
  let presets = [];

  test("loads, draws a first frame and plans the default preset", async () => {
    page = await newPage();
    const t0 = Date.now();
    await page.goto(BASE, { waitUntil: "load" });
    const ready = await waitEvent(page, ["ready"]);
    const first = await waitEvent(page, ["plan", "error"]);
    measurements.first_frame_ms = Math.round(ready.t);
    measurements.first_plan_ms = Math.round(first.t);
    measurements.load_wall_ms = Date.now() - t0;
    const bundle = await page.evaluate(() => window.valuescape.backend);
    measurements.backend = bundle;
    assert.equal(first.name, "plan", `the default preset did not plan: ${describePlanEvent(first)}`);
    const d = first.detail;
    for (const k of ["instruction", "planner", "grid", "steps", "timing_ms"]) assert.ok(k in d, `plan detail lacks ${k}`);
    assert.ok(d.steps.length > 0);
    for (const s of d.steps) {
      for (const k of ["instruction", "programs", "waypoints", "target_reached"]) assert.ok(k in s, `step lacks ${k}`);
      for (const w of s.waypoints)
        for (const k of ["voxel", "position", "quat", "gripper", "velocity", "time_s"]) assert.ok(k in w, `waypoint lacks ${k}`);
    }
    assert.ok(d.steps.every((s) => s.target_reached), "default plan does not reach its target");
    const state = await page.evaluate(() => window.valuescape.state());
    assert.ok(state.scene, "the state names the preset");
    // This browser has no WebGPU: the WebGL2 bundle with the CPU path.
    assert.equal(state.tier, "webgl2");
    assert.equal(state.compute, "cpu");
    presets = await page.evaluate(() => window.valuescape.presets());
    assert.ok(presets.length > 0, "no presets");
  });

  test("every preset's instruction plans and reaches its target", async () => {
    assert.ok(page && presets.length, "page not loaded");
    const rows = [];
    const failures = [];
    for (const p of presets) {
      const instruction = p.instructions[0] ?? "";
      const ev = await planWith(page, { scene: p.name, instruction });
      if (ev.name !== "plan") {
        failures.push(`${p.name}: ${describePlanEvent(ev)}`);
        continue;
      }
      const reached = ev.detail.steps.every((s) => s.target_reached);
      rows.push({ preset: p.name, total_ms: ev.detail.timing_ms.total, reached });
      if (!reached) failures.push(`${p.name}: target not reached for ${JSON.stringify(instruction)}`);
    }
    measurements.wasm_plan_ms = rows;
    assert.deepEqual(failures, []);
  });

  test("the 3D view is not blank", async () => {
    // Show a map so the view has scene, path and voxels.
    await planWith(page, { scene: presets[0].name, map: "cost", threshold: 0.5 });
    await page.waitForTimeout(1500);
    const png = await page.screenshot({ path: join(OUT, "playground.png") });
    const img = decodePng(png);
    const view = pixelStats(img, { x: PANEL, y: 0, w: img.width - PANEL, h: img.height });
    const panel = pixelStats(img, { x: 0, y: 0, w: PANEL - 40, h: img.height });
    measurements.screenshot = { view, panel };
    assert.ok(view.std > 4, `3D view looks flat: ${JSON.stringify(view)}`);
    assert.ok(view.colors > 12, `3D view has too few colours: ${JSON.stringify(view)}`);
    assert.ok(view.nonBackground > 0.02, `3D view is mostly background: ${JSON.stringify(view)}`);
    assert.ok(panel.std > 4, `panel looks empty: ${JSON.stringify(panel)}`);
  });

  test("a link with URL state reproduces the same plan", async () => {
    const target = presets[presets.length > 1 ? 1 : 0];
    const ev = await planWith(page, {
      scene: target.name,
      instruction: target.instructions[0] ?? "",
      planner: "greedy",
      map: "avoidance",
      threshold: 0.3,
      camera: { focus: [0.3, 0.05, 0.9], yaw: 0.4, pitch: 0.6, radius: 1.8 },
    });
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    const hash = await page.evaluate(() => window.valuescape.hash());
    const state = await page.evaluate(() => window.valuescape.state());
    assert.ok(hash.startsWith("#v1."), hash);
    const other = await newPage();
    await other.goto(BASE + hash, { waitUntil: "load" });
    const again = await waitEvent(other, ["plan", "error"]);
    assert.equal(again.name, "plan", describePlanEvent(again));
    const strip = (d) => ({ ...d, timing_ms: undefined });
    assert.deepEqual(strip(again.detail), strip(ev.detail));
    assert.deepEqual(await other.evaluate(() => window.valuescape.state()), state);
    assert.equal(await other.evaluate(() => location.hash), hash);
    await other.close();
  });

  test("an edited program and a moved object re-run the plan", async () => {
    // The same state the panel's program editor and mouse drag write (and the URL carries).
    const scene = "blocks_and_mug";
    const base = await planWith(page, { scene, instruction: "move to 5cm above the yellow block" });
    assert.equal(base.name, "plan", describePlanEvent(base));
    const end = (d, i = 0) => d.steps[i].waypoints[d.steps[i].waypoints.length - 1];
    const z0 = end(base.detail).voxel[2];
    const edited = [
      "affordance_map = get_empty_affordance_map()",
      "yellow = parse_query_obj('yellow block')",
      "x, y, z = yellow.position",
      "affordance_map[x, y, yellow.aabb[1][2] + cm2index(25, 'z')] = 1",
      "ret_val = affordance_map",
      "",
    ].join("\n");
    const ev = await planWith(page, { scene, instruction: "move to 5cm above the yellow block", programs: [{ step: 0, map: "affordance", text: edited }] });
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    assert.equal(ev.detail.steps[0].programs.affordance, edited, "the edited text is what ran");
    assert.ok(end(ev.detail).voxel[2] - z0 >= 15, `25 cm instead of 5 cm: z ${z0} -> ${end(ev.detail).voxel[2]}`);
    // A broken edit is an error at its line, and the page keeps the text.
    const bad = await planWith(page, { programs: [{ step: 0, map: "affordance", text: "affordance_map = get_empty_affordance_map(\n" }] });
    assert.equal(bad.name, "error");
    assert.equal(bad.detail.stage, "program");
    const kept = await page.evaluate(() => window.valuescape.state());
    assert.match(JSON.stringify(kept.programs), /get_empty_affordance_map\(/);
    // Moving the yellow block (what a drag does) moves the plan's end with it.
    const moved = await planWith(page, {
      scene,
      instruction: "move to 5cm above the yellow block",
      programs: [],
      positions: { "yellow block": [0.25, -0.15, 0.775] },
    });
    assert.equal(moved.name, "plan", describePlanEvent(moved));
    const a = end(base.detail).position;
    const b = end(moved.detail).position;
    assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) > 0.1, `the target followed the block: ${a} -> ${b}`);
    assert.ok(Math.abs(b[0] - 0.25) < 0.05 && Math.abs(b[1] + 0.15) < 0.05, `ends above the block's new place: ${b}`);
  });

  test("dragging an object with the real mouse replans as it moves and once more on release", async () => {
    const scene = "blocks_and_mug";
    const instruction = "move to 5cm above the yellow block";
    const base = await planWith(page, { scene, instruction, programs: [], positions: {}, map: "affordance" });
    assert.equal(base.name, "plan", describePlanEvent(base));
    const before = await page.evaluate(() => window.valuescape.state());
    const lay = await page.evaluate(() => window.valuescape.layout());
    const at = lay.objects["yellow block"];
    assert.ok(at && at[0] > PANEL + 20, `the yellow block is in the 3D view: ${JSON.stringify(lay.objects)}`);
    const n = await startDrag(page, at);
    // The plan follows the block while it is dragged (nothing is committed yet).
    const preview = await waitEvent(page, ["plan", "error"], n);
    assert.equal(preview.name, "plan", describePlanEvent(preview));
    const previews = (await count(page, ["plan", "error"])) - n;
    assert.equal((await page.evaluate(() => window.valuescape.state())).positions["yellow block"], undefined);
    await page.mouse.up();
    // On release the move is committed and planned once more; its plan is the last one.
    await page.waitForFunction(
      () => window.valuescape.state().positions["yellow block"] && !window.valuescape.status().planning,
      null,
      { timeout: 60_000, polling: 100 },
    );
    const plans = await page.evaluate(() => window.__vs.events.filter((e) => e.name === "plan" || e.name === "error"));
    assert.ok(plans.length > n + previews, "no plan after the release");
    const ev = plans.at(-1);
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    const after = await page.evaluate(() => window.valuescape.state());
    const moved = after.positions["yellow block"];
    assert.ok(moved, `the drag moved the block: ${JSON.stringify(after.positions)}`);
    assert.equal(before.positions["yellow block"], undefined);
    // The plan's end follows the block (within a voxel or two of above its new place).
    const end = ev.detail.steps[0].waypoints.at(-1).position;
    assert.ok(Math.hypot(end[0] - moved[0], end[1] - moved[1]) < 0.04, `ends above the block: ${end} vs ${moved}`);
    const endBefore = base.detail.steps[0].waypoints.at(-1).position;
    assert.ok(Math.hypot(end[0] - endBefore[0], end[1] - endBefore[1]) > 0.02, "the plan moved with the block");
  });

  test("an MPPI plan on the page's thread leaves it drawing frames between its stages", async () => {
    // The WebGL2 tier plans on the CPU on the page's one thread; MPPI takes about a second for
    // three steps. Between stages (programs, cost map, search of each step), once it has run
    // 50 ms, the plan gives way, so animation frames keep coming: no gap spans the whole plan.
    const before = await page.evaluate(() => window.valuescape.state());
    const n = await count(page, ["plan", "error"]);
    const t0 = await page.evaluate(() => {
      window.__frames = [];
      const tick = (t) => {
        window.__frames.push(t);
        window.__raf = requestAnimationFrame(tick);
      };
      window.__raf = requestAnimationFrame(tick);
      const t = performance.now();
      window.valuescape.setState({ scene: "lamp_off", instruction: "", planner: "mppi" });
      return t;
    });
    const ev = await waitEvent(page, ["plan", "error"], n);
    const frames = await page.evaluate(() => {
      cancelAnimationFrame(window.__raf);
      return window.__frames;
    });
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    const steps = ev.detail.steps.length;
    assert.ok(steps >= 2, `lamp_off plans ${steps} steps`);
    assert.ok(ev.detail.steps.every((s) => s.target_reached), "MPPI did not reach every target");
    const during = [t0, ...frames.filter((t) => t > t0 && t < ev.t), ev.t];
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    const wall = ev.t - t0;
    const longest = Math.max(...gaps);
    measurements.mppi_paged = { steps, wall_ms: Math.round(wall), frames: during.length - 2, longest_gap_ms: Math.round(longest), total_ms: ev.detail.timing_ms.total };
    assert.ok(during.length - 2 >= steps, `only ${during.length - 2} frames in a ${Math.round(wall)} ms plan`);
    assert.ok(longest < 0.6 * wall, `a ${Math.round(longest)} ms gap without a frame in a ${Math.round(wall)} ms plan`);
    // Back to the scene the next tests type their instructions for.
    const back = await planWith(page, { scene: before.scene, instruction: before.instruction, planner: before.planner });
    assert.equal(back.name, "plan", describePlanEvent(back));
  });

  test("typing an instruction into the panel's box and pressing Enter plans it", async () => {
    const lay = await page.evaluate(() => window.valuescape.layout());
    const box = lay.widgets.instruction;
    assert.ok(box, `the panel reports its instruction box: ${JSON.stringify(lay.widgets)}`);
    const typed = "move to 10cm above the blue block";
    const n = await count(page, ["plan", "error"]);
    const old = await page.evaluate(() => window.valuescape.state().instruction);
    // Click into the box (its right edge is under the panel's scroll bar).
    await page.mouse.click(box[0] + box[2] * 0.8, box[1] + box[3] / 2);
    // Keys reach the box once egui has given it the focus (a frame or two later).
    await page.waitForFunction(() => window.valuescape.layout().focus === "instruction", null, {
      timeout: 30_000,
      polling: 100,
    });
    // Go to the end and erase what is there key by key (as a user would; no shortcut the
    // platform may map differently), then type.
    await page.keyboard.press("End");
    for (let i = 0; i < Math.max(old.length, 60) + 4; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type(typed, { delay: 20 });
    await page.keyboard.press("Enter");
    const ev = await waitEvent(page, ["plan", "error"], n);
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    assert.equal(ev.detail.instruction, typed);
    assert.equal((await page.evaluate(() => window.valuescape.state())).instruction, typed);
  });

  test("a hash that does not decode shows a message, keeps the link and loses nothing typed", async () => {
    const bad = "#v1.this-is-not-a-state";
    const other = await newPage();
    await other.goto(BASE + bad, { waitUntil: "load" });
    const notice = await waitEvent(other, ["notice"]);
    assert.match(notice.detail.message, /could not be read/);
    const ev = await waitEvent(other, ["plan", "error"]);
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    const status = await other.evaluate(() => window.valuescape.status());
    assert.match(status.notice ?? "", /could not be read/);
    // The address keeps the link as given (it can be corrected there).
    assert.equal(await other.evaluate(() => location.hash), bad);
    // Text typed into the box and not submitted survives a planner change...
    const typed = "typed here, not submitted";
    await other.evaluate((t) => window.valuescape.setDraft(t), typed);
    const greedy = await planWith(other, { planner: "greedy" });
    assert.equal(greedy.name, "plan", describePlanEvent(greedy));
    assert.equal((await other.evaluate(() => window.valuescape.status())).draft, typed);
    // ...and another unreadable link, which leaves the view as it was.
    const before = await other.evaluate(() => JSON.stringify(window.valuescape.state()));
    const notices = await count(other, ["notice"]);
    await other.evaluate(() => {
      location.hash = "#v1.still-not-a-state";
    });
    const again = await waitEvent(other, ["notice"], notices);
    assert.match(again.detail.message, /could not be read.*unchanged/);
    assert.equal(await other.evaluate(() => JSON.stringify(window.valuescape.state())), before);
    assert.equal((await other.evaluate(() => window.valuescape.status())).draft, typed);
    await other.close();
  });

  test("a grid the CPU tier does not plan, or a step the plan lacks, is corrected and said", async () => {
    const before = await page.evaluate(() => window.valuescape.state());
    // 256^3 on the page's one thread held it for about ten seconds: planned at 128, and told.
    const notices = await count(page, ["notice"]);
    const ev = await planWith(page, { grid: 256 });
    assert.equal(ev.name, "plan", describePlanEvent(ev));
    assert.deepEqual(ev.detail.grid.size, [128, 128, 128]);
    const capped = await waitEvent(page, ["notice"], notices);
    assert.match(capped.detail.message, /Grid 256 .*128/);
    assert.equal((await page.evaluate(() => window.valuescape.state())).grid, 128);
    // A step the plan does not have: step 0 is shown, and the message says why.
    const n2 = await count(page, ["notice"]);
    await page.evaluate(() => window.valuescape.setState({ step: 1000 }));
    const step = await waitEvent(page, ["notice"], n2);
    assert.match(step.detail.message, /no step 1000/);
    assert.equal((await page.evaluate(() => window.valuescape.state())).step, 0);
    const back = await planWith(page, { grid: before.grid });
    assert.equal(back.name, "plan", describePlanEvent(back));
  });

  test("a bad instruction shows its error in the panel and the page keeps working", async () => {
    const ev = await planWith(page, { scene: presets[0].name, instruction: "xyzzy plugh frobnicate the quux" });
    assert.equal(ev.name, "error", "a nonsense instruction should not plan");
    for (const k of ["stage", "message"]) assert.ok(k in ev.detail, `error detail lacks ${k}`);
    const status = await page.evaluate(() => window.valuescape.status());
    assert.ok(status.error && status.error.includes(ev.detail.message), JSON.stringify(status));
    const dom = await page.textContent(".valuescape-status");
    assert.match(dom, /Plan failed/);
    await page.screenshot({ path: join(OUT, "bad-instruction.png") });
    // Still alive: a good instruction plans again.
    const ok = await planWith(page, { scene: presets[0].name, instruction: presets[0].instructions[0] ?? "" });
    assert.equal(ok.name, "plan", describePlanEvent(ok));
  });

  test("no console errors", () => {
    assert.deepEqual([...consoleErrors, ...browser.pageErrors], []);
  });
});
