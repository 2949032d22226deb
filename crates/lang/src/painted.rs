//! Lazily painted arrays: an array kept as a base value and the boxes assigned over it,
//! made dense the first time the program does anything else with it.
//!
//! A host hands one out ([`Value::painted`]) where a program usually only paints: VoxPoser's
//! `get_empty_affordance_map()` is followed by `affordance_map[x, y, z] = 1` and
//! `ret_val = affordance_map`. The program sees an ordinary array; the host gets back the
//! [`Painting`] instead of a dense array of a million voxels.
//!
//! What stays lazy:
//! * assignment to a subscript of the variable itself (`m[x, y, z] = 1`, `m[:, :, 5:] = v`)
//!   whose index is integers, floats (forgiving arrays) and slices of step 1, one per outer
//!   dimension or fewer (the rest taken whole), and whose value is a number or an array of the
//!   inner shape (`rotation_map[x, y, z] = q`, with leading size-1 dimensions allowed);
//! * binding the variable, or a host function's result, to names (`ret_val = m`,
//!   `m = get_empty_affordance_map()`);
//! * passing the variable to a host function that asks for it ([`crate::Host::painted_argument`]).
//!
//! Anything else that reads the variable (an operator, a method, an attribute, an argument of
//! a built-in, a chained or masked index, an in-place operator), or a host function's painting
//! used in an expression (`get_empty_avoidance_map() + 0`), makes it dense first, in place,
//! so every alias sees the same dense array and the program runs exactly as it would on a
//! dense array. Indices are resolved by the dense array's own rules, clamped indices of
//! forgiving arrays are noted the same way, and errors say the same things.
//!
//! Limits are the exception: a lazy paint costs one operation, and a painting's allocation
//! (and each element its boxes assigned) is charged when it is made dense. So a program uses
//! at most the budget its dense run would, and one that only paints uses far less.

use std::cell::RefCell;
use std::rc::Rc;

use crate::array::{self, DType, IndexItem, NdArray};
use crate::budget::Budget;
use crate::error::{R, limit_err, value_err};

/// Boxes a painting keeps before it is made dense (the GPU paints each voxel by looking
/// through the boxes).
pub const MAX_BOXES: usize = 256;

/// One box painted over a [`Painting`]: outer indices `lo[d] <= i[d] < hi[d]` take `value`
/// (one value per inner element).
#[derive(Debug, Clone, PartialEq)]
pub struct PaintBox {
    /// First index per outer dimension.
    pub lo: Vec<usize>,
    /// One past the last index per outer dimension.
    pub hi: Vec<usize>,
    /// The inner values painted (`inner_len` of them).
    pub value: Vec<f32>,
}

/// A float array of shape `outer ++ inner` as a base value and boxes painted over it in
/// order, each box over the outer dimensions with one value per inner element.
#[derive(Debug, Clone, PartialEq)]
pub struct Painting {
    /// The outer dimensions (the boxes cover these).
    pub outer: Vec<usize>,
    /// The inner dimensions (each outer element holds this much, e.g. `[4]` for a quaternion).
    pub inner: Vec<usize>,
    /// The inner values of every element no box holds.
    pub base: Vec<f32>,
    /// The boxes, in painting order.
    pub boxes: Vec<PaintBox>,
    /// Whether the array indexes forgivingly ([`NdArray::forgiving`]).
    pub forgiving: bool,
}

impl Painting {
    /// A painting of `base` everywhere; `None` if `base` does not hold one value per inner
    /// element, an inner dimension is empty, there is no outer dimension or the shape has too
    /// many dimensions.
    pub fn filled(
        outer: Vec<usize>,
        inner: Vec<usize>,
        base: Vec<f32>,
        forgiving: bool,
    ) -> Option<Painting> {
        (base.len() == inner.iter().product::<usize>()
            && !base.is_empty()
            && outer.len() + inner.len() <= array::MAX_NDIM
            && !outer.is_empty())
        .then_some(Painting {
            outer,
            inner,
            base,
            boxes: Vec::new(),
            forgiving,
        })
    }

