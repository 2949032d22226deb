//! # valuescape-lang
//!
//! A small, sandboxed, deterministic interpreter for the Python subset that
//! VoxPoser's generated "map programs" are written in, e.g.
//!
//! ```python
//! affordance_map = get_empty_affordance_map()
//! blue_block = parse_query_obj('blue block')
//! x, y, z = blue_block.position
//! z = blue_block.aabb[1][2] + cm2index(10, 'z')
//! affordance_map[x, y, z] = 1
//! ret_val = affordance_map
//! ```
//!
//! Programs are parsed with [`parse`] and executed with [`run`] against a
//! [`Host`] that supplies the domain functions (`parse_query_obj`,
//! `get_empty_affordance_map`, ...). Pure Rust, no `unsafe`, no I/O: it runs
//! natively and on `wasm32-unknown-unknown`.
//!
//! ```
//! use valuescape_lang::{parse, run, Limits, NoHost, Value};
//!
//! let program = parse("import numpy as np\nm = np.zeros((3, 3))\nm[1, :] = 2\nret_val = m.sum()").unwrap();
//! let out = run(&program, &mut NoHost, &Limits::default(), vec![]).unwrap();
//! assert_eq!(out.get("ret_val").and_then(Value::as_f64), Some(6.0));
//! ```
//!
//! ## Language subset
//!
//! * **Statements**: expressions, assignment (chained `a = b = c`, tuple /
//!   list unpacking, subscript targets), augmented assignment (`+= -= *= /=
//!   //= %= **= &= |= ^= <<= >>=`), `if`/`elif`/`else`, `for` (with
//!   `break`/`continue`/`else`), `while` (bounded by the operation budget),
//!   `pass`, `assert`, `del`, `import numpy [as np]`, `import math`,
//!   `from math import pi, sqrt`, `from numpy import ...`. Annotated
//!   assignments (`x: int = 1`) ignore the annotation.
//! * **Not supported** (a `SyntaxError` with a span, never a crash): `def`,
//!   `class`, `lambda`, `try`, `with`, `global`, `nonlocal`, `raise`,
//!   `async`, `yield`, `return`, decorators, f-strings, bytes, complex
//!   numbers, set literals, walrus, starred expressions, `*args`/`**kwargs`
//!   in calls. Importing any module other than `numpy`/`math` is a
//!   `NameError` naming the module: there is no file, OS, time or random
//!   access.
//! * **Expressions**: arithmetic with Python semantics (`/` gives float,
//!   `//` floors, `%` takes the divisor's sign, integer overflow and
//!   division by zero are errors), comparisons with chaining, `in`, `is`,
//!   `and`/`or`/`not` with short-circuit and Python truthiness (a
//!   multi-element array has no truth value, like numpy), conditional
//!   expressions, calls with keyword arguments, attributes, subscripts and
//!   slices, list/tuple/dict literals, list and dict comprehensions (also
//!   generator expressions, evaluated eagerly as lists).
//! * **Built-ins**: `len range int float bool str repr abs min max round sum
//!   list tuple dict enumerate zip sorted reversed any all isinstance print
//!   map filter pow divmod hasattr getattr format`; list, dict, tuple and
//!   string methods (`append`, `get`, `split`, `join`, `format`, ...); the
//!   `math` module.
//! * **numpy**: arrays ([`NdArray`]) with `f32` storage and a
//!   [`DType`] tag (`Bool`, `Int`, `Float`). Full broadcasting for
//!   arithmetic, comparison and bitwise operators; numpy dtype promotion
//!   (Bool/Int op Int gives Int except `/`, anything with Float gives Float;
//!   note Bool + Bool gives Int here). Indexing with integers, slices,
//!   `...`, `None`, boolean masks (`a[a > 0.5] = 1`) and integer index arrays
//!   (`a[xs, ys, zs] = 1`, not mixed with slices). Many `np` functions:
//!   `array zeros ones full *_like arange linspace eye mean sum min max
//!   argmin argmax std var median abs sqrt exp log sin cos tan arctan2 ...
//!   floor ceil round clip maximum minimum where nonzero dot cross outer
//!   linalg.norm isclose allclose stack concatenate vstack hstack reshape
//!   transpose unique sort`, dtype names (`np.int32`, `np.float32`,
//!   `np.uint8`, ...), and array methods/properties (`shape ndim size dtype
//!   T copy astype tolist sum mean min max reshape flatten any all item
//!   ...`). Integer arrays are exact up to 2^24. In-place operators on an
//!   array (`m += 1`, `m[i] *= 2`) modify it and keep its dtype (values are
//!   converted like `astype`).
//! * **Forgiving indexing**: when [`NdArray::forgiving`] is set (hosts set it
//!   on voxel maps), every integer or float index is rounded to the nearest
//!   integer (ties to even, like Python's `round`) and clamped into
//!   `[0, size-1]`, so `m[x, y, z + 100] = 1` paints the top layer instead
//!   of failing; each clamped scalar index is recorded ([`Outcome::clamped`])
//!   so that the host can say so. Slices keep Python semantics (their bounds must be
//!   integers). Without the flag, numpy semantics apply: float indices are
//!   a `TypeError`, negative indices wrap, out of range is an `IndexError`.
//!   The flag is kept by copies of the same rank: `.copy()`, `astype`,
//!   slices that keep all dimensions, `np.zeros_like`, `np.clip`, and
//!   elementwise results whose shape equals the forgiving operand's.
//! * **Views**: indexing returns copies. Assignment writes through a single
//!   subscript (`m[i, j:k] = v`) and through chains of integer indices
//!   (`m[x][y][z] = 1`); a chain containing slices (`m[:, 0][2] = 1`) is an
//!   error instead of silently modifying a copy. Lists, dicts and arrays
//!   are shared by reference, as in Python.
//!
//! * **Painted arrays**: a host may hand out an array as a [`Painting`] (a base value and
//!   boxes, [`Value::painted`]). While the program only assigns numbers (or inner vectors)
//!   to integer/slice subscripts of it, binds it to other names or passes it to host
//!   functions that take paintings ([`Host::painted_argument`]), it stays a painting; the first
//!   other use makes it dense in place, for every alias. Results, clamped indices and errors
//!   are those of the dense array (a property test runs random programs both ways).
//!
//! ## Errors
//!
//! Errors are [`LangError`]s with an [`ErrorKind`], a message and the
//! [`Span`] of the failing construct; `Display` gives e.g.
//! `line 2, column 7: NameError: name 'blu_block' is not defined`.
//! Python's `AttributeError` and argument errors map to `TypeError`,
//! `KeyError` to `IndexError`, `ZeroDivisionError`, `OverflowError` and
//! failed `assert`s to `ValueError`; an unavailable module is a
//! `NameError`; an `Err` returned by a host function is a `HostError` at
//! the call.
//!
//! Values use `Rc`/`RefCell` internally, so programs, values and outcomes
//! stay on the thread that created them.
//!
//! ## Limits and robustness
//!
//! Every run is bounded by [`Limits`]: an operation budget (each statement
//! and scalar operation costs 1, array operations cost their element
//! count), a cumulative allocation budget (checked *before* allocating), a
//! nesting limit (parser nesting, and the depth of nested lists/dicts built
//! at run time; cyclic structures are rejected) and a maximum sequence
//! length. Exceeding a limit is a [`ErrorKind::Limit`] error. The
//! interpreter never panics on any input: every error is a [`LangError`]
//! with the [`Span`] of the narrowest failing construct.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod array;
mod ast;
mod budget;
mod builtins;
mod error;
mod interp;
mod lexer;
mod numpy;
mod ops;
mod painted;
mod parser;
mod value;

