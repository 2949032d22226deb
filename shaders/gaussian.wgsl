// gaussian.wgsl: one separable pass of the Gaussian filter with half-sample symmetric
// ("reflect", ... c b a | a b c ...) borders, scipy's convention.
//
// Computes, for every voxel, out[i] = sum_t w[t] * in[line(i), reflect(pos(i) + t - radius)],
// the taps summed in order t = 0, 1, ... from 0.0 as valuescape_core::gaussian does. The
// weights are valuescape_core::gaussian::kernel's (81 taps at sigma 10, truncate 4), uploaded
// as a buffer. Three passes (z, y, x) filter the volume. Near the ends of a line the taps
// that fall off it are read reflected: in three runs (before the line, on it, after it) where
// the radius is shorter than the line, else through `reflect` (a remainder per tap).
//
// `axis_pass`: one workgroup per tile of `per` whole lines: it copies them into workgroup memory (each
// voxel read once from global memory, neighbouring invocations reading neighbouring
// addresses), then every output sums its taps from there. Lines are numbered so that line l
// starts at (l / inner) * outer_stride + (l % inner) * inner_stride; along z (stride 1) a
// line is contiguous, along y and x consecutive lines are (inner_stride 1).
// `axis_pass_direct`: one invocation per voxel reading its taps from global memory, the same
// sums in the same order. On an H200 it was the faster of the two (the caches serve the
// re-reads). `axis_pass_sliding` (the default, at the end): the direct kernel's sums, four
// outputs an invocation, each voxel of their taps read once. `gpu_bench` times all three.

struct Params {
    // Voxels along the filtered axis.
    len: u32,
    // Flat-index distance between neighbours along the axis.
    stride: u32,
    // Number of taps (2 * radius + 1).
    taps: u32,
    // Lines in the volume, and lines per tile (per * (len + 1) <= TILE).
    lines: u32,
    per: u32,
    inner: u32,
    inner_stride: u32,
    outer_stride: u32,
}

const WG: u32 = 256u;
const TILE: u32 = 3840u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;

var<workgroup> tile: array<f32, 3840>;

// Index of i (possibly outside 0..n) under half-sample symmetric reflection.
//
// The remainder is taken on unsigned values: i is shifted by 32768 periods first (i is at least
// -radius, and radius < 32768 * 2n for any kernel on an axis of at least one voxel). A signed
// `%` with a negative dividend gave wrong results on NVIDIA's Vulkan driver (H100, driver
// 580.159) for axis lengths that are not powers of two, while lavapipe was exact.
fn reflect(i: i32, n: i32) -> i32 {
    let period = 2 * n;
    let m = i32(u32(i + period * 32768) % u32(period));
    return select(period - 1 - m, m, m < n);
}

// Read the border taps in runs (see `folds`); false: through `reflect`, as before (kept for
// the benchmark's comparison; the sums are the same).
override FOLD: bool = true;

// Where the taps of the voxel at `pos` leave the line, for a radius `r` shorter than the line
// (`len`): tap t reads position j = pos + t - r, which lies before the line (j < 0, read at
// -j - 1) for t < x, on it for x <= t < y, and after it (j >= len, read at 2 len - 1 - j) from
// y on. With r < len, -len <= j < 2 len, so one fold gives `reflect`'s index without its
// remainder (a division per tap); the taps are still summed in order, so the sums are the
// same.
fn folds(pos: i32, r: i32, len: i32) -> vec2<u32> {
    let taps = i32(prm.taps);
    return vec2<u32>(u32(clamp(r - pos, 0, taps)), u32(clamp(len + r - pos, 0, taps)));
}

fn line_start(l: u32) -> u32 {
    return (l / prm.inner) * prm.outer_stride + (l % prm.inner) * prm.inner_stride;
}

// Element e of a tile of `lines_here` lines: (line in the tile, position along it), ordered so
// that consecutive e are consecutive addresses in global memory.
fn element(e: u32, lines_here: u32) -> vec2<u32> {
    if prm.stride == 1u {
        return vec2<u32>(e / prm.len, e % prm.len);
    }
    return vec2<u32>(e % lines_here, e / lines_here);
}

@compute @workgroup_size(256)
fn axis_pass(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = (wid.y * nwg.x + wid.x) * prm.per;
    if first >= prm.lines {
        return;
    }
    let lines_here = min(prm.per, prm.lines - first);
    let count = lines_here * prm.len;
    // Rows are len + 1 apart so that invocations reading the same position of consecutive
    // lines hit different memory banks.
    let pitch = prm.len + 1u;
    for (var e = lid; e < count; e = e + WG) {
        let cp = element(e, lines_here);
        tile[cp.x * pitch + cp.y] = src[line_start(first + cp.x) + cp.y * prm.stride];
    }
    workgroupBarrier();
    let len = i32(prm.len);
    let r = i32(prm.taps / 2u);
    for (var e = lid; e < count; e = e + WG) {
        let cp = element(e, lines_here);
        let row = cp.x * pitch;
        let pos = i32(cp.y);
        var acc = 0.0;
        if pos - r >= 0 && pos + r < len {
            // Interior: no reflection.
            let first_tap = row + u32(pos - r);
            for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
                acc = acc + weights[t] * tile[first_tap + t];
            }
        } else if FOLD && r < len {
            // One fold at most (see `folds`): the taps before the line, on it, after it.
            let f = folds(pos, r, len);
            for (var t: u32 = 0u; t < f.x; t = t + 1u) {
                acc = acc + weights[t] * tile[row + u32(r - pos - 1 - i32(t))];
            }
            for (var t: u32 = f.x; t < f.y; t = t + 1u) {
                acc = acc + weights[t] * tile[row + u32(pos + i32(t) - r)];
            }
            for (var t: u32 = f.y; t < prm.taps; t = t + 1u) {
                acc = acc + weights[t] * tile[row + u32(2 * len - 1 - (pos + i32(t) - r))];
            }
        } else {
            for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
                let j = reflect(pos + i32(t) - r, len);
                acc = acc + weights[t] * tile[row + u32(j)];
            }
        }
        dst[line_start(first + cp.x) + cp.y * prm.stride] = acc;
    }
}

