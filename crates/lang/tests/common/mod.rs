//! A mock VoxPoser host for tests: a 20x20x20 voxel workspace where one
//! voxel is 5 cm.
#![allow(dead_code)]

use std::collections::BTreeMap;

use valuescape_lang::{Budget, DType, LangError, Limits, NdArray, Outcome, Value, parse, run};

pub const N: usize = 20;
pub const VOXEL_CM: f64 = 5.0;

pub struct MockHost {
    pub calls: Vec<String>,
}

impl MockHost {
    pub fn new() -> MockHost {
        MockHost { calls: Vec::new() }
    }
}

fn int_array(shape: Vec<usize>, data: &[f32]) -> Value {
    Value::array(NdArray::from_vec(shape, data.to_vec(), DType::Int).unwrap())
}

fn float_array(shape: Vec<usize>, data: &[f32]) -> Value {
    Value::array(NdArray::from_vec(shape, data.to_vec(), DType::Float).unwrap())
}

/// (name, position, aabb min, aabb max, normal).
pub type SceneObject = (&'static str, [f32; 3], [f32; 3], [f32; 3], [f32; 3]);

/// The objects the mock scene contains.
pub const OBJECTS: &[SceneObject] = &[
    (
        "blue block",
        [10.0, 10.0, 5.0],
        [9.0, 9.0, 4.0],
        [11.0, 11.0, 6.0],
        [0.0, 0.0, 1.0],
    ),
    (
        "mug",
        [5.0, 5.0, 3.0],
        [4.0, 4.0, 1.0],
        [6.0, 6.0, 5.0],
        [0.0, 0.0, 1.0],
    ),
    (
        "cup",
        [15.0, 5.0, 3.0],
        [14.0, 4.0, 1.0],
        [16.0, 6.0, 5.0],
        [0.0, 0.0, 1.0],
    ),
    (
        "topmost drawer handle",
        [10.0, 2.0, 12.0],
        [9.0, 1.0, 11.0],
        [11.0, 3.0, 13.0],
        [0.0, -1.0, 0.0],
    ),
    (
        "table",
        [10.0, 10.0, 1.0],
        [2.0, 3.0, 0.0],
        [17.0, 16.0, 2.0],
        [0.0, 0.0, 1.0],
    ),
];

pub fn object(name: &str) -> Option<Value> {
    let (n, pos, lo, hi, normal) = OBJECTS.iter().find(|o| o.0 == name)?;
    let mut attrs = BTreeMap::new();
    attrs.insert("name".to_string(), Value::str(n));
    attrs.insert("position".to_string(), int_array(vec![3], pos));
    let aabb: Vec<f32> = lo.iter().chain(hi.iter()).copied().collect();
    attrs.insert("aabb".to_string(), int_array(vec![2, 3], &aabb));
    attrs.insert("normal".to_string(), float_array(vec![3], normal));
    Some(Value::object("Object", attrs))
}

pub fn empty_map(fill: f32, last: Option<usize>, budget: &mut Budget) -> Result<Value, String> {
    let mut shape = vec![N, N, N];
    if let Some(l) = last {
        shape.push(l);
    }
    let n: usize = shape.iter().product();
    budget.alloc(n as u64)?;
    Ok(Value::array(
        NdArray::filled(shape, fill, DType::Float).with_forgiving(true),
    ))
}

fn kwarg<'a>(kwargs: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

impl valuescape_lang::Host for MockHost {
    fn global(&mut self, name: &str) -> Option<Value> {
        match name {
            "get_empty_affordance_map"
            | "get_empty_avoidance_map"
            | "get_empty_gripper_map"
            | "get_empty_rotation_map"
            | "get_empty_velocity_map"
            | "parse_query_obj"
            | "cm2index"
            | "set_voxel_by_radius"
            | "euler2quat" => Some(Value::HostFn(name.into())),
            _ => None,
        }
    }

    fn call(
        &mut self,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        budget: &mut Budget,
    ) -> Result<Value, String> {
        self.calls.push(name.to_string());
        budget.charge_ops(1)?;
        match name {
            "get_empty_affordance_map" | "get_empty_avoidance_map" | "get_empty_gripper_map" => {
                empty_map(0.0, None, budget)
            }
            "get_empty_velocity_map" => empty_map(1.0, None, budget),
            "get_empty_rotation_map" => empty_map(0.0, Some(4), budget),
            "parse_query_obj" => {
                let q = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or("parse_query_obj expects a string")?;
                object(q).ok_or_else(|| format!("object '{q}' not found in the scene"))
            }
            "cm2index" => {
                let cm = args
                    .first()
                    .and_then(Value::as_f64)
                    .ok_or("cm2index expects a number of cm")?;
                let what = args
                    .get(1)
                    .ok_or("cm2index expects an axis or a direction")?;
                let voxels = cm / VOXEL_CM;
                if let Some(axis) = what.as_str() {
                    if !matches!(axis, "x" | "y" | "z") {
                        return Err(format!("unknown axis '{axis}'"));
                    }
                    return Ok(Value::Int(voxels.round() as i64));
                }
                let v = what
                    .to_f64_vec()
                    .ok_or("cm2index expects an axis name or a vector")?;
                if v.len() != 3 {
                    return Err("direction must have 3 components".into());
                }
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm == 0.0 {
                    return Err("direction must not be zero".into());
                }
                let data: Vec<f32> = v
                    .iter()
                    .map(|x| (x / norm * voxels).round() as f32)
                    .collect();
                Ok(int_array(vec![3], &data))
            }
            "set_voxel_by_radius" => {
                let map = args.first().ok_or("set_voxel_by_radius expects a map")?;
                let Value::Array(map) = map else {
                    return Err("first argument must be a voxel map".into());
                };
                let center = args
                    .get(1)
                    .and_then(Value::to_f64_vec)
                    .filter(|c| c.len() == 3)
                    .ok_or("position must be 3 numbers")?;
                let radius_cm = kwarg(&kwargs, "radius_cm")
                    .or(args.get(2))
                    .and_then(Value::as_f64)
                    .ok_or("radius_cm is required")?;
                let value = kwarg(&kwargs, "value")
                    .or(args.get(3))
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0);
                let r = radius_cm / VOXEL_CM;
                let mut m = map.try_borrow_mut().map_err(|_| "map is in use")?;
                if m.shape.len() != 3 {
                    return Err("map must be 3-dimensional".into());
                }
                let (nx, ny, nz) = (m.shape[0], m.shape[1], m.shape[2]);
                budget.charge_ops((nx * ny * nz) as u64)?;
                for x in 0..nx {
                    for y in 0..ny {
                        for z in 0..nz {
                            let d2 = (x as f64 - center[0]).powi(2)
                                + (y as f64 - center[1]).powi(2)
                                + (z as f64 - center[2]).powi(2);
                            if d2 <= r * r {
                                m.set(&[x, y, z], value as f32);
                            }
                        }
                    }
                }
                Ok(Value::None)
            }
            "euler2quat" => {
                let v: Vec<f64> = args.iter().filter_map(Value::as_f64).collect();
                let [r, p, y] = v[..] else {
                    return Err("euler2quat expects 3 angles".into());
                };
                let (cr, sr) = ((r / 2.0).cos(), (r / 2.0).sin());
                let (cp, sp) = ((p / 2.0).cos(), (p / 2.0).sin());
                let (cy, sy) = ((y / 2.0).cos(), (y / 2.0).sin());
                let q = [
                    sr * cp * cy - cr * sp * sy,
                    cr * sp * cy + sr * cp * sy,
                    cr * cp * sy - sr * sp * cy,
                    cr * cp * cy + sr * sp * sy,
                ];
                let data: Vec<f32> = q.iter().map(|&x| x as f32).collect();
                Ok(float_array(vec![4], &data))
            }
            _ => Err(format!("unknown function '{name}'")),
        }
    }
}

