//! Python built-in functions, the `math` module, module/attribute lookup,
//! and methods of lists, tuples, dicts and strings.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use crate::array::{self, ArrUn, DType, IndexItem};
use crate::ast::BinOp;
use crate::error::{ErrorKind, R, fail, index_err, type_err, value_err};
use crate::interp::{Interp, Kwargs, PyIter, SeqIdx, seq_index, short_repr};
use crate::numpy;
use crate::ops::{self, arr_result};
use crate::value::{
    Value, check_hashable, compare_values, py_float_repr, repr_into, str_of, truthy, values_eq,
};

/// Python built-in functions available without import.
const BUILTINS: &[&str] = &[
    "len",
    "range",
    "int",
    "float",
    "bool",
    "str",
    "repr",
    "abs",
    "min",
    "max",
    "round",
    "sum",
    "list",
    "tuple",
    "dict",
    "enumerate",
    "zip",
    "sorted",
    "reversed",
    "any",
    "all",
    "isinstance",
    "print",
    "map",
    "filter",
    "pow",
    "divmod",
    "hasattr",
    "getattr",
    "format",
    "set",
    "type",
];

/// Names that exist in Python but are deliberately unavailable.
const SANDBOXED: &[&str] = &[
    "open",
    "eval",
    "exec",
    "compile",
    "input",
    "__import__",
    "globals",
    "locals",
    "vars",
    "exit",
    "quit",
    "breakpoint",
    "help",
    "dir",
    "id",
    "hash",
    "memoryview",
    "bytearray",
    "bytes",
    "setattr",
    "delattr",
    "iter",
    "next",
    "object",
    "super",
    "property",
    "staticmethod",
    "classmethod",
    "frozenset",
    "complex",
];

const MATH_FUNCS: &[&str] = &[
    "math.sqrt",
    "math.sin",
    "math.cos",
    "math.tan",
    "math.asin",
    "math.acos",
    "math.atan",
    "math.atan2",
    "math.sinh",
    "math.cosh",
    "math.tanh",
    "math.exp",
    "math.log",
    "math.log2",
    "math.log10",
    "math.pow",
    "math.fabs",
    "math.floor",
    "math.ceil",
    "math.trunc",
    "math.radians",
    "math.degrees",
    "math.hypot",
    "math.copysign",
    "math.isclose",
    "math.isnan",
    "math.isinf",
    "math.isfinite",
    "math.fmod",
    "math.factorial",
    "math.gcd",
    "math.dist",
    "math.prod",
    "math.fsum",
];

const ARRAY_METHODS: &[&str] = &[
    "copy",
    "astype",
    "tolist",
    "sum",
    "mean",
    "min",
    "max",
    "reshape",
    "flatten",
    "ravel",
    "any",
    "all",
    "nonzero",
    "argmax",
    "argmin",
    "std",
    "var",
    "prod",
    "clip",
    "round",
    "item",
    "fill",
    "transpose",
    "dot",
    "squeeze",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "index", "count", "remove", "sort", "reverse", "copy",
    "clear",
];
const TUPLE_METHODS: &[&str] = &["index", "count"];
const SCALAR_METHODS: &[&str] = &["item", "tolist", "astype"];
const DICT_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "pop",
    "update",
    "setdefault",
    "copy",
    "clear",
];
const STR_METHODS: &[&str] = &[
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "join",
    "startswith",
    "endswith",
    "replace",
    "find",
    "count",
    "format",
    "title",
    "capitalize",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "splitlines",
];

fn find_static(table: &'static [&'static str], name: &str) -> Option<&'static str> {
    table.iter().copied().find(|s| *s == name)
}

/// Built-in names resolved when the program did not define them.
pub(crate) fn global_builtin(name: &str) -> Option<Value> {
    if let Some(b) = find_static(BUILTINS, name) {
        return Some(Value::Builtin(b));
    }
    if let Some(b) = find_static(SANDBOXED, name) {
        return Some(Value::Builtin(b));
    }
    match name {
        "np" | "numpy" => Some(Value::Module("numpy")),
        "math" => Some(Value::Module("math")),
        _ => None,
    }
}

/// Resolves `import name`.
pub(crate) fn import_module(name: &str) -> R<Value> {
    match name {
        "numpy" => Ok(Value::Module("numpy")),
        "numpy.linalg" => Ok(Value::Module("numpy.linalg")),
        "math" => Ok(Value::Module("math")),
        _ => Err(fail(
            ErrorKind::Name,
            format!(
                "module '{name}' is not available in map programs: only 'numpy' and 'math' can be imported (programs are sandboxed: no files, OS, time or randomness)"
            ),
        )),
    }
}

/// `module.name`.
pub(crate) fn module_attr(module: &'static str, name: &str) -> R<Value> {
    let missing = || type_err(format!("module '{module}' has no attribute '{name}'"));
    match module {
        "numpy" => {
            match name {
                "pi" => return Ok(Value::Float(std::f64::consts::PI)),
                "e" => return Ok(Value::Float(std::f64::consts::E)),
                "inf" | "Inf" | "infty" => return Ok(Value::Float(f64::INFINITY)),
                "nan" | "NaN" => return Ok(Value::Float(f64::NAN)),
                "newaxis" => return Ok(Value::None),
                "linalg" => return Ok(Value::Module("numpy.linalg")),
                "random" => {
                    return Err(fail(
                        ErrorKind::Name,
                        "np.random is not available: map programs must be deterministic",
                    ));
                }
                _ => {}
            }
            numpy::np_function(name)
                .map(Value::Builtin)
                .ok_or_else(missing)
        }
        "numpy.linalg" => match name {
            "norm" => Ok(Value::Builtin("np.linalg.norm")),
            _ => Err(missing()),
        },
        "math" => match name {
            "pi" => Ok(Value::Float(std::f64::consts::PI)),
            "e" => Ok(Value::Float(std::f64::consts::E)),
            "tau" => Ok(Value::Float(std::f64::consts::TAU)),
            "inf" => Ok(Value::Float(f64::INFINITY)),
            "nan" => Ok(Value::Float(f64::NAN)),
            _ => MATH_FUNCS
                .iter()
                .copied()
                .find(|f| f.strip_prefix("math.") == Some(name))
                .map(Value::Builtin)
                .ok_or_else(missing),
        },
        _ => Err(missing()),
    }
}

/// `obj.name`.
pub(crate) fn get_attr(it: &mut Interp<'_>, obj: &Value, name: &str) -> R<Value> {
    let method = |table: &'static [&'static str]| {
        find_static(table, name).map(|m| Value::Method(Rc::new((obj.clone(), m))))
    };
    let found = match obj {
        Value::Module(m) => return module_attr(m, name),
        Value::Object(o) => {
            if let Some(v) = o.attrs.get(name) {
                return Ok(v.clone());
            }
            let mut msg = format!("'{}' object has no attribute '{name}'", o.type_name);
            if !o.attrs.is_empty() {
                let names: Vec<&str> = o.attrs.keys().take(20).map(String::as_str).collect();
                msg.push_str(&format!(" (available: {})", names.join(", ")));
            }
            return Err(type_err(msg));
        }
        Value::Array(rc) => {
            let a = rc.try_borrow().map_err(|_| value_err("array is in use"))?;
            a.check()?;
            match name {
                "shape" => {
                    let dims: Vec<Value> = a.shape.iter().map(|&d| Value::Int(d as i64)).collect();
                    return Ok(Value::tuple(dims));
                }
                "ndim" => return Ok(Value::Int(a.ndim() as i64)),
                "size" => return Ok(Value::Int(a.len() as i64)),
                "dtype" => return Ok(Value::Builtin(numpy::dtype_builtin(a.dtype))),
                "T" => return Ok(arr_result(array::transpose(&a, &mut it.budget)?)),
                "forgiving" => return Ok(Value::Bool(a.forgiving)),
                _ => method(ARRAY_METHODS),
            }
        }
        Value::List(_) => method(LIST_METHODS),
        Value::Tuple(_) => method(TUPLE_METHODS),
        Value::Dict(_) => method(DICT_METHODS),
        Value::Str(_) => method(STR_METHODS),
        Value::Float(_) if name == "is_integer" => {
            Some(Value::Method(Rc::new((obj.clone(), "is_integer"))))
        }
        // numpy scalars are plain Python numbers here; accept their common
        // methods too.
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if SCALAR_METHODS.contains(&name) => {
            find_static(SCALAR_METHODS, name).map(|m| Value::Method(Rc::new((obj.clone(), m))))
        }
        Value::Int(_) | Value::Float(_) if name == "real" => Some(obj.clone()),
        _ => None,
    };
    found.ok_or_else(|| {
        let hint = if matches!(obj, Value::None) {
            " (a function returned None; check that the object was found)"
        } else {
            ""
        };
        type_err(format!(
            "'{}' object has no attribute '{name}'{hint}",
            obj.type_label()
        ))
    })
}