use std::rc::Rc;

pub use array::{DType, MAX_NDIM, NdArray};
pub use budget::{Budget, ClampedIndex, Limits, MAX_DEPTH_CAP};
pub use error::{ErrorKind, LangError, Span};
pub use interp::{Host, NoHost, Outcome, run};
pub use painted::{MAX_BOXES, PaintBox, Painted, PaintedState, Painting, paint_box};
pub use value::{Object, Value};

/// A parsed program. Cheap to clone; keeps its source text.
#[derive(Debug, Clone)]
pub struct Program {
    source: Rc<str>,
    body: Rc<Vec<ast::Stmt>>,
    /// Deepest nesting level reached while parsing.
    max_nesting: usize,
    /// Where that nesting was reached.
    deepest: Span,
    /// Interned variable names (indexed by `ast::Name::id`).
    symbols: Rc<Vec<Rc<str>>>,
}

impl Program {
    /// The source text the program was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of top-level statements.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the program has no statements.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

/// Parses a map program with the default nesting limit
/// ([`Limits::default`]`.max_depth`).
pub fn parse(src: &str) -> Result<Program, LangError> {
    parse_with_limits(src, &Limits::default())
}

/// Parses a map program with the nesting limit of `limits`.
pub fn parse_with_limits(src: &str, limits: &Limits) -> Result<Program, LangError> {
    let tokens = lexer::tokenize(src)?;
    let parsed = parser::parse_tokens(tokens, limits.depth())?;
    Ok(Program {
        source: Rc::from(src),
        body: Rc::new(parsed.body),
        max_nesting: parsed.max_nesting,
        deepest: parsed.deepest,
        symbols: Rc::new(parsed.symbols),
    })
}
