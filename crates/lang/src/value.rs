//! Runtime values, Python-style formatting, equality and ordering.

use std::cell::{Ref, RefCell};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::array::{DType, NdArray, fmt_shape};
use crate::budget::{Budget, MAX_DEPTH_CAP};
use crate::error::{R, limit_err, type_err};

/// A host object: a read-only bag of attributes accessed as `obj.attr`.
#[derive(Debug, Clone, Default)]
pub struct Object {
    /// Name used in messages and `repr` (e.g. `"Object"` or `"blue block"`).
    pub type_name: String,
    /// Attribute values.
    pub attrs: BTreeMap<String, Value>,
}

impl Object {
    /// Creates an object.
    pub fn new(type_name: impl Into<String>, attrs: BTreeMap<String, Value>) -> Object {
        Object {
            type_name: type_name.into(),
            attrs,
        }
    }
}

/// A runtime value.
///
/// Lists, dicts and arrays are shared by reference (`Rc<RefCell<..>>`) like
/// Python objects: assigning `b = a` aliases, and host functions receiving
/// an array can modify it in place.
#[derive(Clone)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// A Python int (64-bit; overflow is an error).
    Int(i64),
    /// A Python float.
    Float(f64),
    /// A string.
    Str(Rc<str>),
    /// A list.
    List(Rc<RefCell<Vec<Value>>>),
    /// A tuple.
    Tuple(Rc<Vec<Value>>),
    /// A dict (insertion ordered, small: linear lookup).
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    /// A numpy-style array.
    Array(Rc<RefCell<NdArray>>),
    /// An array a host handed out as a painting, made dense when the program reads it
    /// (see [`crate::Painted`]). Programs see an `ndarray`. Hosts return paintings only as
    /// a call's whole result: one inside a list, dict or object is not made dense on use.
    Painted(Rc<crate::Painted>),
    /// A read-only host object.
    Object(Rc<Object>),
    /// A function implemented by the [`crate::Host`], called through
    /// [`crate::Host::call`] with this name.
    HostFn(Rc<str>),
    /// A built-in function or type by qualified name (`"len"`,
    /// `"np.zeros"`, `"math.sqrt"`, `"np.float32"`).
    Builtin(&'static str),
    /// A module: `"numpy"`, `"numpy.linalg"` or `"math"`.
    Module(&'static str),
    /// A bound method: receiver and method name.
    Method(Rc<(Value, &'static str)>),
    /// `range(start, stop, step)`.
    Range(Rc<[i64; 3]>),
    /// A slice `start:stop:step` (only produced inside subscripts).
    Slice(Rc<[Option<i64>; 3]>),
    /// `...`.
    Ellipsis,
}

impl Value {
    /// Wraps an array.
    pub fn array(a: NdArray) -> Value {
        Value::Array(Rc::new(RefCell::new(a)))
    }

    /// Wraps a painting (see [`crate::Painted`]).
    pub fn painted(p: crate::Painting) -> Value {
        Value::Painted(Rc::new(crate::Painted::new(p)))
    }

    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    /// A tuple value.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(items))
    }

    /// A host object value.
    pub fn object(type_name: impl Into<String>, attrs: BTreeMap<String, Value>) -> Value {
        Value::Object(Rc::new(Object::new(type_name, attrs)))
    }

    /// The Python type name (`"int"`, `"list"`, `"ndarray"`, ...). Host
    /// objects report `"object"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Array(_) | Value::Painted(_) => "ndarray",
            Value::Object(_) => "object",
            Value::HostFn(_) => "function",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Module(_) => "module",
            Value::Method(_) => "method",
            Value::Range(_) => "range",
            Value::Slice(_) => "slice",
            Value::Ellipsis => "ellipsis",
        }
    }

    /// Like [`Value::type_name`] but uses a host object's own type name.
    pub(crate) fn type_label(&self) -> String {
        match self {
            Value::Object(o) => o.type_name.clone(),
            other => other.type_name().to_string(),
        }
    }

    /// The value as a float: Int, Float, Bool, or a 1-element array.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Array(a) => {
                let a = a.try_borrow().ok()?;
                if a.data.len() == 1 && a.check().is_ok() {
                    a.data.first().map(|&x| f64::from(x))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The value as an integer: Int, Bool, an integral Float, or a
    /// 1-element array holding an integral value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Int(i) => Some(*i),
            Value::Float(_) | Value::Array(_) => {
                let f = self.as_f64()?;
                if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    Some(f as i64)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The string content of a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Borrows the array of an `Array` value (None if not an array or if it
    /// is currently mutably borrowed).
    pub fn as_array(&self) -> Option<Ref<'_, NdArray>> {
        match self {
            Value::Array(a) => a.try_borrow().ok(),
            _ => None,
        }
    }

    /// Flattens a number, or a list/tuple/array of numbers (nested lists
    /// allowed), into a vector of floats.
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        let mut out = Vec::new();
        if flatten_numbers(self, &mut out, 0) {
            Some(out)
        } else {
            None
        }
    }

    /// An `Array` value's element converted to a scalar value by dtype.
    pub(crate) fn from_elem(dtype: DType, x: f32) -> Value {
        match dtype {
            DType::Bool => Value::Bool(x != 0.0),
            DType::Int => Value::Int(x as i64),
            DType::Float => Value::Float(f32_to_f64(x)),
        }
    }
}

/// Converts an `f32` to the `f64` with the same shortest decimal
/// representation (so `0.1f32` becomes `0.1`, not `0.10000000149...`).
pub(crate) fn f32_to_f64(x: f32) -> f64 {
    if !x.is_finite() || x.fract() == 0.0 {
        return f64::from(x);
    }
    format!("{x}").parse::<f64>().unwrap_or(f64::from(x))
}

fn flatten_numbers(v: &Value, out: &mut Vec<f64>, depth: usize) -> bool {
    if depth > MAX_DEPTH_CAP {
        return false;
    }
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => match v.as_f64() {
            Some(x) => {
                out.push(x);
                true
            }
            None => false,
        },
        Value::List(l) => match l.try_borrow() {
            Ok(items) => items.iter().all(|x| flatten_numbers(x, out, depth + 1)),
            Err(_) => false,
        },
        Value::Tuple(t) => t.iter().all(|x| flatten_numbers(x, out, depth + 1)),
        Value::Array(a) => match a.try_borrow() {
            Ok(a) if a.check().is_ok() => {
                out.extend(a.data.iter().map(|&x| f64::from(x)));
                true
            }
            _ => false,
        },
        _ => false,
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        match repr_into(self, &mut s, 0, &mut 100_000) {
            Ok(()) => f.write_str(&s),
            Err(_) => f.write_str("<value too large to display>"),
        }
    }
}

