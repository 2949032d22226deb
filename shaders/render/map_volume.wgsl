// map_volume.wgsl: draws a value map straight from the GPU buffer the compute kernels wrote
// (f32 per voxel, C order), with no copy through the CPU: the viewer's `MapVolumeMaterial`.
//
// The mesh is the grid's bounding box, drawn by its back faces (so it also works with the
// camera inside the box). Each fragment casts the eye ray through the grid with a 3-D DDA
// (Amanatides-Woo) and stops at the first voxel whose value, mapped from [lo, hi] to [0, 1],
// is above the threshold (below it with `invert`): the same voxels the CPU path's surface
// mesh (`surface::exposed_faces`) draws at full resolution, coloured by the same viridis
// table and lit by the face the ray entered through. The fragment's depth is the hit's, so
// the scene's objects hide the map and the map hides them exactly where they meet.
//
// Coordinates: Bevy's world is y up; VoxPoser's (the grid's) is z up: w = (b.x, -b.z, b.y).
// Voxel i along an axis spans [min + (i - 1/2) step, min + (i + 1/2) step].

#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view

struct VolumeParams {
    // Centre of voxel (0, 0, 0), VoxPoser world coordinates (w unused).
    grid_min: vec4<f32>,
    // Voxel pitch per axis (w unused).
    voxel: vec4<f32>,
    // Voxels per axis (w unused).
    size: vec4<u32>,
    // lo, hi, threshold, invert (0 or 1).
    range: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> prm: VolumeParams;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> values: array<f32>;

struct FragmentOut {
    @location(0) color: vec4<f32>,
    @builtin(frag_depth) depth: f32,
}

// Viridis at 9 evenly spaced stops and its end (sRGB), as `colormap::viridis`.
const VIRIDIS = array<vec3<f32>, 10>(
    vec3<f32>(0.267, 0.005, 0.329),
    vec3<f32>(0.283, 0.141, 0.458),
    vec3<f32>(0.254, 0.265, 0.530),
    vec3<f32>(0.207, 0.372, 0.553),
    vec3<f32>(0.164, 0.471, 0.558),
    vec3<f32>(0.128, 0.567, 0.551),
    vec3<f32>(0.135, 0.659, 0.518),
    vec3<f32>(0.267, 0.749, 0.441),
    vec3<f32>(0.478, 0.821, 0.319),
    vec3<f32>(0.993, 0.906, 0.144),
);

fn viridis(t: f32) -> vec3<f32> {
    let x = clamp(t, 0.0, 1.0) * 9.0;
    let i = min(u32(floor(x)), 8u);
    let f = x - f32(i);
    // A local copy: indexed at run time.
    var table = VIRIDIS;
    return mix(table[i], table[i + 1u], f);
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c <= vec3<f32>(0.04045));
}

fn to_world(b: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(b.x, -b.z, b.y);
}

fn to_bevy(w: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(w.x, w.z, -w.y);
}

// Normalised value (0..1) as `colormap::normalize`: a flat range maps to 0.5.
fn normalized(v: f32) -> f32 {
    let lo = prm.range.x;
    let hi = prm.range.y;
    if hi > lo {
        return clamp((v - lo) / (hi - lo), 0.0, 1.0);
    }
    return 0.5;
}

fn shown(t: f32) -> bool {
    if prm.range.w > 0.5 {
        return t < prm.range.z;
    }
    return t > prm.range.z;
}

@fragment
fn fragment(in: VertexOutput) -> FragmentOut {
    let n = vec3<i32>(prm.size.xyz);
    let nf = vec3<f32>(prm.size.xyz);
    // The eye ray in grid units: g = (w - min) / voxel + 1/2, so voxel i spans [i, i + 1).
    let eye = to_world(view.world_position);
    let frag = to_world(in.world_position.xyz);
    let o = (eye - prm.grid_min.xyz) / prm.voxel.xyz + vec3<f32>(0.5);
    let d = (frag - eye) / prm.voxel.xyz;
    // Zero components would divide by zero below; nudge them (the ray is then parallel to
    // within 1e-12 voxels per unit, which never crosses a voxel boundary).
    let dir = select(d, vec3<f32>(1e-12), abs(d) < vec3<f32>(1e-12));
    let inv = 1.0 / dir;
    // Where the ray is inside the box [0, n].
    let ta = (vec3<f32>(0.0) - o) * inv;
    let tb = (nf - o) * inv;
    let t_lo = min(ta, tb);
    let t_hi = max(ta, tb);
    let t_enter = max(max(t_lo.x, t_lo.y), t_lo.z);
    let t_exit = min(min(t_hi.x, t_hi.y), t_hi.z);
    if t_exit <= max(t_enter, 0.0) {
        discard;
    }
    // The face the ray enters through (when it starts outside): the last slab it crossed.
    var axis = 0;
    if t_lo.y >= t_lo.x && t_lo.y >= t_lo.z {
        axis = 1;
    } else if t_lo.z >= t_lo.x && t_lo.z >= t_lo.y {
        axis = 2;
    }
    var t = max(t_enter, 0.0);
    let p = o + dir * t;
    var cell = clamp(vec3<i32>(floor(p)), vec3<i32>(0), n - vec3<i32>(1));
    let stepv = vec3<i32>(sign(dir));
    let t_delta = abs(inv);
    // Ray parameter at which each axis next crosses a voxel boundary.
    let next_edge = vec3<f32>(cell) + select(vec3<f32>(0.0), vec3<f32>(1.0), dir > vec3<f32>(0.0));
    var t_max = (next_edge - o) * inv;
    let max_steps = n.x + n.y + n.z + 3;
    var hit = false;
    var value = 0.0;
    for (var s = 0; s < max_steps; s = s + 1) {
        let idx = (u32(cell.x) * prm.size.y + u32(cell.y)) * prm.size.z + u32(cell.z);
        value = values[idx];
        if shown(normalized(value)) {
            hit = true;
            break;
        }
        // Step into the neighbour across the nearest boundary.
        if t_max.x <= t_max.y && t_max.x <= t_max.z {
            axis = 0;
            t = t_max.x;
            t_max.x = t_max.x + t_delta.x;
            cell.x = cell.x + stepv.x;
        } else if t_max.y <= t_max.z {
            axis = 1;
            t = t_max.y;
            t_max.y = t_max.y + t_delta.y;
            cell.y = cell.y + stepv.y;
        } else {
            axis = 2;
            t = t_max.z;
            t_max.z = t_max.z + t_delta.z;
            cell.z = cell.z + stepv.z;
        }
        if any(cell < vec3<i32>(0)) || any(cell >= n) {
            break;
        }
    }
    if !hit {
        discard;
    }
    // Lit by the face entered (its normal faces the eye), with the CPU mesh's palette.
    var normal_w = vec3<f32>(0.0);
    normal_w[axis] = -sign(dir[axis]);
    let normal = normalize(to_bevy(normal_w));
    let light = normalize(vec3<f32>(0.4, 1.0, 0.3));
    let shade = 0.45 + 0.55 * max(dot(normal, light), 0.0);
    let albedo = srgb_to_linear(viridis(normalized(value)));
    var out: FragmentOut;
    out.color = vec4<f32>(albedo * shade, 1.0);
    // Depth of the hit point (the ray parameter is in the same units for every space).
    let hit_w = eye + (frag - eye) * t;
    let clip = view.clip_from_world * vec4<f32>(to_bevy(hit_w), 1.0);
    out.depth = clip.z / clip.w;
    return out;
}
