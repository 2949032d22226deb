//! Renderer-free geometry for thick lines and round markers: the planned path (a tube through
//! the waypoints, a ball at each and a larger one at each step's end) and the workspace's
//! outline, each merged into one triangle mesh. Drawn as ordinary meshes, they look the same
//! on every backend and at every pixel density, and the viewer needs no line renderer.
//! Coordinates are world metres, z up.

/// Sides of a tube's cross-section.
const TUBE_SIDES: usize = 6;
/// Rings and segments of a ball (a UV sphere).
const BALL_RINGS: usize = 6;
const BALL_SEGMENTS: usize = 10;

/// A merged triangle mesh of strokes and markers, ready to upload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrokeMesh {
    /// Vertex positions, world metres (z up).
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals (z up).
    pub normals: Vec<[f32; 3]>,
    /// Vertex colours, sRGB 0..1 with alpha.
    pub colors: Vec<[f32; 4]>,
    /// Triangle indices (counter-clockwise seen from outside).
    pub indices: Vec<u32>,
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn unit(a: [f32; 3]) -> Option<[f32; 3]> {
    let l = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    (l > 1e-9 && l.is_finite()).then(|| a.map(|x| x / l))
}

impl StrokeMesh {
    /// Triangles held.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }

    fn vertex(&mut self, p: [f32; 3], n: [f32; 3], color: [f32; 4]) -> u32 {
        self.positions.push(p);
        self.normals.push(n);
        self.colors.push(color);
        (self.positions.len() - 1) as u32
    }

