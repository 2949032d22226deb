// reduce.wgsl: parallel min-max reduction of an f32 buffer.
//
// Computes min and max of src[0..n) (NaN ignored) into stats[2 * slot] and stats[2 * slot + 1]
// as order-preserving u32 keys (key(x) < key(y) exactly when x < y), so one atomicMin /
// atomicMax per workgroup merges the workgroup results: a grid-stride loop per invocation, a
// tree reduction in workgroup memory, then the atomics. The host initialises the slots to
// 0xffffffff (min) and 0 (max) and decodes with the inverse map. Min and max are exact, so the
// result equals the CPU's fold bit for bit.

struct Params {
    n: u32,
    slot: u32,
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<atomic<u32>>;

var<workgroup> lo_s: array<f32, 256>;
var<workgroup> hi_s: array<f32, 256>;

fn key(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(256)
fn minmax(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let total = nwg.x * nwg.y * WG;
    var lo = 3.4028234663852886e38;
    var hi = -3.4028234663852886e38;
    for (var i = (wid.y * nwg.x + wid.x) * WG + lid; i < prm.n; i = i + total) {
        let x = src[i];
        if x == x {
            lo = min(lo, x);
            hi = max(hi, x);
        }
    }
    lo_s[lid] = lo;
    hi_s[lid] = hi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            lo_s[lid] = min(lo_s[lid], lo_s[lid + s]);
            hi_s[lid] = max(hi_s[lid], hi_s[lid + s]);
        }
        workgroupBarrier();
    }
    if lid == 0u {
        // An empty workgroup leaves (+max, -max): harmless for min and max.
        atomicMin(&stats[2u * prm.slot], key(lo_s[0]));
        atomicMax(&stats[2u * prm.slot + 1u], key(hi_s[0]));
    }
}