    /// The whole shape.
    pub fn shape(&self) -> Vec<usize> {
        self.outer.iter().chain(&self.inner).copied().collect()
    }

    fn inner_len(&self) -> usize {
        self.base.len()
    }

    /// Paints `value` over the outer box `lo..hi` (already within the array). A box over
    /// everything replaces the base and the boxes before it.
    fn push(&mut self, lo: Vec<usize>, hi: Vec<usize>, value: Vec<f32>) {
        if lo.iter().zip(&hi).any(|(l, h)| l >= h) {
            return;
        }
        if lo.iter().all(|&l| l == 0) && hi == self.outer {
            self.base = value;
            self.boxes.clear();
        } else {
            self.boxes.push(PaintBox { lo, hi, value });
        }
    }

    /// Whether a box is one this painting can hold (its fields are public: a host may have
    /// built one by hand). Others are left out of the dense array.
    fn holds(&self, b: &PaintBox) -> bool {
        b.lo.len() == self.outer.len()
            && b.hi.len() == self.outer.len()
            && b.value.len() == self.inner_len()
            && (0..self.outer.len()).all(|d| b.lo[d] < b.hi[d] && b.hi[d] <= self.outer[d])
    }

    /// The dense array. The caller charges the budget.
    pub fn to_array(&self) -> NdArray {
        let n: usize = self.outer.iter().product();
        let mut data = self.base.repeat(n);
        for b in self.boxes.iter().filter(|b| self.holds(b)) {
            fill_box(&mut data, &self.outer, &b.lo, &b.hi, &b.value);
        }
        NdArray {
            shape: self.shape(),
            data,
            dtype: DType::Float,
            forgiving: self.forgiving,
        }
    }
}

/// Whether a box of `lo..hi` corners and `value` fits an array of `outer` dimensions holding
/// `inner` values each: the same words for a painting and for a dense array.
fn check_box(
    outer: usize,
    inner: usize,
    lo: &[usize],
    hi: &[usize],
    value: &[f32],
) -> Result<(), String> {
    if lo.len() != outer || hi.len() != outer {
        return Err(format!(
            "a box needs {outer} bounds per corner, got {} and {}",
            lo.len(),
            hi.len()
        ));
    }
    if value.len() != inner || inner == 0 {
        return Err(format!(
            "the box's value needs {inner} numbers, got {}",
            value.len()
        ));
    }
    Ok(())
}

#[derive(Debug)]
enum State {
    Lazy(Painting),
    Dense(Rc<RefCell<NdArray>>),
}

/// What a [`Painted`] value holds now.
#[derive(Debug, Clone)]
pub enum PaintedState {
    /// Still a painting.
    Lazy(Painting),
    /// Made dense (the program read it, or painted more than [`MAX_BOXES`] boxes).
    Dense(Rc<RefCell<NdArray>>),
}

/// A lazily painted array (see the module docs), shared by reference like an array.
#[derive(Debug)]
pub struct Painted {
    state: RefCell<State>,
}

impl Painted {
    /// Wraps a painting.
    pub fn new(p: Painting) -> Painted {
        Painted {
            state: RefCell::new(State::Lazy(p)),
        }
    }

    /// What the value holds now (a painting is cloned: a few boxes).
    pub fn state(&self) -> PaintedState {
        match &*self.state.borrow() {
            State::Lazy(p) => PaintedState::Lazy(p.clone()),
            State::Dense(rc) => PaintedState::Dense(rc.clone()),
        }
    }

    /// The array's shape.
    pub fn shape(&self) -> Vec<usize> {
        match &*self.state.borrow() {
            State::Lazy(p) => p.shape(),
            State::Dense(rc) => rc.try_borrow().map(|a| a.shape.clone()).unwrap_or_default(),
        }
    }

    /// Whether the value is still a painting.
    pub fn is_lazy(&self) -> bool {
        matches!(&*self.state.borrow(), State::Lazy(_))
    }

