//! numpy subset: broadcasting, dtypes, indexing (normal and forgiving),
//! mask and slice assignment, functions and methods.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use valuescape_lang::{DType, ErrorKind, Limits, NdArray, NoHost, Value, parse, run};

fn np(expr: &str) -> String {
    let out = ok(&format!("import numpy as np\nret_val = {expr}"));
    format!("{:?}", out.get("ret_val").unwrap())
}

fn check(expr: &str, expected: &str) {
    assert_eq!(np(expr), expected, "expression: {expr}");
}

fn np_err(src: &str, kind: ErrorKind, msg: &str) -> valuescape_lang::LangError {
    let e = err(&format!("import numpy as np\n{src}"));
    assert_eq!(e.kind, kind, "{e}");
    assert!(
        e.message.contains(msg),
        "expected {msg:?} in {:?}",
        e.message
    );
    e
}

#[test]
fn broadcasting_rules() {
    check(
        "np.array([[1], [2]]) + np.array([10, 20, 30])",
        "[[11 21 31]\n [12 22 32]]",
    );
    check("(np.zeros((2, 1, 3)) + np.ones((4, 1))).shape", "(2, 4, 3)");
    check("np.array([1, 2, 3]) * 2", "[2 4 6]");
    check("2 - np.array([1, 2, 3])", "[ 1  0 -1]");
    check("np.array([1, 2]) + [10, 20]", "[11 22]");
    check("np.ones((2, 2)) * np.array([1, 2])", "[[1. 2.]\n [1. 2.]]");
    np_err(
        "x = np.zeros((2, 3)) + np.zeros(4)",
        ErrorKind::Value,
        "operands could not be broadcast together with shapes (2, 3) (4,)",
    );
}

#[test]
fn dtype_rules() {
    let dt = |e: &str| np(&format!("str(({e}).dtype)"));
    assert_eq!(dt("np.array([1, 2]) + np.array([3, 4])"), "'int64'");
    assert_eq!(dt("np.array([1, 2]) / np.array([3, 4])"), "'float32'");
    assert_eq!(dt("np.array([1, 2]) // 2"), "'int64'");
    assert_eq!(dt("np.array([1, 2]) * 0.5"), "'float32'");
    assert_eq!(dt("np.array([True, False]) + 1"), "'int64'");
    assert_eq!(dt("np.array([1, 2]) > 1"), "'bool'");
    assert_eq!(
        dt("(np.array([1, 2]) > 1) & (np.array([1, 2]) < 2)"),
        "'bool'"
    );
    assert_eq!(dt("np.array([1.5, 2])"), "'float32'");
    assert_eq!(dt("np.array([1, 2], dtype=np.float32)"), "'float32'");
    assert_eq!(dt("np.zeros(3, dtype=int)"), "'int64'");
    assert_eq!(dt("np.zeros(3).astype(np.uint8)"), "'int64'");
    assert_eq!(dt("np.arange(3)"), "'int64'");
    assert_eq!(dt("np.arange(0, 1, 0.5)"), "'float32'");
    check(
        "np.array([1, 2])[0], np.array([1.5])[0], np.array([True])[0]",
        "(1, 1.5, True)",
    );
    check(
        "np.array([7, -7]) // 2, np.array([7, -7]) % 3",
        "([ 3 -4], [1 2])",
    );
    check(
        "~np.array([True, False]), -np.array([1, 2])",
        "([False  True], [-1 -2])",
    );
    check(
        "np.array([1, 2]) ** 2, np.array([2.0]) ** 0.5",
        "([1 4], [1.4142135])",
    );
    np_err(
        "x = np.array([1.0]) & np.array([1.0])",
        ErrorKind::Type,
        "not supported for float arrays",
    );
    np_err(
        "x = np.array([2]) ** -1",
        ErrorKind::Value,
        "negative integer powers",
    );
}

