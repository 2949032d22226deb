//! The `numpy` module subset and `ndarray` methods.

use std::cell::RefCell;
use std::rc::Rc;

use crate::array::{self, ArrBin, ArrUn, DType, NdArray, Reduce, fmt_shape, shape_size};
use crate::budget::Budget;
use crate::builtins::{bind, iterate, to_float, to_int};
use crate::error::{R, limit_err, type_err, value_err};
use crate::interp::{Interp, Kwargs};
use crate::ops::{ArrRef, arr_result, as_arr};
use crate::value::{Value, f32_to_f64, truthy};

/// numpy functions (qualified names).
const NP_FUNCS: &[&str] = &[
    "np.array",
    "np.asarray",
    "np.asanyarray",
    "np.copy",
    "np.zeros",
    "np.ones",
    "np.empty",
    "np.full",
    "np.zeros_like",
    "np.ones_like",
    "np.empty_like",
    "np.full_like",
    "np.arange",
    "np.linspace",
    "np.eye",
    "np.identity",
    "np.mean",
    "np.sum",
    "np.min",
    "np.max",
    "np.amin",
    "np.amax",
    "np.prod",
    "np.std",
    "np.var",
    "np.median",
    "np.any",
    "np.all",
    "np.argmin",
    "np.argmax",
    "np.count_nonzero",
    "np.abs",
    "np.absolute",
    "np.fabs",
    "np.sqrt",
    "np.exp",
    "np.log",
    "np.log2",
    "np.log10",
    "np.sin",
    "np.cos",
    "np.tan",
    "np.arcsin",
    "np.arccos",
    "np.arctan",
    "np.sinh",
    "np.cosh",
    "np.tanh",
    "np.deg2rad",
    "np.rad2deg",
    "np.radians",
    "np.degrees",
    "np.floor",
    "np.ceil",
    "np.trunc",
    "np.fix",
    "np.rint",
    "np.sign",
    "np.square",
    "np.negative",
    "np.positive",
    "np.logical_not",
    "np.isnan",
    "np.isinf",
    "np.isfinite",
    "np.invert",
    "np.bitwise_not",
    "np.round",
    "np.around",
    "np.clip",
    "np.maximum",
    "np.minimum",
    "np.fmax",
    "np.fmin",
    "np.arctan2",
    "np.hypot",
    "np.add",
    "np.subtract",
    "np.multiply",
    "np.divide",
    "np.true_divide",
    "np.floor_divide",
    "np.power",
    "np.mod",
    "np.remainder",
    "np.logical_and",
    "np.logical_or",
    "np.logical_xor",
    "np.equal",
    "np.not_equal",
    "np.less",
    "np.less_equal",
    "np.greater",
    "np.greater_equal",
    "np.where",
    "np.nonzero",
    "np.argwhere",
    "np.dot",
    "np.matmul",
    "np.cross",
    "np.outer",
    "np.linalg.norm",
    "np.isclose",
    "np.allclose",
    "np.array_equal",
    "np.stack",
    "np.concatenate",
    "np.vstack",
    "np.hstack",
    "np.reshape",
    "np.transpose",
    "np.ravel",
    "np.expand_dims",
    "np.squeeze",
    "np.shape",
    "np.ndim",
    "np.size",
    "np.unique",
    "np.sort",
    "np.float32",
    "np.float64",
    "np.float16",
    "np.float_",
    "np.double",
    "np.int32",
    "np.int64",
    "np.int16",
    "np.int8",
    "np.uint8",
    "np.uint16",
    "np.uint32",
    "np.int_",
    "np.intp",
    "np.bool_",
    "np.bool",
    "np.ndarray",
];

/// Looks up `np.<name>`.
pub(crate) fn np_function(name: &str) -> Option<&'static str> {
    NP_FUNCS
        .iter()
        .copied()
        .find(|f| f.strip_prefix("np.") == Some(name) && !f.starts_with("np.linalg."))
}

/// The dtype a built-in type/dtype name stands for.
pub(crate) fn dtype_of_builtin(name: &str) -> Option<DType> {
    match name {
        "int" | "np.int32" | "np.int64" | "np.int16" | "np.int8" | "np.uint8" | "np.uint16"
        | "np.uint32" | "np.int_" | "np.intp" => Some(DType::Int),
        "float" | "np.float32" | "np.float64" | "np.float16" | "np.float_" | "np.double" => {
            Some(DType::Float)
        }
        "bool" | "np.bool_" | "np.bool" => Some(DType::Bool),
        _ => None,
    }
}

/// The value of `arr.dtype`.
pub(crate) fn dtype_builtin(d: DType) -> &'static str {
    match d {
        DType::Bool => "np.bool",
        DType::Int => "np.int64",
        DType::Float => "np.float32",
    }
}

/// Parses a dtype argument (`float`, `np.int32`, `'uint8'`, ...).
pub(crate) fn parse_dtype(v: &Value) -> R<Option<DType>> {
    match v {
        Value::None => Ok(None),
        Value::Builtin(b) => dtype_of_builtin(b)
            .map(Some)
            .ok_or_else(|| type_err(format!("data type '{b}' not understood"))),
        Value::Str(s) => match &**s {
            "int" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32"
            | "uint64" | "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" | "long" => {
                Ok(Some(DType::Int))
            }
            "float" | "float16" | "float32" | "float64" | "f2" | "f4" | "f8" | "double"
            | "single" => Ok(Some(DType::Float)),
            "bool" | "bool_" | "?" => Ok(Some(DType::Bool)),
            other => Err(type_err(format!("data type '{other}' not understood"))),
        },
        other => Err(type_err(format!(
            "data type '{}' not understood",
            other.type_label()
        ))),
    }
}

fn infer(v: &Value, depth: usize, budget: &mut Budget) -> R<(Vec<usize>, DType)> {
    if depth > array::MAX_NDIM {
        return Err(value_err(format!(
            "array would have more than {} dimensions",
            array::MAX_NDIM
        )));
    }
    match v {
        Value::Bool(_) => Ok((Vec::new(), DType::Bool)),
        Value::Int(i) => {
            if i.unsigned_abs() > (1 << 24) && depth == 0 {
                // Representable approximately; numpy would keep it exact.
            }
            Ok((Vec::new(), DType::Int))
        }
        Value::Float(_) => Ok((Vec::new(), DType::Float)),
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            a.check()?;
            Ok((a.shape.clone(), a.dtype))
        }
        Value::Range(r) => Ok((vec![crate::ops::range_count(r)], DType::Int)),
        Value::List(_) | Value::Tuple(_) => {
            let items: Vec<Value> = match v {
                Value::List(l) => l
                    .try_borrow()
                    .map_err(|_| value_err("list is in use"))?
                    .clone(),
                Value::Tuple(t) => t.to_vec(),
                _ => Vec::new(),
            };
            budget.ops(items.len() as u64)?;
            if items.is_empty() {
                return Ok((vec![0], DType::Float));
            }
            let mut shape: Option<Vec<usize>> = None;
            let mut dtype = DType::Bool;
            for x in &items {
                let (s, d) = infer(x, depth + 1, budget)?;
                dtype = dtype.max(d);
                match &shape {
                    None => shape = Some(s),
                    Some(prev) if *prev != s => {
                        return Err(value_err(format!(
                            "setting an array element with a sequence: the nested lists have inhomogeneous shapes {} and {}",
                            fmt_shape(prev),
                            fmt_shape(&s)
                        )));
                    }
                    _ => {}
                }
            }
            let mut full = vec![items.len()];
            full.extend(shape.unwrap_or_default());
            Ok((full, dtype))
        }
        Value::None => Err(type_err(
            "cannot convert None to a numeric array (did a lookup return None?)",
        )),
        other => Err(type_err(format!(
            "cannot convert a '{}' value to a numeric array",
            other.type_label()
        ))),
    }
}

