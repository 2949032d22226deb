//! Operator semantics: Python scalars, sequences, and numpy arrays.

use std::cell::Ref;
use std::ops::Deref;
use std::rc::Rc;

use crate::array::{self, ArrBin, ArrUn, DType, NdArray};
use crate::ast::{BinOp, CmpOp, UnaryOp};
use crate::budget::Budget;
use crate::error::{ErrorKind, R, fail, type_err, value_err};
use crate::value::{Value, compare_values, range_len, values_eq};

/// An array argument: borrowed from a value or built from a scalar/list.
pub(crate) enum ArrRef<'a> {
    Borrowed(Ref<'a, NdArray>),
    Owned(NdArray),
}

impl Deref for ArrRef<'_> {
    type Target = NdArray;
    fn deref(&self) -> &NdArray {
        match self {
            ArrRef::Borrowed(r) => r,
            ArrRef::Owned(a) => a,
        }
    }
}

/// Views a value as an array (scalars become 0-d arrays, lists are
/// converted like `np.array`).
pub(crate) fn as_arr<'a>(v: &'a Value, budget: &mut Budget) -> R<ArrRef<'a>> {
    match v {
        Value::Array(a) => {
            let r = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            r.check()?;
            Ok(ArrRef::Borrowed(r))
        }
        _ => Ok(ArrRef::Owned(crate::numpy::to_ndarray(v, None, budget)?)),
    }
}

/// Converts an array result to a value: 0-d arrays become scalars.
pub(crate) fn arr_result(r: NdArray) -> Value {
    if r.ndim() == 0 {
        Value::from_elem(r.dtype, r.at(0))
    } else {
        Value::array(r)
    }
}

fn zero_div(msg: &str) -> crate::error::Fail {
    fail(ErrorKind::Value, format!("division by zero ({msg})"))
}

fn overflow(op: BinOp) -> crate::error::Fail {
    value_err(format!("integer overflow in '{}'", op.symbol()))
}

fn unsupported(op: &str, a: &Value, b: &Value) -> crate::error::Fail {
    type_err(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        a.type_label(),
        b.type_label()
    ))
}

fn arr_op(op: BinOp) -> Option<ArrBin> {
    Some(match op {
        BinOp::Add => ArrBin::Add,
        BinOp::Sub => ArrBin::Sub,
        BinOp::Mul => ArrBin::Mul,
        BinOp::Div => ArrBin::Div,
        BinOp::FloorDiv => ArrBin::FloorDiv,
        BinOp::Mod => ArrBin::Mod,
        BinOp::Pow => ArrBin::Pow,
        BinOp::BitAnd => ArrBin::And,
        BinOp::BitOr => ArrBin::Or,
        BinOp::BitXor => ArrBin::Xor,
        BinOp::LShift => ArrBin::LShift,
        BinOp::RShift => ArrBin::RShift,
        BinOp::MatMul => return None,
    })
}

fn is_arrayish(v: &Value) -> bool {
    matches!(
        v,
        Value::Array(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Bool(_)
            | Value::List(_)
            | Value::Tuple(_)
    )
}

/// Applies an array binary operation between two array-like values.
pub(crate) fn array_bin(op: ArrBin, a: &Value, b: &Value, budget: &mut Budget) -> R<Value> {
    let x = as_arr(a, budget)?;
    let y = as_arr(b, budget)?;
    Ok(arr_result(array::binary(op, &x, &y, budget)?))
}

/// `a op b`.
pub(crate) fn binop(op: BinOp, a: &Value, b: &Value, budget: &mut Budget) -> R<Value> {
    if matches!(a, Value::Array(_)) || matches!(b, Value::Array(_)) {
        if !is_arrayish(a) || !is_arrayish(b) {
            return Err(unsupported(op.symbol(), a, b));
        }
        let x = as_arr(a, budget)?;
        let y = as_arr(b, budget)?;
        let r = match arr_op(op) {
            Some(aop) => array::binary(aop, &x, &y, budget)?,
            None => array::dot(&x, &y, budget)?,
        };
        return Ok(arr_result(r));
    }
    budget.ops(1)?;
    match (a, b) {
        (Value::Bool(x), Value::Bool(y))
            if matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor) =>
        {
            Ok(Value::Bool(match op {
                BinOp::BitAnd => *x && *y,
                BinOp::BitOr => *x || *y,
                _ => x != y,
            }))
        }
        (Value::Int(_) | Value::Bool(_), Value::Int(_) | Value::Bool(_)) => {
            let x = a.as_i64().unwrap_or(0);
            let y = b.as_i64().unwrap_or(0);
            int_op(op, x, y)
        }
        (
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
        ) => {
            let x = a.as_f64().unwrap_or(0.0);
            let y = b.as_f64().unwrap_or(0.0);
            float_op(op, x, y, a, b)
        }
        _ => seq_op(op, a, b, budget),
    }
}