// ----- argument binding --------------------------------------------------------

/// Binds positional and keyword arguments to parameter names. The first
/// `required` parameters must be given.
pub(crate) fn bind<const N: usize>(
    fname: &str,
    args: Vec<Value>,
    kwargs: Kwargs,
    names: [&str; N],
    required: usize,
) -> R<[Option<Value>; N]> {
    let mut out: [Option<Value>; N] = std::array::from_fn(|_| None);
    if args.len() > N {
        return Err(type_err(format!(
            "{fname}() takes at most {N} argument{} ({} given)",
            if N == 1 { "" } else { "s" },
            args.len()
        )));
    }
    for (slot, v) in out.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kwargs {
        let Some(i) = names.iter().position(|n| **n == *k) else {
            return Err(type_err(format!(
                "{fname}() got an unexpected keyword argument '{k}'"
            )));
        };
        let Some(slot) = out.get_mut(i) else { continue };
        if slot.is_some() {
            return Err(type_err(format!(
                "{fname}() got multiple values for argument '{k}'"
            )));
        }
        *slot = Some(v);
    }
    for (i, slot) in out.iter().enumerate().take(required) {
        if slot.is_none() {
            return Err(type_err(format!(
                "{fname}() missing required argument '{}'",
                names.get(i).copied().unwrap_or("?")
            )));
        }
    }
    Ok(out)
}

fn no_kwargs(fname: &str, kwargs: &Kwargs) -> R<()> {
    match kwargs.first() {
        Some((k, _)) => Err(type_err(format!(
            "{fname}() got an unexpected keyword argument '{k}'"
        ))),
        None => Ok(()),
    }
}

fn req(v: Option<Value>) -> Value {
    v.unwrap_or(Value::None)
}

/// An integer argument (ints, bools, 1-element integer arrays).
pub(crate) fn to_int(v: &Value, what: &str) -> R<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            if a.len() == 1 && a.dtype != DType::Float && a.check().is_ok() {
                Ok(a.at(0) as i64)
            } else {
                Err(type_err(format!("{what} must be an integer, not an array")))
            }
        }
        Value::Float(_) => Err(type_err(format!(
            "'float' object cannot be interpreted as an integer ({what})"
        ))),
        _ => Err(type_err(format!(
            "{what} must be an integer, not '{}'",
            v.type_label()
        ))),
    }
}

/// A float argument (numbers and 1-element arrays).
pub(crate) fn to_float(v: &Value, what: &str) -> R<f64> {
    match v {
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            if a.len() == 1 && a.check().is_ok() {
                Ok(crate::value::f32_to_f64(a.at(0)))
            } else {
                Err(type_err(format!(
                    "only size-1 arrays can be converted to Python scalars ({what} got {})",
                    crate::value::describe_array(&a)
                )))
            }
        }
        _ => v
            .as_f64()
            .ok_or_else(|| type_err(format!("{what} must be a number, not '{}'", v.type_label()))),
    }
}

/// Materializes any iterable.
pub(crate) fn iterate(it: &mut Interp<'_>, v: &Value) -> R<Vec<Value>> {
    let mut iter = PyIter::new(v, &mut it.budget)?;
    if let Some(n) = iter.len_hint() {
        it.budget.seq(n)?;
    }
    let mut out = Vec::new();
    while let Some(x) = iter.next(&mut it.budget)? {
        if out.len() >= it.budget.max_seq_len {
            return Err(crate::error::limit_err("sequence is too long"));
        }
        out.push(x);
    }
    Ok(out)
}

/// Converts an evaluated subscript into array index items.
pub(crate) fn index_items(idx: &Value, budget: &mut crate::Budget) -> R<Vec<IndexItem>> {
    match idx {
        Value::Tuple(items) => items.iter().map(|v| index_item(v, budget)).collect(),
        other => Ok(vec![index_item(other, budget)?]),
    }
}

fn index_item(v: &Value, budget: &mut crate::Budget) -> R<IndexItem> {
    match v {
        Value::Int(i) => Ok(IndexItem::Int(*i)),
        Value::Bool(b) => Ok(IndexItem::Int(i64::from(*b))),
        Value::Float(f) => Ok(IndexItem::Float(*f)),
        Value::None => Ok(IndexItem::NewAxis),
        Value::Ellipsis => Ok(IndexItem::Ellipsis),
        Value::Slice(s) => Ok(IndexItem::Slice(s[0], s[1], s[2])),
        Value::Array(_) | Value::List(_) => {
            let a = numpy::to_ndarray(v, None, budget)?;
            if a.ndim() == 0 {
                return Ok(match a.dtype {
                    DType::Float => IndexItem::Float(f64::from(a.at(0))),
                    _ => IndexItem::Int(a.at(0) as i64),
                });
            }
            if a.dtype == DType::Bool {
                Ok(IndexItem::Mask(a))
            } else {
                Ok(IndexItem::Ints(a))
            }
        }
        _ => Err(type_err(format!(
            "only integers, slices (`:`), ellipsis (`...`), None and integer or boolean arrays are valid indices, not '{}'",
            v.type_label()
        ))),
    }
}

