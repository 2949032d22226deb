//! The cost-to-go over the whole grid (a value function), and the path that follows it
//! downhill: the CPU reference of the GPU value-iteration kernel.
//!
//! [`cost_to_go`] is an exact multi-source Dijkstra from the target voxels over the same
//! graph as [`super::value`]: 26-connected voxels (8 in the plane when `planar`), edge weight
//! [`edge_weight`] (symmetric in its two ends), and the rule that a path never moves from a
//! free voxel into a blocked one. The search runs backwards (from the targets), so the
//! blocked rule is applied to the reversed edge: `V(y)` may use `V(x) + w` only when the
//! move `y -> x` is allowed, i.e. unless `x` is blocked and `y` is free. `V(start)` therefore
//! equals the cost of the optimal path that [`super::value::plan`] finds.
//!
//! [`descend`] walks from the start to the neighbour minimising `w + V`, which follows an
//! optimal path; it works on any fixed point of the Bellman equations (the GPU's too).

use super::radix::RadixHeap;
use super::{Problem, edge_weight, unit_offsets};
use crate::grid::{Grid, Voxel};

/// A neighbour offset: the step, its flat-index delta and its Euclidean length.
#[derive(Clone, Copy, Debug)]
struct Step {
    off: [i64; 3],
    flat: isize,
    len: f32,
}

fn steps(g: &Grid, planar: bool) -> Vec<Step> {
    unit_offsets(planar)
        .into_iter()
        .map(|o| Step {
            off: o,
            flat: ((o[0] * g.size[1] as i64 + o[1]) * g.size[2] as i64 + o[2]) as isize,
            len: ((o[0] * o[0] + o[1] * o[1] + o[2] * o[2]) as f32).sqrt(),
        })
        .collect()
}

/// The neighbour of flat index `u` (voxel `uv`) by `s`, if it lies inside the grid.
#[inline]
fn neighbour(g: &Grid, u: usize, uv: Voxel, s: &Step) -> Option<usize> {
    let w = [0, 1, 2].map(|a| uv[a] as i64 + s.off[a]);
    g.contains_i(w).then(|| (u as isize + s.flat) as usize)
}

/// Order-preserving key of a non-negative float.
#[inline]
fn key(f: f32) -> u32 {
    f.max(0.0).to_bits()
}

/// The cost-to-go `V` of every voxel: the least accumulated [`edge_weight`] of a path from
/// the voxel to any target voxel (0 at targets, `f32::INFINITY` where none is reachable).
pub fn cost_to_go(p: &Problem<'_>) -> Vec<f32> {
    const CLOSED: u8 = 1;
    const BLOCKED: u8 = 2;
    // On a face of the grid the search moves across: some neighbours are missing there.
    const FACE: u8 = 4;
    let g = p.grid;
    let n = g.len();
    let steps = steps(&g, p.planar);
    // What a step reads of a neighbour lies together: `V` beside the cost (one cache line
    // for a row of three neighbours), and the flags in one byte.
    let mut vc: Vec<[f32; 2]> = p.cost.iter().map(|c| [f32::INFINITY, *c]).collect();
    let mut flags = vec![0u8; n];
    let [ni, nj, nk] = g.size;
    let face = |x: usize, m: usize| x == 0 || x + 1 >= m;
    let mut idx = 0;
    for i in 0..ni {
        for j in 0..nj {
            for k in 0..nk {
                let on_face = face(i, ni) || face(j, nj) || (!p.planar && face(k, nk));
                flags[idx] =
                    if on_face { FACE } else { 0 } | if p.blocked[idx] { BLOCKED } else { 0 };
                idx += 1;
            }
        }
    }
    // Keys only grow (edge weights are positive), so a radix heap serves; it pops in the
    // same key order as a binary heap, and ties cannot change `V` (see `radix`).
    let mut heap = RadixHeap::new();
    for (i, _) in p.target.iter().enumerate().filter(|(_, t)| **t) {
        vc[i][0] = 0.0;
        heap.push(key(0.0), i as u32);
    }
    while let Some((_, x)) = heap.pop() {
        let x = x as usize;
        let fx = flags[x];
        if fx & CLOSED != 0 {
            continue;
        }
        flags[x] = fx | CLOSED;
        let [vx, cx] = vc[x];
        let x_blocked = fx & BLOCKED != 0;
        let xv = if fx & FACE != 0 {
            Some(g.voxel(x))
        } else {
            None
        };
        for s in &steps {
            let y = match xv {
                None => (x as isize + s.flat) as usize,
                Some(xv) => match neighbour(&g, x, xv, s) {
                    Some(y) => y,
                    None => continue,
                },
            };
            let fy = flags[y];
            // The path moves y -> x: not allowed from a free y into a blocked x.
            if fy & CLOSED != 0 || (x_blocked && fy & BLOCKED == 0) {
                continue;
            }
            let [vy, cy] = vc[y];
            let nd = vx + edge_weight(s.len, cy, cx);
            if nd < vy {
                vc[y][0] = nd;
                heap.push(key(nd), y as u32);
            }
        }
    }
    vc.into_iter().map(|[v, _]| v).collect()
}

