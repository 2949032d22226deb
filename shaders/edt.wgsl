// edt.wgsl: one separable pass of the exact squared Euclidean distance transform.
//
// Computes, for every line of the volume along one axis, the 1-D squared distance transform
//   out[q] = min_p ((q - p)^2 + in[p])
// with Felzenszwalb and Huttenlocher's lower envelope of parabolas. One invocation runs one
// line (at most 256 voxels) with the envelope in private memory. Three passes (z, y, x) give
// the 3-D squared distance to the nearest seed (seeds are 0, the rest "unreached").
//
// Values are u32 squared distances (0xffffffff = unreached). They are integers below 2^18 on a
// 256^3 grid, so every parabola intersection is compared exactly as a fraction with i32
// cross-multiplication (|numerator| < 2^18, denominator <= 510): the result EQUALS the CPU's
// (valuescape_core::edt), not merely approximates it.

struct Params {
    // Number of lines in this pass.
    n_lines: u32,
    // Voxels per line.
    len: u32,
    // Line l starts at (l / a) * b + (l % a) * c ...
    a: u32,
    b: u32,
    c: u32,
    // ... and its voxels are `stride` apart.
    stride: u32,
    _pad0: u32,
    _pad1: u32,
}

const UNREACHED: u32 = 0xffffffffu;
const MAX_LEN: u32 = 256u;
const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(64)
fn line_pass(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let l = (wid.y * nwg.x + wid.x) * WG + lid;
    if l >= prm.n_lines {
        return;
    }
    let base = (l / prm.a) * prm.b + (l % prm.a) * prm.c;
    let n = min(prm.len, MAX_LEN);
    let stride = prm.stride;

    // The envelope: sites v[0..=k] and their values f[v[j]] (as i32).
    var v: array<i32, 256>;
    var fv: array<i32, 256>;
    var k: i32 = -1;
    for (var qu: u32 = 0u; qu < n; qu = qu + 1u) {
        let raw = src[base + qu * stride];
        if raw == UNREACHED {
            continue;
        }
        let q = i32(qu);
        let fq = i32(raw);
        loop {
            if k <= 0 {
                // k < 0: first site. k == 0: the boundary z[0] is -infinity, never popped.
                k = k + 1;
                v[k] = q;
                fv[k] = fq;
                break;
            }
            // s = intersection of q with v[k]; z = intersection of v[k] with v[k - 1].
            let p = v[k];
            let r = v[k - 1];
            let num_s = (fq + q * q) - (fv[k] + p * p);
            let den_s = 2 * (q - p);
            let num_z = (fv[k] + p * p) - (fv[k - 1] + r * r);
            let den_z = 2 * (p - r);
            if num_s * den_z <= num_z * den_s {
                k = k - 1;
                continue;
            }
            k = k + 1;
            v[k] = q;
            fv[k] = fq;
            break;
        }
    }
    if k < 0 {
        for (var qu: u32 = 0u; qu < n; qu = qu + 1u) {
            dst[base + qu * stride] = UNREACHED;
        }
        return;
    }
    var j: i32 = 0;
    for (var qu: u32 = 0u; qu < n; qu = qu + 1u) {
        let q = i32(qu);
        // Advance while the boundary z[j + 1] (intersection of v[j], v[j + 1]) lies below q.
        loop {
            if j >= k {
                break;
            }
            let p = v[j];
            let s = v[j + 1];
            let num = (fv[j + 1] + s * s) - (fv[j] + p * p);
            let den = 2 * (s - p);
            if num < q * den {
                j = j + 1;
            } else {
                break;
            }
        }
        let d = q - v[j];
        dst[base + qu * stride] = u32(d * d + fv[j]);
    }
}

// The same pass with a voxel an invocation (`line_pass_search`): a workgroup loads
// SEARCH_WG / len whole lines (at least one) into workgroup memory, and each invocation
// finds its voxel's minimum by searching outwards from it, r = 1, 2, ..., until r^2 is no
// less than the best found: a site r or more away cannot give less. The minimum is the same
// integer the envelope gives (out[q] is unique whichever way it is found). The search costs
// about the distance to the nearest site along the line, so a line without a site is marked
// as such and written unreached without one. Where `line_pass` runs a line's parabolas one
// after another in one invocation (n_lines invocations, a few hundred steps each, the
// envelope in private memory), this runs every voxel at once, each a few dozen steps at most
// from workgroup memory: more work, far more parallelism. EdtKernel::Search in cost.rs;
// kept to be measured against `line_pass` (gpu_bench's "edt, a voxel an invocation").
const SEARCH_WG: u32 = 256u;
var<workgroup> lines: array<u32, SEARCH_WG>;
var<workgroup> has_site: array<atomic<u32>, SEARCH_WG>;

@compute @workgroup_size(SEARCH_WG)
fn line_pass_search(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = min(prm.len, MAX_LEN);
    let per = max(1u, SEARCH_WG / n);
    // This invocation's line of the workgroup's and its voxel on it.
    let k = lid / n;
    let q = lid % n;
    let l = (wid.y * nwg.x + wid.x) * per + k;
    let on_line = k < per && l < prm.n_lines;
    if lid < per {
        atomicStore(&has_site[lid], 0u);
    }
    workgroupBarrier();
    var at = 0u;
    if on_line {
        at = (l / prm.a) * prm.b + (l % prm.a) * prm.c + q * prm.stride;
        let raw = src[at];
        lines[lid] = raw;
        if raw != UNREACHED {
            atomicStore(&has_site[k], 1u);
        }
    }
    workgroupBarrier();
    if !on_line {
        return;
    }
    var best = lines[lid];
    if atomicLoad(&has_site[k]) != 0u {
        let first = k * n;
        for (var r = 1u; r < n; r = r + 1u) {
            let rr = r * r;
            if best != UNREACHED && rr >= best {
                break;
            }
            if q >= r {
                let v = lines[first + q - r];
                if v != UNREACHED {
                    best = min(best, v + rr);
                }
            }
            if q + r < n {
                let v = lines[first + q + r];
                if v != UNREACHED {
                    best = min(best, v + rr);
                }
            }
        }
    }
    dst[at] = best;
}
