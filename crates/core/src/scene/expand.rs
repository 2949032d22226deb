//! Expansion of objects into entities: the geometry of every shape, in the object's frame.
//!
//! Object frame: origin at [`Object::position`], axes the world's rotated by `yaw_deg`
//! about +z. A composite's "front" is its local -x (a cabinet's drawers pull out along it).

use super::entity::{Entity, Primitive};
use super::{Object, Shape};

/// Most drawers a cabinet may have.
pub const MAX_DRAWERS: u32 = 12;

/// The object's pose: a translation and a yaw.
struct Frame {
    pos: [f64; 3],
    yaw: f64,
    cos: f64,
    sin: f64,
}

impl Frame {
    fn of(o: &Object) -> Self {
        let yaw = o.yaw_deg.to_radians();
        let (sin, cos) = yaw.sin_cos();
        Self {
            pos: o.position,
            yaw,
            cos,
            sin,
        }
    }

    fn point(&self, l: [f64; 3]) -> [f64; 3] {
        [
            self.pos[0] + l[0] * self.cos - l[1] * self.sin,
            self.pos[1] + l[0] * self.sin + l[1] * self.cos,
            self.pos[2] + l[2],
        ]
    }

    fn dir(&self, l: [f64; 3]) -> [f64; 3] {
        [
            l[0] * self.cos - l[1] * self.sin,
            l[0] * self.sin + l[1] * self.cos,
            l[2],
        ]
    }

    /// A box given by its local centre and half extents.
    fn cuboid(&self, center: [f64; 3], half: [f64; 3]) -> Primitive {
        Primitive::Box {
            center: self.point(center),
            half,
            yaw: self.yaw,
        }
    }

    fn cylinder(&self, center: [f64; 3], radius: f64, half_height: f64) -> Primitive {
        Primitive::Cylinder {
            center: self.point(center),
            radius,
            half_height,
        }
    }
}

const UP: [f64; 3] = [0.0, 0.0, 1.0];

/// Names of a cabinet's drawers, top to bottom.
pub fn drawer_names(n: u32) -> Vec<String> {
    match n {
        0 => Vec::new(),
        1 => vec!["drawer".to_string()],
        2 => vec!["top drawer".to_string(), "bottom drawer".to_string()],
        3 => vec![
            "top drawer".to_string(),
            "middle drawer".to_string(),
            "bottom drawer".to_string(),
        ],
        n => (1..=n).map(|i| format!("drawer {i}")).collect(),
    }
}

/// The noun an object of this shape is called by default ("cabinet", "mug", ...).
fn default_noun(shape: &Shape) -> &'static str {
    match shape {
        Shape::Box { .. } => "box",
        Shape::Cylinder { .. } => "cylinder",
        Shape::Sphere { .. } => "sphere",
        Shape::DrawerCabinet { .. } => "cabinet",
        Shape::Bin { .. } => "bin",
        Shape::Mug { .. } => "mug",
        Shape::Saucepan { .. } => "saucepan",
        Shape::Button { .. } => "button",
        Shape::Dustpan { .. } => "dustpan",
        Shape::Bottle { .. } => "bottle",
    }
}

/// Builds the entities of one object.
struct Parts<'a> {
    obj: &'a Object,
    frame: Frame,
    color: String,
    default_named: bool,
    out: Vec<Entity>,
}

impl<'a> Parts<'a> {
    fn new(obj: &'a Object) -> Self {
        Self {
            obj,
            frame: Frame::of(obj),
            color: obj.effective_color().to_string(),
            default_named: obj.name.eq_ignore_ascii_case(default_noun(&obj.shape)),
            out: Vec::new(),
        }
    }

    /// `"<object> <suffix>"`, or just the object's name for an empty suffix.
    fn name(&self, suffix: &str) -> String {
        if suffix.is_empty() {
            self.obj.name.clone()
        } else {
            format!("{} {suffix}", self.obj.name)
        }
    }

    /// Like [`Self::name`], but the bare suffix when the object has its default name.
    fn bare_name(&self, suffix: &str) -> String {
        if self.default_named {
            suffix.to_string()
        } else {
            self.name(suffix)
        }
    }

    fn push(
        &mut self,
        name: String,
        color: Option<&str>,
        primitives: Vec<Primitive>,
        normal: [f64; 3],
        movable: bool,
    ) {
        self.out.push(Entity {
            name,
            object: self.obj.name.clone(),
            color: Some(color.unwrap_or(&self.color).to_string()),
            primitives,
            normal,
            movable,
        });
    }
}

