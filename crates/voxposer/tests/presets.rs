//! Every preset and every one of its instructions plans with both planners. With the value
//! planner each step ends within 2 voxels of a target and never enters a voxel the
//! avoidance map marks; wherever both planners reach the target, the value planner's path
//! is no costlier than greedy's by the accumulated cost the value planner minimises.

use valuescape_core::Grid;
use valuescape_core::scene::presets;
use valuescape_voxposer::pipeline::{apply_step, plan_step};
use valuescape_voxposer::{
    KeepMaps, PlanRequest, PlannerKind, ProgramSource, RuleCompiler, World, plan,
};

#[test]
fn every_preset_instruction_plans_and_value_is_never_costlier_than_greedy() {
    let grid = Grid::default();
    let mut compared = 0;
    let mut greedy_reached = 0;
    let mut greedy_total = 0;
    for scene in presets::all() {
        assert!(
            !scene.instructions.is_empty(),
            "{} has no instruction",
            scene.name
        );
        for instruction in &scene.instructions {
            let mut world = World::new(scene.clone(), grid);
            let specs = RuleCompiler
                .compile(instruction, &world)
                .unwrap_or_else(|e| panic!("{}: {instruction:?}: {e}", scene.name));
            for (i, spec) in specs.iter().enumerate() {
                let ctx = format!(
                    "{} / {instruction:?} / step {i} {:?}",
                    scene.name, spec.instruction
                );
                let v = plan_step(&world, spec, i, PlannerKind::Value, KeepMaps::All)
                    .unwrap_or_else(|e| panic!("{ctx}: value: {e}"));
                let g = plan_step(&world, spec, i, PlannerKind::Greedy, KeepMaps::None)
                    .unwrap_or_else(|e| panic!("{ctx}: greedy: {e}"));
                assert!(
                    v.result.target_reached,
                    "{ctx}: value planner did not reach the target"
                );
                // The movable's last voxel is within 2 voxels of an affordance voxel.
                let maps = v
                    .result
                    .maps
                    .as_ref()
                    .unwrap_or_else(|| panic!("{ctx}: maps kept"));
                let last = v
                    .path
                    .search_path
                    .last()
                    .copied()
                    .unwrap_or_else(|| panic!("{ctx}: empty path"));
                // The compiler's programs only fill and paint: every map stays a painting
                // (a dense one would cost the program stage milliseconds a step).
                assert!(
                    maps.affordance.painted().is_some()
                        && maps.avoidance.painted().is_some()
                        && maps.velocity.painted().is_some()
                        && maps.gripper.painted().is_some()
                        && maps.rotation.painted().is_some(),
                    "{ctx}: a compiled program made a map dense"
                );
                let targets = maps.affordance.to_field().voxels_above(0.5);
                let d = targets
                    .iter()
                    .map(|t| {
                        (0..3)
                            .map(|a| (t[a] as f64 - last[a] as f64).powi(2))
                            .sum::<f64>()
                            .sqrt()
                    })
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    d <= 2.0,
                    "{ctx}: last voxel {last:?} is {d} voxels from the nearest target"
                );
                assert!(
                    !v.enters_avoidance,
                    "{ctx}: the value path enters a voxel the avoidance map marks"
                );
                assert!(!v.result.waypoints.is_empty());
                greedy_total += 1;
                if g.path.reached {
                    greedy_reached += 1;
                    compared += 1;
                    assert!(
                        v.path_cost <= g.path_cost + 1e-6,
                        "{ctx}: value path costs {} > greedy {}",
                        v.path_cost,
                        g.path_cost
                    );
                }
                apply_step(&mut world, &v, None);
            }
        }
    }
    eprintln!(
        "value vs greedy compared on {compared} steps; greedy reached {greedy_reached}/{greedy_total}"
    );
    assert!(compared > 20, "too few comparable steps: {compared}");
}

#[test]
fn the_facade_plans_every_default_instruction_at_several_grid_sizes() {
    for n in [32, 64] {
        for scene in presets::all() {
            for planner in [PlannerKind::Value, PlannerKind::Greedy] {
                let req = PlanRequest {
                    scene: scene.clone(),
                    instruction: String::new(),
                    planner,
                    grid_size: n,
                    overrides: Vec::new(),
                    keep_maps: KeepMaps::None,
                };
                let r = plan(&req).unwrap_or_else(|e| panic!("{} at {n}: {e}", scene.name));
                assert_eq!(r.instruction, scene.instructions[0]);
                assert!(!r.steps.is_empty());
                if planner == PlannerKind::Value {
                    for s in &r.steps {
                        assert!(
                            s.target_reached,
                            "{} at {n}: {:?} did not reach",
                            scene.name, s.instruction
                        );
                    }
                }
                // JSON has the documented fields.
                let j = serde_json::to_value(&r).unwrap_or_default();
                let w = &j["steps"][0]["waypoints"][0];
                for key in ["voxel", "position", "quat", "gripper", "velocity", "time_s"] {
                    assert!(!w[key].is_null(), "waypoint field {key} missing");
                }
                assert!(j["steps"][0]["programs"]["affordance"].is_string());
                assert!(j["timing_ms"]["total"].is_number());
                assert!(j["steps"][0]["target_reached"].is_boolean());
                if planner == PlannerKind::Value {
                    assert!(
                        j["steps"][0]["path_cost"].as_f64().is_some_and(|c| c > 0.0),
                        "{}: path_cost {}",
                        scene.name,
                        j["steps"][0]["path_cost"]
                    );
                }
            }
        }
    }
}

