//! Dense scalar fields over a [`Grid`]: every value map is one.

use crate::grid::{Grid, Voxel};

/// A dense `f32` value per voxel, C order (x slowest, z fastest), as numpy stores `[nx, ny, nz]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The grid the field lives on.
    pub grid: Grid,
    /// One value per voxel, `grid.len()` long.
    pub data: Vec<f32>,
}

impl Field {
    /// A field filled with `value`.
    pub fn filled(grid: Grid, value: f32) -> Self {
        Self {
            data: vec![value; grid.len()],
            grid,
        }
    }

    /// A field of zeros.
    pub fn zeros(grid: Grid) -> Self {
        Self::filled(grid, 0.0)
    }

    /// Wraps existing data; `None` if the length does not match the grid.
    pub fn from_vec(grid: Grid, data: Vec<f32>) -> Option<Self> {
        (data.len() == grid.len()).then_some(Self { grid, data })
    }

    /// The value at a voxel.
    #[inline]
    pub fn get(&self, v: Voxel) -> f32 {
        self.data[self.grid.index(v)]
    }

    /// Sets the value at a voxel.
    #[inline]
    pub fn set(&mut self, v: Voxel, value: f32) {
        let i = self.grid.index(v);
        self.data[i] = value;
    }

    /// Smallest and largest value, ignoring NaN; `None` for an all-NaN field.
    pub fn min_max(&self) -> Option<(f32, f32)> {
        let mut it = self.data.iter().copied().filter(|x| !x.is_nan());
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
    }

    /// Voxels whose value exceeds `threshold`.
    pub fn voxels_above(&self, threshold: f32) -> Vec<Voxel> {
        self.data
            .iter()
            .enumerate()
            .filter(|(_, x)| **x > threshold)
            .map(|(i, _)| self.grid.voxel(i))
            .collect()
    }
}
