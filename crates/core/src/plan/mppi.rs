//! MPPI (model-predictive path integral) planning over the cost map: the CPU reference of the
//! GPU rollout kernels (`crates/gpu`, `shaders/mppi_*.wgsl`), with the same deterministic noise
//! so the two can be compared.
//!
//! The moving point is a velocity-controlled particle in continuous voxel coordinates. A
//! *nominal* control sequence `U` of `horizon` velocities (voxels per step) is improved by
//! `iterations` rounds of: draw `rollouts` perturbed sequences, integrate each from the
//! current position, score it, and move `U` by the softmax-weighted mean perturbation
//! (weights `exp(-(S_k - min S) / temperature)`). Then the first `execute_steps` of the
//! nominal are executed, `U` is shifted (warm start) and the next round plans from there
//! (receding horizon), until a target is within [`REACH_TOLERANCE`] or `max_rounds` pass.
//! Each round starts from [`descent_controls`] (the terminal field followed downhill from the
//! current position) unless the warm-started nominal scores better without noise; this
//! host-side choice is shared by the CPU and GPU optimisers.
//!
//! **Terminal field.** The end of each rollout is scored by the exact cost-to-go `V` (the
//! value planner's value function, [`super::field_value::cost_to_go`]; on the GPU, its value
//! iteration), capped where no target is reachable ([`terminal_field`]). A finite horizon
//! (16 steps of at most 2 voxels) cannot see a target beyond it, and the cost alone misleads:
//! where an avoidance map overlaps the target ("5cm behind the mug"), the cost's minimum is
//! off the target, and scored by the cost MPPI settled there. `V` has no minimum but the
//! targets, and it prices the way around obstacles.
//!
//! **Noise.** Sample `(seed, round, iteration, rollout, step, axis)` hashes with PCG into two
//! 32-bit words, whose four 16-bit halves are summed (Irwin-Hall, n = 4) and centred and
//! scaled to unit variance: no transcendental, and every operation before the final scaling
//! is exact in `f32`, so CPU and GPU draw the same numbers. The per-axis noise is smoothed
//! along the horizon by an AR(1) filter `e_h = a e_{h-1} + sqrt(1 - a^2) z_h` (unit
//! stationary variance) and scaled by `noise_sigma`. Rollout 0 is the noise-free nominal.
//!
//! **Score.** Each step's velocity is clamped to `+-max_step` per axis and the position to
//! the grid. Along each step, `substeps` points are sampled: the mean trilinear cost of the
//! samples plus `length_weight` times the step's length is the running cost (so waiting costs,
//! and long detours cost); a sample in a blocked voxel (nearest voxel) after a free voxel has
//! been seen counts as a collision (the value planner's rule: a path may leave a blocked
//! region it starts in); `smooth_weight * |v_h - v_{h-1}|^2` penalises jerks; the final
//! position adds `terminal_weight * T`, `T` the terminal field (trilinear, like the cost).

use super::{PathPlan, Problem, REACH_TOLERANCE, densify};
use crate::grid::Voxel;

/// MPPI's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MppiConfig {
    /// Rollouts per iteration (K).
    pub rollouts: u32,
    /// Control steps per rollout (H).
    pub horizon: u32,
    /// Softmax updates of the nominal per round.
    pub iterations: u32,
    /// Softmax temperature (lambda), in score units.
    pub temperature: f32,
    /// Standard deviation of the velocity noise, voxels per step.
    pub noise_sigma: f32,
    /// AR(1) coefficient smoothing the noise along the horizon, in `[0, 1)`.
    pub noise_smoothing: f32,
    /// Largest velocity per axis, voxels per step.
    pub max_step: f32,
    /// Cost samples per step.
    pub substeps: u32,
    /// Steps of the nominal executed per round (receding horizon).
    pub execute_steps: u32,
    /// Rounds before giving up.
    pub max_rounds: u32,
    /// Score per colliding sample.
    pub collision_weight: f32,
    /// Score per squared velocity change.
    pub smooth_weight: f32,
    /// Weight of the cost at the end of the horizon.
    pub terminal_weight: f32,
    /// Score per voxel of path length (the value planner's edge cost is [`super::STEP_COST`], five
    /// times the default here).
    pub length_weight: f32,
    /// Seed of the noise.
    pub seed: u32,
}

