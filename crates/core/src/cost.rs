//! VoxPoser's cost map, composed from the affordance and avoidance maps and the scene:
//!
//! ```text
//! obstacle = clip(avoidance + scene collision (cleared near targets and the movable), 0, 1)
//! cost     = normalize(2 * normalize(EDT(1 - target)) + 1 * normalize(gaussian(obstacle, 10)))
//! ```
//!
//! `normalize` is min-max and leaves a constant map as it is. Target voxels are the voxels
//! whose affordance is 1 (where `1 - affordance` is zero, as the EDT's input has it).

use crate::field::Field;
use crate::grid::{Grid, Voxel};
use crate::paint::{Map, PaintBox, Painted};
use crate::{edt, gaussian};

/// Collision voxels closer than this (voxels) to a target or the movable are cleared.
pub const CLEAR_RADIUS: f32 = 15.0;
/// Half-size (voxels) of the cube cleared around the gripper when the gripper moves.
pub const GRIPPER_CLEAR_HALF: i64 = 10;
/// Weight of the distance-to-target term.
pub const TARGET_WEIGHT: f32 = 2.0;
/// Weight of the obstacle term.
pub const OBSTACLE_WEIGHT: f32 = 1.0;

/// What moves in this step.
#[derive(Clone, Copy, Debug)]
pub enum Movable<'a> {
    /// The end effector, at this voxel.
    Gripper(Voxel),
    /// An object, with these occupied voxels (flat indices).
    Object(&'a [usize]),
}

/// The inputs of one cost composition.
#[derive(Clone, Copy, Debug)]
pub struct CostInput<'a> {
    /// Affordance map (1 = target).
    pub affordance: &'a Map<f32>,
    /// Avoidance map from the program (1 = avoid).
    pub avoidance: &'a Map<f32>,
    /// Scene collision voxels (flat indices), before the clearings.
    pub collision: &'a [usize],
    /// The moving entity.
    pub movable: Movable<'a>,
}

/// The composed maps and what the planners need from them.
#[derive(Clone, Debug)]
pub struct CostMaps {
    /// Target mask (affordance == 1).
    pub target: Vec<bool>,
    /// Number of target voxels.
    pub target_count: usize,
    /// Euclidean distance (voxels) from each voxel to the nearest target.
    pub target_distance: Vec<f32>,
    /// Avoidance plus cleared scene collision, clipped to [0, 1].
    pub obstacle: Field,
    /// The cost map, in [0, 1] unless constant.
    pub cost: Field,
    /// `(a, b)` such that `cost[v] >= max(0, a * target_distance[v] - b)` everywhere; the
    /// value planner's heuristic is built on it.
    pub lower_bound: (f32, f32),
}

impl CostMaps {
    /// The planners' blocked mask: voxels whose obstacle value is above 0.5 and that are not
    /// targets; `start_index` is never blocked (the movable may begin inside an obstacle's
    /// halo).
    pub fn blocked(&self, start_index: usize) -> Vec<bool> {
        let mut b: Vec<bool> = self
            .obstacle
            .data
            .iter()
            .zip(&self.target)
            .map(|(&o, &t)| o > 0.5 && !t)
            .collect();
        if let Some(x) = b.get_mut(start_index) {
            *x = false;
        }
        b
    }

    /// The planning problem over these maps from `start`, with `blocked` (usually
    /// [`CostMaps::blocked`] at the start's index).
    pub fn problem<'a>(
        &'a self,
        blocked: &'a [bool],
        start: Voxel,
        planar: bool,
    ) -> crate::plan::Problem<'a> {
        crate::plan::Problem {
            grid: self.cost.grid,
            cost: &self.cost.data,
            target: &self.target,
            target_distance: &self.target_distance,
            blocked,
            lower_bound: self.lower_bound,
            start,
            planar,
        }
    }
}

/// Why a cost map could not be composed.
#[derive(Clone, Debug, PartialEq)]
pub enum CostError {
    /// The affordance map marks no voxel with 1.
    NoTarget,
    /// The maps do not live on the same grid.
    GridMismatch,
}

impl std::fmt::Display for CostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CostError::NoTarget => f.write_str(
                "the affordance map marks no target voxel (no voxel equals 1): nothing to move towards",
            ),
            CostError::GridMismatch => f.write_str("the affordance and avoidance maps are on different grids"),
        }
    }
}
impl std::error::Error for CostError {}

