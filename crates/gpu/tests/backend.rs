//! `GpuBackend` through the async pipeline (what the browser's WebGPU tier runs) against the
//! CPU pipeline on presets: the same steps and programs, every target reached, and paths of
//! the same cost. Fails when no adapter exists (Mesa's lavapipe in CI).

use valuescape_core::scene::presets;
use valuescape_gpu::GpuBackend;
use valuescape_voxposer::{
    KeepMaps, PlanRequest, PlannerKind, RuleCompiler, plan, plan_with_async,
};

fn request(scene: &str, planner: PlannerKind) -> PlanRequest {
    PlanRequest {
        scene: presets::by_name(scene).unwrap_or_else(|| panic!("no preset {scene}")),
        instruction: String::new(),
        planner,
        grid_size: 40,
        overrides: Vec::new(),
        keep_maps: KeepMaps::None,
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
    // One storage buffer short of the kernel that binds the most is refused; that many is
    // taken (`tests/shaders.rs` holds the constant to the kernels' own count).
    let needed = GpuBackend::STORAGE_BUFFERS_NEEDED;
    let l = wgpu::Limits {
        max_storage_buffers_per_shader_stage: needed - 1,
        ..wgpu::Limits::default()
    };
    let e = GpuBackend::check_limits(&l).err().unwrap_or_default();
    assert!(
        e.contains("storage buffers") && e.contains(&needed.to_string()),
        "{e}"
    );
    let l = wgpu::Limits {
        max_storage_buffers_per_shader_stage: needed,
        ..wgpu::Limits::default()
    };
    assert_eq!(GpuBackend::check_limits(&l), Ok(()));
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
    req.keep_maps = KeepMaps::All;
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
        let cost = maps
            .cost
            .as_ref()
            .unwrap_or_else(|| panic!("step {k}: no cost map"));
        assert_eq!(m.grid, cost.grid, "step {k}");
        // The buffer handed out is the very map the step planned on.
        let on_device = pollster::block_on(gpu.read_map(m)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(on_device, cost.data, "step {k}");
    }
    assert!(gpu.take_composed().is_empty(), "taken once");
    // Keeping the programs' maps only (the viewer's drag previews): the composed maps stay
    // on the device, and the ones kept there are the same maps.
    req.keep_maps = KeepMaps::Programs;
    let preview = pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
        .unwrap_or_else(|e| panic!("gpu: {e}"));
    let kept_preview = gpu.take_composed();
    assert_eq!(kept_preview.len(), preview.steps.len());
    for (k, ((m, step), full)) in kept_preview
        .iter()
        .zip(&preview.steps)
        .zip(&got.steps)
        .enumerate()
    {
        let maps = step
            .maps
            .as_ref()
            .unwrap_or_else(|| panic!("step {k}: no maps"));
        assert!(maps.cost.is_none() && maps.obstacle.is_none(), "step {k}");
        let want = full.maps.as_ref().and_then(|m| m.cost.as_ref());
        let on_device = pollster::block_on(gpu.read_map(m)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(&on_device), want.map(|c| &c.data), "step {k}");
        assert_eq!(step.waypoints, full.waypoints, "step {k}");
    }
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

/// A value plan on maps kept on the device (`compose_resident` + `plan_resident`, what the
/// pipeline runs when a step keeps no maps) reports what a plan on the maps read back
/// reports: the same path, the same measured cost to the bit, the start's target distance
/// as the CPU computes it, and the same `reached`, also where the target is out of reach
/// and where the path is longer than the GPU may descend (both planned again from the maps
/// read back).
#[test]
fn a_plan_on_kept_maps_reports_what_a_plan_on_maps_read_back_reports() {
    use valuescape_core::cost::{CostInput, Movable};
    use valuescape_core::field::Field;
    use valuescape_core::grid::Grid;
    use valuescape_core::paint::Map;
    use valuescape_voxposer::backend::measured_path_cost;
    use valuescape_voxposer::{Backend, CpuBackend};

    let grid = Grid::new([0.0; 3], [1.0; 3], [28, 20, 24]).unwrap_or_else(|e| panic!("{e}"));
    let start = [3, 9, 5];
    let target = [24, 10, 6];
    let mut affordance = Field::zeros(grid);
    affordance.set(target, 1.0);
    // A wall with a gap, and (for the second scene) a shell around the target.
    let mut wall = Field::zeros(grid);
    for y in 2..18 {
        for z in 0..16 {
            wall.set([14, y, z], 1.0);
        }
    }
    let mut shell = wall.clone();
    for x in 22..27 {
        for y in 8..13 {
            for z in 4..9 {
                if [x, y, z] != target {
                    shell.set([x, y, z], 1.0);
                }
            }
        }
    }
    let affordance = Map::from(affordance);
    // Both on one device: devices of two wgpu instances compare equal (by id), so the
    // thread's staging pool (`util::take_staging`) must not see two on one thread.
    let ctx = valuescape_gpu::GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
    let new = || GpuBackend::new(&ctx.device, &ctx.queue).unwrap_or_else(|e| panic!("{e}"));
    let (gpu, short) = (new(), new().limit_gpu_path(5));
    for (scene, avoidance, reachable) in [("wall", wall, true), ("shell", shell, false)] {
        let avoidance = Map::from(avoidance);
        let input = CostInput {
            affordance: &affordance,
            avoidance: &avoidance,
            collision: &[],
            movable: Movable::Gripper(start),
        };
        let cpu = CpuBackend.compose(&input).unwrap_or_else(|e| panic!("{e}"));
        for (name, backend) in [("gpu", &gpu), ("gpu, 5-voxel descent", &short)] {
            let at = format!("{scene}, {name}");
            // On the maps read back, as a step that keeps its maps plans.
            let cm = Backend::compose(backend, &input).unwrap_or_else(|e| panic!("{at}: {e}"));
            let blocked = cm.blocked(grid.index(start));
            let p = cm.problem(&blocked, start, false);
            let want = backend
                .plan_composed(&p, PlannerKind::Value)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            let want_cost = measured_path_cost(&cm, &p, &want);
            // On the maps kept on the device.
            let kept = backend
                .compose_resident(&input)
                .unwrap_or_else(|e| panic!("{at}: {e}"))
                .unwrap_or_else(|| panic!("{at}: no maps kept"));
            let got = backend
                .plan_resident(kept, start, false)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(got.path.search_path, want.search_path, "{at}");
            assert_eq!(got.path.points, want.points, "{at}");
            assert_eq!(got.path.reached, want.reached, "{at}");
            assert_eq!(got.path.reached, reachable, "{at}");
            assert_eq!(got.path.expanded, want.expanded, "{at}");
            assert_eq!(got.path_cost.to_bits(), want_cost.to_bits(), "{at}");
            assert_eq!(
                got.start_distance,
                cpu.target_distance[grid.index(start)],
                "{at}"
            );
            // The cost map's range, from the device's reductions alone, is the range of the
            // map read back (WGSL lets a division be off by ulps: a relative 1e-6).
            let (lo, hi) = cm.cost.min_max().unwrap_or_else(|| panic!("{at}: NaN map"));
            assert!(hi > lo, "{at}: a constant map");
            let (glo, ghi) = got.cost_range;
            assert!(
                (glo - lo).abs() <= 1e-6 && (ghi - hi).abs() <= 1e-6 * hi,
                "{at}: range {:?} on the device, {:?} read back",
                got.cost_range,
                (lo, hi)
            );
            if reachable {
                assert!(
                    got.path.search_path.len() > 5,
                    "{at}: a path the short descent cuts"
                );
            }
            // The maps were taken: a second plan has none to plan on.
            let again = backend
                .plan_resident(kept, start, false)
                .err()
                .unwrap_or_default();
            assert!(again.contains("no cost map was kept"), "{at}: {again}");
        }
    }
}

/// A cost map that stays on the device and is constant (every voxel a target; nothing to
/// avoid, or everything, which makes the constant the obstacle weight) is reported as such,
/// so that a renderer says so instead of drawing it over 0 to 1.
#[test]
fn a_constant_cost_map_on_the_device_reports_its_one_value() {
    use valuescape_core::cost::{CostInput, Movable};
    use valuescape_core::field::Field;
    use valuescape_core::grid::Grid;
    use valuescape_core::paint::{Map, Painted};
    use valuescape_voxposer::{Backend, CpuBackend};

    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let grid = Grid::new([0.0; 3], [1.0; 3], [18, 16, 20]).unwrap_or_else(|e| panic!("{e}"));
    let start = [4, 5, 6];
    // Every voxel a target, painted (as a program leaves `affordance_map[:, :, :] = 1`) and
    // dense.
    for (affordance, avoid) in [
        (Map::Painted(Painted::filled(grid, 1.0)), 0.0),
        (
            Map::from(
                Field::from_vec(grid, vec![1.0; grid.len()]).unwrap_or_else(|| Field::zeros(grid)),
            ),
            0.0,
        ),
        (Map::Painted(Painted::filled(grid, 1.0)), 1.0),
    ] {
        let avoidance = Map::Painted(Painted::filled(grid, avoid));
        let input = CostInput {
            affordance: &affordance,
            avoidance: &avoidance,
            collision: &[],
            movable: Movable::Gripper(start),
        };
        let cpu = CpuBackend.compose(&input).unwrap_or_else(|e| panic!("{e}"));
        let (lo, hi) = cpu.cost.min_max().unwrap_or_default();
        assert_eq!(lo, hi, "the CPU's map is constant");
        assert_eq!(lo > 0.0, avoid > 0.0, "{lo}");
        let kept = gpu
            .compose_resident(&input)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no maps kept"));
        let r = gpu
            .plan_resident(kept, start, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.cost_range, (lo, hi));
        assert!(r.path.reached);
        assert_eq!(r.path.search_path, vec![start]);
    }
}

/// The pipeline plans a step that keeps no maps on the device's kept maps, and gives the
/// result a step that keeps them gets (maps aside). A step that keeps only the programs'
/// maps (a drag preview) carries the cost map's range in their place.
#[test]
fn steps_without_maps_plan_on_the_device_as_steps_with_maps() {
    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    for scene in ["rubbish_in_bin", "push_button"] {
        let without = request(scene, PlannerKind::Value);
        let with = PlanRequest {
            keep_maps: KeepMaps::All,
            ..without.clone()
        };
        let programs = PlanRequest {
            keep_maps: KeepMaps::Programs,
            ..without.clone()
        };
        let a = pollster::block_on(plan_with_async(&without, &RuleCompiler, &gpu))
            .unwrap_or_else(|e| panic!("{scene}: {e}"));
        let b = pollster::block_on(plan_with_async(&with, &RuleCompiler, &gpu))
            .unwrap_or_else(|e| panic!("{scene}: {e}"));
        let c = pollster::block_on(plan_with_async(&programs, &RuleCompiler, &gpu))
            .unwrap_or_else(|e| panic!("{scene}: {e}"));
        assert_eq!(c.steps.len(), b.steps.len(), "{scene}");
        for (k, (x, y)) in c.steps.iter().zip(&b.steps).enumerate() {
            let (Some(xm), Some(ym)) = (&x.maps, &y.maps) else {
                panic!("{scene} step {k}: maps missing");
            };
            let want = ym.cost.as_ref().and_then(|f| f.min_max());
            assert!(
                xm.cost.is_none() && ym.cost_range.is_none(),
                "{scene} step {k}"
            );
            let (Some(got), Some(want)) = (xm.cost_range, want) else {
                panic!("{scene} step {k}: no range ({:?}, {want:?})", xm.cost_range);
            };
            assert!(
                (got.0 - want.0).abs() <= 1e-6 && (got.1 - want.1).abs() <= 1e-6 * want.1,
                "{scene} step {k}: {got:?} against {want:?}"
            );
            assert_eq!(x.waypoints, y.waypoints, "{scene} step {k}");
        }
        assert_eq!(a.steps.len(), b.steps.len(), "{scene}");
        for (k, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
            assert!(x.maps.is_none() && y.maps.is_some(), "{scene} step {k}");
            assert_eq!(x.waypoints, y.waypoints, "{scene} step {k}");
            assert_eq!(x.target_reached, y.target_reached, "{scene} step {k}");
            assert_eq!(
                x.path_cost.map(f64::to_bits),
                y.path_cost.map(f64::to_bits),
                "{scene} step {k}"
            );
        }
    }
}

/// Buffers recycled from one step to the next (another scene, another grid, maps kept or
/// not) leave nothing of theirs in the results: every step equals the same step run with
/// buffers made afresh.
#[test]
fn recycled_buffers_leave_nothing_behind() {
    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let runs = [
        ("rubbish_in_bin", 40, KeepMaps::None),
        ("push_button", 32, KeepMaps::All),
        ("open_drawer", 40, KeepMaps::None),
        ("blocks_and_mug", 40, KeepMaps::All),
        ("rubbish_in_bin", 40, KeepMaps::None),
    ];
    let plan_all = || {
        runs.iter()
            .map(|&(scene, grid_size, keep_maps)| {
                let req = PlanRequest {
                    grid_size,
                    keep_maps,
                    ..request(scene, PlannerKind::Value)
                };
                pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
                    .unwrap_or_else(|e| panic!("{scene}: {e}"))
            })
            .collect::<Vec<_>>()
    };
    let recycled = plan_all();
    gpu.set_recycling_off(true);
    let afresh = plan_all();
    gpu.set_recycling_off(false);
    for ((scene, ..), (a, b)) in runs.iter().zip(recycled.iter().zip(&afresh)) {
        assert_eq!(a.steps.len(), b.steps.len(), "{scene}");
        for (k, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
            assert_eq!(x.waypoints, y.waypoints, "{scene} step {k}");
            assert_eq!(
                x.path_cost.map(f64::to_bits),
                y.path_cost.map(f64::to_bits),
                "{scene} step {k}"
            );
            let bits = |m: &Option<valuescape_core::field::Field>| {
                m.as_ref()
                    .map(|f| f.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            };
            match (&x.maps, &y.maps) {
                (None, None) => {}
                (Some(p), Some(q)) => {
                    assert_eq!(bits(&p.cost), bits(&q.cost), "{scene} step {k}: cost");
                    assert_eq!(
                        bits(&p.obstacle),
                        bits(&q.obstacle),
                        "{scene} step {k}: obstacle"
                    );
                }
                _ => panic!("{scene} step {k}: maps kept in one run only"),
            }
        }
    }
}

/// `release_buffers` frees what the backend keeps between steps, and the next plan makes
/// its buffers afresh with the same result; a plan keeps about one step's buffers again.
#[test]
fn released_buffers_are_freed_and_made_again() {
    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let req = request("rubbish_in_bin", PlannerKind::Value);
    let run = || {
        pollster::block_on(plan_with_async(&req, &RuleCompiler, &gpu))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(gpu.kept_bytes(), 0, "a new backend keeps nothing");
    let first = run();
    let kept = gpu.kept_bytes();
    // At 40^3 a grid-sized buffer is 256,000 bytes: a step keeps several.
    let grid_bytes = 40u64 * 40 * 40 * 4;
    assert!(kept >= 4 * grid_bytes, "{kept} bytes kept after a plan");
    assert_eq!(gpu.release_buffers(), kept);
    assert_eq!(gpu.kept_bytes(), 0);
    let second = run();
    assert_eq!(
        gpu.kept_bytes(),
        kept,
        "the same steps keep the same buffers"
    );
    for (k, (x, y)) in first.steps.iter().zip(&second.steps).enumerate() {
        assert_eq!(x.waypoints, y.waypoints, "step {k}");
    }
    assert_eq!(first.steps.len(), second.steps.len());
}

/// Steps interleaved on one backend (two compositions kept before either plans) never plan
/// on each other's maps: the first plan, whose maps the second composition replaced, fails
/// with a message saying so, and the second plans on its own maps as if alone.
#[test]
fn a_plan_never_takes_another_compositions_maps() {
    use valuescape_core::cost::{CostInput, Movable};
    use valuescape_core::field::Field;
    use valuescape_core::grid::Grid;
    use valuescape_core::paint::Map;
    use valuescape_voxposer::Backend;
    use valuescape_voxposer::backend::{NOTHING_RESIDENT, REPLACED_RESIDENT};

    let (gpu, _) = GpuBackend::headless().unwrap_or_else(|e| panic!("{e}"));
    let grid = Grid::new([0.0; 3], [1.0; 3], [24, 20, 16]).unwrap_or_else(|e| panic!("{e}"));
    let start = [2, 10, 8];
    let affordance_at = |t| {
        let mut f = Field::zeros(grid);
        f.set(t, 1.0);
        Map::from(f)
    };
    let (near, far) = (affordance_at([6, 10, 8]), affordance_at([21, 10, 8]));
    let avoidance = Map::from(Field::zeros(grid));
    let input = |affordance| CostInput {
        affordance,
        avoidance: &avoidance,
        collision: &[],
        movable: Movable::Gripper(start),
    };
    let compose = |a| {
        gpu.compose_resident(&input(a))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no maps kept"))
    };
    // Alone: the far target's plan.
    let alone = compose(&far);
    let want = gpu
        .plan_resident(alone, start, false)
        .unwrap_or_else(|e| panic!("{e}"));
    // Interleaved: the near target's maps, then the far one's, kept before either plans.
    let first = compose(&near);
    let second = compose(&far);
    assert!(first != second && alone != first);
    let err = gpu
        .plan_resident(first, start, false)
        .err()
        .unwrap_or_else(|| panic!("the first plan took the second composition's maps"));
    assert!(err.contains(REPLACED_RESIDENT), "{err}");
    let got = gpu
        .plan_resident(second, start, false)
        .unwrap_or_else(|e| panic!("the second composition's maps were not left: {e}"));
    assert_eq!(got.path.search_path, want.path.search_path);
    assert_eq!(got.path_cost.to_bits(), want.path_cost.to_bits());
    assert_eq!(*got.path.search_path.last().unwrap_or(&start), [21, 10, 8]);
    // Taken: planning on them again finds nothing kept, and an old name is still refused.
    let again = gpu
        .plan_resident(second, start, false)
        .err()
        .unwrap_or_default();
    assert!(again.contains(NOTHING_RESIDENT), "{again}");
    let old = gpu
        .plan_resident(first, start, false)
        .err()
        .unwrap_or_default();
    assert!(old.contains(REPLACED_RESIDENT), "{old}");
}