#[test]
fn normal_indexing_follows_numpy() {
    let src = "import numpy as np
a = np.arange(24).reshape(2, 3, 4)
e = a[1, 2, 3]
neg = a[-1, -1, -1]
row = a[0, 1]
sub = a[1]
sl = a[:, 1:3, ::2]
rev = a[0, 0, ::-1]
ell = a[..., 0]
na = a[0, 0][:, None].shape
last = a[0][-1][-2]
";
    let out = ok(src);
    assert_eq!(out.get("e").and_then(Value::as_i64), Some(23));
    assert_eq!(out.get("neg").and_then(Value::as_i64), Some(23));
    assert_eq!(get_array(&out, "row").data, vec![4.0, 5.0, 6.0, 7.0]);
    assert_eq!(get_array(&out, "sub").shape, vec![3, 4]);
    let sl = get_array(&out, "sl");
    assert_eq!(sl.shape, vec![2, 2, 2]);
    assert_eq!(sl.data, vec![4.0, 6.0, 8.0, 10.0, 16.0, 18.0, 20.0, 22.0]);
    assert_eq!(get_array(&out, "rev").data, vec![3.0, 2.0, 1.0, 0.0]);
    assert_eq!(
        get_array(&out, "ell").data,
        vec![0.0, 4.0, 8.0, 12.0, 16.0, 20.0]
    );
    assert_eq!(format!("{:?}", out.get("na").unwrap()), "(4, 1)");
    assert_eq!(out.get("last").and_then(Value::as_i64), Some(10));

    let e = np_err(
        "a = np.zeros((3, 3))\nx = a[3, 0]",
        ErrorKind::Index,
        "index 3 is out of bounds for axis 0 with size 3",
    );
    assert_eq!((e.span.line, e.span.col), (3, 5));
    np_err(
        "a = np.zeros((3, 3))\nx = a[0, -4]",
        ErrorKind::Index,
        "index -4 is out of bounds for axis 1 with size 3",
    );
    np_err(
        "a = np.zeros((3, 3))\nx = a[1.5, 0]",
        ErrorKind::Type,
        "only integers, slices",
    );
    np_err(
        "a = np.zeros((3, 3))\nx = a[0, 0, 0]",
        ErrorKind::Index,
        "too many indices for array",
    );
    np_err(
        "a = np.zeros((3, 3))\nx = a[1:2.5]",
        ErrorKind::Type,
        "slice indices must be integers or None",
    );
    np_err(
        "a = np.zeros((3, 3))\nx = a['x']",
        ErrorKind::Type,
        "valid indices",
    );
    np_err(
        "a = np.zeros((3, 3))\nx = a[::0]",
        ErrorKind::Value,
        "slice step cannot be zero",
    );
}

#[test]
fn forgiving_indexing_rounds_and_clamps() {
    let src = "m = get_empty_affordance_map()
m[-1, 0, 0] = 1
m[25, 0, 0] = 2
m[3.5, 2.5, 0.49] = 3
m[1e9, -1e9, 7.6] = 4
a = m[-100, 0, 0]
b = m[100, 0, 0]
c = m[4, 2, 0]
s = m[0:2, 0, 0]
s2 = m[18:100, 0, 0]
sub = m[5]
flag_copy = m.copy()
";
    let out = ok(src);
    let m = get_array(&out, "m");
    assert_eq!(m.get(&[0, 0, 0]), Some(1.0));
    assert_eq!(m.get(&[19, 0, 0]), Some(2.0));
    assert_eq!(m.get(&[4, 2, 0]), Some(3.0));
    assert_eq!(m.get(&[19, 0, 8]), Some(4.0));
    assert_eq!(out.get("a").and_then(Value::as_f64), Some(1.0));
    assert_eq!(out.get("b").and_then(Value::as_f64), Some(2.0));
    assert_eq!(out.get("c").and_then(Value::as_f64), Some(3.0));
    assert_eq!(get_array(&out, "s").data, vec![1.0, 0.0]);
    assert_eq!(get_array(&out, "s2").data, vec![0.0, 2.0]);
    // A lower-rank sub-array is not forgiving; a same-rank copy is.
    assert!(!get_array(&out, "sub").forgiving);
    assert!(get_array(&out, "flag_copy").forgiving);
    let e = err("m = get_empty_affordance_map()\nx = m[float('nan'), 0, 0]");
    assert_eq!(e.kind, ErrorKind::Value);
    assert!(e.message.contains("NaN"));
}

