//! The voxel grid over a box workspace, and world <-> voxel conversion.
//!
//! Axes follow VoxPoser: x is back to front, y is left to right, z is bottom to up.
//! World to voxel scales by `(size - 1)`, rounds and clamps (the original's forgiving
//! indexing); the *resolution* used by `cm2index` is `extent / size`, as in the original.

use serde::{Deserialize, Serialize};

/// Smallest and largest number of voxels per axis.
pub const MIN_SIZE: usize = 16;
/// Largest number of voxels per axis.
pub const MAX_SIZE: usize = 256;

/// Default tabletop workspace, metres (about 1.05 x 1.31 x 1.0 m).
pub const DEFAULT_BOUNDS_MIN: [f64; 3] = [-0.275, -0.655, 0.75];
/// Upper corner of the default workspace, metres.
pub const DEFAULT_BOUNDS_MAX: [f64; 3] = [0.775, 0.655, 1.75];

/// A voxel index `[i, j, k]` along x, y, z.
pub type Voxel = [usize; 3];

/// A box workspace cut into `size[0] x size[1] x size[2]` voxels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Lower corner of the workspace, metres.
    pub min: [f64; 3],
    /// Upper corner of the workspace, metres.
    pub max: [f64; 3],
    /// Voxels per axis.
    pub size: [usize; 3],
}

/// Why a grid could not be made.
#[derive(Clone, Debug, PartialEq)]
pub struct GridError(pub String);

impl std::fmt::Display for GridError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for GridError {}

impl Default for Grid {
    fn default() -> Self {
        Self {
            min: DEFAULT_BOUNDS_MIN,
            max: DEFAULT_BOUNDS_MAX,
            size: [100; 3],
        }
    }
}

impl Grid {
    /// A grid over `[min, max]` with `size` voxels per axis; checks bounds and sizes.
    pub fn new(min: [f64; 3], max: [f64; 3], size: [usize; 3]) -> Result<Self, GridError> {
        for a in 0..3 {
            let axis = ["x", "y", "z"][a];
            if !(min[a].is_finite() && max[a].is_finite()) || max[a] <= min[a] {
                return Err(GridError(format!(
                    "workspace {axis}: max ({}) must be finite and greater than min ({})",
                    max[a], min[a]
                )));
            }
            if !(MIN_SIZE..=MAX_SIZE).contains(&size[a]) {
                return Err(GridError(format!(
                    "grid size along {axis} is {}; it must be between {MIN_SIZE} and {MAX_SIZE}",
                    size[a]
                )));
            }
        }
        Ok(Self { min, max, size })
    }

    /// The default workspace at `n` voxels per axis.
    pub fn cubic(n: usize) -> Result<Self, GridError> {
        Self::new(DEFAULT_BOUNDS_MIN, DEFAULT_BOUNDS_MAX, [n; 3])
    }

    /// Total number of voxels.
    pub fn len(&self) -> usize {
        self.size[0] * self.size[1] * self.size[2]
    }

    /// Never true for a valid grid; present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Extent of the workspace along each axis, metres.
    pub fn extent(&self) -> [f64; 3] {
        [0, 1, 2].map(|a| self.max[a] - self.min[a])
    }

    /// Resolution per axis in metres, `extent / size` (what `cm2index` divides by).
    pub fn resolution(&self) -> [f64; 3] {
        let e = self.extent();
        [0, 1, 2].map(|a| e[a] / self.size[a] as f64)
    }

    /// Flat index of a voxel, C order (x slowest, z fastest).
    #[inline]
    pub fn index(&self, v: Voxel) -> usize {
        (v[0] * self.size[1] + v[1]) * self.size[2] + v[2]
    }

    /// The voxel of a flat index.
    #[inline]
    pub fn voxel(&self, idx: usize) -> Voxel {
        let k = idx % self.size[2];
        let j = (idx / self.size[2]) % self.size[1];
        let i = idx / (self.size[1] * self.size[2]);
        [i, j, k]
    }

    /// Continuous voxel coordinates of a world point (no rounding, no clamping).
    pub fn world_to_voxel_f(&self, p: [f64; 3]) -> [f64; 3] {
        [0, 1, 2]
            .map(|a| (p[a] - self.min[a]) / (self.max[a] - self.min[a]) * (self.size[a] - 1) as f64)
    }

    /// The voxel of a world point: scale by `size - 1`, round, clamp (forgiving).
    pub fn world_to_voxel(&self, p: [f64; 3]) -> Voxel {
        self.clamp_voxel_f(self.world_to_voxel_f(p))
    }

    /// World position of (possibly fractional) voxel coordinates.
    pub fn voxel_to_world_f(&self, v: [f64; 3]) -> [f64; 3] {
        [0, 1, 2]
            .map(|a| self.min[a] + v[a] / (self.size[a] - 1) as f64 * (self.max[a] - self.min[a]))
    }

