// mppi_rollout.wgsl: MPPI rollouts, the GPU counterpart of valuescape_core::plan::mppi::rollout.
//
// One invocation per rollout k integrates `horizon` velocity steps from the round's start:
//   noise    z = Irwin-Hall(4 x 16-bit PCG uniforms), centred, unit variance (exact in f32),
//            keyed by (seed, round, iteration, k, step, axis); rollout 0 is noise-free;
//            AR(1) smoothing e_h = a e_{h-1} + sqrt(1 - a^2) z_h; v = clamp(U_h + sigma e_h)
//   state    x_{h+1} = clamp(x_h + v_h, 0, size - 1)
//   score    per step: mean trilinear cost over `substeps` samples + STEP_COST * |step|;
//            collisions (nearest voxel blocked after a free voxel was seen) * collision_w;
//            smooth_w * |v_h - v_{h-1}|^2; terminal_w * T(x_H), T the terminal field
//            (the cost-to-go, capped where no target is reachable), trilinear like the cost
// and writes the score and the applied perturbation v_h - U_h per step.

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    rollouts: u32,
    start_x: f32,
    start_y: f32,
    start_z: f32,
    horizon: u32,
    round: u32,
    iteration: u32,
    seed: u32,
    substeps: u32,
    planar: u32,
    start_free: u32,
    _pad0: u32,
    _pad1: u32,
    sigma: f32,
    smoothing: f32,
    gain: f32,
    max_step: f32,
    step_cost: f32,
    collision_w: f32,
    smooth_w: f32,
    terminal_w: f32,
}

const BLOCKED: u32 = 2u;
const SQRT3: f32 = 1.73205081;
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> cost: array<f32>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<storage, read> nominal: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> deltas: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;
@group(0) @binding(6) var<storage, read> terminal: array<f32>;

fn pcg_hash(x: u32) -> u32 {
    let state = x * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn noise_key(k: u32, step: u32, axis: u32) -> u32 {
    var h = pcg_hash(prm.seed);
    h = pcg_hash(h ^ prm.round);
    h = pcg_hash(h ^ prm.iteration);
    h = pcg_hash(h ^ k);
    return pcg_hash(h ^ (step * 3u + axis));
}

fn standard_noise(key: u32) -> f32 {
    let a = pcg_hash(key);
    let b = pcg_hash(a);
    let sum = (a & 0xffffu) + (a >> 16u) + (b & 0xffffu) + (b >> 16u);
    return (f32(sum) * (1.0 / 65536.0) - 2.0) * SQRT3;
}

fn at(i: u32, j: u32, k: u32, field: u32) -> f32 {
    let idx = (i * prm.ny + j) * prm.nz + k;
    if field == 0u {
        return cost[idx];
    }
    return terminal[idx];
}

// a + (b - a) t, the CPU's operation order (WGSL's mix is a (1 - t) + b t).
fn lerp(a: f32, b: f32, t: f32) -> f32 {
    return a + (b - a) * t;
}

// Trilinear interpolation of the cost (field 0) or the terminal field (1).
fn trilinear(q: vec3<f32>, field: u32) -> f32 {
    let hi = vec3<f32>(f32(prm.nx - 1u), f32(prm.ny - 1u), f32(prm.nz - 1u));
    let x = clamp(q, vec3<f32>(0.0), hi);
    let f = max(min(floor(x), hi - 1.0), vec3<f32>(0.0));
    let i = vec3<u32>(f);
    let t = x - f;
    let c00 = lerp(at(i.x, i.y, i.z, field), at(i.x, i.y, i.z + 1u, field), t.z);
    let c01 = lerp(at(i.x, i.y + 1u, i.z, field), at(i.x, i.y + 1u, i.z + 1u, field), t.z);
    let c10 = lerp(at(i.x + 1u, i.y, i.z, field), at(i.x + 1u, i.y, i.z + 1u, field), t.z);
    let c11 = lerp(at(i.x + 1u, i.y + 1u, i.z, field), at(i.x + 1u, i.y + 1u, i.z + 1u, field), t.z);
    let c0 = lerp(c00, c01, t.y);
    let c1 = lerp(c10, c11, t.y);
    return lerp(c0, c1, t.x);
}

fn blocked_at(q: vec3<f32>) -> bool {
    let hi = vec3<f32>(f32(prm.nx - 1u), f32(prm.ny - 1u), f32(prm.nz - 1u));
    let v = vec3<u32>(clamp(floor(q + 0.5), vec3<f32>(0.0), hi));
    return (flags[(v.x * prm.ny + v.y) * prm.nz + v.z] & BLOCKED) != 0u;
}

@compute @workgroup_size(64)
fn rollout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let k = (wid.y * nwg.x + wid.x) * WG + lid;
    if k >= prm.rollouts {
        return;
    }
    let hi = vec3<f32>(f32(prm.nx - 1u), f32(prm.ny - 1u), f32(prm.nz - 1u));
    let m = max(prm.substeps, 1u);
    let inv_m = 1.0 / f32(m);
    var x = vec3<f32>(prm.start_x, prm.start_y, prm.start_z);
    var free_seen = prm.start_free != 0u;
    var e = vec3<f32>(0.0);
    var v_prev = vec3<f32>(0.0);
    var score = 0.0;
    var collisions = 0u;
    for (var h: u32 = 0u; h < prm.horizon; h = h + 1u) {
        let u = nominal[h].xyz;
        var v = vec3<f32>(0.0);
        for (var axis: u32 = 0u; axis < 3u; axis = axis + 1u) {
            var z = 0.0;
            if k != 0u && !(prm.planar != 0u && axis == 2u) {
                z = standard_noise(noise_key(k, h, axis));
            }
            if h == 0u {
                e[axis] = z;
            } else {
                e[axis] = prm.smoothing * e[axis] + prm.gain * z;
            }
            v[axis] = clamp(u[axis] + prm.sigma * e[axis], -prm.max_step, prm.max_step);
        }
        if prm.planar != 0u {
            v.z = 0.0;
        }
        deltas[k * prm.horizon + h] = vec4<f32>(v - u, 0.0);
        let xn = clamp(x + v, vec3<f32>(0.0), hi);
        let seg = xn - x;
        let len = sqrt(seg.x * seg.x + seg.y * seg.y + seg.z * seg.z);
        var acc = 0.0;
        for (var s: u32 = 1u; s <= m; s = s + 1u) {
            let t = f32(s) * inv_m;
            let q = x + seg * t;
            acc = acc + trilinear(q, 0u);
            if blocked_at(q) {
                if free_seen {
                    collisions = collisions + 1u;
                }
            } else {
                free_seen = true;
            }
        }
        score = score + acc * inv_m + prm.step_cost * len;
        if h > 0u {
            let d = v - v_prev;
            score = score + prm.smooth_w * (d.x * d.x + d.y * d.y + d.z * d.z);
        }
        v_prev = v;
        x = xn;
    }
    scores[k] = score + prm.terminal_w * trilinear(x, 1u) + prm.collision_w * f32(collisions);
}