/// `del container[idx]`.
pub(crate) fn del_item(it: &mut Interp<'_>, container: &Value, idx: &Value) -> R<()> {
    match container {
        Value::List(l) => {
            let len = l
                .try_borrow()
                .map_err(|_| value_err("list is in use"))?
                .len();
            let mut l = l
                .try_borrow_mut()
                .map_err(|_| value_err("list is in use"))?;
            it.budget.ops(len as u64)?;
            match seq_index(idx, len, "list assignment")? {
                SeqIdx::One(i) => {
                    if i < l.len() {
                        l.remove(i);
                    }
                }
                SeqIdx::Many(mut ix) => {
                    ix.sort_unstable();
                    ix.dedup();
                    for i in ix.into_iter().rev() {
                        if i < l.len() {
                            l.remove(i);
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Dict(d) => {
            check_hashable(idx)?;
            let mut d = d
                .try_borrow_mut()
                .map_err(|_| value_err("dict is in use"))?;
            it.budget.ops(d.len() as u64)?;
            for i in 0..d.len() {
                if let Some((k, _)) = d.get(i)
                    && values_eq(k, idx, &mut it.budget)?
                {
                    d.remove(i);
                    return Ok(());
                }
            }
            Err(index_err(format!(
                "key {} not found in dict",
                short_repr(idx)
            )))
        }
        _ => Err(type_err(format!(
            "'{}' object does not support item deletion",
            container.type_label()
        ))),
    }
}

// ----- built-in functions --------------------------------------------------------

/// Calls a built-in by qualified name.
pub(crate) fn call(
    it: &mut Interp<'_>,
    name: &'static str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    if name.starts_with("np.") {
        return numpy::call(it, name, args, kw);
    }
    if let Some(f) = name.strip_prefix("math.") {
        return call_math(it, f, args, kw);
    }
    if SANDBOXED.contains(&name) {
        return Err(fail(
            ErrorKind::Name,
            format!("'{name}' is not available in map programs (programs are sandboxed)"),
        ));
    }
    it.budget.ops(1)?;
    match name {
        "len" => {
            let [x] = bind(name, args, kw, ["obj"], 1)?;
            let x = req(x);
            let n = match &x {
                Value::Str(s) => s.chars().count(),
                Value::List(l) => l
                    .try_borrow()
                    .map_err(|_| value_err("list is in use"))?
                    .len(),
                Value::Tuple(t) => t.len(),
                Value::Dict(d) => d
                    .try_borrow()
                    .map_err(|_| value_err("dict is in use"))?
                    .len(),
                Value::Range(r) => ops::range_count(r),
                Value::Array(a) => {
                    let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
                    match a.shape.first() {
                        Some(&d) => d,
                        None => return Err(type_err("len() of unsized object (0-d array)")),
                    }
                }
                _ => {
                    return Err(type_err(format!(
                        "object of type '{}' has no len()",
                        x.type_label()
                    )));
                }
            };
            // A range of i64 bounds may hold more than i64::MAX items (Python's
            // OverflowError).
            i64::try_from(n)
                .map(Value::Int)
                .map_err(|_| value_err(format!("len() is {n}, which does not fit an int")))
        }
        "range" => {
            no_kwargs(name, &kw)?;
            let ints: R<Vec<i64>> = args.iter().map(|a| to_int(a, "range() argument")).collect();
            let ints = ints?;
            let (start, stop, step) = match ints.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                _ => {
                    return Err(type_err(format!(
                        "range expected 1 to 3 arguments, got {}",
                        ints.len()
                    )));
                }
            };
            if step == 0 {
                return Err(value_err("range() arg 3 must not be zero"));
            }
            Ok(Value::Range(Rc::new([start, stop, step])))
        }
        "int" => {
            let [x] = bind(name, args, kw, ["x"], 0)?;
            match x {
                None => Ok(Value::Int(0)),
                Some(x) => to_py_int(&x),
            }
        }
        "float" => {
            let [x] = bind(name, args, kw, ["x"], 0)?;
            match x {
                None => Ok(Value::Float(0.0)),
                Some(Value::Str(s)) => parse_float(&s).map(Value::Float),
                Some(x) => Ok(Value::Float(to_float(&x, "float()")?)),
            }
        }
        "bool" => {
            let [x] = bind(name, args, kw, ["x"], 0)?;
            Ok(Value::Bool(match x {
                None => false,
                Some(x) => truthy(&x)?,
            }))
        }
        "str" => {
            let [x] = bind(name, args, kw, ["object"], 0)?;
            match x {
                None => Ok(Value::str("")),
                Some(x) => {
                    let s = str_of(&x, it.budget.max_seq_len.max(64))?;
                    it.budget.text(s.len())?;
                    Ok(Value::Str(Rc::from(s)))
                }
            }
        }
        "repr" => {
            let [x] = bind(name, args, kw, ["object"], 1)?;
            let mut s = String::new();
            let mut cap = it.budget.max_seq_len.max(64);
            repr_into(&req(x), &mut s, 0, &mut cap)?;
            it.budget.text(s.len())?;
            Ok(Value::Str(Rc::from(s)))
        }
        "format" => {
            let [x, spec] = bind(name, args, kw, ["value", "format_spec"], 1)?;
            let spec = match spec {
                Some(Value::Str(s)) => s.to_string(),
                None => String::new(),
                Some(_) => return Err(type_err("format() argument 2 must be str")),
            };
            Ok(Value::Str(Rc::from(format_value(&req(x), &spec)?)))
        }
        "abs" => {
            let [x] = bind(name, args, kw, ["x"], 1)?;
            match req(x) {
                Value::Int(i) => i
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| value_err("integer overflow in abs()")),
                Value::Bool(b) => Ok(Value::Int(i64::from(b))),
                Value::Float(f) => Ok(Value::Float(f.abs())),
                Value::Array(a) => {
                    let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
                    Ok(arr_result(array::unary(ArrUn::Abs, &a, &mut it.budget)?))
                }
                other => Err(type_err(format!(
                    "bad operand type for abs(): '{}'",
                    other.type_label()
                ))),
            }
        }
        "min" | "max" => min_max(it, name, args, kw),
        "round" => {
            let [x, nd] = bind(name, args, kw, ["number", "ndigits"], 1)?;
            let x = req(x);
            let nd = match nd {
                None | Some(Value::None) => None,
                Some(v) => Some(to_int(&v, "ndigits")?),
            };
            match (&x, nd) {
                (Value::Int(_) | Value::Bool(_), _) => {
                    array::round_int(x.as_i64().unwrap_or(0), nd.unwrap_or(0)).map(Value::Int)
                }
                (Value::Array(a), _) if a.try_borrow().map(|a| a.len() != 1).unwrap_or(true) => {
                    let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
                    Ok(arr_result(array::round_decimals(
                        &a,
                        nd.unwrap_or(0),
                        &mut it.budget,
                    )?))
                }
                (_, None) => {
                    let f = to_float(&x, "round()")?;
                    float_to_int(f.round_ties_even())
                }
                (_, Some(n)) => {
                    let f = to_float(&x, "round()")?;
                    Ok(Value::Float(round_to(f, n)))
                }
            }
        }
        "sum" => {
            let [xs, start] = bind(name, args, kw, ["iterable", "start"], 1)?;
            let items = iterate(it, &req(xs))?;
            let mut acc = start.unwrap_or(Value::Int(0));
            if matches!(acc, Value::Str(_)) {
                return Err(type_err(
                    "sum() can't sum strings [use ''.join(seq) instead]",
                ));
            }
            for x in items {
                acc = ops::binop(BinOp::Add, &acc, &x, &mut it.budget)?;
            }
            Ok(acc)
        }
        "list" | "tuple" => {
            let [xs] = bind(name, args, kw, ["iterable"], 0)?;
            let items = match xs {
                None => Vec::new(),
                Some(x) => iterate(it, &x)?,
            };
            if name == "list" {
                it.make_list(items)
            } else {
                it.make_tuple(items)
            }
        }
        "dict" => {
            if args.len() > 1 {
                return Err(type_err("dict expected at most 1 argument"));
            }
            let mut pairs = Vec::new();
            if let Some(src) = args.into_iter().next() {
                if let Value::Dict(d) = &src {
                    pairs = d
                        .try_borrow()
                        .map_err(|_| value_err("dict is in use"))?
                        .clone();
                } else {
                    for item in iterate(it, &src)? {
                        let kv = iterate(it, &item)?;
                        let [k, v]: [Value; 2] = kv.try_into().map_err(|_| {
                            value_err("dictionary update sequence element has the wrong length; 2 is required")
                        })?;
                        pairs.push((k, v));
                    }
                }
            }
            for (k, v) in kw {
                pairs.push((Value::Str(k), v));
            }
            it.make_dict(pairs)
        }
        "enumerate" => {
            let [xs, start] = bind(name, args, kw, ["iterable", "start"], 1)?;
            let start = match start {
                Some(s) => to_int(&s, "start")?,
                None => 0,
            };
            let items = iterate(it, &req(xs))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.into_iter().enumerate() {
                let n = start
                    .checked_add(i as i64)
                    .ok_or_else(|| value_err("integer overflow in enumerate()"))?;
                out.push(Value::tuple(vec![Value::Int(n), x]));
            }
            it.make_list(out)
        }
        "zip" => {
            no_kwargs(name, &kw)?;
            let mut iters = Vec::with_capacity(args.len());
            for a in &args {
                iters.push(PyIter::new(a, &mut it.budget)?);
            }
            let mut out = Vec::new();
            if iters.is_empty() {
                return it.make_list(out);
            }
            'outer: loop {
                let mut row = Vec::with_capacity(iters.len());
                for i in iters.iter_mut() {
                    match i.next(&mut it.budget)? {
                        Some(v) => row.push(v),
                        None => break 'outer,
                    }
                }
                if out.len() >= it.budget.max_seq_len {
                    return Err(crate::error::limit_err("zip() result is too long"));
                }
                it.budget.ops(1)?;
                out.push(Value::tuple(row));
            }
            it.make_list(out)
        }
        "sorted" => {
            let [xs, key, reverse] = bind(name, args, kw, ["iterable", "key", "reverse"], 1)?;
            let items = iterate(it, &req(xs))?;
            let reverse = match reverse {
                Some(r) => truthy(&r)?,
                None => false,
            };
            let sorted = sort_values(
                it,
                items,
                key.filter(|k| !matches!(k, Value::None)),
                reverse,
            )?;
            it.make_list(sorted)
        }
        "reversed" => {
            let [xs] = bind(name, args, kw, ["sequence"], 1)?;
            let mut items = iterate(it, &req(xs))?;
            items.reverse();
            it.make_list(items)
        }
        "any" | "all" => {
            let [xs] = bind(name, args, kw, ["iterable"], 1)?;
            let items = iterate(it, &req(xs))?;
            for x in &items {
                let t = truthy(x)?;
                if name == "any" && t {
                    return Ok(Value::Bool(true));
                }
                if name == "all" && !t {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(name == "all"))
        }
        "isinstance" => {
            let [x, t] = bind(name, args, kw, ["obj", "class_or_tuple"], 2)?;
            let (x, t) = (req(x), req(t));
            let types: Vec<Value> = match &t {
                Value::Tuple(ts) => ts.to_vec(),
                other => vec![other.clone()],
            };
            for ty in &types {
                if is_instance(&x, ty)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "print" => {
            let mut sep = " ".to_string();
            let mut end = "\n".to_string();
            for (k, v) in kw {
                let s = match &v {
                    Value::Str(s) => s.to_string(),
                    Value::None => continue,
                    _ => return Err(type_err(format!("print() {k} must be None or a string"))),
                };
                match &*k {
                    "sep" => sep = s,
                    "end" => end = s,
                    "flush" => {}
                    _ => {
                        return Err(type_err(format!(
                            "print() got an unexpected keyword argument '{k}'"
                        )));
                    }
                }
            }
            let mut parts = Vec::with_capacity(args.len());
            for a in &args {
                parts.push(str_of(a, 1 << 20)?);
            }
            let text = format!("{}{}", parts.join(&sep), end);
            it.print_text(&text)?;
            Ok(Value::None)
        }
        "map" => {
            no_kwargs(name, &kw)?;
            let mut args = args.into_iter();
            let Some(f) = args.next() else {
                return Err(type_err("map() must have at least two arguments"));
            };
            let lists: R<Vec<Vec<Value>>> = args.map(|a| iterate(it, &a)).collect();
            let lists = lists?;
            if lists.is_empty() {
                return Err(type_err("map() must have at least two arguments"));
            }
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let call_args: Vec<Value> =
                    lists.iter().filter_map(|l| l.get(i).cloned()).collect();
                out.push(it.call_fail(&f, call_args)?);
            }
            it.make_list(out)
        }
        "filter" => {
            let [f, xs] = bind(name, args, kw, ["function", "iterable"], 2)?;
            let f = req(f);
            let items = iterate(it, &req(xs))?;
            let mut out = Vec::new();
            for x in items {
                let keep = if matches!(f, Value::None) {
                    truthy(&x)?
                } else {
                    let r = it.call_fail(&f, vec![x.clone()])?;
                    truthy(&r)?
                };
                if keep {
                    out.push(x);
                }
            }
            it.make_list(out)
        }
        "pow" => {
            let [b, e, m] = bind(name, args, kw, ["base", "exp", "mod"], 2)?;
            if m.is_some_and(|m| !matches!(m, Value::None)) {
                return Err(type_err("pow() with a modulus is not supported"));
            }
            ops::binop(BinOp::Pow, &req(b), &req(e), &mut it.budget)
        }
        "divmod" => {
            let [a, b] = bind(name, args, kw, ["a", "b"], 2)?;
            let (a, b) = (req(a), req(b));
            let q = ops::binop(BinOp::FloorDiv, &a, &b, &mut it.budget)?;
            let r = ops::binop(BinOp::Mod, &a, &b, &mut it.budget)?;
            Ok(Value::tuple(vec![q, r]))
        }
        "hasattr" | "getattr" => {
            let [o, n, d] = bind(name, args, kw, ["object", "name", "default"], 2)?;
            let o = req(o);
            let Some(attr) = n.as_ref().and_then(|n| n.as_str()).map(str::to_string) else {
                return Err(type_err(format!(
                    "{name}(): attribute name must be a string"
                )));
            };
            let r = get_attr(it, &o, &attr);
            if name == "hasattr" {
                return Ok(Value::Bool(r.is_ok()));
            }
            match (r, d) {
                (Ok(v), _) => Ok(v),
                (Err(_), Some(d)) => Ok(d),
                (Err(e), None) => Err(e),
            }
        }
        "set" => Err(type_err(
            "sets are not supported in map programs (use a list)",
        )),
        "type" => Err(type_err(
            "type() is not supported in map programs (use isinstance(x, int) etc.)",
        )),
        _ => Err(type_err(format!("'{name}' is not callable"))),
    }
}

fn is_instance(x: &Value, ty: &Value) -> R<bool> {
    let Value::Builtin(t) = ty else {
        return Err(type_err(
            "isinstance() arg 2 must be a type or tuple of types",
        ));
    };
    Ok(match *t {
        "int" => matches!(x, Value::Int(_) | Value::Bool(_)),
        "float" => matches!(x, Value::Float(_)),
        "bool" => matches!(x, Value::Bool(_)),
        "str" => matches!(x, Value::Str(_)),
        "list" => matches!(x, Value::List(_)),
        "tuple" => matches!(x, Value::Tuple(_)),
        "dict" => matches!(x, Value::Dict(_)),
        "range" => matches!(x, Value::Range(_)),
        "np.ndarray" => matches!(x, Value::Array(_)),
        other => match numpy::dtype_of_builtin(other) {
            Some(DType::Int) => matches!(x, Value::Int(_)),
            Some(DType::Float) => matches!(x, Value::Float(_)),
            Some(DType::Bool) => matches!(x, Value::Bool(_)),
            None => {
                return Err(type_err(
                    "isinstance() arg 2 must be a type or tuple of types",
                ));
            }
        },
    })
}

fn float_to_int(f: f64) -> R<Value> {
    if f.is_nan() {
        return Err(value_err("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(value_err("cannot convert float infinity to integer"));
    }
    if f.abs() >= 9.223_372_036_854_775e18 {
        return Err(value_err("integer overflow converting float to int"));
    }
    Ok(Value::Int(f as i64))
}

fn round_to(f: f64, n: i64) -> f64 {
    if !f.is_finite() {
        return f;
    }
    if (0..=17).contains(&n) {
        // Correctly rounded on the exact binary value, like Python.
        return format!("{:.*}", n as usize, f).parse().unwrap_or(f);
    }
    let n = n.clamp(-308, 308) as i32;
    let scale = 10f64.powi(n);
    let r = (f * scale).round_ties_even() / scale;
    if r.is_finite() { r } else { f }
}

fn to_py_int(x: &Value) -> R<Value> {
    match x {
        Value::Int(_) | Value::Bool(_) => Ok(Value::Int(x.as_i64().unwrap_or(0))),
        Value::Float(f) => float_to_int(f.trunc()),
        Value::Str(s) => {
            let t: String = s.trim().chars().filter(|&c| c != '_').collect();
            t.parse::<i64>().map(Value::Int).map_err(|_| {
                value_err(format!(
                    "invalid literal for int() with base 10: {}",
                    py_str_repr_short(s)
                ))
            })
        }
        Value::Array(_) => {
            let f = to_float(x, "int()")?;
            float_to_int(f.trunc())
        }
        _ => Err(type_err(format!(
            "int() argument must be a string or a number, not '{}'",
            x.type_label()
        ))),
    }
}

fn py_str_repr_short(s: &str) -> String {
    let t: String = s.chars().take(50).collect();
    crate::value::py_str_repr(&t)
}

fn parse_float(s: &str) -> R<f64> {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => return Ok(f64::NAN),
        _ => {}
    }
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-' | '_'));
    let cleaned: String = t.chars().filter(|&c| c != '_').collect();
    match cleaned.parse::<f64>() {
        Ok(f) if ok => Ok(f),
        _ => Err(value_err(format!(
            "could not convert string to float: {}",
            py_str_repr_short(s)
        ))),
    }
}

fn min_max(it: &mut Interp<'_>, name: &str, args: Vec<Value>, kw: Kwargs) -> R<Value> {
    let mut key = None;
    let mut default = None;
    for (k, v) in kw {
        match &*k {
            "key" => key = Some(v).filter(|v| !matches!(v, Value::None)),
            "default" => default = Some(v),
            _ => {
                return Err(type_err(format!(
                    "{name}() got an unexpected keyword argument '{k}'"
                )));
            }
        }
    }
    let items = match args.len() {
        0 => {
            return Err(type_err(format!(
                "{name} expected at least 1 argument, got 0"
            )));
        }
        1 => {
            let mut a = args;
            let x = a.pop().unwrap_or(Value::None);
            iterate(it, &x)?
        }
        _ => args,
    };
    if items.is_empty() {
        return default.ok_or_else(|| value_err(format!("{name}() arg is an empty sequence")));
    }
    let keys = match &key {
        Some(k) => {
            let mut ks = Vec::with_capacity(items.len());
            for x in &items {
                ks.push(it.call_fail(k, vec![x.clone()])?);
            }
            ks
        }
        None => items.clone(),
    };
    let mut best = 0usize;
    for i in 1..items.len() {
        it.budget.ops(1)?;
        let (Some(a), Some(b)) = (keys.get(i), keys.get(best)) else {
            continue;
        };
        let ord = compare_values(a, b, if name == "min" { "<" } else { ">" }, &mut it.budget)?;
        let better = match ord {
            Some(Ordering::Less) => name == "min",
            Some(Ordering::Greater) => name == "max",
            _ => false,
        };
        if better {
            best = i;
        }
    }
    Ok(items.into_iter().nth(best).unwrap_or(Value::None))
}

/// Sorts values (stable), optionally by a key function.
pub(crate) fn sort_values(
    it: &mut Interp<'_>,
    items: Vec<Value>,
    key: Option<Value>,
    reverse: bool,
) -> R<Vec<Value>> {
    let n = items.len() as u64;
    it.budget
        .ops(n.saturating_mul(64 - n.leading_zeros() as u64 + 1))?;
    let keys = match &key {
        Some(k) => {
            let mut ks = Vec::with_capacity(items.len());
            for x in &items {
                ks.push(it.call_fail(k, vec![x.clone()])?);
            }
            ks
        }
        None => items.clone(),
    };
    let mut idx: Vec<usize> = (0..items.len()).collect();
    let mut err = None;
    let budget = &mut it.budget;
    idx.sort_by(|&a, &b| {
        if err.is_some() {
            return Ordering::Equal;
        }
        let (Some(x), Some(y)) = (keys.get(a), keys.get(b)) else {
            return Ordering::Equal;
        };
        match compare_values(x, y, "<", budget) {
            Ok(Some(o)) => {
                if reverse {
                    o.reverse()
                } else {
                    o
                }
            }
            Ok(None) => Ordering::Equal,
            Err(e) => {
                err = Some(e);
                Ordering::Equal
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(idx
        .into_iter()
        .filter_map(|i| items.get(i).cloned())
        .collect())
}

// ----- math ------------------------------------------------------------------------

fn domain() -> crate::error::Fail {
    value_err("math domain error")
}

fn call_math(it: &mut Interp<'_>, f: &str, args: Vec<Value>, kw: Kwargs) -> R<Value> {
    it.budget.ops(1)?;
    let fname = format!("math.{f}");
    let unary = |args: Vec<Value>, kw: Kwargs| -> R<f64> {
        let [x] = bind(&fname, args, kw, ["x"], 1)?;
        to_float(&req(x), &fname)
    };
    let checked = |x: f64| -> R<Value> {
        if x.is_nan() {
            Err(domain())
        } else {
            Ok(Value::Float(x))
        }
    };
    match f {
        "sqrt" => {
            let x = unary(args, kw)?;
            if x < 0.0 {
                return Err(domain());
            }
            Ok(Value::Float(x.sqrt()))
        }
        "sin" | "cos" | "tan" => {
            let x = unary(args, kw)?;
            if x.is_infinite() {
                return Err(domain());
            }
            Ok(Value::Float(match f {
                "sin" => x.sin(),
                "cos" => x.cos(),
                _ => x.tan(),
            }))
        }
        "asin" | "acos" => {
            let x = unary(args, kw)?;
            if !(-1.0..=1.0).contains(&x) {
                return Err(domain());
            }
            Ok(Value::Float(if f == "asin" { x.asin() } else { x.acos() }))
        }
        "atan" => Ok(Value::Float(unary(args, kw)?.atan())),
        "sinh" => Ok(Value::Float(unary(args, kw)?.sinh())),
        "cosh" => Ok(Value::Float(unary(args, kw)?.cosh())),
        "tanh" => Ok(Value::Float(unary(args, kw)?.tanh())),
        "exp" => {
            let r = unary(args, kw)?.exp();
            if r.is_infinite() {
                return Err(value_err("math range error"));
            }
            Ok(Value::Float(r))
        }
        "log" => {
            let [x, base] = bind(&fname, args, kw, ["x", "base"], 1)?;
            let x = to_float(&req(x), &fname)?;
            if x <= 0.0 {
                return Err(domain());
            }
            match base {
                None => Ok(Value::Float(x.ln())),
                Some(b) => {
                    let b = to_float(&b, &fname)?;
                    if b <= 0.0 || b == 1.0 {
                        return Err(domain());
                    }
                    Ok(Value::Float(x.ln() / b.ln()))
                }
            }
        }
        "log2" | "log10" => {
            let x = unary(args, kw)?;
            if x <= 0.0 {
                return Err(domain());
            }
            Ok(Value::Float(if f == "log2" { x.log2() } else { x.log10() }))
        }
        "pow" => {
            let [a, b] = bind(&fname, args, kw, ["x", "y"], 2)?;
            let (a, b) = (to_float(&req(a), &fname)?, to_float(&req(b), &fname)?);
            if a == 0.0 && b < 0.0 {
                return Err(domain());
            }
            checked(a.powf(b))
        }
        "fabs" => Ok(Value::Float(unary(args, kw)?.abs())),
        "floor" | "ceil" | "trunc" => {
            let [x] = bind(&fname, args, kw, ["x"], 1)?;
            let x = req(x);
            if let Value::Int(_) | Value::Bool(_) = x {
                return Ok(Value::Int(x.as_i64().unwrap_or(0)));
            }
            let v = to_float(&x, &fname)?;
            float_to_int(match f {
                "floor" => v.floor(),
                "ceil" => v.ceil(),
                _ => v.trunc(),
            })
        }
        "radians" => Ok(Value::Float(unary(args, kw)?.to_radians())),
        "degrees" => Ok(Value::Float(unary(args, kw)?.to_degrees())),
        "atan2" | "copysign" | "fmod" => {
            let [a, b] = bind(&fname, args, kw, ["y", "x"], 2)?;
            let (a, b) = (to_float(&req(a), &fname)?, to_float(&req(b), &fname)?);
            match f {
                "atan2" => Ok(Value::Float(a.atan2(b))),
                "copysign" => Ok(Value::Float(a.copysign(b))),
                _ => {
                    if b == 0.0 {
                        return Err(domain());
                    }
                    Ok(Value::Float(a % b))
                }
            }
        }
        "hypot" => {
            no_kwargs(&fname, &kw)?;
            let mut s = 0.0f64;
            for a in &args {
                let x = to_float(a, &fname)?;
                s = s.hypot(x);
            }
            Ok(Value::Float(s))
        }
        "dist" => {
            let [p, q] = bind(&fname, args, kw, ["p", "q"], 2)?;
            let p = req(p)
                .to_f64_vec()
                .ok_or_else(|| type_err("math.dist() expects sequences of numbers"))?;
            let q = req(q)
                .to_f64_vec()
                .ok_or_else(|| type_err("math.dist() expects sequences of numbers"))?;
            if p.len() != q.len() {
                return Err(value_err(
                    "both points must have the same number of dimensions",
                ));
            }
            it.budget.ops(p.len() as u64)?;
            Ok(Value::Float(
                p.iter()
                    .zip(&q)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt(),
            ))
        }
        "isclose" => {
            let [a, b, rel, abs] = bind(&fname, args, kw, ["a", "b", "rel_tol", "abs_tol"], 2)?;
            let (a, b) = (to_float(&req(a), &fname)?, to_float(&req(b), &fname)?);
            let rel = rel
                .map(|v| to_float(&v, &fname))
                .transpose()?
                .unwrap_or(1e-9);
            let abs = abs
                .map(|v| to_float(&v, &fname))
                .transpose()?
                .unwrap_or(0.0);
            Ok(Value::Bool(
                a == b || (a - b).abs() <= (rel * a.abs().max(b.abs())).max(abs),
            ))
        }
        "isnan" => Ok(Value::Bool(unary(args, kw)?.is_nan())),
        "isinf" => Ok(Value::Bool(unary(args, kw)?.is_infinite())),
        "isfinite" => Ok(Value::Bool(unary(args, kw)?.is_finite())),
        "factorial" => {
            let [x] = bind(&fname, args, kw, ["x"], 1)?;
            let n = to_int(&req(x), &fname)?;
            if n < 0 {
                return Err(value_err("factorial() not defined for negative values"));
            }
            let mut acc: i64 = 1;
            for k in 2..=n {
                it.budget.ops(1)?;
                acc = acc
                    .checked_mul(k)
                    .ok_or_else(|| value_err("integer overflow in factorial()"))?;
            }
            Ok(Value::Int(acc))
        }
        "gcd" => {
            no_kwargs(&fname, &kw)?;
            let mut g: i64 = 0;
            for a in &args {
                let mut x = to_int(a, &fname)?
                    .checked_abs()
                    .ok_or_else(|| value_err("integer overflow"))?;
                let mut y = g;
                while y != 0 {
                    let t = x % y;
                    x = y;
                    y = t;
                }
                g = x;
            }
            Ok(Value::Int(g))
        }
        "prod" | "fsum" => {
            let [xs] = bind(&fname, args, kw, ["iterable"], 1)?;
            let items = iterate(it, &req(xs))?;
            let mut acc = if f == "prod" {
                Value::Int(1)
            } else {
                Value::Float(0.0)
            };
            let op = if f == "prod" { BinOp::Mul } else { BinOp::Add };
            for x in &items {
                acc = ops::binop(op, &acc, x, &mut it.budget)?;
            }
            Ok(acc)
        }
        _ => Err(type_err(format!("module 'math' has no attribute '{f}'"))),
    }
}

// ----- methods ------------------------------------------------------------------

/// Calls a bound method.
pub(crate) fn call_method(
    it: &mut Interp<'_>,
    recv: &Value,
    name: &'static str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    it.budget.ops(1)?;
    match recv {
        Value::Array(rc) => numpy::array_method(it, rc, name, args, kw),
        Value::List(l) => list_method(it, recv, l, name, args, kw),
        Value::Tuple(t) => {
            let [x] = bind(name, args, kw, ["value"], 1)?;
            let x = req(x);
            seq_method(it, t, name, &x, "tuple")
        }
        Value::Dict(d) => dict_method(it, recv, d, name, args, kw),
        Value::Str(s) => str_method(it, s, name, args, kw),
        Value::Float(f) if name == "is_integer" => {
            no_kwargs(name, &kw)?;
            Ok(Value::Bool(f.is_finite() && f.fract() == 0.0))
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => match name {
            "astype" => {
                let [dt] = bind(name, args, kw, ["dtype"], 1)?;
                let dt = numpy::parse_dtype(&req(dt))?.unwrap_or(DType::Float);
                numpy::call(it, numpy::dtype_builtin(dt), vec![recv.clone()], Vec::new())
            }
            _ => {
                let [] = bind(name, args, kw, [], 0)?;
                Ok(recv.clone())
            }
        },
        _ => Err(type_err(format!(
            "'{}' object has no method '{name}'",
            recv.type_label()
        ))),
    }
}

fn seq_method(it: &mut Interp<'_>, items: &[Value], name: &str, x: &Value, what: &str) -> R<Value> {
    it.budget.ops(items.len() as u64)?;
    match name {
        "index" => {
            for (i, v) in items.iter().enumerate() {
                if values_eq(v, x, &mut it.budget)? {
                    return Ok(Value::Int(i as i64));
                }
            }
            Err(value_err(format!("{} is not in {what}", short_repr(x))))
        }
        _ => {
            let mut n = 0;
            for v in items {
                if values_eq(v, x, &mut it.budget)? {
                    n += 1;
                }
            }
            Ok(Value::Int(n))
        }
    }
}

fn list_method(
    it: &mut Interp<'_>,
    recv: &Value,
    l: &Rc<RefCell<Vec<Value>>>,
    name: &str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    let in_use = || value_err("list is in use");
    let len = l.try_borrow().map_err(|_| in_use())?.len();
    match name {
        "append" => {
            let [x] = bind("append", args, kw, ["object"], 1)?;
            let x = req(x);
            it.check_insert(recv, &x)?;
            if len >= it.budget.max_seq_len {
                return Err(crate::error::limit_err(format!(
                    "list would exceed the limit of {} elements",
                    it.budget.max_seq_len
                )));
            }
            it.budget.elements(1)?;
            l.try_borrow_mut().map_err(|_| in_use())?.push(x);
            Ok(Value::None)
        }
        "extend" => {
            let [x] = bind("extend", args, kw, ["iterable"], 1)?;
            let items = iterate(it, &req(x))?;
            for v in &items {
                it.check_insert(recv, v)?;
            }
            it.budget.seq(len + items.len())?;
            l.try_borrow_mut().map_err(|_| in_use())?.extend(items);
            Ok(Value::None)
        }
        "insert" => {
            let [i, x] = bind("insert", args, kw, ["index", "object"], 2)?;
            let i = to_int(&req(i), "insert index")?;
            let x = req(x);
            it.check_insert(recv, &x)?;
            it.budget.seq(len + 1)?;
            let n = len as i64;
            let pos = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
            l.try_borrow_mut()
                .map_err(|_| in_use())?
                .insert(pos.min(len), x);
            Ok(Value::None)
        }
        "pop" => {
            let [i] = bind("pop", args, kw, ["index"], 0)?;
            if len == 0 {
                return Err(index_err("pop from empty list"));
            }
            let i = match i {
                Some(v) => to_int(&v, "pop index")?,
                None => -1,
            };
            let n = len as i64;
            let j = if i < 0 { i + n } else { i };
            if j < 0 || j >= n {
                return Err(index_err("pop index out of range"));
            }
            it.budget.ops(len as u64)?;
            Ok(l.try_borrow_mut().map_err(|_| in_use())?.remove(j as usize))
        }
        "index" | "count" => {
            let [x] = bind(name, args, kw, ["value"], 1)?;
            let items = l.try_borrow().map_err(|_| in_use())?.clone();
            seq_method(it, &items, name, &req(x), "list")
        }
        "remove" => {
            let [x] = bind("remove", args, kw, ["value"], 1)?;
            let x = req(x);
            let items = l.try_borrow().map_err(|_| in_use())?.clone();
            it.budget.ops(items.len() as u64)?;
            for (i, v) in items.iter().enumerate() {
                if values_eq(v, &x, &mut it.budget)? {
                    l.try_borrow_mut().map_err(|_| in_use())?.remove(i);
                    return Ok(Value::None);
                }
            }
            Err(value_err("list.remove(x): x not in list"))
        }
        "sort" => {
            let [key, reverse] = bind("sort", args, kw, ["key", "reverse"], 0)?;
            let reverse = match reverse {
                Some(r) => truthy(&r)?,
                None => false,
            };
            let items = l.try_borrow().map_err(|_| in_use())?.clone();
            let sorted = sort_values(
                it,
                items,
                key.filter(|k| !matches!(k, Value::None)),
                reverse,
            )?;
            *l.try_borrow_mut().map_err(|_| in_use())? = sorted;
            Ok(Value::None)
        }
        "reverse" => {
            no_kwargs(name, &kw)?;
            it.budget.ops(len as u64)?;
            l.try_borrow_mut().map_err(|_| in_use())?.reverse();
            Ok(Value::None)
        }
        "copy" => {
            no_kwargs(name, &kw)?;
            let items = l.try_borrow().map_err(|_| in_use())?.clone();
            it.make_list(items)
        }
        "clear" => {
            no_kwargs(name, &kw)?;
            l.try_borrow_mut().map_err(|_| in_use())?.clear();
            Ok(Value::None)
        }
        _ => Err(type_err(format!("'list' object has no attribute '{name}'"))),
    }
}

fn dict_method(
    it: &mut Interp<'_>,
    recv: &Value,
    d: &Rc<RefCell<Vec<(Value, Value)>>>,
    name: &str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    let in_use = || value_err("dict is in use");
    let snapshot = d.try_borrow().map_err(|_| in_use())?.clone();
    it.budget.ops(snapshot.len() as u64)?;
    fn find_key(
        snapshot: &[(Value, Value)],
        k: &Value,
        budget: &mut crate::Budget,
    ) -> R<Option<usize>> {
        for (i, (kk, _)) in snapshot.iter().enumerate() {
            if values_eq(kk, k, budget)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
    match name {
        "get" => {
            let [k, default] = bind("get", args, kw, ["key", "default"], 1)?;
            let k = req(k);
            check_hashable(&k)?;
            Ok(match find_key(&snapshot, &k, &mut it.budget)? {
                Some(i) => snapshot.get(i).map(|p| p.1.clone()).unwrap_or(Value::None),
                None => default.unwrap_or(Value::None),
            })
        }
        "keys" => {
            no_kwargs(name, &kw)?;
            it.make_list(snapshot.into_iter().map(|p| p.0).collect())
        }
        "values" => {
            no_kwargs(name, &kw)?;
            it.make_list(snapshot.into_iter().map(|p| p.1).collect())
        }
        "items" => {
            no_kwargs(name, &kw)?;
            let items = snapshot
                .into_iter()
                .map(|(k, v)| Value::tuple(vec![k, v]))
                .collect();
            it.make_list(items)
        }
        "pop" => {
            let [k, default] = bind("pop", args, kw, ["key", "default"], 1)?;
            let k = req(k);
            check_hashable(&k)?;
            match find_key(&snapshot, &k, &mut it.budget)? {
                Some(i) => {
                    let mut dm = d.try_borrow_mut().map_err(|_| in_use())?;
                    if i < dm.len() {
                        Ok(dm.remove(i).1)
                    } else {
                        Ok(Value::None)
                    }
                }
                None => default
                    .ok_or_else(|| index_err(format!("key {} not found in dict", short_repr(&k)))),
            }
        }
        "setdefault" => {
            let [k, default] = bind("setdefault", args, kw, ["key", "default"], 1)?;
            let k = req(k);
            check_hashable(&k)?;
            match find_key(&snapshot, &k, &mut it.budget)? {
                Some(i) => Ok(snapshot.get(i).map(|p| p.1.clone()).unwrap_or(Value::None)),
                None => {
                    let v = default.unwrap_or(Value::None);
                    it.check_insert(recv, &v)?;
                    it.budget.seq(snapshot.len() + 1)?;
                    d.try_borrow_mut()
                        .map_err(|_| in_use())?
                        .push((k, v.clone()));
                    Ok(v)
                }
            }
        }
        "update" => {
            if args.len() > 1 {
                return Err(type_err("update expected at most 1 argument"));
            }
            let mut pairs: Vec<(Value, Value)> = Vec::new();
            if let Some(src) = args.into_iter().next() {
                match &src {
                    Value::Dict(o) => {
                        pairs.extend(o.try_borrow().map_err(|_| in_use())?.iter().cloned())
                    }
                    _ => {
                        for item in iterate(it, &src)? {
                            let kv = iterate(it, &item)?;
                            let [k, v]: [Value; 2] = kv.try_into().map_err(|_| {
                                value_err("dictionary update sequence element has the wrong length")
                            })?;
                            pairs.push((k, v));
                        }
                    }
                }
            }
            pairs.extend(kw.into_iter().map(|(k, v)| (Value::Str(k), v)));
            for (k, v) in pairs {
                check_hashable(&k)?;
                it.check_insert(recv, &v)?;
                let mut dm = d.try_borrow_mut().map_err(|_| in_use())?;
                let mut done = false;
                for slot in dm.iter_mut() {
                    if values_eq(&slot.0, &k, &mut it.budget)? {
                        slot.1 = v.clone();
                        done = true;
                        break;
                    }
                }
                if !done {
                    if dm.len() >= it.budget.max_seq_len {
                        return Err(crate::error::limit_err("dict is too large"));
                    }
                    it.budget.elements(1)?;
                    dm.push((k, v));
                }
            }
            Ok(Value::None)
        }
        "copy" => {
            no_kwargs(name, &kw)?;
            it.make_dict(snapshot)
        }
        "clear" => {
            no_kwargs(name, &kw)?;
            d.try_borrow_mut().map_err(|_| in_use())?.clear();
            Ok(Value::None)
        }
        _ => Err(type_err(format!("'dict' object has no attribute '{name}'"))),
    }
}

fn str_arg(v: Option<Value>, what: &str) -> R<Option<String>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(type_err(format!(
            "{what} must be str, not {}",
            other.type_label()
        ))),
    }
}

fn str_method(
    it: &mut Interp<'_>,
    s: &Rc<str>,
    name: &str,
    args: Vec<Value>,
    kw: Kwargs,
) -> R<Value> {
    it.budget.text(s.len())?;
    let out = |x: String| Value::Str(Rc::from(x));
    match name {
        "lower" => Ok(out(s.to_lowercase())),
        "upper" => Ok(out(s.to_uppercase())),
        "title" => {
            let mut r = String::with_capacity(s.len());
            let mut prev_alpha = false;
            for c in s.chars() {
                if c.is_alphabetic() {
                    if prev_alpha {
                        r.extend(c.to_lowercase());
                    } else {
                        r.extend(c.to_uppercase());
                    }
                    prev_alpha = true;
                } else {
                    r.push(c);
                    prev_alpha = false;
                }
            }
            Ok(out(r))
        }
        "capitalize" => {
            let mut cs = s.chars();
            let r = match cs.next() {
                Some(c) => c
                    .to_uppercase()
                    .chain(cs.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            };
            Ok(out(r))
        }
        "strip" | "lstrip" | "rstrip" => {
            let [chars] = bind(name, args, kw, ["chars"], 0)?;
            let chars = str_arg(chars, "strip arg")?;
            let pat = |c: char| match &chars {
                Some(cs) => cs.contains(c),
                None => c.is_whitespace(),
            };
            Ok(out(match name {
                "strip" => s.trim_matches(pat).to_string(),
                "lstrip" => s.trim_start_matches(pat).to_string(),
                _ => s.trim_end_matches(pat).to_string(),
            }))
        }
        "split" => {
            let [sep, maxsplit] = bind(name, args, kw, ["sep", "maxsplit"], 0)?;
            let sep = str_arg(sep, "separator")?;
            let maxsplit = match maxsplit {
                Some(v) => to_int(&v, "maxsplit")?,
                None => -1,
            };
            let parts: Vec<String> = match &sep {
                Some(p) if p.is_empty() => return Err(value_err("empty separator")),
                Some(p) => {
                    if maxsplit >= 0 {
                        s.splitn(
                            usize::try_from(maxsplit)
                                .unwrap_or(usize::MAX)
                                .saturating_add(1),
                            p.as_str(),
                        )
                        .map(str::to_string)
                        .collect()
                    } else {
                        s.split(p.as_str()).map(str::to_string).collect()
                    }
                }
                None => {
                    let mut v: Vec<String> = Vec::new();
                    let mut rest = s.trim_start();
                    while !rest.is_empty() {
                        if maxsplit >= 0 && v.len() as i64 >= maxsplit {
                            v.push(rest.trim_end().to_string());
                            break;
                        }
                        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                        v.push(rest.get(..end).unwrap_or("").to_string());
                        rest = rest.get(end..).unwrap_or("").trim_start();
                    }
                    v
                }
            };
            it.make_list(parts.into_iter().map(out).collect())
        }
        "splitlines" => {
            no_kwargs(name, &kw)?;
            it.make_list(s.lines().map(|l| out(l.to_string())).collect())
        }
        "join" => {
            let [xs] = bind(name, args, kw, ["iterable"], 1)?;
            let items = iterate(it, &req(xs))?;
            let mut parts = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                match x {
                    Value::Str(p) => parts.push(p.to_string()),
                    other => {
                        return Err(type_err(format!(
                            "sequence item {i}: expected str instance, {} found",
                            other.type_label()
                        )));
                    }
                }
            }
            let total: usize = parts.iter().map(String::len).sum::<usize>() + s.len() * parts.len();
            it.budget.text(total)?;
            Ok(out(parts.join(s)))
        }
        "startswith" | "endswith" => {
            let [p] = bind(name, args, kw, ["prefix"], 1)?;
            let pats: Vec<String> = match req(p) {
                Value::Str(p) => vec![p.to_string()],
                Value::Tuple(t) => t
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                other => {
                    return Err(type_err(format!(
                        "{name} first arg must be str or a tuple of str, not {}",
                        other.type_label()
                    )));
                }
            };
            Ok(Value::Bool(pats.iter().any(|p| {
                if name == "startswith" {
                    s.starts_with(p.as_str())
                } else {
                    s.ends_with(p.as_str())
                }
            })))
        }
        "replace" => {
            let [a, b, count] = bind(name, args, kw, ["old", "new", "count"], 2)?;
            let a = str_arg(a, "replace arg")?.unwrap_or_default();
            let b = str_arg(b, "replace arg")?.unwrap_or_default();
            let count = match count {
                Some(c) => to_int(&c, "count")?,
                None => -1,
            };
            let n_matches = if a.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(a.as_str()).count()
            };
            let est = s.len().saturating_add(n_matches.saturating_mul(b.len()));
            it.budget.text(est)?;
            Ok(out(if count < 0 {
                s.replace(a.as_str(), &b)
            } else {
                s.replacen(a.as_str(), &b, usize::try_from(count).unwrap_or(usize::MAX))
            }))
        }
        "find" | "count" => {
            let [p] = bind(name, args, kw, ["sub"], 1)?;
            let p = str_arg(p, "substring")?.unwrap_or_default();
            if name == "count" {
                let n = if p.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(p.as_str()).count()
                };
                return Ok(Value::Int(n as i64));
            }
            Ok(Value::Int(match s.find(p.as_str()) {
                Some(b) => s.get(..b).map(|x| x.chars().count()).unwrap_or(0) as i64,
                None => -1,
            }))
        }
        "isdigit" | "isalpha" | "isalnum" | "isspace" => {
            no_kwargs(name, &kw)?;
            let f: fn(char) -> bool = match name {
                "isdigit" => |c| c.is_ascii_digit(),
                "isalpha" => char::is_alphabetic,
                "isalnum" => char::is_alphanumeric,
                _ => char::is_whitespace,
            };
            Ok(Value::Bool(!s.is_empty() && s.chars().all(f)))
        }
        "format" => str_format(it, s, args, kw),
        _ => Err(type_err(format!("'str' object has no attribute '{name}'"))),
    }
}

// ----- str.format / format() -------------------------------------------------------

fn str_format(it: &mut Interp<'_>, template: &str, args: Vec<Value>, kw: Kwargs) -> R<Value> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut auto = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(value_err("single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == '}' {
                        closed = true;
                        break;
                    }
                    if d == '{' {
                        return Err(value_err(
                            "nested replacement fields are not supported in format strings",
                        ));
                    }
                    field.push(d);
                }
                if !closed {
                    return Err(value_err("single '{' encountered in format string"));
                }
                let (head, spec) = match field.split_once(':') {
                    Some((h, s)) => (h.to_string(), s.to_string()),
                    None => (field.clone(), String::new()),
                };
                let (name, conv) = match head.split_once('!') {
                    Some((n, c)) => (n.to_string(), Some(c.to_string())),
                    None => (head, None),
                };
                let value = if name.is_empty() {
                    let v = args.get(auto).cloned();
                    auto += 1;
                    v.ok_or_else(|| {
                        index_err("replacement index out of range for positional args")
                    })?
                } else if let Ok(i) = name.parse::<usize>() {
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| index_err(format!("replacement index {i} out of range")))?
                } else {
                    kw.iter()
                        .find(|(k, _)| **k == *name)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| index_err(format!("missing format argument '{name}'")))?
                };
                let text = match conv.as_deref() {
                    Some("r") => short_repr(&value),
                    Some("s") | None => format_value(&value, &spec)?,
                    Some(other) => {
                        return Err(value_err(format!("unknown conversion specifier {other}")));
                    }
                };
                out.push_str(&text);
            }
            _ => out.push(c),
        }
        if out.len() > it.budget.max_seq_len {
            return Err(crate::error::limit_err("formatted string is too long"));
        }
    }
    it.budget.text(out.len())?;
    Ok(Value::Str(Rc::from(out)))
}

