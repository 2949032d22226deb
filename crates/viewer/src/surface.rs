//! Renderer-free geometry for value maps: the merged mesh of the exposed faces of the voxels
//! above a threshold, and axis-aligned slice images. Coordinates are world metres, z up.

use valuescape_core::Grid;
use valuescape_voxposer::StepMaps;

use crate::colormap::{normalize, viridis, viridis_rgba8};
use crate::state::ShownMap;

/// Most faces one map mesh may have; denser surfaces are drawn on a coarser block grid.
pub const MAX_FACES: usize = 300_000;

/// A triangle mesh of voxel faces, ready to upload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SurfaceMesh {
    /// Vertex positions, world metres (z up).
    pub positions: Vec<[f32; 3]>,
    /// Vertex normals (z up).
    pub normals: Vec<[f32; 3]>,
    /// Vertex colours, sRGB 0..1 (alpha 1).
    pub colors: Vec<[f32; 4]>,
    /// Triangle indices.
    pub indices: Vec<u32>,
    /// Voxels per block side the mesh was built at (1 = full resolution).
    pub stride: usize,
    /// Voxels (or blocks) above the threshold.
    pub solid: usize,
}

impl SurfaceMesh {
    /// Number of quads.
    pub fn faces(&self) -> usize {
        self.indices.len() / 6
    }
}

/// Voxel pitch per axis: voxel centres sit at `min + i * pitch` (the first at the grid's
/// lower corner, the last at its upper one), and a voxel spans `+-pitch / 2` around its centre.
pub fn voxel_pitch(grid: &Grid) -> [f64; 3] {
    let e = grid.extent();
    [0, 1, 2].map(|a| e[a] / (grid.size[a].max(2) - 1) as f64)
}

/// The six face directions: axis and sign.
const DIRS: [(usize, i64); 6] = [(0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1)];

/// The exposed faces of the voxels whose value, mapped from `[lo, hi]` to `[0, 1]`, exceeds
/// `threshold` (is below it, with `invert`). `values` is one value per voxel of `grid` in C
/// order. If the full-resolution surface would have more than `max_faces` faces, blocks of
/// 2, 3, ... voxels are used (a block takes its largest value, its smallest with `invert`).
pub fn exposed_faces(
    grid: &Grid,
    values: &[f32],
    (lo, hi): (f32, f32),
    threshold: f32,
    invert: bool,
    max_faces: usize,
) -> SurfaceMesh {
    if values.len() != grid.len() {
        return SurfaceMesh::default();
    }
    let mut stride = 1;
    loop {
        let (dims, block) = coarsen(grid, values, stride, invert);
        let above: Vec<bool> = block
            .iter()
            .map(|&v| {
                let t = normalize(v, lo, hi);
                !v.is_nan() && if invert { t < threshold } else { t > threshold }
            })
            .collect();
        let count = count_faces(dims, &above);
        if count <= max_faces || dims.iter().all(|&d| d <= 2) {
            return build(grid, stride, dims, &block, &above, lo, hi, count);
        }
        stride += 1;
    }
}

/// Block maxima (minima with `min`) of `values` with `stride`-voxel blocks; returns the
/// block grid dims.
fn coarsen(grid: &Grid, values: &[f32], stride: usize, min: bool) -> ([usize; 3], Vec<f32>) {
    if stride == 1 {
        return (grid.size, values.to_vec());
    }
    let n = grid.size;
    let dims = n.map(|x| x.div_ceil(stride));
    let mut out = vec![f32::NAN; dims[0] * dims[1] * dims[2]];
    for (idx, &v) in values.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        let [i, j, k] = grid.voxel(idx);
        let b = ((i / stride) * dims[1] + j / stride) * dims[2] + k / stride;
        let o = out[b];
        if o.is_nan() || (min && v < o) || (!min && v > o) {
            out[b] = v;
        }
    }
    (dims, out)
}

fn at(dims: [usize; 3], above: &[bool], v: [i64; 3]) -> bool {
    if (0..3).any(|a| v[a] < 0 || v[a] >= dims[a] as i64) {
        return false;
    }
    above[((v[0] as usize) * dims[1] + v[1] as usize) * dims[2] + v[2] as usize]
}