fn fill(v: &Value, out: &mut Vec<f32>, dtype: DType) -> R<()> {
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            out.push(dtype.coerce(v.as_f64().unwrap_or(0.0)));
        }
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            out.extend(a.data.iter().map(|&x| dtype.coerce(f64::from(x))));
        }
        Value::Range(r) => {
            let n = crate::ops::range_count(r);
            for k in 0..n {
                let x = i128::from(r[0]) + i128::from(r[2]) * k as i128;
                out.push(dtype.coerce(x as f64));
            }
        }
        Value::List(l) => {
            let items = l
                .try_borrow()
                .map_err(|_| value_err("list is in use"))?
                .clone();
            for x in &items {
                fill(x, out, dtype)?;
            }
        }
        Value::Tuple(t) => {
            for x in t.iter() {
                fill(x, out, dtype)?;
            }
        }
        _ => return Err(type_err("cannot convert to a numeric array")),
    }
    Ok(())
}

/// Converts a value to an array like `np.array(v, dtype)`.
pub(crate) fn to_ndarray(v: &Value, dtype: Option<DType>, budget: &mut Budget) -> R<NdArray> {
    let (shape, inferred) = infer(v, 0, budget)?;
    let n = shape_size(&shape)?;
    if let Value::Range(_) = v
        && n > budget.max_seq_len
    {
        return Err(limit_err("range is too long to convert to an array"));
    }
    budget.elements(n)?;
    budget.ops(n as u64)?;
    let dtype = dtype.unwrap_or(inferred);
    let mut data = Vec::with_capacity(n);
    fill(v, &mut data, dtype)?;
    if data.len() != n {
        return Err(value_err("inconsistent nested sequence"));
    }
    let forgiving =
        matches!(v, Value::Array(a) if a.try_borrow().map(|a| a.forgiving).unwrap_or(false));
    Ok(NdArray {
        shape,
        data,
        dtype,
        forgiving,
    })
}

fn shape_arg(v: &Value) -> R<Vec<usize>> {
    let dims: Vec<i64> = match v {
        Value::Int(_) | Value::Bool(_) => vec![to_int(v, "shape")?],
        Value::Tuple(t) => t.iter().map(|x| to_int(x, "shape")).collect::<R<_>>()?,
        Value::List(l) => l
            .try_borrow()
            .map_err(|_| value_err("list is in use"))?
            .iter()
            .map(|x| to_int(x, "shape"))
            .collect::<R<_>>()?,
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            if a.ndim() > 1 || a.dtype == DType::Float {
                return Err(type_err("shape must be an int or a tuple of ints"));
            }
            a.data.iter().map(|&x| x as i64).collect()
        }
        Value::Float(_) => {
            return Err(type_err(
                "'float' object cannot be interpreted as an integer (shape)",
            ));
        }
        _ => return Err(type_err("shape must be an int or a tuple of ints")),
    };
    if dims.len() > array::MAX_NDIM {
        return Err(value_err("too many dimensions"));
    }
    dims.into_iter()
        .map(|d| usize::try_from(d).map_err(|_| value_err("negative dimensions are not allowed")))
        .collect()
}

fn dtype_kw(v: Option<Value>) -> R<Option<DType>> {
    match v {
        None => Ok(None),
        Some(v) => parse_dtype(&v),
    }
}

fn axis_kw(v: Option<Value>) -> R<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Tuple(_) | Value::List(_)) => Err(type_err(
            "a tuple of axes is not supported; reduce one axis at a time",
        )),
        Some(v) => Ok(Some(to_int(&v, "axis")?)),
    }
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_))
}

fn unary_op(name: &str) -> Option<ArrUn> {
    Some(match name {
        "abs" | "absolute" | "fabs" => ArrUn::Abs,
        "sqrt" => ArrUn::Sqrt,
        "exp" => ArrUn::Exp,
        "log" => ArrUn::Log,
        "log2" => ArrUn::Log2,
        "log10" => ArrUn::Log10,
        "sin" => ArrUn::Sin,
        "cos" => ArrUn::Cos,
        "tan" => ArrUn::Tan,
        "arcsin" => ArrUn::Arcsin,
        "arccos" => ArrUn::Arccos,
        "arctan" => ArrUn::Arctan,
        "sinh" => ArrUn::Sinh,
        "cosh" => ArrUn::Cosh,
        "tanh" => ArrUn::Tanh,
        "deg2rad" | "radians" => ArrUn::Deg2Rad,
        "rad2deg" | "degrees" => ArrUn::Rad2Deg,
        "floor" => ArrUn::Floor,
        "ceil" => ArrUn::Ceil,
        "trunc" | "fix" => ArrUn::Trunc,
        "rint" => ArrUn::Rint,
        "sign" => ArrUn::Sign,
        "square" => ArrUn::Square,
        "negative" => ArrUn::Neg,
        "positive" => ArrUn::Pos,
        "logical_not" => ArrUn::LogicalNot,
        "isnan" => ArrUn::IsNan,
        "isinf" => ArrUn::IsInf,
        "isfinite" => ArrUn::IsFinite,
        "invert" | "bitwise_not" => ArrUn::Invert,
        _ => return None,
    })
}