    /// The dense array, made now (in place, charged to `budget`) if the value is still a
    /// painting.
    pub fn dense(&self, budget: &mut Budget) -> Result<Rc<RefCell<NdArray>>, String> {
        let mut st = self
            .state
            .try_borrow_mut()
            .map_err(|_| "the map is in use")?;
        let rc = match &*st {
            State::Dense(rc) => return Ok(rc.clone()),
            State::Lazy(p) => {
                // Charged as the dense array would have been: its allocation, and each
                // element a box assigned.
                let n: usize = p.shape().iter().product();
                budget.alloc(n as u64)?;
                let painted: usize = p
                    .boxes
                    .iter()
                    .filter(|b| p.holds(b))
                    .map(|b| {
                        b.lo.iter()
                            .zip(&b.hi)
                            .map(|(l, h)| h - l)
                            .product::<usize>()
                    })
                    .sum();
                budget.charge_ops((painted * p.inner_len()) as u64)?;
                Rc::new(RefCell::new(p.to_array()))
            }
        };
        *st = State::Dense(rc.clone());
        Ok(rc)
    }

    pub(crate) fn dense_r(&self, budget: &mut Budget) -> R<Rc<RefCell<NdArray>>> {
        self.dense(budget).map_err(|m| {
            if budget.is_exhausted() {
                limit_err(m)
            } else {
                value_err(m)
            }
        })
    }

    /// Paints `value` (one per inner element) over the outer box `lo..hi`, clipped to the
    /// array: lazily while the value is a painting with room for the box, else into the
    /// dense array. Hosts use it for their own painting functions.
    pub fn paint(
        &self,
        lo: &[usize],
        hi: &[usize],
        value: &[f32],
        budget: &mut Budget,
    ) -> Result<(), String> {
        {
            let mut st = self
                .state
                .try_borrow_mut()
                .map_err(|_| "the map is in use")?;
            if let State::Lazy(p) = &mut *st {
                // Checked as `paint_box` checks a dense array of this shape.
                let shape = p.shape();
                let inner = shape
                    .get(lo.len()..)
                    .ok_or("the box has more dimensions than the array")?
                    .iter()
                    .product();
                check_box(lo.len(), inner, lo, hi, value)?;
                if lo.len() == p.outer.len() && p.boxes.len() < MAX_BOXES {
                    let hi: Vec<usize> = hi.iter().zip(&p.outer).map(|(&h, &s)| h.min(s)).collect();
                    p.push(lo.to_vec(), hi, value.to_vec());
                    return Ok(());
                }
            }
        }
        let rc = self.dense(budget)?;
        let mut a = rc.try_borrow_mut().map_err(|_| "the map is in use")?;
        paint_box(&mut a, lo, hi, value, budget)
    }

