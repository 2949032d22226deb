//! A radix heap: a monotone priority queue over `u32` keys, for Dijkstra's search.
//!
//! Dijkstra only ever inserts keys no smaller than the last one popped (edge weights are
//! non-negative), and a radix heap uses that: an entry lives in the bucket named by the
//! highest bit in which its key differs from the last key popped, so bucket 0 holds the keys
//! equal to it and bucket `b` those that first differ at bit `b - 1`. Popping takes from
//! bucket 0; when it is empty, the lowest non-empty bucket is split by its own minimum, and
//! every entry moves to a lower bucket. Each entry moves at most 32 times, and the buckets
//! are plain vectors (no sifting through a million-entry tree), which is what makes it
//! faster than `BinaryHeap` for the cost-to-go over a whole grid.
//!
//! Non-negative `f32`s order like their bit patterns, so `f32::to_bits` is a valid key.

/// A monotone min-queue of `(key, item)` pairs.
#[derive(Debug)]
pub(crate) struct RadixHeap {
    /// The last key popped (every key in the heap is `>=` it).
    last: u32,
    buckets: [Vec<(u32, u32)>; 33],
}

impl RadixHeap {
    /// An empty heap (its floor is key 0).
    pub(crate) fn new() -> Self {
        Self {
            last: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }

    #[inline]
    fn bucket(last: u32, key: u32) -> usize {
        (u32::BITS - (key ^ last).leading_zeros()) as usize
    }

    /// Inserts `item` with `key`. A key below the last one popped would break the order; it
    /// is raised to it (Dijkstra never asks for that: its keys only grow).
    #[inline]
    pub(crate) fn push(&mut self, key: u32, item: u32) {
        debug_assert!(key >= self.last, "radix heap keys must not decrease");
        let key = key.max(self.last);
        self.buckets[Self::bucket(self.last, key)].push((key, item));
    }

    /// Removes an entry with the least key. Entries with equal keys come out in no
    /// particular order.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u32, u32)> {
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            let mut moved = std::mem::take(&mut self.buckets[i]);
            self.last = moved.iter().map(|e| e.0).min()?;
            for e in &moved {
                self.buckets[Self::bucket(self.last, e.0)].push(*e);
            }
            // Keep the allocation: this bucket fills again later.
            moved.clear();
            self.buckets[i] = moved;
        }
        self.buckets[0].pop()
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Against `BinaryHeap` under Dijkstra's pattern: each round pops the least key and
        /// pushes a few keys at or above it; the popped keys agree one for one.
        #[test]
        fn pops_in_the_order_of_a_binary_heap(
            seeds in prop::collection::vec(0u32..1_000, 1..8),
            rounds in prop::collection::vec(prop::collection::vec(0u32..5_000, 0..6), 0..200),
        ) {
            let mut r = RadixHeap::new();
            let mut b = BinaryHeap::new();
            for (i, k) in seeds.iter().enumerate() {
                r.push(*k, i as u32);
                b.push(Reverse(*k));
            }
            let mut rounds = rounds.into_iter();
            loop {
                let (got, want) = (r.pop().map(|e| e.0), b.pop().map(|Reverse(k)| k));
                prop_assert_eq!(got, want);
                let Some(k) = got else {
                    break;
                };
                prop_assert_eq!(r.len(), b.len());
                for d in rounds.next().unwrap_or_default() {
                    let k = k.saturating_add(d);
                    r.push(k, 0);
                    b.push(Reverse(k));
                }
            }
            prop_assert!(r.pop().is_none() && b.pop().is_none());
        }
    }

    #[test]
    fn float_keys_order_like_their_values() {
        let mut r = RadixHeap::new();
        for (i, f) in [3.5f32, 0.0, 1e-30, 2.0, 1e30, 2.0].iter().enumerate() {
            r.push(f.to_bits(), i as u32);
        }
        let mut got = Vec::new();
        while let Some((k, _)) = r.pop() {
            got.push(f32::from_bits(k));
        }
        assert_eq!(got, vec![0.0, 1e-30, 2.0, 2.0, 3.5, 1e30]);
    }
}
