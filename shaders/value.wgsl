// value.wgsl: the cost-to-go V over the voxel graph by block-tiled value iteration, and the
// path down it; the GPU counterpart of valuescape_core::plan::field_value.
//
//   V(y) = 0 at targets, else min over neighbours x of V(x) + len * (STEP_COST + (c(y) + c(x)) / 2)
//
// over the 26 neighbours (8 in the plane when `planar`), never using x when x is blocked and y
// is free (a path never moves from a free voxel into a blocked one).
//
//   init     V = 0 at targets, +infinity elsewhere; every block marked changed;
//   flags    flags from the composed maps: target = (squared target distance == 0), blocked =
//            obstacle > 0.5 and not a target, the start never blocked (the pipeline's rule);
//   relax    one pass: one workgroup per 8x8x8 block. A block runs only when it or one of its
//            26 neighbour blocks changed in the previous pass (the others' inputs are as they
//            were when they last ran). It loads its values and costs (the blocked flag in the
//            cost's sign bit) with a one-voxel halo into workgroup memory, relaxes them in
//            place until nothing changes there (at most LOCAL_ITERS rounds), writes the
//            lowered values back and counts itself changed. PLANAR is a pipeline constant,
//            so the neighbour loops have constant bounds.
//            Passes sweep: a pass takes the blocks in lexicographic order (x slowest), each
//            axis forwards or backwards by the pass number (the 8 orders of fast sweeping, in
//            turn), and the workgroup ids are laid out in that order. A GPU starts
//            workgroups roughly in id order, so a block that starts after its upstream
//            neighbours finished loads their new values in the same pass: values cross more
//            than one block per pass where the grid holds more blocks than run at once.
//            Nothing depends on that order for correctness.
//            A pass in which no block changed proves the fixed point. Values only decrease and
//            are f32 bits (non-negative, so their order is the u32 order) in atomics, so
//            concurrent blocks read valid upper bounds (chaotic relaxation converges to the
//            same fixed point);
//   count    the voxels with finite V (the planner's `expanded`);
//   descend  one workgroup follows V downhill from the start, as field_value::descend does
//            (same neighbour order and comparisons; a driver may fuse the sums into FMAs, so
//            near-ties can break differently by an ulp), writing the path.
//
// Most of a pass's work is at the front: a block far from it reads 27 flags and returns.
// The host compiles these kernels without wgpu's zeroing of workgroup memory: each writes the
// workgroup memory it reads first.

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    // 1: 8-connected in the horizontal (x, y) plane.
    planar: u32,
    // Flat index of the start voxel (never blocked).
    start: u32,
    // Voxels in the grid.
    count: u32,
    step_cost: f32,
    // Room in path[] for voxels (path[0] holds the length, bit 31 set when cut short).
    max_path: u32,
    // Blocks per axis, and in all.
    bx: u32,
    by: u32,
    bz: u32,
    nblocks: u32,
}