/// Unary function on a Python scalar, computed in f64.
fn scalar_unary(op: ArrUn, v: &Value) -> R<Value> {
    let x = v.as_f64().unwrap_or(0.0);
    let int_in = matches!(v, Value::Int(_) | Value::Bool(_));
    let b = |c: bool| Value::Bool(c);
    Ok(match op {
        ArrUn::Abs if int_in => Value::Int(
            v.as_i64()
                .unwrap_or(0)
                .checked_abs()
                .ok_or_else(|| value_err("integer overflow"))?,
        ),
        ArrUn::Abs => Value::Float(x.abs()),
        ArrUn::Sqrt => Value::Float(x.sqrt()),
        ArrUn::Exp => Value::Float(x.exp()),
        ArrUn::Log => Value::Float(x.ln()),
        ArrUn::Log2 => Value::Float(x.log2()),
        ArrUn::Log10 => Value::Float(x.log10()),
        ArrUn::Sin => Value::Float(x.sin()),
        ArrUn::Cos => Value::Float(x.cos()),
        ArrUn::Tan => Value::Float(x.tan()),
        ArrUn::Arcsin => Value::Float(x.asin()),
        ArrUn::Arccos => Value::Float(x.acos()),
        ArrUn::Arctan => Value::Float(x.atan()),
        ArrUn::Sinh => Value::Float(x.sinh()),
        ArrUn::Cosh => Value::Float(x.cosh()),
        ArrUn::Tanh => Value::Float(x.tanh()),
        ArrUn::Deg2Rad => Value::Float(x.to_radians()),
        ArrUn::Rad2Deg => Value::Float(x.to_degrees()),
        ArrUn::Floor | ArrUn::Ceil | ArrUn::Trunc | ArrUn::Rint if int_in => {
            Value::Int(v.as_i64().unwrap_or(0))
        }
        ArrUn::Floor => Value::Float(x.floor()),
        ArrUn::Ceil => Value::Float(x.ceil()),
        ArrUn::Trunc => Value::Float(x.trunc()),
        ArrUn::Rint => Value::Float(x.round_ties_even()),
        ArrUn::Sign if int_in => Value::Int(v.as_i64().unwrap_or(0).signum()),
        ArrUn::Sign => Value::Float(if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            x
        }),
        ArrUn::Square if int_in => {
            let i = v.as_i64().unwrap_or(0);
            Value::Int(
                i.checked_mul(i)
                    .ok_or_else(|| value_err("integer overflow in square"))?,
            )
        }
        ArrUn::Square => Value::Float(x * x),
        ArrUn::Neg | ArrUn::Pos | ArrUn::Invert => {
            let u = match op {
                ArrUn::Neg => crate::ast::UnaryOp::Neg,
                ArrUn::Pos => crate::ast::UnaryOp::Pos,
                _ => crate::ast::UnaryOp::Invert,
            };
            return crate::ops::unary(u, v, &mut Budget::new(&crate::Limits::default()));
        }
        ArrUn::LogicalNot => b(x == 0.0),
        ArrUn::IsNan => b(x.is_nan()),
        ArrUn::IsInf => b(x.is_infinite()),
        ArrUn::IsFinite => b(x.is_finite()),
    })
}

fn binary_op(name: &str) -> Option<ArrBin> {
    Some(match name {
        "maximum" | "fmax" => ArrBin::Maximum,
        "minimum" | "fmin" => ArrBin::Minimum,
        "arctan2" => ArrBin::Atan2,
        "hypot" => ArrBin::Hypot,
        "add" => ArrBin::Add,
        "subtract" => ArrBin::Sub,
        "multiply" => ArrBin::Mul,
        "divide" | "true_divide" => ArrBin::Div,
        "floor_divide" => ArrBin::FloorDiv,
        "power" => ArrBin::Pow,
        "mod" | "remainder" => ArrBin::Mod,
        "logical_and" => ArrBin::LogicalAnd,
        "logical_or" => ArrBin::LogicalOr,
        "logical_xor" => ArrBin::LogicalXor,
        "equal" => ArrBin::Eq,
        "not_equal" => ArrBin::Ne,
        "less" => ArrBin::Lt,
        "less_equal" => ArrBin::Le,
        "greater" => ArrBin::Gt,
        "greater_equal" => ArrBin::Ge,
        _ => return None,
    })
}

fn reduce_op(name: &str) -> Option<Reduce> {
    Some(match name {
        "sum" => Reduce::Sum,
        "mean" => Reduce::Mean,
        "min" | "amin" => Reduce::Min,
        "max" | "amax" => Reduce::Max,
        "prod" => Reduce::Prod,
        "std" => Reduce::Std,
        "var" => Reduce::Var,
        "any" => Reduce::Any,
        "all" => Reduce::All,
        "argmin" => Reduce::ArgMin,
        "argmax" => Reduce::ArgMax,
        "count_nonzero" => Reduce::CountNonzero,
        _ => return None,
    })
}

fn do_reduce(
    a: &NdArray,
    axis: Option<i64>,
    keepdims: bool,
    op: Reduce,
    budget: &mut Budget,
) -> R<Value> {
    let mut r = array::reduce(a, axis, op, budget)?;
    if keepdims {
        r.shape = match axis {
            None => vec![1; a.ndim()],
            Some(ax) => {
                let k = array::norm_axis(ax, a.ndim())?;
                let mut s = a.shape.clone();
                if let Some(d) = s.get_mut(k) {
                    *d = 1;
                }
                s
            }
        };
    }
    Ok(arr_result(r))
}

fn arr_arg<'a>(v: &'a Option<Value>, budget: &mut Budget) -> R<ArrRef<'a>> {
    match v {
        Some(v) => as_arr(v, budget),
        None => Err(type_err("missing array argument")),
    }
}

fn array_list(it: &mut Interp<'_>, v: &Value) -> R<Vec<NdArray>> {
    let items = iterate(it, v)?;
    items
        .iter()
        .map(|x| to_ndarray(x, None, &mut it.budget))
        .collect()
}

fn new_array(a: NdArray) -> Value {
    Value::Array(Rc::new(RefCell::new(a)))
}