/// The entities of an object, main part first.
pub fn entities_of(obj: &Object) -> Vec<Entity> {
    let mut p = Parts::new(obj);
    let movable = obj.movable;
    let main = p.name("");
    match obj.shape {
        Shape::Box { size } => {
            let prim = p.frame.cuboid([0.0; 3], size.map(|v| v / 2.0));
            p.push(main, None, vec![prim], UP, movable);
        }
        Shape::Cylinder { radius, height } => {
            let prim = p.frame.cylinder([0.0; 3], radius, height / 2.0);
            p.push(main, None, vec![prim], UP, movable);
        }
        Shape::Sphere { radius } => {
            let prim = Primitive::Sphere {
                center: obj.position,
                radius,
            };
            p.push(main, None, vec![prim], UP, movable);
        }
        Shape::DrawerCabinet {
            size,
            drawers,
            ref open,
        } => cabinet(&mut p, size, drawers, open),
        Shape::Bin { size, wall } => {
            let [d, w, h] = size;
            let t = wall;
            let f = &p.frame;
            let prims = vec![
                f.cuboid(
                    [0.0, 0.0, -h / 2.0 + t / 2.0],
                    [d / 2.0 - t, w / 2.0 - t, t / 2.0],
                ),
                f.cuboid([-(d - t) / 2.0, 0.0, 0.0], [t / 2.0, w / 2.0, h / 2.0]),
                f.cuboid([(d - t) / 2.0, 0.0, 0.0], [t / 2.0, w / 2.0, h / 2.0]),
                f.cuboid([0.0, -(w - t) / 2.0, 0.0], [d / 2.0 - t, t / 2.0, h / 2.0]),
                f.cuboid([0.0, (w - t) / 2.0, 0.0], [d / 2.0 - t, t / 2.0, h / 2.0]),
            ];
            p.push(main, None, prims, UP, movable);
        }
        Shape::Mug {
            radius: r,
            height: h,
        } => {
            let body = p.frame.cylinder([0.0; 3], r, h / 2.0);
            p.push(main, None, vec![body], UP, movable);
            // A solid block on the local +y side, from just inside the wall out to 1.4 r.
            let handle = p
                .frame
                .cuboid([0.0, 1.2 * r, 0.0], [0.15 * r, 0.2 * r, 0.3 * h]);
            let n = p.frame.dir([0.0, 1.0, 0.0]);
            p.push(p.name("handle"), None, vec![handle], n, movable);
        }
        Shape::Saucepan {
            radius: r,
            height: h,
            lid_on,
        } => {
            // Body plus a long side handle on local +y, just below the rim.
            let len = (1.2 * r).clamp(0.03, 0.15);
            let hz = (0.1 * h).min(0.01);
            let side = p.frame.cuboid(
                [0.0, r + len / 2.0, h / 2.0 - hz],
                [(0.25 * r).min(0.015), len / 2.0, hz],
            );
            let body = p.frame.cylinder([0.0; 3], r, h / 2.0);
            p.push(main, None, vec![body, side], UP, movable);
            if lid_on {
                let lt = (0.2 * h).min(0.012);
                let lid = p
                    .frame
                    .cylinder([0.0, 0.0, h / 2.0 + lt / 2.0], r, lt / 2.0);
                p.push(p.name("lid"), None, vec![lid], UP, true);
                let kz = (0.15 * h).min(0.012);
                let knob = p
                    .frame
                    .cuboid([0.0, 0.0, h / 2.0 + lt + kz], [0.12 * r, 0.35 * r, kz]);
                p.push(
                    p.bare_name("lid handle"),
                    Some("black"),
                    vec![knob],
                    UP,
                    true,
                );
            }
        }
        Shape::Button {
            radius: r,
            height: h,
        } => {
            let cap = p.frame.cylinder([0.0, 0.0, h / 4.0], r, h / 4.0);
            p.push(main, None, vec![cap], UP, movable);
            let base = p
                .frame
                .cuboid([0.0, 0.0, -h / 4.0], [1.5 * r, 1.5 * r, h / 4.0]);
            p.push(p.name("base"), Some("grey"), vec![base], UP, movable);
        }
        Shape::Dustpan { size } => {
            let [d, w, h] = size;
            let pd = 0.7 * d; // the pan; the handle takes the back 30%
            let ft = (0.3 * h).min(0.005);
            let bt = (0.1 * d).min(0.01);
            let x0 = -d / 2.0;
            let f = &p.frame;
            let prims = vec![
                f.cuboid(
                    [x0 + pd / 2.0, 0.0, -h / 2.0 + ft / 2.0],
                    [pd / 2.0, w / 2.0, ft / 2.0],
                ),
                f.cuboid([x0 + pd - bt / 2.0, 0.0, 0.0], [bt / 2.0, w / 2.0, h / 2.0]),
                f.cuboid(
                    [x0 + pd / 2.0, -(w - bt) / 2.0, -h / 4.0],
                    [pd / 2.0, bt / 2.0, h / 4.0],
                ),
                f.cuboid(
                    [x0 + pd / 2.0, (w - bt) / 2.0, -h / 4.0],
                    [pd / 2.0, bt / 2.0, h / 4.0],
                ),
            ];
            p.push(main, None, prims, UP, movable);
            let hz = (0.15 * h).min(0.01);
            let handle = p.frame.cuboid(
                [x0 + pd + (d - pd) / 2.0, 0.0, h / 2.0 - hz],
                [(d - pd) / 2.0, (0.15 * w).min(0.015), hz],
            );
            p.push(p.name("handle"), None, vec![handle], UP, movable);
        }
        Shape::Bottle {
            radius: r,
            height: h,
        } => {
            let f = &p.frame;
            let body = f.cylinder([0.0, 0.0, -h / 2.0 + 0.325 * h], r, 0.325 * h);
            let neck = f.cylinder([0.0, 0.0, -h / 2.0 + 0.775 * h], 0.45 * r, 0.125 * h);
            let cap = f.cylinder([0.0, 0.0, h / 2.0 - 0.05 * h], 0.5 * r, 0.05 * h);
            p.push(main, None, vec![body, neck], UP, movable);
            p.push(p.name("cap"), Some("white"), vec![cap], UP, true);
        }
    }
    p.out
}