// Per pass of a batch: its place in the batch, which is also the counter it increments.
struct Pass {
    slot: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Per batch: the passes run before it (pass numbers start at 1).
struct Batch {
    done: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const INF_BITS: u32 = 0x7f800000u;
// The counter every block that runs (loads its tile) increments: the work of a batch, in
// blocks (value.rs's RUNS_SLOT).
const RUNS_SLOT: u32 = 65u;
const TARGET: u32 = 1u;
const BLOCKED: u32 = 2u;
const SQRT2: f32 = 1.41421356;
const SQRT3: f32 = 1.73205081;
// Block edge, halo edge and halo volume.
const B: u32 = 8u;
const H: u32 = 10u;
const HALO: u32 = 1000u;
// Most in-block relaxation rounds per pass; a block still changing after them runs again.
// (Pipeline-overridable, for the benchmark's comparison.)
override LOCAL_ITERS: u32 = 16u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> cost: array<f32>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<storage, read_write> value: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> obstacle: array<f32>;
@group(0) @binding(6) var<storage, read> d2: array<u32>;
@group(0) @binding(7) var<storage, read_write> flags_out: array<u32>;
// Per block, two halves: whether it changed in an even pass, in an odd one.
@group(0) @binding(8) var<storage, read_write> block_changed: array<u32>;
@group(0) @binding(9) var<uniform> batch: Batch;
// Group 1 holds only the pass parameters: one bind group per slot, made once.
@group(1) @binding(0) var<uniform> pass_info: Pass;
@group(0) @binding(10) var<storage, read_write> path: array<u32>;

// The block and its halo: value bits, and cost with its sign bit set where the voxel is
// blocked (|cost| is the cost; outside the grid the value is +infinity, so never used).
var<workgroup> tile_v: array<atomic<u32>, 1000>;
var<workgroup> tile_c: array<f32, 1000>;
var<workgroup> wg_any: atomic<u32>;
var<workgroup> wg_flag: u32;

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

fn size() -> vec3<i32> {
    return vec3<i32>(i32(prm.nx), i32(prm.ny), i32(prm.nz));
}

fn inside(q: vec3<i32>) -> bool {
    return all(q >= vec3<i32>(0)) && all(q < size());
}

fn flat(q: vec3<i32>) -> u32 {
    return u32((q.x * i32(prm.ny) + q.y) * i32(prm.nz) + q.z);
}

fn step_len(dx: i32, dy: i32, dz: i32) -> f32 {
    let m = abs(dx) + abs(dy) + abs(dz);
    return select(select(SQRT3, SQRT2, m == 2), 1.0, m == 1);
}

@compute @workgroup_size(64)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if i < 2u * prm.nblocks {
        block_changed[i] = 1u;
    }
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

// 8-connected in the horizontal plane: a pipeline constant, so that the neighbour loops
// below have constant bounds (two pipelines, one per value).
override PLANAR: bool = false;

// Relaxes halo voxel h of the tile against its neighbours there (h is this invocation's own
// voxel: free or blocked, never a target or outside); true when it was lowered.
fn relax_one(h: u32, y_free: bool) -> bool {
    let cy = abs(tile_c[h]);
    let old = atomicLoad(&tile_v[h]);
    var best = bitcast<f32>(old);
    let dz_max = select(1, 0, PLANAR);
    for (var dx: i32 = -1; dx <= 1; dx = dx + 1) {
        for (var dy: i32 = -1; dy <= 1; dy = dy + 1) {
            for (var dz: i32 = -dz_max; dz <= dz_max; dz = dz + 1) {
                if dx == 0 && dy == 0 && dz == 0 {
                    continue;
                }
                let x = u32(i32(h) + (dx * i32(H) + dy) * i32(H) + dz);
                let vb = atomicLoad(&tile_v[x]);
                let cx = tile_c[x];
                if vb >= INF_BITS || (bitcast<u32>(cx) >= 0x80000000u && y_free) {
                    continue;
                }
                let cand = bitcast<f32>(vb)
                    + step_len(dx, dy, dz) * (prm.step_cost + 0.5 * (cy + abs(cx)));
                best = min(best, cand);
            }
        }
    }
    if best < bitcast<f32>(old) {
        atomicMin(&tile_v[h], bitcast<u32>(best));
        return true;
    }
    return false;
}

// One pass over the blocks (dispatched as bz x by x bx workgroups of 256, so that the
// workgroup id's x, fastest in dispatch order, is the block's z: each invocation owns two
// voxels of its 8x8x8 block, x and x + 4).
@compute @workgroup_size(256)
fn relax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let cur = batch.done + pass_info.slot + 1u;
    // This pass's sweep: bit k reverses axis k.
    let sweep = cur % 8u;
    let last = vec3<u32>(prm.bx, prm.by, prm.bz) - vec3<u32>(1u);
    let fwd = vec3<u32>(wg.z, wg.y, wg.x);
    let wid = select(fwd, last - fwd, vec3<bool>((sweep & 1u) != 0u, (sweep & 2u) != 0u, (sweep & 4u) != 0u));
    let blk = (wid.x * prm.by + wid.y) * prm.bz + wid.z;
    // This pass writes the half of block_changed of its parity and reads the other.
    let half = cur % 2u;
    let prev = 1u - half;

