//! The tree-walking evaluator.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};

use crate::array::{self, IndexItem, NdArray};
use crate::ast::{BinOp, CompFor, Expr, ExprKind, Name, Stmt, StmtKind};
use crate::budget::{Budget, Limits};
use crate::error::{
    ErrorKind, LangError, R, Span, fail, index_err, limit_err, type_err, value_err,
};
use crate::ops::{self, ArrRef, arr_result, as_arr, range_count};
use crate::value::{Value, check_hashable, py_str_repr, str_of, truthy, values_eq};
use crate::{Program, builtins};

/// The embedding application: provides the functions and objects a map
/// program can use beyond the built-ins (e.g. `parse_query_obj`).
pub trait Host {
    /// A global name the program uses that it did not define (after
    /// builtins/np/math). Return Some to bind it (typically
    /// `Value::HostFn(name)`). Called at most once per name and run.
    fn global(&mut self, name: &str) -> Option<Value>;

    /// Calls a host function. `budget` lets the host charge work and
    /// allocations to the same limits. An `Err` becomes a `HostError` at the
    /// call expression (or a `LimitError` if the budget was exhausted).
    fn call(
        &mut self,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        budget: &mut Budget,
    ) -> Result<Value, String>;

    /// The argument of host function `name` that takes a painted array ([`crate::Painted`])
    /// as it is, by position and keyword: a variable passed there is not made dense first.
    /// Hosts that hand out paintings and paint into them say which (VoxPoser's
    /// `set_voxel_by_radius`: its map, `(0, "voxel_map")`); the default is none.
    fn painted_argument(&self, _name: &str) -> Option<(usize, &'static str)> {
        None
    }
}

/// A host that provides nothing (pure programs only).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHost;

impl Host for NoHost {
    fn global(&mut self, _name: &str) -> Option<Value> {
        None
    }

    fn call(
        &mut self,
        name: &str,
        _args: Vec<Value>,
        _kwargs: Vec<(String, Value)>,
        _budget: &mut Budget,
    ) -> Result<Value, String> {
        Err(format!("unknown host function '{name}'"))
    }
}

/// The result of a successful run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every global variable at the end of the run (including predefined
    /// ones and imported modules).
    pub globals: BTreeMap<String, Value>,
    /// Lines printed with `print()`.
    pub output: Vec<String>,
    /// Operations charged (see [`Limits::max_ops`]).
    pub ops: u64,
    /// The first forgiving indices that were clamped into range (distinct, at most
    /// [`crate::ClampedIndex::KEPT`]).
    pub clamped: Vec<crate::ClampedIndex>,
    /// How many forgiving indices were clamped in all.
    pub clamped_count: u64,
}

impl Outcome {
    /// A global variable by name, e.g. `outcome.get("ret_val")`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.globals.get(name)
    }
}

/// Maximum bytes of `print` output per run.
const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// Runs a parsed program.
///
/// `predefined` variables are bound as globals before the program starts
/// (they shadow built-ins and host globals). The run is deterministic and
/// bounded by `limits`.
pub fn run(
    program: &Program,
    host: &mut dyn Host,
    limits: &Limits,
    predefined: Vec<(String, Value)>,
) -> Result<Outcome, LangError> {
    let max_depth = limits.depth();
    if program.max_nesting > max_depth {
        return Err(LangError::new(
            ErrorKind::Limit,
            format!(
                "program is nested {} levels deep, more than the limit of {max_depth}",
                program.max_nesting
            ),
            program.deepest,
        ));
    }
    let n = program.symbols.len();
    let mut it = Interp {
        host,
        budget: Budget::new(limits),
        max_depth,
        globals: vec![None; n],
        resolved: vec![Resolved::Unknown; n],
        symbols: program.symbols.clone(),
        extra: BTreeMap::new(),
        scopes: Vec::new(),
        levels: HashMap::new(),
        levels_purge_at: 1024,
        output: Vec::new(),
        partial: String::new(),
        out_bytes: 0,
    };
    for (k, v) in predefined {
        match program.symbols.iter().position(|s| **s == *k) {
            Some(id) => {
                if let Some(slot) = it.globals.get_mut(id) {
                    *slot = Some(v);
                }
            }
            None => {
                it.extra.insert(k, v);
            }
        }
    }
    it.exec_block(&program.body)?;
    if !it.partial.is_empty() {
        let rest = std::mem::take(&mut it.partial);
        it.output.push(rest);
    }
    let mut globals = std::mem::take(&mut it.extra);
    for (name, v) in it.symbols.iter().zip(std::mem::take(&mut it.globals)) {
        if let Some(v) = v {
            globals.insert(name.to_string(), v);
        }
    }
    let (clamped, clamped_count) = it.budget.clamped();
    Ok(Outcome {
        globals,
        output: it.output,
        ops: it.budget.ops_used(),
        clamped: clamped.to_vec(),
        clamped_count,
    })
}

pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

pub(crate) type Kwargs = Vec<(Rc<str>, Value)>;

type LResult<T> = Result<T, LangError>;

#[derive(Clone)]
enum Resolved {
    Unknown,
    Missing,
    Found(Value),
}

/// Where a subscript assignment writes.
enum Place {
    Val(Value),
    /// An array reached through integer-only chained indices (`m[x][y]`).
    ArrayPart(Rc<RefCell<NdArray>>, Vec<IndexItem>),
    /// A temporary copy (chained indexing with slices); writing is an error.
    Copy,
}

pub(crate) struct Interp<'h> {
    host: &'h mut dyn Host,
    pub(crate) budget: Budget,
    pub(crate) max_depth: usize,
    /// Global variable slots, indexed by `Name::id`.
    globals: Vec<Option<Value>>,
    /// Cached resolution of names not assigned by the program (built-ins,
    /// modules, host globals), indexed by `Name::id`.
    resolved: Vec<Resolved>,
    symbols: Rc<Vec<Rc<str>>>,
    /// Predefined variables the program never mentions.
    extra: BTreeMap<String, Value>,
    /// Comprehension scopes (innermost last).
    scopes: Vec<Vec<(u32, Value)>>,
    /// Deepest nesting level seen for each live list/dict (see
    /// `walk_depth`).
    levels: HashMap<*const (), (Tracked, usize)>,
    levels_purge_at: usize,
    output: Vec<String>,
    partial: String,
    out_bytes: usize,
}

/// A Python iterator over a value.
pub(crate) enum PyIter {
    Range {
        cur: i128,
        step: i128,
        left: usize,
    },
    List {
        list: Rc<RefCell<Vec<Value>>>,
        i: usize,
    },
    Items {
        items: Rc<Vec<Value>>,
        i: usize,
    },
    Array {
        arr: Rc<RefCell<NdArray>>,
        i: usize,
    },
}

