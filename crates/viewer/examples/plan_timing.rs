//! Native plan timings for every preset, to compare with the browser's (wasm) numbers:
//! `cargo xtask bench` (or `cargo run --release -p valuescape-viewer --no-default-features
//! --example plan_timing [grid]`).

use std::time::Instant;

use valuescape_core::scene::presets;
use valuescape_voxposer::{PlanRequest, PlannerKind, plan};

fn main() {
    let grid: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(valuescape_viewer::state::DEFAULT_GRID);
    println!("native plan timings, grid {grid}^3, value planner, maps kept (as the viewer asks)");
    println!(
        "{:<20} {:>10} {:>10} {:>8}",
        "preset", "total ms", "call ms", "reached"
    );
    let mut sum = 0.0;
    for scene in presets::all() {
        let name = scene.name.clone();
        let req = PlanRequest {
            scene,
            instruction: String::new(),
            planner: PlannerKind::Value,
            grid_size: grid,
            overrides: Vec::new(),
            keep_maps: valuescape_voxposer::KeepMaps::All,
        };
        let t = Instant::now();
        let r = plan(&req);
        let call = t.elapsed().as_secs_f64() * 1e3;
        sum += call;
        match r {
            Ok(r) => println!(
                "{name:<20} {:>10.1} {call:>10.1} {:>8}",
                r.timing_ms.total,
                r.steps.iter().all(|s| s.target_reached)
            ),
            Err(e) => println!("{name:<20} {:>10} {call:>10.1}   error: {e}", "-"),
        }
    }
    println!("sum of calls: {sum:.1} ms");
}
