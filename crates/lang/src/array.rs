//! `NdArray`: a small numpy-like n-dimensional array (C order, `f32`
//! storage with a dtype tag), with broadcasting, elementwise operations,
//! reductions and indexing.
//!
//! Every function that allocates checks the [`Budget`] first, and no
//! function indexes `data` in a way that can panic: arrays coming from a
//! host are validated with [`NdArray::check`] before use.

use crate::budget::Budget;
use crate::error::{R, index_err, limit_err, type_err, value_err};

/// Maximum number of dimensions of an array.
pub const MAX_NDIM: usize = 32;

/// Element type of an [`NdArray`]. Values are stored as `f32`; the tag
/// decides how elements behave and print. `Bool` elements are 0.0/1.0,
/// `Int` elements are integral (exact up to 2^24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DType {
    /// Booleans (0.0 or 1.0).
    Bool,
    /// Integers (stored as integral `f32`).
    Int,
    /// Floating point numbers.
    Float,
}

impl DType {
    /// numpy-style name: `bool`, `int64` or `float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int => "int64",
            DType::Float => "float32",
        }
    }

    /// Converts a number to the stored representation of this dtype:
    /// booleans become 0/1, integers are truncated toward zero (NaN becomes
    /// 0), floats are rounded to `f32`.
    pub fn coerce(self, x: f64) -> f32 {
        match self {
            DType::Bool => {
                if x != 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            DType::Int => {
                if x.is_nan() {
                    0.0
                } else {
                    x.trunc().clamp(-9.2e18, 9.2e18) as f32
                }
            }
            DType::Float => x as f32,
        }
    }
}

/// An n-dimensional array in C (row-major) order.
///
/// Invariant expected by the interpreter: `data.len()` equals the product of
/// `shape` (checked whenever an array is used; an inconsistent array is an
/// error, not a panic). A 0-dimensional array (`shape == []`) holds one
/// element.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    /// Size of each dimension.
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: Vec<f32>,
    /// Element type.
    pub dtype: DType,
    /// Forgiving indexing: integer/float indices are rounded to the nearest
    /// integer (ties to even) and clamped into range instead of failing.
    /// Hosts set this on voxel maps.
    pub forgiving: bool,
}

impl NdArray {
    /// An array of zeros. The caller is responsible for the size being
    /// reasonable (the interpreter itself checks its budget before
    /// allocating). If the element count overflows, the array is created
    /// without data and will be rejected as inconsistent when used.
    pub fn zeros(shape: Vec<usize>, dtype: DType) -> NdArray {
        NdArray::filled(shape, 0.0, dtype)
    }

    /// An array with every element set to `value` (coerced to `dtype`).
    pub fn filled(shape: Vec<usize>, value: f32, dtype: DType) -> NdArray {
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .unwrap_or(0);
        NdArray {
            shape,
            data: vec![dtype.coerce(f64::from(value)); n],
            dtype,
            forgiving: false,
        }
    }

    /// An array from C-ordered data; fails if `data.len()` does not match
    /// the shape. Elements are coerced to `dtype` (see [`DType::coerce`]).
    pub fn from_vec(shape: Vec<usize>, data: Vec<f32>, dtype: DType) -> Result<NdArray, String> {
        if shape.len() > MAX_NDIM {
            return Err(format!(
                "too many dimensions ({} > {MAX_NDIM})",
                shape.len()
            ));
        }
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(data.len()) {
            return Err(format!(
                "cannot make an array of shape {} from {} elements",
                fmt_shape(&shape),
                data.len()
            ));
        }
        let data = if dtype == DType::Float {
            data
        } else {
            data.into_iter()
                .map(|x| dtype.coerce(f64::from(x)))
                .collect()
        };
        Ok(NdArray {
            shape,
            data,
            dtype,
            forgiving: false,
        })
    }

    /// A 0-dimensional array holding one value.
    pub fn scalar(value: f64, dtype: DType) -> NdArray {
        NdArray {
            shape: Vec::new(),
            data: vec![dtype.coerce(value)],
            dtype,
            forgiving: false,
        }
    }

    /// Returns the array with the forgiving flag set to `forgiving`.
    pub fn with_forgiving(mut self, forgiving: bool) -> NdArray {
        self.forgiving = forgiving;
        self
    }

    /// Total number of elements (the product of the shape), not the length
    /// of the first axis.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The element at a full multi-index, if in range.
    pub fn get(&self, index: &[usize]) -> Option<f32> {
        let off = self.offset_of(index)?;
        self.data.get(off).copied()
    }

    /// Sets the element at a full multi-index (coerced to the dtype);
    /// returns false if the index is out of range.
    pub fn set(&mut self, index: &[usize], value: f32) -> bool {
        let dtype = self.dtype;
        match self.offset_of(index).and_then(|o| self.data.get_mut(o)) {
            Some(slot) => {
                *slot = dtype.coerce(f64::from(value));
                true
            }
            None => false,
        }
    }

    fn offset_of(&self, index: &[usize]) -> Option<usize> {
        if index.len() != self.shape.len() {
            return None;
        }
        let mut off = 0usize;
        for (&i, &d) in index.iter().zip(&self.shape) {
            if i >= d {
                return None;
            }
            off = off.checked_mul(d)?.checked_add(i)?;
        }
        Some(off)
    }

    /// Verifies the shape/data invariant.
    pub(crate) fn check(&self) -> R<()> {
        if self.shape.len() > MAX_NDIM {
            return Err(value_err(format!(
                "array has too many dimensions ({} > {MAX_NDIM})",
                self.shape.len()
            )));
        }
        let n = self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(self.data.len()) {
            return Err(value_err(format!(
                "inconsistent array: shape {} but {} elements",
                fmt_shape(&self.shape),
                self.data.len()
            )));
        }
        Ok(())
    }

    /// Element at flat position `i` (0.0 if out of range, which cannot
    /// happen for checked arrays).
    #[inline]
    pub(crate) fn at(&self, i: usize) -> f32 {
        self.data.get(i).copied().unwrap_or(0.0)
    }
}

/// Formats a shape like a Python tuple: `(3,)`, `(2, 3)`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// Number of elements of `shape`, or a limit error if it overflows.
pub(crate) fn shape_size(shape: &[usize]) -> R<usize> {
    if shape.len() > MAX_NDIM {
        return Err(value_err(format!(
            "maximum supported dimension for an array is {MAX_NDIM}, found {}",
            shape.len()
        )));
    }
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| limit_err(format!("array of shape {} is too large", fmt_shape(shape))))?;
    if n == 0 {
        // No elements, so no budget is charged, but indexing, broadcasting, joining and
        // printing still walk the other axes: their extent is capped instead.
        let extent = shape
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&e| e <= MAX_EMPTY_EXTENT);
        if extent.is_none() {
            return Err(limit_err(format!(
                "array of shape {} has no elements but spans more than {MAX_EMPTY_EXTENT} \
                 positions along its other axes",
                fmt_shape(shape)
            )));
        }
    }
    Ok(n)
}

/// The most positions the non-zero axes of an empty array may span (see [`shape_size`]).
const MAX_EMPTY_EXTENT: usize = 1 << 20;

/// Allocates a filled array after charging the budget.
pub(crate) fn alloc(shape: Vec<usize>, fill: f64, dtype: DType, budget: &mut Budget) -> R<NdArray> {
    let n = shape_size(&shape)?;
    budget.elements(n)?;
    budget.ops(n as u64 / 4 + 1)?;
    Ok(NdArray {
        shape,
        data: vec![dtype.coerce(fill); n],
        dtype,
        forgiving: false,
    })
}

/// Builds an array from already computed data (charging the budget for it
/// must have happened before the data was built).
fn make(shape: Vec<usize>, data: Vec<f32>, dtype: DType) -> NdArray {
    NdArray {
        shape,
        data,
        dtype,
        forgiving: false,
    }
}

/// Charges the budget for creating an array of `n` elements.
pub(crate) fn charge_new(n: usize, budget: &mut Budget) -> R<()> {
    budget.elements(n)?;
    budget.ops(n as u64)
}