    /// Assigns `value` at `items` lazily if it can: `Ok(false)` when the index or value is
    /// not a box (the caller then makes the array dense and assigns as usual).
    pub(crate) fn try_paint_index(
        &self,
        items: &[IndexItem],
        value: &NdArray,
        budget: &mut Budget,
    ) -> R<bool> {
        let mut st = self
            .state
            .try_borrow_mut()
            .map_err(|_| value_err("array is in use"))?;
        let State::Lazy(p) = &mut *st else {
            return Ok(false);
        };
        if p.boxes.len() >= MAX_BOXES || value.check().is_err() {
            return Ok(false);
        }
        // Index: numbers and step-1 slices over (some of) the outer dimensions, then at most
        // full slices or one trailing ellipsis.
        let nd = p.outer.len();
        let mut outer_items = Vec::new();
        let mut rest_full = true;
        for (k, item) in items.iter().enumerate() {
            let paintable = match item {
                IndexItem::Int(_) | IndexItem::Float(_) => true,
                IndexItem::Slice(_, _, step) => step.unwrap_or(1) == 1,
                IndexItem::Ellipsis => k + 1 == items.len(),
                _ => false,
            };
            if !paintable {
                return Ok(false);
            }
            if matches!(item, IndexItem::Ellipsis) {
                continue;
            }
            if k < nd {
                outer_items.push(item);
            } else {
                rest_full &= matches!(item, IndexItem::Slice(None, None, _));
            }
        }
        let indexed = items
            .iter()
            .filter(|i| !matches!(i, IndexItem::Ellipsis))
            .count();
        if !rest_full || indexed > nd + p.inner.len() {
            return Ok(false);
        }
        // The value: one number, or exactly the inner shape after leading 1s (both broadcast
        // to any selection whose trailing dimensions are the inner ones).
        let trimmed = array::without_leading_ones(&value.shape);
        let vals: Vec<f32> = if value.data.len() == 1 {
            value.data.repeat(p.inner_len())
        } else if trimmed == p.inner {
            value.data.clone()
        } else {
            return Ok(false);
        };
        let mut lo = vec![0; nd];
        let mut hi = p.outer.clone();
        for (d, item) in outer_items.iter().enumerate() {
            let size = p.outer[d];
            match item {
                IndexItem::Slice(a, b, _) => {
                    let (start, _, count) = array::slice_indices(*a, *b, Some(1), size)?;
                    let start = usize::try_from(start).unwrap_or(0).min(size);
                    lo[d] = start;
                    hi[d] = (start + count).min(size);
                }
                _ => {
                    let i = array::resolve_noting(item, size, d, p.forgiving, budget)?;
                    lo[d] = i;
                    hi[d] = i + 1;
                }
            }
        }
        budget.ops(1)?;
        p.push(lo, hi, vals);
        Ok(true)
    }
}

/// Writes `value` over the outer box `lo..hi` (clipped to the array) of a dense array whose
/// trailing dimensions hold `value.len()` elements, charging each element written to
/// `budget`. What [`Painted::paint`] does once the array is dense; hosts use it for their
/// painting functions on ordinary arrays.
pub fn paint_box(
    a: &mut NdArray,
    lo: &[usize],
    hi: &[usize],
    value: &[f32],
    budget: &mut Budget,
) -> Result<(), String> {
    let nd = lo.len();
    let outer = a
        .shape
        .get(..nd)
        .ok_or("the box has more dimensions than the array")?;
    let k: usize = a.shape[nd..].iter().product();
    check_box(nd, k, lo, hi, value)?;
    let hi: Vec<usize> = hi.iter().zip(outer).map(|(&h, &s)| h.min(s)).collect();
    if lo.iter().zip(&hi).any(|(l, h)| l >= h) {
        return Ok(());
    }
    let count: usize = lo.iter().zip(&hi).map(|(l, h)| h - l).product();
    budget.charge_ops((count * k) as u64)?;
    fill_box(&mut a.data, outer, lo, &hi, value);
    Ok(())
}

/// Writes `value` (one per inner element) over the outer box `lo..hi` (non-empty, within
/// `outer`) of a C-order array, a row along the last outer dimension at a time.
fn fill_box(data: &mut [f32], outer: &[usize], lo: &[usize], hi: &[usize], value: &[f32]) {
    let k = value.len();
    if k == 0 {
        return;
    }
    let Some(last) = outer.len().checked_sub(1) else {
        // No outer dimension: the box is the whole array.
        if let Some(s) = data.get_mut(..k) {
            s.copy_from_slice(value);
        }
        return;
    };
    let mut strides = vec![k; outer.len()];
    for d in (0..last).rev() {
        strides[d] = strides[d + 1] * outer[d + 1];
    }
    let mut idx = lo.to_vec();
    loop {
        let start: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        let len = (hi[last] - lo[last]) * k;
        if let Some(row) = data.get_mut(start..start + len) {
            for chunk in row.chunks_exact_mut(k) {
                chunk.copy_from_slice(value);
            }
        }
        // Next row: count through the dimensions before the last.
        let mut d = last;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < hi[d] {
                break;
            }
            idx[d] = lo[d];
        }
    }
}
