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
    let l = wgpu::Limits {
        max_compute_workgroup_storage_size: 8192,
        ..wgpu::Limits::default()
    };
    let e = GpuBackend::check_limits(&l).err().unwrap_or_default();
    assert!(e.contains("shared memory"), "{e}");
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

/// `plan_composed` (what the pipeline calls) plans on the maps the last compose left on the
/// device, and finds what `plan` finds from the host's copies; a problem on another grid
/// (or a second call, once the maps were taken) goes the upload route.
#[test]
fn planning_on_the_resident_maps_equals_planning_on_uploaded_ones() {
    use valuescape_core::cost::{CostInput, Movable};
    use valuescape_core::field::Field;
    use valuescape_core::grid::Grid;
    use valuescape_core::paint::Map;
    use valuescape_core::plan::Problem;
    use valuescape_voxposer::Backend;

    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let grid = Grid::new([0.0; 3], [1.0; 3], [28, 20, 24]).unwrap_or_else(|e| panic!("{e}"));
    let mut affordance = Field::zeros(grid);
    affordance.set([24, 10, 6], 1.0);
    let mut avoidance = Field::zeros(grid);
    for y in 2..18 {
        for z in 0..16 {
            avoidance.set([14, y, z], 1.0);
        }
    }
    let start = [3, 9, 5];
    let (affordance, avoidance) = (Map::from(affordance), Map::from(avoidance));
    let input = CostInput {
        affordance: &affordance,
        avoidance: &avoidance,
        collision: &[],
        movable: Movable::Gripper(start),
    };
    for planner in [PlannerKind::Value, PlannerKind::Mppi] {
        let cm = Backend::compose(&gpu, &input).unwrap_or_else(|e| panic!("{e}"));
        let blocked = cm.blocked(grid.index(start));
        let p = cm.problem(&blocked, start, false);
        let resident = gpu
            .plan_composed(&p, planner)
            .unwrap_or_else(|e| panic!("{e}"));
        let uploaded = gpu.plan(&p, planner).unwrap_or_else(|e| panic!("{e}"));
        assert!(resident.reached, "{planner:?}");
        // Maps of another compose are not used for this problem: with a wall that is not
        // in the composed maps, plan_composed plans on the problem's own copies.
        let walled: Vec<bool> = (0..grid.len())
            .map(|i| blocked[i] || grid.voxel(i)[0] == 10)
            .collect();
        let moved: Vec<f32> = cm.cost.data.iter().map(|c| c * 0.5).collect();
        let other = Problem {
            cost: &moved,
            blocked: &walled,
            ..p
        };
        Backend::compose(&gpu, &input).unwrap_or_else(|e| panic!("{e}"));
        let got = gpu
            .plan_composed(&other, planner)
            .unwrap_or_else(|e| panic!("{e}"));
        let want = gpu.plan(&other, planner).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got.search_path, want.search_path,
            "{planner:?}: another problem"
        );
        assert_eq!(resident.search_path, uploaded.search_path, "{planner:?}");
        assert_eq!(resident.expanded, uploaded.expanded, "{planner:?}");
    }
}