    /// World position of a voxel centre.
    pub fn voxel_to_world(&self, v: Voxel) -> [f64; 3] {
        self.voxel_to_world_f(v.map(|x| x as f64))
    }

    /// Forgiving indexing: round to nearest, negative to 0, overflow to `size - 1`; NaN to 0.
    pub fn clamp_voxel_f(&self, v: [f64; 3]) -> Voxel {
        [0, 1, 2].map(|a| clamp_index(v[a], self.size[a]))
    }

    /// Forgiving indexing of signed integer coordinates.
    pub fn clamp_voxel_i(&self, v: [i64; 3]) -> Voxel {
        [0, 1, 2].map(|a| v[a].clamp(0, self.size[a] as i64 - 1) as usize)
    }

    /// Whether signed coordinates lie inside the grid.
    #[inline]
    pub fn contains_i(&self, v: [i64; 3]) -> bool {
        (0..3).all(|a| v[a] >= 0 && v[a] < self.size[a] as i64)
    }

    /// VoxPoser's `cm2index(cm, axis)`: `trunc(cm / resolution_cm[axis])`.
    pub fn cm2index(&self, cm: f64, axis: usize) -> i64 {
        let res_cm = self.resolution()[axis] * 100.0;
        (cm / res_cm).trunc() as i64
    }

    /// VoxPoser's `cm2index(cm, direction)`: the direction is normalised and each axis
    /// component truncated separately. A zero direction gives zeros.
    pub fn cm2index_dir(&self, cm: f64, dir: [f64; 3]) -> [i64; 3] {
        let n = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
        if n == 0.0 || !n.is_finite() {
            return [0; 3];
        }
        let res = self.resolution();
        [0, 1, 2].map(|a| (cm * dir[a] / n / (res[a] * 100.0)).trunc() as i64)
    }

    /// VoxPoser's `index2cm(index, axis)`: `index * resolution_cm[axis]`.
    pub fn index2cm(&self, index: f64, axis: usize) -> f64 {
        index * self.resolution()[axis] * 100.0
    }
}

/// Round a coordinate to the nearest index and clamp it into `[0, size)`; NaN maps to 0.
#[inline]
pub fn clamp_index(x: f64, size: usize) -> usize {
    if x.is_nan() {
        return 0;
    }
    x.round().clamp(0.0, (size - 1) as f64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_grid_resolution_matches_reference() {
        let g = Grid::default();
        let r = g.resolution();
        assert!((r[0] - 0.0105).abs() < 1e-9);
        assert!((r[1] - 0.0131).abs() < 1e-9);
        assert!((r[2] - 0.0100).abs() < 1e-9);
    }

    #[test]
    fn cm2index_truncates() {
        let g = Grid::default();
        // 10 cm / 1.05 cm = 9.52 -> 9 ; 10 / 1.31 = 7.63 -> 7 ; 10 / 1.0 = 10 (exactly, up to fp)
        assert_eq!(g.cm2index(10.0, 0), 9);
        assert_eq!(g.cm2index(10.0, 1), 7);
        assert_eq!(g.cm2index(5.5, 2), 5);
        assert_eq!(g.cm2index(-10.0, 0), -9, "truncation is toward zero");
        assert_eq!(g.cm2index_dir(10.0, [0.0, 0.0, -2.0]), [0, 0, -10]);
        assert_eq!(g.cm2index_dir(10.0, [1.0, 1.0, 0.0]), [6, 5, 0]);
        assert!((g.index2cm(9.0, 0) - 9.45).abs() < 1e-9);
    }

    #[test]
    fn forgiving_conversion_clamps_and_rounds() {
        let g = Grid::default();
        assert_eq!(g.world_to_voxel(g.min), [0, 0, 0]);
        assert_eq!(g.world_to_voxel(g.max), [99, 99, 99]);
        assert_eq!(g.world_to_voxel([-5.0, 5.0, 0.0]), [0, 99, 0]);
        assert_eq!(g.clamp_voxel_f([1.4, 1.6, -3.0]), [1, 2, 0]);
        assert_eq!(g.clamp_voxel_f([f64::NAN, 1e9, 98.5]), [0, 99, 99]);
        let v = [12, 40, 77];
        assert_eq!(g.world_to_voxel(g.voxel_to_world(v)), v);
        assert_eq!(g.voxel(g.index(v)), v);
    }

    #[test]
    fn sizes_are_checked() {
        assert!(Grid::cubic(15).is_err());
        assert!(Grid::cubic(257).is_err());
        assert!(Grid::new([0.0; 3], [1.0, 0.0, 1.0], [32; 3]).is_err());
        assert!(Grid::new([0.0; 3], [1.0; 3], [16, 100, 256]).is_ok());
    }
}