/// Copies an array, charging the budget.
pub(crate) fn copy(a: &NdArray, budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    charge_new(a.len(), budget)?;
    Ok(a.clone())
}

pub(crate) fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    let mut acc = 1usize;
    for (i, &d) in shape.iter().enumerate().rev() {
        if let Some(slot) = s.get_mut(i) {
            *slot = acc;
        }
        acc = acc.saturating_mul(d);
    }
    s
}

/// numpy broadcasting of two shapes.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0usize; n];
    for (k, slot) in out.iter_mut().enumerate() {
        let da = (k + a.len())
            .checked_sub(n)
            .and_then(|i| a.get(i))
            .copied()
            .unwrap_or(1);
        let db = (k + b.len())
            .checked_sub(n)
            .and_then(|i| b.get(i))
            .copied()
            .unwrap_or(1);
        *slot = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(value_err(format!(
                "operands could not be broadcast together with shapes {} {}",
                fmt_shape(a),
                fmt_shape(b)
            )));
        };
    }
    Ok(out)
}

/// Strides to read an array of `shape` broadcast to `out` (0 along
/// broadcast dimensions). Assumes `shape` broadcasts to `out`.
pub(crate) fn bstrides(shape: &[usize], out: &[usize]) -> Vec<isize> {
    let own = c_strides(shape);
    let n = out.len();
    (0..n)
        .map(|k| match (k + shape.len()).checked_sub(n) {
            Some(i) => match (shape.get(i), own.get(i)) {
                (Some(&d), Some(&s)) if d != 1 => s as isize,
                _ => 0,
            },
            None => 0,
        })
        .collect()
}

/// Calls `f(offset_a, offset_b)` for the start of every row of an
/// iteration over `outer` (all dims but the innermost), where offsets
/// advance by `sa`/`sb` per dimension.
fn rows2(
    outer: &[usize],
    sa: &[isize],
    sb: &[isize],
    oa: isize,
    ob: isize,
    mut f: impl FnMut(isize, isize),
) {
    if outer.contains(&0) {
        return;
    }
    let nd = outer.len();
    let mut idx = vec![0usize; nd];
    let (mut pa, mut pb) = (oa, ob);
    loop {
        f(pa, pb);
        // Odometer increment.
        let mut d = nd;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            let (Some(i), Some(&size), Some(&ta), Some(&tb)) =
                (idx.get_mut(d), outer.get(d), sa.get(d), sb.get(d))
            else {
                return;
            };
            *i += 1;
            pa += ta;
            pb += tb;
            if *i < size {
                break;
            }
            pa -= ta * size as isize;
            pb -= tb * size as isize;
            *i = 0;
        }
    }
}

/// Splits `shape` into (outer dims, inner length) and matching strides.
fn split_inner(shape: &[usize]) -> (&[usize], usize) {
    match shape.split_last() {
        Some((&last, rest)) => (rest, last),
        None => (&[], 1),
    }
}

fn split_strides(s: &[isize]) -> (&[isize], isize) {
    match s.split_last() {
        Some((&last, rest)) => (rest, last),
        None => (&[], 0),
    }
}

#[inline]
fn rd(data: &[f32], off: isize) -> f32 {
    usize::try_from(off)
        .ok()
        .and_then(|o| data.get(o))
        .copied()
        .unwrap_or(0.0)
}

/// Materializes `a` broadcast to `shape`.
pub(crate) fn broadcast_to(a: &NdArray, shape: &[usize], budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    let target = broadcast_shape(&a.shape, shape)?;
    if target != shape {
        return Err(value_err(format!(
            "could not broadcast array of shape {} to shape {}",
            fmt_shape(&a.shape),
            fmt_shape(shape)
        )));
    }
    if a.shape == shape {
        return copy(a, budget);
    }
    let n = shape_size(shape)?;
    charge_new(n, budget)?;
    let mut out = Vec::with_capacity(n);
    let st = bstrides(&a.shape, shape);
    let (outer, inner) = split_inner(shape);
    let (so, si) = split_strides(&st);
    rows2(outer, so, so, 0, 0, |oa, _| {
        if si == 0 {
            let v = rd(&a.data, oa);
            out.extend(std::iter::repeat_n(v, inner));
        } else {
            for k in 0..inner {
                out.push(rd(&a.data, oa + si * k as isize));
            }
        }
    });
    Ok(make(shape.to_vec(), out, a.dtype))
}

/// Applies `f` to every element.
pub(crate) fn map(
    a: &NdArray,
    dtype: DType,
    budget: &mut Budget,
    f: impl Fn(f32) -> f32,
) -> R<NdArray> {
    a.check()?;
    charge_new(a.len(), budget)?;
    let data = a.data.iter().map(|&x| f(x)).collect();
    Ok(NdArray {
        shape: a.shape.clone(),
        data,
        dtype,
        forgiving: a.forgiving,
    })
}

/// Applies `f` elementwise with broadcasting.
pub(crate) fn zip_map(
    a: &NdArray,
    b: &NdArray,
    dtype: DType,
    budget: &mut Budget,
    f: impl Fn(f32, f32) -> f32,
) -> R<NdArray> {
    a.check()?;
    b.check()?;
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let n = shape_size(&shape)?;
    charge_new(n, budget)?;
    let forgiving = (a.forgiving && a.shape == shape) || (b.forgiving && b.shape == shape);
    let data: Vec<f32> = if a.shape == b.shape {
        a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect()
    } else if b.len() == 1 {
        let y = b.at(0);
        a.data.iter().map(|&x| f(x, y)).collect()
    } else if a.len() == 1 {
        let x = a.at(0);
        b.data.iter().map(|&y| f(x, y)).collect()
    } else {
        let mut out = Vec::with_capacity(n);
        let sa = bstrides(&a.shape, &shape);
        let sb = bstrides(&b.shape, &shape);
        let (outer, inner) = split_inner(&shape);
        let (soa, ia) = split_strides(&sa);
        let (sob, ib) = split_strides(&sb);
        rows2(outer, soa, sob, 0, 0, |oa, ob| {
            for k in 0..inner as isize {
                out.push(f(rd(&a.data, oa + ia * k), rd(&b.data, ob + ib * k)));
            }
        });
        out
    };
    Ok(NdArray {
        shape,
        data,
        dtype,
        forgiving,
    })
}

/// Elementwise binary operations on arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrBin {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Xor,
    LShift,
    RShift,
    Maximum,
    Minimum,
    Atan2,
    Hypot,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
}

impl ArrBin {
    fn symbol(self) -> &'static str {
        match self {
            ArrBin::Add => "+",
            ArrBin::Sub => "-",
            ArrBin::Mul => "*",
            ArrBin::Div => "/",
            ArrBin::FloorDiv => "//",
            ArrBin::Mod => "%",
            ArrBin::Pow => "**",
            ArrBin::Eq => "==",
            ArrBin::Ne => "!=",
            ArrBin::Lt => "<",
            ArrBin::Le => "<=",
            ArrBin::Gt => ">",
            ArrBin::Ge => ">=",
            ArrBin::And => "&",
            ArrBin::Or => "|",
            ArrBin::Xor => "^",
            ArrBin::LShift => "<<",
            ArrBin::RShift => ">>",
            ArrBin::Maximum => "maximum",
            ArrBin::Minimum => "minimum",
            ArrBin::Atan2 => "arctan2",
            ArrBin::Hypot => "hypot",
            ArrBin::LogicalAnd => "logical_and",
            ArrBin::LogicalOr => "logical_or",
            ArrBin::LogicalXor => "logical_xor",
        }
    }
}

#[inline]
fn b2f(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

/// Python/numpy floored modulo for floats.
pub(crate) fn py_fmod(x: f64, y: f64) -> f64 {
    let r = x % y;
    if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
        r + y
    } else {
        r
    }
}

fn nan_max(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        f32::NAN
    } else {
        x.max(y)
    }
}

fn nan_min(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        f32::NAN
    } else {
        x.min(y)
    }
}

