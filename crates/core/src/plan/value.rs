//! The value planner: cost-to-go over the voxel graph, followed downhill.
//!
//! Edges join 26-connected voxels (8 in the plane when pushing) with weight
//! `len * (STEP_COST + (c(u) + c(v)) / 2)`. An A* search from the start towards the target
//! set settles every voxel on the optimal path with its exact cost-to-come; following the
//! parent pointers back is following the value function downhill. The heuristic
//! `h(v) = H(d(v))`, with `d` the Euclidean distance to the nearest target and
//! `H(d) = STEP_COST * d + integral_0^d max(0, a s - b) ds`, is consistent: `d` is
//! 1-Lipschitz, `max(0, a s - b)` is convex and below the cost, so along any edge the
//! trapezoid weight dominates the increase of `H`. The search is therefore exact
//! (Dijkstra-optimal) while expanding only a fraction of the grid.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{PathPlan, Problem, REACH_TOLERANCE, STEP_COST, edge_weight, unit_offsets};
use crate::grid::Voxel;

/// Heuristic from the distance to the nearest target.
#[inline]
fn heuristic(d: f32, (a, b): (f32, f32)) -> f32 {
    let mut h = STEP_COST * d;
    if a > 0.0 {
        let s0 = (b / a).max(0.0); // where a s - b crosses zero
        if d > s0 {
            // integral_{s0}^{d} (a s - b) ds
            h += 0.5 * a * (d * d - s0 * s0) - b * (d - s0);
        }
    }
    // Keep a margin for float rounding so consistency survives f32 arithmetic.
    (h * 0.999).max(0.0)
}

/// Plans from `p.start` to the nearest-by-cost target.
pub fn plan(p: &Problem<'_>) -> PathPlan {
    let g = p.grid;
    let n = g.len();
    let start = g.index(p.start);
    let offsets: Vec<([i64; 3], isize, f32)> = unit_offsets(p.planar)
        .into_iter()
        .map(|o| {
            let flat = (o[0] * g.size[1] as i64 + o[1]) * g.size[2] as i64 + o[2];
            let len = ((o[0] * o[0] + o[1] * o[1] + o[2] * o[2]) as f32).sqrt();
            (o, flat as isize, len)
        })
        .collect();

    let mut dist = vec![f32::INFINITY; n];
    let mut parent = vec![u32::MAX; n];
    let mut closed = vec![false; n];
    let mut heap: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
    dist[start] = 0.0;
    heap.push(Reverse((
        key(heuristic(p.target_distance[start], p.lower_bound)),
        start as u32,
    )));
    let mut expanded = 0usize;
    let mut goal: Option<usize> = None;
    // The closest-to-target voxel settled so far, for the unreachable case.
    let mut closest = (p.target_distance[start], start);

    while let Some(Reverse((_, u))) = heap.pop() {
        let u = u as usize;
        if closed[u] {
            continue;
        }
        closed[u] = true;
        expanded += 1;
        if p.target[u] {
            goal = Some(u);
            break;
        }
        if p.target_distance[u] < closest.0 {
            closest = (p.target_distance[u], u);
        }
        let uv = g.voxel(u);
        let du = dist[u];
        let cu = p.cost[u];
        let u_blocked = p.blocked[u];
        for &(o, flat, len) in &offsets {
            let w = [
                uv[0] as i64 + o[0],
                uv[1] as i64 + o[1],
                uv[2] as i64 + o[2],
            ];
            if !g.contains_i(w) {
                continue;
            }
            let v = (u as isize + flat) as usize;
            if closed[v] || (p.blocked[v] && !u_blocked) {
                continue;
            }
            let nd = du + edge_weight(len, cu, p.cost[v]);
            if nd < dist[v] {
                dist[v] = nd;
                parent[v] = u as u32;
                let f = nd + heuristic(p.target_distance[v], p.lower_bound);
                heap.push(Reverse((key(f), v as u32)));
            }
        }
    }

    let end = goal.unwrap_or(closest.1);
    let mut rev = vec![end];
    let mut cur = end;
    while cur != start {
        let par = parent[cur];
        if par == u32::MAX {
            break;
        }
        cur = par as usize;
        rev.push(cur);
    }
    rev.reverse();
    let search_path: Vec<Voxel> = rev.iter().map(|&i| g.voxel(i)).collect();
    PathPlan::along_voxels(
        search_path,
        p.target_distance[end] <= REACH_TOLERANCE,
        expanded,
    )
}

