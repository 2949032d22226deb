//! Planners: from a cost map to a voxel path.
//!
//! - [`value`]: the default. A cost-to-go (value function) over the 26-connected voxel
//!   graph, computed by an A* search whose heuristic is a provable lower bound derived from
//!   the cost map's own distance term, and followed downhill. It reaches a target whenever
//!   one is reachable and never enters a voxel marked as an obstacle.
//! - [`greedy`]: VoxPoser's original descent (Chebyshev-2 neighbourhood, +1 tabu,
//!   threshold 0.001, 300 steps, Savitzky-Golay, curvature cut, target snap), kept faithful
//!   so its known stall can be shown.
//!
//! [`path_measure`] is the accumulated cost the value planner minimises; it lets any path be
//! compared with the value planner's.

pub mod field_value;
pub mod greedy;
pub mod mppi;
mod radix;
pub mod savgol;
pub mod value;

use crate::grid::{Grid, Voxel};

/// The base cost per voxel of path length, added to the cost map along the path.
pub const STEP_COST: f32 = 0.05;
/// A path ends "at the target" when it is within this many voxels of a target voxel.
pub const REACH_TOLERANCE: f32 = 2.0;

/// One planning problem.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    /// The grid.
    pub grid: Grid,
    /// The cost map (one value per voxel).
    pub cost: &'a [f32],
    /// Target mask.
    pub target: &'a [bool],
    /// Distance (voxels) from each voxel to the nearest target.
    pub target_distance: &'a [f32],
    /// Voxels the path must not enter (obstacles after the clearings). A path that starts
    /// inside a blocked region may leave it.
    pub blocked: &'a [bool],
    /// `(a, b)`: `cost >= max(0, a * target_distance - b)` everywhere.
    pub lower_bound: (f32, f32),
    /// Where the moving entity starts.
    pub start: Voxel,
    /// Move in the horizontal plane only (pushing an object).
    pub planar: bool,
}

/// A planned path.
#[derive(Clone, Debug, Default)]
pub struct PathPlan {
    /// The waypoints in voxel coordinates (fractional after smoothing).
    pub points: Vec<[f64; 3]>,
    /// The voxel path the search itself produced (before any post-processing).
    pub search_path: Vec<Voxel>,
    /// Whether the search path ends within [`REACH_TOLERANCE`] of a target.
    pub reached: bool,
    /// Voxels expanded by the search.
    pub expanded: usize,
}

impl PathPlan {
    /// A plan whose waypoints are the search path's voxels themselves (no smoothing).
    pub fn along_voxels(search_path: Vec<Voxel>, reached: bool, expanded: usize) -> Self {
        Self {
            points: search_path.iter().map(|v| v.map(|x| x as f64)).collect(),
            search_path,
            reached,
            expanded,
        }
    }
}

/// Neighbour offsets: 26 in 3-D, 8 in the plane (unit Chebyshev radius).
pub(crate) fn unit_offsets(planar: bool) -> Vec<[i64; 3]> {
    let mut v = Vec::new();
    for dx in -1..=1i64 {
        for dy in -1..=1i64 {
            for dz in -1..=1i64 {
                if (dx, dy, dz) == (0, 0, 0) || (planar && dz != 0) {
                    continue;
                }
                v.push([dx, dy, dz]);
            }
        }
    }
    v
}

/// The edge weight the value planner uses: length times (step cost + mean of the two costs).
#[inline]
pub fn edge_weight(len: f32, cu: f32, cv: f32) -> f32 {
    len * (STEP_COST + 0.5 * (cu + cv))
}

/// The accumulated cost of a voxel path, as the value planner measures it: each jump is
/// split into unit (26-connected) steps along the straight line, each step costs
/// [`edge_weight`], and entering a blocked voxel from a free one costs infinity.
pub fn path_measure(p: &Problem<'_>, path: &[Voxel]) -> f64 {
    path_measure_with(&p.grid, path, |i| Some((p.cost[i], p.blocked[i]))).unwrap_or(f64::INFINITY)
}

/// [`path_measure`] with each voxel's cost and blocked flag from `at` (by flat index), for
/// a caller that holds them only along the path (a GPU plan reads back its path's voxels,
/// not the maps). `None` where `at` knows no voxel the path, split into unit steps, visits.
pub fn path_measure_with(
    grid: &Grid,
    path: &[Voxel],
    mut at: impl FnMut(usize) -> Option<(f32, bool)>,
) -> Option<f64> {
    let dense = densify(path);
    let mut total = 0f64;
    for w in dense.windows(2) {
        let (u, v) = (w[0], w[1]);
        let ((cu, bu), (cv, bv)) = (at(grid.index(u))?, at(grid.index(v))?);
        if bv && !bu {
            return Some(f64::INFINITY);
        }
        let len = ((0..3)
            .map(|a| (u[a] as f64 - v[a] as f64).powi(2))
            .sum::<f64>())
        .sqrt();
        total += edge_weight(len as f32, cu, cv) as f64;
    }
    Some(total)
}

/// Splits every jump of a voxel path into unit (Chebyshev 1) steps along the straight line.
pub fn densify(path: &[Voxel]) -> Vec<Voxel> {
    let mut out: Vec<Voxel> = Vec::with_capacity(path.len() * 2);
    for (n, &v) in path.iter().enumerate() {
        if n == 0 {
            out.push(v);
            continue;
        }
        let u = path[n - 1];
        let d: [i64; 3] = [0, 1, 2].map(|a| v[a] as i64 - u[a] as i64);
        let steps = d.iter().map(|x| x.abs()).max().unwrap_or(0);
        for s in 1..=steps {
            let t = s as f64 / steps as f64;
            let p = [0, 1, 2].map(|a| (u[a] as f64 + t * d[a] as f64).round() as usize);
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Nearest target voxel to a point (by scanning the target mask).
pub fn nearest_target(grid: &Grid, target: &[bool], p: [f64; 3]) -> Option<Voxel> {
    let mut best: Option<(f64, Voxel)> = None;
    for (i, _) in target.iter().enumerate().filter(|(_, t)| **t) {
        let v = grid.voxel(i);
        let d: f64 = (0..3).map(|a| (v[a] as f64 - p[a]).powi(2)).sum();
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, v));
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn densify_splits_jumps_into_unit_steps() {
        let d = densify(&[[0, 0, 0], [2, 1, 0], [2, 1, 2]]);
        assert_eq!(d.first(), Some(&[0, 0, 0]));
        assert_eq!(d.last(), Some(&[2, 1, 2]));
        for w in d.windows(2) {
            let cheb = (0..3)
                .map(|a| (w[0][a] as i64 - w[1][a] as i64).abs())
                .max();
            assert_eq!(cheb, Some(1));
        }
        assert_eq!(d.len(), 5);
    }
}
