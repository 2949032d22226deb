// paint.wgsl: a map made dense from its painting (valuescape_core::paint::Painted), as the
// CPU's `Painted::to_vec`: every voxel takes the value of the last box that holds it, else
// the base. The map programs mostly fill a map and paint a few boxes (`m[x, y, z] = 1`,
// `set_voxel_by_radius`), so the host uploads those instead of a dense map.
// One invocation per voxel; voxels in C order (x slowest, z fastest).

struct Params {
    // Voxels per axis.
    nx: u32,
    ny: u32,
    nz: u32,
    // Boxes in `boxes` (the buffer always holds at least one).
    n_boxes: u32,
    // The value where no box is.
    base: f32,
    // nx * ny * nz.
    n: u32,
    _pad0: u32,
    _pad1: u32,
}

// Voxels lo <= v < hi on every axis take `value`.
struct PaintBox {
    lo: vec3<u32>,
    value: f32,
    hi: vec3<u32>,
    _pad: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> boxes: array<PaintBox>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn paint(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if i >= prm.n {
        return;
    }
    let v = vec3<u32>(i / (prm.ny * prm.nz), (i / prm.nz) % prm.ny, i % prm.nz);
    var value = prm.base;
    // The last box holding the voxel wins: look from the end.
    for (var b = prm.n_boxes; b > 0u; b = b - 1u) {
        let p = boxes[b - 1u];
        if all(v >= p.lo) && all(v < p.hi) {
            value = p.value;
            break;
        }
    }
    out[i] = value;
}