/// Follows `v` downhill from `p.start`: at each voxel, moves to the allowed neighbour that
/// minimises `edge_weight + V` while `V` strictly decreases, until a target is reached.
/// Returns just the start when `V(start)` is not finite (no target reachable).
pub fn descend(p: &Problem<'_>, v: &[f32]) -> Vec<Voxel> {
    let g = p.grid;
    let steps = steps(&g, p.planar);
    let mut cur = g.index(p.start);
    let mut path = vec![p.start];
    if !v.get(cur).is_some_and(|x| x.is_finite()) {
        return path;
    }
    while !p.target[cur] && path.len() <= g.len() {
        let cv = g.voxel(cur);
        let mut best: Option<(f32, usize)> = None;
        for s in &steps {
            let Some(u) = neighbour(&g, cur, cv, s) else {
                continue;
            };
            if (p.blocked[u] && !p.blocked[cur]) || !v[u].is_finite() {
                continue;
            }
            let c = v[u] + edge_weight(s.len, p.cost[cur], p.cost[u]);
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, u));
            }
        }
        match best {
            Some((_, u)) if v[u] < v[cur] => {
                cur = u;
                path.push(g.voxel(u));
            }
            _ => break,
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{self, CostInput, Movable};
    use crate::field::Field;
    use crate::plan::{REACH_TOLERANCE, path_measure, value};

    /// A random scene: one target near the far x face, a few avoidance walls.
    fn scene(n: usize, seed: u64, walls: usize) -> (Grid, cost::CostMaps, Vec<bool>, Voxel) {
        let g = Grid::cubic(n).unwrap_or_default();
        let mut s = seed | 1;
        let mut rnd = move |m: usize| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % m as u64) as usize
        };
        let mut aff = Field::zeros(g);
        aff.set([n - 3 - rnd(3), rnd(n), rnd(n)], 1.0);
        let mut avoid = Field::zeros(g);
        for _ in 0..walls {
            let (i, j0, k0) = (4 + rnd(n - 8), rnd(n), rnd(n));
            for j in j0.saturating_sub(5)..(j0 + 5).min(n) {
                for k in k0.saturating_sub(7)..(k0 + 7).min(n) {
                    avoid.set([i, j, k], 1.0);
                }
            }
        }
        let start = [1, n / 2, n / 2];
        let maps = cost::compose(&CostInput {
            affordance: &crate::paint::Map::from(aff.clone()),
            avoidance: &crate::paint::Map::from(avoid.clone()),
            collision: &[],
            movable: Movable::Gripper(start),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let blocked = maps.blocked(g.index(start));
        (g, maps, blocked, start)
    }

    fn problem<'a>(
        g: Grid,
        m: &'a cost::CostMaps,
        blocked: &'a [bool],
        start: Voxel,
        planar: bool,
    ) -> Problem<'a> {
        Problem {
            grid: g,
            cost: &m.cost.data,
            target: &m.target,
            target_distance: &m.target_distance,
            blocked,
            lower_bound: m.lower_bound,
            start,
            planar,
        }
    }

    #[test]
    fn cost_to_go_equals_astar_cost_and_descend_reaches() {
        for (seed, walls) in [(1u64, 0usize), (7, 3), (42, 5), (99, 8)] {
            let (g, m, blocked, start) = scene(20, seed, walls);
            let p = problem(g, &m, &blocked, start, false);
            let v = cost_to_go(&p);
            let astar = value::plan(&p);
            assert!(astar.reached);
            let opt = path_measure(&p, &astar.search_path) as f32;
            let vs = v[g.index(start)];
            assert!((vs - opt).abs() <= 1e-4 * opt, "V(start) {vs} vs A* {opt}");
            let path = descend(&p, &v);
            let last = path[path.len() - 1];
            assert!(m.target[g.index(last)], "descend ends at a target");
            assert!(m.target_distance[g.index(last)] <= REACH_TOLERANCE);
            let got = path_measure(&p, &path) as f32;
            assert!((got - opt).abs() <= 1e-4 * opt, "descended {got} vs {opt}");
            for w in &path[1..] {
                assert!(!blocked[g.index(*w)]);
            }
            // Bellman: every finite non-target V is attained by a neighbour.
            assert!(v.iter().all(|x| *x >= 0.0));
        }
    }

    /// The plain textbook search (binary heap, a bounds test on every step) that
    /// [`cost_to_go`] must equal bit for bit.
    fn cost_to_go_reference(p: &Problem<'_>) -> Vec<f32> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let g = p.grid;
        let steps = steps(&g, p.planar);
        let mut v = vec![f32::INFINITY; g.len()];
        let mut heap = BinaryHeap::new();
        for (i, _) in p.target.iter().enumerate().filter(|(_, t)| **t) {
            v[i] = 0.0;
            heap.push(Reverse((key(0.0), i)));
        }
        let mut closed = vec![false; g.len()];
        while let Some(Reverse((_, x))) = heap.pop() {
            if std::mem::replace(&mut closed[x], true) {
                continue;
            }
            for s in &steps {
                let Some(y) = neighbour(&g, x, g.voxel(x), s) else {
                    continue;
                };
                // y -> x is allowed unless x is blocked and y free.
                if !closed[y] && (!p.blocked[x] || p.blocked[y]) {
                    let nd = v[x] + edge_weight(s.len, p.cost[y], p.cost[x]);
                    if nd < v[y] {
                        v[y] = nd;
                        heap.push(Reverse((key(nd), y)));
                    }
                }
            }
        }
        v
    }

    #[test]
    fn cost_to_go_equals_the_textbook_search_bit_for_bit() {
        for (n, seed, walls, planar) in [
            (12, 5u64, 2usize, false),
            (17, 11, 6, false),
            (23, 2, 9, false),
            (16, 8, 3, true),
        ] {
            let (g, m, mut blocked, start) = scene(n, seed, walls);
            // A blocked slab with the start's side free: the one-way rule matters.
            for (i, b) in blocked.iter_mut().enumerate() {
                if g.voxel(i)[0] == n / 2 && g.voxel(i)[1] > 2 {
                    *b = true;
                }
            }
            let p = problem(g, &m, &blocked, start, planar);
            let (got, want) = (cost_to_go(&p), cost_to_go_reference(&p));
            assert!(want.iter().any(|x| x.is_finite() && *x > 0.0));
            let differ = got
                .iter()
                .zip(&want)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(differ, 0, "{n}^3 seed {seed} planar {planar}");
        }
    }

    #[test]
    fn planar_and_unreachable() {
        let (g, m, blocked, start) = scene(16, 3, 2);
        // Planar: only targets in the start's z plane are reachable.
        let p = problem(g, &m, &blocked, start, true);
        let v = cost_to_go(&p);
        let t = m.target.iter().position(|&t| t).unwrap_or(0);
        let same_plane = g.voxel(t)[2] == start[2];
        if !same_plane {
            assert!(v[g.index(start)].is_infinite());
            assert_eq!(descend(&p, &v), vec![start]);
        }
        // A target walled in by blocked voxels is unreachable from outside.
        let mut walled = blocked.clone();
        let tv = g.voxel(t);
        for (i, w) in walled.iter_mut().enumerate() {
            let u = g.voxel(i);
            let cheb = (0..3)
                .map(|a| (u[a] as i64 - tv[a] as i64).abs())
                .max()
                .unwrap_or(0);
            if cheb == 1 {
                *w = true;
            }
        }
        walled[g.index(start)] = false;
        let p = problem(g, &m, &walled, start, false);
        let v = cost_to_go(&p);
        assert!(v[g.index(start)].is_infinite());
        assert_eq!(v[t], 0.0);
    }
}