impl fmt::Display for Value {
    /// Formats like Python's `str()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match str_of(self, 1_000_000) {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str("<value too large to display>"),
        }
    }
}

// ----- formatting ------------------------------------------------------------

/// Python's `repr()` of a float: shortest round-trip digits, exponent
/// notation outside `1e-4 <= |x| < 1e16`.
pub(crate) fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sci = format!("{x:e}");
    let (mant, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let e = exp as usize;
            let int_part: String = if digits.len() > e {
                digits.get(..e + 1).unwrap_or("").to_string()
            } else {
                format!("{digits}{}", "0".repeat(e + 1 - digits.len()))
            };
            let frac = digits.get(e + 1..).unwrap_or("");
            out.push_str(&int_part);
            out.push('.');
            out.push_str(if frac.is_empty() { "0" } else { frac });
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// Python `repr()` of a string.
pub(crate) fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn push_capped(out: &mut String, s: &str, cap: &mut usize) -> R<()> {
    if s.len() > *cap {
        return Err(limit_err("value is too large to format"));
    }
    *cap -= s.len();
    out.push_str(s);
    Ok(())
}

/// Appends `repr(v)`; `cap` bounds the total number of bytes produced.
pub(crate) fn repr_into(v: &Value, out: &mut String, depth: usize, cap: &mut usize) -> R<()> {
    if depth > MAX_DEPTH_CAP {
        return push_capped(out, "...", cap);
    }
    match v {
        Value::None => push_capped(out, "None", cap),
        Value::Bool(b) => push_capped(out, if *b { "True" } else { "False" }, cap),
        Value::Int(i) => push_capped(out, &i.to_string(), cap),
        Value::Float(f) => push_capped(out, &py_float_repr(*f), cap),
        Value::Str(s) => push_capped(out, &py_str_repr(s), cap),
        Value::List(l) => {
            let items = l.try_borrow().map_err(|_| type_err("list is in use"))?;
            push_capped(out, "[", cap)?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    push_capped(out, ", ", cap)?;
                }
                repr_into(x, out, depth + 1, cap)?;
            }
            push_capped(out, "]", cap)
        }
        Value::Tuple(t) => {
            push_capped(out, "(", cap)?;
            for (i, x) in t.iter().enumerate() {
                if i > 0 {
                    push_capped(out, ", ", cap)?;
                }
                repr_into(x, out, depth + 1, cap)?;
            }
            if t.len() == 1 {
                push_capped(out, ",", cap)?;
            }
            push_capped(out, ")", cap)
        }
        Value::Dict(d) => {
            let items = d.try_borrow().map_err(|_| type_err("dict is in use"))?;
            push_capped(out, "{", cap)?;
            for (i, (k, x)) in items.iter().enumerate() {
                if i > 0 {
                    push_capped(out, ", ", cap)?;
                }
                repr_into(k, out, depth + 1, cap)?;
                push_capped(out, ": ", cap)?;
                repr_into(x, out, depth + 1, cap)?;
            }
            push_capped(out, "}", cap)
        }
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| type_err("array is in use"))?;
            a.check()?;
            push_capped(out, &format_array(&a), cap)
        }
        Value::Painted(p) => {
            let shape = match p.state() {
                crate::PaintedState::Lazy(p) => p.shape(),
                crate::PaintedState::Dense(a) => a
                    .try_borrow()
                    .map_err(|_| type_err("array is in use"))?
                    .shape
                    .clone(),
            };
            push_capped(
                out,
                &format!("<painted array of shape {}>", fmt_shape(&shape)),
                cap,
            )
        }
        Value::Object(o) => {
            let s = match o.attrs.get("name").and_then(|n| n.as_str()) {
                Some(n) => format!("<{} '{}'>", o.type_name, n),
                None => format!("<{} object>", o.type_name),
            };
            push_capped(out, &s, cap)
        }
        Value::HostFn(n) => push_capped(out, &format!("<function {n}>"), cap),
        Value::Builtin(n) => {
            let s = if let Some(t) = n
                .strip_prefix("np.")
                .filter(|_| crate::numpy::dtype_of_builtin(n).is_some())
            {
                format!("<class 'numpy.{t}'>")
            } else if matches!(
                *n,
                "int" | "float" | "bool" | "str" | "list" | "tuple" | "dict" | "range"
            ) {
                format!("<class '{n}'>")
            } else {
                format!("<built-in function {n}>")
            };
            push_capped(out, &s, cap)
        }
        Value::Module(m) => push_capped(out, &format!("<module '{m}'>"), cap),
        Value::Method(m) => push_capped(
            out,
            &format!("<method {} of {}>", m.1, m.0.type_label()),
            cap,
        ),
        Value::Range(r) => {
            let [a, b, c] = **r;
            let s = if c == 1 {
                format!("range({a}, {b})")
            } else {
                format!("range({a}, {b}, {c})")
            };
            push_capped(out, &s, cap)
        }
        Value::Slice(s) => {
            let f = |x: Option<i64>| x.map_or("None".to_string(), |v| v.to_string());
            push_capped(
                out,
                &format!("slice({}, {}, {})", f(s[0]), f(s[1]), f(s[2])),
                cap,
            )
        }
        Value::Ellipsis => push_capped(out, "Ellipsis", cap),
    }
}

