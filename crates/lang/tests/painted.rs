//! Painted arrays: a program run on a painting a host handed out ends with the same array,
//! the same clamped indices and the same errors as the same program run on a dense array;
//! and a program that only paints leaves the array a painting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use valuescape_lang::{
    Budget, DType, Host, LangError, Limits, NdArray, Outcome, PaintedState, Painting, Value,
    paint_box, parse, run,
};

const SHAPE: [usize; 3] = [6, 5, 4];
const QUAT: [f32; 4] = [0.0, 0.0, 0.0, 1.0];

/// `empty_map()` (a 6x5x4 forgiving map of 0.5), `empty_rot()` (a quaternion per voxel) and
/// `paint_box(map, lo, hi, value)`, lazily or densely.
struct PaintHost {
    lazy: bool,
}

fn array_of(v: &Value) -> Option<Vec<f64>> {
    v.to_f64_vec()
}

impl Host for PaintHost {
    fn global(&mut self, name: &str) -> Option<Value> {
        matches!(name, "empty_map" | "empty_rot" | "paint_box").then(|| Value::HostFn(name.into()))
    }

    fn call(
        &mut self,
        name: &str,
        args: Vec<Value>,
        _kwargs: Vec<(String, Value)>,
        budget: &mut Budget,
    ) -> Result<Value, String> {
        let (inner, base): (Vec<usize>, Vec<f32>) = match name {
            "empty_map" => (vec![], vec![0.5]),
            "empty_rot" => (vec![4], QUAT.to_vec()),
            "paint_box" => {
                let lo = args.get(1).and_then(array_of).ok_or("lo")?;
                let hi = args.get(2).and_then(array_of).ok_or("hi")?;
                let value = args.get(3).and_then(array_of).ok_or("value")?;
                let lo: Vec<usize> = lo.iter().map(|&x| x as usize).collect();
                let hi: Vec<usize> = hi.iter().map(|&x| x as usize).collect();
                let value: Vec<f32> = value.iter().map(|&x| x as f32).collect();
                return match args.first() {
                    Some(Value::Painted(p)) => {
                        p.paint(&lo, &hi, &value, budget).map(|()| Value::None)
                    }
                    Some(Value::Array(a)) => {
                        paint_box(&mut a.borrow_mut(), &lo, &hi, &value, budget)
                            .map(|()| Value::None)
                    }
                    _ => Err("paint_box needs a map".into()),
                };
            }
            _ => return Err(format!("unknown {name}")),
        };
        if self.lazy {
            let p = Painting::filled(SHAPE.to_vec(), inner, base, true).ok_or("bad painting")?;
            Ok(Value::painted(p))
        } else {
            let shape: Vec<usize> = SHAPE.iter().copied().chain(inner).collect();
            let n: usize = SHAPE.iter().product();
            Ok(Value::array(NdArray {
                shape,
                data: base.repeat(n),
                dtype: DType::Float,
                forgiving: true,
            }))
        }
    }

    fn painted_argument(&self, name: &str) -> Option<(usize, &'static str)> {
        (name == "paint_box").then_some((0, "map"))
    }
}

fn go(src: &str, lazy: bool) -> Result<Outcome, LangError> {
    let program = parse(src).unwrap();
    run(
        &program,
        &mut PaintHost { lazy },
        &Limits::default(),
        vec![],
    )
}

/// A variable's array, dense, whichever way it is held.
fn dense(out: &Outcome, name: &str) -> Option<NdArray> {
    match out.get(name)? {
        Value::Array(a) => Some(a.borrow().clone()),
        Value::Painted(p) => Some(match p.state() {
            PaintedState::Lazy(p) => p.to_array(),
            PaintedState::Dense(a) => a.borrow().clone(),
        }),
        _ => None,
    }
}

#[test]
fn a_program_that_only_paints_leaves_a_painting() {
    let src = "import numpy as np
m = empty_map()
m[:, :, :] = 0
x, y, z = 2, 3.5, 9
m[x, y, z] = 1
m[1:3, :, 2] = 0.25
paint_box(m, [0, 0, 0], [2, 2, 2], 7)
r = empty_rot()
r[:, :, :] = np.array([1.0, 0.0, 0.0, 0.0])
r[1, 1, 1] = [0.5, 0.5, 0.5, 0.5]
ret_val = m
";
    let out = go(src, true).unwrap();
    let Some(Value::Painted(p)) = out.get("ret_val") else {
        panic!("ret_val is not a painting: {:?}", out.get("ret_val"));
    };
    let PaintedState::Lazy(p) = p.state() else {
        panic!("the map was made dense");
    };
    assert_eq!(p.base, vec![0.0], "a fill replaces the base");
    assert_eq!(p.boxes.len(), 3);
    assert_eq!(
        p.boxes[0].lo,
        vec![2, 4, 3],
        "3.5 rounds to 4 (ties to even), 9 clamps to 3"
    );
    assert_eq!(out.clamped.len(), 1);
    let Some(Value::Painted(r)) = out.get("r") else {
        panic!("r is not a painting");
    };
    let PaintedState::Lazy(r) = r.state() else {
        panic!("the rotation map was made dense");
    };
    assert_eq!(r.base, vec![1.0, 0.0, 0.0, 0.0]);
    assert_eq!(r.boxes.len(), 1);
    let dense_run = go(src, false).unwrap();
    assert_eq!(dense(&out, "ret_val"), dense(&dense_run, "ret_val"));
    assert_eq!(dense(&out, "r"), dense(&dense_run, "r"));
}

