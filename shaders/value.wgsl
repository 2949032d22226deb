// value.wgsl: the cost-to-go V over the voxel graph by block-tiled value iteration, and the
// path down it; the GPU counterpart of valuescape_core::plan::field_value.
//
//   V(y) = 0 at targets, else min over neighbours x of V(x) + len * (STEP_COST + (c(y) + c(x)) / 2)
//
// over the 26 neighbours (8 in the plane when `planar`), never using x when x is blocked and y
// is free (a path never moves from a free voxel into a blocked one).
//
//   init     V = 0 at targets, +infinity elsewhere; no block marks;
//   mark_targets  every block holding a target marked as having written back 0 on every side
//            in pass 0;
//   flags    flags from the composed maps: target = (squared target distance == 0), blocked =
//            obstacle > 0.5 and not a target, the start never blocked (the pipeline's rule);
//            the squared target distance is kept above the two flag bits; and the cost's
//            lower bound for the goal direction (`bound`), from the reductions;
//   schedule, relax_listed   one pass (the default): `schedule` decides for each 8x8x8 block
//            whether it runs (`decide`, one invocation a block) and lists those that do;
//            `relax_listed` runs the list, one workgroup a block, through an indirect
//            dispatch. A pass that runs few blocks then launches few workgroups (on lavapipe
//            an idle pass at 100^3 went from 133 ms to 0.56 ms);
//   relax    one pass with every block dispatched, one workgroup a block, each deciding for
//            itself (the same `decide` and `run_block`): for grids of more blocks than one
//            dimension of a dispatch holds, the benchmark's comparison and the parity tests'
//            plain reference run.
//            In either, a block's inputs are the least value it wrote back in the previous
//            pass, the least value each of its 26 neighbour blocks wrote back there on its
//            side facing this block (block_marks: a mark per side), and what it held back
//            before; a block without inputs does not run (the others' values are as they
//            were when it last ran). A neighbour's input that cannot
//            lower this block is dropped: when it plus the least edge weight is no less than
//            the greatest value on this block's side facing it (SIDE_MARKS; about half the
//            runs changed nothing before; with marks per side this removes 25-30 % of the
//            runs and rounds on lavapipe's counts at 48^3 to 256^3). A block whose inputs all lie a
//            bucket (prm.bucket) or more above the front, the least input anywhere after the
//            last pass, holds them back to a later pass: the work goes in value order, as
//            delta-stepping's does, so that blocks run fewer times on values nearer final.
//            A block that runs loads its values and costs (the blocked flag in the cost's
//            sign bit) with a one-voxel halo into workgroup memory and relaxes them in place
//            until nothing changes there (at most LOCAL_ITERS rounds; after the first round,
//            only the voxels next to one lowered in the round before), writes the lowered
//            values back and marks each side with the least of them there (and the whole
//            block with the least of all), and keeps each side's greatest value. PLANAR is a pipeline
//            constant, so the neighbour loops have constant bounds.
//            Passes sweep: a pass takes the blocks in lexicographic order (x slowest), each
//            axis forwards or backwards by the pass number (the 8 orders of fast sweeping, in
//            turn), and the workgroup ids (and `schedule`'s list, roughly) are laid out in
//            that order. A GPU starts workgroups roughly in id order, so a block that starts
//            after its upstream
//            neighbours finished loads their new values in the same pass: values cross more
//            than one block per pass where the grid holds more blocks than run at once.
//            Nothing depends on that order, or on the bucket width, for correctness.
//            A plan (stop_at_start) also stops once V(start) is final: when no value a
//            block wrote back or held back in the last pass lies below V(start) as that pass
//            left it (the argument is in `decide`); every later pass changes nothing. A plan
//            also goes towards the start, as A* does (prm.guide_scale): the front, the buckets
//            and the stop weigh each value plus a lower bound of the cost from the start to
//            its block (`block_guide`), so that blocks off every cheap path from the start
//            wait behind the stop (they run only where they come within a bucket of the
//            front before it). Above prm.guide_limit for V(start) (f32 rounding), the stop
//            weighs values alone.
//            A pass in which no block changed or held back proves the fixed point. Values
//            only decrease and are f32 bits (non-negative, so their order is the u32 order) in
//            atomics, so concurrent blocks read valid upper bounds (chaotic relaxation
//            converges to the same fixed point);
//   count    the voxels with finite V (the planner's `expanded`), 16 of them an invocation;
//   descend  one workgroup follows V downhill from the start, as field_value::descend does
//            (same neighbour order and comparisons; a driver may fuse the sums into FMAs, so
//            near-ties can break differently by an ulp), writing the path; it takes its steps
//            in a window of the maps loaded into workgroup memory around the walk, so that it
//            waits on global memory once a window, not once or more a step.
//
// Most of a pass's work is at the front: a block far from it reads 27 marks and does not run.
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
    // 1: stop once V(start) is final (a plan's passes; see `decide`), 0: run to the fixed
    // point of the whole grid.
    stop_at_start: u32,
    // Width of the value buckets (see `decide`): a block whose new inputs all lie a bucket or
    // more above the front waits; 0: no buckets, every block with new inputs runs.
    bucket: f32,
    // The goal direction (see `block_guide`): the factor the lower bound of a voxel's
    // cost-to-come is taken at (0: none, the work goes in value order), and the V(start)
    // up to which the stop at the start may weigh values with it (f32 rounding, see `decide`).
    guide_scale: f32,
    guide_limit: f32,
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
// A block's sides: the 26 directions to its neighbour blocks and itself (13), as
// (dx + 1) * 9 + (dy + 1) * 3 + dz + 1; side d of a block is its voxels next to the
// neighbour block in direction d (a face of 64, an edge of 8 or a corner). Words of
// block_marks per block (value.rs's MARK_WORDS): see `mark_at`, `held_at`, `top_at`.
const SIDES: u32 = 27u;
const SELF_SIDE: u32 = 13u;
// The counter every block that runs (loads its tile) increments: the work of a batch, in
// blocks (value.rs's RUNS_SLOT).
const RUNS_SLOT: u32 = 65u;
// The counter every block that runs adds its in-block rounds to (value.rs's ROUNDS_SLOT).
const ROUNDS_SLOT: u32 = 66u;
// From this counter on, one per pass of a batch: the most in-block rounds a block ran in that
// pass (value.rs's PASS_ROUNDS).
const PASS_ROUNDS: u32 = 67u;
// After the batch's counters (which the host clears before each batch), the state of the
// front and of the stop at the start, kept across batches (value.rs's FRONT):
//   FRONT + p % 3      the least value any block wrote back in pass p, plus its block's guide
//                      (f32 bits; see `decide`);
//   FRONT + 3 + p % 2  V(start) after pass p (the start's block writes it each pass that decides);
//   FRONT + 5 + p % 3  the least input a block held back in pass p, plus its guide (f32 bits);
//   FRONT + 8 + p % 3  the least value any block wrote back in pass p, not weighed;
//   FRONT + 11 + p % 3 the least input a block held back in pass p, not weighed (these two
//                      serve the stop where V(start) is too high for the guide, see `decide`).
const FRONT: u32 = 131u;
const FRONT_WORDS: u32 = 14u;
const TARGET: u32 = 1u;
const BLOCKED: u32 = 2u;
// Flags made from the composed maps also hold the squared target distance, above the two
// flag bits (saturated at D2_MAX; exact for any grid the kernels take). value.rs's D2_SHIFT.
const D2_SHIFT: u32 = 2u;
const D2_MAX: u32 = 0x3fffffffu;
const SQRT2: f32 = 1.41421356;
const SQRT3: f32 = 1.73205081;
// Block edge, halo edge and halo volume.
const B: u32 = 8u;
const H: u32 = 10u;
const HALO: u32 = 1000u;
// Most in-block relaxation rounds per pass; a block still changing after them runs again.
// (Pipeline-overridable, for the benchmark's comparison.)
override LOCAL_ITERS: u32 = 4u;
// Fewest in-block rounds a block runs, settled or not: 0 for plans; the benchmark raises it
// to time rounds (value.rs's pass_anatomy).
override MIN_ROUNDS: u32 = 0u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> cost: array<f32>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<storage, read_write> value: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> obstacle: array<f32>;
@group(0) @binding(6) var<storage, read> d2: array<u32>;
@group(0) @binding(7) var<storage, read_write> flags_out: array<u32>;
// Per block (f32 bits, +infinity for none): for each side, the least value it wrote back there
// in an even pass, in an odd one (`mark_at`; the self side: anywhere in the block, kept apart
// and contiguous, so that a block whose neighbours changed nothing reads 27 neighbouring
// words); the least input it holds back, waiting for its bucket (`held_at`); and for each
// side, the greatest value there after its last run (`top_at`: +infinity before it first
// ran), against which its neighbours' marks are weighed.
@group(0) @binding(8) var<storage, read_write> block_marks: array<atomic<u32>>;
@group(0) @binding(9) var<uniform> batch: Batch;
// Group 1 holds only the pass parameters: one bind group per slot, made once.
@group(1) @binding(0) var<uniform> pass_info: Pass;
@group(0) @binding(10) var<storage, read_write> path: array<u32>;
// The lower bound of the problem's cost, cost >= max(0, a * target distance - b), and the
// start's target distance t0: (a, b, t0, 0). Written by `flags_from_maps` from the
// composition's reductions, or by the host for a problem it uploads.
@group(0) @binding(11) var<storage, read_write> bound: array<f32, 4>;
// The composition's reductions: (min, max) keys of the distance, the Gaussian, the raw sum
// (cost.rs's `GpuCostMaps::stats`).
@group(0) @binding(12) var<storage, read> stats: array<u32, 6>;
// The blocks that run in a pass where only they are dispatched (`schedule`, `relax_listed`),
// and for each parity of pass, the indirect dispatch's (x, y, z) with x the list's length,
// and a word of padding (value.rs's LIST_HEADER; a buffer of its own, as an indirect
// dispatch's arguments may not be bound for writing in the same dispatch).
@group(0) @binding(13) var<storage, read_write> run_list: array<atomic<u32>>;
@group(0) @binding(14) var<storage, read_write> run_args: array<atomic<u32>, 8>;
// The weight of the distance term in the cost (valuescape_core::cost::TARGET_WEIGHT).
override TARGET_WEIGHT: f32 = 2.0;