/// Calls `np.<name>`.
pub(crate) fn call(
    it: &mut Interp<'_>,
    name: &'static str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    let short = name.strip_prefix("np.").unwrap_or(name);
    it.budget.ops(1)?;
    if let Some(op) = unary_op(short) {
        let [x] = bind(short, args, kw, ["x"], 1)?;
        let x = x.unwrap_or(Value::None);
        if is_scalar(&x) {
            return scalar_unary(op, &x);
        }
        let a = as_arr(&x, &mut it.budget)?;
        return Ok(arr_result(array::unary(op, &a, &mut it.budget)?));
    }
    if let Some(op) = binary_op(short) {
        let [x, y] = bind(short, args, kw, ["x1", "x2"], 2)?;
        let (x, y) = (x.unwrap_or(Value::None), y.unwrap_or(Value::None));
        if is_scalar(&x)
            && is_scalar(&y)
            && matches!(
                op,
                ArrBin::Maximum | ArrBin::Minimum | ArrBin::Atan2 | ArrBin::Hypot
            )
        {
            let (a, b) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            let ints = matches!(x, Value::Int(_) | Value::Bool(_))
                && matches!(y, Value::Int(_) | Value::Bool(_));
            return Ok(match op {
                ArrBin::Maximum | ArrBin::Minimum => {
                    let pick_a = if op == ArrBin::Maximum {
                        a >= b
                    } else {
                        a <= b
                    };
                    if a.is_nan() || b.is_nan() {
                        Value::Float(f64::NAN)
                    } else if ints {
                        if pick_a { x } else { y }
                    } else {
                        Value::Float(if pick_a { a } else { b })
                    }
                }
                ArrBin::Atan2 => Value::Float(a.atan2(b)),
                _ => Value::Float(a.hypot(b)),
            });
        }
        return crate::ops::array_bin(op, &x, &y, &mut it.budget);
    }
    if let Some(op) = reduce_op(short) {
        let [a, axis, keepdims] = bind(short, args, kw, ["a", "axis", "keepdims"], 1)?;
        let axis = axis_kw(axis)?;
        let keepdims = match keepdims {
            Some(k) => truthy(&k)?,
            None => false,
        };
        let arr = arr_arg(&a, &mut it.budget)?;
        return do_reduce(&arr, axis, keepdims, op, &mut it.budget);
    }
    match short {
        "array" | "asarray" | "asanyarray" | "copy" => {
            let [obj, dtype] = bind(short, args, kw, ["object", "dtype"], 1)?;
            let obj = obj.unwrap_or(Value::None);
            let dtype = dtype_kw(dtype)?;
            if short == "asarray"
                && let Value::Array(a) = &obj
                && dtype.is_none_or(|d| a.try_borrow().map(|a| a.dtype == d).unwrap_or(false))
            {
                return Ok(obj);
            }
            let mut a = to_ndarray(&obj, dtype, &mut it.budget)?;
            if short == "array" || short == "asarray" {
                // np.array(voxel_map) copies keep the flag; lists never have it.
                a.forgiving = a.forgiving && matches!(obj, Value::Array(_));
            }
            Ok(new_array(a))
        }
        "zeros" | "ones" | "empty" => {
            let [shape, dtype] = bind(short, args, kw, ["shape", "dtype"], 1)?;
            let shape = shape_arg(&shape.unwrap_or(Value::None))?;
            let dtype = dtype_kw(dtype)?.unwrap_or(DType::Float);
            let fill = if short == "ones" { 1.0 } else { 0.0 };
            Ok(new_array(array::alloc(shape, fill, dtype, &mut it.budget)?))
        }
        "full" => {
            let [shape, value, dtype] = bind(short, args, kw, ["shape", "fill_value", "dtype"], 2)?;
            let shape = shape_arg(&shape.unwrap_or(Value::None))?;
            let value = value.unwrap_or(Value::None);
            let (fill, inferred) = scalar_fill(&value)?;
            let dtype = dtype_kw(dtype)?.unwrap_or(inferred);
            Ok(new_array(array::alloc(shape, fill, dtype, &mut it.budget)?))
        }
        "zeros_like" | "ones_like" | "empty_like" | "full_like" => {
            let (a, fill, dtype) = if short == "full_like" {
                let [a, v, d] = bind(short, args, kw, ["a", "fill_value", "dtype"], 2)?;
                (a, Some(v.unwrap_or(Value::None)), d)
            } else {
                let [a, d] = bind(short, args, kw, ["a", "dtype"], 1)?;
                (a, None, d)
            };
            let proto = arr_arg(&a, &mut it.budget)?;
            let (shape, pdtype, forgiving) = (proto.shape.clone(), proto.dtype, proto.forgiving);
            drop(proto);
            let dtype = dtype_kw(dtype)?.unwrap_or(pdtype);
            let fillv = match (&fill, short) {
                (Some(v), _) => scalar_fill(v)?.0,
                (None, "ones_like") => 1.0,
                _ => 0.0,
            };
            let out = array::alloc(shape, fillv, dtype, &mut it.budget)?;
            Ok(new_array(out.with_forgiving(forgiving)))
        }
        "arange" => {
            let [a, b, step, dtype] = bind(short, args, kw, ["start", "stop", "step", "dtype"], 1)?;
            let (start, stop) = match (a, b) {
                (Some(a), None | Some(Value::None)) => (Value::Int(0), a),
                (Some(a), Some(b)) => (a, b),
                _ => return Err(type_err("arange() requires stop")),
            };
            let step = step
                .filter(|s| !matches!(s, Value::None))
                .unwrap_or(Value::Int(1));
            let all_int = [&start, &stop, &step]
                .iter()
                .all(|v| matches!(v, Value::Int(_) | Value::Bool(_)));
            let (s0, s1, st) = (
                to_float(&start, "arange start")?,
                to_float(&stop, "arange stop")?,
                to_float(&step, "arange step")?,
            );
            if st == 0.0 {
                return Err(value_err("arange: step must not be zero"));
            }
            let n = ((s1 - s0) / st).ceil();
            if !n.is_finite() {
                return Err(value_err("arange: arguments must be finite"));
            }
            let n = if n > 0.0 { n.min(1e18) as usize } else { 0 };
            let dtype = dtype_kw(dtype)?.unwrap_or(if all_int { DType::Int } else { DType::Float });
            let mut a = array::alloc(vec![n], 0.0, dtype, &mut it.budget)?;
            for (k, x) in a.data.iter_mut().enumerate() {
                *x = dtype.coerce(s0 + st * k as f64);
            }
            Ok(new_array(a))
        }
        "linspace" => {
            let [a, b, num, endpoint, dtype] = bind(
                short,
                args,
                kw,
                ["start", "stop", "num", "endpoint", "dtype"],
                2,
            )?;
            let s0 = to_float(&a.unwrap_or(Value::None), "linspace start")?;
            let s1 = to_float(&b.unwrap_or(Value::None), "linspace stop")?;
            let num = match num {
                Some(n) => to_int(&n, "num")?,
                None => 50,
            };
            let num = usize::try_from(num)
                .map_err(|_| value_err("number of samples must be non-negative"))?;
            let endpoint = match endpoint {
                Some(e) => truthy(&e)?,
                None => true,
            };
            let dtype = dtype_kw(dtype)?.unwrap_or(DType::Float);
            let mut out = array::alloc(vec![num], 0.0, dtype, &mut it.budget)?;
            let div = if endpoint { num.saturating_sub(1) } else { num };
            let step = if div > 0 { (s1 - s0) / div as f64 } else { 0.0 };
            for (k, x) in out.data.iter_mut().enumerate() {
                let v = if endpoint && k + 1 == num && num > 1 {
                    s1
                } else {
                    s0 + step * k as f64
                };
                *x = dtype.coerce(v);
            }
            Ok(new_array(out))
        }
        "eye" | "identity" => {
            let [n, m, dtype] = if short == "eye" {
                bind(short, args, kw, ["N", "M", "dtype"], 1)?
            } else {
                let [n, d] = bind(short, args, kw, ["n", "dtype"], 1)?;
                [n, None, d]
            };
            let n = usize::try_from(to_int(&n.unwrap_or(Value::None), "N")?)
                .map_err(|_| value_err("negative dimensions are not allowed"))?;
            let m = match m {
                Some(Value::None) | None => n,
                Some(v) => usize::try_from(to_int(&v, "M")?)
                    .map_err(|_| value_err("negative dimensions are not allowed"))?,
            };
            let dtype = dtype_kw(dtype)?.unwrap_or(DType::Float);
            let mut a = array::alloc(vec![n, m], 0.0, dtype, &mut it.budget)?;
            for i in 0..n.min(m) {
                if let Some(x) = a.data.get_mut(i * m + i) {
                    *x = 1.0;
                }
            }
            Ok(new_array(a))
        }
        "median" => {
            let [a, axis] = bind(short, args, kw, ["a", "axis"], 1)?;
            if axis_kw(axis)?.is_some() {
                return Err(type_err(
                    "np.median(axis=...) is not supported; only the median of all elements",
                ));
            }
            let arr = arr_arg(&a, &mut it.budget)?;
            if arr.is_empty() {
                return Ok(Value::Float(f64::NAN));
            }
            // NumPy's median of anything with a NaN is NaN.
            if arr.data.iter().any(|x| x.is_nan()) {
                return Ok(Value::Float(f64::NAN));
            }
            let mut v: Vec<f32> = arr.data.clone();
            it.budget.ops(v.len() as u64 * 8)?;
            v.sort_by(f32::total_cmp);
            let n = v.len();
            let m = if n % 2 == 1 {
                f64::from(v.get(n / 2).copied().unwrap_or(0.0))
            } else {
                (f64::from(v.get(n / 2 - 1).copied().unwrap_or(0.0))
                    + f64::from(v.get(n / 2).copied().unwrap_or(0.0)))
                    / 2.0
            };
            Ok(Value::Float(f32_to_f64(m as f32)))
        }
        "round" | "around" => {
            let [a, decimals] = bind(short, args, kw, ["a", "decimals"], 1)?;
            let a = a.unwrap_or(Value::None);
            let d = match decimals {
                Some(d) => to_int(&d, "decimals")?,
                None => 0,
            };
            if is_scalar(&a) {
                return Ok(match a {
                    Value::Float(f) => {
                        let s = 10f64.powi(d.clamp(-300, 300) as i32);
                        let r = (f * s).round_ties_even() / s;
                        Value::Float(if r.is_finite() { r } else { f })
                    }
                    other => Value::Int(array::round_int(other.as_i64().unwrap_or(0), d)?),
                });
            }
            let arr = as_arr(&a, &mut it.budget)?;
            Ok(arr_result(array::round_decimals(&arr, d, &mut it.budget)?))
        }
        "clip" => {
            let [a, lo, hi] = bind(short, args, kw, ["a", "a_min", "a_max"], 3)?;
            let a = a.unwrap_or(Value::None);
            clip(it, &a, lo.unwrap_or(Value::None), hi.unwrap_or(Value::None))
        }
        "where" => {
            let [c, x, y] = bind(short, args, kw, ["condition", "x", "y"], 1)?;
            match (x, y) {
                (None, None) => nonzero(it, &c.unwrap_or(Value::None)),
                (Some(x), Some(y)) => {
                    let c = c.unwrap_or(Value::None);
                    let ca = as_arr(&c, &mut it.budget)?;
                    let xa = as_arr(&x, &mut it.budget)?;
                    let ya = as_arr(&y, &mut it.budget)?;
                    let shape = array::broadcast_shape(&ca.shape, &xa.shape)?;
                    let shape = array::broadcast_shape(&shape, &ya.shape)?;
                    let cb = array::broadcast_to(&ca, &shape, &mut it.budget)?;
                    let xb = array::broadcast_to(&xa, &shape, &mut it.budget)?;
                    let yb = array::broadcast_to(&ya, &shape, &mut it.budget)?;
                    let dtype = xa.dtype.max(ya.dtype);
                    let data = cb
                        .data
                        .iter()
                        .zip(xb.data.iter().zip(&yb.data))
                        .map(|(&c, (&x, &y))| if c != 0.0 { x } else { y })
                        .collect();
                    Ok(arr_result(NdArray {
                        shape,
                        data,
                        dtype,
                        forgiving: false,
                    }))
                }
                _ => Err(type_err(
                    "either both or neither of x and y should be given",
                )),
            }
        }
        "nonzero" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            nonzero(it, &a.unwrap_or(Value::None))
        }
        "argwhere" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            let nd = arr.ndim();
            let strides = array::c_strides(&arr.shape);
            let hits: Vec<usize> = arr
                .data
                .iter()
                .enumerate()
                .filter(|(_, x)| **x != 0.0)
                .map(|(i, _)| i)
                .collect();
            let n = hits.len().saturating_mul(nd);
            array::charge_new(n, &mut it.budget)?;
            let mut data = Vec::with_capacity(n);
            for h in hits.iter() {
                for (d, s) in strides.iter().enumerate() {
                    let size = arr.shape.get(d).copied().unwrap_or(1).max(1);
                    data.push(((h / s.max(&1)) % size) as f32);
                }
            }
            Ok(new_array(NdArray {
                shape: vec![hits.len(), nd],
                data,
                dtype: DType::Int,
                forgiving: false,
            }))
        }
        "dot" | "matmul" => {
            let [a, b] = bind(short, args, kw, ["a", "b"], 2)?;
            let x = arr_arg(&a, &mut it.budget)?;
            let y = arr_arg(&b, &mut it.budget)?;
            Ok(arr_result(array::dot(&x, &y, &mut it.budget)?))
        }
        "outer" => {
            let [a, b] = bind(short, args, kw, ["a", "b"], 2)?;
            let x = arr_arg(&a, &mut it.budget)?;
            let y = arr_arg(&b, &mut it.budget)?;
            let n = x.len().saturating_mul(y.len());
            array::charge_new(n, &mut it.budget)?;
            let dtype = x.dtype.max(y.dtype).max(DType::Int);
            let data = x
                .data
                .iter()
                .flat_map(|&p| {
                    y.data
                        .iter()
                        .map(move |&q| dtype.coerce(f64::from(p) * f64::from(q)))
                })
                .collect();
            Ok(new_array(NdArray {
                shape: vec![x.len(), y.len()],
                data,
                dtype,
                forgiving: false,
            }))
        }
        "cross" => {
            let [a, b] = bind(short, args, kw, ["a", "b"], 2)?;
            let x = arr_arg(&a, &mut it.budget)?;
            let y = arr_arg(&b, &mut it.budget)?;
            cross(&x, &y, &mut it.budget)
        }
        "linalg.norm" => {
            let [x, ord, axis, keepdims] =
                bind("norm", args, kw, ["x", "ord", "axis", "keepdims"], 1)?;
            match ord {
                None | Some(Value::None) => {}
                Some(Value::Int(2)) | Some(Value::Float(2.0)) => {}
                Some(Value::Str(s)) if &*s == "fro" => {}
                Some(other) => {
                    return Err(value_err(format!(
                        "norm(ord={}) is not supported; only the 2-norm",
                        crate::interp::short_repr(&other)
                    )));
                }
            }
            let axis = axis_kw(axis)?;
            let keepdims = match keepdims {
                Some(k) => truthy(&k)?,
                None => false,
            };
            let arr = arr_arg(&x, &mut it.budget)?;
            let sq = array::unary(ArrUn::Square, &arr, &mut it.budget)?;
            let sq = array::map(&sq, DType::Float, &mut it.budget, |v| v)?;
            let s = do_reduce(&sq, axis, keepdims, Reduce::Sum, &mut it.budget)?;
            match s {
                Value::Array(a) => {
                    let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
                    Ok(arr_result(array::unary(ArrUn::Sqrt, &a, &mut it.budget)?))
                }
                other => Ok(Value::Float(other.as_f64().unwrap_or(0.0).sqrt())),
            }
        }
        "isclose" | "allclose" => {
            let [a, b, rtol, atol] = bind(short, args, kw, ["a", "b", "rtol", "atol"], 2)?;
            let rtol = rtol
                .map(|v| to_float(&v, "rtol"))
                .transpose()?
                .unwrap_or(1e-5);
            let atol = atol
                .map(|v| to_float(&v, "atol"))
                .transpose()?
                .unwrap_or(1e-8);
            let x = arr_arg(&a, &mut it.budget)?;
            let y = arr_arg(&b, &mut it.budget)?;
            let r = array::zip_map(&x, &y, DType::Bool, &mut it.budget, |p, q| {
                let (p, q) = (f64::from(p), f64::from(q));
                if p == q || (p - q).abs() <= atol + rtol * q.abs() {
                    1.0
                } else {
                    0.0
                }
            })?;
            if short == "allclose" {
                return Ok(Value::Bool(r.data.iter().all(|&v| v != 0.0)));
            }
            Ok(arr_result(r))
        }
        "array_equal" => {
            let [a, b] = bind(short, args, kw, ["a1", "a2"], 2)?;
            let x = arr_arg(&a, &mut it.budget)?;
            let y = arr_arg(&b, &mut it.budget)?;
            it.budget.ops(x.len() as u64)?;
            Ok(Value::Bool(x.shape == y.shape && x.data == y.data))
        }
        "stack" | "concatenate" | "vstack" | "hstack" => {
            let [arrays, axis] = bind(short, args, kw, ["arrays", "axis"], 1)?;
            let axis = axis_kw(axis)?;
            let list = array_list(it, &arrays.unwrap_or(Value::None))?;
            let r = match short {
                "stack" => array::stack(&list, axis.unwrap_or(0), &mut it.budget)?,
                "concatenate" => array::concatenate(&list, axis.unwrap_or(0), &mut it.budget)?,
                "vstack" => {
                    let rows: Vec<NdArray> = list
                        .into_iter()
                        .map(|a| {
                            if a.ndim() < 2 {
                                let n = a.len();
                                NdArray {
                                    shape: vec![1, n],
                                    ..a
                                }
                            } else {
                                a
                            }
                        })
                        .collect();
                    array::concatenate(&rows, 0, &mut it.budget)?
                }
                _ => {
                    let one_d = list.first().map(|a| a.ndim() <= 1).unwrap_or(true);
                    let list: Vec<NdArray> = list
                        .into_iter()
                        .map(|a| {
                            if a.ndim() == 0 {
                                NdArray {
                                    shape: vec![1],
                                    ..a
                                }
                            } else {
                                a
                            }
                        })
                        .collect();
                    array::concatenate(&list, if one_d { 0 } else { 1 }, &mut it.budget)?
                }
            };
            Ok(new_array(r))
        }
        "reshape" => {
            let [a, shape] = bind(short, args, kw, ["a", "newshape"], 2)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            let dims = reshape_dims(&[shape.unwrap_or(Value::None)])?;
            Ok(new_array(array::reshape(&arr, &dims, &mut it.budget)?))
        }
        "transpose" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            Ok(arr_result(array::transpose(&arr, &mut it.budget)?))
        }
        "ravel" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            Ok(new_array(array::reshape(&arr, &[-1], &mut it.budget)?))
        }
        "squeeze" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            squeeze(&arr, &mut it.budget)
        }
        "expand_dims" => {
            let [a, axis] = bind(short, args, kw, ["a", "axis"], 2)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            let ax = to_int(&axis.unwrap_or(Value::None), "axis")?;
            let k = array::norm_axis(ax, arr.ndim() + 1)?;
            let mut dims: Vec<i64> = arr.shape.iter().map(|&d| d as i64).collect();
            dims.insert(k, 1);
            Ok(new_array(array::reshape(&arr, &dims, &mut it.budget)?))
        }
        "shape" | "ndim" | "size" => {
            let [a] = bind(short, args, kw, ["a"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            Ok(match short {
                "shape" => Value::tuple(arr.shape.iter().map(|&d| Value::Int(d as i64)).collect()),
                "ndim" => Value::Int(arr.ndim() as i64),
                _ => Value::Int(arr.len() as i64),
            })
        }
        "unique" | "sort" => {
            let [a, axis] = bind(short, args, kw, ["a", "axis"], 1)?;
            let arr = arr_arg(&a, &mut it.budget)?;
            it.budget.ops(arr.len() as u64 * 8)?;
            if short == "unique" || matches!(axis, Some(Value::None)) || arr.ndim() <= 1 {
                let mut v = arr.data.clone();
                v.sort_by(f32::total_cmp);
                if short == "unique" {
                    v.dedup();
                }
                array::charge_new(v.len(), &mut it.budget)?;
                return Ok(new_array(NdArray {
                    shape: vec![v.len()],
                    data: v,
                    dtype: arr.dtype,
                    forgiving: false,
                }));
            }
            let ax = axis_kw(axis)?.unwrap_or(-1);
            if array::norm_axis(ax, arr.ndim())? + 1 != arr.ndim() {
                return Err(type_err("np.sort is only supported along the last axis"));
            }
            let mut out = array::copy(&arr, &mut it.budget)?;
            let row = arr.shape.last().copied().unwrap_or(1).max(1);
            for chunk in out.data.chunks_mut(row) {
                chunk.sort_by(f32::total_cmp);
            }
            Ok(new_array(out))
        }
        "ndarray" => Err(type_err(
            "use np.zeros(...) or np.array(...) to create arrays",
        )),
        _ => {
            if let Some(dt) = dtype_of_builtin(name) {
                let [x] = bind(short, args, kw, ["x"], 0)?;
                return convert_dtype(it, x.unwrap_or(Value::Int(0)), dt);
            }
            Err(type_err(format!(
                "module 'numpy' has no attribute '{short}'"
            )))
        }
    }
}