/// Elementwise binary operation with numpy broadcasting and dtype rules:
/// Bool/Int op Int gives Int (except `/` which gives Float), anything with
/// Float gives Float, comparisons give Bool.
pub(crate) fn binary(op: ArrBin, a: &NdArray, b: &NdArray, budget: &mut Budget) -> R<NdArray> {
    use ArrBin as B;
    let dt = a.dtype.max(b.dtype);
    let num = if dt == DType::Bool { DType::Int } else { dt };
    let f64b = |x: f32| f64::from(x);
    match op {
        B::Add => zip_map(a, b, num, budget, |x, y| (f64b(x) + f64b(y)) as f32),
        B::Sub => zip_map(a, b, num, budget, |x, y| (f64b(x) - f64b(y)) as f32),
        B::Mul => zip_map(a, b, num, budget, |x, y| (f64b(x) * f64b(y)) as f32),
        B::Div => zip_map(a, b, DType::Float, budget, |x, y| {
            (f64b(x) / f64b(y)) as f32
        }),
        B::FloorDiv => {
            if num == DType::Int {
                zip_map(a, b, num, budget, |x, y| {
                    if y == 0.0 {
                        0.0
                    } else {
                        (f64b(x) / f64b(y)).floor() as f32
                    }
                })
            } else {
                zip_map(a, b, num, budget, |x, y| (f64b(x) / f64b(y)).floor() as f32)
            }
        }
        B::Mod => {
            if num == DType::Int {
                zip_map(a, b, num, budget, |x, y| {
                    if y == 0.0 {
                        0.0
                    } else {
                        py_fmod(f64b(x), f64b(y)) as f32
                    }
                })
            } else {
                zip_map(a, b, num, budget, |x, y| py_fmod(f64b(x), f64b(y)) as f32)
            }
        }
        B::Pow => {
            if num == DType::Int {
                b.check()?;
                if b.data.iter().any(|&y| y < 0.0) {
                    return Err(value_err(
                        "integers to negative integer powers are not allowed",
                    ));
                }
                zip_map(a, b, num, budget, |x, y| {
                    f64b(x).powf(f64b(y)).clamp(-9.2e18, 9.2e18) as f32
                })
            } else {
                zip_map(a, b, num, budget, |x, y| f64b(x).powf(f64b(y)) as f32)
            }
        }
        B::Eq => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x == y)),
        B::Ne => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x != y)),
        B::Lt => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x < y)),
        B::Le => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x <= y)),
        B::Gt => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x > y)),
        B::Ge => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x >= y)),
        B::And | B::Or | B::Xor | B::LShift | B::RShift => {
            if dt == DType::Float {
                return Err(type_err(format!(
                    "operator '{}' is not supported for float arrays (compare first, or use np.logical_and / np.logical_or)",
                    op.symbol()
                )));
            }
            if dt == DType::Bool && matches!(op, B::LShift | B::RShift) {
                return Err(type_err(format!(
                    "operator '{}' is not supported for bool arrays",
                    op.symbol()
                )));
            }
            let int = |x: f32| x as i64;
            match op {
                B::And => zip_map(a, b, dt, budget, |x, y| (int(x) & int(y)) as f32),
                B::Or => zip_map(a, b, dt, budget, |x, y| (int(x) | int(y)) as f32),
                B::Xor => zip_map(a, b, dt, budget, |x, y| (int(x) ^ int(y)) as f32),
                B::LShift => zip_map(a, b, dt, budget, |x, y| {
                    let s = int(y);
                    if (0..63).contains(&s) {
                        int(x).wrapping_shl(s as u32) as f32
                    } else {
                        0.0
                    }
                }),
                _ => zip_map(a, b, dt, budget, |x, y| {
                    let s = int(y);
                    if s < 0 {
                        0.0
                    } else {
                        (int(x) >> s.min(63)) as f32
                    }
                }),
            }
        }
        B::Maximum => zip_map(a, b, dt, budget, nan_max),
        B::Minimum => zip_map(a, b, dt, budget, nan_min),
        B::Atan2 => zip_map(a, b, DType::Float, budget, |y, x| {
            f64b(y).atan2(f64b(x)) as f32
        }),
        B::Hypot => zip_map(a, b, DType::Float, budget, |x, y| {
            f64b(x).hypot(f64b(y)) as f32
        }),
        B::LogicalAnd => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x != 0.0 && y != 0.0)),
        B::LogicalOr => zip_map(a, b, DType::Bool, budget, |x, y| b2f(x != 0.0 || y != 0.0)),
        B::LogicalXor => zip_map(a, b, DType::Bool, budget, |x, y| {
            b2f((x != 0.0) != (y != 0.0))
        }),
    }
}

/// Elementwise unary math functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrUn {
    Neg,
    Pos,
    Invert,
    Abs,
    Sqrt,
    Exp,
    Log,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    Deg2Rad,
    Rad2Deg,
    Floor,
    Ceil,
    Trunc,
    Rint,
    Sign,
    Square,
    LogicalNot,
    IsNan,
    IsInf,
    IsFinite,
}

/// Applies a unary function elementwise.
pub(crate) fn unary(op: ArrUn, a: &NdArray, budget: &mut Budget) -> R<NdArray> {
    use ArrUn as U;
    let dt = a.dtype;
    let num = if dt == DType::Bool { DType::Int } else { dt };
    let fl = |f: fn(f64) -> f64| move |x: f32| f(f64::from(x)) as f32;
    match op {
        U::Neg => map(a, num, budget, |x| -x),
        U::Pos => map(a, num, budget, |x| x),
        U::Invert => match dt {
            DType::Bool => map(a, dt, budget, |x| b2f(x == 0.0)),
            DType::Int => map(a, dt, budget, |x| !(x as i64) as f32),
            DType::Float => Err(type_err("operator '~' is not supported for float arrays")),
        },
        U::Abs => map(a, num, budget, f32::abs),
        U::Sqrt => map(a, DType::Float, budget, fl(f64::sqrt)),
        U::Exp => map(a, DType::Float, budget, fl(f64::exp)),
        U::Log => map(a, DType::Float, budget, fl(f64::ln)),
        U::Log2 => map(a, DType::Float, budget, fl(f64::log2)),
        U::Log10 => map(a, DType::Float, budget, fl(f64::log10)),
        U::Sin => map(a, DType::Float, budget, fl(f64::sin)),
        U::Cos => map(a, DType::Float, budget, fl(f64::cos)),
        U::Tan => map(a, DType::Float, budget, fl(f64::tan)),
        U::Arcsin => map(a, DType::Float, budget, fl(f64::asin)),
        U::Arccos => map(a, DType::Float, budget, fl(f64::acos)),
        U::Arctan => map(a, DType::Float, budget, fl(f64::atan)),
        U::Sinh => map(a, DType::Float, budget, fl(f64::sinh)),
        U::Cosh => map(a, DType::Float, budget, fl(f64::cosh)),
        U::Tanh => map(a, DType::Float, budget, fl(f64::tanh)),
        U::Deg2Rad => map(a, DType::Float, budget, fl(f64::to_radians)),
        U::Rad2Deg => map(a, DType::Float, budget, fl(f64::to_degrees)),
        U::Floor => map(
            a,
            if dt == DType::Float { dt } else { num },
            budget,
            f32::floor,
        ),
        U::Ceil => map(
            a,
            if dt == DType::Float { dt } else { num },
            budget,
            f32::ceil,
        ),
        U::Trunc => map(
            a,
            if dt == DType::Float { dt } else { num },
            budget,
            f32::trunc,
        ),
        U::Rint => map(
            a,
            if dt == DType::Float { dt } else { num },
            budget,
            f32::round_ties_even,
        ),
        U::Sign => map(a, num, budget, |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        }),
        U::Square => map(a, num, budget, |x| (f64::from(x) * f64::from(x)) as f32),
        U::LogicalNot => map(a, DType::Bool, budget, |x| b2f(x == 0.0)),
        U::IsNan => map(a, DType::Bool, budget, |x| b2f(x.is_nan())),
        U::IsInf => map(a, DType::Bool, budget, |x| b2f(x.is_infinite())),
        U::IsFinite => map(a, DType::Bool, budget, |x| b2f(x.is_finite())),
    }
}