/// Min-max normalisation in place; a constant (or empty) map is left as it is.
/// Returns `(min, max)` before normalising.
pub fn normalize(data: &mut [f32]) -> (f32, f32) {
    let (lo, hi) = data
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let range = hi - lo;
    if range > 0.0 && range.is_finite() {
        let inv = 1.0 / range;
        for x in data.iter_mut() {
            *x = (*x - lo) * inv;
        }
    }
    (lo, hi)
}

/// The least and greatest value [`normalize`] leaves of a map whose least and greatest were
/// `lo` and `hi`: `(0, 1)` up to rounding, or `(lo, hi)` as they were where it leaves the map
/// as it is (constant, or a range that is not finite).
pub fn normalized_range(lo: f32, hi: f32) -> (f32, f32) {
    let range = hi - lo;
    if range > 0.0 && range.is_finite() {
        // The same arithmetic as `normalize` on the two values (it is monotonic); `lo` is
        // finite here, so it goes to 0 exactly.
        (0.0, range * (1.0 / range))
    } else {
        (lo, hi)
    }
}

/// Whether an affordance value marks a target (`1 - a == 0`).
#[inline]
pub fn is_target(a: f32) -> bool {
    (a - 1.0).abs() < 1e-6
}

/// The scene-collision voxels left after the clearings (flat indices).
pub fn cleared_collision(
    grid: &Grid,
    collision: &[usize],
    target_distance: &[f32],
    movable: Movable<'_>,
) -> Vec<usize> {
    let mut kept = clear_near_movable(grid, collision, movable);
    kept.retain(|&i| target_distance[i] >= CLEAR_RADIUS);
    kept
}

/// The first of [`cleared_collision`]'s clearings alone: the scene-collision voxels inside
/// the grid, less those near the moving entity (what a caller that clears near the targets
/// elsewhere, the GPU, needs; no target distances are read).
pub fn clear_near_movable(grid: &Grid, collision: &[usize], movable: Movable<'_>) -> Vec<usize> {
    let near_movable = movable_clearing(grid, movable);
    collision
        .iter()
        .copied()
        .filter(|&i| i < grid.len() && !near_movable(i))
        .collect()
}

/// A predicate: is this voxel cleared because it is near the moving entity?
fn movable_clearing<'a>(grid: &Grid, movable: Movable<'a>) -> Box<dyn Fn(usize) -> bool + 'a> {
    let g = *grid;
    match movable {
        Movable::Gripper(v) => Box::new(move |i| {
            let u = g.voxel(i);
            (0..3).all(|a| (u[a] as i64 - v[a] as i64).abs() <= GRIPPER_CLEAR_HALF)
        }),
        Movable::Object(voxels) => {
            if voxels.is_empty() {
                return Box::new(|_| false);
            }
            // Distances below CLEAR_RADIUS only depend on voxels inside the movable's box
            // grown by the radius: an EDT over that sub-box is exact there.
            let pad = CLEAR_RADIUS.ceil() as usize;
            let mut lo = [usize::MAX; 3];
            let mut hi = [0usize; 3];
            for &i in voxels {
                let v = g.voxel(i);
                for a in 0..3 {
                    lo[a] = lo[a].min(v[a]);
                    hi[a] = hi[a].max(v[a]);
                }
            }
            let lo: [usize; 3] = [0, 1, 2].map(|a| lo[a].saturating_sub(pad));
            let hi: [usize; 3] = [0, 1, 2].map(|a| (hi[a] + pad).min(g.size[a] - 1));
            let sub = [0, 1, 2].map(|a| hi[a] - lo[a] + 1);
            let mut seeds = vec![false; sub[0] * sub[1] * sub[2]];
            for &i in voxels {
                let v = g.voxel(i);
                seeds[((v[0] - lo[0]) * sub[1] + (v[1] - lo[1])) * sub[2] + (v[2] - lo[2])] = true;
            }
            let d2 = edt::squared_distance(&seeds, sub);
            let r2 = CLEAR_RADIUS * CLEAR_RADIUS;
            Box::new(move |i| {
                let v = g.voxel(i);
                if (0..3).any(|a| v[a] < lo[a] || v[a] > hi[a]) {
                    return false;
                }
                d2[((v[0] - lo[0]) * sub[1] + (v[1] - lo[1])) * sub[2] + (v[2] - lo[2])] < r2
            })
        }
    }
}