    // Run only when this block or a neighbour block changed in the previous pass.
    if lid == 0u {
        atomicStore(&wg_any, 0u);
    }
    workgroupBarrier();
    if lid < 27u {
        let q = vec3<i32>(wid) + vec3<i32>(i32(lid / 9u) - 1, i32((lid / 3u) % 3u) - 1, i32(lid % 3u) - 1);
        let nb = vec3<i32>(i32(prm.bx), i32(prm.by), i32(prm.bz));
        if all(q >= vec3<i32>(0)) && all(q < nb) {
            let qb = u32((q.x * nb.y + q.y) * nb.z + q.z);
            if block_changed[prev * prm.nblocks + qb] != 0u {
                atomicOr(&wg_any, 1u);
            }
        }
    }
    workgroupBarrier();
    if lid == 0u {
        wg_flag = atomicExchange(&wg_any, 0u);
    }
    if workgroupUniformLoad(&wg_flag) == 0u {
        if lid == 0u {
            block_changed[half * prm.nblocks + blk] = 0u;
        }
        return;
    }
    if lid == 0u {
        atomicAdd(&counters[RUNS_SLOT], 1u);
    }

    // Load the block and its halo; voxels outside the grid are +infinity and flagged.
    let origin = vec3<i32>(wid * B) - vec3<i32>(1);
    for (var h = lid; h < HALO; h = h + 256u) {
        let q = origin + vec3<i32>(i32(h / (H * H)), i32((h / H) % H), i32(h % H));
        if inside(q) {
            let g = flat(q);
            atomicStore(&tile_v[h], atomicLoad(&value[g]));
            let blocked = (flags[g] & BLOCKED) != 0u;
            tile_c[h] = bitcast<f32>(bitcast<u32>(cost[g]) | select(0u, 0x80000000u, blocked));
        } else {
            atomicStore(&tile_v[h], INF_BITS);
            tile_c[h] = 0.0;
        }
    }
    workgroupBarrier();

    // This invocation's two voxels (halo coordinates), and their values before the pass.
    let lx = lid / 64u;
    let ly = (lid / 8u) % 8u;
    let lz = lid % 8u;
    let h0 = ((lx + 1u) * H + ly + 1u) * H + lz + 1u;
    let h1 = h0 + 4u * H * H;
    let old0 = atomicLoad(&tile_v[h0]);
    let old1 = atomicLoad(&tile_v[h1]);
    // What each of the two voxels is: relaxed at all (inside the grid, not a target), free.
    let base = vec3<i32>(wid * B) + vec3<i32>(i32(lx), i32(ly), i32(lz));
    let q1 = base + vec3<i32>(4, 0, 0);
    let f0 = select(TARGET, flags[flat(base)], inside(base));
    let f1 = select(TARGET, flags[flat(q1)], inside(q1));
    let run0 = (f0 & TARGET) == 0u;
    let run1 = (f1 & TARGET) == 0u;

    // Relax in place until a round changes nothing (or LOCAL_ITERS rounds).
    var unsettled = 1u;
    for (var it = 0u; it < LOCAL_ITERS; it = it + 1u) {
        var lowered = false;
        if run0 {
            lowered = relax_one(h0, (f0 & BLOCKED) == 0u);
        }
        if run1 {
            lowered = relax_one(h1, (f1 & BLOCKED) == 0u) || lowered;
        }
        if lowered {
            atomicOr(&wg_any, 1u);
        }
        workgroupBarrier();
        if lid == 0u {
            wg_flag = atomicExchange(&wg_any, 0u);
        }
        if workgroupUniformLoad(&wg_flag) == 0u {
            unsettled = 0u;
            break;
        }
    }

    // Write the lowered values back (only this block writes its own voxels).
    let v0 = atomicLoad(&tile_v[h0]);
    let v1 = atomicLoad(&tile_v[h1]);
    var lowered = false;
    if v0 < old0 {
        atomicMin(&value[flat(base)], v0);
        lowered = true;
    }
    if v1 < old1 {
        atomicMin(&value[flat(q1)], v1);
        lowered = true;
    }
    if lowered {
        atomicOr(&wg_any, 1u);
    }
    workgroupBarrier();
    if lid == 0u {
        let changed = atomicLoad(&wg_any) | unsettled;
        block_changed[half * prm.nblocks + blk] = changed;
        if changed != 0u {
            atomicAdd(&counters[pass_info.slot], 1u);
        }
    }
}

var<workgroup> wg_count: atomic<u32>;

// Adds the number of voxels with finite V to counters[pass_info.slot].
@compute @workgroup_size(64)
fn count_finite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    if lid == 0u {
        atomicStore(&wg_count, 0u);
    }
    workgroupBarrier();
    let i = linear(wid, nwg, lid);
    if i < prm.count && atomicLoad(&value[i]) < INF_BITS {
        atomicAdd(&wg_count, 1u);
    }
    workgroupBarrier();
    if lid == 0u {
        atomicAdd(&counters[pass_info.slot], atomicLoad(&wg_count));
    }
}