@compute @workgroup_size(256)
fn axis_pass_direct(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if i >= prm.lines * prm.len {
        return;
    }
    let len = i32(prm.len);
    let stride = prm.stride;
    let pos = i32((i / stride) % prm.len);
    let base = i - u32(pos) * stride;
    let r = i32(prm.taps / 2u);
    var acc = 0.0;
    if pos - r >= 0 && pos + r < len {
        let first = base + u32(pos - r) * stride;
        for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
            acc = acc + weights[t] * src[first + t * stride];
        }
    } else if FOLD && r < len {
        // One fold at most (see `folds`): the taps before the line, on it, after it.
        let f = folds(pos, r, len);
        for (var t: u32 = 0u; t < f.x; t = t + 1u) {
            acc = acc + weights[t] * src[base + u32(r - pos - 1 - i32(t)) * stride];
        }
        for (var t: u32 = f.x; t < f.y; t = t + 1u) {
            acc = acc + weights[t] * src[base + u32(pos + i32(t) - r) * stride];
        }
        for (var t: u32 = f.y; t < prm.taps; t = t + 1u) {
            acc = acc + weights[t] * src[base + u32(2 * len - 1 - (pos + i32(t) - r)) * stride];
        }
    } else {
        for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
            let j = reflect(pos + i32(t) - r, len);
            acc = acc + weights[t] * src[base + u32(j) * stride];
        }
    }
    dst[i] = acc;
}

// Outputs a `axis_pass_sliding` invocation computes, consecutive along the line.
const RUN: u32 = 4u;

// Position along a line of length `len` that tap position `u` reads: `u` itself on the line,
// mirrored once where it falls off (the radius is shorter than the line, so
// -len <= u < 2 len for every output on the line), else through `reflect`. Clamped, for the
// positions only the outputs past the end of a line read (their sums are not written).
fn source_pos(u: i32, len: i32, r: i32) -> i32 {
    if r >= len {
        return reflect(u, len);
    }
    var j = u;
    if j < 0 {
        j = -j - 1;
    }
    if j >= len {
        j = 2 * len - 1 - j;
    }
    return clamp(j, 0, len - 1);
}

// `axis_pass_sliding` (the default): one invocation per RUN consecutive outputs of a line.
// Output pos + k sums w[t] * y(pos - r + t + k) for t = 0, 1, ..., the same products in the
// same order as `axis_pass_direct`, so the taps of the RUN outputs overlap: a window of RUN
// values read along the line slides one position per tap, and each position is read from
// global memory once (taps + RUN - 1 reads for RUN outputs instead of RUN * taps).
// Invocation i: line position group g = (i / stride) % groups, at base voxel
// (i / stride / groups) * stride * len + i % stride, so consecutive invocations read
// consecutive addresses along y and x (consecutive lines), and neighbouring runs along z.
@compute @workgroup_size(256)
fn axis_pass_sliding(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    let groups = (prm.len + RUN - 1u) / RUN;
    if i >= prm.lines * groups {
        return;
    }
    let stride = prm.stride;
    let rest = i / stride;
    let base = (rest / groups) * stride * prm.len + i % stride;
    let pos = (rest % groups) * RUN;
    let len = i32(prm.len);
    let r = i32(prm.taps / 2u);
    let u0 = i32(pos) - r;
    var y0 = src[base + u32(source_pos(u0, len, r)) * stride];
    var y1 = src[base + u32(source_pos(u0 + 1, len, r)) * stride];
    var y2 = src[base + u32(source_pos(u0 + 2, len, r)) * stride];
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
        let y3 = src[base + u32(source_pos(u0 + i32(t) + 3, len, r)) * stride];
        let w = weights[t];
        a0 = a0 + w * y0;
        a1 = a1 + w * y1;
        a2 = a2 + w * y2;
        a3 = a3 + w * y3;
        y0 = y1;
        y1 = y2;
        y2 = y3;
    }
    let out = base + pos * stride;
    dst[out] = a0;
    if pos + 1u < prm.len {
        dst[out + stride] = a1;
    }
    if pos + 2u < prm.len {
        dst[out + 2u * stride] = a2;
    }
    if pos + 3u < prm.len {
        dst[out + 3u * stride] = a3;
    }
}