    /// A straight tube of `radius` from `a` to `b`, open at both ends (joints are covered by
    /// balls). Nothing is added for a zero-length or non-finite segment.
    pub fn segment(&mut self, a: [f32; 3], b: [f32; 3], radius: f32, color: [f32; 4]) {
        let Some(d) = unit(sub(b, a)) else {
            return;
        };
        // Any vector not along d gives the cross-section's frame.
        let helper = if d[2].abs() < 0.9 {
            [0.0, 0.0, 1.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        let (Some(u), Some(v)) = (unit(cross(d, helper)), unit(cross(d, cross(d, helper)))) else {
            return;
        };
        let base = self.positions.len() as u32;
        for i in 0..TUBE_SIDES {
            let t = std::f32::consts::TAU * i as f32 / TUBE_SIDES as f32;
            let n = [0, 1, 2].map(|k| t.cos() * u[k] + t.sin() * v[k]);
            self.vertex([0, 1, 2].map(|k| a[k] + radius * n[k]), n, color);
            self.vertex([0, 1, 2].map(|k| b[k] + radius * n[k]), n, color);
        }
        for i in 0..TUBE_SIDES as u32 {
            let j = (i + 1) % TUBE_SIDES as u32;
            let (a0, b0, a1, b1) = (
                base + 2 * i,
                base + 2 * i + 1,
                base + 2 * j,
                base + 2 * j + 1,
            );
            // u x v = -d, so the ring runs clockwise seen along d: (a0, a1, b0) faces out.
            self.indices.extend([a0, a1, b0, b0, a1, b1]);
        }
    }

    /// A ball of `radius` at `c`. Nothing is added at a non-finite centre.
    pub fn ball(&mut self, c: [f32; 3], radius: f32, color: [f32; 4]) {
        if !c.iter().all(|x| x.is_finite()) {
            return;
        }
        let base = self.positions.len() as u32;
        for r in 0..=BALL_RINGS {
            let phi = std::f32::consts::PI * r as f32 / BALL_RINGS as f32;
            for s in 0..=BALL_SEGMENTS {
                let th = std::f32::consts::TAU * s as f32 / BALL_SEGMENTS as f32;
                let n = [phi.sin() * th.cos(), phi.sin() * th.sin(), phi.cos()];
                self.vertex([0, 1, 2].map(|k| c[k] + radius * n[k]), n, color);
            }
        }
        let row = BALL_SEGMENTS as u32 + 1;
        for r in 0..BALL_RINGS as u32 {
            for s in 0..BALL_SEGMENTS as u32 {
                let (p, q) = (base + r * row + s, base + (r + 1) * row + s);
                // The first and last rings meet at a pole: one triangle per quad there.
                if r > 0 {
                    self.indices.extend([p, q, p + 1]);
                }
                if r + 1 < BALL_RINGS as u32 {
                    self.indices.extend([p + 1, q, q + 1]);
                }
            }
        }
    }

    /// A tube through `points` with a ball of `joint` radius at each point.
    pub fn polyline(&mut self, points: &[[f32; 3]], radius: f32, joint: f32, color: [f32; 4]) {
        for w in points.windows(2) {
            self.segment(w[0], w[1], radius, color);
        }
        for p in points {
            self.ball(*p, joint, color);
        }
    }

    /// The twelve edges of the box from `min` to `max`.
    pub fn box_edges(&mut self, min: [f32; 3], max: [f32; 3], radius: f32, color: [f32; 4]) {
        let corner = |i: usize| [0, 1, 2].map(|a| if i >> a & 1 == 1 { max[a] } else { min[a] });
        for i in 0..8 {
            for a in 0..3 {
                if i >> a & 1 == 0 {
                    self.segment(corner(i), corner(i | 1 << a), radius, color);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }

    /// Each triangle's winding agrees with its vertices' normals (it faces outwards).
    fn faces_out(m: &StrokeMesh) -> bool {
        m.indices.chunks(3).all(|t| {
            let [p, q, r] = [0, 1, 2].map(|i| m.positions[t[i] as usize]);
            let n = cross(sub(q, p), sub(r, p));
            let vn = m.normals[t[0] as usize];
            dot(n, vn) > 0.0
        })
    }

    #[test]
    fn a_segment_is_a_tube_of_its_radius_facing_out() {
        let mut m = StrokeMesh::default();
        for (a, b) in [
            ([0.0, 0.0, 0.0], [0.3, 0.1, -0.2]),
            ([0.1, 0.2, 0.3], [0.1, 0.2, 0.9]),
        ] {
            m.segment(a, b, 0.01, [1.0; 4]);
            let axis = unit(sub(b, a)).expect("test value");
            let first = m.positions.len() - 2 * TUBE_SIDES;
            for (p, n) in m.positions[first..].iter().zip(&m.normals[first..]) {
                // The distance from the axis line is the radius; the normal is radial.
                let ap = sub(*p, a);
                let along = dot(ap, axis);
                let radial = [0, 1, 2].map(|k| ap[k] - along * axis[k]);
                assert!((dot(radial, radial).sqrt() - 0.01).abs() < 1e-6);
                assert!(dot(*n, axis).abs() < 1e-5 && (dot(*n, *n) - 1.0).abs() < 1e-5);
            }
        }
        assert_eq!(m.triangles(), 2 * 2 * TUBE_SIDES);
        assert!(faces_out(&m));
        // Degenerate input adds nothing.
        let before = m.clone();
        m.segment([0.5; 3], [0.5; 3], 0.01, [1.0; 4]);
        m.segment([0.0; 3], [f32::NAN, 0.0, 0.0], 0.01, [1.0; 4]);
        m.ball([f32::INFINITY, 0.0, 0.0], 0.01, [1.0; 4]);
        assert_eq!(m, before);
    }

    #[test]
    fn balls_polylines_and_boxes() {
        let mut m = StrokeMesh::default();
        m.ball([1.0, 2.0, 3.0], 0.5, [0.0, 1.0, 0.0, 1.0]);
        assert!(m.positions.iter().all(|p| {
            (dot(sub(*p, [1.0, 2.0, 3.0]), sub(*p, [1.0, 2.0, 3.0])).sqrt() - 0.5).abs() < 1e-5
        }));
        assert!(faces_out(&m));
        let mut path = StrokeMesh::default();
        let pts = [[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.1, 0.1, 0.05]];
        path.polyline(&pts, 0.002, 0.005, [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(path.triangles(), 2 * 2 * TUBE_SIDES + 3 * m.triangles());
        assert!(path.colors.iter().all(|c| *c == [1.0, 0.0, 0.0, 1.0]));
        let mut b = StrokeMesh::default();
        b.box_edges([0.0; 3], [1.0, 2.0, 3.0], 0.01, [1.0; 4]);
        assert_eq!(b.triangles(), 12 * 2 * TUBE_SIDES);
        assert!(faces_out(&b));
        // Every edge runs along one axis between two corners.
        let (lo, hi) = b
            .positions
            .iter()
            .fold(([9.0f32; 3], [-9.0f32; 3]), |(l, h), p| {
                (
                    [0, 1, 2].map(|k| l[k].min(p[k])),
                    [0, 1, 2].map(|k| h[k].max(p[k])),
                )
            });
        // A hexagonal section reaches between r cos 30° and r past each face.
        let near = |x: f32, face: f32| (0.0086..=0.01 + 1e-6).contains(&(x - face).abs());
        assert!(lo.iter().all(|x| near(*x, 0.0)));
        assert!(near(hi[0], 1.0) && near(hi[1], 2.0) && near(hi[2], 3.0));
        assert!(b.indices.iter().all(|i| (*i as usize) < b.positions.len()));
    }
}