var<workgroup> cand: array<f32, 32>;
var<workgroup> cand_ok: array<u32, 32>;
var<workgroup> walk_cur: u32;
var<workgroup> walk_len: u32;
var<workgroup> walk_cut: u32;
var<workgroup> walk_done: u32;

// Neighbour k of the 26 (8 when planar) in field_value's order: dx, dy, dz each from -1 to 1,
// (0, 0, 0) skipped (and dz != 0 when planar).
fn neighbour_offset(k: u32, planar: bool) -> vec3<i32> {
    if planar {
        let i = select(k + 1u, k, k < 4u);
        return vec3<i32>(i32(i / 3u) - 1, i32(i % 3u) - 1, 0);
    }
    let i = select(k + 1u, k, k < 13u);
    return vec3<i32>(i32(i / 9u) - 1, i32((i / 3u) % 3u) - 1, i32(i % 3u) - 1);
}

// Follows V downhill from the start (field_value::descend): at each voxel, to the allowed
// neighbour minimising edge weight + V (the first in neighbour order on ties) while V strictly
// decreases, until a target. path[0] = voxels on the path (bit 31: cut short at max_path),
// path[1..] their flat indices. One workgroup: invocation k weighs neighbour k, invocation 0
// picks the step in order.
@compute @workgroup_size(32)
fn descend(@builtin(local_invocation_index) lid: u32) {
    let planar = prm.planar != 0u;
    let steps = select(26u, 8u, planar);
    if lid == 0u {
        walk_cur = prm.start;
        walk_len = 1u;
        walk_cut = 0u;
        walk_done = select(1u, 0u, atomicLoad(&value[prm.start]) < INF_BITS);
        path[1] = prm.start;
    }
    loop {
        if workgroupUniformLoad(&walk_done) != 0u {
            break;
        }
        let cur = walk_cur;
        let p = vec3<i32>(i32(cur / (prm.ny * prm.nz)), i32((cur / prm.nz) % prm.ny), i32(cur % prm.nz));
        var ok = 0u;
        if lid < steps {
            let o = neighbour_offset(lid, planar);
            let q = p + o;
            if inside(q) {
                let u = flat(q);
                let vb = atomicLoad(&value[u]);
                let cur_blocked = (flags[cur] & BLOCKED) != 0u;
                if !((flags[u] & BLOCKED) != 0u && !cur_blocked) && vb < INF_BITS {
                    cand[lid] = bitcast<f32>(vb)
                        + step_len(o.x, o.y, o.z) * (prm.step_cost + 0.5 * (cost[cur] + cost[u]));
                    ok = 1u;
                }
            }
        }
        cand_ok[lid] = ok;
        workgroupBarrier();
        if lid == 0u {
            if (flags[cur] & TARGET) != 0u {
                walk_done = 1u;
            } else if walk_len >= prm.max_path {
                walk_cut = 1u;
                walk_done = 1u;
            } else {
                var found = false;
                var best = 0.0;
                var next = 0u;
                for (var k = 0u; k < steps; k = k + 1u) {
                    if cand_ok[k] != 0u && (!found || cand[k] < best) {
                        found = true;
                        best = cand[k];
                        next = k;
                    }
                }
                let u = flat(p + neighbour_offset(next, planar));
                if found && atomicLoad(&value[u]) < atomicLoad(&value[cur]) {
                    walk_cur = u;
                    walk_len = walk_len + 1u;
                    path[walk_len] = u;
                } else {
                    walk_done = 1u;
                }
            }
        }
    }
    if lid == 0u {
        path[0] = walk_len | (walk_cut << 31u);
    }
}