/// Runs `src` against the mock host with default limits.
pub fn run_src(src: &str) -> Result<Outcome, LangError> {
    run_with(src, &Limits::default(), Vec::new())
}

pub fn run_with(
    src: &str,
    limits: &Limits,
    predefined: Vec<(String, Value)>,
) -> Result<Outcome, LangError> {
    let program = parse(src)?;
    run(&program, &mut MockHost::new(), limits, predefined)
}

/// Runs and unwraps, with a readable failure message.
pub fn ok(src: &str) -> Outcome {
    match run_src(src) {
        Ok(o) => o,
        Err(e) => panic!("program failed: {e}\n--- source ---\n{src}"),
    }
}

/// Runs and expects an error.
pub fn err(src: &str) -> LangError {
    match run_src(src) {
        Ok(_) => panic!("program unexpectedly succeeded:\n{src}"),
        Err(e) => e,
    }
}

/// Evaluates `expr` and returns Python `repr`-like text of the result.
pub fn eval(expr: &str) -> String {
    let out = ok(&format!("ret_val = {expr}"));
    format!("{:?}", out.get("ret_val").unwrap())
}

pub fn get_array(out: &Outcome, name: &str) -> NdArray {
    out.get(name)
        .and_then(|v| v.as_array().map(|a| a.clone()))
        .unwrap_or_else(|| panic!("{name} is not an array"))
}

