//! Closed-loop execution: a scripted disturbance moves the target mid-way; the programs are
//! re-evaluated on the moved scene, the step replanned, and execution still ends at the new
//! target.

use valuescape_core::Grid;
use valuescape_core::scene::presets;
use valuescape_voxposer::pipeline::{entity_voxel, execute};
use valuescape_voxposer::{KeepMaps, PlannerKind, ProgramSource, RuleCompiler, World};

#[test]
fn moving_the_target_mid_way_still_ends_at_the_new_target() {
    let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
    let mut world = World::new(scene, Grid::default());
    let specs = RuleCompiler
        .compile("move to 5cm above the yellow block", &world)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(specs.len(), 1);
    let before = entity_voxel(&world, "yellow block").unwrap_or_default();
    let mut moved = false;
    let mut disturb = |_step: usize, tick: usize, w: &mut World| {
        if tick == 2 && !moved {
            // Slide the yellow block 12 cm toward the robot and 8 cm to the left.
            w.scene
                .move_object("yellow block", [-0.12, -0.08, 0.0])
                .unwrap_or_else(|e| panic!("{e}"));
            moved = true;
        }
    };
    let report = execute(&mut world, &specs, PlannerKind::Value, 5, 60, &mut disturb)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(moved, "the disturbance never ran");
    let after = entity_voxel(&world, "yellow block").unwrap_or_default();
    assert_ne!(before, after);
    let step = &report[0];
    assert!(
        step.reached,
        "did not terminate at the target after {} plans",
        step.plans
    );
    assert!(
        step.plans >= 3,
        "expected replanning, got {} plans",
        step.plans
    );
    // The gripper ends above the block's new position, not the old one.
    let ee = world.ee_voxel();
    let g = world.grid;
    let top = g.cm2index(5.0, 2);
    assert!(
        (ee[0] as i64 - after[0] as i64).abs() <= 2 && (ee[1] as i64 - after[1] as i64).abs() <= 2,
        "ee {ee:?} vs block {after:?}"
    );
    assert!(ee[2] as i64 > after[2] as i64 + top - 3);
    assert!(
        (ee[1] as i64 - before[1] as i64).abs() > 3,
        "ended at the old target"
    );
}

#[test]
fn greedy_closed_loop_is_bounded_even_when_it_stalls() {
    let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
    let mut world = World::new(scene, Grid::default());
    let specs = RuleCompiler
        .compile(
            "place the blue block on the yellow block while avoiding the mug",
            &world,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let report = execute(
        &mut world,
        &specs,
        PlannerKind::Greedy,
        5,
        20,
        &mut |_, _, _| {},
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.len(), specs.len());
    assert!(report.iter().all(|s| s.plans <= 20));
}

#[test]
fn a_program_source_may_leave_out_maps_and_they_take_their_defaults() {
    use std::collections::BTreeMap;
    use valuescape_voxposer::compiler::{CompileError, StepSpec};
    use valuescape_voxposer::{MapKind, PlanRequest, plan_with};

    /// A stand-in for a language model: one hand-written affordance program, nothing else.
    struct OneProgram;
    impl ProgramSource for OneProgram {
        fn compile(
            &self,
            instruction: &str,
            _world: &World,
        ) -> Result<Vec<StepSpec>, CompileError> {
            let mut programs = BTreeMap::new();
            programs.insert(
                MapKind::Affordance,
                "a = get_empty_affordance_map()\nb = parse_query_obj('yellow block')\na[b.position[0], b.position[1], b.aabb[1][2] + cm2index(8, 'z')] = 1\nret_val = a\n".to_string(),
            );
            Ok(vec![StepSpec {
                instruction: instruction.into(),
                movable: "gripper".into(),
                planar: false,
                programs,
            }])
        }
    }
    let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
    let req = PlanRequest {
        scene: scene.clone(),
        instruction: "hover over the yellow block".into(),
        planner: PlannerKind::Value,
        grid_size: 64,
        overrides: Vec::new(),
        keep_maps: KeepMaps::All,
    };
    let r = plan_with(&req, &OneProgram, &valuescape_voxposer::CpuBackend)
        .unwrap_or_else(|e| panic!("{e}"));
    let s = &r.steps[0];
    assert!(s.target_reached);
    let m = s.maps.as_ref().unwrap_or_else(|| panic!("maps"));
    assert!(m.velocity.values().iter().all(|&v| v == 1.0));
    assert!(
        m.gripper.values().iter().all(|&v| v == 1.0),
        "the gripper starts open"
    );
    assert!(m.avoidance.values().iter().all(|&v| v == 0.0));
    let q = scene.end_effector.quat.map(|x| x as f32);
    assert!(m.rotation.values().iter().all(|r| *r == q));
}