/// An integer rounded to `decimals` decimal places, ties to even as Python's `round` and
/// NumPy's `round` take them: itself for `decimals >= 0`, else to a multiple of
/// `10^-decimals` (`round(1250, -2)` is 1200, `round(1350, -2)` is 1400).
pub(crate) fn round_int(x: i64, decimals: i64) -> R<i64> {
    if decimals >= 0 {
        return Ok(x);
    }
    // From 10^20 on, every i64 is under half a step and rounds to 0.
    let Some(p) = u32::try_from(decimals.unsigned_abs())
        .ok()
        .filter(|&k| k <= 19)
        .map(|k| 10i128.pow(k))
    else {
        return Ok(0);
    };
    let x = i128::from(x);
    let r = x.rem_euclid(p);
    let down = x - r;
    let up = down + p;
    let rounded = match (2 * r).cmp(&p) {
        std::cmp::Ordering::Less => down,
        std::cmp::Ordering::Greater => up,
        std::cmp::Ordering::Equal if (down / p) % 2 == 0 => down,
        std::cmp::Ordering::Equal => up,
    };
    i64::try_from(rounded).map_err(|_| value_err("the rounded integer does not fit an int"))
}

/// Rounds to `decimals` decimal places (ties to even at the last digit).
pub(crate) fn round_decimals(a: &NdArray, decimals: i64, budget: &mut Budget) -> R<NdArray> {
    if a.dtype != DType::Float && decimals >= 0 {
        return copy(a, budget);
    }
    let dt = if a.dtype == DType::Bool {
        DType::Int
    } else {
        a.dtype
    };
    let d = decimals.clamp(-30, 30) as i32;
    let scale = 10f64.powi(d);
    map(a, dt, budget, move |x| {
        ((f64::from(x) * scale).round_ties_even() / scale) as f32
    })
}

/// Normalizes a (possibly negative) axis.
pub(crate) fn norm_axis(axis: i64, ndim: usize) -> R<usize> {
    let n = ndim as i64;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(index_err(format!(
            "axis {axis} is out of bounds for array of dimension {ndim}"
        )));
    }
    Ok(a as usize)
}

/// Reductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduce {
    Sum,
    Prod,
    Mean,
    Min,
    Max,
    Any,
    All,
    ArgMin,
    ArgMax,
    Var,
    Std,
    CountNonzero,
}

impl Reduce {
    fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Prod => "prod",
            Reduce::Mean => "mean",
            Reduce::Min => "minimum",
            Reduce::Max => "maximum",
            Reduce::Any => "any",
            Reduce::All => "all",
            Reduce::ArgMin => "argmin",
            Reduce::ArgMax => "argmax",
            Reduce::Var => "var",
            Reduce::Std => "std",
            Reduce::CountNonzero => "count_nonzero",
        }
    }
}

/// Reduces over one axis (or all elements when `axis` is None), returning a
/// 0-d array for full reductions.
pub(crate) fn reduce(
    a: &NdArray,
    axis: Option<i64>,
    op: Reduce,
    budget: &mut Budget,
) -> R<NdArray> {
    a.check()?;
    let (outer, n, inner, out_shape) = match axis {
        None => (1usize, a.len(), 1usize, Vec::new()),
        Some(ax) => {
            let k = norm_axis(ax, a.ndim())?;
            let outer: usize = a.shape.get(..k).unwrap_or(&[]).iter().product();
            let n = a.shape.get(k).copied().unwrap_or(1);
            let inner: usize = a.shape.get(k + 1..).unwrap_or(&[]).iter().product();
            let mut s = a.shape.clone();
            s.remove(k);
            (outer, n, inner, s)
        }
    };
    let m = outer.saturating_mul(inner);
    budget.ops(a.len() as u64 + m as u64)?;
    budget.elements(m)?;
    if n == 0
        && matches!(
            op,
            Reduce::Min | Reduce::Max | Reduce::ArgMin | Reduce::ArgMax
        )
    {
        return Err(value_err(format!(
            "zero-size array to reduction operation {} which has no identity",
            op.name()
        )));
    }
    let idx = |o: usize, j: usize, i: usize| (o * n + j) * inner + i;
    let fold = |init: f64, f: &dyn Fn(f64, f64, usize) -> f64| -> Vec<f64> {
        let mut acc = vec![init; m];
        for o in 0..outer {
            for j in 0..n {
                for i in 0..inner {
                    let k = o * inner + i;
                    if let Some(slot) = acc.get_mut(k) {
                        *slot = f(*slot, f64::from(a.at(idx(o, j, i))), k);
                    }
                }
            }
        }
        acc
    };
    let nf = n as f64;
    let (vals, dtype): (Vec<f64>, DType) = match op {
        Reduce::Sum => (
            fold(0.0, &|s, x, _| s + x),
            if a.dtype == DType::Float {
                DType::Float
            } else {
                DType::Int
            },
        ),
        Reduce::Prod => (
            fold(1.0, &|s, x, _| s * x),
            if a.dtype == DType::Float {
                DType::Float
            } else {
                DType::Int
            },
        ),
        Reduce::CountNonzero => (
            fold(0.0, &|s, x, _| s + f64::from(b2f(x != 0.0))),
            DType::Int,
        ),
        Reduce::Mean => (
            fold(0.0, &|s, x, _| s + x)
                .into_iter()
                .map(|s| s / nf)
                .collect(),
            DType::Float,
        ),
        Reduce::Var | Reduce::Std => {
            let mean: Vec<f64> = fold(0.0, &|s, x, _| s + x)
                .into_iter()
                .map(|s| s / nf)
                .collect();
            let var: Vec<f64> = fold(0.0, &|s, x, k| {
                let d = x - mean.get(k).copied().unwrap_or(0.0);
                s + d * d
            })
            .into_iter()
            .map(|s| s / nf)
            .collect();
            if op == Reduce::Std {
                (var.into_iter().map(f64::sqrt).collect(), DType::Float)
            } else {
                (var, DType::Float)
            }
        }
        Reduce::Min => (
            fold(f64::INFINITY, &|s, x, _| {
                if s.is_nan() || x.is_nan() {
                    f64::NAN
                } else {
                    s.min(x)
                }
            }),
            a.dtype,
        ),
        Reduce::Max => (
            fold(f64::NEG_INFINITY, &|s, x, _| {
                if s.is_nan() || x.is_nan() {
                    f64::NAN
                } else {
                    s.max(x)
                }
            }),
            a.dtype,
        ),
        Reduce::Any => (
            fold(0.0, &|s, x, _| if s != 0.0 || x != 0.0 { 1.0 } else { 0.0 }),
            DType::Bool,
        ),
        Reduce::All => (
            fold(1.0, &|s, x, _| if s != 0.0 && x != 0.0 { 1.0 } else { 0.0 }),
            DType::Bool,
        ),
        Reduce::ArgMin | Reduce::ArgMax => {
            let mut best = vec![0f64; m];
            let mut besti = vec![0f64; m];
            for o in 0..outer {
                for i in 0..inner {
                    let k = o * inner + i;
                    let mut bv = f64::from(a.at(idx(o, 0, i)));
                    let mut bi = 0usize;
                    for j in 1..n {
                        if bv.is_nan() {
                            break;
                        }
                        let x = f64::from(a.at(idx(o, j, i)));
                        let better =
                            x.is_nan() || if op == Reduce::ArgMin { x < bv } else { x > bv };
                        if better {
                            bv = x;
                            bi = j;
                        }
                    }
                    if let (Some(b), Some(bix)) = (best.get_mut(k), besti.get_mut(k)) {
                        *b = bv;
                        *bix = bi as f64;
                    }
                }
            }
            (besti, DType::Int)
        }
    };
    let data = vals.into_iter().map(|v| dtype.coerce(v)).collect();
    Ok(make(out_shape, data, dtype))
}

// ----- indexing ------------------------------------------------------------

