//! VoxPoser's original greedy planner, kept faithful (see REFERENCE.md):
//!
//! up to 300 steps; each step looks at every neighbour within Chebyshev radius 2 (124 in
//! 3-D, the 24 of the horizontal plane when an object is pushed) and moves to the cheapest,
//! adding +1 to the cost of the voxel it left; it stops when no neighbour is cheaper than
//! `current + 0.001` (and, here, as soon as it stands on a target voxel). The path is then
//! smoothed (Savitzky-Golay, window `min(len, 20)` made odd, order 3), cut at 0.9x the index
//! where curvature first exceeds 3 after the 5th point, the nearest target voxel appended,
//! and every 5th point kept for pushed objects.
//!
//! `reached` is judged on the descent itself, before the target is appended: appending the
//! target is how the original hides its stall.

use super::{PathPlan, Problem, REACH_TOLERANCE, nearest_target, savgol};
use crate::grid::Voxel;

/// Maximum descent steps.
pub const MAX_STEPS: usize = 300;
/// Stop when no neighbour is cheaper than `current + STOP_THRESHOLD`.
pub const STOP_THRESHOLD: f32 = 0.001;
/// Curvature above which the path is cut.
pub const CURVATURE_CUT: f64 = 3.0;

/// Plans with the original's greedy descent.
pub fn plan(p: &Problem<'_>) -> PathPlan {
    let g = p.grid;
    let mut cost = p.cost.to_vec();
    let mut offsets = Vec::new();
    for dx in -2..=2i64 {
        for dy in -2..=2i64 {
            for dz in -2..=2i64 {
                if (dx, dy, dz) == (0, 0, 0) || (p.planar && dz != 0) {
                    continue;
                }
                offsets.push([dx, dy, dz]);
            }
        }
    }
    let mut cur = p.start;
    let mut path: Vec<Voxel> = vec![cur];
    let mut expanded = 0;
    for _ in 0..MAX_STEPS {
        let ci = g.index(cur);
        if p.target[ci] {
            break;
        }
        let mut best: Option<(f32, Voxel)> = None;
        for o in &offsets {
            let w = [
                cur[0] as i64 + o[0],
                cur[1] as i64 + o[1],
                cur[2] as i64 + o[2],
            ];
            if !g.contains_i(w) {
                continue;
            }
            let v = w.map(|x| x as usize);
            let c = cost[g.index(v)];
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, v));
            }
        }
        expanded += 1;
        let Some((bc, next)) = best else { break };
        if bc >= cost[ci] + STOP_THRESHOLD {
            break;
        }
        cost[ci] += 1.0;
        cur = next;
        path.push(cur);
    }
    let last = *path.last().unwrap_or(&p.start);
    let reached = p.target_distance[g.index(last)] <= REACH_TOLERANCE;

    let raw: Vec<[f64; 3]> = path.iter().map(|v| v.map(|x| x as f64)).collect();
    let mut pts = savgol::smooth(&raw, raw.len().min(20), 3);
    if let Some(i) = first_sharp_turn(&pts) {
        let cut = ((0.9 * i as f64) as usize).max(1);
        pts.truncate(cut);
    }
    if let Some(t) = pts.last().and_then(|&l| nearest_target(&g, p.target, l)) {
        pts.push(t.map(|x| x as f64));
    }
    if p.planar && pts.len() > 2 {
        let last = pts.last().copied();
        pts = pts.iter().step_by(5).copied().collect();
        if let Some(l) = last.filter(|l| pts.last() != Some(l)) {
            pts.push(l);
        }
    }
    PathPlan {
        points: pts,
        search_path: path,
        reached,
        expanded,
    }
}

/// First index after the 5th point where the discrete curvature exceeds [`CURVATURE_CUT`].
fn first_sharp_turn(pts: &[[f64; 3]]) -> Option<usize> {
    let d1 = gradient(pts);
    let d2 = gradient(&d1);
    (5..pts.len()).find(|&i| {
        let (a, b) = (d1[i], d2[i]);
        let cross = [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ];
        let num = (cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]).sqrt();
        let speed = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
        speed > 0.0 && num / speed.powi(3) > CURVATURE_CUT
    })
}

/// numpy's `gradient` along the path: central differences inside, one-sided at the ends.
fn gradient(p: &[[f64; 3]]) -> Vec<[f64; 3]> {
    let n = p.len();
    (0..n)
        .map(|i| {
            if n < 2 {
                [0.0; 3]
            } else if i == 0 {
                [0, 1, 2].map(|a| p[1][a] - p[0][a])
            } else if i == n - 1 {
                [0, 1, 2].map(|a| p[n - 1][a] - p[n - 2][a])
            } else {
                [0, 1, 2].map(|a| 0.5 * (p[i + 1][a] - p[i - 1][a]))
            }
        })
        .collect()
}