fn mark_at(parity: u32, blk: u32, side: u32) -> u32 {
    if side == SELF_SIDE {
        return parity * prm.nblocks + blk;
    }
    return 3u * prm.nblocks + (parity * prm.nblocks + blk) * SIDES + side;
}

fn held_at(blk: u32) -> u32 {
    return 2u * prm.nblocks + blk;
}

fn top_at(blk: u32, side: u32) -> u32 {
    return (3u + 2u * SIDES) * prm.nblocks + blk * SIDES + side;
}

// The block and its halo: value bits, and cost with its sign bit set where the voxel is
// blocked (|cost| is the cost; outside the grid the value is +infinity, so never used).
var<workgroup> tile_v: array<atomic<u32>, 1000>;
var<workgroup> tile_c: array<f32, 1000>;
var<workgroup> wg_any: atomic<u32>;
var<workgroup> wg_flag: u32;
// The least value this block wrote back in this pass (f32 bits).
var<workgroup> wg_min: atomic<u32>;
// Per side of the block (see SIDES): the least value written back there in this run, and the
// greatest value there after it.
var<workgroup> side_min: array<atomic<u32>, 27>;
var<workgroup> side_max: array<atomic<u32>, 27>;
// Which voxels of the block were lowered in a round, as one word per z-row of the tile
// (bit z of row x * H + y), for three rounds in turn: round r reads the rows of r % 3,
// marks those of (r + 1) % 3 and clears those of (r + 2) % 3 (read in round r - 1, marked
// from round r + 1 on).
var<workgroup> lowered_rows: array<array<atomic<u32>, 100>, 3>;

