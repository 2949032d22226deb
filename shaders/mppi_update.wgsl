// mppi_update.wgsl: MPPI's softmax-weighted update of the nominal controls, the GPU
// counterpart of valuescape_core::plan::mppi::update.
//
//   U[h][axis] += sum_k w_k delta[k][h][axis] / sum_k w_k,   w_k = exp(-(S_k - min S) / lambda)
//
// One workgroup per (h, axis) (dispatch horizon x 3): a strided loop and a tree reduction in
// workgroup memory give min S, then the two weighted sums.

struct Params {
    rollouts: u32,
    horizon: u32,
    temperature: f32,
    _pad0: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(3) var<storage, read_write> nominal: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> deltas: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> scores: array<f32>;

var<workgroup> red_a: array<f32, 256>;
var<workgroup> red_b: array<f32, 256>;

@compute @workgroup_size(256)
fn update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let h = wid.x;
    let axis = wid.y;
    var mn = 3.4028234663852886e38;
    for (var k = lid; k < prm.rollouts; k = k + WG) {
        mn = min(mn, scores[k]);
    }
    red_a[lid] = mn;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red_a[lid] = min(red_a[lid], red_a[lid + s]);
        }
        workgroupBarrier();
    }
    let smin = red_a[0];
    workgroupBarrier();
    let inv_t = 1.0 / prm.temperature;
    var den = 0.0;
    var num = 0.0;
    for (var k = lid; k < prm.rollouts; k = k + WG) {
        let w = exp(-(scores[k] - smin) * inv_t);
        den = den + w;
        num = num + w * deltas[k * prm.horizon + h][axis];
    }
    red_a[lid] = den;
    red_b[lid] = num;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            red_a[lid] = red_a[lid] + red_a[lid + s];
            red_b[lid] = red_b[lid] + red_b[lid + s];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        nominal[h][axis] = nominal[h][axis] + red_b[0] / red_a[0];
    }
}