fn for_each_face(
    dims: [usize; 3],
    above: &[bool],
    mut f: impl FnMut(usize, [usize; 3], usize, i64),
) {
    for (idx, _) in above.iter().enumerate().filter(|(_, a)| **a) {
        let k = idx % dims[2];
        let j = (idx / dims[2]) % dims[1];
        let i = idx / (dims[1] * dims[2]);
        let v = [i as i64, j as i64, k as i64];
        for (axis, sign) in DIRS {
            let mut n = v;
            n[axis] += sign;
            if !at(dims, above, n) {
                f(idx, [i, j, k], axis, sign);
            }
        }
    }
}

fn count_faces(dims: [usize; 3], above: &[bool]) -> usize {
    let mut c = 0;
    for_each_face(dims, above, |_, _, _, _| c += 1);
    c
}

#[allow(clippy::too_many_arguments)]
fn build(
    grid: &Grid,
    stride: usize,
    dims: [usize; 3],
    block: &[f32],
    above: &[bool],
    lo: f32,
    hi: f32,
    faces: usize,
) -> SurfaceMesh {
    let mut m = SurfaceMesh {
        positions: Vec::with_capacity(faces * 4),
        normals: Vec::with_capacity(faces * 4),
        colors: Vec::with_capacity(faces * 4),
        indices: Vec::with_capacity(faces * 6),
        stride,
        solid: above.iter().filter(|a| **a).count(),
    };
    // Voxel centres sit at min + i * step; a voxel spans +-step/2 around its centre.
    let step = voxel_pitch(grid);
    for_each_face(dims, above, |idx, [i, j, k], axis, sign| {
        let b = [i, j, k];
        // Block spans voxels [b*stride, min((b+1)*stride, n) - 1].
        let lo_c: [f64; 3] =
            [0, 1, 2].map(|a| grid.min[a] + ((b[a] * stride) as f64 - 0.5) * step[a]);
        let hi_c: [f64; 3] = [0, 1, 2].map(|a| {
            let last = ((b[a] + 1) * stride).min(grid.size[a]) - 1;
            grid.min[a] + (last as f64 + 0.5) * step[a]
        });
        let t = normalize(block[idx], lo, hi);
        let c = viridis(t);
        let color = [c[0], c[1], c[2], 1.0];
        let (u, w) = ((axis + 1) % 3, (axis + 2) % 3);
        let plane = if sign > 0 { hi_c[axis] } else { lo_c[axis] };
        let corner = |cu: f64, cw: f64| {
            let mut p = [0.0f32; 3];
            p[axis] = plane as f32;
            p[u] = cu as f32;
            p[w] = cw as f32;
            p
        };
        let quad = [
            corner(lo_c[u], lo_c[w]),
            corner(hi_c[u], lo_c[w]),
            corner(hi_c[u], hi_c[w]),
            corner(lo_c[u], hi_c[w]),
        ];
        let mut normal = [0.0f32; 3];
        normal[axis] = sign as f32;
        let base = m.positions.len() as u32;
        m.positions.extend_from_slice(&quad);
        m.normals.extend_from_slice(&[normal; 4]);
        m.colors.extend_from_slice(&[color; 4]);
        // (u, w, axis) is right-handed, so 0-1-2 is counter-clockwise seen from +axis.
        if sign > 0 {
            m.indices
                .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
        } else {
            m.indices
                .extend_from_slice(&[base, base + 2, base + 1, base, base + 3, base + 2]);
        }
    });
    m
}

/// An axis-aligned slice of a field as an 8-bit sRGBA image.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceImage {
    /// Image width: voxels along the first in-plane axis (`(axis + 1) % 3`).
    pub width: usize,
    /// Image height: voxels along the second in-plane axis (`(axis + 2) % 3`).
    pub height: usize,
    /// Row-major RGBA8, row `r` is index `r` along the second axis.
    pub rgba: Vec<u8>,
    /// The slice's corners in world metres: origin, +first-axis edge end, +second-axis edge
    /// end (the quad is origin, a, a + b - origin, b).
    pub corners: [[f32; 3]; 3],
}