// In-block rounds after the first relax only the voxels with a neighbour lowered in the
// round before (`lowered_rows`); the others cannot change. (Pipeline-overridable, for the
// benchmark's comparison: false relaxes every voxel in every round.)
override SKIP_SETTLED: bool = true;

// A block drops a neighbour's input that cannot lower it (see `decide`); false: any neighbour
// that wrote back anything (its self side's mark) makes it run, as before side marks.
// (Pipeline-overridable, for the benchmark's comparison.)
override SIDE_MARKS: bool = true;

// With side marks, a neighbour's mark on the side facing this block is weighed against this
// block's greatest value there, and dropped where it cannot lower it (see `decide`); false
// keeps every facing mark. (Pipeline-overridable, for the parity test that the check saves
// runs: no path depends on it.)
override SIDE_TOPS: bool = true;

// Whether halo voxel h (inside the block) has a neighbour in the round's lowered rows.
fn near_lowered(h: u32, rows: u32) -> bool {
    let hx = h / (H * H);
    let hy = (h / H) % H;
    let hz = h % H;
    var m = 0u;
    for (var dx = 0u; dx < 3u; dx = dx + 1u) {
        for (var dy = 0u; dy < 3u; dy = dy + 1u) {
            m = m | atomicLoad(&lowered_rows[rows][(hx + dx - 1u) * H + hy + dy - 1u]);
        }
    }
    return ((m >> (hz - 1u)) & 7u) != 0u;
}

// Marks halo voxel h (inside the block) lowered in the rows `rows`.
fn mark_lowered(h: u32, rows: u32) {
    atomicOr(&lowered_rows[rows][h / H], 1u << (h % H));
}

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

fn size() -> vec3<i32> {
    return vec3<i32>(i32(prm.nx), i32(prm.ny), i32(prm.nz));
}

fn inside(q: vec3<i32>) -> bool {
    return all(q >= vec3<i32>(0)) && all(q < size());
}

// The voxel at flat index i (the inverse of `flat`).
fn voxel_of(i: u32) -> vec3<u32> {
    return vec3<u32>(i / (prm.ny * prm.nz), (i / prm.nz) % prm.ny, i % prm.nz);
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
    if i < (3u * SIDES + 3u) * prm.nblocks {
        atomicStore(&block_marks[i], INF_BITS);
    }
    if i < FRONT_WORDS {
        atomicStore(&counters[FRONT + i], INF_BITS);
    }
    if i >= prm.count {
        return;
    }
    atomicStore(&value[i], select(INF_BITS, 0u, (flags[i] & TARGET) != 0u));
}

// After `init`: marks every block holding a target as written back with value 0 on every side
// in pass 0, so that pass 1 runs those blocks and their neighbours (no other block can
// change in it).
@compute @workgroup_size(64)
fn mark_targets(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if i >= prm.count || (flags[i] & TARGET) == 0u {
        return;
    }
    let p = voxel_of(i) / B;
    let blk = (p.x * prm.by + p.y) * prm.bz + p.z;
    for (var side = 0u; side < SIDES; side = side + 1u) {
        atomicStore(&block_marks[mark_at(0u, blk, side)], 0u);
    }
}

@compute @workgroup_size(64)
fn flags_from_maps(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if i == 0u {
        // The lower bound exactly as GpuCostMaps::read_back derives it on the host: the raw
        // sum is at least TARGET_WEIGHT * distance / edt_max, and cost = (raw - min) / range.
        let edt_max = max(unkey(stats[1]), 0.0);
        let raw_min = unkey(stats[4]);
        let range = unkey(stats[5]) - raw_min;
        var a = 0.0;
        var b = 0.0;
        if range > 0.0 && edt_max > 0.0 {
            a = TARGET_WEIGHT / (edt_max * range) * 0.999;
            b = raw_min / range + 1e-5;
        }
        bound[0] = a;
        bound[1] = b;
        bound[2] = sqrt(f32(d2[prm.start]));
        bound[3] = 0.0;
    }
    if i >= prm.count {
        return;
    }
    let is_target = d2[i] == 0u;
    let blocked = obstacle[i] > 0.5 && !is_target && i != prm.start;
    flags_out[i] = select(0u, TARGET, is_target) | select(0u, BLOCKED, blocked)
        | (min(d2[i], D2_MAX) << D2_SHIFT);
}