fn convert_dtype(it: &mut Interp<'_>, x: Value, dt: DType) -> R<Value> {
    match &x {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let f = x.as_f64().unwrap_or(0.0);
            Ok(match dt {
                DType::Bool => Value::Bool(f != 0.0),
                DType::Int => {
                    if !f.is_finite() {
                        return Err(value_err("cannot convert a non-finite float to an integer"));
                    }
                    if let Value::Int(i) = x {
                        Value::Int(i)
                    } else {
                        Value::Int(f.trunc().clamp(-9.2e18, 9.2e18) as i64)
                    }
                }
                DType::Float => Value::Float(f),
            })
        }
        Value::Str(s) => match dt {
            DType::Float => Ok(Value::Float(s.trim().parse::<f64>().map_err(|_| {
                value_err(format!("could not convert string to float: '{s}'"))
            })?)),
            DType::Int => {
                Ok(Value::Int(s.trim().parse::<i64>().map_err(|_| {
                    value_err(format!("invalid literal for int(): '{s}'"))
                })?))
            }
            DType::Bool => Ok(Value::Bool(!s.is_empty())),
        },
        _ => {
            let a = as_arr(&x, &mut it.budget)?;
            let r = array::map(&a, dt, &mut it.budget, |v| dt.coerce(f64::from(v)))?;
            Ok(arr_result(r))
        }
    }
}