impl PyIter {
    pub(crate) fn new(v: &Value, budget: &mut Budget) -> R<PyIter> {
        Ok(match v {
            Value::Range(r) => PyIter::Range {
                cur: i128::from(r[0]),
                step: i128::from(r[2]),
                left: range_count(r),
            },
            Value::List(l) => PyIter::List {
                list: l.clone(),
                i: 0,
            },
            Value::Tuple(t) => PyIter::Items {
                items: t.clone(),
                i: 0,
            },
            Value::Str(s) => {
                let n = s.chars().count();
                budget.seq(n)?;
                PyIter::Items {
                    items: Rc::new(
                        s.chars()
                            .map(|c| Value::Str(Rc::from(c.to_string())))
                            .collect(),
                    ),
                    i: 0,
                }
            }
            Value::Dict(d) => {
                let d = d.try_borrow().map_err(|_| value_err("dict is in use"))?;
                budget.ops(d.len() as u64)?;
                PyIter::Items {
                    items: Rc::new(d.iter().map(|(k, _)| k.clone()).collect()),
                    i: 0,
                }
            }
            Value::Array(a) => {
                let b = a.try_borrow().map_err(|_| value_err("array is in use"))?;
                b.check()?;
                if b.ndim() == 0 {
                    return Err(type_err("iteration over a 0-d array"));
                }
                PyIter::Array {
                    arr: a.clone(),
                    i: 0,
                }
            }
            _ => {
                return Err(type_err(format!(
                    "'{}' object is not iterable",
                    v.type_label()
                )));
            }
        })
    }

    pub(crate) fn next(&mut self, budget: &mut Budget) -> R<Option<Value>> {
        match self {
            PyIter::Range { cur, step, left } => {
                if *left == 0 {
                    return Ok(None);
                }
                let v = i64::try_from(*cur).map_err(|_| value_err("range value out of range"))?;
                *left -= 1;
                *cur += *step;
                Ok(Some(Value::Int(v)))
            }
            PyIter::List { list, i } => {
                let l = list.try_borrow().map_err(|_| value_err("list is in use"))?;
                let v = l.get(*i).cloned();
                *i += 1;
                Ok(v)
            }
            PyIter::Items { items, i } => {
                let v = items.get(*i).cloned();
                *i += 1;
                Ok(v)
            }
            PyIter::Array { arr, i } => {
                let a = arr.try_borrow().map_err(|_| value_err("array is in use"))?;
                a.check()?;
                let n = a.shape.first().copied().unwrap_or(0);
                if *i >= n {
                    return Ok(None);
                }
                let sel = array::select(&a.shape, false, &[IndexItem::Int(*i as i64)], budget)?;
                let sub = array::get(&a, &sel, budget)?;
                *i += 1;
                Ok(Some(arr_result(sub)))
            }
        }
    }

    /// Remaining length if known cheaply.
    pub(crate) fn len_hint(&self) -> Option<usize> {
        match self {
            PyIter::Range { left, .. } => Some(*left),
            PyIter::List { list, i } => list.try_borrow().ok().map(|l| l.len().saturating_sub(*i)),
            PyIter::Items { items, i } => Some(items.len().saturating_sub(*i)),
            PyIter::Array { arr, i } => arr
                .try_borrow()
                .ok()
                .map(|a| a.shape.first().copied().unwrap_or(0).saturating_sub(*i)),
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl Interp<'_> {
    fn charge(&mut self, n: u64, span: Span) -> LResult<()> {
        self.budget.ops(n).map_err(|f| f.at(span))
    }

    #[inline]
    fn truthy(&self, v: &Value, span: Span) -> LResult<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            Value::None => Ok(false),
            _ => truthy(v).map_err(|f| f.at(span)),
        }
    }

    // ----- statements ------------------------------------------------------