fn unkey(k: u32) -> f32 {
    return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

// A lower bound of the cost of any path from the start to a voxel at Euclidean distance d
// from it, times prm.guide_scale:
//
//   H(d) = STEP_COST * d + integral_0^d max(0, a * (t0 - s) - b) ds
//
// Along such a path, at arc length s from the start, the target distance is at least t0 - s
// (it is 1-Lipschitz), so the cost there is at least max(0, a * (t0 - s) - b), which is
// increasing in the target distance and convex in s: each edge's trapezoid weight is at
// least its integral, and the path is at least d long. (valuescape_core::plan::value's
// heuristic is the same bound seen from the target side.) H is concave with H(0) = 0.
fn guide(d: f32) -> f32 {
    let a = bound[0];
    let b = bound[1];
    let t0 = bound[2];
    var h = prm.step_cost * d;
    if a > 0.0 {
        let e = min(d, max(t0 - b / a, 0.0));
        h = h + (a * t0 - b) * e - 0.5 * a * e * e;
    }
    return max(h, 0.0) * prm.guide_scale;
}

// The goal direction's weight of block `wid`: `guide` at the least distance from the start
// (voxel sp) to any voxel of the block, so at most `guide` at each of them. 0 when the
// plan runs without it.
fn block_guide(wid: vec3<u32>, sp: vec3<u32>) -> f32 {
    if prm.guide_scale == 0.0 {
        return 0.0;
    }
    let lo = vec3<f32>(wid * B);
    let hi = min(lo + f32(B - 1u), vec3<f32>(size() - vec3<i32>(1)));
    let s = vec3<f32>(sp);
    return guide(length(s - clamp(s, lo, hi)));
}

// `value` bits plus `g` as f32 bits, or INF_BITS for no value.
fn plus(value: u32, g: f32) -> u32 {
    if value >= INF_BITS {
        return INF_BITS;
    }
    return bitcast<u32>(bitcast<f32>(value) + g);
}

// 8-connected in the horizontal plane: a pipeline constant, so that the neighbour loops
// below have constant bounds (two pipelines, one per value).
override PLANAR: bool = false;

// What halo voxel h (cost cy; free or not) gets through its neighbour at offset o, as f32
// bits: INF_BITS where that neighbour has no value or may not be entered from h. (Infinity
// is only ever compared as bits: WGSL lets a shader assume floats are finite.)
fn through(h: u32, o: vec3<i32>, cy: f32, y_free: bool) -> u32 {
    let x = u32(i32(h) + (o.x * i32(H) + o.y) * i32(H) + o.z);
    let vb = atomicLoad(&tile_v[x]);
    let cx = tile_c[x];
    if vb >= INF_BITS || (bitcast<u32>(cx) >= 0x80000000u && y_free) {
        return INF_BITS;
    }
    return bitcast<u32>(bitcast<f32>(vb)
        + step_len(o.x, o.y, o.z) * (prm.step_cost + 0.5 * (cy + abs(cx))));
}

// The least of `old` (halo voxel h's value bits) and what its neighbours in the tile offer
// (h is this invocation's own voxel: free or blocked, never a target or outside). Values
// are non-negative, so their bits order as the floats do.
fn relax_one(h: u32, y_free: bool, old: u32) -> u32 {
    let cy = abs(tile_c[h]);
    var best = old;
    let dz_max = select(1, 0, PLANAR);
    for (var dx: i32 = -1; dx <= 1; dx = dx + 1) {
        for (var dy: i32 = -1; dy <= 1; dy = dy + 1) {
            for (var dz: i32 = -dz_max; dz <= dz_max; dz = dz + 1) {
                if dx == 0 && dy == 0 && dz == 0 {
                    continue;
                }
                best = min(best, through(h, vec3<i32>(dx, dy, dz), cy, y_free));
            }
        }
    }
    return best;
}

// One round for halo voxel h (run: relaxed at all; all: whether every voxel is relaxed this
// round, else only those next to one lowered the round before, in the rows `rows`): true
// when it was lowered, which marks it in the rows `next`.
fn round_voxel(h: u32, run: bool, y_free: bool, all: bool, rows: u32, next: u32) -> bool {
    if !run || !(all || near_lowered(h, rows)) {
        return false;
    }
    let old = atomicLoad(&tile_v[h]);
    let v = relax_one(h, y_free, old);
    if v < old {
        atomicMin(&tile_v[h], v);
        mark_lowered(h, next);
        return true;
    }
    return false;
}

// The block at place `pos` of pass `cur`'s order: blocks in lexicographic order (x slowest),
// each axis forwards or backwards by the pass number (bit k of cur % 8 reverses axis k).
fn swept(pos: u32, cur: u32) -> vec3<u32> {
    let fwd = block_coords(pos);
    let sweep = cur % 8u;
    let last = vec3<u32>(prm.bx, prm.by, prm.bz) - vec3<u32>(1u);
    return select(fwd, last - fwd, vec3<bool>((sweep & 1u) != 0u, (sweep & 2u) != 0u, (sweep & 4u) != 0u));
}

// A block's index from its coordinates (x slowest), and back.
// The pass a pass kernel runs: 1 for the first of a run.
fn pass_number() -> u32 {
    return batch.done + pass_info.slot + 1u;
}

fn block_at(wid: vec3<u32>) -> u32 {
    return (wid.x * prm.by + wid.y) * prm.bz + wid.z;
}

fn block_coords(blk: u32) -> vec3<u32> {
    return vec3<u32>(blk / (prm.by * prm.bz), (blk / prm.bz) % prm.by, blk % prm.bz);
}

fn start_voxel() -> vec3<u32> {
    return voxel_of(prm.start);
}

// Whether block `wid` runs in pass `cur` (one invocation per block: in `schedule`, before any
// block of the pass runs; in `relax`, while others run). Either gives the same answer:
// `decide` reads only words no block writes in this pass (marks of the other parity, the
// front's slots of the last pass, V(start) after it) or words only this block writes (its
// held input, its sides' greatest values, its own marks), and `run_block` reads none of what
// `decide` writes. The block's new inputs: the least value this block or a neighbour block
// wrote back in the previous pass, and what it held back before. It runs when it has any, the
// plan has not stopped at the start, and they lie within a bucket of the front (the least
// input anywhere after the last pass); otherwise it holds them back to a later pass. (Buckets
// only order the work, as delta-stepping does: the fixed point is the same for any width.) A
// block that does not run clears the marks it left two passes ago, and the start's block
// writes V(start) as the last pass left it.
fn decide(wid: vec3<u32>, cur: u32) -> bool {
    let blk = block_at(wid);
    // This pass writes the third of block_marks of its parity and reads the other's.
    let half = cur % 2u;
    let prev = 1u - half;
    if blk == 0u {
        // The slots the next pass writes its least values to: nothing reads them in this
        // pass (this one reads the last pass's slots and writes its own).
        let next = (cur + 1u) % 3u;
        atomicStore(&counters[FRONT + next], INF_BITS);
        atomicStore(&counters[FRONT + 5u + next], INF_BITS);
        atomicStore(&counters[FRONT + 8u + next], INF_BITS);
        atomicStore(&counters[FRONT + 11u + next], INF_BITS);
    }
    // Neighbour q in direction d = side `side` wrote back on its side -d (26 - side), next to
    // this block's side d. Where even the least of those values plus the least edge weight
    // (STEP_COST: costs are not negative) is no less than the greatest value on this
    // block's side d, no voxel here can be lowered through them: that input is dropped.
    // Why that is safe: q's voxels next to this block are exactly those on its side -d, and
    // theirs here exactly those on side d; each value q writes is weighed once, in the pass
    // after, against this block's values as they are then (only this block writes them,
    // and `top` is their greatest after its last run); a voxel here not on side d is lowered
    // only through one on it. The sum is rounded as `through` rounds its own, and rounding
    // is monotonic, so a candidate `through` forms is never below the sum compared here.
    // In the plane (PLANAR), a block above or below shares no z with this one: no edge joins
    // their voxels, so their inputs are never weighed.
    var input = INF_BITS;
    let nb = vec3<i32>(i32(prm.bx), i32(prm.by), i32(prm.bz));
    for (var side = 0u; side < SIDES; side = side + 1u) {
        if PLANAR && side % 3u != 1u {
            continue;
        }
        let q = vec3<i32>(wid) + vec3<i32>(i32(side / 9u) - 1, i32((side / 3u) % 3u) - 1, i32(side % 3u) - 1);
        if any(q < vec3<i32>(0)) || any(q >= nb) {
            continue;
        }
        let qb = block_at(vec3<u32>(q));
        // The whole block's mark first: finite whenever any side's is.
        let whole = atomicLoad(&block_marks[mark_at(prev, qb, SELF_SIDE)]);
        if whole >= INF_BITS {
            continue;
        }
        if side == SELF_SIDE || !SIDE_MARKS {
            input = min(input, whole);
        } else {
            let m = atomicLoad(&block_marks[mark_at(prev, qb, SIDES - 1u - side)]);
            let top = atomicLoad(&block_marks[top_at(blk, side)]);
            if m < INF_BITS && (!SIDE_TOPS || top >= INF_BITS
                || bitcast<u32>(bitcast<f32>(m) + prm.step_cost) < top) {
                input = min(input, m);
            }
        }
    }
    // The goal direction (prm.guide_scale > 0, plans only): each input is weighed by its
    // value plus `block_guide`, a lower bound of the cost-to-come from the start to any voxel
    // of the block that gets it, as A* weighs by cost plus heuristic; the front, the buckets
    // and the stop all use that sum. Blocks whose values cannot lie on a path from the start
    // at a cost below V(start) then wait behind the stop, and run only where they come
    // within a bucket of the front before it.
    let g_blk = block_guide(wid, start_voxel());
    // Stop at the start: once no value written back or held back in the last pass, plus
    // its block's guide, is below V(start) as that pass left it, V is final on every
    // voxel of every optimal path from the start, so V(start) is final and the descent
    // from the start takes the path it would take on the whole grid's fixed point. (Take
    // a voxel y on an optimal path from the start left wrong, and the last voxel of that
    // path still wrong, p, with its successor q right: q was right by the end of some
    // pass t. Had p's block run after t, it would have lowered p to its value from q. So
    // either q became right in the last pass, which wrote back V(q) plus q's block's
    // guide, or p's block holds back an input of at most V(q), counted with p's block's
    // guide. The guide of q's block is at most q's cost-to-come g(q), that of p's block at
    // most g(p) <= g(q), and V(q) + g(q) = V(start) on an optimal path, so either way the
    // plan does not stop.
    // With the guide the comparison is strict only if f32 rounding along the path stays
    // below the guide's margin (guide_scale is 1 - M): the values sum at most one
    // rounding of V(start) per step and each step costs at least STEP_COST, so it holds
    // while V(start) <= guide_limit = M * STEP_COST / 2^-23; above that the stop weighs
    // the values alone, as value order does.) Every pass after the stop changes nothing,
    // which ends the batch. The descent then takes the same path: a neighbour off every
    // optimal path has V at least its final value, so it wins no comparison it would not
    // win at the fixed point.
    let last_pass = (cur + 2u) % 3u;
    let front = min(atomicLoad(&counters[FRONT + last_pass]),
                    atomicLoad(&counters[FRONT + 5u + last_pass]));
    let v_start = atomicLoad(&counters[FRONT + 3u + (cur - 1u) % 2u]);
    // Above the limit the stop weighs the values alone, as in value order: then V is final
    // below V(start) (the argument above without the guides, for any order of the work).
    let weigh = prm.guide_scale > 0.0 && v_start <= bitcast<u32>(prm.guide_limit);
    let plain_front = min(atomicLoad(&counters[FRONT + 8u + last_pass]),
                          atomicLoad(&counters[FRONT + 11u + last_pass]));
    let stop = prm.stop_at_start != 0u && cur >= 2u
        && select(plain_front, front, weigh) >= v_start;
    let held = atomicLoad(&block_marks[held_at(blk)]);
    input = min(held, input);
    var run = input < INF_BITS && !stop;
    // (prm.bucket is 0 where there are no buckets; the front is finite here whenever any
    // input is, and a bucket's top is compared as bits, never as an infinity.)
    let gated = prm.bucket > 0.0 && front < INF_BITS;
    let weighed = plus(input, g_blk);
    // (A block at the front itself always runs, even where the front is so large that
    // adding the bucket rounds to it.)
    if run && cur >= 2u && gated && weighed > front
        && weighed >= bitcast<u32>(bitcast<f32>(front) + prm.bucket) {
        // Not yet: hold the input back (the pass counts the block as unfinished).
        run = false;
        atomicStore(&block_marks[held_at(blk)], input);
        atomicMin(&counters[FRONT + 5u + cur % 3u], weighed);
        atomicMin(&counters[FRONT + 11u + cur % 3u], input);
        atomicAdd(&counters[pass_info.slot], 1u);
    } else if run && held < INF_BITS {
        atomicStore(&block_marks[held_at(blk)], INF_BITS);
    }
    if run {
        return true;
    }
    // The marks it left in this parity's slots two passes ago (its self side's mark is
    // finite whenever any side's is) go; a block that runs overwrites them.
    if atomicLoad(&block_marks[mark_at(half, blk, SELF_SIDE)]) < INF_BITS {
        for (var side = 0u; side < select(1u, SIDES, SIDE_MARKS); side = side + 1u) {
            atomicStore(&block_marks[mark_at(half, blk, select(SELF_SIDE, side, SIDE_MARKS))], INF_BITS);
        }
    }
    let sb = start_voxel() / B;
    if blk == block_at(sb) {
        // Only the start's block writes V(start): it is as the last pass left it.
        atomicStore(&counters[FRONT + 3u + half], atomicLoad(&value[prm.start]));
    }
    return false;
}

// One pass over the blocks, every block dispatched (bz x by x bx workgroups of 256, so that
// the workgroup id's x, fastest in dispatch order, is the block's z): each block decides
// whether it runs (`decide`), and runs (`run_block`). `schedule` and `relax_listed` do the
// same in two dispatches, the second only over the blocks that run.
@compute @workgroup_size(256)
fn relax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let cur = pass_number();
    // Workgroup x (fastest in dispatch order) is the block's z.
    let wid = swept(block_at(vec3<u32>(wg.z, wg.y, wg.x)), cur);
    if lid == 0u {
        wg_flag = select(0u, 1u, !after_clean() && decide(wid, cur));
    }
    if workgroupUniformLoad(&wg_flag) == 0u {
        return;
    }
    run_block(wid, cur, lid);
}