/// One component of an index expression, already evaluated.
#[derive(Debug, Clone)]
pub(crate) enum IndexItem {
    Int(i64),
    Float(f64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Ellipsis,
    NewAxis,
    /// A boolean mask array.
    Mask(NdArray),
    /// An integer (or, for forgiving arrays, float) index array.
    Ints(NdArray),
}

/// What an index selects.
#[derive(Debug, Clone)]
pub(crate) enum Selection {
    /// A strided view: start offset and (length, stride) per result dim.
    View {
        offset: usize,
        dims: Vec<(usize, isize)>,
    },
    /// Blocks of `block` contiguous elements starting at `offsets`; result
    /// shape is `lead ++ tail`.
    Gather {
        offsets: Vec<usize>,
        lead: Vec<usize>,
        tail: Vec<usize>,
        block: usize,
    },
}

impl Selection {
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Selection::View { dims, .. } => dims.iter().map(|d| d.0).collect(),
            Selection::Gather { lead, tail, .. } => lead.iter().chain(tail).copied().collect(),
        }
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Resolves an integer index on an axis of length `size`.
pub(crate) fn resolve_int(
    x: f64,
    is_float: bool,
    size: usize,
    axis: usize,
    forgiving: bool,
) -> R<usize> {
    if forgiving {
        if x.is_nan() {
            return Err(value_err(format!("cannot index axis {axis} with NaN")));
        }
        if size == 0 {
            return Err(index_err(format!(
                "index {} is out of bounds for axis {axis} with size 0",
                fmt_num(x)
            )));
        }
        let r = x.round_ties_even();
        let max = (size - 1) as f64;
        return Ok(r.clamp(0.0, max) as usize);
    }
    if is_float {
        return Err(type_err(format!(
            "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices (got float {})",
            crate::value::py_float_repr(x)
        )));
    }
    let i = x as i128;
    let n = size as i128;
    let j = if i < 0 { i + n } else { i };
    if j < 0 || j >= n {
        return Err(index_err(format!(
            "index {i} is out of bounds for axis {axis} with size {size}"
        )));
    }
    Ok(j as usize)
}

/// Resolves a scalar index item, recording in `budget` a forgiving one that was clamped.
pub(crate) fn resolve_noting(
    item: &IndexItem,
    size: usize,
    axis: usize,
    forgiving: bool,
    budget: &mut Budget,
) -> R<usize> {
    let i = resolve_int_item(item, size, axis, forgiving)?;
    if forgiving {
        let given = match item {
            IndexItem::Int(v) => *v as f64,
            IndexItem::Float(x) => x.round_ties_even(),
            _ => i as f64,
        };
        if given != i as f64 {
            budget.note_clamp(crate::ClampedIndex {
                axis,
                index: given,
                size,
            });
        }
    }
    Ok(i)
}

fn resolve_int_item(item: &IndexItem, size: usize, axis: usize, forgiving: bool) -> R<usize> {
    match item {
        IndexItem::Int(i) => {
            if forgiving {
                if size == 0 {
                    return Err(index_err(format!(
                        "index {i} is out of bounds for axis {axis} with size 0"
                    )));
                }
                return Ok((*i).clamp(0, (size - 1) as i64) as usize);
            }
            let n = size as i128;
            let v = *i as i128;
            let j = if v < 0 { v + n } else { v };
            if j < 0 || j >= n {
                return Err(index_err(format!(
                    "index {i} is out of bounds for axis {axis} with size {size}"
                )));
            }
            Ok(j as usize)
        }
        IndexItem::Float(x) => resolve_int(*x, true, size, axis, forgiving),
        _ => Err(type_err("invalid index")),
    }
}

/// Python `slice.indices(len)`: returns (start, step, count).
pub(crate) fn slice_indices(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    len: usize,
) -> R<(i128, i128, usize)> {
    let step = i128::from(step.unwrap_or(1));
    if step == 0 {
        return Err(value_err("slice step cannot be zero"));
    }
    let len = len as i128;
    let (lower, upper) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let clamp = |v: Option<i64>, default: i128| -> i128 {
        match v {
            None => default,
            Some(v) => {
                let v = i128::from(v);
                if v < 0 {
                    (v + len).max(lower)
                } else {
                    v.min(upper)
                }
            }
        }
    };
    let start = clamp(start, if step > 0 { lower } else { upper });
    let stop = clamp(stop, if step > 0 { upper } else { lower });
    let count = if step > 0 {
        if stop > start {
            (stop - start - 1) / step + 1
        } else {
            0
        }
    } else if start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    Ok((start, step, count.max(0) as usize))
}

/// Resolves an index against an array shape.
pub(crate) fn select(
    shape: &[usize],
    forgiving: bool,
    items: &[IndexItem],
    budget: &mut Budget,
) -> R<Selection> {
    let has_adv = items
        .iter()
        .any(|i| matches!(i, IndexItem::Mask(_) | IndexItem::Ints(_)));
    if has_adv {
        return select_advanced(shape, forgiving, items, budget);
    }
    let consumed = items
        .iter()
        .filter(|i| {
            matches!(
                i,
                IndexItem::Int(_) | IndexItem::Float(_) | IndexItem::Slice(..)
            )
        })
        .count();
    let ellipses = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Ellipsis))
        .count();
    if ellipses > 1 {
        return Err(index_err(
            "an index can only have a single ellipsis ('...')",
        ));
    }
    if consumed > shape.len() {
        return Err(index_err(format!(
            "too many indices for array: array is {}-dimensional, but {consumed} were indexed",
            shape.len()
        )));
    }
    let strides = c_strides(shape);
    let mut offset: usize = 0;
    let mut dims: Vec<(usize, isize)> = Vec::new();
    let mut axis = 0usize;
    let full = |axis: usize| -> (usize, isize) {
        (
            shape.get(axis).copied().unwrap_or(1),
            strides.get(axis).copied().unwrap_or(1) as isize,
        )
    };
    for item in items {
        match item {
            IndexItem::Int(_) | IndexItem::Float(_) => {
                let size = shape.get(axis).copied().unwrap_or(0);
                let i = resolve_noting(item, size, axis, forgiving, budget)?;
                offset += i * strides.get(axis).copied().unwrap_or(0);
                axis += 1;
            }
            IndexItem::Slice(a, b, c) => {
                let size = shape.get(axis).copied().unwrap_or(0);
                let (start, step, count) = slice_indices(*a, *b, *c, size)?;
                let stride = strides.get(axis).copied().unwrap_or(0) as i128;
                if count > 0 {
                    offset += (start * stride) as usize;
                }
                dims.push((count, (step * stride) as isize));
                axis += 1;
            }
            IndexItem::Ellipsis => {
                let skip = shape.len() - consumed;
                for _ in 0..skip {
                    dims.push(full(axis));
                    axis += 1;
                }
            }
            IndexItem::NewAxis => dims.push((1, 0)),
            IndexItem::Mask(_) | IndexItem::Ints(_) => {}
        }
    }
    while axis < shape.len() {
        dims.push(full(axis));
        axis += 1;
    }
    if dims.len() > MAX_NDIM {
        return Err(index_err("too many dimensions in index result"));
    }
    Ok(Selection::View { offset, dims })
}

