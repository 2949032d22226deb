//! # valuescape-web
//!
//! The wasm-bindgen entry of the Valuescape playground: it starts the
//! viewer (`valuescape-viewer`) on a canvas and gives the page a small JS API (typed with
//! serde-wasm-bindgen) and DOM events.
//!
//! ```js
//! import init, { start, presets } from "./pkg/webgl2/valuescape_web.js";
//! await init();
//! const pg = start("#canvas", location.hash);   // a Playground
//! pg.state();            // the view state as a JSON-compatible object
//! pg.setState({ scene: "open_drawer", instruction: "open the top drawer" }); // fields over the current state
//! pg.replaceState({ scene: "open_drawer" });  // a whole state, defaults for the rest
//! pg.setHash("#v1....");  // apply a link's state
//! pg.hash();             // the current state as a link hash
//! pg.status();           // { planning, error, notice, plans }: what the panel says
//! pg.tier();             // { tier: "webgpu" | "webgl2", compute: "gpu" | "cpu", adapter, note }
//! pg.layout();           // { objects: { name: [x, y] }, widgets: { instruction: [x, y, w, h] }, focus }
//! pg.loseGpuDevice();    // destroys the GPU device (tests the fall-back to the CPU)
//! pg.destroy();
//! ```
//!
//! Events, dispatched on `window` as `CustomEvent`s:
//!
//! - `valuescape:plan`: a plan completed; `detail` is the `PlanResult` exactly as the CLI's
//!   `--json` prints it (`instruction`, `planner`, `grid`, `steps[]`, `timing_ms`);
//! - `valuescape:error`: a plan failed; `detail` has the `PlanError` fields (`stage`, `step`,
//!   `map`, `line`, `col`, `span`, `message`) and `text`, the message the panel shows;
//! - `valuescape:notice`: a message that is not a plan error (`detail.message`), e.g. a link
//!   whose state does not decode (the default state is shown instead);
//! - `valuescape:state`: the state changed (`detail.hash`, `detail.state`);
//! - `valuescape:ready`: the first frame was drawn (`detail.t`, `performance.now()`).
//!
//! `state()` also carries `tier` (`"webgpu"` or `"webgl2"`: the bundle that runs) and
//! `compute` (`"gpu"` or `"cpu"`: where maps and plans are computed now); both are read-only
//! and ignored when a state is given back.
//!
//! Only one playground can run per page (winit's event loop is created once per page).
//!
//! On targets other than wasm32 this crate is empty.

#[cfg(all(
    target_arch = "wasm32",
    not(any(feature = "webgl2", feature = "webgpu"))
))]
compile_error!(
    "build valuescape-web with `--features webgl2` or `--features webgpu` (one per bundle)"
);

#[cfg(all(target_arch = "wasm32", feature = "webgl2", feature = "webgpu"))]
compile_error!("`webgl2` and `webgpu` are separate bundles: enable one of them");

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(target_arch = "wasm32")]
pub use wasm::*;