/// The slice at voxel `index` across `axis` (0 x, 1 y, 2 z), coloured over `[lo, hi]`.
pub fn slice(
    grid: &Grid,
    values: &[f32],
    axis: usize,
    index: usize,
    lo: f32,
    hi: f32,
) -> Option<SliceImage> {
    if values.len() != grid.len() || axis > 2 {
        return None;
    }
    let index = index.min(grid.size[axis] - 1);
    let (u, w) = ((axis + 1) % 3, (axis + 2) % 3);
    let (width, height) = (grid.size[u], grid.size[w]);
    let mut rgba = Vec::with_capacity(width * height * 4);
    for r in 0..height {
        for c in 0..width {
            let mut v = [0usize; 3];
            v[axis] = index;
            v[u] = c;
            v[w] = r;
            rgba.extend_from_slice(&viridis_rgba8(normalize(values[grid.index(v)], lo, hi)));
        }
    }
    let step = voxel_pitch(grid);
    let mut o = [0.0f64; 3];
    o[axis] = grid.min[axis] + index as f64 * step[axis];
    o[u] = grid.min[u] - 0.5 * step[u];
    o[w] = grid.min[w] - 0.5 * step[w];
    let mut a = o;
    a[u] = grid.max[u] + 0.5 * step[u];
    let mut b = o;
    b[w] = grid.max[w] + 0.5 * step[w];
    let f = |p: [f64; 3]| p.map(|x| x as f32);
    Some(SliceImage {
        width,
        height,
        rgba,
        corners: [f(o), f(a), f(b)],
    })
}

/// Angle in degrees between each voxel's rotation and `start` (both quaternions `wxyz`).
pub fn rotation_angles(rotation: &[[f32; 4]], start: [f64; 4]) -> Vec<f32> {
    let n0 = start.iter().map(|x| x * x).sum::<f64>().sqrt();
    let s = if n0 > 0.0 {
        start.map(|x| x / n0)
    } else {
        [1.0, 0.0, 0.0, 0.0]
    };
    rotation
        .iter()
        .map(|q| {
            let n = q.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            if n == 0.0 || !n.is_finite() {
                return 0.0;
            }
            let d: f64 = (0..4).map(|i| f64::from(q[i]) / n * s[i]).sum();
            (2.0 * d.abs().min(1.0).acos()).to_degrees() as f32
        })
        .collect()
}

/// A step's map as the viewer shows it: [`shown_values`].
#[derive(Clone, Debug, PartialEq)]
pub struct ShownValues {
    /// Its grid.
    pub grid: Grid,
    /// Its values; `None` where the map is on the device only: the cost map of a drag
    /// preview planned on the GPU (`KeepMaps::Programs`).
    pub values: Option<Vec<f32>>,
    /// The value range the colours span (without values: the range the backend reported
    /// for the map on the device, equal ends where it is constant).
    pub range: (f32, f32),
}

/// The values of map `map` of a step and the range its colours span: fixed for maps of known
/// range (0 to 1, or 0 to 180 degrees of rotation away from `start`, the end effector's
/// quaternion), else the map's own. A cost map left on the device spans the range the backend
/// reported (`StepMaps::cost_range`; 0 to 1, a normalised map's, where none was).
pub fn shown_values(maps: &StepMaps, map: ShownMap, start: [f64; 4]) -> Option<ShownValues> {
    let grid = maps.affordance.grid();
    let fixed01 = Some((0.0, 1.0));
    let (values, fixed) = match map {
        ShownMap::Affordance => (maps.affordance.values().into_owned(), fixed01),
        ShownMap::Avoidance => (maps.avoidance.values().into_owned(), fixed01),
        ShownMap::Cost => match &maps.cost {
            Some(c) => (c.data.clone(), None),
            None => {
                return Some(ShownValues {
                    grid,
                    values: None,
                    range: maps.cost_range.unwrap_or((0.0, 1.0)),
                });
            }
        },
        ShownMap::Velocity => (maps.velocity.values().into_owned(), None),
        ShownMap::Gripper => (maps.gripper.values().into_owned(), fixed01),
        ShownMap::Rotation => (
            rotation_angles(&maps.rotation.values(), start),
            Some((0.0, 180.0)),
        ),
    };
    let range = match fixed {
        Some(r) => r,
        None => valuescape_core::Field::from_vec(grid, values.clone())?.min_max()?,
    };
    Some(ShownValues {
        grid,
        values: Some(values),
        range,
    })
}

