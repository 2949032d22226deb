// value.wgsl: the cost-to-go V over the voxel graph by value iteration (Bellman-Ford with
// line sweeps), the GPU counterpart of valuescape_core::plan::field_value::cost_to_go.
//
//   V(y) = 0 at targets, else min over neighbours x of V(x) + len * (STEP_COST + (c(y) + c(x)) / 2)
//
// over the 26 neighbours (8 in the plane when `planar`), never using x when x is blocked and y
// is free (a path never moves from a free voxel into a blocked one).
//
//   init   V = 0 at targets, +infinity elsewhere (flags bit 0 = target, bit 1 = blocked);
//   flags  flags from the composed maps: target = (squared target distance == 0), blocked =
//          obstacle > 0.5 and not a target, the start never blocked (the pipeline's rule);
//   sweep  one invocation per grid line along `axis`, walking it in direction `dir` and
//          relaxing every voxel against all its neighbours in place. Values only decrease
//          and are stored as f32 bits in atomics, so concurrent lines read valid upper bounds
//          (chaotic relaxation converges to the same fixed point). A line that lowered any
//          value sets changed[slot]; a sweep that changed nothing proves the fixed point.
// Alternating +-z, +-y, +-x sweeps carry values along whole lines in one dispatch (as fast
// sweeping does), so few rounds are needed even across the grid.

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    // Axis of the swept lines (0 = x, 1 = y, 2 = z).
    axis: u32,
    // 0: increasing coordinate, 1: decreasing.
    dir: u32,
    // 1: 8-connected in the horizontal (x, y) plane.
    planar: u32,
    // Which changed[] flag this sweep sets.
    slot: u32,
    // Flat index of the start voxel (never blocked).
    start: u32,
    // Number of lines (product of the two other sizes) or voxels (init, flags).
    count: u32,
    step_cost: f32,
    _pad0: u32,
    _pad1: u32,
}

const INF_BITS: u32 = 0x7f800000u;
const UNREACHED: u32 = 0xffffffffu;
const TARGET: u32 = 1u;
const BLOCKED: u32 = 2u;
const SQRT2: f32 = 1.41421356;
const SQRT3: f32 = 1.73205081;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> cost: array<f32>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<storage, read_write> value: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> changed: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> obstacle: array<f32>;
@group(0) @binding(6) var<storage, read> d2: array<u32>;
@group(0) @binding(7) var<storage, read_write> flags_out: array<u32>;

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

@compute @workgroup_size(64)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if i >= prm.count {
        return;
    }
    atomicStore(&value[i], select(INF_BITS, 0u, (flags[i] & TARGET) != 0u));
}

@compute @workgroup_size(64)
fn flags_from_maps(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if i >= prm.count {
        return;
    }
    let is_target = d2[i] == 0u;
    let blocked = obstacle[i] > 0.5 && !is_target && i != prm.start;
    flags_out[i] = select(0u, TARGET, is_target) | select(0u, BLOCKED, blocked);
}

@compute @workgroup_size(64)
fn sweep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let l = linear(wid, nwg, lid);
    if l >= prm.count {
        return;
    }
    let size = vec3<i32>(i32(prm.nx), i32(prm.ny), i32(prm.nz));
    // The line's fixed coordinates.
    var p = vec3<i32>(0, 0, 0);
    var len: i32;
    if prm.axis == 2u {
        p = vec3<i32>(i32(l / prm.ny), i32(l % prm.ny), 0);
        len = size.z;
    } else if prm.axis == 1u {
        p = vec3<i32>(i32(l / prm.nz), 0, i32(l % prm.nz));
        len = size.y;
    } else {
        p = vec3<i32>(0, i32(l / prm.nz), i32(l % prm.nz));
        len = size.x;
    }
    let dz_max = select(1, 0, prm.planar != 0u);
    var any_change = false;
    for (var t: i32 = 0; t < len; t = t + 1) {
        let pos = select(t, len - 1 - t, prm.dir != 0u);
        p[prm.axis] = pos;
        let y = u32((p.x * size.y + p.y) * size.z + p.z);
        let fy = flags[y];
        if (fy & TARGET) != 0u {
            continue;
        }
        let y_free = (fy & BLOCKED) == 0u;
        let cy = cost[y];
        let old = bitcast<f32>(atomicLoad(&value[y]));
        var best = old;
        for (var dx: i32 = -1; dx <= 1; dx = dx + 1) {
            let qx = p.x + dx;
            if qx < 0 || qx >= size.x {
                continue;
            }
            for (var dy: i32 = -1; dy <= 1; dy = dy + 1) {
                let qy = p.y + dy;
                if qy < 0 || qy >= size.y {
                    continue;
                }
                for (var dz: i32 = -dz_max; dz <= dz_max; dz = dz + 1) {
                    let qz = p.z + dz;
                    if qz < 0 || qz >= size.z || (dx == 0 && dy == 0 && dz == 0) {
                        continue;
                    }
                    let x = u32((qx * size.y + qy) * size.z + qz);
                    let vb = atomicLoad(&value[x]);
                    if vb >= INF_BITS || ((flags[x] & BLOCKED) != 0u && y_free) {
                        continue;
                    }
                    let m = abs(dx) + abs(dy) + abs(dz);
                    let el = select(select(SQRT3, SQRT2, m == 2), 1.0, m == 1);
                    let cand = bitcast<f32>(vb) + el * (prm.step_cost + 0.5 * (cy + cost[x]));
                    best = min(best, cand);
                }
            }
        }
        if best < old {
            atomicStore(&value[y], bitcast<u32>(best));
            any_change = true;
        }
    }
    if any_change {
        atomicStore(&changed[prm.slot], 1u);
    }
}
