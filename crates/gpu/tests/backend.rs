//! `GpuBackend` through the async pipeline (what the browser's WebGPU tier runs) against the
//! CPU pipeline on presets: the same steps and programs, every target reached, and paths of
//! the same cost. Fails when no adapter exists (Mesa's lavapipe in CI).

use valuescape_core::scene::presets;
use valuescape_gpu::GpuBackend;
use valuescape_voxposer::{PlanRequest, PlannerKind, RuleCompiler, plan, plan_with_async};

fn request(scene: &str, planner: PlannerKind) -> PlanRequest {
    PlanRequest {
        scene: presets::by_name(scene).unwrap_or_else(|| panic!("no preset {scene}")),
        instruction: String::new(),
        planner,
        grid_size: 40,
        overrides: Vec::new(),
        keep_maps: false,
    }
}

#[test]
fn the_async_gpu_pipeline_plans_like_the_cpu() {
    let (gpu, adapter) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("adapter: {adapter}");
    for scene in ["rubbish_in_bin", "open_drawer", "blocks_and_mug"] {
        let req = request(scene, PlannerKind::Value);
        let cpu = plan(&req).unwrap_or_else(|e| panic!("{scene} cpu: {e}"));
        let got = pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
            .unwrap_or_else(|e| panic!("{scene} gpu: {e}"));
        assert_eq!(got.steps.len(), cpu.steps.len(), "{scene}");
        for (k, (g, c)) in got.steps.iter().zip(&cpu.steps).enumerate() {
            assert_eq!(g.programs, c.programs, "{scene} step {k}");
            assert!(g.target_reached && c.target_reached, "{scene} step {k}");
            let (gc, cc) = (
                g.path_cost.unwrap_or(f64::NAN),
                c.path_cost.unwrap_or(f64::NAN),
            );
            // Both optimal: equal costs (f32 sums); a different equally good end voxel may
            // shift the next step's start.
            let tol = if k == 0 { 1e-3 } else { 2e-2 };
            assert!(
                (gc - cc).abs() <= tol * cc,
                "{scene} step {k}: gpu {gc} cpu {cc}"
            );
        }
    }
}

#[test]
fn mppi_runs_through_the_async_gpu_pipeline() {
    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let req = request("blocks_and_mug", PlannerKind::Mppi);
    let got = pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
        .unwrap_or_else(|e| panic!("gpu mppi: {e}"));
    assert!(!got.steps.is_empty());
    assert!(got.steps.iter().all(|s| !s.waypoints.is_empty()));
}

#[test]
fn a_device_without_compute_is_refused_with_a_reason() {
    // WebGL2's limits: no compute invocations, no storage buffers.
    let e = GpuBackend::check_limits(&wgpu::Limits::downlevel_webgl2_defaults())
        .err()
        .unwrap_or_default();
    assert!(e.contains("compute invocations"), "{e}");
    let l = wgpu::Limits {
        max_storage_buffers_per_shader_stage: 4,
        ..wgpu::Limits::default()
    };
    let e = GpuBackend::check_limits(&l).err().unwrap_or_default();
    assert!(e.contains("storage buffers"), "{e}");
    assert_eq!(GpuBackend::check_limits(&wgpu::Limits::default()), Ok(()));
}

#[test]
fn the_self_test_passes_on_a_working_device() {
    let (gpu, adapter) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    pollster::block_on(gpu.self_test()).unwrap_or_else(|e| panic!("{adapter}: {e}"));
}

#[test]
fn composed_cost_maps_stay_on_the_device_one_per_step_only_when_asked() {
    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let mut req = request("rubbish_in_bin", PlannerKind::Value);
    req.keep_maps = true;
    // Off by default: nothing is held.
    pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
        .unwrap_or_else(|e| panic!("gpu: {e}"));
    assert!(gpu.take_composed().is_empty());
    gpu.keep_composed(true);
    let got = pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
        .unwrap_or_else(|e| panic!("gpu: {e}"));
    let kept = gpu.take_composed();
    assert_eq!(kept.len(), got.steps.len());
    assert!(kept.len() >= 2, "a multi-step preset");
    for (k, (m, step)) in kept.iter().zip(&got.steps).enumerate() {
        let maps = step
            .maps
            .as_ref()
            .unwrap_or_else(|| panic!("step {k}: no maps"));
        assert_eq!(m.grid, maps.cost.grid, "step {k}");
        // The buffer handed out is the very map the step planned on.
        let on_device = pollster::block_on(gpu.read_map(m)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(on_device, maps.cost.data, "step {k}");
    }
    assert!(gpu.take_composed().is_empty(), "taken once");
}
