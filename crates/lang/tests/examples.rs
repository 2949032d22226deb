//! The VoxPoser example programs run against the mock host and paint the
//! expected voxels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use valuescape_lang::{DType, Limits, Value, parse, run};

#[test]
fn example_1_point_above_blue_block() {
    let out = ok(EXAMPLE_1);
    let m = get_array(&out, "ret_val");
    assert_eq!(m.shape, vec![20, 20, 20]);
    assert!(m.forgiving);
    // position (10, 10, 5); aabb top z = 6; 10 cm = 2 voxels.
    assert_eq!(m.get(&[10, 10, 8]), Some(1.0));
    assert_eq!(m.data.iter().sum::<f32>(), 1.0);
    assert_eq!(out.get("z").and_then(Value::as_i64), Some(8));
    // ret_val aliases affordance_map (same object).
    let Some(Value::Array(a)) = out.get("affordance_map") else {
        panic!()
    };
    let Some(Value::Array(b)) = out.get("ret_val") else {
        panic!()
    };
    assert!(std::rc::Rc::ptr_eq(a, b));
}

#[test]
fn example_2_avoid_mug() {
    let out = ok(EXAMPLE_2);
    let m = get_array(&out, "ret_val");
    // Sphere of radius 3 voxels around (5, 5, 3): 123 lattice points.
    assert_eq!(m.data.iter().filter(|&&x| x == 1.0).count(), 123);
    assert_eq!(m.get(&[5, 5, 3]), Some(1.0));
    assert_eq!(m.get(&[8, 5, 3]), Some(1.0));
    assert_eq!(m.get(&[9, 5, 3]), Some(0.0));
}