/// Python's format mini-language (subset): `[[fill]align][sign][width][,][.precision][type]`
/// with types d, f, F, e, E, g, G, %, s.
pub(crate) fn format_value(v: &Value, spec: &str) -> R<String> {
    if spec.is_empty() {
        return str_of(v, 1 << 20);
    }
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars.get(1), Some('<' | '>' | '^' | '=')) {
        fill = chars.first().copied().unwrap_or(' ');
        align = chars.get(1).copied();
        i = 2;
    } else if matches!(chars.first(), Some('<' | '>' | '^' | '=')) {
        align = chars.first().copied();
        i = 1;
    }
    let mut sign = '-';
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        sign = c;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        fill = '0';
        align = align.or(Some('='));
        i += 1;
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        width = width
            .saturating_mul(10)
            .saturating_add(d as usize)
            .min(10_000);
        i += 1;
    }
    let mut grouping = false;
    if chars.get(i) == Some(&',') {
        grouping = true;
        i += 1;
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = 0usize;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            p = p.saturating_mul(10).saturating_add(d as usize).min(100);
            i += 1;
        }
        precision = Some(p);
    }
    let ty = chars.get(i).copied();
    if chars.len() > i + 1 {
        return Err(value_err(format!("invalid format specifier '{spec}'")));
    }
    let is_num = matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_));
    let body = match ty {
        Some('s') | None if !is_num || ty == Some('s') => {
            let s = str_of(v, 1 << 20)?;
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        _ => {
            let x = v.as_f64().ok_or_else(|| {
                value_err(format!(
                    "unknown format code for object of type '{}'",
                    v.type_label()
                ))
            })?;
            let neg = x < 0.0 || (x == 0.0 && x.is_sign_negative() && matches!(v, Value::Float(_)));
            let ax = x.abs();
            // An int's digits from the int itself: through f64 they round past 2^53.
            let int_digits = || v.as_i64().map_or(ax as u64, i64::unsigned_abs).to_string();
            let mut s = match ty {
                Some('d') => {
                    let (Value::Int(_) | Value::Bool(_)) = v else {
                        return Err(value_err(
                            "unknown format code 'd' for object of type 'float'",
                        ));
                    };
                    int_digits()
                }
                Some('f' | 'F') => format!("{:.*}", precision.unwrap_or(6), ax),
                Some('%') => format!("{:.*}%", precision.unwrap_or(6), ax * 100.0),
                Some('e' | 'E') => {
                    let s = format_exp(ax, precision.unwrap_or(6));
                    if ty == Some('E') { s.to_uppercase() } else { s }
                }
                Some('g' | 'G') => format_general(ax, precision.unwrap_or(6)),
                None => match v {
                    Value::Float(_) => match precision {
                        Some(p) => format_general(ax, p.max(1)),
                        None => py_float_repr(ax),
                    },
                    _ => int_digits(),
                },
                Some(c) => return Err(value_err(format!("unknown format code '{c}'"))),
            };
            if grouping {
                s = group_thousands(&s);
            }
            let sign_str = if neg {
                "-"
            } else if sign == '+' {
                "+"
            } else if sign == ' ' {
                " "
            } else {
                ""
            };
            if align == Some('=') && width > s.len() + sign_str.len() {
                let pad: String =
                    std::iter::repeat_n(fill, width - s.len() - sign_str.len()).collect();
                return Ok(format!("{sign_str}{pad}{s}"));
            }
            format!("{sign_str}{s}")
        }
    };
    let len = body.chars().count();
    if width <= len {
        return Ok(body);
    }
    let pad = width - len;
    let align = align.unwrap_or(if is_num { '>' } else { '<' });
    let fills = |n: usize| -> String { std::iter::repeat_n(fill, n).collect() };
    Ok(match align {
        '<' => format!("{body}{}", fills(pad)),
        '^' => format!("{}{body}{}", fills(pad / 2), fills(pad - pad / 2)),
        _ => format!("{}{body}", fills(pad)),
    })
}