    fn exec_block(&mut self, body: &[Stmt]) -> LResult<Flow> {
        for s in body {
            match self.exec(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    #[inline]
    fn exec(&mut self, s: &Stmt) -> LResult<Flow> {
        self.charge(1, s.span)?;
        match &s.kind {
            StmtKind::Expr(e) => {
                self.eval(e)?;
                Ok(Flow::Normal)
            }
            StmtKind::Assign { targets, value } if targets.len() == 1 => {
                let v = self.eval_rhs(targets, value)?;
                match targets.first().map(|t| &t.kind) {
                    Some(ExprKind::Name(n)) => self.store(n, v, false),
                    Some(_) => {
                        if let Some(t) = targets.first() {
                            self.assign(t, v, false)?;
                        }
                    }
                    None => {}
                }
                Ok(Flow::Normal)
            }
            StmtKind::If { branches, orelse } => {
                for (cond, body) in branches {
                    let c = self.eval(cond)?;
                    if self.truthy(&c, cond.span)? {
                        return self.exec_block(body);
                    }
                }
                self.exec_block(orelse)
            }
            StmtKind::Pass => Ok(Flow::Normal),
            StmtKind::Break => Ok(Flow::Break),
            StmtKind::Continue => Ok(Flow::Continue),
            _ => self.exec_slow(s),
        }
    }

    #[inline(never)]
    fn exec_for(
        &mut self,
        target: &Expr,
        iter: &Expr,
        body: &[Stmt],
        orelse: &[Stmt],
    ) -> LResult<Flow> {
        let itv = self.eval(iter)?;
        let mut it = PyIter::new(&itv, &mut self.budget).map_err(|f| f.at(iter.span))?;
        loop {
            let next = it.next(&mut self.budget).map_err(|f| f.at(iter.span))?;
            let Some(item) = next else { break };
            self.charge(1, target.span)?;
            self.assign(target, item, false)?;
            if let Flow::Break = self.exec_block(body)? {
                return Ok(Flow::Normal);
            }
        }
        self.exec_block(orelse)
    }

    #[inline(never)]
    fn exec_while(&mut self, cond: &Expr, body: &[Stmt], orelse: &[Stmt]) -> LResult<Flow> {
        loop {
            let c = self.eval(cond)?;
            if !self.truthy(&c, cond.span)? {
                break;
            }
            if let Flow::Break = self.exec_block(body)? {
                return Ok(Flow::Normal);
            }
            self.charge(1, cond.span)?;
        }
        self.exec_block(orelse)
    }

    /// Statements other than the hottest kinds; loops get their own small
    /// functions so that nested blocks use little native stack.
    #[inline(never)]
    fn exec_slow(&mut self, s: &Stmt) -> LResult<Flow> {
        match &s.kind {
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => self.exec_for(target, iter, body, orelse),
            StmtKind::While { cond, body, orelse } => self.exec_while(cond, body, orelse),
            _ => self.exec_misc(s),
        }
    }

    #[inline(never)]
    fn exec_misc(&mut self, s: &Stmt) -> LResult<Flow> {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.eval(e)?;
            }
            StmtKind::Assign { targets, value } => {
                let v = self.eval_rhs(targets, value)?;
                for t in targets {
                    self.assign(t, v.clone(), false)?;
                }
            }
            StmtKind::AugAssign { target, op, value } => {
                self.aug_assign(target, *op, value, s.span)?
            }
            StmtKind::If { branches, orelse } => {
                for (cond, body) in branches {
                    let c = self.eval(cond)?;
                    if self.truthy(&c, cond.span)? {
                        return self.exec_block(body);
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => return self.exec_for(target, iter, body, orelse),
            StmtKind::While { cond, body, orelse } => return self.exec_while(cond, body, orelse),
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Pass => {}
            StmtKind::Import(names) => {
                for n in names {
                    let module = builtins::import_module(&n.module).map_err(|f| f.at(n.span))?;
                    let value = if n.aliased {
                        module
                    } else {
                        let top = n.module.split('.').next().unwrap_or("");
                        builtins::import_module(top).map_err(|f| f.at(n.span))?
                    };
                    self.store(&n.bind, value, false);
                }
            }
            StmtKind::FromImport {
                module,
                module_span,
                names,
            } => {
                let m = builtins::import_module(module).map_err(|f| f.at(*module_span))?;
                let Value::Module(mname) = m else {
                    return Err(LangError::new(
                        ErrorKind::Name,
                        "not a module",
                        *module_span,
                    ));
                };
                for (name, bind, span) in names {
                    if &**name == "*" {
                        return Err(LangError::new(
                            ErrorKind::Syntax,
                            "'from ... import *' is not supported in map programs; import the names you need",
                            *span,
                        ));
                    }
                    let v = builtins::module_attr(mname, name).map_err(|f| {
                        LangError::new(
                            ErrorKind::Name,
                            match f.kind {
                                ErrorKind::Type => {
                                    format!("cannot import name '{name}' from '{module}'")
                                }
                                _ => f.msg,
                            },
                            *span,
                        )
                    })?;
                    self.store(bind, v, false);
                }
            }
            StmtKind::Assert { test, msg } => {
                let v = self.eval(test)?;
                if !self.truthy(&v, test.span)? {
                    let text = match msg {
                        Some(m) => {
                            let mv = self.eval(m)?;
                            format!(
                                "assertion failed: {}",
                                str_of(&mv, 10_000).map_err(|f| f.at(m.span))?
                            )
                        }
                        None => "assertion failed".to_string(),
                    };
                    return Err(LangError::new(ErrorKind::Value, text, s.span));
                }
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(t)?;
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn delete(&mut self, t: &Expr) -> LResult<()> {
        match &t.kind {
            ExprKind::Name(n) => match self.globals.get_mut(n.id as usize).and_then(Option::take) {
                Some(_) => Ok(()),
                None => Err(LangError::new(
                    ErrorKind::Name,
                    format!("name '{n}' is not defined"),
                    t.span,
                )),
            },
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.delete(i)?;
                }
                Ok(())
            }
            ExprKind::Subscript(obj, idx) => {
                let container = self.eval(obj)?;
                let idxv = self.eval_index(idx)?;
                builtins::del_item(self, &container, &idxv).map_err(|f| f.at(t.span))
            }
            _ => Err(LangError::new(
                ErrorKind::Type,
                "cannot delete this target",
                t.span,
            )),
        }
    }

    #[inline]
    fn store(&mut self, name: &Name, v: Value, local: bool) {
        if local && let Some(scope) = self.scopes.last_mut() {
            if let Some(slot) = scope.iter_mut().find(|(k, _)| *k == name.id) {
                slot.1 = v;
            } else {
                scope.push((name.id, v));
            }
            return;
        }
        if let Some(slot) = self.globals.get_mut(name.id as usize) {
            *slot = Some(v);
        }
    }

    fn assign(&mut self, target: &Expr, value: Value, local: bool) -> LResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                self.store(n, value, local);
                Ok(())
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let vals = self.unpack(&value, items.len(), target.span)?;
                for (t, v) in items.iter().zip(vals) {
                    self.assign(t, v, local)?;
                }
                Ok(())
            }
            ExprKind::Subscript(obj, idx) => self.assign_subscript(obj, idx, value, target.span),
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                Err(LangError::new(
                    ErrorKind::Type,
                    format!(
                        "cannot assign to attribute '{name}' of '{}' object (attributes are read-only)",
                        o.type_label()
                    ),
                    target.span,
                ))
            }
            _ => Err(LangError::new(
                ErrorKind::Syntax,
                "cannot assign to expression",
                target.span,
            )),
        }
    }

    fn unpack(&mut self, v: &Value, n: usize, span: Span) -> LResult<Vec<Value>> {
        let len = match v {
            Value::Tuple(t) => Some(t.len()),
            Value::List(l) => l.try_borrow().ok().map(|l| l.len()),
            Value::Range(r) => Some(range_count(r)),
            Value::Str(s) => Some(s.chars().count()),
            Value::Dict(d) => d.try_borrow().ok().map(|d| d.len()),
            Value::Array(a) => a.try_borrow().ok().and_then(|a| a.shape.first().copied()),
            _ => None,
        };
        let Some(len) = len else {
            let what = match v {
                Value::Array(_) => "0-d array".to_string(),
                _ => format!("non-iterable {} object", v.type_label()),
            };
            return Err(LangError::new(
                ErrorKind::Type,
                format!("cannot unpack {what} into {}", plural(n, "name")),
                span,
            ));
        };
        if len != n {
            return Err(LangError::new(
                ErrorKind::Value,
                format!(
                    "cannot unpack {} into {}",
                    plural(len, "value"),
                    plural(n, "name")
                ),
                span,
            ));
        }
        let mut it = PyIter::new(v, &mut self.budget).map_err(|f| f.at(span))?;
        let mut out = Vec::with_capacity(n);
        while let Some(x) = it.next(&mut self.budget).map_err(|f| f.at(span))? {
            out.push(x);
            if out.len() > n {
                break;
            }
        }
        if out.len() != n {
            return Err(LangError::new(
                ErrorKind::Value,
                format!(
                    "cannot unpack {} into {}",
                    plural(out.len(), "value"),
                    plural(n, "name")
                ),
                span,
            ));
        }
        Ok(out)
    }

    fn eval_place(&mut self, e: &Expr) -> LResult<Place> {
        let ExprKind::Subscript(obj, idx) = &e.kind else {
            return Ok(Place::Val(self.eval(e)?));
        };
        let base = self.eval_place(obj)?;
        let idxv = self.eval_index(idx)?;
        let all_int = |items: &[IndexItem]| {
            items
                .iter()
                .all(|i| matches!(i, IndexItem::Int(_) | IndexItem::Float(_)))
        };
        match base {
            Place::Val(Value::Array(rc)) => {
                let items = self.index_items(&idxv, idx.span)?;
                if all_int(&items) {
                    Ok(Place::ArrayPart(rc, items))
                } else {
                    Ok(Place::Copy)
                }
            }
            Place::ArrayPart(rc, mut items) => {
                let more = self.index_items(&idxv, idx.span)?;
                if all_int(&more) {
                    items.extend(more);
                    Ok(Place::ArrayPart(rc, items))
                } else {
                    Ok(Place::Copy)
                }
            }
            Place::Val(v) => Ok(Place::Val(self.getitem(&v, &idxv, e.span)?)),
            Place::Copy => Ok(Place::Copy),
        }
    }

    fn copy_error(span: Span) -> LangError {
        LangError::new(
            ErrorKind::Type,
            "cannot assign through a chained index that contains slices or masks (it would modify a temporary copy); use a single subscript such as a[i, j:k] = v",
            span,
        )
    }

    fn assign_subscript(
        &mut self,
        obj: &Expr,
        idx: &Expr,
        value: Value,
        span: Span,
    ) -> LResult<()> {
        let place = match &obj.kind {
            ExprKind::Name(_) => Place::Val(self.eval_keeping_paint(obj)?),
            _ => self.eval_place(obj)?,
        };
        let idxv = self.eval_index(idx)?;
        match place {
            Place::Val(Value::Painted(p)) => {
                // Errors where a dense array's `setitem` puts them: at the whole target.
                let items = self.index_items(&idxv, span)?;
                self.paint_set(&p, &items, &value).map_err(|f| f.at(span))
            }
            Place::Val(container) => self.setitem(&container, &idxv, value, span),
            Place::ArrayPart(rc, mut items) => {
                items.extend(self.index_items(&idxv, idx.span)?);
                self.array_set(&rc, &items, &value).map_err(|f| f.at(span))
            }
            Place::Copy => Err(Self::copy_error(span)),
        }
    }

    fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr, span: Span) -> LResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                let cur = self.lookup(n, target.span)?;
                let rhs = self.eval(value)?;
                if let Some(new) = self.inplace(op, &cur, &rhs).map_err(|f| f.at(span))? {
                    self.store(n, new, false);
                }
                Ok(())
            }
            ExprKind::Subscript(obj, idx) => {
                let place = self.eval_place(obj)?;
                let idxv = self.eval_index(idx)?;
                match place {
                    Place::Val(container) => {
                        let cur = self.getitem(&container, &idxv, target.span)?;
                        let rhs = self.eval(value)?;
                        let new =
                            ops::binop(op, &cur, &rhs, &mut self.budget).map_err(|f| f.at(span))?;
                        self.setitem(&container, &idxv, new, span)
                    }
                    Place::ArrayPart(rc, mut items) => {
                        items.extend(self.index_items(&idxv, idx.span)?);
                        let cur = self.array_get(&rc, &items).map_err(|f| f.at(target.span))?;
                        let rhs = self.eval(value)?;
                        let new =
                            ops::binop(op, &cur, &rhs, &mut self.budget).map_err(|f| f.at(span))?;
                        self.array_set(&rc, &items, &new).map_err(|f| f.at(span))
                    }
                    Place::Copy => Err(Self::copy_error(span)),
                }
            }
            _ => {
                self.eval(target)?;
                Err(LangError::new(
                    ErrorKind::Type,
                    "attributes are read-only and cannot be assigned",
                    target.span,
                ))
            }
        }
    }

    /// In-place operator on a variable's value. Returns the new value to
    /// bind, or None if the value was modified in place (arrays, lists).
    fn inplace(&mut self, op: BinOp, cur: &Value, rhs: &Value) -> R<Option<Value>> {
        match cur {
            Value::Array(rc) => {
                let r = ops::binop(op, cur, rhs, &mut self.budget)?;
                let Value::Array(res) = &r else {
                    return Ok(Some(r));
                };
                let res = res.try_borrow().map_err(|_| value_err("array is in use"))?;
                let mut t = rc
                    .try_borrow_mut()
                    .map_err(|_| value_err("array is in use"))?;
                if res.shape != t.shape {
                    return Err(value_err(format!(
                        "non-broadcastable output operand with shape {} doesn't match the broadcast shape {}",
                        array::fmt_shape(&t.shape),
                        array::fmt_shape(&res.shape)
                    )));
                }
                let dtype = t.dtype;
                if dtype == res.dtype || dtype == array::DType::Float {
                    t.data.copy_from_slice(&res.data);
                } else {
                    for (d, &s) in t.data.iter_mut().zip(&res.data) {
                        *d = dtype.coerce(f64::from(s));
                    }
                }
                Ok(None)
            }
            Value::List(l) if op == BinOp::Add => {
                let items = builtins::iterate(self, rhs)?;
                for x in &items {
                    self.check_insert(cur, x)?;
                }
                let mut l = l
                    .try_borrow_mut()
                    .map_err(|_| value_err("list is in use"))?;
                self.budget.seq(l.len() + items.len())?;
                l.extend(items);
                Ok(None)
            }
            _ => Ok(Some(ops::binop(op, cur, rhs, &mut self.budget)?)),
        }
    }

    // ----- containers and indexing -------------------------------------------

    /// The deepest level (1 = not inside anything) at which the mutable
    /// container `v` has been placed, as recorded by [`Self::walk_depth`].
    fn level_of(&self, v: &Value) -> usize {
        let Some(ptr) = container_ptr(v) else {
            return 1;
        };
        match self.levels.get(&ptr) {
            Some((weak, level)) if weak.alive_at(ptr) => *level,
            _ => 1,
        }
    }

    fn record_level(&mut self, v: &Value, level: usize) {
        let (Some(ptr), Some(weak)) = (container_ptr(v), Tracked::of(v)) else {
            return;
        };
        match self.levels.get_mut(&ptr) {
            Some((w, l)) if w.alive_at(ptr) => *l = (*l).max(level),
            _ => {
                self.levels.insert(ptr, (weak, level));
                if self.levels.len() > self.levels_purge_at {
                    self.levels.retain(|p, (w, _)| w.alive_at(*p));
                    self.levels_purge_at = (self.levels.len() * 2).max(1024);
                }
            }
        }
    }

    /// Walks the containers inside `v`, which sits at nesting `level`
    /// (1-based). Records the level of every mutable container met, fails
    /// beyond the depth limit, and fails if `target` (a container being
    /// inserted into) occurs inside `v`. Returns the height of `v`.
    ///
    /// Recording levels makes the bound hold under mutation too: a list
    /// that sits deep inside another structure keeps its recorded level, so
    /// appending to it is checked against its real position, and no chain
    /// of appends can build a structure deeper than the limit (which would
    /// otherwise overflow the stack when it is dropped or printed).
    fn walk_depth(&mut self, v: &Value, target: Option<*const ()>, level: usize) -> R<usize> {
        if level > self.max_depth {
            return Err(limit_err(format!(
                "data structure is nested too deeply (more than {} levels)",
                self.max_depth
            )));
        }
        let ptr = container_ptr(v);
        if ptr.is_some() && ptr == target {
            return Err(value_err(
                "cannot insert a container into itself (cyclic data structures are not supported)",
            ));
        }
        self.record_level(v, level);
        let children: Vec<Value> = match v {
            Value::List(l) => {
                let l = l.try_borrow().map_err(|_| value_err("list is in use"))?;
                if !l.iter().any(is_container) {
                    self.budget.ops(l.len() as u64 / 8 + 1)?;
                    return Ok(1);
                }
                l.clone()
            }
            Value::Tuple(t) => {
                if !t.iter().any(is_container) {
                    return Ok(1);
                }
                t.to_vec()
            }
            Value::Dict(d) => {
                let d = d.try_borrow().map_err(|_| value_err("dict is in use"))?;
                d.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect()
            }
            // A bound method keeps its receiver alive, like a container.
            Value::Method(m) => vec![m.0.clone()],
            Value::Object(o) => o
                .attrs
                .values()
                .filter(|x| is_container(x))
                .cloned()
                .collect(),
            _ => return Ok(0),
        };
        self.budget.ops(children.len() as u64)?;
        let mut max = 0;
        for c in &children {
            max = max.max(self.walk_depth(c, target, level + 1)?);
        }
        Ok(max + 1)
    }

    /// Checks that inserting `value` into `container` keeps nesting bounded
    /// and acyclic.
    pub(crate) fn check_insert(&mut self, container: &Value, value: &Value) -> R<()> {
        if !is_container(value) {
            return Ok(());
        }
        let level = self.level_of(container) + 1;
        self.walk_depth(value, container_ptr(container), level)
            .map(|_| ())
    }

    /// Checks (and records) the items of a new container.
    fn check_items(&mut self, items: &[Value]) -> R<()> {
        for x in items {
            if is_container(x) {
                self.walk_depth(x, None, 2)?;
            }
        }
        Ok(())
    }

    /// Records the nesting of a value built outside `make_list` & co.
    pub(crate) fn register(&mut self, v: &Value) -> R<()> {
        self.walk_depth(v, None, 1).map(|_| ())
    }

    /// Makes a list, checking its length and nesting.
    pub(crate) fn make_list(&mut self, items: Vec<Value>) -> R<Value> {
        self.budget.seq(items.len())?;
        self.check_items(&items)?;
        Ok(Value::list(items))
    }

    /// Makes a tuple, checking its length and nesting.
    pub(crate) fn make_tuple(&mut self, items: Vec<Value>) -> R<Value> {
        self.budget.seq(items.len())?;
        self.check_items(&items)?;
        Ok(Value::tuple(items))
    }

    /// Makes a dict from pairs (later duplicates win).
    pub(crate) fn make_dict(&mut self, pairs: Vec<(Value, Value)>) -> R<Value> {
        self.budget.seq(pairs.len())?;
        let mut out: Vec<(Value, Value)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            check_hashable(&k)?;
            self.check_items(std::slice::from_ref(&v))?;
            let mut replaced = false;
            for slot in out.iter_mut() {
                if values_eq(&slot.0, &k, &mut self.budget)? {
                    slot.1 = v.clone();
                    replaced = true;
                    break;
                }
            }
            if !replaced {
                out.push((k, v));
            }
        }
        self.budget.ops(out.len() as u64)?;
        Ok(Value::Dict(Rc::new(RefCell::new(out))))
    }

    fn eval_index(&mut self, idx: &Expr) -> LResult<Value> {
        match &idx.kind {
            ExprKind::Tuple(items) => {
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.eval_index_item(i)?);
                }
                Ok(Value::tuple(v))
            }
            _ => self.eval_index_item(idx),
        }
    }

    fn eval_index_item(&mut self, e: &Expr) -> LResult<Value> {
        let ExprKind::Slice(a, b, c) = &e.kind else {
            return self.eval(e);
        };
        let mut parts = [None, None, None];
        for (slot, part) in parts.iter_mut().zip([a, b, c]) {
            if let Some(p) = part {
                let v = self.eval(p)?;
                *slot = slice_part(&v).map_err(|f| f.at(p.span))?;
            }
        }
        Ok(Value::Slice(Rc::new(parts)))
    }

    fn index_items(&mut self, idx: &Value, span: Span) -> LResult<Vec<IndexItem>> {
        builtins::index_items(idx, &mut self.budget).map_err(|f| f.at(span))
    }

    pub(crate) fn array_get(&mut self, rc: &Rc<RefCell<NdArray>>, items: &[IndexItem]) -> R<Value> {
        let a = rc.try_borrow().map_err(|_| value_err("array is in use"))?;
        a.check()?;
        let sel = array::select(&a.shape, a.forgiving, items, &mut self.budget)?;
        Ok(arr_result(array::get(&a, &sel, &mut self.budget)?))
    }

    /// Assignment to a subscript of a painted array: painted lazily when the index and value
    /// make a box, else made dense and assigned as usual.
    fn paint_set(&mut self, p: &crate::Painted, items: &[IndexItem], value: &Value) -> R<()> {
        let as_box = match value {
            Value::Array(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Bool(_)
            | Value::List(_)
            | Value::Tuple(_) => match as_arr(value, &mut self.budget) {
                Ok(v) => p.try_paint_index(items, &v, &mut self.budget)?,
                Err(_) => false,
            },
            _ => false,
        };
        if as_box {
            return Ok(());
        }
        let rc = p.dense_r(&mut self.budget)?;
        self.array_set(&rc, items, value)
    }

    pub(crate) fn array_set(
        &mut self,
        rc: &Rc<RefCell<NdArray>>,
        items: &[IndexItem],
        value: &Value,
    ) -> R<()> {
        let val: ArrRef<'_> = match value {
            Value::Array(v) if Rc::ptr_eq(v, rc) => {
                let copy = v
                    .try_borrow()
                    .map_err(|_| value_err("array is in use"))?
                    .clone();
                ArrRef::Owned(copy)
            }
            Value::Array(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Bool(_)
            | Value::List(_)
            | Value::Tuple(_) => as_arr(value, &mut self.budget)?,
            _ => {
                return Err(type_err(format!(
                    "cannot assign a '{}' value to array elements (expected a number or an array)",
                    value.type_label()
                )));
            }
        };
        let mut t = rc
            .try_borrow_mut()
            .map_err(|_| value_err("array is in use"))?;
        t.check()?;
        let sel = array::select(&t.shape, t.forgiving, items, &mut self.budget)?;
        array::set(&mut t, &sel, &val, &mut self.budget)
    }

    pub(crate) fn getitem(&mut self, container: &Value, idx: &Value, span: Span) -> LResult<Value> {
        self.getitem_r(container, idx).map_err(|f| f.at(span))
    }

    pub(crate) fn getitem_r(&mut self, container: &Value, idx: &Value) -> R<Value> {
        match container {
            Value::Array(rc) => {
                let items = builtins::index_items(idx, &mut self.budget)?;
                self.array_get(rc, &items)
            }
            Value::List(l) => {
                let l = l.try_borrow().map_err(|_| value_err("list is in use"))?;
                match seq_index(idx, l.len(), "list")? {
                    SeqIdx::One(i) => Ok(l.get(i).cloned().unwrap_or(Value::None)),
                    SeqIdx::Many(ix) => {
                        self.budget.seq(ix.len())?;
                        Ok(Value::list(
                            ix.into_iter().filter_map(|i| l.get(i).cloned()).collect(),
                        ))
                    }
                }
            }
            Value::Tuple(t) => match seq_index(idx, t.len(), "tuple")? {
                SeqIdx::One(i) => Ok(t.get(i).cloned().unwrap_or(Value::None)),
                SeqIdx::Many(ix) => {
                    self.budget.seq(ix.len())?;
                    Ok(Value::tuple(
                        ix.into_iter().filter_map(|i| t.get(i).cloned()).collect(),
                    ))
                }
            },
            Value::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                self.budget.ops(chars.len() as u64 / 8 + 1)?;
                match seq_index(idx, chars.len(), "string")? {
                    SeqIdx::One(i) => Ok(Value::Str(Rc::from(
                        chars.get(i).map(|c| c.to_string()).unwrap_or_default(),
                    ))),
                    SeqIdx::Many(ix) => Ok(Value::Str(Rc::from(
                        ix.into_iter()
                            .filter_map(|i| chars.get(i))
                            .collect::<String>(),
                    ))),
                }
            }
            Value::Range(r) => {
                let n = range_count(r);
                // A range's slice is charged before its indices are listed: the range
                // itself holds none, so its length is not bounded by memory.
                if let Value::Slice(s) = idx {
                    self.budget
                        .seq(array::slice_indices(s[0], s[1], s[2], n)?.2)?;
                }
                match seq_index(idx, n, "range object")? {
                    SeqIdx::One(i) => Ok(Value::Int(range_at(r, i)?)),
                    SeqIdx::Many(ix) => {
                        let v: R<Vec<Value>> = ix
                            .into_iter()
                            .map(|i| range_at(r, i).map(Value::Int))
                            .collect();
                        Ok(Value::list(v?))
                    }
                }
            }
            Value::Dict(d) => {
                check_hashable(idx)?;
                let d = d.try_borrow().map_err(|_| value_err("dict is in use"))?;
                self.budget.ops(d.len() as u64 + 1)?;
                for (k, v) in d.iter() {
                    if values_eq(k, idx, &mut self.budget)? {
                        return Ok(v.clone());
                    }
                }
                let mut key = String::new();
                crate::value::repr_into(idx, &mut key, 0, &mut 200).ok();
                Err(index_err(format!("key {key} not found in dict")))
            }
            _ => Err(type_err(format!(
                "'{}' object is not subscriptable",
                container.type_label()
            ))),
        }
    }

    fn setitem(&mut self, container: &Value, idx: &Value, value: Value, span: Span) -> LResult<()> {
        self.setitem_r(container, idx, value)
            .map_err(|f| f.at(span))
    }

    fn setitem_r(&mut self, container: &Value, idx: &Value, value: Value) -> R<()> {
        match container {
            Value::Array(rc) => {
                let items = builtins::index_items(idx, &mut self.budget)?;
                self.array_set(rc, &items, &value)
            }
            Value::List(l) => {
                self.check_insert(container, &value)?;
                let len = l
                    .try_borrow()
                    .map_err(|_| value_err("list is in use"))?
                    .len();
                match seq_index(idx, len, "list assignment")? {
                    SeqIdx::One(i) => {
                        let mut l = l
                            .try_borrow_mut()
                            .map_err(|_| value_err("list is in use"))?;
                        if let Some(slot) = l.get_mut(i) {
                            *slot = value;
                        }
                        Ok(())
                    }
                    SeqIdx::Many(ix) => {
                        let new = builtins::iterate(self, &value)?;
                        for x in &new {
                            self.check_insert(container, x)?;
                        }
                        let step_one = matches!(idx, Value::Slice(s) if s[2].unwrap_or(1) == 1);
                        let mut l = l
                            .try_borrow_mut()
                            .map_err(|_| value_err("list is in use"))?;
                        if step_one {
                            let Value::Slice(s) = idx else { return Ok(()) };
                            let (start, _, count) = array::slice_indices(s[0], s[1], Some(1), len)?;
                            let start = usize::try_from(start).unwrap_or(0).min(len);
                            let end = (start + count).min(len);
                            self.budget.seq(len - count + new.len())?;
                            l.splice(start..end, new);
                            Ok(())
                        } else {
                            if new.len() != ix.len() {
                                return Err(value_err(format!(
                                    "attempt to assign sequence of size {} to extended slice of size {}",
                                    new.len(),
                                    ix.len()
                                )));
                            }
                            for (i, v) in ix.into_iter().zip(new) {
                                if let Some(slot) = l.get_mut(i) {
                                    *slot = v;
                                }
                            }
                            Ok(())
                        }
                    }
                }
            }
            Value::Dict(d) => {
                check_hashable(idx)?;
                self.check_insert(container, &value)?;
                let n = d
                    .try_borrow()
                    .map_err(|_| value_err("dict is in use"))?
                    .len();
                self.budget.ops(n as u64 + 1)?;
                let mut d = d
                    .try_borrow_mut()
                    .map_err(|_| value_err("dict is in use"))?;
                for slot in d.iter_mut() {
                    if values_eq(&slot.0, idx, &mut self.budget)? {
                        slot.1 = value;
                        return Ok(());
                    }
                }
                self.budget.seq(n + 1)?;
                d.push((idx.clone(), value));
                Ok(())
            }
            _ => Err(type_err(format!(
                "'{}' object does not support item assignment",
                container.type_label()
            ))),
        }
    }

    // ----- names, output, calls -------------------------------------------

    #[inline]
    fn lookup(&mut self, name: &Name, span: Span) -> LResult<Value> {
        let v = self.lookup_raw(name, span)?;
        self.dense_value(v, span)
    }

    /// A variable's value as it is: a painted array stays a painting (see
    /// [`crate::Painted`] for where the interpreter lets it).
    fn lookup_raw(&mut self, name: &Name, span: Span) -> LResult<Value> {
        for scope in self.scopes.iter().rev() {
            if let Some((_, v)) = scope.iter().rev().find(|(k, _)| *k == name.id) {
                return Ok(v.clone());
            }
        }
        let id = name.id as usize;
        if let Some(Some(v)) = self.globals.get(id) {
            return Ok(v.clone());
        }
        if let Some(Resolved::Found(v)) = self.resolved.get(id) {
            return Ok(v.clone());
        }
        self.resolve(name, span)
    }

    /// Resolves a name the program has not assigned: built-ins, modules,
    /// then the host (asked once per name).
    #[inline(never)]
    fn resolve(&mut self, name: &Name, span: Span) -> LResult<Value> {
        let id = name.id as usize;
        let found = match self.resolved.get(id) {
            Some(Resolved::Found(v)) => Some(v.clone()),
            Some(Resolved::Missing) => None,
            _ => builtins::global_builtin(&name.text).or_else(|| self.host.global(&name.text)),
        };
        if let Some(slot) = self.resolved.get_mut(id) {
            *slot = match &found {
                Some(v) => Resolved::Found(v.clone()),
                None => Resolved::Missing,
            };
        }
        found.ok_or_else(|| {
            LangError::new(
                ErrorKind::Name,
                format!("name '{name}' is not defined"),
                span,
            )
        })
    }

    /// Appends printed text to the output.
    pub(crate) fn print_text(&mut self, text: &str) -> R<()> {
        self.out_bytes = self.out_bytes.saturating_add(text.len());
        if self.out_bytes > MAX_OUTPUT_BYTES {
            return Err(limit_err(format!(
                "print output exceeds the limit of {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        self.budget.ops(text.len() as u64 / 8 + 1)?;
        self.partial.push_str(text);
        while let Some(pos) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=pos).collect();
            self.output.push(line.trim_end_matches('\n').to_string());
        }
        Ok(())
    }

    /// Calls any callable value; a painted array a host returns is made dense (see
    /// [`Interp::call_value_keeping_paint`]).
    pub(crate) fn call_value(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kwargs: Kwargs,
        span: Span,
    ) -> LResult<Value> {
        let v = self.call_value_keeping_paint(f, args, kwargs, span)?;
        self.dense_value(v, span)
    }

    /// Calls any callable value, leaving a painted array a host returns a painting (for a
    /// call bound straight to names: `m = get_empty_affordance_map()`).
    fn call_value_keeping_paint(
        &mut self,
        f: &Value,
        args: Vec<Value>,
        kwargs: Kwargs,
        span: Span,
    ) -> LResult<Value> {
        self.charge(1, span)?;
        match f {
            Value::HostFn(name) => {
                let kw: Vec<(String, Value)> = kwargs
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                match self.host.call(name, args, kw, &mut self.budget) {
                    Ok(v) => Ok(v),
                    Err(msg) => {
                        let kind = if self.budget.is_exhausted() {
                            ErrorKind::Limit
                        } else {
                            ErrorKind::Host
                        };
                        Err(LangError::new(kind, msg, span))
                    }
                }
            }
            Value::Builtin(name) => {
                builtins::call(self, name, args, kwargs).map_err(|f| f.at(span))
            }
            Value::Method(m) => {
                builtins::call_method(self, &m.0, m.1, args, kwargs).map_err(|f| f.at(span))
            }
            _ => Err(LangError::new(
                ErrorKind::Type,
                format!("'{}' object is not callable", f.type_label()),
                span,
            )),
        }
    }

    /// `call_value` for use inside built-ins (errors lose their inner span).
    pub(crate) fn call_fail(&mut self, f: &Value, args: Vec<Value>) -> R<Value> {
        let span = Span::default();
        self.call_value(f, args, Vec::new(), span)
            .map_err(|e| fail(e.kind, e.message))
    }

    // ----- expressions -------------------------------------------------------

    #[inline]
    pub(crate) fn eval(&mut self, e: &Expr) -> LResult<Value> {
        self.charge(1, e.span)?;
        match &e.kind {
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::True => Ok(Value::Bool(true)),
            ExprKind::False => Ok(Value::Bool(false)),
            ExprKind::None => Ok(Value::None),
            ExprKind::Name(n) => self.lookup(n, e.span),
            ExprKind::Binary(first, rest) => self.eval_binary(first, rest),
            _ => self.eval_slow(e),
        }
    }

    /// [`Interp::eval`], except that a bare variable keeps a painted array a painting.
    fn eval_keeping_paint(&mut self, e: &Expr) -> LResult<Value> {
        match &e.kind {
            ExprKind::Name(n) => {
                self.charge(1, e.span)?;
                self.lookup_raw(n, e.span)
            }
            ExprKind::Call { func, args, kwargs } => {
                self.charge(1, e.span)?;
                self.eval_call(func, args, kwargs, e.span)
            }
            _ => self.eval(e),
        }
    }

    /// A value as expressions use it: a painted array is made dense (in place, for every
    /// alias), anything else is left as it is.
    fn dense_value(&mut self, v: Value, span: Span) -> LResult<Value> {
        match v {
            Value::Painted(p) => Ok(Value::Array(
                p.dense_r(&mut self.budget).map_err(|f| f.at(span))?,
            )),
            v => Ok(v),
        }
    }

    /// An assignment's value: a painted array bound to plain names stays a painting
    /// (`ret_val = m`); assigned into anything else it is made dense.
    fn eval_rhs(&mut self, targets: &[Expr], value: &Expr) -> LResult<Value> {
        if targets.iter().all(|t| matches!(t.kind, ExprKind::Name(_))) {
            self.eval_keeping_paint(value)
        } else {
            self.eval(value)
        }
    }

    #[inline(never)]
    fn eval_binary(&mut self, first: &Expr, rest: &[(BinOp, Expr)]) -> LResult<Value> {
        let mut acc = self.eval(first)?;
        for (op, r) in rest {
            let rv = self.eval(r)?;
            // Fast path for small-integer arithmetic.
            if let (Value::Int(x), Value::Int(y)) = (&acc, &rv) {
                let fast = match op {
                    BinOp::Add => x.checked_add(*y),
                    BinOp::Sub => x.checked_sub(*y),
                    BinOp::Mul => x.checked_mul(*y),
                    _ => None,
                };
                if let Some(v) = fast {
                    self.charge(1, r.span)?;
                    acc = Value::Int(v);
                    continue;
                }
            }
            acc = ops::binop(*op, &acc, &rv, &mut self.budget)
                .map_err(|f| f.at(first.span.to(r.span)))?;
        }
        Ok(acc)
    }

    /// Everything but the hottest expression kinds. Each bulky case lives
    /// in its own function so that the recursion through this dispatcher
    /// uses little native stack, even in unoptimized builds.
    #[inline(never)]
    fn eval_slow(&mut self, e: &Expr) -> LResult<Value> {
        match &e.kind {
            ExprKind::None => Ok(Value::None),
            ExprKind::True => Ok(Value::Bool(true)),
            ExprKind::False => Ok(Value::Bool(false)),
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Ellipsis => Ok(Value::Ellipsis),
            ExprKind::Name(n) => self.lookup(n, e.span),
            ExprKind::Binary(first, rest) => self.eval_binary(first, rest),
            ExprKind::Tuple(_) | ExprKind::List(_) | ExprKind::Dict(_) => self.eval_display(e),
            ExprKind::Unary(..) | ExprKind::Power(..) | ExprKind::Not(_) => self.eval_unary(e),
            ExprKind::And(items) => self.eval_bool(items, false),
            ExprKind::Or(items) => self.eval_bool(items, true),
            ExprKind::Compare(first, rest) => self.eval_compare(first, rest),
            ExprKind::IfExp { cond, then, orelse } => {
                let c = self.eval(cond)?;
                if self.truthy(&c, cond.span)? {
                    self.eval(then)
                } else {
                    self.eval(orelse)
                }
            }
            ExprKind::Call { func, args, kwargs } => {
                let v = self.eval_call(func, args, kwargs, e.span)?;
                self.dense_value(v, e.span)
            }
            ExprKind::Attr(..) | ExprKind::Subscript(..) => {
                let v = self.eval_access(e)?;
                self.dense_value(v, e.span)
            }
            // Only reachable for a slice inside a subscript tuple.
            ExprKind::Slice(..) => self.eval_index_item(e),
            ExprKind::ListComp(..) | ExprKind::DictComp(..) => self.eval_comprehension(e),
        }
    }

    #[inline(never)]
    fn eval_display(&mut self, e: &Expr) -> LResult<Value> {
        match &e.kind {
            ExprKind::Tuple(items) => {
                let v = self.eval_all(items)?;
                self.make_tuple(v).map_err(|f| f.at(e.span))
            }
            ExprKind::List(items) => {
                let v = self.eval_all(items)?;
                self.make_list(v).map_err(|f| f.at(e.span))
            }
            ExprKind::Dict(pairs) => {
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let kv = self.eval(k)?;
                    check_hashable(&kv).map_err(|f| f.at(k.span))?;
                    let vv = self.eval(v)?;
                    out.push((kv, vv));
                }
                self.make_dict(out).map_err(|f| f.at(e.span))
            }
            _ => Ok(Value::None),
        }
    }

    #[inline(never)]
    fn eval_unary(&mut self, e: &Expr) -> LResult<Value> {
        match &e.kind {
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                ops::unary(*op, &v, &mut self.budget).map_err(|f| f.at(e.span))
            }
            ExprKind::Power(b, x) => {
                let bv = self.eval(b)?;
                let xv = self.eval(x)?;
                ops::binop(BinOp::Pow, &bv, &xv, &mut self.budget).map_err(|f| f.at(e.span))
            }
            ExprKind::Not(x) => {
                let v = self.eval(x)?;
                Ok(Value::Bool(!self.truthy(&v, x.span)?))
            }
            _ => Ok(Value::None),
        }
    }

    /// `and` (stop on the first falsy operand) or `or` (first truthy).
    #[inline(never)]
    fn eval_bool(&mut self, items: &[Expr], is_or: bool) -> LResult<Value> {
        let mut last = Value::Bool(!is_or);
        for x in items {
            last = self.eval(x)?;
            if self.truthy(&last, x.span)? == is_or {
                return Ok(last);
            }
        }
        Ok(last)
    }

    #[inline(never)]
    fn eval_compare(&mut self, first: &Expr, rest: &[(crate::ast::CmpOp, Expr)]) -> LResult<Value> {
        let mut left = self.eval(first)?;
        let mut start = first.span;
        let n = rest.len();
        for (i, (op, r)) in rest.iter().enumerate() {
            let right = self.eval(r)?;
            let span = start.to(r.span);
            let res = ops::compare(*op, &left, &right, &mut self.budget).map_err(|f| f.at(span))?;
            if i + 1 == n {
                return Ok(res);
            }
            if !self.truthy(&res, span)? {
                return Ok(res);
            }
            left = right;
            start = r.span;
        }
        Ok(Value::Bool(true))
    }

    #[inline(never)]
    fn eval_call(
        &mut self,
        func: &Expr,
        args: &[Expr],
        kwargs: &[(Rc<str>, Expr)],
        span: Span,
    ) -> LResult<Value> {
        let f = self.eval(func)?;
        // The one argument a host may take as a painting stays one; the rest are made dense.
        let keep = match &f {
            Value::HostFn(name) => self.host.painted_argument(name),
            _ => None,
        };
        let mut argv = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            argv.push(match keep {
                Some((pos, _)) if pos == i => self.eval_keeping_paint(a)?,
                _ => self.eval(a)?,
            });
        }
        let mut kwv = Vec::with_capacity(kwargs.len());
        for (k, x) in kwargs {
            kwv.push((
                k.clone(),
                match keep {
                    Some((_, kw)) if **k == *kw => self.eval_keeping_paint(x)?,
                    _ => self.eval(x)?,
                },
            ));
        }
        self.call_value_keeping_paint(&f, argv, kwv, span)
    }

    #[inline(never)]
    fn eval_access(&mut self, e: &Expr) -> LResult<Value> {
        match &e.kind {
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                builtins::get_attr(self, &o, name).map_err(|f| f.at(e.span))
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let i = self.eval_index(idx)?;
                self.getitem(&o, &i, e.span)
            }
            _ => Ok(Value::None),
        }
    }

    #[inline(never)]
    fn eval_comprehension(&mut self, e: &Expr) -> LResult<Value> {
        let (elt, clauses, mut out) = match &e.kind {
            ExprKind::ListComp(elt, clauses) => {
                (CompElt::List(elt), clauses, CompOut::List(Vec::new()))
            }
            ExprKind::DictComp(k, v, clauses) => {
                (CompElt::Dict(k, v), clauses, CompOut::Dict(Vec::new()))
            }
            _ => return Ok(Value::None),
        };
        self.scopes.push(Vec::new());
        let r = self.comp(clauses, 0, elt, &mut out);
        self.scopes.pop();
        r?;
        match out {
            CompOut::List(v) => self.make_list(v).map_err(|f| f.at(e.span)),
            CompOut::Dict(v) => self.make_dict(v).map_err(|f| f.at(e.span)),
        }
    }

    fn eval_all(&mut self, items: &[Expr]) -> LResult<Vec<Value>> {
        let mut v = Vec::with_capacity(items.len());
        for x in items {
            v.push(self.eval(x)?);
        }
        Ok(v)
    }

    fn comp(
        &mut self,
        clauses: &[CompFor],
        k: usize,
        elt: CompElt<'_>,
        out: &mut CompOut,
    ) -> LResult<()> {
        let Some(clause) = clauses.get(k) else {
            match (elt, out) {
                (CompElt::List(e), CompOut::List(v)) => {
                    let x = self.eval(e)?;
                    if v.len() >= self.budget.max_seq_len {
                        return Err(limit_err(format!(
                            "list comprehension produces more than {} elements",
                            self.budget.max_seq_len
                        ))
                        .at(e.span));
                    }
                    v.push(x);
                }
                (CompElt::Dict(ke, ve), CompOut::Dict(v)) => {
                    let kx = self.eval(ke)?;
                    let vx = self.eval(ve)?;
                    if v.len() >= self.budget.max_seq_len {
                        return Err(limit_err("dict comprehension is too large").at(ke.span));
                    }
                    v.push((kx, vx));
                }
                _ => {}
            }
            return Ok(());
        };
        let itv = self.eval(&clause.iter)?;
        let mut it = PyIter::new(&itv, &mut self.budget).map_err(|f| f.at(clause.iter.span))?;
        while let Some(item) = it
            .next(&mut self.budget)
            .map_err(|f| f.at(clause.iter.span))?
        {
            self.charge(1, clause.target.span)?;
            self.assign(&clause.target, item, true)?;
            let mut keep = true;
            for cond in &clause.ifs {
                let c = self.eval(cond)?;
                if !self.truthy(&c, cond.span)? {
                    keep = false;
                    break;
                }
            }
            if keep {
                self.comp(clauses, k + 1, elt, out)?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum CompElt<'a> {
    List(&'a Expr),
    Dict(&'a Expr, &'a Expr),
}

enum CompOut {
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

fn is_container(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Method(_) | Value::Object(_)
    )
}

/// Identity of a mutable container (list or dict).
fn container_ptr(v: &Value) -> Option<*const ()> {
    match v {
        Value::List(l) => Some(Rc::as_ptr(l) as *const ()),
        Value::Dict(d) => Some(Rc::as_ptr(d) as *const ()),
        _ => None,
    }
}

/// A weak handle used to tell whether a recorded container is still the
/// one at that address.
enum Tracked {
    List(Weak<RefCell<Vec<Value>>>),
    Dict(Weak<RefCell<Vec<(Value, Value)>>>),
}

impl Tracked {
    fn of(v: &Value) -> Option<Tracked> {
        match v {
            Value::List(l) => Some(Tracked::List(Rc::downgrade(l))),
            Value::Dict(d) => Some(Tracked::Dict(Rc::downgrade(d))),
            _ => None,
        }
    }

    fn alive_at(&self, ptr: *const ()) -> bool {
        match self {
            Tracked::List(w) => w.strong_count() > 0 && w.as_ptr() as *const () == ptr,
            Tracked::Dict(w) => w.strong_count() > 0 && w.as_ptr() as *const () == ptr,
        }
    }
}

fn slice_part(v: &Value) -> R<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        Value::Array(a) => {
            let a = a.try_borrow().map_err(|_| value_err("array is in use"))?;
            if a.len() == 1 && a.ndim() == 0 && a.dtype != array::DType::Float {
                Ok(Some(a.at(0) as i64))
            } else {
                Err(type_err("slice indices must be integers or None"))
            }
        }
        _ => Err(type_err(format!(
            "slice indices must be integers or None, not {}",
            v.type_label()
        ))),
    }
}

pub(crate) enum SeqIdx {
    One(usize),
    Many(Vec<usize>),
}

/// Resolves a Python sequence index (int or slice).
pub(crate) fn seq_index(idx: &Value, len: usize, what: &str) -> R<SeqIdx> {
    match idx {
        Value::Int(_) | Value::Bool(_) => {
            let i = i128::from(idx.as_i64().unwrap_or(0));
            let n = len as i128;
            let j = if i < 0 { i + n } else { i };
            if j < 0 || j >= n {
                return Err(index_err(format!("{what} index out of range")));
            }
            Ok(SeqIdx::One(j as usize))
        }
        Value::Slice(s) => {
            let (start, step, count) = array::slice_indices(s[0], s[1], s[2], len)?;
            let v = (0..count)
                .map(|k| (start + step * k as i128).clamp(0, len as i128) as usize)
                .collect();
            Ok(SeqIdx::Many(v))
        }
        _ => Err(type_err(format!(
            "{} indices must be integers or slices, not {}",
            what.trim_end_matches(" assignment"),
            idx.type_label()
        ))),
    }
}

fn range_at(r: &[i64; 3], i: usize) -> R<i64> {
    let v = i128::from(r[0]) + i128::from(r[2]) * i as i128;
    i64::try_from(v).map_err(|_| value_err("range value out of range"))
}

/// `repr()` for error messages, bounded.
pub(crate) fn short_repr(v: &Value) -> String {
    let mut s = String::new();
    match v {
        Value::Str(x) => s = py_str_repr(x),
        _ => {
            if crate::value::repr_into(v, &mut s, 0, &mut 200).is_err() {
                s.push_str("...");
            }
        }
    }
    s
}