/// Python `str()`.
pub(crate) fn str_of(v: &Value, cap: usize) -> R<String> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Builtin(b)
            if crate::numpy::dtype_of_builtin(b).is_some() && b.starts_with("np.") =>
        {
            Ok(b.trim_start_matches("np.").to_string())
        }
        _ => {
            let mut out = String::new();
            let mut cap = cap;
            repr_into(v, &mut out, 0, &mut cap)?;
            Ok(out)
        }
    }
}

fn fmt_elem_raw(dtype: DType, x: f32) -> String {
    match dtype {
        DType::Bool => if x != 0.0 { "True" } else { "False" }.to_string(),
        DType::Int => format!("{}", x as i64),
        DType::Float => {
            if x.is_nan() {
                "nan".to_string()
            } else if x.is_infinite() {
                if x > 0.0 { "inf" } else { "-inf" }.to_string()
            } else if x != 0.0 && (x.abs() >= 1e8 || x.abs() < 1e-4) {
                sci_elem(x)
            } else {
                let s = format!("{x}");
                if s.contains('.') { s } else { format!("{s}.") }
            }
        }
    }
}

/// numpy-style scientific element: `1.e-05`, `1.5e+08`.
fn sci_elem(x: f32) -> String {
    let s = format!("{x:e}");
    let (m, e) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let m = if m.contains('.') {
        m.to_string()
    } else {
        format!("{m}.")
    };
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// numpy-like `str()` of an array; arrays with more than 1000 elements
/// are summarized with `...`.
pub(crate) fn format_array(a: &NdArray) -> String {
    if a.ndim() == 0 {
        return fmt_elem_raw(a.dtype, a.at(0));
    }
    let summarize = a.len() > 1000;
    let strides = crate::array::c_strides(&a.shape);
    // Pass 1: which elements are shown.
    let mut shown = Vec::new();
    collect_shown(a, &strides, 0, 0, summarize, &mut shown);
    let sci = a.dtype == DType::Float
        && shown.iter().any(|&o| {
            let x = a.at(o).abs();
            x.is_finite() && x != 0.0 && !(1e-4..1e8).contains(&x)
        });
    let strs: Vec<String> = shown
        .iter()
        .map(|&o| {
            let x = a.at(o);
            if sci && x.is_finite() {
                sci_elem(x)
            } else {
                fmt_elem_raw(a.dtype, x)
            }
        })
        .collect();
    let strs = pad_elems(a.dtype, strs);
    let mut out = String::new();
    let mut it = strs.into_iter();
    write_nested(a, 0, summarize, &mut it, &mut out, 1);
    out
}

fn shown_indices(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 6 {
        vec![
            Some(0),
            Some(1),
            Some(2),
            None,
            Some(n - 3),
            Some(n - 2),
            Some(n - 1),
        ]
    } else {
        (0..n).map(Some).collect()
    }
}

fn collect_shown(
    a: &NdArray,
    strides: &[usize],
    dim: usize,
    off: usize,
    summarize: bool,
    out: &mut Vec<usize>,
) {
    if dim >= a.ndim() {
        out.push(off);
        return;
    }
    let n = a.shape.get(dim).copied().unwrap_or(0);
    let st = strides.get(dim).copied().unwrap_or(0);
    for i in shown_indices(n, summarize).into_iter().flatten() {
        collect_shown(a, strides, dim + 1, off + i * st, summarize, out);
    }
}

fn pad_elems(dtype: DType, strs: Vec<String>) -> Vec<String> {
    match dtype {
        DType::Float => {
            let split: Vec<(String, String)> = strs
                .iter()
                .map(|s| match s.split_once('.') {
                    Some((a, b)) if !s.contains("nan") && !s.contains("inf") => {
                        (a.to_string(), format!(".{b}"))
                    }
                    _ => (s.clone(), String::new()),
                })
                .collect();
            let wi = split.iter().map(|p| p.0.chars().count()).max().unwrap_or(0);
            let wf = split.iter().map(|p| p.1.chars().count()).max().unwrap_or(0);
            let w = wi + wf;
            split
                .into_iter()
                .map(|(a, b)| {
                    if b.is_empty() && (a.contains("nan") || a.contains("inf")) {
                        format!("{a:>w$}")
                    } else {
                        format!("{a:>wi$}{b:<wf$}")
                    }
                })
                .collect()
        }
        _ => {
            let min = if dtype == DType::Bool { 5 } else { 0 };
            let w = strs
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(min);
            strs.into_iter().map(|s| format!("{s:>w$}")).collect()
        }
    }
}

fn write_nested(
    a: &NdArray,
    dim: usize,
    summarize: bool,
    it: &mut std::vec::IntoIter<String>,
    out: &mut String,
    indent: usize,
) {
    if dim >= a.ndim() {
        if let Some(s) = it.next() {
            out.push_str(&s);
        }
        return;
    }
    out.push('[');
    let n = a.shape.get(dim).copied().unwrap_or(0);
    let last = dim + 1 == a.ndim();
    for (k, i) in shown_indices(n, summarize).into_iter().enumerate() {
        if k > 0 {
            if last {
                out.push(' ');
            } else {
                for _ in 0..(a.ndim() - dim - 1) {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent));
            }
        }
        match i {
            Some(_) => write_nested(a, dim + 1, summarize, it, out, indent + 1),
            None => out.push_str("..."),
        }
    }
    out.push(']');
}