// Whether the pass before this one in the batch was clean: no block changed or held back (the
// fixed point, or the stop at the start, where the host ends the plan). Then nothing can run
// in this pass: every block's inputs are infinite (the clean pass wrote no mark and left
// nothing held back, or its front left the stop in force), so a pass of the batch beyond the
// plan's end decides nothing (`schedule` lists no block, `relax` runs none) and leaves the
// marks and the front's words as they are: nothing reads them once the plan has ended.
fn after_clean() -> bool {
    return pass_info.slot > 0u && atomicLoad(&counters[pass_info.slot - 1u]) == 0u;
}

// One pass's first half where only the blocks that run are dispatched: one invocation per
// block, in the pass's order, decides (`decide`) and lists the block if it runs. The list's
// length is the x of the indirect dispatch of `relax_listed` that follows (run_args[4 * (pass
// % 2)]); the other parity's length is cleared for the next pass. The blocks are listed
// roughly in the pass's order (invocations start roughly in id order). After a clean pass
// (`after_clean`) the pass lists no block without deciding, so that the passes a batch holds
// beyond the plan's end cost little more than their launches.
@compute @workgroup_size(64)
fn schedule(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let cur = pass_number();
    let pos = linear(wg, nwg, lid);
    if pos >= prm.nblocks {
        return;
    }
    if pos == 0u {
        atomicStore(&run_args[4u * ((cur + 1u) % 2u)], 0u);
    }
    if after_clean() {
        return;
    }
    let wid = swept(pos, cur);
    if decide(wid, cur) {
        let k = atomicAdd(&run_args[4u * (cur % 2u)], 1u);
        atomicStore(&run_list[k], block_at(wid));
    }
}