pub fn predefined_objects() -> Vec<(String, Value)> {
    vec![
        ("a".to_string(), object("mug").unwrap()),
        ("b".to_string(), object("cup").unwrap()),
    ]
}

pub const EXAMPLE_1: &str = "# Query: a point 10cm above the blue block.
affordance_map = get_empty_affordance_map()
blue_block = parse_query_obj('blue block')
x, y, z = blue_block.position
z = blue_block.aabb[1][2] + cm2index(10, 'z')
affordance_map[x, y, z] = 1
ret_val = affordance_map
";

pub const EXAMPLE_2: &str = "import numpy as np
avoidance_map = get_empty_avoidance_map()
mug = parse_query_obj('mug')
set_voxel_by_radius(avoidance_map, mug.position, radius_cm=15, value=1)
ret_val = avoidance_map
";

pub const EXAMPLE_3: &str = "gripper_map = get_empty_gripper_map()
gripper_map[:, :, :] = 1          # open everywhere
cup = parse_query_obj('cup')
set_voxel_by_radius(gripper_map, cup.position, radius_cm=1, value=0)
rotation_map = get_empty_rotation_map()
rotation_map[:, :, :] = euler2quat(0, 0, np.pi / 4)   # shape-[4] value broadcast over [nx,ny,nz,4]
velocity_map = get_empty_velocity_map()
velocity_map[:] = 0.5
handle = parse_query_obj('topmost drawer handle')
target = handle.position + cm2index(30, -handle.normal)   # int array + int array
affordance_map[target[0], target[1], target[2]] = 1
center = np.mean(handle.aabb, axis=0)
avoidance_map[avoidance_map > 0.5] = 1
for i in range(3):
    if i == 1 and not handle is None:
        pass
objs = [o for o in [a, b] if o is not None]
dist = np.linalg.norm(np.array(a.position) - np.array(b.position))
";

/// Predefined variables for EXAMPLE_3.
pub fn example3_predefined() -> Vec<(String, Value)> {
    let mut budget = Budget::new(&Limits::default());
    let aff = empty_map(0.0, None, &mut budget).unwrap();
    let avoid = empty_map(0.0, None, &mut budget).unwrap();
    if let Value::Array(a) = &avoid {
        let mut a = a.borrow_mut();
        a.set(&[1, 1, 1], 0.7);
        a.set(&[2, 2, 2], 0.3);
    }
    let mut v = predefined_objects();
    v.push(("affordance_map".to_string(), aff));
    v.push(("avoidance_map".to_string(), avoid));
    v
}
