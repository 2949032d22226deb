//! Entities (the named, detectable parts of objects) and the oriented primitives they are
//! made of: bounding boxes, voxelisation and surface point clouds.

use serde::{Deserialize, Serialize};

use crate::grid::Grid;

/// Tolerance, metres, for point-in-primitive tests (a voxel centre on a face counts as inside).
const EPS: f64 = 1e-9;
/// Most samples along one direction of one surface patch in [`Entity::surface_points`].
const MAX_SAMPLES: usize = 512;

/// One solid piece of an entity, in world coordinates (metres).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Primitive {
    /// A box rotated by `yaw` (radians, counter-clockwise seen from above) about the
    /// vertical axis through its centre.
    Box {
        /// Centre, metres.
        center: [f64; 3],
        /// Half extents along the box's own axes (before the yaw), metres.
        half: [f64; 3],
        /// Rotation about +z, radians.
        yaw: f64,
    },
    /// An upright cylinder (axis along +z).
    Cylinder {
        /// Centre (half way up the axis), metres.
        center: [f64; 3],
        /// Radius, metres.
        radius: f64,
        /// Half the height, metres.
        half_height: f64,
    },
    /// A ball.
    Sphere {
        /// Centre, metres.
        center: [f64; 3],
        /// Radius, metres.
        radius: f64,
    },
}

/// A named part of an object that programs can `detect`: a plain object is one entity, a
/// composite (cabinet, mug, saucepan, ...) is several (see the naming rule in [`crate::scene`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Unique name within the scene, e.g. `"top drawer handle"`.
    pub name: String,
    /// Name of the object this entity belongs to.
    pub object: String,
    /// Colour word to draw it with: the object's colour or its shape's default; hardware
    /// parts (drawer handles, lid knobs, button bases, bottle caps) have their own fixed
    /// colour.
    pub color: Option<String>,
    /// The solids it is made of, world coordinates.
    pub primitives: Vec<Primitive>,
    /// Unit outward normal of the surface that matters for interacting with it: out of the
    /// cabinet front for drawers and their handles, out of the mug's side for a mug handle,
    /// `+z` for everything else (lids, knobs, buttons, caps, plain objects).
    pub normal: [f64; 3],
    /// Whether the robot may move it (drawers, handles, lids and caps always can).
    pub movable: bool,
}

impl Primitive {
    /// Centre of the primitive, metres.
    pub fn center(&self) -> [f64; 3] {
        match self {
            Primitive::Box { center, .. }
            | Primitive::Cylinder { center, .. }
            | Primitive::Sphere { center, .. } => *center,
        }
    }

    /// Axis-aligned world bounding box `(min, max)`.
    pub fn aabb(&self) -> ([f64; 3], [f64; 3]) {
        let (c, h) = match *self {
            Primitive::Box { center, half, yaw } => (center, box_world_half(half, yaw)),
            Primitive::Cylinder {
                center,
                radius,
                half_height,
            } => (center, [radius, radius, half_height]),
            Primitive::Sphere { center, radius } => (center, [radius; 3]),
        };
        (
            [0, 1, 2].map(|a| c[a] - h[a]),
            [0, 1, 2].map(|a| c[a] + h[a]),
        )
    }