/// The target mask of an affordance map ([`is_target`] per voxel); a painted map's is
/// painted the same way, without its values.
pub fn target_mask(affordance: &Map<f32>) -> Vec<bool> {
    match affordance {
        Map::Dense(_, d) => d.iter().map(|&a| is_target(a)).collect(),
        Map::Painted(p) => painted_target_mask(p),
    }
}

/// The target mask of a painted affordance map.
pub fn painted_target_mask(p: &Painted<f32>) -> Vec<bool> {
    Painted {
        grid: p.grid,
        base: is_target(p.base),
        boxes: p
            .boxes
            .iter()
            .map(|b| PaintBox {
                lo: b.lo,
                hi: b.hi,
                value: is_target(b.value),
            })
            .collect(),
    }
    .to_vec()
}

/// The number of target voxels of an affordance map, as [`target_mask`] would count them.
/// A painted map's is counted from its target boxes alone (a voxel counts at the last box
/// that holds it), without a mask of the grid, unless its base is a target.
pub fn target_count(affordance: &Map<f32>) -> usize {
    match affordance {
        Map::Dense(_, d) => d.iter().filter(|&&a| is_target(a)).count(),
        Map::Painted(p) => painted_target_count(p),
    }
}

/// [`target_count`] of a painted affordance map.
pub fn painted_target_count(p: &Painted<f32>) -> usize {
    if is_target(p.base) {
        return painted_target_mask(p).into_iter().filter(|&t| t).count();
    }
    let size = p.grid.size;
    let clip = |b: &PaintBox<f32>| (b.lo, [0, 1, 2].map(|a| b.hi[a].min(size[a])));
    // Each target box with the later boxes that overlap it (they decide the voxels of it
    // they hold).
    let work: Vec<(&PaintBox<f32>, Vec<&PaintBox<f32>>)> = p
        .boxes
        .iter()
        .enumerate()
        .filter(|(_, b)| is_target(b.value))
        .map(|(j, b)| {
            let (lo, hi) = clip(b);
            let later = p.boxes[j + 1..]
                .iter()
                .filter(|l| (0..3).all(|a| l.lo[a] < hi[a] && lo[a] < l.hi[a]))
                .collect();
            (b, later)
        })
        .collect();
    // A voxel visited per later box: where that comes to more than the mask's voxel per
    // voxel of the grid (large target boxes under many others), the mask is cheaper.
    let volume = |b: &PaintBox<f32>| {
        let (lo, hi) = clip(b);
        (0..3)
            .map(|a| hi[a].saturating_sub(lo[a]))
            .product::<usize>()
    };
    let visits: usize = work
        .iter()
        .map(|(b, later)| volume(b).saturating_mul(later.len() + 1))
        .fold(0, usize::saturating_add);
    if visits > 2 * p.grid.len() {
        return painted_target_mask(p).into_iter().filter(|&t| t).count();
    }
    let mut count = 0;
    for (b, later) in work {
        let (lo, hi) = clip(b);
        for x in lo[0]..hi[0] {
            for y in lo[1]..hi[1] {
                for z in lo[2]..hi[2] {
                    if !later.iter().any(|l| l.contains([x, y, z])) {
                        count += 1;
                    }
                }
            }
        }
    }
    count
}