fn scalar_fill(v: &Value) -> R<(f64, DType)> {
    match v {
        Value::Bool(b) => Ok((if *b { 1.0 } else { 0.0 }, DType::Bool)),
        Value::Int(i) => Ok((*i as f64, DType::Int)),
        Value::Float(f) => Ok((*f, DType::Float)),
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            if a.len() == 1 {
                Ok((f64::from(a.at(0)), a.dtype))
            } else {
                Err(value_err("fill value must be a scalar"))
            }
        }
        other => Err(type_err(format!(
            "fill value must be a number, not '{}'",
            other.type_label()
        ))),
    }
}

fn clip(it: &mut Interp<'_>, a: &Value, lo: Value, hi: Value) -> R<Value> {
    if is_scalar(a)
        && (is_scalar(&lo) || matches!(lo, Value::None))
        && (is_scalar(&hi) || matches!(hi, Value::None))
    {
        let ints = [a, &lo, &hi]
            .iter()
            .all(|v| matches!(v, Value::Int(_) | Value::Bool(_) | Value::None));
        let mut x = a.as_f64().unwrap_or(0.0);
        if let Some(l) = lo.as_f64() {
            x = x.max(l);
        }
        if let Some(h) = hi.as_f64() {
            x = x.min(h);
        }
        return Ok(if ints {
            Value::Int(x as i64)
        } else {
            Value::Float(x)
        });
    }
    let mut cur = match a {
        Value::Array(_) => a.clone(),
        _ => new_array(to_ndarray(a, None, &mut it.budget)?),
    };
    if !matches!(lo, Value::None) {
        cur = crate::ops::array_bin(ArrBin::Maximum, &cur, &lo, &mut it.budget)?;
    }
    if !matches!(hi, Value::None) {
        cur = crate::ops::array_bin(ArrBin::Minimum, &cur, &hi, &mut it.budget)?;
    }
    if matches!(lo, Value::None) && matches!(hi, Value::None) {
        return Err(value_err("one of max or min must be given"));
    }
    // Keep the forgiving flag of the input.
    if let (Value::Array(src), Value::Array(dst)) = (a, &cur)
        && let (Ok(s), Ok(mut d)) = (src.try_borrow(), dst.try_borrow_mut())
        && s.shape == d.shape
    {
        d.forgiving = s.forgiving;
    }
    Ok(cur)
}