    /// Whether a world point lies inside (or on the surface of) the primitive.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        self.inflated([0.0; 3]).contains(p)
    }

    /// The primitive with every extent raised to at least half the voxel spacing `s` it is
    /// measured against (the thin-primitive rule of [`Entity::rasterize`]).
    fn inflated(&self, s: [f64; 3]) -> Solid {
        match *self {
            Primitive::Box { center, half, yaw } => {
                let (sn, c) = yaw.sin_cos();
                // Width of one voxel cell projected on the box's own x and y axes.
                let wx = s[0] * c.abs() + s[1] * sn.abs();
                let wy = s[0] * sn.abs() + s[1] * c.abs();
                Solid::Box {
                    center,
                    half: [
                        half[0].max(wx / 2.0),
                        half[1].max(wy / 2.0),
                        half[2].max(s[2] / 2.0),
                    ],
                    cos: c,
                    sin: sn,
                }
            }
            Primitive::Cylinder {
                center,
                radius,
                half_height,
            } => Solid::Cylinder {
                center,
                radius: radius.max(s[0].max(s[1]) / 2.0),
                half_height: half_height.max(s[2] / 2.0),
            },
            Primitive::Sphere { center, radius } => Solid::Sphere {
                center,
                radius: radius.max(s[0].max(s[1]).max(s[2]) / 2.0),
            },
        }
    }

    /// Appends a deterministic point cloud on the primitive's surface, points at most about
    /// `spacing` apart.
    fn surface_points_into(&self, spacing: f64, out: &mut Vec<[f64; 3]>) {
        match *self {
            Primitive::Box { center, half, yaw } => {
                let (sn, c) = yaw.sin_cos();
                let to_world = |l: [f64; 3]| {
                    [
                        center[0] + l[0] * c - l[1] * sn,
                        center[1] + l[0] * sn + l[1] * c,
                        center[2] + l[2],
                    ]
                };
                for axis in 0..3 {
                    let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
                    let us = samples(-half[u], half[u], spacing);
                    let vs = samples(-half[v], half[v], spacing);
                    for sign in [-1.0, 1.0] {
                        for &a in &us {
                            for &b in &vs {
                                let mut l = [0.0; 3];
                                l[axis] = sign * half[axis];
                                l[u] = a;
                                l[v] = b;
                                out.push(to_world(l));
                            }
                        }
                    }
                }
            }
            Primitive::Cylinder {
                center,
                radius,
                half_height,
            } => {
                let ring = |z: f64, r: f64, out: &mut Vec<[f64; 3]>| {
                    let n = count(std::f64::consts::TAU * r, spacing).max(1);
                    for i in 0..n {
                        let t = std::f64::consts::TAU * i as f64 / n as f64;
                        out.push([center[0] + r * t.cos(), center[1] + r * t.sin(), z]);
                    }
                };
                // Caps: concentric rings out to the rim.
                let radii = samples(0.0, radius, spacing);
                for z in [center[2] - half_height, center[2] + half_height] {
                    for &r in &radii {
                        if r <= 0.0 {
                            out.push([center[0], center[1], z]);
                        } else {
                            ring(z, r, out);
                        }
                    }
                }
                // Side: rings up the wall (the rims were added with the caps).
                let zs = samples(-half_height, half_height, spacing);
                if zs.len() > 2 {
                    for &z in &zs[1..zs.len() - 1] {
                        ring(center[2] + z, radius, out);
                    }
                }
            }
            Primitive::Sphere { center, radius } => {
                let lats = count(std::f64::consts::PI * radius, spacing).max(2);
                for i in 0..=lats {
                    let phi = std::f64::consts::PI * i as f64 / lats as f64;
                    let (sp, cp) = phi.sin_cos();
                    let r = radius * sp;
                    let z = center[2] + radius * cp;
                    if i == 0 || i == lats {
                        out.push([center[0], center[1], z]);
                        continue;
                    }
                    let n = count(std::f64::consts::TAU * r, spacing).max(3);
                    for k in 0..n {
                        let t = std::f64::consts::TAU * k as f64 / n as f64;
                        out.push([center[0] + r * t.cos(), center[1] + r * t.sin(), z]);
                    }
                }
            }
        }
    }
}

/// Half extents of the world AABB of a box with half extents `half` rotated by `yaw`.
fn box_world_half(half: [f64; 3], yaw: f64) -> [f64; 3] {
    let (s, c) = yaw.sin_cos();
    [
        c.abs() * half[0] + s.abs() * half[1],
        s.abs() * half[0] + c.abs() * half[1],
        half[2],
    ]
}

/// Number of intervals of at most `spacing` covering `length`, bounded by [`MAX_SAMPLES`].
fn count(length: f64, spacing: f64) -> usize {
    let n = (length / spacing).ceil();
    if n.is_nan() || n < 1.0 {
        1
    } else {
        (n as usize).min(MAX_SAMPLES)
    }
}

/// Evenly spaced samples from `lo` to `hi` inclusive, at most about `spacing` apart.
fn samples(lo: f64, hi: f64, spacing: f64) -> Vec<f64> {
    let n = count(hi - lo, spacing);
    (0..=n)
        .map(|i| lo + (hi - lo) * i as f64 / n as f64)
        .collect()
}

/// A primitive prepared for point tests.
enum Solid {
    Box {
        center: [f64; 3],
        half: [f64; 3],
        cos: f64,
        sin: f64,
    },
    Cylinder {
        center: [f64; 3],
        radius: f64,
        half_height: f64,
    },
    Sphere {
        center: [f64; 3],
        radius: f64,
    },
}

impl Solid {
    fn contains(&self, p: [f64; 3]) -> bool {
        match *self {
            Solid::Box {
                center,
                half,
                cos,
                sin,
            } => {
                let d = [p[0] - center[0], p[1] - center[1], p[2] - center[2]];
                let lx = d[0] * cos + d[1] * sin;
                let ly = -d[0] * sin + d[1] * cos;
                lx.abs() <= half[0] + EPS
                    && ly.abs() <= half[1] + EPS
                    && d[2].abs() <= half[2] + EPS
            }
            Solid::Cylinder {
                center,
                radius,
                half_height,
            } => {
                let (dx, dy) = (p[0] - center[0], p[1] - center[1]);
                (p[2] - center[2]).abs() <= half_height + EPS
                    && (dx * dx + dy * dy).sqrt() <= radius + EPS
            }
            Solid::Sphere { center, radius } => {
                let d2: f64 = (0..3).map(|a| (p[a] - center[a]).powi(2)).sum();
                d2.sqrt() <= radius + EPS
            }
        }
    }

    fn aabb(&self) -> ([f64; 3], [f64; 3]) {
        let (c, h) = match *self {
            Solid::Box {
                center,
                half,
                cos,
                sin,
            } => (
                center,
                [
                    cos.abs() * half[0] + sin.abs() * half[1],
                    sin.abs() * half[0] + cos.abs() * half[1],
                    half[2],
                ],
            ),
            Solid::Cylinder {
                center,
                radius,
                half_height,
            } => (center, [radius, radius, half_height]),
            Solid::Sphere { center, radius } => (center, [radius; 3]),
        };
        (
            [0, 1, 2].map(|a| c[a] - h[a]),
            [0, 1, 2].map(|a| c[a] + h[a]),
        )
    }
}