#[test]
fn example_3_all_maps() {
    let program = parse(EXAMPLE_3).unwrap();
    let out = run(
        &program,
        &mut MockHost::new(),
        &Limits::default(),
        example3_predefined(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let g = get_array(&out, "gripper_map");
    assert_eq!(g.get(&[15, 5, 3]), Some(0.0));
    assert_eq!(g.data.iter().filter(|&&x| x == 1.0).count(), 7999);

    let r = get_array(&out, "rotation_map");
    assert_eq!(r.shape, vec![20, 20, 20, 4]);
    let s = (std::f64::consts::PI / 8.0).sin() as f32;
    let c = (std::f64::consts::PI / 8.0).cos() as f32;
    for voxel in [[0, 0, 0], [19, 19, 19], [3, 7, 11]] {
        let q: Vec<f32> = (0..4)
            .map(|k| r.get(&[voxel[0], voxel[1], voxel[2], k]).unwrap())
            .collect();
        assert!((q[2] - s).abs() < 1e-6 && (q[3] - c).abs() < 1e-6, "{q:?}");
        assert_eq!(q[0], 0.0);
    }

    let v = get_array(&out, "velocity_map");
    assert!(v.data.iter().all(|&x| x == 0.5));

    // handle (10, 2, 12), normal (0, -1, 0): 30 cm = 6 voxels along +y.
    let target = get_array(&out, "target");
    assert_eq!(target.dtype, DType::Int);
    assert_eq!(target.data, vec![10.0, 8.0, 12.0]);
    let aff = get_array(&out, "affordance_map");
    assert_eq!(aff.get(&[10, 8, 12]), Some(1.0));
    assert_eq!(aff.data.iter().sum::<f32>(), 1.0);

    let center = get_array(&out, "center");
    assert_eq!(center.dtype, DType::Float);
    assert_eq!(center.data, vec![10.0, 2.0, 12.0]);

    let avoid = get_array(&out, "avoidance_map");
    assert_eq!(avoid.get(&[1, 1, 1]), Some(1.0));
    assert_eq!(avoid.get(&[2, 2, 2]), Some(0.3));

    let Some(Value::List(objs)) = out.get("objs") else {
        panic!("objs")
    };
    assert_eq!(objs.borrow().len(), 2);
    let dist = out.get("dist").and_then(Value::as_f64).unwrap();
    assert!((dist - 10.0).abs() < 1e-6, "{dist}");
}

#[test]
fn forgiving_map_out_of_range_paints_the_border() {
    let out = ok("m = get_empty_affordance_map()
block = parse_query_obj('blue block')
x, y, z = block.position
m[x + 100, y - 50, z + 0.4] = 1
m[-3, 2.5, 3.5] = 2
ret_val = m[x + 100, y, 5]
");
    let m = get_array(&out, "m");
    assert_eq!(m.get(&[19, 0, 5]), Some(1.0));
    // -3 -> 0, 2.5 -> 2 (ties to even), 3.5 -> 4.
    assert_eq!(m.get(&[0, 2, 4]), Some(2.0));
    assert_eq!(out.get("ret_val").and_then(Value::as_f64), Some(0.0));
}

#[test]
fn host_errors_carry_the_call_span() {
    let src = "x = 1\nobj = parse_query_obj('green ball')\n";
    let e = err(src);
    assert_eq!(e.kind, valuescape_lang::ErrorKind::Host);
    assert_eq!(e.message, "object 'green ball' not found in the scene");
    assert_eq!((e.span.line, e.span.col, e.span.end_col), (2, 7, 36));
    assert_eq!(e.span.text(src), Some("parse_query_obj('green ball')"));
}

#[test]
fn typo_in_object_name_is_a_name_error() {
    let src = "blue_block = parse_query_obj('blue block')\npos = blu_block.position\n";
    let e = err(src);
    assert_eq!(
        e.to_string(),
        "line 2, column 7: NameError: name 'blu_block' is not defined"
    );
}

#[test]
fn more_voxposer_style_programs() {
    // Typical LLM output: loops over a radius, numpy helpers, chained indexing.
    let out = ok("import numpy as np
affordance_map = get_empty_affordance_map()
mug = parse_query_obj('mug')
cup = parse_query_obj('cup')
mid = (mug.position + cup.position) / 2
x, y, z = mid.astype(int)
for dx in range(-1, 2):
    for dy in range(-1, 2):
        affordance_map[x + dx][y + dy][z] = 1
affordance_map[affordance_map > 0] = 0.5
top = max(mug.aabb[1][2], cup.aabb[1][2])
affordance_map[:, :, top + cm2index(5, 'z'):] = np.where(affordance_map[:, :, top + 1:] > 0, 1, 0.25)
count = int(np.sum(affordance_map == 0.5))
total = float(affordance_map.sum())
names = [o.name for o in [mug, cup] if np.linalg.norm(o.normal) > 0.5]
print('painted', count, 'voxels near', names)
ret_val = affordance_map
");
    assert_eq!(out.get("count").and_then(Value::as_i64), Some(9));
    assert_eq!(
        out.output,
        vec!["painted 9 voxels near ['mug', 'cup']".to_string()]
    );
    let m = get_array(&out, "ret_val");
    assert_eq!(m.get(&[10, 5, 3]), Some(0.5));
    assert_eq!(m.get(&[0, 0, 19]), Some(0.25));
}

#[test]
fn voxposer_prompt_style_programs() {
    // Nested unpacking of an aabb and region slicing with computed bounds.
    let out = ok("affordance_map = get_empty_affordance_map()
table = parse_query_obj('table')
(min_x, min_y, min_z), (max_x, max_y, max_z) = table.aabb
center_x, center_y, center_z = table.position
# right side so y = max_y
affordance_map[center_x, max_y, center_z] = 1
affordance_map[center_x-cm2index(10,'x'):center_x+cm2index(10,'x'), center_y-cm2index(10,'y'):center_y+cm2index(10,'y'), max_z] = 1
ret_val = affordance_map
");
    let m = get_array(&out, "ret_val");
    assert_eq!(m.get(&[10, 16, 1]), Some(1.0));
    // x in 8..12, y in 8..12 at z = 2: 16 voxels.
    assert_eq!(m.data.iter().filter(|&&v| v == 1.0).count(), 17);
    assert_eq!(out.get("max_z").and_then(Value::as_i64), Some(2));

    // A quaternion written into one voxel of a rotation map.
    let out = ok("rotation_map = get_empty_rotation_map()
bowl = parse_query_obj('mug')
target_rotation = euler2quat(0, 0, np.pi / 2)
rotation_map[bowl.position[0], bowl.position[1], bowl.position[2]] = target_rotation
ret_val = rotation_map
");
    let r = get_array(&out, "ret_val");
    let q: Vec<f32> = (0..4).map(|k| r.get(&[5, 5, 3, k]).unwrap()).collect();
    assert!(
        (q[3] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6,
        "{q:?}"
    );
    assert_eq!(r.data.iter().filter(|&&v| v != 0.0).count(), 2);

    // Velocity map slowed near an object.
    let out = ok("velocity_map = get_empty_velocity_map()
cup = parse_query_obj('cup')
set_voxel_by_radius(velocity_map, cup.position, radius_cm=20, value=0.5)
ret_val = velocity_map
");
    let v = get_array(&out, "ret_val");
    assert_eq!(v.get(&[15, 5, 3]), Some(0.5));
    assert_eq!(v.get(&[0, 19, 19]), Some(1.0));
}