fn select_advanced(
    shape: &[usize],
    forgiving: bool,
    items: &[IndexItem],
    budget: &mut Budget,
) -> R<Selection> {
    // Trailing ellipsis is harmless: `a[mask, ...]`.
    let items: Vec<&IndexItem> = {
        let mut v: Vec<&IndexItem> = items.iter().collect();
        while matches!(v.last(), Some(IndexItem::Ellipsis)) && v.len() > 1 {
            v.pop();
        }
        v
    };
    let strides = c_strides(shape);
    if let [IndexItem::Mask(m)] = items.as_slice() {
        m.check()?;
        let k = m.ndim();
        if k > shape.len() {
            return Err(index_err(format!(
                "too many indices for array: array is {}-dimensional, but {k} were indexed",
                shape.len()
            )));
        }
        for (ax, (&ms, &s)) in m.shape.iter().zip(shape).enumerate() {
            if ms != s {
                return Err(index_err(format!(
                    "boolean index did not match indexed array along axis {ax}; size of axis is {s} but size of corresponding boolean axis is {ms}"
                )));
            }
        }
        let tail: Vec<usize> = shape.get(k..).unwrap_or(&[]).to_vec();
        let block: usize = tail.iter().product();
        budget.ops(m.len() as u64)?;
        let count = m.data.iter().filter(|&&x| x != 0.0).count();
        budget.elements(count)?;
        let offsets: Vec<usize> = m
            .data
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0.0)
            .map(|(i, _)| i * block)
            .collect();
        return Ok(Selection::Gather {
            offsets,
            lead: vec![count],
            tail,
            block,
        });
    }
    if items.iter().any(|i| matches!(i, IndexItem::Mask(_))) {
        return Err(index_err(
            "a boolean mask index must be the only index (write a[mask], with mask shaped like the leading axes)",
        ));
    }
    if items.iter().any(|i| {
        matches!(
            i,
            IndexItem::Slice(..) | IndexItem::Ellipsis | IndexItem::NewAxis
        )
    }) {
        return Err(index_err(
            "mixing integer-array indices with slices, '...' or None is not supported; index with integer arrays only (e.g. a[xs, ys, zs])",
        ));
    }
    let k = items.len();
    if k > shape.len() {
        return Err(index_err(format!(
            "too many indices for array: array is {}-dimensional, but {k} were indexed",
            shape.len()
        )));
    }
    // Broadcast all index arrays.
    let mut lead: Vec<usize> = Vec::new();
    for it in &items {
        if let IndexItem::Ints(a) = it {
            a.check()?;
            if a.dtype == DType::Float && !forgiving {
                return Err(index_err(
                    "arrays used as indices must be of integer (or boolean) type",
                ));
            }
            lead = broadcast_shape(&lead, &a.shape).map_err(|_| {
                index_err("shape mismatch: indexing arrays could not be broadcast together")
            })?;
        }
    }
    let count = shape_size(&lead)?;
    budget.ops(count as u64 * k as u64)?;
    budget.elements(count)?;
    let tail: Vec<usize> = shape.get(k..).unwrap_or(&[]).to_vec();
    let block: usize = tail.iter().product();
    let mut offsets = vec![0usize; count];
    for (ax, it) in items.iter().enumerate() {
        let size = shape.get(ax).copied().unwrap_or(0);
        let stride = strides.get(ax).copied().unwrap_or(0);
        match it {
            IndexItem::Ints(a) => {
                let b = broadcast_to(a, &lead, budget)?;
                for (slot, &x) in offsets.iter_mut().zip(&b.data) {
                    let i =
                        resolve_int(f64::from(x), a.dtype == DType::Float, size, ax, forgiving)?;
                    *slot += i * stride;
                }
            }
            other => {
                let i = resolve_noting(other, size, ax, forgiving, budget)?;
                for slot in offsets.iter_mut() {
                    *slot += i * stride;
                }
            }
        }
    }
    Ok(Selection::Gather {
        offsets,
        lead,
        tail,
        block,
    })
}

/// Reads the selected elements into a new array (0-d for a single element).
pub(crate) fn get(a: &NdArray, sel: &Selection, budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    let shape = sel.shape();
    let n = shape_size(&shape)?;
    charge_new(n, budget)?;
    let mut out = Vec::with_capacity(n);
    match sel {
        Selection::View { offset, dims } => {
            let lens: Vec<usize> = dims.iter().map(|d| d.0).collect();
            let strides: Vec<isize> = dims.iter().map(|d| d.1).collect();
            let (outer, inner) = split_inner(&lens);
            let (so, si) = split_strides(&strides);
            let base = *offset as isize;
            rows2(outer, so, so, base, base, |o, _| {
                if si == 1 {
                    let start = o.max(0) as usize;
                    if let Some(s) = a.data.get(start..start + inner) {
                        out.extend_from_slice(s);
                    }
                } else {
                    for k in 0..inner as isize {
                        out.push(rd(&a.data, o + si * k));
                    }
                }
            });
        }
        Selection::Gather { offsets, block, .. } => {
            for &o in offsets {
                if let Some(s) = a.data.get(o..o + block) {
                    out.extend_from_slice(s);
                }
            }
        }
    }
    let same_rank = shape.len() == a.ndim();
    Ok(NdArray {
        shape,
        data: out,
        dtype: a.dtype,
        forgiving: a.forgiving && same_rank,
    })
}

/// Writes `value` (broadcast to the selection's shape, coerced to the
/// array's dtype) into the selected elements.
/// A shape without its leading size-1 dimensions (numpy lets an assigned value have them).
pub(crate) fn without_leading_ones(shape: &[usize]) -> Vec<usize> {
    shape.iter().copied().skip_while(|&d| d == 1).collect()
}

pub(crate) fn set(a: &mut NdArray, sel: &Selection, value: &NdArray, budget: &mut Budget) -> R<()> {
    a.check()?;
    value.check()?;
    let shape = sel.shape();
    let target = broadcast_shape(&value.shape, &shape)
        .ok()
        .filter(|t| *t == shape);
    if target.is_none() {
        // numpy also allows leading size-1 dims on the value.
        let trimmed = without_leading_ones(&value.shape);
        let ok = broadcast_shape(&trimmed, &shape)
            .ok()
            .filter(|t| *t == shape)
            .is_some();
        if !ok {
            return Err(value_err(format!(
                "could not broadcast input array from shape {} into shape {}",
                fmt_shape(&value.shape),
                fmt_shape(&shape)
            )));
        }
    }
    let vshape: Vec<usize> = if value.ndim() > shape.len() {
        value
            .shape
            .get(value.ndim() - shape.len()..)
            .unwrap_or(&[])
            .to_vec()
    } else {
        value.shape.clone()
    };
    let n = shape_size(&shape)?;
    budget.ops(n as u64)?;
    let dtype = a.dtype;
    let conv = |x: f32| {
        if dtype == DType::Float || value.dtype == dtype {
            x
        } else {
            dtype.coerce(f64::from(x))
        }
    };
    let scalar = if value.len() == 1 {
        Some(conv(value.at(0)))
    } else {
        None
    };
    let vst = bstrides(&vshape, &shape);
    match sel {
        Selection::View { offset, dims } => {
            let lens: Vec<usize> = dims.iter().map(|d| d.0).collect();
            let strides: Vec<isize> = dims.iter().map(|d| d.1).collect();
            let (outer, inner) = split_inner(&lens);
            let (so, si) = split_strides(&strides);
            let (vo, vi) = split_strides(&vst);
            let base = *offset as isize;
            let data = &mut a.data;
            rows2(outer, so, vo, base, 0, |o, vo| {
                if si == 1 && o >= 0 {
                    let start = o as usize;
                    let Some(dst) = data.get_mut(start..start + inner) else {
                        return;
                    };
                    if let Some(s) = scalar {
                        dst.fill(s);
                    } else if vi == 1 && value.dtype == dtype {
                        let vs = vo.max(0) as usize;
                        if let Some(src) = value.data.get(vs..vs + inner) {
                            dst.copy_from_slice(src);
                        }
                    } else {
                        for (k, d) in dst.iter_mut().enumerate() {
                            *d = conv(rd(&value.data, vo + vi * k as isize));
                        }
                    }
                } else {
                    for k in 0..inner as isize {
                        let v = match scalar {
                            Some(s) => s,
                            None => conv(rd(&value.data, vo + vi * k)),
                        };
                        if let Some(d) = usize::try_from(o + si * k)
                            .ok()
                            .and_then(|i| data.get_mut(i))
                        {
                            *d = v;
                        }
                    }
                }
            });
        }
        Selection::Gather { offsets, block, .. } => {
            let full = if scalar.is_some() {
                None
            } else {
                Some(broadcast_to(value, &shape, budget)?)
            };
            for (p, &o) in offsets.iter().enumerate() {
                let Some(dst) = a.data.get_mut(o..o + block) else {
                    continue;
                };
                match (&full, scalar) {
                    (_, Some(s)) => dst.fill(s),
                    (Some(f), None) => {
                        let start = p * block;
                        if let Some(src) = f.data.get(start..start + block) {
                            for (d, &s) in dst.iter_mut().zip(src) {
                                *d = conv(s);
                            }
                        }
                    }
                    (None, None) => {}
                }
            }
        }
    }
    Ok(())
}

// ----- shape manipulation --------------------------------------------------