/// Distance between neighbouring voxel centres along each axis, metres.
pub(crate) fn voxel_spacing(grid: &Grid) -> [f64; 3] {
    [0, 1, 2].map(|a| (grid.max[a] - grid.min[a]) / (grid.size[a].max(2) - 1) as f64)
}

/// Inclusive range of voxel indices along `axis` whose centres may lie in `[lo, hi]`, or
/// `None` when it misses the grid.
fn index_range(grid: &Grid, axis: usize, lo: f64, hi: f64) -> Option<(usize, usize)> {
    let n = grid.size[axis];
    if n == 0 {
        return None;
    }
    let scale = (n.max(2) - 1) as f64 / (grid.max[axis] - grid.min[axis]);
    let a = ((lo - grid.min[axis]) * scale - 1e-6).ceil();
    let b = ((hi - grid.min[axis]) * scale + 1e-6).floor();
    if a.is_nan() || b.is_nan() || b < 0.0 || a > (n - 1) as f64 || a > b {
        return None;
    }
    Some((a.max(0.0) as usize, b.min((n - 1) as f64) as usize))
}

/// Flat indices of the voxels whose centres lie inside one primitive (thin-primitive rule
/// included), appended to `out`.
fn rasterize_primitive(p: &Primitive, grid: &Grid, out: &mut Vec<usize>) {
    let s = voxel_spacing(grid);
    let solid = p.inflated(s);
    let (lo, hi) = solid.aabb();
    let before = out.len();
    if let (Some((i0, i1)), Some((j0, j1)), Some((k0, k1))) = (
        index_range(grid, 0, lo[0], hi[0]),
        index_range(grid, 1, lo[1], hi[1]),
        index_range(grid, 2, lo[2], hi[2]),
    ) {
        for i in i0..=i1 {
            for j in j0..=j1 {
                for k in k0..=k1 {
                    if solid.contains(grid.voxel_to_world([i, j, k])) {
                        out.push(grid.index([i, j, k]));
                    }
                }
            }
        }
    }
    if out.len() == before {
        // Still nothing: mark the voxel nearest the centre, if the centre is in the grid.
        let v = grid.world_to_voxel_f(p.center());
        let inside = (0..3).all(|a| v[a] >= -0.5 && v[a] <= grid.size[a] as f64 - 0.5);
        if inside {
            out.push(grid.index(grid.clamp_voxel_f(v)));
        }
    }
}

impl Entity {
    /// Sorted, deduplicated flat indices ([`Grid::index`]) of the voxels whose centre lies
    /// inside any of the entity's primitives, clipped to the grid.
    ///
    /// Thin-primitive rule: before testing, every extent of a primitive is raised to at least
    /// half the spacing between voxel centres it is measured against (a box's own x and y
    /// axes use the spacing projected on them; a cylinder's radius uses the larger of the x
    /// and y spacings; a sphere's the largest), so a handle or wall thinner than a voxel
    /// keeps its length; and a primitive that still covers no voxel centre marks the voxel
    /// nearest its centre, when that centre lies in the grid.
    pub fn rasterize(&self, grid: &Grid) -> Vec<usize> {
        let mut out = Vec::new();
        for p in &self.primitives {
            rasterize_primitive(p, grid, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Axis-aligned world bounding box `(min, max)` of all its primitives (zeros if none).
    pub fn aabb_world(&self) -> ([f64; 3], [f64; 3]) {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in &self.primitives {
            let (a, b) = p.aabb();
            for k in 0..3 {
                lo[k] = lo[k].min(a[k]);
                hi[k] = hi[k].max(b[k]);
            }
        }
        if self.primitives.is_empty() {
            return ([0.0; 3], [0.0; 3]);
        }
        (lo, hi)
    }

    /// Centre of the world AABB, metres.
    pub fn centroid_world(&self) -> [f64; 3] {
        let (lo, hi) = self.aabb_world();
        [0, 1, 2].map(|a| 0.5 * (lo[a] + hi[a]))
    }

    /// Whether a world point lies inside (or on) any of its primitives.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        self.primitives.iter().any(|q| q.contains(p))
    }

    /// A deterministic point cloud on the surfaces of its primitives (faces of boxes, caps
    /// and walls of cylinders, spheres), points at most about `spacing` metres apart.
    ///
    /// A non-positive or non-finite `spacing` means 1 cm; each patch is sampled at most
    /// 512 times per direction, so huge or tiny spacings stay bounded. Faces where two
    /// primitives touch are sampled too.
    pub fn surface_points(&self, spacing: f64) -> Vec<[f64; 3]> {
        let spacing = if spacing.is_finite() && spacing > 0.0 {
            spacing
        } else {
            0.01
        };
        let mut out = Vec::new();
        for p in &self.primitives {
            p.surface_points_into(spacing, &mut out);
        }
        out
    }
}