#[test]
fn reading_a_painting_makes_every_alias_dense() {
    let out = go(
        "m = empty_map()\nn = m\nm[0, 0, 0] = 2\ns = n.sum()\nn[1, 1, 1] = 3\n",
        true,
    )
    .unwrap();
    for name in ["m", "n"] {
        let Some(Value::Painted(p)) = out.get(name) else {
            panic!("{name} is not the painted value");
        };
        assert!(
            !p.is_lazy(),
            "{name} should have been made dense by n.sum()"
        );
    }
    let m = dense(&out, "m").unwrap();
    assert_eq!(m.data[0], 2.0);
    assert_eq!(
        m.data[(5 + 1) * 4 + 1],
        3.0,
        "the alias wrote into the same array"
    );
    assert_eq!(
        out.get("s").and_then(Value::as_f64),
        Some(0.5 * 119.0 + 2.0)
    );
}

/// One statement of a random program over `m` (a map) and `r` (a rotation map).
fn statement() -> impl Strategy<Value = String> {
    let idx = prop_oneof![
        (-8i64..10).prop_map(|i| i.to_string()),
        (-40i32..60).prop_map(|i| format!("{}", i as f64 / 4.0)),
    ];
    let slice = prop_oneof![
        Just(":".to_string()),
        (-7i64..8, -7i64..9).prop_map(|(a, b)| format!("{a}:{b}")),
        (0i64..4).prop_map(|a| format!("{a}:")),
        (1i64..4).prop_map(|s| format!("::{s}")),
    ];
    let item = prop_oneof![idx.clone(), slice];
    let items = prop::collection::vec(item, 1..5).prop_map(|v| v.join(", "));
    let value = prop_oneof![
        (-3i32..4).prop_map(|v| v.to_string()),
        Just("True".to_string()),
        Just("0.125".to_string()),
        Just("[1, 2]".to_string()),
        Just("np.ones((1, 1))".to_string()),
        Just("'a'".to_string()),
        Just("n".to_string()),
        Just("m".to_string()),
    ];
    let quat = prop_oneof![
        Just("[0.5, 0.5, 0.5, 0.5]".to_string()),
        Just("np.array([[0.0, 1.0, 0.0, 0.0]])".to_string()),
        Just("2".to_string()),
        Just("[1, 2, 3]".to_string()),
    ];
    prop_oneof![
        4 => (items.clone(), value.clone()).prop_map(|(i, v)| format!("m[{i}] = {v}")),
        2 => (idx.clone(), idx.clone(), idx.clone(), value.clone())
            .prop_map(|(a, b, c, v)| format!("m[{a}, {b}, {c}] = {v}")),
        1 => value.clone().prop_map(|v| format!("m[:, :, :] = {v}")),
        1 => value.clone().prop_map(|v| format!("m[...] = {v}")),
        1 => value.clone().prop_map(|v| format!("m[m > 0.6] = {v}")),
        1 => (idx.clone(), value.clone()).prop_map(|(a, v)| format!("m[{a}, 1, 2] += {v}")),
        1 => Just("s = m.sum() + r.sum()".to_string()),
        1 => Just("n = m".to_string()),
        1 => Just("n = k = m".to_string()),
        1 => Just("l = [0, 0]\nl[0] = m\ns = l[0].sum()".to_string()),
        1 => Just("n = m.copy()".to_string()),
        1 => Just("m = empty_map()".to_string()),
        1 => Just("m = empty_map() + 0".to_string()),
        1 => Just("l = list(map(empty_map, [1]))\ns = np.array(l).sum()".to_string()),
        1 => Just("l = list(filter(empty_map, [1]))".to_string()),
        1 => Just("m['a'] = 1".to_string()),
        1 => (idx.clone(), value.clone()).prop_map(|(a, v)| format!("m[{a}, 'a'] = {v}")),
        1 => Just("paint_box(m, n, [1, 1, 1], [1])".to_string()),
        1 => Just("paint_box(m, [0, 0], [2, 2], [1])".to_string()),
        1 => Just("paint_box(m, [0, 0, 0], [2, 2, 2], [1, 2])".to_string()),
        1 => Just("s = empty_rot().sum()".to_string()),
        1 => Just("l = [empty_map()]\ns = l[0].sum()".to_string()),
        1 => (idx.clone(), value.clone()).prop_map(|(a, v)| format!("n[{a}] = {v}")),
        1 => ((0usize..7, 0usize..6, 0usize..5), (0usize..8, 0usize..7, 0usize..6), -2i32..3)
            .prop_map(|(lo, hi, v)| format!(
                "paint_box(m, [{}, {}, {}], [{}, {}, {}], [{v}])", lo.0, lo.1, lo.2, hi.0, hi.1, hi.2
            )),
        2 => (items, quat.clone()).prop_map(|(i, q)| format!("r[{i}] = {q}")),
        1 => (idx.clone(), idx, quat).prop_map(|(a, b, q)| format!("r[{a}, {b}, 0] = {q}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A painting behaves exactly as the dense array it stands for.
    #[test]
    fn a_painting_runs_as_its_dense_array(stmts in prop::collection::vec(statement(), 1..9)) {
        let src = format!(
            "import numpy as np\nm = empty_map()\nr = empty_rot()\nn = m\ns = 0\n{}\n",
            stmts.join("\n")
        );
        let lazy = go(&src, true);
        let dense_run = go(&src, false);
        match (&lazy, &dense_run) {
            (Ok(a), Ok(b)) => {
                for name in ["m", "r", "n"] {
                    prop_assert_eq!(dense(a, name), dense(b, name), "{} differs in\n{}", name, src);
                }
                prop_assert_eq!(a.get("s").and_then(Value::as_f64), b.get("s").and_then(Value::as_f64));
                prop_assert_eq!(&a.clamped, &b.clamped, "clamped indices differ in\n{}", src);
                prop_assert_eq!(a.clamped_count, b.clamped_count);
            }
            (Err(a), Err(b)) => {
                prop_assert_eq!(a.to_string(), b.to_string(), "errors differ in\n{}", src);
            }
            _ => prop_assert!(false, "one run failed:\n{src}\nlazy: {lazy:?}\ndense: {dense_run:?}"),
        }
    }
}

/// Hosts get an error, never a panic, for paintings and boxes that cannot hold values.
#[test]
fn empty_paintings_and_boxes_are_refused() {
    assert!(Painting::filled(vec![4, 4], vec![0], vec![], true).is_none());
    assert!(Painting::filled(vec![], vec![4], vec![0.0; 4], true).is_none());
    assert!(Painting::filled(vec![4, 4], vec![2], vec![0.0; 3], true).is_none());
    let p = valuescape_lang::Painted::new(
        Painting::filled(vec![4, 4], vec![], vec![0.0], true).expect("a painting"),
    );
    let mut budget = Budget::new(&Limits::default());
    assert!(p.paint(&[0, 0], &[2, 2], &[], &mut budget).is_err());
    assert!(p.paint(&[0], &[2], &[1.0], &mut budget).is_err());
    p.dense(&mut budget).expect("made dense");
    assert!(p.paint(&[0, 0], &[2, 2], &[], &mut budget).is_err());
    p.paint(&[1, 1], &[9, 9], &[3.0], &mut budget)
        .expect("a box past the edge is clipped");
    let PaintedState::Dense(a) = p.state() else {
        panic!("dense")
    };
    assert_eq!(a.borrow().data.iter().filter(|&&x| x == 3.0).count(), 9);
}

/// Making a painting dense costs the operation budget no more than the dense array's own
/// assignments did (a fill of the whole map is not charged again when it is read).
#[test]
fn a_painting_costs_no_more_operations_than_its_dense_array() {
    for src in [
        "r = empty_rot()\ns = r.sum()",
        "m = empty_map()\nm[1:3, :, 2] = 4\ns = m.sum()",
        "m = empty_map()\nm[:, :, :] = 2\nm[0, 0, 0] = 1\ns = m.max()",
    ] {
        let lazy = go(src, true).unwrap();
        let dense_run = go(src, false).unwrap();
        assert!(
            lazy.ops <= dense_run.ops + 8,
            "{src}: {} operations painted against {} dense",
            lazy.ops,
            dense_run.ops
        );
        let s = |o: &Outcome| o.get("s").and_then(Value::as_f64);
        assert!(s(&lazy).is_some());
        assert_eq!(s(&lazy), s(&dense_run));
    }
}