/// A short description of an array for messages: `array(shape=(3,), dtype=int64)`.
pub(crate) fn describe_array(a: &NdArray) -> String {
    format!(
        "array(shape={}, dtype={})",
        fmt_shape(&a.shape),
        a.dtype.name()
    )
}

// ----- truthiness, equality, ordering --------------------------------------

/// Python truthiness. A multi-element array is an error (like numpy).
pub(crate) fn truthy(v: &Value) -> R<bool> {
    Ok(match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(l) => !l
            .try_borrow()
            .map_err(|_| type_err("list is in use"))?
            .is_empty(),
        Value::Tuple(t) => !t.is_empty(),
        Value::Dict(d) => !d
            .try_borrow()
            .map_err(|_| type_err("dict is in use"))?
            .is_empty(),
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| type_err("array is in use"))?;
            a.check()?;
            match a.len() {
                0 => false,
                1 => a.at(0) != 0.0,
                _ => {
                    return Err(crate::error::value_err(
                        "the truth value of an array with more than one element is ambiguous; use a.any() or a.all()",
                    ));
                }
            }
        }
        Value::Range(r) => range_len(r[0], r[1], r[2]) > 0,
        _ => true,
    })
}

/// Number of elements of `range(start, stop, step)`.
pub(crate) fn range_len(start: i64, stop: i64, step: i64) -> u64 {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let n = if step > 0 && stop > start {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Structural equality (`==` for non-array operands). Arrays compare equal
/// when shape and all elements are equal.
pub(crate) fn values_eq(a: &Value, b: &Value, budget: &mut Budget) -> R<bool> {
    eq_rec(a, b, 0, budget)
}

fn eq_rec(a: &Value, b: &Value, depth: usize, budget: &mut Budget) -> R<bool> {
    if depth > MAX_DEPTH_CAP {
        return Err(limit_err("comparison nested too deeply"));
    }
    budget.ops(1)?;
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
        ) => num(a) == num(b),
        (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x, y) = (
                x.try_borrow().map_err(|_| type_err("list is in use"))?,
                y.try_borrow().map_err(|_| type_err("list is in use"))?,
            );
            seq_eq(&x, &y, depth, budget)?
        }
        (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y, depth, budget)?,
        (Value::Dict(x), Value::Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x, y) = (
                x.try_borrow().map_err(|_| type_err("dict is in use"))?,
                y.try_borrow().map_err(|_| type_err("dict is in use"))?,
            );
            if x.len() != y.len() {
                return Ok(false);
            }
            budget.ops((x.len() as u64).saturating_mul(y.len() as u64))?;
            for (k, v) in x.iter() {
                let mut found = false;
                for (k2, v2) in y.iter() {
                    if eq_rec(k, k2, depth + 1, budget)? {
                        found = eq_rec(v, v2, depth + 1, budget)?;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Array(x), Value::Array(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x, y) = (
                x.try_borrow().map_err(|_| type_err("array is in use"))?,
                y.try_borrow().map_err(|_| type_err("array is in use"))?,
            );
            budget.ops(x.data.len() as u64)?;
            x.shape == y.shape && x.data == y.data
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        (Value::HostFn(x), Value::HostFn(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) | (Value::Module(x), Value::Module(y)) => x == y,
        (Value::Range(x), Value::Range(y)) => x == y,
        (Value::Slice(x), Value::Slice(y)) => x == y,
        (Value::Method(x), Value::Method(y)) => {
            x.1 == y.1 && eq_rec(&x.0, &y.0, depth + 1, budget)?
        }
        _ => false,
    })
}

fn seq_eq(x: &[Value], y: &[Value], depth: usize, budget: &mut Budget) -> R<bool> {
    if x.len() != y.len() {
        return Ok(false);
    }
    for (a, b) in x.iter().zip(y) {
        if !eq_rec(a, b, depth + 1, budget)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Ordering for `<`, `<=`, `>`, `>=`, `sorted`, `min`, `max`. `None` means
/// unordered (NaN). Incomparable types are a `TypeError`.
pub(crate) fn compare_values(
    a: &Value,
    b: &Value,
    op: &str,
    budget: &mut Budget,
) -> R<Option<Ordering>> {
    cmp_rec(a, b, op, 0, budget)
}

fn cmp_rec(
    a: &Value,
    b: &Value,
    op: &str,
    depth: usize,
    budget: &mut Budget,
) -> R<Option<Ordering>> {
    if depth > MAX_DEPTH_CAP {
        return Err(limit_err("comparison nested too deeply"));
    }
    budget.ops(1)?;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Some(x.cmp(y))),
        (
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
        ) => Ok(num(a).partial_cmp(&num(b))),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::List(x), Value::List(y)) => {
            budget.ops(2)?;
            let (x, y) = (
                x.try_borrow().map_err(|_| type_err("list is in use"))?,
                y.try_borrow().map_err(|_| type_err("list is in use"))?,
            );
            seq_cmp(&x, &y, op, depth, budget)
        }
        (Value::Tuple(x), Value::Tuple(y)) => seq_cmp(x, y, op, depth, budget),
        _ => Err(type_err(format!(
            "'{op}' not supported between instances of '{}' and '{}'",
            a.type_label(),
            b.type_label()
        ))),
    }
}

fn seq_cmp(
    x: &[Value],
    y: &[Value],
    op: &str,
    depth: usize,
    budget: &mut Budget,
) -> R<Option<Ordering>> {
    for (a, b) in x.iter().zip(y) {
        if !eq_rec(a, b, depth + 1, budget)? {
            return cmp_rec(a, b, op, depth + 1, budget);
        }
    }
    Ok(Some(x.len().cmp(&y.len())))
}

/// Fails for values that cannot be dict keys.
pub(crate) fn check_hashable(v: &Value) -> R<()> {
    hashable_rec(v, 0)
}

fn hashable_rec(v: &Value, depth: usize) -> R<()> {
    if depth > MAX_DEPTH_CAP {
        return Err(limit_err("dict key nested too deeply"));
    }
    match v {
        Value::List(_) | Value::Dict(_) | Value::Array(_) | Value::Slice(_) => {
            Err(type_err(format!("unhashable type: '{}'", v.type_name())))
        }
        Value::Tuple(t) => t.iter().try_for_each(|x| hashable_rec(x, depth + 1)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (123456789.0, "123456789.0"),
            (0.0001, "0.0001"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::INFINITY, "inf"),
            (1e100, "1e+100"),
            (12345.678, "12345.678"),
        ];
        for (x, s) in cases {
            assert_eq!(py_float_repr(x), s, "{x}");
        }
    }

    #[test]
    fn repr_of_containers() {
        let v = Value::list(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::str("a'b"),
            Value::tuple(vec![Value::None]),
            Value::Bool(true),
        ]);
        assert_eq!(format!("{v}"), "[1, 2.5, \"a'b\", (None,), True]");
    }

    #[test]
    fn array_str() {
        let a = NdArray::from_vec(vec![2, 2], vec![1.0, 2.0, 3.0, 40.0], DType::Int).unwrap();
        assert_eq!(format_array(&a), "[[ 1  2]\n [ 3 40]]");
        let f = NdArray::from_vec(vec![3], vec![0.5, 1.0, 2.25], DType::Float).unwrap();
        assert_eq!(format_array(&f), "[0.5  1.   2.25]");
        let b = NdArray::from_vec(vec![2], vec![1.0, 0.0], DType::Bool).unwrap();
        assert_eq!(format_array(&b), "[ True False]");
        let big = NdArray::zeros(vec![2000], DType::Int);
        assert_eq!(format_array(&big), "[0 0 0 ... 0 0 0]");
    }

    #[test]
    fn f32_conversion_is_nice() {
        assert_eq!(f32_to_f64(0.1), 0.1);
        assert_eq!(f32_to_f64(3.0), 3.0);
    }

    #[test]
    fn accessors() {
        let a = Value::array(NdArray::from_vec(vec![1], vec![4.0], DType::Int).unwrap());
        assert_eq!(a.as_i64(), Some(4));
        assert_eq!(Value::Float(2.5).as_i64(), None);
        let l = Value::list(vec![Value::Int(1), Value::tuple(vec![Value::Float(2.0)])]);
        assert_eq!(l.to_f64_vec(), Some(vec![1.0, 2.0]));
        assert_eq!(Value::str("x").to_f64_vec(), None);
    }
}