/// Composes the cost map.
pub fn compose(input: &CostInput<'_>) -> Result<CostMaps, CostError> {
    let grid = input.affordance.grid();
    if input.avoidance.grid() != grid {
        return Err(CostError::GridMismatch);
    }
    let target = target_mask(input.affordance);
    let target_count = target.iter().filter(|&&t| t).count();
    if target_count == 0 {
        return Err(CostError::NoTarget);
    }
    let target_distance = edt::distance(&target, grid.size);

    let mut obstacle = input.avoidance.to_field();
    for &i in &cleared_collision(&grid, input.collision, &target_distance, input.movable) {
        obstacle.data[i] += 1.0;
    }
    for x in &mut obstacle.data {
        *x = x.clamp(0.0, 1.0);
    }

    // One pass each: the Gaussian's range, then the raw sum with its range, then the final
    // normalisation (the same arithmetic as normalising each term on its own).
    let gauss = gaussian::voxposer(&obstacle.data, grid.size);
    let edt_max = target_distance.iter().copied().fold(0f32, f32::max);
    let (g_lo, g_hi) = gauss
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let d_scale = if edt_max > 0.0 && edt_max.is_finite() {
        TARGET_WEIGHT / edt_max
    } else {
        TARGET_WEIGHT
    };
    let (g_off, g_scale) = if g_hi > g_lo {
        (g_lo, OBSTACLE_WEIGHT / (g_hi - g_lo))
    } else {
        (0.0, OBSTACLE_WEIGHT)
    };
    let mut cost: Vec<f32> = target_distance
        .iter()
        .zip(&gauss)
        .map(|(&d, &o)| d * d_scale + (o - g_off) * g_scale)
        .collect();
    let (raw_min, raw_max) = normalize(&mut cost);
    // raw >= 2 * d / edt_max (the obstacle term is >= 0), and cost = (raw - raw_min) / range.
    let range = raw_max - raw_min;
    let lower_bound = if range > 0.0 && edt_max > 0.0 {
        let a = TARGET_WEIGHT / (edt_max * range);
        // Shrink a little so f32 rounding never breaks the inequality.
        (a * 0.999, raw_min / range + 1e-5)
    } else {
        (0.0, 0.0)
    };
    Ok(CostMaps {
        target,
        target_count,
        target_distance,
        obstacle,
        cost: Field { grid, data: cost },
        lower_bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> Grid {
        Grid::cubic(n).unwrap_or_default()
    }

    #[test]
    fn normalize_leaves_constant_maps() {
        let mut a = vec![3.0f32; 5];
        normalize(&mut a);
        assert_eq!(a, vec![3.0; 5]);
        let mut b = vec![1.0f32, 3.0, 2.0];
        normalize(&mut b);
        assert_eq!(b, vec![0.0, 1.0, 0.5]);
    }

    #[test]
    fn cost_is_zero_at_isolated_target_and_bounded_below() {
        let g = grid(24);
        let mut aff = Field::zeros(g);
        aff.set([20, 12, 5], 1.0);
        let mut avoid = Field::zeros(g);
        avoid.set([10, 12, 5], 1.0);
        let maps = compose(&CostInput {
            affordance: &Map::from(aff.clone()),
            avoidance: &Map::from(avoid.clone()),
            collision: &[],
            movable: Movable::Gripper([2, 2, 2]),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(maps.target_count, 1);
        let (lo, hi) = maps.cost.min_max().unwrap_or((9.0, 9.0));
        assert!(lo >= 0.0 && (hi - 1.0).abs() < 1e-6);
        let (a, b) = maps.lower_bound;
        for (c, d) in maps.cost.data.iter().zip(&maps.target_distance) {
            assert!(*c >= (a * d - b).max(0.0) - 1e-6);
        }
    }

    proptest::proptest! {
        #[test]
        // Small boxes on a larger grid are counted box by box; large ones on a small grid
        // (and a target base) through the mask.
        fn painted_target_count_counts_the_mask(
            base in proptest::bool::ANY,
            large in proptest::bool::ANY,
            boxes in proptest::collection::vec(
                ([0usize..30, 0usize..30, 0usize..30], [0usize..10, 0usize..10, 0usize..10], 0u8..3),
                0..7,
            ),
        ) {
            let size = if large { [9, 8, 9] } else { [34, 31, 36] };
            let g = Grid::new([0.0; 3], [1.0; 3], size).unwrap_or_default();
            let mut p = Painted::filled(g, if base && large { 1.0 } else { 0.0 });
            for (lo, extent, v) in boxes {
                let (lo, hi) = if large {
                    (lo.map(|x| x % 9), extent)
                } else {
                    (lo, [0, 1, 2].map(|a| lo[a] + extent[a]))
                };
                p.paint(lo, hi, [0.0, 1.0, 0.5][v as usize]);
            }
            let mask = painted_target_mask(&p).into_iter().filter(|&t| t).count();
            proptest::prop_assert_eq!(painted_target_count(&p), mask);
            proptest::prop_assert_eq!(target_count(&Map::Painted(p)), mask);
        }

        #[test]
        // The range a normalised map is drawn over, from its reductions alone, is the range of
        // the map `normalize` leaves, to the bit: constant maps included.
        fn normalized_range_is_the_normalized_maps(
            data in proptest::collection::vec(-1e3f32..1e3, 1..40),
            constant in proptest::bool::ANY,
        ) {
            let mut data = data;
            if constant {
                let c = data[0];
                data.iter_mut().for_each(|x| *x = c);
            }
            let (lo, hi) = normalize(&mut data);
            let got = normalized_range(lo, hi);
            let min = data.iter().copied().fold(f32::INFINITY, f32::min);
            let max = data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            proptest::prop_assert_eq!((got.0.to_bits(), got.1.to_bits()), (min.to_bits(), max.to_bits()));
            proptest::prop_assert_eq!(got.0 == got.1, constant || data.len() == 1 || lo == hi);
        }
    }

    #[test]
    fn no_target_is_an_error() {
        let g = grid(16);
        let f = Field::zeros(g);
        let r = compose(&CostInput {
            affordance: &Map::from(f.clone()),
            avoidance: &Map::from(f.clone()),
            collision: &[],
            movable: Movable::Gripper([0; 3]),
        });
        assert_eq!(r.err(), Some(CostError::NoTarget));
    }

    /// Maps given as the boxes that painted them compose exactly as their dense fields do.
    #[test]
    fn painted_maps_compose_as_their_dense_fields() {
        let g = Grid {
            size: [20, 24, 18],
            ..grid(16)
        };
        let mut aff = Painted::filled(g, 0.0);
        aff.paint([15, 12, 8], [17, 14, 9], 1.0);
        aff.paint([16, 12, 8], [17, 13, 9], 0.5);
        let mut avoid = Painted::filled(g, 0.25);
        avoid.paint([10, 4, 0], [11, 20, 12], 1.0);
        avoid.paint([0, 0, 0], [3, 24, 18], 0.0);
        let collision: Vec<usize> = (0..20).map(|x| g.index([x, 5, 0])).collect();
        let compose_from = |a: Map<f32>, b: Map<f32>| {
            compose(&CostInput {
                affordance: &a,
                avoidance: &b,
                collision: &collision,
                movable: Movable::Gripper([3, 12, 6]),
            })
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let painted = compose_from(Map::Painted(aff.clone()), Map::Painted(avoid.clone()));
        let dense = compose_from(Map::Dense(g, aff.to_vec()), Map::Dense(g, avoid.to_vec()));
        assert_eq!(painted.target_count, 3, "the 0.5 voxel is not a target");
        assert_eq!(painted.target, dense.target);
        assert_eq!(painted.obstacle, dense.obstacle);
        assert_eq!(painted.cost, dense.cost);
        assert_eq!(painted.target_distance, dense.target_distance);
    }

    #[test]
    fn clearings_follow_the_reference() {
        let g = grid(64);
        let mut aff = Field::zeros(g);
        aff.set([50, 30, 10], 1.0);
        let avoid = Field::zeros(g);
        let near_target = g.index([50, 30, 20]); // 10 voxels from the target: cleared
        let far = g.index([30, 30, 40]); // far from both: kept
        let near_gripper = g.index([8, 8, 8]); // inside the +-10 cube around [0,0,0]... at 8: cleared
        let edge_gripper = g.index([11, 0, 0]); // just outside the cube: kept
        let col = [near_target, far, near_gripper, edge_gripper];
        let maps = compose(&CostInput {
            affordance: &Map::from(aff.clone()),
            avoidance: &Map::from(avoid.clone()),
            collision: &col,
            movable: Movable::Gripper([0, 0, 0]),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(maps.obstacle.data[near_target], 0.0);
        assert_eq!(maps.obstacle.data[far], 1.0);
        assert_eq!(maps.obstacle.data[near_gripper], 0.0);
        assert_eq!(maps.obstacle.data[edge_gripper], 1.0);

        // Object movable: within 15 voxels of its occupancy cleared (sub-box EDT exact).
        let obj = [g.index([30, 5, 5])];
        let close = g.index([30, 5, 19]); // 14 away: cleared
        let away = g.index([30, 5, 20]); // 15 away: kept (strictly less than 15 clears)
        let maps = compose(&CostInput {
            affordance: &Map::from(aff.clone()),
            avoidance: &Map::from(avoid.clone()),
            collision: &[close, away],
            movable: Movable::Object(&obj),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(maps.obstacle.data[close], 0.0);
        assert_eq!(maps.obstacle.data[away], 1.0);
    }
}