/// Whether a map with this value range is drawn as one colour (a note instead of voxels).
pub fn is_uniform(range: (f32, f32)) -> bool {
    range.1 <= range.0 || range.0.is_nan() || range.1.is_nan()
}

/// The legend's note for a uniform map.
pub fn uniform_note(range: (f32, f32)) -> String {
    format!("uniform map: every voxel is {}", range.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use valuescape_core::Field;
    use valuescape_core::paint::{Map, Painted};

    /// A cost map that stayed on the device (a GPU drag preview) is drawn over the range
    /// the backend reported, so that a constant one is noted as uniform, as it is once its
    /// values are here; other maps keep their ranges.
    #[test]
    fn a_cost_map_on_the_device_is_drawn_over_its_reported_range() {
        let g = grid(16);
        let mut cost = Field::zeros(g);
        cost.set([3, 4, 5], 0.5);
        let mut maps = StepMaps {
            affordance: Map::Painted(Painted::filled(g, 0.0)),
            avoidance: Map::Painted(Painted::filled(g, 0.0)),
            velocity: Map::Painted(Painted::filled(g, 1.5)),
            gripper: Map::Painted(Painted::filled(g, 1.0)),
            rotation: Map::Painted(Painted::filled(g, [1.0, 0.0, 0.0, 0.0])),
            obstacle: None,
            cost: Some(cost),
            cost_range: None,
        };
        let q = [1.0, 0.0, 0.0, 0.0];
        let shown = |maps: &StepMaps, m| shown_values(maps, m, q).expect("a map to show");
        // Here: the map's own range.
        let here = shown(&maps, ShownMap::Cost);
        assert_eq!((here.values.is_some(), here.range), (true, (0.0, 0.5)));
        assert!(!is_uniform(here.range));
        // On the device, constant: the legend says so.
        maps.cost = None;
        maps.cost_range = Some((0.25, 0.25));
        let there = shown(&maps, ShownMap::Cost);
        assert_eq!((there.values.is_none(), there.range), (true, (0.25, 0.25)));
        assert!(is_uniform(there.range));
        assert_eq!(
            uniform_note(there.range),
            "uniform map: every voxel is 0.25"
        );
        // On the device, normalised; and where no range was reported, a normalised map's.
        maps.cost_range = Some((0.0, 1.0));
        assert!(!is_uniform(shown(&maps, ShownMap::Cost).range));
        maps.cost_range = None;
        assert_eq!(shown(&maps, ShownMap::Cost).range, (0.0, 1.0));
        // The programs' maps: fixed ranges, or their own (velocity, constant here).
        assert_eq!(shown(&maps, ShownMap::Gripper).range, (0.0, 1.0));
        assert_eq!(shown(&maps, ShownMap::Rotation).range, (0.0, 180.0));
        assert!(is_uniform(shown(&maps, ShownMap::Velocity).range));
    }

    fn grid(n: usize) -> Grid {
        Grid::new([0.0; 3], [1.0; 3], [n; 3]).expect("test value")
    }

    #[test]
    fn one_voxel_has_six_faces_and_a_block_of_two_ten() {
        let g = grid(16);
        let mut v = vec![0.0f32; g.len()];
        v[g.index([3, 4, 5])] = 1.0;
        let m = exposed_faces(&g, &v, (0.0, 1.0), 0.5, false, MAX_FACES);
        assert_eq!(m.faces(), 6);
        assert_eq!(m.positions.len(), 24);
        assert_eq!(m.solid, 1);
        v[g.index([3, 4, 6])] = 1.0;
        let m = exposed_faces(&g, &v, (0.0, 1.0), 0.5, false, MAX_FACES);
        assert_eq!(m.faces(), 10);
        // Faces are a voxel wide: step = 1/15.
        let xs: Vec<f32> = m.positions.iter().map(|p| p[0]).collect();
        let w = xs.iter().cloned().fold(f32::MIN, f32::max)
            - xs.iter().cloned().fold(f32::MAX, f32::min);
        assert!((w - 1.0 / 15.0).abs() < 1e-5, "{w}");
    }

    #[test]
    fn winding_faces_outward() {
        let g = grid(16);
        let mut v = vec![0.0f32; g.len()];
        v[g.index([8, 8, 8])] = 1.0;
        let m = exposed_faces(&g, &v, (0.0, 1.0), 0.5, false, MAX_FACES);
        for t in m.indices.chunks(3) {
            let p = [t[0], t[1], t[2]].map(|i| m.positions[i as usize]);
            let e1 = [0, 1, 2].map(|a| p[1][a] - p[0][a]);
            let e2 = [0, 1, 2].map(|a| p[2][a] - p[0][a]);
            let cross = [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ];
            let n = m.normals[t[0] as usize];
            let dot: f32 = (0..3).map(|a| cross[a] * n[a]).sum();
            assert!(dot > 0.0, "triangle {t:?} winds inward");
        }
    }

    #[test]
    fn dense_fields_are_coarsened_under_budget() {
        let g = grid(64);
        // A checkerboard is the worst case: every voxel exposes six faces.
        let v: Vec<f32> = (0..g.len())
            .map(|i| {
                let [a, b, c] = g.voxel(i);
                ((a + b + c) % 2) as f32
            })
            .collect();
        let m = exposed_faces(&g, &v, (0.0, 1.0), 0.5, false, 50_000);
        assert!(m.faces() <= 50_000);
        assert!(m.stride >= 2);
        // Nothing above: empty mesh; flat field: lo == hi normalises to 0.5.
        let z = vec![0.0f32; g.len()];
        assert_eq!(
            exposed_faces(&g, &z, (0.0, 1.0), 0.5, false, MAX_FACES).faces(),
            0
        );
        assert_eq!(
            exposed_faces(&g, &z, (0.0, 0.0), 0.6, false, MAX_FACES).faces(),
            0
        );
        // A full field only exposes its outer shell.
        let full = vec![1.0f32; g.len()];
        assert_eq!(
            exposed_faces(&g, &full, (0.0, 1.0), 0.5, false, MAX_FACES).faces(),
            6 * 64 * 64
        );
        // Wrong length gives nothing rather than panicking.
        assert_eq!(
            exposed_faces(&g, &full[1..], (0.0, 1.0), 0.5, false, MAX_FACES).faces(),
            0
        );
        // Inverted: the zeros of a field with one hole are everything but the hole.
        let mut holed = full.clone();
        holed[g.index([5, 5, 5])] = 0.0;
        assert_eq!(
            exposed_faces(&g, &holed, (0.0, 1.0), 0.5, true, MAX_FACES).faces(),
            6
        );
    }

    #[test]
    fn slices_and_rotation_angles() {
        let g = grid(16);
        let v: Vec<f32> = (0..g.len()).map(|i| g.voxel(i)[0] as f32).collect();
        let s = slice(&g, &v, 2, 3, 0.0, 15.0).expect("test value");
        assert_eq!((s.width, s.height), (16, 16));
        assert_eq!(s.rgba.len(), 16 * 16 * 4);
        // Along the first in-plane axis (x) the colour changes; along y it does not.
        assert_eq!(&s.rgba[0..4], &s.rgba[16 * 4..16 * 4 + 4]);
        assert_ne!(&s.rgba[0..4], &s.rgba[15 * 4..16 * 4]);
        assert!(slice(&g, &v, 3, 0, 0.0, 1.0).is_none());
        let a = rotation_angles(
            &[[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0; 4]],
            [0.0, 1.0, 0.0, 0.0],
        );
        assert!(a[0].abs() < 1e-3);
        assert!((a[1] - 180.0).abs() < 1e-3);
        assert_eq!(a[2], 0.0);
    }
}