impl Default for MppiConfig {
    fn default() -> Self {
        Self {
            rollouts: 1024,
            horizon: 16,
            iterations: 6,
            temperature: 0.05,
            noise_sigma: 1.0,
            noise_smoothing: 0.6,
            max_step: 2.0,
            substeps: 4,
            execute_steps: 8,
            max_rounds: 120,
            collision_weight: 10.0,
            smooth_weight: 0.05,
            terminal_weight: 4.0,
            // A fifth of the value planner's STEP_COST: noisy rollouts pay for their wiggles,
            // and at 0.05 that outweighed the cost they saved, so the nominal rarely moved.
            length_weight: 0.01,
            seed: 0x5eed,
        }
    }
}

/// Where one round plans from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundState {
    /// Round index (part of the noise key).
    pub round: u32,
    /// Current position, continuous voxel coordinates.
    pub start: [f32; 3],
    /// Whether the start voxel is free (else samples in the blocked region it starts in are
    /// not collisions until a free voxel is reached).
    pub start_free: bool,
}

/// PCG's output hash of a 32-bit state (O'Neill's `pcg_hash`, as in GPU hashing surveys).
#[inline]
pub fn pcg_hash(x: u32) -> u32 {
    let state = x.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// The hash key of one noise sample.
#[inline]
pub fn noise_key(seed: u32, round: u32, iteration: u32, rollout: u32, step: u32, axis: u32) -> u32 {
    let mut h = pcg_hash(seed);
    for x in [round, iteration, rollout, step * 3 + axis] {
        h = pcg_hash(h ^ x);
    }
    h
}

/// sqrt(3) rounded to f32 (the GPU uses the same bits).
pub const SQRT3: f32 = 1.732_050_8;

/// A unit-variance, zero-mean sample (Irwin-Hall of four 16-bit uniforms) for a key.
#[inline]
pub fn standard_noise(key: u32) -> f32 {
    let a = pcg_hash(key);
    let b = pcg_hash(a);
    let sum = (a & 0xffff) + (a >> 16) + (b & 0xffff) + (b >> 16);
    (sum as f32 * (1.0 / 65536.0) - 2.0) * SQRT3
}

/// Trilinear interpolation of a C-order field at continuous voxel coordinates (clamped into
/// the grid).
#[inline]
pub fn trilinear(size: [usize; 3], data: &[f32], q: [f32; 3]) -> f32 {
    let mut i0 = [0usize; 3];
    let mut t = [0f32; 3];
    for a in 0..3 {
        let hi = (size[a] - 1) as f32;
        let x = q[a].clamp(0.0, hi);
        let f = x.floor().min(hi - 1.0).max(0.0);
        i0[a] = f as usize;
        t[a] = x - f;
    }
    let (ny, nz) = (size[1], size[2]);
    let at = |i: usize, j: usize, k: usize| data[(i * ny + j) * nz + k];
    let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
    let [i, j, k] = i0;
    let c00 = lerp(at(i, j, k), at(i, j, k + 1), t[2]);
    let c01 = lerp(at(i, j + 1, k), at(i, j + 1, k + 1), t[2]);
    let c10 = lerp(at(i + 1, j, k), at(i + 1, j, k + 1), t[2]);
    let c11 = lerp(at(i + 1, j + 1, k), at(i + 1, j + 1, k + 1), t[2]);
    let c0 = lerp(c00, c01, t[1]);
    let c1 = lerp(c10, c11, t[1]);
    lerp(c0, c1, t[0])
}

/// Flat index of the voxel nearest to continuous coordinates (`floor(x + 0.5)`, clamped).
#[inline]
pub fn nearest(size: [usize; 3], q: [f32; 3]) -> usize {
    let v: [usize; 3] =
        [0, 1, 2].map(|a| ((q[a] + 0.5).floor().clamp(0.0, (size[a] - 1) as f32)) as usize);
    (v[0] * size[1] + v[1]) * size[2] + v[2]
}

/// `sqrt(1 - a^2)`, the AR(1) innovation gain for smoothing `a`.
#[inline]
pub fn innovation_gain(a: f32) -> f32 {
    (1.0 - a * a).max(0.0).sqrt()
}

/// Integrates and scores rollout `k` of `iteration`; writes its applied velocity minus the
/// nominal, per step, into `delta` (`horizon` long). Returns the score. `terminal` is the
/// field scored at the end of the horizon ([`terminal_field`]).
#[allow(clippy::too_many_arguments)]
pub fn rollout(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    st: &RoundState,
    iteration: u32,
    k: u32,
    nominal: &[[f32; 3]],
    terminal: &[f32],
    delta: &mut [[f32; 3]],
) -> f32 {
    let size = p.grid.size;
    let hi = size.map(|n| (n - 1) as f32);
    let a = cfg.noise_smoothing;
    let c = innovation_gain(a);
    let m = cfg.substeps.max(1);
    let inv_m = 1.0 / m as f32;
    let mut x = st.start;
    let mut free_seen = st.start_free;
    let mut e = [0f32; 3];
    let mut v_prev = [0f32; 3];
    let mut score = 0f32;
    let mut collisions = 0u32;
    for h in 0..cfg.horizon {
        let u = nominal[h as usize];
        let mut v = [0f32; 3];
        for axis in 0..3 {
            let z = if k == 0 || (p.planar && axis == 2) {
                0.0
            } else {
                standard_noise(noise_key(cfg.seed, st.round, iteration, k, h, axis as u32))
            };
            e[axis] = if h == 0 { z } else { a * e[axis] + c * z };
            v[axis] = (u[axis] + cfg.noise_sigma * e[axis]).clamp(-cfg.max_step, cfg.max_step);
        }
        if p.planar {
            v[2] = 0.0;
        }
        delta[h as usize] = [0, 1, 2].map(|ax| v[ax] - u[ax]);
        let xn = [0, 1, 2].map(|ax| (x[ax] + v[ax]).clamp(0.0, hi[ax]));
        let seg = [0, 1, 2].map(|ax| xn[ax] - x[ax]);
        let len = (seg[0] * seg[0] + seg[1] * seg[1] + seg[2] * seg[2]).sqrt();
        let mut acc = 0f32;
        for s in 1..=m {
            let t = s as f32 * inv_m;
            let q = [0, 1, 2].map(|ax| x[ax] + seg[ax] * t);
            acc += trilinear(size, p.cost, q);
            if p.blocked[nearest(size, q)] {
                if free_seen {
                    collisions += 1;
                }
            } else {
                free_seen = true;
            }
        }
        score += acc * inv_m + cfg.length_weight * len;
        if h > 0 {
            let d = [0, 1, 2].map(|ax| v[ax] - v_prev[ax]);
            score += cfg.smooth_weight * (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
        v_prev = v;
        x = xn;
    }
    score
        + cfg.terminal_weight * trilinear(size, terminal, x)
        + cfg.collision_weight * collisions as f32
}

/// The softmax-weighted update: `U_h += sum_k w_k delta_{k,h} / sum_k w_k` with
/// `w_k = exp(-(S_k - min S) / temperature)`. `deltas` is `rollouts x horizon`, rollout-major.
pub fn update(cfg: &MppiConfig, scores: &[f32], deltas: &[[f32; 3]], nominal: &mut [[f32; 3]]) {
    let h_n = nominal.len();
    let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
    let inv_t = 1.0 / cfg.temperature;
    let w: Vec<f32> = scores.iter().map(|s| (-(s - min) * inv_t).exp()).collect();
    let den: f32 = w.iter().sum();
    for (h, u) in nominal.iter_mut().enumerate() {
        for (axis, ua) in u.iter_mut().enumerate() {
            let mut num = 0f32;
            for (k, wk) in w.iter().enumerate() {
                num += wk * deltas[k * h_n + h][axis];
            }
            *ua += num / den;
        }
    }
}

/// One round's iterations on the CPU: rollouts, then the weighted update, `iterations` times.
pub fn optimise_round(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    st: &RoundState,
    terminal: &[f32],
    nominal: &mut [[f32; 3]],
) {
    let k_n = cfg.rollouts as usize;
    let h_n = cfg.horizon as usize;
    let mut scores = vec![0f32; k_n];
    let mut deltas = vec![[0f32; 3]; k_n * h_n];
    for it in 0..cfg.iterations {
        for (k, (s, d)) in scores
            .iter_mut()
            .zip(deltas.chunks_exact_mut(h_n))
            .enumerate()
        {
            *s = rollout(p, cfg, st, it, k as u32, nominal, terminal, d);
        }
        update(cfg, &scores, &deltas, nominal);
    }
}

/// Positions `x_1 .. x_H` of the nominal from `start` (no noise).
pub fn nominal_positions(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    start: [f32; 3],
    nominal: &[[f32; 3]],
) -> Vec<[f32; 3]> {
    let hi = p.grid.size.map(|n| (n - 1) as f32);
    let mut x = start;
    nominal
        .iter()
        .map(|u| {
            let mut v = u.map(|c| c.clamp(-cfg.max_step, cfg.max_step));
            if p.planar {
                v[2] = 0.0;
            }
            x = [0, 1, 2].map(|a| (x[a] + v[a]).clamp(0.0, hi[a]));
            x
        })
        .collect()
}

/// Controls that follow the terminal field (the cost-to-go) downhill from `start` for the
/// horizon: each step goes `max_step` voxels (less near the target) against its gradient
/// (central differences of the trilinear field), or, where it is flat, against the gradient
/// of the distance to the target. Zero where both are flat.
pub fn descent_controls(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    terminal: &[f32],
    start: [f32; 3],
) -> Vec<[f32; 3]> {
    let size = p.grid.size;
    let hi = size.map(|n| (n - 1) as f32);
    let dist = |q: [f32; 3]| p.target_distance[nearest(size, q)];
    let gradient = |f: &dyn Fn([f32; 3]) -> f32, x: [f32; 3]| -> [f32; 3] {
        [0, 1, 2].map(|a| {
            let (mut lo, mut up) = (x, x);
            lo[a] = (x[a] - 1.0).max(0.0);
            up[a] = (x[a] + 1.0).min(hi[a]);
            let span = up[a] - lo[a];
            if span > 0.0 {
                (f(up) - f(lo)) / span
            } else {
                0.0
            }
        })
    };
    let field = |q: [f32; 3]| trilinear(size, terminal, q);
    let mut x = start;
    let mut out = Vec::with_capacity(cfg.horizon as usize);
    for _ in 0..cfg.horizon.max(1) {
        let mut g = gradient(&field, x);
        if p.planar {
            g[2] = 0.0;
        }
        let mut norm = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt();
        if norm < 1e-6 {
            g = gradient(&dist, x);
            if p.planar {
                g[2] = 0.0;
            }
            norm = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt();
        }
        let v = if norm < 1e-6 {
            [0.0; 3]
        } else {
            let len = cfg.max_step.min(dist(x).max(0.5));
            g.map(|c| -c / norm * len)
        };
        x = [0, 1, 2].map(|a| (x[a] + v[a]).clamp(0.0, hi[a]));
        out.push(v);
    }
    out
}

/// The terminal field from a cost-to-go `v` ([`super::field_value::cost_to_go`], or the GPU's
/// value iteration): `v` where it is finite; elsewhere (no target reachable) one more than its
/// largest finite value, so that interpolating towards such voxels stays finite and uphill.
/// All zero when no voxel reaches a target.
pub fn terminal_field(v: &[f32]) -> Vec<f32> {
    let top = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let cap = if top.is_finite() { top + 1.0 } else { 0.0 };
    v.iter()
        .map(|&x| if x.is_finite() { x } else { cap })
        .collect()
}

/// Plans with MPPI on the CPU, scoring the end of each rollout by the exact cost-to-go.
pub fn plan(p: &Problem<'_>, cfg: &MppiConfig) -> PathPlan {
    let terminal = terminal_field(&super::field_value::cost_to_go(p));
    let r: Result<PathPlan, std::convert::Infallible> = plan_with(p, cfg, &terminal, |st, u| {
        optimise_round(p, cfg, st, &terminal, u);
        Ok(())
    });
    match r {
        Ok(plan) => plan,
        Err(never) => match never {},
    }
}

/// The receding-horizon loop around any optimiser of one round (the CPU's
/// [`optimise_round`], or the GPU's kernels): executes `execute_steps` of the nominal after
/// each round, shifts it, and stops at a target or after `max_rounds`.
pub fn plan_with<E>(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    terminal: &[f32],
    mut optimise: impl FnMut(&RoundState, &mut [[f32; 3]]) -> Result<(), E>,
) -> Result<PathPlan, E> {
    let fut = plan_with_async(
        p,
        cfg,
        terminal,
        async |st: &RoundState, u: &mut [[f32; 3]]| optimise(st, u),
    );
    match crate::ready_now(fut) {
        Some(r) => r,
        // The closure above never waits, so neither does the loop.
        None => unreachable!("a synchronous optimiser completed at once"),
    }
}

/// [`plan_with`] around an optimiser whose rounds complete later (the GPU's, in the
/// browser).
pub async fn plan_with_async<E>(
    p: &Problem<'_>,
    cfg: &MppiConfig,
    terminal: &[f32],
    mut optimise: impl AsyncFnMut(&RoundState, &mut [[f32; 3]]) -> Result<(), E>,
) -> Result<PathPlan, E> {
    let g = p.grid;
    let size = g.size;
    let h_n = cfg.horizon.max(1) as usize;
    let exec = (cfg.execute_steps as usize).clamp(1, h_n);
    let mut start = p.start.map(|x| x as f32);
    let mut nominal = vec![[0f32; 3]; h_n];
    let mut points = vec![start];
    let near_target = |x: [f32; 3]| p.target_distance[nearest(size, x)] <= REACH_TOLERANCE;
    let mut reached = near_target(start);
    let mut rounds = 0u32;
    let mut scratch = vec![[0f32; 3]; h_n];
    while !reached && rounds < cfg.max_rounds {
        let st = RoundState {
            round: rounds,
            start,
            start_free: !p.blocked[nearest(size, start)],
        };
        // The round starts from a descent of the terminal field from here unless the
        // warm-started nominal scores better (noise-free). Without it a far or shallow
        // target was never approached: the cost falls by under 0.01 a voxel at 100^3, while
        // noisy rollouts pay for their wiggles, so standing still won every softmax.
        let guess = descent_controls(p, cfg, terminal, start);
        if rollout(p, cfg, &st, 0, 0, &guess, terminal, &mut scratch)
            <= rollout(p, cfg, &st, 0, 0, &nominal, terminal, &mut scratch)
        {
            nominal = guess;
        }
        optimise(&st, &mut nominal).await?;
        let xs = nominal_positions(p, cfg, start, &nominal);
        for &x in &xs[..exec] {
            points.push(x);
            start = x;
            if near_target(x) {
                reached = true;
                break;
            }
        }
        let last = nominal[h_n - 1];
        nominal.rotate_left(exec);
        for u in &mut nominal[h_n - exec..] {
            *u = last;
        }
        rounds += 1;
    }
    let mut voxels: Vec<Voxel> = Vec::with_capacity(points.len());
    for x in &points {
        let v = g.voxel(nearest(size, *x));
        if voxels.last() != Some(&v) {
            voxels.push(v);
        }
    }
    let search_path = densify(&voxels);
    Ok(PathPlan {
        points: points.iter().map(|x| x.map(f64::from)).collect(),
        reached,
        search_path,
        expanded: rounds as usize * cfg.iterations as usize * cfg.rollouts as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{self, CostInput, Movable};
    use crate::field::Field;
    use crate::grid::Grid;

    fn maps(n: usize, target: Voxel, wall: bool) -> (Grid, cost::CostMaps, Vec<bool>) {
        let g = Grid::cubic(n).unwrap_or_default();
        let mut aff = Field::zeros(g);
        aff.set(target, 1.0);
        let mut avoid = Field::zeros(g);
        if wall {
            for j in n / 2 - 3..n / 2 + 3 {
                for k in n / 2 - 3..n / 2 + 3 {
                    avoid.set([n / 2, j, k], 1.0);
                }
            }
        }
        let m = cost::compose(&CostInput {
            affordance: &crate::paint::Map::from(aff.clone()),
            avoidance: &crate::paint::Map::from(avoid.clone()),
            collision: &[],
            movable: Movable::Gripper([0, 0, 0]),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let blocked = m
            .obstacle
            .data
            .iter()
            .zip(&m.target)
            .map(|(&o, &t)| o > 0.5 && !t)
            .collect();
        (g, m, blocked)
    }

    fn problem<'a>(
        g: Grid,
        m: &'a cost::CostMaps,
        blocked: &'a [bool],
        start: Voxel,
    ) -> Problem<'a> {
        Problem {
            grid: g,
            cost: &m.cost.data,
            target: &m.target,
            target_distance: &m.target_distance,
            blocked,
            lower_bound: m.lower_bound,
            start,
            planar: false,
        }
    }

    #[test]
    fn noise_is_unit_normalish_and_deterministic() {
        let xs: Vec<f32> = (0..20_000)
            .map(|i| standard_noise(noise_key(1, 0, 0, i, 3, 1)))
            .collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert!(xs.iter().all(|x| x.abs() <= 2.0 * SQRT3));
        assert_eq!(
            standard_noise(noise_key(1, 2, 3, 4, 5, 2)),
            standard_noise(noise_key(1, 2, 3, 4, 5, 2))
        );
        assert_ne!(noise_key(1, 0, 0, 0, 0, 1), noise_key(1, 0, 0, 0, 1, 0));
    }

    #[test]
    fn trilinear_matches_voxels_and_interpolates() {
        let size = [3, 4, 5];
        let data: Vec<f32> = (0..60).map(|i| i as f32).collect();
        assert_eq!(
            trilinear(size, &data, [1.0, 2.0, 3.0]),
            data[(4 + 2) * 5 + 3]
        );
        assert_eq!(trilinear(size, &data, [2.0, 3.0, 4.0]), 59.0);
        // Linear data interpolates exactly.
        let v = trilinear(size, &data, [0.5, 0.5, 0.5]);
        assert!((v - (0.5 * 20.0 + 0.5 * 5.0 + 0.5)).abs() < 1e-5);
        assert_eq!(nearest(size, [0.5, 1.49, 9.0]), (4 + 1) * 5 + 4);
    }

    #[test]
    fn reaches_an_unobstructed_target() {
        let (g, m, blocked) = maps(24, [20, 16, 14], false);
        let p = problem(g, &m, &blocked, [3, 5, 6]);
        let cfg = MppiConfig {
            rollouts: 256,
            ..MppiConfig::default()
        };
        let plan = plan(&p, &cfg);
        assert!(plan.reached, "MPPI stopped at {:?}", plan.points.last());
        assert!(plan.points.len() < 60, "{} points", plan.points.len());
        // Deterministic.
        let again = super::plan(&p, &cfg);
        assert_eq!(plan.points, again.points);
    }

    #[test]
    fn reaches_a_near_target_on_a_large_grid() {
        // "move up by 10cm" at 100^3: ten voxels, where the cost falls by under 0.01 a voxel.
        let (g, m, blocked) = maps(100, [45, 50, 60], false);
        let p = problem(g, &m, &blocked, [45, 50, 50]);
        let plan = plan(&p, &MppiConfig::default());
        assert!(
            plan.reached,
            "MPPI stopped at {:?} after {} points",
            plan.points.last(),
            plan.points.len()
        );
    }

    #[test]
    fn terminal_field_caps_unreachable_voxels() {
        let inf = f32::INFINITY;
        assert_eq!(
            terminal_field(&[0.0, 2.5, inf, 1.0, inf]),
            [0.0, 2.5, 3.5, 1.0, 3.5]
        );
        assert_eq!(terminal_field(&[inf, inf]), [0.0, 0.0]);
    }

    #[test]
    fn goes_around_a_wall() {
        let n = 24;
        let (g, m, blocked) = maps(n, [n - 3, n / 2, n / 2], true);
        let p = problem(g, &m, &blocked, [2, n / 2, n / 2]);
        let cfg = MppiConfig {
            rollouts: 256,
            ..MppiConfig::default()
        };
        let plan = plan(&p, &cfg);
        assert!(plan.reached, "MPPI stopped at {:?}", plan.points.last());
        assert!(
            plan.search_path.iter().all(|v| !blocked[g.index(*v)]),
            "the path enters the wall"
        );
    }
}