/// Reshapes (one dimension may be -1).
pub(crate) fn reshape(a: &NdArray, dims: &[i64], budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    let unknown = dims.iter().filter(|&&d| d == -1).count();
    if unknown > 1 {
        return Err(value_err("can only specify one unknown dimension"));
    }
    if dims.iter().any(|&d| d < -1) {
        return Err(value_err("negative dimensions not allowed"));
    }
    let known: usize = dims
        .iter()
        .filter(|&&d| d >= 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
        .ok_or_else(|| value_err("reshape dimensions are too large"))?;
    let shape: Vec<usize> = if unknown == 1 {
        if known == 0 || !a.len().is_multiple_of(known) {
            return Err(value_err(format!(
                "cannot reshape array of size {} into shape {}",
                a.len(),
                fmt_dims(dims)
            )));
        }
        dims.iter()
            .map(|&d| if d == -1 { a.len() / known } else { d as usize })
            .collect()
    } else {
        dims.iter().map(|&d| d as usize).collect()
    };
    if shape_size(&shape)? != a.len() {
        return Err(value_err(format!(
            "cannot reshape array of size {} into shape {}",
            a.len(),
            fmt_dims(dims)
        )));
    }
    let mut out = copy(a, budget)?;
    out.shape = shape;
    out.forgiving = a.forgiving && out.shape.len() == a.ndim();
    Ok(out)
}

fn fmt_dims(dims: &[i64]) -> String {
    let s: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    let mut t = fmt_shape(&s);
    if dims.contains(&-1) {
        t = format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    t
}

/// Reverses the axes.
pub(crate) fn transpose(a: &NdArray, budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    if a.ndim() < 2 {
        return copy(a, budget);
    }
    let shape: Vec<usize> = a.shape.iter().rev().copied().collect();
    let own = c_strides(&a.shape);
    let dims: Vec<(usize, isize)> = shape
        .iter()
        .zip(own.iter().rev())
        .map(|(&d, &s)| (d, s as isize))
        .collect();
    let mut out = get(a, &Selection::View { offset: 0, dims }, budget)?;
    out.forgiving = a.forgiving;
    Ok(out)
}

/// Concatenates along an existing axis.
pub(crate) fn concatenate(arrays: &[NdArray], axis: i64, budget: &mut Budget) -> R<NdArray> {
    let Some(first) = arrays.first() else {
        return Err(value_err("need at least one array to concatenate"));
    };
    for a in arrays {
        a.check()?;
    }
    if first.ndim() == 0 {
        return Err(value_err("zero-dimensional arrays cannot be concatenated"));
    }
    let k = norm_axis(axis, first.ndim())?;
    let mut total = 0usize;
    for a in arrays {
        if a.ndim() != first.ndim() {
            return Err(value_err(format!(
                "all the input array dimensions except for the concatenation axis must match exactly, but along dimension {k}, the arrays have different numbers of dimensions ({} and {})",
                first.ndim(),
                a.ndim()
            )));
        }
        for (d, (&x, &y)) in first.shape.iter().zip(&a.shape).enumerate() {
            if d != k && x != y {
                return Err(value_err(format!(
                    "all the input array dimensions except for the concatenation axis must match exactly, but along dimension {d}, the array at index 0 has size {x} and another array has size {y}"
                )));
            }
        }
        total = total.saturating_add(a.shape.get(k).copied().unwrap_or(0));
    }
    let mut shape = first.shape.clone();
    if let Some(s) = shape.get_mut(k) {
        *s = total;
    }
    let n = shape_size(&shape)?;
    charge_new(n, budget)?;
    let dtype = arrays.iter().map(|a| a.dtype).max().unwrap_or(DType::Float);
    let outer: usize = first.shape.get(..k).unwrap_or(&[]).iter().product();
    let mut data = Vec::with_capacity(n);
    for o in 0..outer {
        for a in arrays {
            let chunk: usize = a.shape.get(k..).unwrap_or(&[]).iter().product();
            if let Some(s) = a.data.get(o * chunk..(o + 1) * chunk) {
                data.extend_from_slice(s);
            }
        }
    }
    Ok(make(shape, data, dtype))
}

/// Stacks arrays of equal shape along a new axis.
pub(crate) fn stack(arrays: &[NdArray], axis: i64, budget: &mut Budget) -> R<NdArray> {
    let Some(first) = arrays.first() else {
        return Err(value_err("need at least one array to stack"));
    };
    for a in arrays {
        a.check()?;
        if a.shape != first.shape {
            return Err(value_err("all input arrays must have the same shape"));
        }
    }
    let k = norm_axis(axis, first.ndim() + 1)?;
    let expanded: Vec<NdArray> = arrays
        .iter()
        .map(|a| {
            let mut s = a.shape.clone();
            s.insert(k, 1);
            NdArray {
                shape: s,
                data: a.data.clone(),
                dtype: a.dtype,
                forgiving: false,
            }
        })
        .collect();
    concatenate(&expanded, k as i64, budget)
}

/// Matrix / vector products (`np.dot` / `@`) for 1-D and 2-D arrays.
pub(crate) fn dot(a: &NdArray, b: &NdArray, budget: &mut Budget) -> R<NdArray> {
    a.check()?;
    b.check()?;
    let dtype = a.dtype.max(b.dtype).max(DType::Int);
    if a.ndim() == 0 || b.ndim() == 0 {
        return binary(ArrBin::Mul, a, b, budget);
    }
    let (m, ka) = match a.shape.as_slice() {
        [k] => (None, *k),
        [m, k] => (Some(*m), *k),
        _ => return Err(value_err("dot is only supported for 1-D and 2-D arrays")),
    };
    let (kb, n) = match b.shape.as_slice() {
        [k] => (*k, None),
        [k, n] => (*k, Some(*n)),
        _ => return Err(value_err("dot is only supported for 1-D and 2-D arrays")),
    };
    if ka != kb {
        return Err(value_err(format!(
            "shapes {} and {} not aligned: {ka} (dim {}) != {kb} (dim 0)",
            fmt_shape(&a.shape),
            fmt_shape(&b.shape),
            a.ndim() - 1
        )));
    }
    let mm = m.unwrap_or(1);
    let nn = n.unwrap_or(1);
    let out_n = mm.saturating_mul(nn);
    budget.ops((out_n as u64).saturating_mul(ka as u64))?;
    charge_new(out_n, budget)?;
    let mut data = Vec::with_capacity(out_n);
    for i in 0..mm {
        for j in 0..nn {
            let mut s = 0f64;
            for t in 0..ka {
                s += f64::from(a.at(i * ka + t)) * f64::from(b.at(t * nn + j));
            }
            data.push(dtype.coerce(s));
        }
    }
    let shape: Vec<usize> = m.into_iter().chain(n).collect();
    Ok(make(shape, data, dtype))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Limits;

    fn budget() -> Budget {
        Budget::new(&Limits::default())
    }

    fn arr(shape: &[usize], data: &[f32], dtype: DType) -> NdArray {
        NdArray::from_vec(shape.to_vec(), data.to_vec(), dtype).unwrap()
    }

    #[test]
    fn broadcasting_shapes() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert_eq!(broadcast_shape(&[], &[5]).unwrap(), vec![5]);
        let e = broadcast_shape(&[2, 3], &[4]).unwrap_err();
        assert_eq!(
            e.msg,
            "operands could not be broadcast together with shapes (2, 3) (4,)"
        );
    }

    #[test]
    fn broadcast_add_and_dtypes() {
        let mut b = budget();
        let a = arr(&[2, 1], &[1.0, 2.0], DType::Int);
        let c = arr(&[3], &[10.0, 20.0, 30.0], DType::Int);
        let r = binary(ArrBin::Add, &a, &c, &mut b).unwrap();
        assert_eq!(r.shape, vec![2, 3]);
        assert_eq!(r.data, vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        assert_eq!(r.dtype, DType::Int);
        let d = binary(ArrBin::Div, &a, &c, &mut b).unwrap();
        assert_eq!(d.dtype, DType::Float);
        let f = arr(&[1], &[0.5], DType::Float);
        assert_eq!(
            binary(ArrBin::Mul, &a, &f, &mut b).unwrap().dtype,
            DType::Float
        );
        let m = binary(ArrBin::Gt, &c, &arr(&[], &[15.0], DType::Int), &mut b).unwrap();
        assert_eq!(m.dtype, DType::Bool);
        assert_eq!(m.data, vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn int_floor_div_and_mod_follow_python() {
        let mut b = budget();
        let a = arr(&[4], &[7.0, -7.0, 7.0, -7.0], DType::Int);
        let c = arr(&[4], &[2.0, 2.0, -2.0, 0.0], DType::Int);
        assert_eq!(
            binary(ArrBin::FloorDiv, &a, &c, &mut b).unwrap().data,
            vec![3.0, -4.0, -4.0, 0.0]
        );
        assert_eq!(
            binary(ArrBin::Mod, &a, &c, &mut b).unwrap().data,
            vec![1.0, 1.0, -1.0, 0.0]
        );
    }

    #[test]
    fn reductions_with_axis() {
        let mut b = budget();
        let a = arr(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], DType::Int);
        let s0 = reduce(&a, Some(0), Reduce::Sum, &mut b).unwrap();
        assert_eq!(
            (s0.shape.clone(), s0.data.clone()),
            (vec![3], vec![5.0, 7.0, 9.0])
        );
        let m1 = reduce(&a, Some(-1), Reduce::Mean, &mut b).unwrap();
        assert_eq!(m1.data, vec![2.0, 5.0]);
        let am = reduce(&a, None, Reduce::ArgMax, &mut b).unwrap();
        assert_eq!(am.data, vec![5.0]);
        assert!(reduce(&a, Some(2), Reduce::Sum, &mut b).is_err());
        let e = arr(&[0], &[], DType::Float);
        assert!(reduce(&e, None, Reduce::Max, &mut b).is_err());
    }

    #[test]
    fn slice_indices_python_semantics() {
        assert_eq!(slice_indices(None, None, None, 5).unwrap(), (0, 1, 5));
        assert_eq!(slice_indices(Some(-2), None, None, 5).unwrap(), (3, 1, 2));
        assert_eq!(slice_indices(None, None, Some(-1), 5).unwrap(), (4, -1, 5));
        assert_eq!(slice_indices(Some(10), Some(20), None, 5).unwrap().2, 0);
        assert_eq!(
            slice_indices(Some(1), Some(4), Some(2), 5).unwrap(),
            (1, 2, 2)
        );
        assert!(slice_indices(None, None, Some(0), 5).is_err());
        assert_eq!(
            slice_indices(Some(i64::MIN), Some(i64::MAX), Some(i64::MIN), 5)
                .unwrap()
                .2,
            0
        );
    }

    #[test]
    fn view_get_and_set() {
        let mut b = budget();
        let mut a = NdArray::zeros(vec![3, 4], DType::Int);
        for (i, x) in a.data.iter_mut().enumerate() {
            *x = i as f32;
        }
        let sel = select(
            &a.shape,
            false,
            &[IndexItem::Slice(None, None, None), IndexItem::Int(1)],
            &mut b,
        )
        .unwrap();
        let col = get(&a, &sel, &mut b).unwrap();
        assert_eq!(
            (col.shape.clone(), col.data.clone()),
            (vec![3], vec![1.0, 5.0, 9.0])
        );
        let sel = select(
            &a.shape,
            false,
            &[IndexItem::Int(-1), IndexItem::Slice(None, None, Some(-2))],
            &mut b,
        )
        .unwrap();
        assert_eq!(get(&a, &sel, &mut b).unwrap().data, vec![11.0, 9.0]);
        let sel = select(
            &a.shape,
            false,
            &[IndexItem::Slice(Some(1), None, None)],
            &mut b,
        )
        .unwrap();
        set(
            &mut a,
            &sel,
            &arr(&[4], &[7.0, 7.0, 7.0, 7.5], DType::Float),
            &mut b,
        )
        .unwrap();
        assert_eq!(
            a.data[4..].to_vec(),
            vec![7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0]
        );
        let bad = set(
            &mut a,
            &sel,
            &arr(&[3], &[1.0, 2.0, 3.0], DType::Int),
            &mut b,
        )
        .unwrap_err();
        assert!(bad.msg.contains("could not broadcast"), "{}", bad.msg);
    }

    #[test]
    fn forgiving_vs_strict_ints() {
        let mut b = budget();
        let shape = [5usize];
        let get1 = |items: &[IndexItem], forgiving: bool, b: &mut Budget| match select(
            &shape, forgiving, items, b,
        ) {
            Ok(Selection::View { offset, .. }) => Ok(offset),
            Ok(_) => Ok(usize::MAX),
            Err(e) => Err(e),
        };
        assert_eq!(get1(&[IndexItem::Int(-1)], false, &mut b).unwrap(), 4);
        assert_eq!(get1(&[IndexItem::Int(-1)], true, &mut b).unwrap(), 0);
        assert_eq!(get1(&[IndexItem::Int(99)], true, &mut b).unwrap(), 4);
        assert_eq!(get1(&[IndexItem::Float(2.5)], true, &mut b).unwrap(), 2);
        assert_eq!(get1(&[IndexItem::Float(3.5)], true, &mut b).unwrap(), 4);
        assert_eq!(get1(&[IndexItem::Float(1.4)], true, &mut b).unwrap(), 1);
        let e = get1(&[IndexItem::Int(5)], false, &mut b).unwrap_err();
        assert_eq!(e.msg, "index 5 is out of bounds for axis 0 with size 5");
        assert_eq!(e.kind, crate::ErrorKind::Index);
        let e = get1(&[IndexItem::Float(1.0)], false, &mut b).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Type);
    }

    #[test]
    fn mask_get_and_set() {
        let mut b = budget();
        let mut a = arr(&[2, 2], &[0.1, 0.9, 0.7, 0.2], DType::Float);
        let m = binary(ArrBin::Gt, &a, &NdArray::scalar(0.5, DType::Float), &mut b).unwrap();
        let sel = select(&a.shape, false, &[IndexItem::Mask(m)], &mut b).unwrap();
        assert_eq!(get(&a, &sel, &mut b).unwrap().data, vec![0.9, 0.7]);
        set(&mut a, &sel, &NdArray::scalar(1.0, DType::Int), &mut b).unwrap();
        assert_eq!(a.data, vec![0.1, 1.0, 1.0, 0.2]);
    }

    #[test]
    fn fancy_int_arrays() {
        let mut b = budget();
        let mut a = NdArray::zeros(vec![3, 3], DType::Int);
        let xs = arr(&[2], &[0.0, 2.0], DType::Int);
        let ys = arr(&[2], &[1.0, 2.0], DType::Int);
        let sel = select(
            &a.shape,
            false,
            &[IndexItem::Ints(xs), IndexItem::Ints(ys)],
            &mut b,
        )
        .unwrap();
        set(&mut a, &sel, &NdArray::scalar(5.0, DType::Int), &mut b).unwrap();
        assert_eq!(a.data, vec![0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0]);
    }

    #[test]
    fn alloc_budget_checked_before_allocating() {
        let mut b = budget();
        assert!(alloc(vec![100_000, 100_000], 0.0, DType::Float, &mut b).is_err());
        assert!(alloc(vec![usize::MAX, 2], 0.0, DType::Float, &mut b).is_err());
    }

    #[test]
    fn dot_and_concat() {
        let mut b = budget();
        let m = arr(&[2, 2], &[1.0, 2.0, 3.0, 4.0], DType::Int);
        let v = arr(&[2], &[1.0, 1.0], DType::Int);
        assert_eq!(dot(&m, &v, &mut b).unwrap().data, vec![3.0, 7.0]);
        let c = concatenate(&[v.clone(), v.clone()], 0, &mut b).unwrap();
        assert_eq!(c.shape, vec![4]);
        let s = stack(&[v.clone(), v], 0, &mut b).unwrap();
        assert_eq!(s.shape, vec![2, 2]);
        let t = transpose(
            &arr(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], DType::Int),
            &mut b,
        )
        .unwrap();
        assert_eq!(t.data, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }
}