fn int_op(op: BinOp, x: i64, y: i64) -> R<Value> {
    let v = match op {
        BinOp::Add => x.checked_add(y).ok_or_else(|| overflow(op))?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(|| overflow(op))?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(|| overflow(op))?,
        BinOp::Div => {
            if y == 0 {
                return Err(zero_div("int / 0"));
            }
            return Ok(Value::Float(x as f64 / y as f64));
        }
        BinOp::FloorDiv => {
            if y == 0 {
                return Err(zero_div("int // 0"));
            }
            let q = x.checked_div(y).ok_or_else(|| overflow(op))?;
            if (x % y != 0) && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(zero_div("int % 0"));
            }
            if y == -1 {
                0
            } else {
                let r = x % y;
                if r != 0 && ((r < 0) != (y < 0)) {
                    r + y
                } else {
                    r
                }
            }
        }
        BinOp::Pow => {
            if y < 0 {
                if x == 0 {
                    return Err(zero_div("0 cannot be raised to a negative power"));
                }
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            match x {
                0 | 1 => {
                    if y == 0 {
                        1
                    } else {
                        x
                    }
                }
                -1 => {
                    if y % 2 == 0 {
                        1
                    } else {
                        -1
                    }
                }
                _ => {
                    let e = u32::try_from(y).map_err(|_| overflow(op))?;
                    x.checked_pow(e).ok_or_else(|| overflow(op))?
                }
            }
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::LShift => {
            if y < 0 {
                return Err(value_err("negative shift count"));
            }
            if x == 0 {
                0
            } else {
                if y >= 63 {
                    return Err(overflow(op));
                }
                let r = x << y;
                if (r >> y) != x {
                    return Err(overflow(op));
                }
                r
            }
        }
        BinOp::RShift => {
            if y < 0 {
                return Err(value_err("negative shift count"));
            }
            x >> y.min(63)
        }
        BinOp::MatMul => {
            return Err(type_err(
                "unsupported operand type(s) for @: 'int' and 'int'",
            ));
        }
    };
    Ok(Value::Int(v))
}

fn float_op(op: BinOp, x: f64, y: f64, a: &Value, b: &Value) -> R<Value> {
    let v = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero_div("float division by zero"));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero_div("float floor division by zero"));
            }
            (x / y).floor()
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero_div("float modulo by zero"));
            }
            array::py_fmod(x, y)
        }
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(zero_div("0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.fract() != 0.0 && y.is_finite() {
                return Err(value_err(
                    "negative number cannot be raised to a fractional power (the result would be complex)",
                ));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(value_err("numerical result out of range in '**'"));
            }
            r
        }
        _ => return Err(unsupported(op.symbol(), a, b)),
    };
    Ok(Value::Float(v))
}

fn repeat_count(v: &Value) -> Option<i64> {
    match v {
        Value::Int(_) | Value::Bool(_) => v.as_i64(),
        _ => None,
    }
}