#[test]
fn forgiving_flag_survives_elementwise_ops() {
    let out = ok("m = get_empty_affordance_map()
n = m * 2 + 1
z = np.zeros_like(m)
z[30, 30, 30] = 1
");
    assert!(get_array(&out, "n").forgiving);
    let z = get_array(&out, "z");
    assert!(z.forgiving);
    assert_eq!(z.get(&[19, 19, 19]), Some(1.0));
}

#[test]
fn mask_get_and_assignment() {
    let out = ok("import numpy as np
a = np.array([[0.1, 0.9], [0.7, 0.2]])
big = a[a > 0.5]
a[a > 0.5] = 1
b = np.arange(6).reshape(3, 2)
rows = b[np.array([True, False, True])]
b[b % 2 == 0] = np.array([10, 20, 30])
pts = np.array([[0, 0, 0], [5, 5, 5], [30, 1, 1]])
inside = pts[np.all((pts >= 0) & (pts < 20), axis=1)]
");
    assert_eq!(get_array(&out, "big").data, vec![0.9, 0.7]);
    assert_eq!(get_array(&out, "a").data, vec![0.1, 1.0, 1.0, 0.2]);
    let rows = get_array(&out, "rows");
    assert_eq!(
        (rows.shape.clone(), rows.data.clone()),
        (vec![2, 2], vec![0.0, 1.0, 4.0, 5.0])
    );
    assert_eq!(
        get_array(&out, "b").data,
        vec![10.0, 1.0, 20.0, 3.0, 30.0, 5.0]
    );
    assert_eq!(get_array(&out, "inside").shape, vec![2, 3]);
    np_err(
        "a = np.zeros(3)\na[np.array([True, False])] = 1",
        ErrorKind::Index,
        "boolean index did not match",
    );
    np_err(
        "a = np.zeros(4)\na[a == 0] = np.array([1, 2])",
        ErrorKind::Value,
        "could not broadcast input array from shape (2,) into shape (4,)",
    );
}

#[test]
fn slice_assignment_and_broadcast_values() {
    let out = ok("import numpy as np
m = np.zeros((4, 4, 4))
m[:, :, 0:2] = 1
m[1:3, 1:3, 3] = np.array([[5, 6], [7, 8]])
q = np.zeros((2, 2, 2, 4))
q[:, :, :] = np.array([0, 0, 0.5, 1])
q[0, 0, 0, :] = [9, 9, 9, 9]
v = np.ones(5)
v[:] = 0.5
v[::2] = np.array([1, 2, 3])
w = np.arange(5)
w[1:4] = w[0:3]
self_assign = np.arange(3)
self_assign[:] = self_assign[::-1]
t = np.zeros((2, 3))
t[0] = [1, 2, 3]
t[:, 1] += 10
");
    let m = get_array(&out, "m");
    assert_eq!(m.data.iter().filter(|&&x| x == 1.0).count(), 32);
    assert_eq!(m.get(&[2, 1, 3]), Some(7.0));
    let q = get_array(&out, "q");
    assert_eq!(q.get(&[1, 1, 1, 2]), Some(0.5));
    assert_eq!(q.get(&[0, 0, 0, 1]), Some(9.0));
    assert_eq!(get_array(&out, "v").data, vec![1.0, 0.5, 2.0, 0.5, 3.0]);
    assert_eq!(get_array(&out, "w").data, vec![0.0, 0.0, 1.0, 2.0, 4.0]);
    assert_eq!(get_array(&out, "self_assign").data, vec![2.0, 1.0, 0.0]);
    assert_eq!(
        get_array(&out, "t").data,
        vec![1.0, 12.0, 3.0, 0.0, 10.0, 0.0]
    );
    np_err(
        "m = np.zeros((2, 2))\nm[:, 0] = np.array([1, 2, 3])",
        ErrorKind::Value,
        "could not broadcast",
    );
}

#[test]
fn integer_array_indexing() {
    let out = ok("import numpy as np
m = np.zeros((5, 5, 5))
pts = np.array([[0, 1, 2], [4, 4, 4]])
m[pts[:, 0], pts[:, 1], pts[:, 2]] = 1
vals = m[[0, 4], [1, 4], [2, 4]]
rows = np.arange(10).reshape(5, 2)[[4, 0]]
");
    let m = get_array(&out, "m");
    assert_eq!(m.get(&[0, 1, 2]), Some(1.0));
    assert_eq!(m.get(&[4, 4, 4]), Some(1.0));
    assert_eq!(m.data.iter().sum::<f32>(), 2.0);
    assert_eq!(get_array(&out, "vals").data, vec![1.0, 1.0]);
    assert_eq!(get_array(&out, "rows").data, vec![8.0, 9.0, 0.0, 1.0]);
}

#[test]
fn reductions_and_functions() {
    check("np.mean([[1, 2], [3, 4]], axis=0)", "[2. 3.]");
    check("np.sum(np.ones((2, 3)), axis=1)", "[3. 3.]");
    check("np.sum(np.array([1, 2, 3]))", "6");
    check(
        "np.max([1, 5, 3]), np.argmax([1, 5, 3]), np.min([[4, 2], [1, 9]])",
        "(5, 1, 1)",
    );
    check(
        "np.array([[1, 2], [3, 4]]).sum(axis=-1), np.array([1, 2]).mean()",
        "([3 7], 1.5)",
    );
    check(
        "np.linalg.norm([3, 4]), np.linalg.norm([[3, 4], [6, 8]], axis=1)",
        "(5.0, [ 5. 10.])",
    );
    check(
        "np.sqrt(16), np.abs(-3), np.floor(2.7), np.pi / 2",
        "(4.0, 3, 2.0, 1.5707963267948966)",
    );
    check("np.clip(np.array([-5, 5, 50]), 0, 19)", "[ 0  5 19]");
    check("np.clip(25, 0, 19), np.clip(2.5, 0, 1)", "(19, 1.0)");
    check("np.where(np.array([1, 0, 2]) > 0, 10, -1)", "[10 -1 10]");
    check(
        "np.maximum(np.array([1, 5]), 3), np.minimum(2, 7)",
        "([3 5], 2)",
    );
    check(
        "np.dot([1, 2, 3], [4, 5, 6]), np.cross([1, 0, 0], [0, 1, 0])",
        "(32, [0 0 1])",
    );
    check("np.round(np.array([0.5, 1.5, 2.25]), 1)", "[0.5 1.5 2.2]");
    check("np.round(2.5), np.around(1.2345, 2)", "(2.0, 1.23)");
    check("np.linspace(0, 1, 5)", "[0.   0.25 0.5  0.75 1.  ]");
    check(
        "np.arange(2, 10, 3), np.arange(3.0)",
        "([2 5 8], [0. 1. 2.])",
    );
    check(
        "np.full((2,), 7), np.ones(2, dtype=bool)",
        "([7 7], [ True  True])",
    );
    check(
        "np.stack([np.zeros(2), np.ones(2)]).shape, np.concatenate([[1], [2, 3]])",
        "((2, 2), [1 2 3])",
    );
    check(
        "np.vstack([[1, 2], [3, 4]]).shape, np.hstack([[1], [2]])",
        "((2, 2), [1 2])",
    );
    check(
        "np.isclose(0.1 + 0.2, 0.3), np.allclose([1, 2], [1, 2.0000001])",
        "(True, True)",
    );
    check(
        "np.any(np.array([0, 0, 1])), np.all([1, 1, 0])",
        "(True, False)",
    );
    check(
        "np.deg2rad(180), np.rad2deg(np.pi)",
        "(3.141592653589793, 180.0)",
    );
    check(
        "np.sign(np.array([-2, 0, 3])), np.square(3)",
        "([-1  0  1], 9)",
    );
    check(
        "np.arctan2(1, 1) * 4, np.cos(0), np.exp(0)",
        "(3.141592653589793, 1.0, 1.0)",
    );
    check("np.nonzero(np.array([0, 3, 0, 4]))", "([1 3],)");
    check("np.argwhere(np.array([[0, 1], [1, 0]]))", "[[0 1]\n [1 0]]");
    check(
        "np.array([[1, 2], [3, 4]]).T, np.eye(2)",
        "([[1 3]\n [2 4]], [[1. 0.]\n [0. 1.]])",
    );
    check(
        "np.array([[1, 2], [3, 4]]).tolist(), np.zeros((2, 3)).size",
        "([[1, 2], [3, 4]], 6)",
    );
    check(
        "np.arange(6).reshape((2, -1)).shape, np.zeros((2, 3)).flatten().shape",
        "((2, 3), (6,))",
    );
    check(
        "np.unique([3, 1, 3, 2]), np.sort([3, 1, 2])",
        "([1 2 3], [1 2 3])",
    );
    check(
        "np.median([3, 1, 2, 10]), np.std([1, 1, 1]), np.count_nonzero([0, 1, 2])",
        "(2.5, 0.0, 2)",
    );
    check(
        "np.array([1.5]).item(), np.float32(2), np.int32(3.9), np.array(5)",
        "(1.5, 2.0, 3, 5)",
    );
    check(
        "np.zeros((2, 2)).ndim, np.shape([[1, 2, 3]]), len(np.zeros((4, 2)))",
        "(2, (1, 3), 4)",
    );
    check(
        "np.expand_dims(np.zeros(3), 0).shape, np.zeros((1, 3, 1)).squeeze().shape",
        "((1, 3), (3,))",
    );
    check(
        "np.mean(np.zeros((2, 3)), axis=0, keepdims=True).shape",
        "(1, 3)",
    );
    check(
        "np.outer([1, 2], [1, 2]), np.array_equal([1, 2], np.array([1, 2]))",
        "([[1 2]\n [2 4]], True)",
    );
    check(
        "np.inf > 1e308, np.isnan(np.nan), np.newaxis is None",
        "(True, True, True)",
    );
    check(
        "np.zeros(3).sum().item(), np.array([1.7])[0].astype(int), (2).tolist()",
        "(0.0, 1, 2)",
    );
    check(
        "np.array([1, 2, 3]) == np.array([1, 0, 3])",
        "[ True False  True]",
    );
    check(
        "3 in np.array([1, 2, 3]), list(np.array([4, 5]))",
        "(True, [4, 5])",
    );
    np_err(
        "x = np.max(np.zeros(0))",
        ErrorKind::Value,
        "zero-size array",
    );
    np_err(
        "x = np.mean(np.zeros((2, 2)), axis=2)",
        ErrorKind::Index,
        "axis 2 is out of bounds",
    );
    np_err(
        "x = np.array([[1, 2], [3]])",
        ErrorKind::Value,
        "inhomogeneous",
    );
    np_err("x = np.zeros(-1)", ErrorKind::Value, "negative dimensions");
    np_err(
        "x = np.array([1, 2]).reshape(3)",
        ErrorKind::Value,
        "cannot reshape array of size 2 into shape (3,)",
    );
    np_err(
        "x = np.dot(np.zeros(2), np.zeros(3))",
        ErrorKind::Value,
        "not aligned",
    );
    np_err(
        "x = np.zeros(3, dtype='complex')",
        ErrorKind::Type,
        "data type 'complex' not understood",
    );
    np_err("x = np.array(None)", ErrorKind::Type, "cannot convert None");
    np_err(
        "x = np.zeros((2, 2)).nope()",
        ErrorKind::Type,
        "'ndarray' object has no attribute 'nope'",
    );
    np_err(
        "x = np.foo(1)",
        ErrorKind::Type,
        "module 'numpy' has no attribute 'foo'",
    );
}

#[test]
fn iteration_and_unpacking_over_arrays() {
    let out = ok("import numpy as np
total = 0
for row in np.arange(6).reshape(3, 2):
    a, b = row
    total += a * b
xs = [float(v) for v in np.array([0.5, 1.5])]
i, j, k = np.array([1, 2, 3])
");
    assert_eq!(out.get("total").and_then(Value::as_i64), Some(6 + 20));
    assert_eq!(format!("{:?}", out.get("xs").unwrap()), "[0.5, 1.5]");
    assert_eq!(out.get("k").and_then(Value::as_i64), Some(3));
}

#[test]
fn host_arrays_are_validated() {
    // An inconsistent array from a host is an error, not a panic.
    let bad = NdArray {
        shape: vec![10],
        data: vec![1.0],
        dtype: DType::Float,
        forgiving: false,
    };
    let p = parse("x = m[5]\n").unwrap();
    let e = run(
        &p,
        &mut NoHost,
        &Limits::default(),
        vec![("m".to_string(), Value::array(bad))],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Value);
    assert!(e.message.contains("inconsistent array"), "{}", e.message);
}

#[test]
fn array_printing() {
    let out = ok(
        "import numpy as np\nprint(np.zeros((2, 2, 2), dtype=int))\nprint(np.arange(2000))\nprint(np.array([1e-5, 1.0]))\n",
    );
    assert_eq!(
        out.output,
        vec![
            "[[[0 0]",
            "  [0 0]]",
            "",
            " [[0 0]",
            "  [0 0]]]",
            "[   0    1    2 ... 1997 1998 1999]",
            "[1.e-05 1.e+00]"
        ]
    );
}

/// Integers rounded to negative decimals, a NaN's median and a range too long for `len`:
/// each as Python and NumPy give it.
#[test]
fn integer_rounding_nan_medians_and_overlong_lengths_follow_python_and_numpy() {
    check("round(1234, -2)", "1200");
    check("round(1250, -2)", "1200");
    check("round(1350, -2)", "1400");
    check("round(-1250, -2)", "-1200");
    check("round(5, -20)", "0");
    check("round(1234)", "1234");
    check("np.round(1234, -2)", "1200");
    check("np.round(np.array([1234, 5678]), -2)", "[1200 5700]");
    check("np.isnan(np.median(np.array([1.0, np.nan, 3.0])))", "True");
    check("np.median(np.array([1.0, 5.0, 3.0]))", "3.0");
    np_err(
        "n = len(range(-2**62*2, 2**62-1+2**62))",
        ErrorKind::Value,
        "does not fit an int",
    );
}

/// Integers format from their own digits, not through f64 (which rounds past 2^53).
#[test]
fn large_integers_format_exactly() {
    check("'{:d}'.format(2**62+1)", "'4611686018427387905'");
    check("'{:,}'.format(2**60+1)", "'1,152,921,504,606,846,977'");
    check("'{:d}'.format(-2**62 * 2)", "'-9223372036854775808'");
    check("'{}'.format(2**62+1)", "'4611686018427387905'");
}