// One pass's second half: workgroup k runs the k-th block `schedule` listed.
@compute @workgroup_size(256)
fn relax_listed(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let cur = pass_number();
    if lid == 0u {
        wg_flag = atomicLoad(&run_list[wg.x]);
    }
    let blk = workgroupUniformLoad(&wg_flag);
    run_block(block_coords(blk), cur, lid);
}

// Block `wid` runs in pass `cur`: loads its values and costs with a one-voxel halo, relaxes
// them in place, writes back what it lowered and marks its sides (see the header). Called by
// every invocation of a workgroup of 256: each owns two voxels of the block, x and x + 4.
fn run_block(wid: vec3<u32>, cur: u32, lid: u32) {
    let blk = block_at(wid);
    let half = cur % 2u;
    let sp = start_voxel();
    let sb = sp / B;
    let start_block = blk == block_at(sb);
    let start_h = ((sp.x % B + 1u) * H + sp.y % B + 1u) * H + sp.z % B + 1u;
    let g_blk = block_guide(wid, sp);
    if lid < SIDES {
        atomicStore(&side_min[lid], INF_BITS);
        atomicStore(&side_max[lid], 0u);
    }
    if lid == 0u {
        atomicStore(&wg_any, 0u);
        atomicStore(&wg_min, INF_BITS);
        atomicAdd(&counters[RUNS_SLOT], 1u);
    }
    // Load the block and its halo; voxels outside the grid are +infinity and flagged.
    // Clear the rows the first round marks.
    if lid < 100u {
        atomicStore(&lowered_rows[1][lid], 0u);
    }
    let origin = vec3<i32>(wid * B) - vec3<i32>(1);
    for (var h = lid; h < HALO; h = h + 256u) {
        let q = origin + vec3<i32>(i32(h / (H * H)), i32((h / H) % H), i32(h % H));
        var v = INF_BITS;
        if inside(q) {
            let g = flat(q);
            v = atomicLoad(&value[g]);
            let blocked = (flags[g] & BLOCKED) != 0u;
            tile_c[h] = bitcast<f32>(bitcast<u32>(cost[g]) | select(0u, 0x80000000u, blocked));
        } else {
            tile_c[h] = 0.0;
        }
        atomicStore(&tile_v[h], v);
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

    // Relax in place until a round changes nothing (or LOCAL_ITERS rounds). The first
    // round relaxes every voxel; later ones (with SKIP_SETTLED) only those next to a voxel
    // the round before lowered: a voxel whose neighbours kept their values since it was
    // last relaxed cannot be lowered.
    var unsettled = 1u;
    var rounds_run = LOCAL_ITERS;
    for (var it = 0u; it < LOCAL_ITERS; it = it + 1u) {
        let rows = it % 3u;
        let next = (it + 1u) % 3u;
        if lid < 100u {
            atomicStore(&lowered_rows[(it + 2u) % 3u][lid], 0u);
        }
        let all = it == 0u || !SKIP_SETTLED;
        let lowered0 = round_voxel(h0, run0, (f0 & BLOCKED) == 0u, all, rows, next);
        let lowered1 = round_voxel(h1, run1, (f1 & BLOCKED) == 0u, all, rows, next);
        if lowered0 || lowered1 {
            atomicOr(&wg_any, 1u);
        }
        workgroupBarrier();
        if lid == 0u {
            wg_flag = atomicExchange(&wg_any, 0u);
        }
        if workgroupUniformLoad(&wg_flag) == 0u && it + 1u >= MIN_ROUNDS {
            unsettled = 0u;
            rounds_run = it + 1u;
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
    if v0 < old0 {
        atomicMin(&wg_min, v0);
    }
    if v1 < old1 {
        atomicMin(&wg_min, v1);
    }
    if SIDE_MARKS && run0 {
        note_sides(vec3<u32>(lx, ly, lz), v0, v0 < old0);
    }
    if SIDE_MARKS && run1 {
        note_sides(vec3<u32>(lx + 4u, ly, lz), v1, v1 < old1);
    }
    if lowered {
        atomicOr(&wg_any, 1u);
    }
    workgroupBarrier();
    if lid == 0u {
        let changed = atomicLoad(&wg_any) | unsettled;
        // A block stopped unsettled lowered voxels in its last round: its least value is
        // finite, so it runs again.
        let least = atomicLoad(&wg_min);
        atomicStore(&block_marks[mark_at(half, blk, SELF_SIDE)], select(INF_BITS, least, changed != 0u));
        if changed != 0u {
            atomicAdd(&counters[pass_info.slot], 1u);
        }
        atomicAdd(&counters[ROUNDS_SLOT], rounds_run);
        atomicMax(&counters[PASS_ROUNDS + pass_info.slot], rounds_run);
        if least < INF_BITS {
            atomicMin(&counters[FRONT + cur % 3u], plus(least, g_blk));
            atomicMin(&counters[FRONT + 8u + cur % 3u], least);
        }
        if start_block {
            // The tile holds what this block wrote back (it alone writes its voxels).
            atomicStore(&counters[FRONT + 3u + half], atomicLoad(&tile_v[start_h]));
        }
    }
    // Each side's mark (what was lowered there) and greatest value.
    if SIDE_MARKS && lid < SIDES && lid != SELF_SIDE {
        atomicStore(&block_marks[mark_at(half, blk, lid)], atomicLoad(&side_min[lid]));
        atomicStore(&block_marks[top_at(blk, lid)], atomicLoad(&side_max[lid]));
    }
}

// Notes voxel c of the block (block coordinates; relaxed, not a target) with value bits v
// on each side it lies on: the greatest value there, and the least lowered (when `lowered`).
fn note_sides(c: vec3<u32>, v: u32, lowered: bool) {
    let lo = c == vec3<u32>(0u);
    let hi = c == vec3<u32>(B - 1u);
    if !(any(lo) || any(hi)) {
        return;
    }
    for (var side = 0u; side < SIDES; side = side + 1u) {
        let d = vec3<u32>(side / 9u, (side / 3u) % 3u, side % 3u);
        // Per axis: d 1 (no constraint), 0 (the low face), 2 (the high face).
        let on = (d == vec3<u32>(1u)) | ((d == vec3<u32>(0u)) & lo) | ((d == vec3<u32>(2u)) & hi);
        if side != SELF_SIDE && all(on) {
            atomicMax(&side_max[side], v);
            if lowered {
                atomicMin(&side_min[side], v);
            }
        }
    }
}

var<workgroup> wg_count: atomic<u32>;

// Voxels each invocation of `count_finite` counts (value.rs's COUNT_RUN): a workgroup counts
// COUNT_THREADS * COUNT_RUN consecutive voxels, reading them COUNT_THREADS at a time, and adds
// its count to the global counter once: a sixteenth of the workgroups and global atomics of
// a voxel an invocation.
const COUNT_RUN: u32 = 16u;
const COUNT_THREADS: u32 = 256u;

// Adds the number of voxels with finite V to counters[pass_info.slot].
@compute @workgroup_size(COUNT_THREADS)
fn count_finite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    if lid == 0u {
        atomicStore(&wg_count, 0u);
    }
    workgroupBarrier();
    let first = (wid.y * nwg.x + wid.x) * COUNT_THREADS * COUNT_RUN;
    var mine = 0u;
    for (var k = 0u; k < COUNT_RUN; k = k + 1u) {
        let i = first + k * COUNT_THREADS + lid;
        if i < prm.count && atomicLoad(&value[i]) < INF_BITS {
            mine = mine + 1u;
        }
    }
    if mine > 0u {
        atomicAdd(&wg_count, mine);
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
// What the walk does next: WALK_STEP steps on in the window, WALK_LOAD loads a window around
// walk_cur first, WALK_DONE stops.
var<workgroup> walk_state: u32;
const WALK_STEP: u32 = 0u;
const WALK_LOAD: u32 = 1u;
const WALK_DONE: u32 = 2u;

// The descent's window: V, costs and flags of the voxels within DESCENT_RADIUS (Chebyshev;
// DESCENT_RADIUS_PLANE in the plane, where the window is one voxel high) of where it was
// loaded, in workgroup memory. The walk takes its steps from there until it stands on the
// window's edge, and only then loads the next: a step moves at most one voxel on each axis,
// so it waits on global memory once in DESCENT_RADIUS steps or more (13 in the plane), where
// reading each step's neighbours from global memory waited on it twice or more a step. The
// path and its samples are the same for any radius.
// (Pipeline-overridable, for the benchmark's comparison: 1 loads the 27 voxels around each step.)
override DESCENT_RADIUS: u32 = 3u;
override DESCENT_RADIUS_PLANE: u32 = 13u;
// Voxels the window holds at most: 9^3 (DESCENT_RADIUS at most 4), 27^2 (DESCENT_RADIUS_PLANE
// at most 13); value.rs clamps both.
const WIN_MAX: u32 = 729u;
// Invocations of `descend`: those below the neighbour count weigh a neighbour each.
const DESCENT_THREADS: u32 = 256u;
var<workgroup> win_value: array<u32, WIN_MAX>;
var<workgroup> win_cost: array<f32, WIN_MAX>;
var<workgroup> win_flags: array<u32, WIN_MAX>;

// The window's radius on each axis.
fn win_radius(planar: bool) -> vec3<i32> {
    if planar {
        return vec3<i32>(i32(DESCENT_RADIUS_PLANE), i32(DESCENT_RADIUS_PLANE), 0);
    }
    return vec3<i32>(i32(DESCENT_RADIUS));
}

// Index in the window centred on `centre` of voxel q (within the window's radius of it).
fn win_at(q: vec3<i32>, centre: vec3<i32>, planar: bool) -> u32 {
    let r = win_radius(planar);
    let e = 2 * r + vec3<i32>(1);
    let l = q - centre + r;
    return u32((l.x * e.y + l.y) * e.z + l.z);
}

// Loads the window centred on `centre` (every invocation takes its share; voxels outside the
// grid are left unreachable: infinite V, and `inside` keeps the walk from reading them).
fn load_window(centre: vec3<i32>, planar: bool, lid: u32) {
    let r = win_radius(planar);
    let e = 2 * r + vec3<i32>(1);
    let count = u32(e.x * e.y * e.z);
    for (var w = lid; w < count; w = w + DESCENT_THREADS) {
        let l = vec3<i32>(i32(w) / (e.y * e.z), (i32(w) / e.z) % e.y, i32(w) % e.z);
        let q = centre - r + l;
        var v = INF_BITS;
        var c = 0.0;
        var f = 0u;
        if inside(q) {
            let u = flat(q);
            v = atomicLoad(&value[u]);
            c = cost[u];
            f = flags[u];
        }
        win_value[w] = v;
        win_cost[w] = c;
        win_flags[w] = f;
    }
}

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

// Writes the cost c and flags f of the k-th voxel of the path (from 1), after the indices.
fn sample(k: u32, c: f32, f: u32) {
    let at = prm.max_path + 1u + 2u * (k - 1u);
    path[at] = bitcast<u32>(c);
    path[at + 1u] = f;
}

// Follows V downhill from the start (field_value::descend): at each voxel, to the allowed
// neighbour minimising edge weight + V (the first in neighbour order on ties) while V strictly
// decreases, until a target. path[0] = voxels on the path (bit 31: cut short at max_path),
// path[1..] their flat indices; after max_path + 1 words, two per voxel of the path: its
// cost (f32 bits) and its flags (with the squared target distance above the flag bits), so
// that a plan need not read the maps back to measure its path (`sample`). One workgroup: it
// loads a window of the maps around the walk (`load_window`), invocation k weighs neighbour k
// there, invocation 0 picks the step in order, and the walk loads the next window when it
// reaches this one's edge.
@compute @workgroup_size(DESCENT_THREADS)
fn descend(@builtin(local_invocation_index) lid: u32) {
    let planar = prm.planar != 0u;
    let steps = select(26u, 8u, planar);
    if lid == 0u {
        walk_cur = prm.start;
        walk_len = 1u;
        walk_cut = 0u;
        walk_state = select(WALK_DONE, WALK_LOAD, atomicLoad(&value[prm.start]) < INF_BITS);
        path[1] = prm.start;
        sample(1u, cost[prm.start], flags[prm.start]);
    }
    // Where the window is centred (the same in every invocation).
    var centre = vec3<i32>(0);
    loop {
        let state = workgroupUniformLoad(&walk_state);
        if state == WALK_DONE {
            break;
        }
        let p = vec3<i32>(voxel_of(walk_cur));
        if state == WALK_LOAD {
            centre = p;
            load_window(centre, planar, lid);
            workgroupBarrier();
        }
        let cw = win_at(p, centre, planar);
        if lid < steps {
            let o = neighbour_offset(lid, planar);
            let q = p + o;
            var ok = 0u;
            if inside(q) {
                let uw = win_at(q, centre, planar);
                let vb = win_value[uw];
                let cur_blocked = (win_flags[cw] & BLOCKED) != 0u;
                if !((win_flags[uw] & BLOCKED) != 0u && !cur_blocked) && vb < INF_BITS {
                    cand[lid] = bitcast<f32>(vb)
                        + step_len(o.x, o.y, o.z) * (prm.step_cost + 0.5 * (win_cost[cw] + win_cost[uw]));
                    ok = 1u;
                }
            }
            cand_ok[lid] = ok;
        }
        workgroupBarrier();
        if lid == 0u {
            walk_state = WALK_DONE;
            if (win_flags[cw] & TARGET) != 0u {
                // At a target.
            } else if walk_len >= prm.max_path {
                walk_cut = 1u;
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
                let q = p + neighbour_offset(next, planar);
                let uw = win_at(q, centre, planar);
                if found && win_value[uw] < win_value[cw] {
                    walk_cur = flat(q);
                    walk_len = walk_len + 1u;
                    path[walk_len] = walk_cur;
                    sample(walk_len, win_cost[uw], win_flags[uw]);
                    // On the window's edge, the next step's neighbours are not all in it.
                    let off = abs(q - centre);
                    let r = win_radius(planar);
                    let edge = off.x >= r.x || off.y >= r.y || (!planar && off.z >= r.z);
                    walk_state = select(WALK_STEP, WALK_LOAD, edge);
                }
            }
        }
    }
    if lid == 0u {
        path[0] = walk_len | (walk_cut << 31u);
    }
}