/// Cabinet geometry. Local frame: the front (drawer faces) at x = -depth/2, facing -x.
fn cabinet(p: &mut Parts<'_>, size: [f64; 3], drawers: u32, open: &[f64]) {
    let [d, w, h] = size;
    let n = drawers.clamp(1, MAX_DRAWERS);
    let ft = (0.1 * d).min(0.02); // drawer front thickness
    let mz = (0.05 * h).min(0.02); // frame above the top and below the bottom drawer
    let my = (0.05 * w).min(0.02); // frame at the sides
    let hs = (h - 2.0 * mz) / f64::from(n); // slot height
    let gap = (0.1 * hs).min(0.006);
    let fh = (hs - gap) / 2.0; // half height of a drawer front
    let fw = (w - 2.0 * my) / 2.0; // half width of a drawer front
    let front = p.frame.dir([-1.0, 0.0, 0.0]);

    let body = p
        .frame
        .cuboid([ft / 2.0, 0.0, 0.0], [(d - ft) / 2.0, w / 2.0, h / 2.0]);
    p.push(p.name(""), None, vec![body], UP, p.obj.movable);

    let names = drawer_names(n);
    for (i, dname) in names.iter().enumerate() {
        let o = open
            .get(i)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
            .clamp(0.0, d.max(0.0));
        let zc = h / 2.0 - mz - hs * (i as f64 + 0.5);
        let xf = -d / 2.0 - o; // outer face of the drawer front
        let mut prims = vec![p.frame.cuboid([xf + ft / 2.0, 0.0, zc], [ft / 2.0, fw, fh])];
        if o > 0.0 {
            // The part of the drawer box pulled out of the carcass.
            prims.push(p.frame.cuboid(
                [-d / 2.0 + ft - o / 2.0, 0.0, zc - 0.15 * fh],
                [o / 2.0, 0.92 * fw, 0.85 * fh],
            ));
        }
        let drawer_name = p.bare_name(dname);
        p.push(drawer_name.clone(), None, prims, front, true);

        let hd = 0.025; // how far the handle stands out of the front
        let handle = p.frame.cuboid(
            [xf - hd / 2.0, 0.0, zc],
            [hd / 2.0, (0.5 * fw).min(0.06), (0.3 * fh).min(0.0075)],
        );
        p.push(
            format!("{drawer_name} handle"),
            Some("silver"),
            vec![handle],
            front,
            true,
        );
    }
}