fn nonzero(it: &mut Interp<'_>, v: &Value) -> R<Value> {
    let arr = as_arr(v, &mut it.budget)?;
    let strides = array::c_strides(&arr.shape);
    let hits: Vec<usize> = arr
        .data
        .iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, _)| i)
        .collect();
    array::charge_new(hits.len().saturating_mul(arr.ndim().max(1)), &mut it.budget)?;
    let mut out = Vec::new();
    for (d, &s) in strides.iter().enumerate() {
        let size = arr.shape.get(d).copied().unwrap_or(1).max(1);
        let data: Vec<f32> = hits
            .iter()
            .map(|&h| ((h / s.max(1)) % size) as f32)
            .collect();
        out.push(new_array(NdArray {
            shape: vec![data.len()],
            data,
            dtype: DType::Int,
            forgiving: false,
        }));
    }
    Ok(Value::tuple(out))
}

fn cross(x: &NdArray, y: &NdArray, budget: &mut Budget) -> R<Value> {
    let lx = x.shape.last().copied().unwrap_or(0);
    let ly = y.shape.last().copied().unwrap_or(0);
    if !matches!(lx, 2 | 3) || !matches!(ly, 2 | 3) {
        return Err(value_err(
            "incompatible dimensions for cross product (dimension must be 2 or 3)",
        ));
    }
    let lead_x = x.shape.get(..x.ndim().saturating_sub(1)).unwrap_or(&[]);
    let lead_y = y.shape.get(..y.ndim().saturating_sub(1)).unwrap_or(&[]);
    let lead = array::broadcast_shape(lead_x, lead_y)?;
    let mut sx = lead.clone();
    sx.push(lx);
    let mut sy = lead.clone();
    sy.push(ly);
    let xb = array::broadcast_to(x, &sx, budget)?;
    let yb = array::broadcast_to(y, &sy, budget)?;
    let rows = shape_size(&lead)?;
    let dtype = x.dtype.max(y.dtype).max(DType::Int);
    let two_d = lx == 2 && ly == 2;
    let out_len = if two_d { rows } else { rows * 3 };
    array::charge_new(out_len, budget)?;
    let get = |a: &NdArray, r: usize, l: usize, k: usize| -> f64 {
        if k < l {
            f64::from(a.at(r * l + k))
        } else {
            0.0
        }
    };
    let mut data = Vec::with_capacity(out_len);
    for r in 0..rows {
        let (a0, a1, a2) = (get(&xb, r, lx, 0), get(&xb, r, lx, 1), get(&xb, r, lx, 2));
        let (b0, b1, b2) = (get(&yb, r, ly, 0), get(&yb, r, ly, 1), get(&yb, r, ly, 2));
        if two_d {
            data.push(dtype.coerce(a0 * b1 - a1 * b0));
        } else {
            data.push(dtype.coerce(a1 * b2 - a2 * b1));
            data.push(dtype.coerce(a2 * b0 - a0 * b2));
            data.push(dtype.coerce(a0 * b1 - a1 * b0));
        }
    }
    let mut shape = lead;
    if !two_d {
        shape.push(3);
    }
    Ok(arr_result(NdArray {
        shape,
        data,
        dtype,
        forgiving: false,
    }))
}