#[test]
fn the_largest_grid_plans_with_budgets_scaled_to_it() {
    // 256^3: the rotation map alone is 67 million values, above the fixed 64 million budget
    // that suits 100^3; the program budgets scale with the voxel count.
    let scene = presets::by_name("rubbish_in_bin").unwrap_or_else(|| panic!("preset"));
    let req = PlanRequest {
        scene,
        instruction: String::new(),
        planner: PlannerKind::Value,
        grid_size: 256,
        overrides: Vec::new(),
        keep_maps: KeepMaps::None,
    };
    let r = plan(&req).unwrap_or_else(|e| panic!("256^3: {e}"));
    assert!(r.steps.iter().all(|s| s.target_reached));
}

/// MPPI at the default 100^3 grid reaches every step of these instructions. The first four
/// first steps once failed (the nominal never moved: noisy rollouts paid more for their
/// wiggles than the shallow cost saved, until rounds started from a descent); the last three
/// failed while rollouts were scored at the horizon by the cost, whose minimum an avoidance
/// map near the target moves off it ("5cm behind the mug"; the lamp's button beside it), until
/// they were scored by the cost-to-go.
#[test]
fn mppi_reaches_the_targets_of_simple_instructions_at_100() {
    for (scene, instruction) in [
        ("rubbish_in_bin", "move up by 10cm"),
        ("rubbish_in_bin", "put the rubbish in the bin"),
        ("open_drawer", "open the top drawer"),
        ("slide_block", "slide the block to the target"),
        ("blocks_and_mug", "push the mug 10cm forward"),
        ("lamp_off", "turn off the lamp"),
        ("push_button", "push the maroon button"),
    ] {
        let req = PlanRequest {
            scene: presets::by_name(scene).unwrap_or_else(|| panic!("no preset {scene}")),
            instruction: instruction.to_string(),
            planner: PlannerKind::Mppi,
            grid_size: 100,
            overrides: Vec::new(),
            keep_maps: KeepMaps::None,
        };
        let r = plan(&req).unwrap_or_else(|e| panic!("{scene} / {instruction}: {e}"));
        for s in &r.steps {
            assert!(
                s.target_reached,
                "{scene} / {instruction}: MPPI did not reach {:?} ({} waypoints)",
                s.instruction,
                s.waypoints.len()
            );
        }
    }
}

/// The plan's JSON carries a step's warnings, and leaves the field out when there are none.
#[test]
fn a_target_outside_the_workspace_is_planned_at_its_edge_and_said() {
    let req = |instruction: &str| PlanRequest {
        scene: presets::by_name("rubbish_in_bin").unwrap_or_else(|| panic!("no preset")),
        instruction: instruction.to_string(),
        planner: PlannerKind::Value,
        grid_size: 48,
        overrides: Vec::new(),
        keep_maps: KeepMaps::None,
    };
    let r = plan(&req("move to 90cm above the bin")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.steps[0].warnings.len(), 1, "{:?}", r.steps[0].warnings);
    let json = serde_json::to_value(&r).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        json["steps"][0]["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("outside the grid"))
    );
    let r = plan(&req("move to 10cm above the bin")).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.steps[0].warnings.is_empty());
    let json = serde_json::to_value(&r).unwrap_or_else(|e| panic!("{e}"));
    assert!(json["steps"][0].get("warnings").is_none());
}

/// An MPPI plan's JSON says how many rollouts each step scored (whole rounds of the default
/// rollouts x iterations); the other planners' JSON has no such field.
#[test]
fn mppi_steps_report_their_rollouts_and_value_steps_do_not() {
    let req = |planner| PlanRequest {
        scene: presets::by_name("rubbish_in_bin").unwrap_or_else(|| panic!("no preset")),
        instruction: "move up by 10cm".to_string(),
        planner,
        grid_size: 48,
        overrides: Vec::new(),
        keep_maps: KeepMaps::None,
    };
    let r = plan(&req(PlannerKind::Mppi)).unwrap_or_else(|e| panic!("{e}"));
    // What voxposer's backends run: MPPI's default parameters.
    let cfg = valuescape_core::plan::mppi::MppiConfig::default();
    let per_round = u64::from(cfg.rollouts) * u64::from(cfg.iterations);
    for s in &r.steps {
        let n = s
            .rollouts
            .unwrap_or_else(|| panic!("{:?}: no rollouts", s.instruction));
        assert!(n >= per_round && n % per_round == 0, "{n} rollouts");
    }
    let json = serde_json::to_value(&r).unwrap_or_else(|e| panic!("{e}"));
    assert!(json["steps"][0]["rollouts"].as_u64().is_some());
    let r = plan(&req(PlannerKind::Value)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.steps[0].rollouts, None);
    let json = serde_json::to_value(&r).unwrap_or_else(|e| panic!("{e}"));
    assert!(json["steps"][0].get("rollouts").is_none());
}
