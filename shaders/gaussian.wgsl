// gaussian.wgsl: one separable pass of the Gaussian filter with half-sample symmetric
// ("reflect", ... c b a | a b c ...) borders, scipy's convention.
//
// Computes, for every voxel, out[i] = sum_t w[t] * in[line(i), reflect(pos(i) + t - radius)],
// the taps summed in order t = 0, 1, ... from 0.0 as valuescape_core::gaussian does. The
// weights are valuescape_core::gaussian::kernel's (81 taps at sigma 10, truncate 4), uploaded
// as a buffer. Three passes (z, y, x) filter the volume. One invocation per voxel.

struct Params {
    // Voxels in the volume.
    n: u32,
    // Voxels along the filtered axis.
    len: u32,
    // Flat-index distance between neighbours along the axis.
    stride: u32,
    // Number of taps (2 * radius + 1).
    taps: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;

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

@compute @workgroup_size(256)
fn axis_pass(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if i >= prm.n {
        return;
    }
    let len = i32(prm.len);
    let stride = prm.stride;
    let pos = i32((i / stride) % prm.len);
    let base = i - u32(pos) * stride;
    let r = i32(prm.taps / 2u);
    var acc = 0.0;
    if pos - r >= 0 && pos + r < len {
        // Interior: no reflection.
        let first = base + u32(pos - r) * stride;
        for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
            acc = acc + weights[t] * src[first + t * stride];
        }
    } else {
        for (var t: u32 = 0u; t < prm.taps; t = t + 1u) {
            let j = reflect(pos + i32(t) - r, len);
            acc = acc + weights[t] * src[base + u32(j) * stride];
        }
    }
    dst[i] = acc;
}