fn squeeze(a: &NdArray, budget: &mut Budget) -> R<Value> {
    let dims: Vec<i64> = a
        .shape
        .iter()
        .filter(|&&d| d != 1)
        .map(|&d| d as i64)
        .collect();
    let r = array::reshape(a, &dims, budget)?;
    Ok(arr_result(r))
}

fn reshape_dims(args: &[Value]) -> R<Vec<i64>> {
    match args {
        [Value::Tuple(t)] => t.iter().map(|v| to_int(v, "shape")).collect(),
        [Value::List(l)] => l
            .try_borrow()
            .map_err(|_| value_err("list is in use"))?
            .iter()
            .map(|v| to_int(v, "shape"))
            .collect(),
        _ => args.iter().map(|v| to_int(v, "shape")).collect(),
    }
}

/// `arr.<method>(...)`.
pub(crate) fn array_method(
    it: &mut Interp<'_>,
    rc: &Rc<RefCell<NdArray>>,
    name: &str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    let in_use = || value_err("array is in use");
    if let Some(op) = reduce_op(name) {
        let [axis, keepdims] = bind(name, args, kw, ["axis", "keepdims"], 0)?;
        let axis = axis_kw(axis)?;
        let keepdims = match keepdims {
            Some(k) => truthy(&k)?,
            None => false,
        };
        let a = rc.try_borrow().map_err(|_| in_use())?;
        a.check()?;
        return do_reduce(&a, axis, keepdims, op, &mut it.budget);
    }
    match name {
        "copy" => {
            let [] = bind(name, args, kw, [], 0)?;
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(new_array(array::copy(&a, &mut it.budget)?))
        }
        "astype" => {
            let [dt] = bind(name, args, kw, ["dtype"], 1)?;
            let dt = parse_dtype(&dt.unwrap_or(Value::None))?.unwrap_or(DType::Float);
            let a = rc.try_borrow().map_err(|_| in_use())?;
            let r = array::map(&a, dt, &mut it.budget, |v| dt.coerce(f64::from(v)))?;
            Ok(new_array(r))
        }
        "tolist" => {
            let [] = bind(name, args, kw, [], 0)?;
            let a = rc.try_borrow().map_err(|_| in_use())?.clone();
            a.check()?;
            if a.ndim() > it.max_depth {
                return Err(limit_err(
                    "array has too many dimensions to convert to nested lists",
                ));
            }
            it.budget.seq(a.len().min(it.budget.max_seq_len))?;
            if a.len() > it.budget.max_seq_len {
                return Err(limit_err("array is too large to convert to a list"));
            }
            if a.ndim() == 0 {
                return Ok(Value::from_elem(a.dtype, a.at(0)));
            }
            let list = to_list(&a, 0, 0);
            it.register(&list)?;
            Ok(list)
        }
        "reshape" => {
            no_kw(name, &kw)?;
            let dims = reshape_dims(&args)?;
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(new_array(array::reshape(&a, &dims, &mut it.budget)?))
        }
        "flatten" | "ravel" => {
            let [] = bind(name, args, kw, [], 0)?;
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(new_array(array::reshape(&a, &[-1], &mut it.budget)?))
        }
        "transpose" => {
            no_kw(name, &kw)?;
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(arr_result(array::transpose(&a, &mut it.budget)?))
        }
        "squeeze" => {
            let [] = bind(name, args, kw, [], 0)?;
            let a = rc.try_borrow().map_err(|_| in_use())?;
            squeeze(&a, &mut it.budget)
        }
        "nonzero" => {
            let [] = bind(name, args, kw, [], 0)?;
            nonzero(it, &Value::Array(rc.clone()))
        }
        "clip" => {
            let [lo, hi] = bind(name, args, kw, ["min", "max"], 0)?;
            clip(
                it,
                &Value::Array(rc.clone()),
                lo.unwrap_or(Value::None),
                hi.unwrap_or(Value::None),
            )
        }
        "round" => {
            let [d] = bind(name, args, kw, ["decimals"], 0)?;
            let d = match d {
                Some(d) => to_int(&d, "decimals")?,
                None => 0,
            };
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(arr_result(array::round_decimals(&a, d, &mut it.budget)?))
        }
        "item" => {
            let a = rc.try_borrow().map_err(|_| in_use())?;
            a.check()?;
            match (args.as_slice(), kw.is_empty()) {
                ([], true) => {
                    if a.len() != 1 {
                        return Err(value_err(
                            "can only convert an array of size 1 to a Python scalar",
                        ));
                    }
                    Ok(Value::from_elem(a.dtype, a.at(0)))
                }
                ([i], true) => {
                    let i = to_int(i, "item index")?;
                    let n = a.len() as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(crate::error::index_err(format!(
                            "index {i} is out of bounds for size {n}"
                        )));
                    }
                    Ok(Value::from_elem(a.dtype, a.at(j as usize)))
                }
                _ => Err(type_err("item() takes at most one integer argument")),
            }
        }
        "fill" => {
            let [v] = bind(name, args, kw, ["value"], 1)?;
            let (x, _) = scalar_fill(&v.unwrap_or(Value::None))?;
            let mut a = rc.try_borrow_mut().map_err(|_| in_use())?;
            it.budget.ops(a.len() as u64)?;
            let x = a.dtype.coerce(x);
            a.data.fill(x);
            Ok(Value::None)
        }
        "dot" => {
            let [b] = bind(name, args, kw, ["b"], 1)?;
            let b = b.unwrap_or(Value::None);
            let y = as_arr(&b, &mut it.budget)?;
            let y_owned;
            let y_ref: &NdArray = if let Value::Array(brc) = &b
                && Rc::ptr_eq(brc, rc)
            {
                y_owned = y.clone();
                &y_owned
            } else {
                &y
            };
            let a = rc.try_borrow().map_err(|_| in_use())?;
            Ok(arr_result(array::dot(&a, y_ref, &mut it.budget)?))
        }
        _ => Err(type_err(format!(
            "'ndarray' object has no attribute '{name}'"
        ))),
    }
}

fn no_kw(name: &str, kw: &Kwargs) -> R<()> {
    match kw.first() {
        Some((k, _)) => Err(type_err(format!(
            "{name}() got an unexpected keyword argument '{k}'"
        ))),
        None => Ok(()),
    }
}

fn to_list(a: &NdArray, dim: usize, offset: usize) -> Value {
    let n = a.shape.get(dim).copied().unwrap_or(0);
    let stride: usize = a.shape.get(dim + 1..).unwrap_or(&[]).iter().product();
    if dim + 1 >= a.ndim() {
        return Value::list(
            (0..n)
                .map(|i| Value::from_elem(a.dtype, a.at(offset + i)))
                .collect(),
        );
    }
    Value::list(
        (0..n)
            .map(|i| to_list(a, dim + 1, offset + i * stride))
            .collect(),
    )
}
