//! Resource limits and the running budget that enforces them.

use crate::error::{R, limit_err};

/// Resource limits for one run (see [`crate::run`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of operations: every executed statement and scalar
    /// operation costs 1, array operations cost their element count, and
    /// building sequences costs their length.
    pub max_ops: u64,
    /// Maximum number of elements (array elements, list/tuple/dict
    /// entries) allocated in total over the run. Checked before allocating.
    pub max_alloc_elements: u64,
    /// Maximum nesting: brackets, operators, chained calls/subscripts and
    /// indented blocks (checked by the parser and again by [`crate::run`]),
    /// and the nesting depth of lists/tuples/dicts built at run time.
    /// Clamped to [`MAX_DEPTH_CAP`].
    ///
    /// Each level needs at most about 15 KiB of native stack in unoptimized
    /// builds and about 2.5 KiB in optimized ones, so the default (64) fits
    /// comfortably in a 1 MiB thread stack and the cap in a 2 MiB one.
    pub max_depth: usize,
    /// Maximum length of a single list, tuple, range, string or dict.
    pub max_seq_len: usize,
}

/// Hard upper bound applied to [`Limits::max_depth`] so that the native
/// stack can never overflow, whatever limit is requested.
pub const MAX_DEPTH_CAP: usize = 100;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ops: 300_000_000,
            max_alloc_elements: 64_000_000,
            max_depth: 64,
            max_seq_len: 1_000_000,
        }
    }
}

impl Limits {
    pub(crate) fn depth(&self) -> usize {
        self.max_depth.clamp(1, MAX_DEPTH_CAP)
    }
}

/// A forgiving index (see [`crate::NdArray::forgiving`]) outside its axis, clamped into it
/// as VoxPoser's maps do. Recorded so that a host can say so: the program's arithmetic
/// pointed outside the grid, and what it painted or read lies on the grid's edge instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClampedIndex {
    /// The axis.
    pub axis: usize,
    /// The index as the program gave it (after rounding a float).
    pub index: f64,
    /// The axis's length (the index used is 0 or `size - 1`).
    pub size: usize,
}

impl ClampedIndex {
    /// How many distinct clamped indices a run keeps.
    pub const KEPT: usize = 8;
}

/// The work and allocation budget of a running program. Host functions
/// receive it so that their own work counts against the same limits.
#[derive(Debug, Clone)]
pub struct Budget {
    /// The first few forgiving indices that were clamped into range, and how many were.
    clamped: Vec<ClampedIndex>,
    clamped_count: u64,
    ops: u64,
    max_ops: u64,
    allocated: u64,
    max_alloc: u64,
    pub(crate) max_seq_len: usize,
    exhausted: bool,
}

impl Budget {
    /// A fresh budget for `limits`.
    pub fn new(limits: &Limits) -> Budget {
        Budget {
            clamped: Vec::new(),
            clamped_count: 0,
            ops: 0,
            max_ops: limits.max_ops,
            allocated: 0,
            max_alloc: limits.max_alloc_elements,
            max_seq_len: limits.max_seq_len,
            exhausted: false,
        }
    }

    /// Records a forgiving index that was clamped into range (the first
    /// [`ClampedIndex::KEPT`] are kept; all are counted).
    pub(crate) fn note_clamp(&mut self, c: ClampedIndex) {
        self.clamped_count += 1;
        if self.clamped.len() < ClampedIndex::KEPT && !self.clamped.contains(&c) {
            self.clamped.push(c);
        }
    }

    /// The clamped indices recorded so far, and how many there were in all.
    pub fn clamped(&self) -> (&[ClampedIndex], u64) {
        (&self.clamped, self.clamped_count)
    }

    /// Charges `n` operations. Fails once the total exceeds
    /// [`Limits::max_ops`].
    pub fn charge_ops(&mut self, n: u64) -> Result<(), String> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.max_ops {
            self.exhausted = true;
            return Err(format!(
                "operation budget exhausted: the program ran more than {} operations (is there an endless loop?)",
                self.max_ops
            ));
        }
        Ok(())
    }

    /// Reserves `elements` newly allocated elements. Call this *before*
    /// allocating. Fails once the total exceeds
    /// [`Limits::max_alloc_elements`].
    pub fn alloc(&mut self, elements: u64) -> Result<(), String> {
        let total = self.allocated.saturating_add(elements);
        if total > self.max_alloc {
            self.exhausted = true;
            return Err(format!(
                "allocation budget exhausted: allocating {elements} more elements would exceed the limit of {} elements in total",
                self.max_alloc
            ));
        }
        self.allocated = total;
        Ok(())
    }

    /// Operations charged so far.
    pub fn ops_used(&self) -> u64 {
        self.ops
    }

    /// Elements allocated so far.
    pub fn allocated(&self) -> u64 {
        self.allocated
    }

    /// Whether a limit has been hit (a host error after this is reported as
    /// a `LimitError`).
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    pub(crate) fn ops(&mut self, n: u64) -> R<()> {
        self.charge_ops(n).map_err(limit_err)
    }

    pub(crate) fn elements(&mut self, n: usize) -> R<()> {
        self.alloc(n as u64).map_err(limit_err)
    }

    /// Checks a sequence length against `max_seq_len` and charges it as
    /// both work and allocation.
    pub(crate) fn seq(&mut self, len: usize) -> R<()> {
        if len > self.max_seq_len {
            self.exhausted = true;
            return Err(limit_err(format!(
                "sequence of length {len} exceeds the limit of {} elements",
                self.max_seq_len
            )));
        }
        self.ops(len as u64)?;
        self.elements(len)
    }

    /// Checks a string length against `max_seq_len` and charges it as work, and as
    /// allocation at four bytes an element (strings kept alive held gigabytes uncharged).
    pub(crate) fn text(&mut self, len: usize) -> R<()> {
        if len > self.max_seq_len {
            self.exhausted = true;
            return Err(limit_err(format!(
                "string of length {len} exceeds the limit of {} characters",
                self.max_seq_len
            )));
        }
        self.ops(len as u64 / 4 + 1)?;
        self.elements(len / 4)
    }
}