fn format_exp(x: f64, p: usize) -> String {
    let s = format!("{:.*e}", p, x);
    match s.split_once('e') {
        Some((m, e)) => {
            let e: i32 = e.parse().unwrap_or(0);
            format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        None => s,
    }
}

fn format_general(x: f64, p: usize) -> String {
    let p = p.max(1);
    if x == 0.0 {
        return "0".to_string();
    }
    if !x.is_finite() {
        return py_float_repr(x);
    }
    let exp = x.abs().log10().floor() as i32;
    let s = if exp < -4 || exp >= p as i32 {
        format_exp(x, p - 1)
    } else {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, x)
    };
    // Strip trailing zeros.
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            format!("{m}e{e}")
        }
        None => {
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            }
        }
    }
}

fn group_thousands(s: &str) -> String {
    let (int, rest) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let mut out = String::new();
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_specs() {
        let f = |v: Value, s: &str| format_value(&v, s).unwrap();
        assert_eq!(f(Value::Float(1.23456), ".2f"), "1.23");
        assert_eq!(f(Value::Int(42), "5d"), "   42");
        assert_eq!(f(Value::Int(42), "<5"), "42   ");
        assert_eq!(f(Value::Float(-1.5), "+.1f"), "-1.5");
        assert_eq!(f(Value::Float(0.25), ".0%"), "25%");
        assert_eq!(f(Value::Float(12345.0), ",.1f"), "12,345.0");
        assert_eq!(f(Value::Float(0.000123), ".2e"), "1.23e-04");
        assert_eq!(f(Value::Float(1234567.0), "g"), "1.23457e+06");
        assert_eq!(f(Value::str("ab"), "^6"), "  ab  ");
        assert_eq!(f(Value::Int(7), "03d"), "007");
        assert!(format_value(&Value::Float(1.0), "d").is_err());
    }
}