fn seq_op(op: BinOp, a: &Value, b: &Value, budget: &mut Budget) -> R<Value> {
    match (op, a, b) {
        (BinOp::Add, Value::Str(x), Value::Str(y)) => {
            budget.text(x.len() + y.len())?;
            Ok(Value::Str(Rc::from(format!("{x}{y}"))))
        }
        (BinOp::Add, Value::List(x), Value::List(y)) => {
            let mut v = x
                .try_borrow()
                .map_err(|_| value_err("list is in use"))?
                .clone();
            let y = y.try_borrow().map_err(|_| value_err("list is in use"))?;
            budget.seq(v.len() + y.len())?;
            v.extend(y.iter().cloned());
            Ok(Value::list(v))
        }
        (BinOp::Add, Value::Tuple(x), Value::Tuple(y)) => {
            budget.seq(x.len() + y.len())?;
            Ok(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
        }
        (BinOp::Add, Value::List(_), Value::Tuple(_))
        | (BinOp::Add, Value::Tuple(_), Value::List(_)) => Err(type_err(format!(
            "can only concatenate {} (not \"{}\") to {}",
            a.type_name(),
            b.type_name(),
            a.type_name()
        ))),
        (BinOp::Add, Value::List(_) | Value::Tuple(_), _) => Err(type_err(format!(
            "can only concatenate {} (not \"{}\") to {}",
            a.type_name(),
            b.type_label(),
            a.type_name()
        ))),
        (BinOp::Add, Value::Str(_), _) => Err(type_err(format!(
            "can only concatenate str (not \"{}\") to str",
            b.type_label()
        ))),
        (BinOp::Mul, Value::Str(_) | Value::List(_) | Value::Tuple(_), _)
            if repeat_count(b).is_some() =>
        {
            repeat(a, repeat_count(b).unwrap_or(0), budget)
        }
        (BinOp::Mul, _, Value::Str(_) | Value::List(_) | Value::Tuple(_))
            if repeat_count(a).is_some() =>
        {
            repeat(b, repeat_count(a).unwrap_or(0), budget)
        }
        (BinOp::Mod, Value::Str(_), _) => Err(type_err(
            "'%' string formatting is not supported in map programs (use str() and +, or .format())",
        )),
        _ => Err(unsupported(op.symbol(), a, b)),
    }
}

fn repeat(seq: &Value, n: i64, budget: &mut Budget) -> R<Value> {
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    match seq {
        Value::Str(s) => {
            let total = s.len().saturating_mul(n);
            budget.text(total)?;
            Ok(Value::Str(Rc::from(s.repeat(n))))
        }
        Value::List(l) => {
            let items = l
                .try_borrow()
                .map_err(|_| value_err("list is in use"))?
                .clone();
            let total = items.len().saturating_mul(n);
            budget.seq(total)?;
            let mut out = Vec::with_capacity(total);
            for _ in 0..n {
                out.extend(items.iter().cloned());
            }
            Ok(Value::list(out))
        }
        Value::Tuple(t) => {
            let total = t.len().saturating_mul(n);
            budget.seq(total)?;
            let mut out = Vec::with_capacity(total);
            for _ in 0..n {
                out.extend(t.iter().cloned());
            }
            Ok(Value::tuple(out))
        }
        _ => Err(type_err("can't multiply sequence")),
    }
}

/// `a is b`.
pub(crate) fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y),
        (Value::Tuple(x), Value::Tuple(y)) => Rc::ptr_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y),
        (Value::Array(x), Value::Array(y)) => Rc::ptr_eq(x, y),
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        (Value::HostFn(x), Value::HostFn(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) | (Value::Module(x), Value::Module(y)) => x == y,
        (Value::Method(x), Value::Method(y)) => Rc::ptr_eq(x, y),
        (Value::Range(x), Value::Range(y)) => Rc::ptr_eq(x, y),
        (Value::Slice(x), Value::Slice(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// `item in container`.
pub(crate) fn contains(container: &Value, item: &Value, budget: &mut Budget) -> R<bool> {
    match container {
        Value::List(l) => {
            let items = l
                .try_borrow()
                .map_err(|_| value_err("list is in use"))?
                .clone();
            seq_contains(&items, item, budget)
        }
        Value::Tuple(t) => seq_contains(t, item, budget),
        Value::Dict(d) => {
            crate::value::check_hashable(item)?;
            let items = d.try_borrow().map_err(|_| value_err("dict is in use"))?;
            budget.ops(items.len() as u64)?;
            for (k, _) in items.iter() {
                if values_eq(k, item, budget)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Str(s) => match item {
            Value::Str(sub) => {
                budget.ops(s.len() as u64 / 8 + 1)?;
                Ok(s.contains(&**sub))
            }
            _ => Err(type_err(format!(
                "'in <string>' requires string as left operand, not {}",
                item.type_label()
            ))),
        },
        Value::Range(r) => {
            let [start, stop, step] = **r;
            let Some(x) = (match item {
                Value::Int(_) | Value::Bool(_) => item.as_i64(),
                Value::Float(f) if f.fract() == 0.0 => item.as_i64(),
                _ => None,
            }) else {
                return Ok(false);
            };
            let (x, start, step) = (i128::from(x), i128::from(start), i128::from(step));
            let in_bounds = if step > 0 {
                x >= start && x < i128::from(stop)
            } else {
                x <= start && x > i128::from(stop)
            };
            Ok(in_bounds && (x - start) % step == 0)
        }
        Value::Array(_) => {
            if !is_arrayish(item) {
                return Ok(false);
            }
            let eq = array_bin(ArrBin::Eq, container, item, budget)?;
            Ok(match eq {
                Value::Array(a) => a
                    .try_borrow()
                    .map(|a| a.data.iter().any(|&x| x != 0.0))
                    .unwrap_or(false),
                other => crate::value::truthy(&other)?,
            })
        }
        _ => Err(type_err(format!(
            "argument of type '{}' is not iterable",
            container.type_label()
        ))),
    }
}

fn seq_contains(items: &[Value], item: &Value, budget: &mut Budget) -> R<bool> {
    budget.ops(items.len() as u64)?;
    for x in items {
        if values_eq(x, item, budget)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A comparison operator other than `is`/`in`.
pub(crate) fn compare(op: CmpOp, a: &Value, b: &Value, budget: &mut Budget) -> R<Value> {
    match op {
        CmpOp::Is => return Ok(Value::Bool(identical(a, b))),
        CmpOp::IsNot => return Ok(Value::Bool(!identical(a, b))),
        CmpOp::In => return Ok(Value::Bool(contains(b, a, budget)?)),
        CmpOp::NotIn => return Ok(Value::Bool(!contains(b, a, budget)?)),
        _ => {}
    }
    budget.ops(1)?;
    if matches!(a, Value::Array(_)) || matches!(b, Value::Array(_)) {
        if is_arrayish(a) && is_arrayish(b) {
            let aop = match op {
                CmpOp::Eq => ArrBin::Eq,
                CmpOp::Ne => ArrBin::Ne,
                CmpOp::Lt => ArrBin::Lt,
                CmpOp::Le => ArrBin::Le,
                CmpOp::Gt => ArrBin::Gt,
                _ => ArrBin::Ge,
            };
            return array_bin(aop, a, b, budget);
        }
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            // Comparing an array with e.g. None: elementwise all False/True.
            let arr = if let Value::Array(x) = a {
                x
            } else if let Value::Array(x) = b {
                x
            } else {
                unreachable_arr()?
            };
            let shape = arr
                .try_borrow()
                .map_err(|_| value_err("array is in use"))?
                .shape
                .clone();
            let fill = if op == CmpOp::Eq { 0.0 } else { 1.0 };
            return Ok(arr_result(array::alloc(shape, fill, DType::Bool, budget)?));
        }
        return Err(type_err(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_label(),
            b.type_label()
        )));
    }
    let r = match op {
        CmpOp::Eq => values_eq(a, b, budget)?,
        CmpOp::Ne => !values_eq(a, b, budget)?,
        _ => {
            let ord = compare_values(a, b, op.symbol(), budget)?;
            match (op, ord) {
                (_, None) => false,
                (CmpOp::Lt, Some(o)) => o.is_lt(),
                (CmpOp::Le, Some(o)) => o.is_le(),
                (CmpOp::Gt, Some(o)) => o.is_gt(),
                (_, Some(o)) => o.is_ge(),
            }
        }
    };
    Ok(Value::Bool(r))
}

fn unreachable_arr<T>() -> R<T> {
    Err(type_err("internal error: expected an array operand"))
}

/// Unary `-x`, `+x`, `~x`.
pub(crate) fn unary(op: UnaryOp, v: &Value, budget: &mut Budget) -> R<Value> {
    budget.ops(1)?;
    match (op, v) {
        (_, Value::Array(a)) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            let u = match op {
                UnaryOp::Neg => ArrUn::Neg,
                UnaryOp::Pos => ArrUn::Pos,
                UnaryOp::Invert => ArrUn::Invert,
            };
            Ok(arr_result(array::unary(u, &a, budget)?))
        }
        (UnaryOp::Neg, Value::Int(i)) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| value_err("integer overflow in unary '-'")),
        (UnaryOp::Neg, Value::Bool(b)) => Ok(Value::Int(-i64::from(*b))),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Pos, Value::Int(_) | Value::Float(_)) => Ok(v.clone()),
        (UnaryOp::Pos, Value::Bool(b)) => Ok(Value::Int(i64::from(*b))),
        (UnaryOp::Invert, Value::Int(i)) => Ok(Value::Int(!i)),
        (UnaryOp::Invert, Value::Bool(b)) => Ok(Value::Int(!i64::from(*b))),
        _ => {
            let sym = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Pos => "+",
                UnaryOp::Invert => "~",
            };
            Err(type_err(format!(
                "bad operand type for unary {sym}: '{}'",
                v.type_label()
            )))
        }
    }
}

/// Length of a range value, as usize (saturating).
pub(crate) fn range_count(r: &[i64; 3]) -> usize {
    usize::try_from(range_len(r[0], r[1], r[2])).unwrap_or(usize::MAX)
}
