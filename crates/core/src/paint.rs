//! Maps described by how they were painted: a base value, then boxes painted over it in order
//! (the last box over a voxel gives its value).
//!
//! VoxPoser's map programs mostly fill a map (`gripper_map[:, :, :] = 1`), set one voxel
//! (`affordance_map[x, y, z] = 1`) or a box of voxels (`set_voxel_by_radius`). Kept as the
//! list of those primitives, a map costs a few bytes instead of a dense array (a rotation map
//! is 16 MB at 100^3); the planner reads it at a few hundred path voxels, and the GPU paints
//! it where it needs it dense (`valuescape-gpu`'s `paint.wgsl`, tested against
//! [`Painted::to_vec`]). A program that does anything else with a map (reads it, masks it,
//! does arithmetic on it) produces a [`Map::Dense`] one.

use std::borrow::Cow;

use crate::field::Field;
use crate::grid::{Grid, Voxel};

/// One painted box: voxels `lo[a] <= v[a] < hi[a]` on every axis take `value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaintBox<T> {
    /// First voxel of the box (inclusive).
    pub lo: [usize; 3],
    /// One past the last voxel on each axis (exclusive).
    pub hi: [usize; 3],
    /// The value painted.
    pub value: T,
}

impl<T> PaintBox<T> {
    /// Whether the box holds voxel `v`.
    #[inline]
    pub fn contains(&self, v: Voxel) -> bool {
        (0..3).all(|a| self.lo[a] <= v[a] && v[a] < self.hi[a])
    }
}

/// A map as a base value and boxes painted over it, in the order they were painted.
#[derive(Clone, Debug, PartialEq)]
pub struct Painted<T> {
    /// The grid the map lives on.
    pub grid: Grid,
    /// The value of every voxel no box holds.
    pub base: T,
    /// The boxes, in painting order; boxes must lie within the grid (`hi <= grid.size`).
    pub boxes: Vec<PaintBox<T>>,
}

impl<T: Copy> Painted<T> {
    /// A map of `base` everywhere.
    pub fn filled(grid: Grid, base: T) -> Self {
        Self {
            grid,
            base,
            boxes: Vec::new(),
        }
    }

    /// Paints `value` over the box `lo..hi` (clipped to the grid). A box over the whole grid
    /// replaces everything painted before it.
    pub fn paint(&mut self, lo: [usize; 3], hi: [usize; 3], value: T) {
        let hi = [0, 1, 2].map(|a| hi[a].min(self.grid.size[a]));
        if (0..3).any(|a| lo[a] >= hi[a]) {
            return;
        }
        if lo == [0; 3] && hi == self.grid.size {
            self.base = value;
            self.boxes.clear();
        } else {
            self.boxes.push(PaintBox { lo, hi, value });
        }
    }

    /// The value at voxel `v` (the last box holding it, else the base).
    pub fn at(&self, v: Voxel) -> T {
        self.boxes
            .iter()
            .rev()
            .find(|b| b.contains(v))
            .map_or(self.base, |b| b.value)
    }

    /// The dense map, C order (as [`Grid::index`] lays voxels out).
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = vec![self.base; self.grid.len()];
        let [_, ny, nz] = self.grid.size;
        // Boxes reaching past the grid are clipped; empty ones paint nothing.
        let size = self.grid.size;
        for b in self
            .boxes
            .iter()
            .filter(|b| (0..3).all(|a| b.lo[a] < b.hi[a].min(size[a])))
        {
            for x in b.lo[0]..b.hi[0].min(self.grid.size[0]) {
                for y in b.lo[1]..b.hi[1].min(ny) {
                    let row = (x * ny + y) * nz;
                    if let Some(s) = out.get_mut(row + b.lo[2]..row + b.hi[2].min(nz)) {
                        s.fill(b.value);
                    }
                }
            }
        }
        out
    }
}

/// A voxel map: dense, or as it was painted.
#[derive(Clone, Debug, PartialEq)]
pub enum Map<T> {
    /// One value per voxel, C order.
    Dense(Grid, Vec<T>),
    /// A base value and boxes.
    Painted(Painted<T>),
}

impl<T: Copy> Map<T> {
    /// The grid the map lives on.
    pub fn grid(&self) -> Grid {
        match self {
            Map::Dense(g, _) => *g,
            Map::Painted(p) => p.grid,
        }
    }

    /// The value at voxel `v`.
    pub fn at(&self, v: Voxel) -> T {
        match self {
            Map::Dense(g, d) => d[g.index(v)],
            Map::Painted(p) => p.at(v),
        }
    }

    /// The dense values, C order (borrowed when the map is dense).
    pub fn values(&self) -> Cow<'_, [T]>
    where
        [T]: ToOwned<Owned = Vec<T>>,
    {
        match self {
            Map::Dense(_, d) => Cow::Borrowed(d),
            Map::Painted(p) => Cow::Owned(p.to_vec()),
        }
    }

    /// The dense values, C order.
    pub fn into_values(self) -> Vec<T> {
        match self {
            Map::Dense(_, d) => d,
            Map::Painted(p) => p.to_vec(),
        }
    }

    /// The painting, when the map is one.
    pub fn painted(&self) -> Option<&Painted<T>> {
        match self {
            Map::Dense(..) => None,
            Map::Painted(p) => Some(p),
        }
    }
}

impl Map<f32> {
    /// The map as a dense field (borrowing nothing: a copy when the map is dense).
    pub fn to_field(&self) -> Field {
        Field {
            grid: self.grid(),
            data: self.values().into_owned(),
        }
    }

    /// The map as a dense field.
    pub fn into_field(self) -> Field {
        Field {
            grid: self.grid(),
            data: self.into_values(),
        }
    }
}

impl From<Field> for Map<f32> {
    fn from(f: Field) -> Self {
        Map::Dense(f.grid, f.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grid(size: [usize; 3]) -> Grid {
        Grid {
            size,
            ..Grid::default()
        }
    }

    #[test]
    fn a_box_over_the_whole_grid_replaces_what_was_painted() {
        let mut p = Painted::filled(grid([4, 5, 6]), 0.0f32);
        p.paint([1, 1, 1], [2, 2, 2], 3.0);
        p.paint([0, 0, 0], [9, 9, 9], 1.0);
        assert!(p.boxes.is_empty());
        assert_eq!(p.base, 1.0);
        p.paint([3, 0, 0], [3, 5, 6], 7.0);
        assert!(p.boxes.is_empty(), "an empty box paints nothing");
    }

    proptest! {
        /// `at` and `to_vec` agree with painting the boxes one by one into a dense array.
        #[test]
        fn painting_is_last_writer_wins(
            size in prop::array::uniform3(1usize..7),
            boxes in prop::collection::vec(
                (prop::array::uniform3(0usize..8), prop::array::uniform3(0usize..9), -3i32..4),
                0..8,
            ),
        ) {
            let g = grid(size);
            let mut p = Painted::filled(g, -1.0f32);
            let mut dense = vec![-1.0f32; g.len()];
            for (lo, hi, v) in boxes {
                p.paint(lo, hi, v as f32);
                for (i, d) in dense.iter_mut().enumerate() {
                    let vox = g.voxel(i);
                    if (0..3).all(|a| lo[a] <= vox[a] && vox[a] < hi[a]) {
                        *d = v as f32;
                    }
                }
            }
            prop_assert_eq!(&p.to_vec(), &dense);
            for (i, d) in dense.iter().enumerate() {
                prop_assert_eq!(p.at(g.voxel(i)), *d);
            }
        }
    }
}