/// Order-preserving key of a non-negative finite float.
#[inline]
fn key(f: f32) -> u32 {
    f.max(0.0).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{self, CostInput, Movable};
    use crate::field::Field;
    use crate::grid::Grid;
    use crate::plan::{greedy, path_measure};
    use proptest::prelude::*;

    /// Plain multi-target Dijkstra from the start over the same graph: the optimum.
    fn dijkstra_optimum(p: &Problem<'_>) -> f32 {
        let g = p.grid;
        let mut dist = vec![f32::INFINITY; g.len()];
        let s = g.index(p.start);
        dist[s] = 0.0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((key(0.0), s as u32)));
        while let Some(Reverse((_, u))) = heap.pop() {
            let u = u as usize;
            let uv = g.voxel(u);
            if p.target[u] {
                return dist[u];
            }
            for o in unit_offsets(p.planar) {
                let w = [
                    uv[0] as i64 + o[0],
                    uv[1] as i64 + o[1],
                    uv[2] as i64 + o[2],
                ];
                if !g.contains_i(w) {
                    continue;
                }
                let v = g.index(w.map(|x| x as usize));
                if p.blocked[v] && !p.blocked[u] {
                    continue;
                }
                let len = ((o[0] * o[0] + o[1] * o[1] + o[2] * o[2]) as f32).sqrt();
                let nd = dist[u] + edge_weight(len, p.cost[u], p.cost[v]);
                if nd < dist[v] {
                    dist[v] = nd;
                    heap.push(Reverse((key(nd), v as u32)));
                }
            }
        }
        f32::INFINITY
    }

    fn random_problem(n: usize, seed: u64, walls: usize) -> (Grid, Field, Field, Vec<usize>) {
        let g = Grid::cubic(n).unwrap_or_default();
        let mut s = seed | 1;
        let mut rnd = move |m: usize| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % m as u64) as usize
        };
        let mut aff = Field::zeros(g);
        let t = [n - 3 - rnd(4), rnd(n), rnd(n)];
        aff.set(t, 1.0);
        let mut avoid = Field::zeros(g);
        for _ in 0..walls {
            let (i, j0, k0) = (4 + rnd(n - 8), rnd(n), rnd(n));
            for j in j0.saturating_sub(4)..(j0 + 4).min(n) {
                for k in k0.saturating_sub(6)..(k0 + 6).min(n) {
                    avoid.set([i, j, k], 1.0);
                }
            }
        }
        (g, aff, avoid, Vec::new())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn astar_is_optimal_reaches_and_avoids(seed in any::<u64>(), walls in 0usize..5) {
            let (g, aff, avoid, col) = random_problem(16, seed, walls);
            let start = [1, 8, 8];
            let maps = cost::compose(&CostInput { affordance: &crate::paint::Map::from(aff.clone()), avoidance: &crate::paint::Map::from(avoid.clone()), collision: &col, movable: Movable::Gripper(start) })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut blocked: Vec<bool> = maps.obstacle.data.iter().map(|&x| x > 0.5).collect();
            blocked[g.index(start)] = false;
            let p = Problem { grid: g, cost: &maps.cost.data, target: &maps.target, target_distance: &maps.target_distance,
                blocked: &blocked, lower_bound: maps.lower_bound, start, planar: false };
            let v = plan(&p);
            let opt = dijkstra_optimum(&p);
            if opt.is_finite() {
                prop_assert!(v.reached);
                let m = path_measure(&p, &v.search_path) as f32;
                prop_assert!((m - opt).abs() <= 1e-3 * opt.max(1.0), "A* {m} vs Dijkstra {opt}");
                for w in &v.search_path[1..] { prop_assert!(!blocked[g.index(*w)]); }
                let gr = greedy::plan(&p);
                if gr.reached {
                    let mut gp = gr.search_path.clone();
                    if let Some(t) = crate::plan::nearest_target(&g, &maps.target, gp.last().map(|l| l.map(|x| x as f64)).unwrap_or([0.0; 3])) { gp.push(t); }
                    prop_assert!(m as f64 <= path_measure(&p, &gp) + 1e-4);
                }
            } else {
                // Unreachable: the plan stops at the reachable voxel closest to a target.
                prop_assert!(v.search_path.iter().all(|w| !maps.target[g.index(*w)]));
            }
        }
    }
}
