// compose.wgsl: the element-wise steps of VoxPoser's cost map (valuescape_core::cost::compose).
//
//   seed      target seeds for the EDT: d2 = 0 where |affordance - 1| < 1e-6, else unreached;
//   scatter   scene-collision voxels (already cleared near the movable on the host) whose
//             target distance is >= the clearing radius (d2 >= clear_d2) add one hit;
//   prepare   obstacle = clamp(avoidance + hits, 0, 1) and distance = sqrt(d2);
//   combine   raw = distance * (2 / max distance) + (gauss - min) / (max - min)
//             (each term min-max normalised from the reduced stats; a constant term is left
//             as it is, as the CPU does);
//   normalize cost = (raw - min) / (max - min) from the stats slot `slot` (a constant map is
//             left as it is).
// One invocation per voxel (per collision voxel for `scatter`).

struct Params {
    // Voxels in the volume.
    n: u32,
    // Entries in the collision list.
    n_collisions: u32,
    // Smallest squared target distance that keeps a collision voxel.
    clear_d2: u32,
    // Stats slot `normalize` reads.
    slot: u32,
    target_weight: f32,
    obstacle_weight: f32,
    // 0x7f800000: +infinity's bits (unreached distances).
    inf_bits: u32,
    _pad0: u32,
}

const UNREACHED: u32 = 0xffffffffu;
const F32_MAX: f32 = 3.4028234663852886e38;
const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> affordance: array<f32>;
@group(0) @binding(2) var<storage, read_write> d2: array<u32>;
@group(0) @binding(3) var<storage, read> collisions: array<u32>;
@group(0) @binding(4) var<storage, read_write> hits: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> avoidance: array<f32>;
@group(0) @binding(6) var<storage, read_write> obstacle: array<f32>;
@group(0) @binding(7) var<storage, read_write> distance: array<f32>;
@group(0) @binding(8) var<storage, read> gauss: array<f32>;
@group(0) @binding(9) var<storage, read> stats: array<u32>;
@group(0) @binding(10) var<storage, read_write> cost: array<f32>;

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// Inverse of reduce.wgsl's order-preserving key.
fn unkey(k: u32) -> f32 {
    return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

@compute @workgroup_size(256)
fn seed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = index(wid, nwg, lid);
    if i >= prm.n {
        return;
    }
    d2[i] = select(UNREACHED, 0u, abs(affordance[i] - 1.0) < 1e-6);
}

@compute @workgroup_size(256)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index(wid, nwg, lid);
    if i >= prm.n_collisions {
        return;
    }
    let c = collisions[i];
    if c < prm.n && d2[c] >= prm.clear_d2 {
        atomicAdd(&hits[c], 1u);
    }
}

@compute @workgroup_size(256)
fn prepare(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index(wid, nwg, lid);
    if i >= prm.n {
        return;
    }
    obstacle[i] = clamp(avoidance[i] + f32(atomicLoad(&hits[i])), 0.0, 1.0);
    let d = d2[i];
    distance[i] = select(sqrt(f32(d)), bitcast<f32>(prm.inf_bits), d == UNREACHED);
}

@compute @workgroup_size(256)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index(wid, nwg, lid);
    if i >= prm.n {
        return;
    }
    let edt_max = max(0.0, unkey(stats[1]));
    let g_lo = unkey(stats[2]);
    let g_hi = unkey(stats[3]);
    let d_ok = edt_max > 0.0 && edt_max <= F32_MAX;
    let d_scale = select(prm.target_weight, prm.target_weight / edt_max, d_ok);
    let g_ok = g_hi > g_lo;
    let g_off = select(0.0, g_lo, g_ok);
    let g_scale = select(prm.obstacle_weight, prm.obstacle_weight / (g_hi - g_lo), g_ok);
    cost[i] = distance[i] * d_scale + (gauss[i] - g_off) * g_scale;
}

@compute @workgroup_size(256)
fn normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = index(wid, nwg, lid);
    if i >= prm.n {
        return;
    }
    let lo = unkey(stats[2u * prm.slot]);
    let hi = unkey(stats[2u * prm.slot + 1u]);
    let range = hi - lo;
    if range > 0.0 && range <= F32_MAX {
        let inv = 1.0 / range;
        cost[i] = (cost[i] - lo) * inv;
    }
}
