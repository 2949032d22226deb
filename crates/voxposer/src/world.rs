//! The world the map programs see: the scene on a grid, the end effector, and the map API
//! (`detect`, `get_empty_*_map`, `cm2index`, `set_voxel_by_radius`, the quaternion helpers)
//! as a [`valuescape_lang::Host`].

use std::collections::BTreeMap;

use valuescape_core::scene::{EndEffector, Entity, Scene};
use valuescape_core::{Grid, Voxel};
use valuescape_lang::{Budget, DType, Host, NdArray, Painting, Value, paint_box};

use crate::api::MapKind;
use crate::quat;
use crate::query::{self, Candidate, Resolved};

/// The scene on a grid with its entities rasterised, plus the end effector.
#[derive(Clone, Debug)]
pub struct World {
    /// The voxel grid.
    pub grid: Grid,
    /// The scene (objects move as steps run).
    pub scene: Scene,
    /// The end effector now.
    pub ee: EndEffector,
    /// The pose `back to default pose` returns to.
    pub default_ee: EndEffector,
    /// Parts detached from their objects (a lid lifted off its saucepan).
    pub floating: Vec<Entity>,
    /// Name of the entity the gripper holds.
    pub held: Option<String>,
    entities: Vec<(Entity, Vec<usize>)>,
}

impl World {
    /// A world for a scene on a grid; the end effector starts at the scene's.
    pub fn new(scene: Scene, grid: Grid) -> Self {
        let ee = scene.end_effector;
        let mut w = Self {
            grid,
            scene,
            ee,
            default_ee: ee,
            floating: Vec::new(),
            held: None,
            entities: Vec::new(),
        };
        w.refresh();
        w
    }

    /// Re-rasterises every entity (after objects moved).
    pub fn refresh(&mut self) {
        let grid = self.grid;
        let floating_names: Vec<String> = self
            .floating
            .iter()
            .map(|e| e.name.to_lowercase())
            .collect();
        self.entities = self
            .scene
            .entities()
            .into_iter()
            .filter(|e| !floating_names.contains(&e.name.to_lowercase()))
            .chain(self.floating.iter().cloned())
            .map(|e| {
                let v = e.rasterize(&grid);
                (e, v)
            })
            .collect();
    }

    /// Every entity with its occupied voxels (flat indices).
    pub fn entities(&self) -> &[(Entity, Vec<usize>)] {
        &self.entities
    }

    /// The end effector's voxel.
    pub fn ee_voxel(&self) -> Voxel {
        self.grid.world_to_voxel(self.ee.position)
    }

    /// Candidates for phrase resolution.
    pub fn candidates(&self) -> Vec<Candidate> {
        self.entities
            .iter()
            .map(|(e, _)| Candidate {
                name: e.name.clone(),
                color: e.color.clone(),
                center: e.centroid_world(),
            })
            .collect()
    }

    /// Resolves an object phrase.
    pub fn resolve(&self, phrase: &str) -> Result<Option<Resolved>, String> {
        query::resolve(phrase, &self.candidates())
    }

    /// The entity at an index of [`Self::entities`].
    pub fn entity(&self, i: usize) -> Option<&(Entity, Vec<usize>)> {
        self.entities.get(i)
    }

    /// Index of an entity by exact (case-insensitive) name.
    pub fn entity_index(&self, name: &str) -> Option<usize> {
        let n = name.trim().to_lowercase();
        self.entities
            .iter()
            .position(|(e, _)| e.name.to_lowercase() == n)
    }

    /// The centre voxel of a resolved thing.
    pub fn voxel_of(&self, r: &Resolved) -> Voxel {
        match r {
            Resolved::Gripper => self.ee_voxel(),
            Resolved::Table => {
                let s = self.grid.size;
                [s[0] / 2, s[1] / 2, 0]
            }
            Resolved::Entity(i) => self
                .entities
                .get(*i)
                .map(|(e, _)| self.grid.world_to_voxel(e.centroid_world()))
                .unwrap_or_default(),
        }
    }

    /// Voxel AABB `(min, max)` of a resolved thing.
    fn voxel_aabb(&self, r: &Resolved) -> ([usize; 3], [usize; 3]) {
        let g = &self.grid;
        match r {
            Resolved::Gripper => {
                let v = self.ee_voxel();
                (
                    g.clamp_voxel_i(v.map(|x| x as i64 - 2)),
                    g.clamp_voxel_i(v.map(|x| x as i64 + 2)),
                )
            }
            Resolved::Table => {
                let s = g.size.map(|x| x as f64);
                (
                    g.clamp_voxel_f([0.1 * s[0], 0.1 * s[1], 0.0]),
                    g.clamp_voxel_f([0.9 * s[0], 0.9 * s[1], 0.0]),
                )
            }
            Resolved::Entity(i) => {
                let Some((e, vox)) = self.entities.get(*i) else {
                    return ([0; 3], [0; 3]);
                };
                if vox.is_empty() {
                    let (lo, hi) = e.aabb_world();
                    return (g.world_to_voxel(lo), g.world_to_voxel(hi));
                }
                let mut lo = [usize::MAX; 3];
                let mut hi = [0; 3];
                for &i in vox {
                    let v = g.voxel(i);
                    for a in 0..3 {
                        lo[a] = lo[a].min(v[a]);
                        hi[a] = hi[a].max(v[a]);
                    }
                }
                (lo, hi)
            }
        }
    }

    /// The observation `detect` returns: name, position (voxel of the centre), aabb
    /// (`[[min], [max]]` voxels), normal, world position, colour, and on demand the
    /// occupancy map and point cloud.
    pub fn observation(
        &self,
        r: &Resolved,
        want_occupancy: bool,
        want_points: bool,
        budget: &mut Budget,
    ) -> Result<Value, String> {
        let g = &self.grid;
        let (name, normal, world, color, voxels, points): ObservationParts = match r {
            Resolved::Gripper => {
                let axis = quat::rotate(self.ee.quat, [0.0, 0.0, 1.0]);
                (
                    "gripper".into(),
                    axis,
                    self.ee.position,
                    None,
                    vec![g.index(self.ee_voxel())],
                    vec![self.ee.position],
                )
            }
            Resolved::Table => {
                let (lo, hi) = self.voxel_aabb(r);
                let w = g.voxel_to_world([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0]);
                (
                    "table".into(),
                    [0.0, 0.0, 1.0],
                    w,
                    Some("wooden".into()),
                    Vec::new(),
                    Vec::new(),
                )
            }
            Resolved::Entity(i) => {
                let (e, vox) = self.entities.get(*i).ok_or("unknown entity")?;
                let pts = if want_points {
                    e.surface_points(0.01)
                } else {
                    Vec::new()
                };
                (
                    e.name.clone(),
                    e.normal,
                    e.centroid_world(),
                    e.color.clone(),
                    vox.clone(),
                    pts,
                )
            }
        };
        let pos = self.voxel_of(r);
        let (lo, hi) = self.voxel_aabb(r);
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), Value::str(&name));
        attrs.insert("position".into(), int_array(&pos.map(|x| x as f64)));
        let aabb = NdArray::from_vec(
            vec![2, 3],
            lo.iter().chain(hi.iter()).map(|&x| x as f32).collect(),
            DType::Int,
        )?;
        attrs.insert("aabb".into(), Value::array(aabb));
        attrs.insert("normal".into(), float_array(&normal));
        attrs.insert("world_position".into(), float_array(&world));
        attrs.insert(
            "color".into(),
            color.map_or(Value::None, |c| Value::str(&c)),
        );
        if want_occupancy {
            budget.alloc(g.len() as u64)?;
            let mut occ = NdArray::zeros(g.size.to_vec(), DType::Float).with_forgiving(true);
            if matches!(r, Resolved::Table) {
                let (lo, hi) = self.voxel_aabb(r);
                for i in lo[0]..=hi[0] {
                    for j in lo[1]..=hi[1] {
                        occ.data[g.index([i, j, 0])] = 1.0;
                    }
                }
            }
            for &i in &voxels {
                if let Some(x) = occ.data.get_mut(i) {
                    *x = 1.0;
                }
            }
            attrs.insert("occupancy_map".into(), Value::array(occ));
        }
        if want_points {
            budget.alloc(points.len() as u64 * 3)?;
            let data = points.iter().flat_map(|p| p.map(|x| x as f32)).collect();
            attrs.insert(
                "point_cloud".into(),
                Value::array(NdArray::from_vec(
                    vec![points.len(), 3],
                    data,
                    DType::Float,
                )?),
            );
        }
        Ok(Value::object("Observation", attrs))
    }
}

fn int_array(v: &[f64]) -> Value {
    Value::array(NdArray {
        shape: vec![v.len()],
        data: v.iter().map(|&x| x as f32).collect(),
        dtype: DType::Int,
        forgiving: false,
    })
}

fn float_array(v: &[f64]) -> Value {
    Value::array(NdArray {
        shape: vec![v.len()],
        data: v.iter().map(|&x| x as f32).collect(),
        dtype: DType::Float,
        forgiving: false,
    })
}

/// Name, normal, world centre, colour, occupied voxels and surface points of a detection.
type ObservationParts = (
    String,
    [f64; 3],
    [f64; 3],
    Option<String>,
    Vec<usize>,
    Vec<[f64; 3]>,
);

/// The functions map programs may call.
pub const API_FUNCTIONS: &[&str] = &[
    "detect",
    "parse_query_obj",
    "get_empty_affordance_map",
    "get_empty_avoidance_map",
    "get_empty_rotation_map",
    "get_empty_velocity_map",
    "get_empty_gripper_map",
    "cm2index",
    "index2cm",
    "set_voxel_by_radius",
    "get_ee_pos",
    "get_ee_quat",
    "get_default_ee_pos",
    "euler2quat",
    "quat2euler",
    "qmult",
    "qinverse",
    "pointat2quat",
    "vec2quat",
];

/// The map API bound to a world, for one program run.
pub struct MapHost<'a> {
    world: &'a World,
    want_occupancy: bool,
    want_points: bool,
}

impl<'a> MapHost<'a> {
    /// A host for running `source` against `world` (the source tells whether the program
    /// reads occupancy maps or point clouds, which are only built when it does).
    pub fn new(world: &'a World, source: &str) -> Self {
        Self {
            world,
            want_occupancy: source.contains("occupancy_map"),
            want_points: source.contains("point_cloud"),
        }
    }

    /// A fresh map of `kind`, as a painting (made dense only if the program reads it; see
    /// `valuescape_lang::Painted`).
    fn empty_map(&self, kind: MapKind) -> Result<Value, String> {
        let outer = self.world.grid.size.to_vec();
        let (inner, base) = match kind {
            MapKind::Rotation => (vec![4], self.world.ee.quat.map(|x| x as f32).to_vec()),
            MapKind::Velocity => (vec![], vec![1.0]),
            MapKind::Gripper if self.world.ee.gripper_open => (vec![], vec![1.0]),
            _ => (vec![], vec![0.0]),
        };
        Painting::filled(outer, inner, base, true)
            .map(Value::painted)
            .ok_or_else(|| "the grid cannot hold a map".to_string())
    }
}

/// Positional-or-keyword argument.
fn arg<'v>(
    args: &'v [Value],
    kwargs: &'v [(String, Value)],
    pos: usize,
    name: &str,
) -> Option<&'v Value> {
    args.get(pos)
        .or_else(|| kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v))
}

fn num(v: Option<&Value>, what: &str) -> Result<f64, String> {
    v.and_then(Value::as_f64)
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} must be a finite number"))
}

fn vec_n<const N: usize>(v: Option<&Value>, what: &str) -> Result<[f64; N], String> {
    let xs = v
        .and_then(Value::to_f64_vec)
        .ok_or_else(|| format!("{what} must be a list or array of {N} numbers"))?;
    if xs.len() != N || xs.iter().any(|x| !x.is_finite()) {
        return Err(format!(
            "{what} must have {N} finite numbers, got {}",
            xs.len()
        ));
    }
    let mut out = [0.0; N];
    out.copy_from_slice(&xs);
    Ok(out)
}

fn axis_of(v: &Value) -> Option<usize> {
    match v.as_str()?.trim().to_lowercase().as_str() {
        "x" => Some(0),
        "y" => Some(1),
        "z" => Some(2),
        _ => None,
    }
}

fn quat_value(q: quat::Quat) -> Value {
    float_array(&q)
}

impl Host for MapHost<'_> {
    fn painted_argument(&self, name: &str) -> Option<(usize, &'static str)> {
        (name == "set_voxel_by_radius").then_some((0, "voxel_map"))
    }

    fn global(&mut self, name: &str) -> Option<Value> {
        API_FUNCTIONS
            .contains(&name)
            .then(|| Value::HostFn(name.into()))
    }

    fn call(
        &mut self,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
        budget: &mut Budget,
    ) -> Result<Value, String> {
        let w = self.world;
        let g = &w.grid;
        budget.charge_ops(1)?;
        match name {
            "detect" | "parse_query_obj" => {
                let q = arg(&args, &kwargs, 0, "query")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{name}() takes the object's name as a string, e.g. {name}('blue block')"))?;
                match w.resolve(q)? {
                    Some(r) => w.observation(&r, self.want_occupancy, self.want_points, budget),
                    None => Ok(Value::None),
                }
            }
            "get_empty_affordance_map" => self.empty_map(MapKind::Affordance),
            "get_empty_avoidance_map" => self.empty_map(MapKind::Avoidance),
            "get_empty_rotation_map" => self.empty_map(MapKind::Rotation),
            "get_empty_velocity_map" => self.empty_map(MapKind::Velocity),
            "get_empty_gripper_map" => self.empty_map(MapKind::Gripper),
            "cm2index" => {
                let cm = num(
                    arg(&args, &kwargs, 0, "cm"),
                    "cm2index's first argument (centimetres)",
                )?;
                let dir = arg(&args, &kwargs, 1, "direction").ok_or(
                    "cm2index(cm, direction) needs a direction: 'x', 'y', 'z' or a 3-vector",
                )?;
                if let Some(a) = axis_of(dir) {
                    return Ok(Value::Int(g.cm2index(cm, a)));
                }
                let d = vec_n::<3>(Some(dir), "cm2index's direction")?;
                Ok(int_array(&g.cm2index_dir(cm, d).map(|x| x as f64)))
            }
            "index2cm" => {
                let idx = num(arg(&args, &kwargs, 0, "index"), "index2cm's first argument")?;
                let a = arg(&args, &kwargs, 1, "direction")
                    .and_then(axis_of)
                    .ok_or("index2cm(index, axis) needs an axis 'x', 'y' or 'z'")?;
                Ok(Value::Float(g.index2cm(idx, a)))
            }
            "set_voxel_by_radius" => {
                let map = arg(&args, &kwargs, 0, "voxel_map")
                    .ok_or("set_voxel_by_radius(map, voxel, radius_cm=0, value=1) needs a map")?;
                let (Value::Array(_) | Value::Painted(_)) = map else {
                    return Err(format!(
                        "set_voxel_by_radius's first argument must be a map, got {}",
                        map.type_name()
                    ));
                };
                let center = vec_n::<3>(
                    arg(&args, &kwargs, 1, "voxel_xyz"),
                    "set_voxel_by_radius's voxel",
                )?;
                let radius = match arg(&args, &kwargs, 2, "radius_cm") {
                    Some(v) => num(Some(v), "radius_cm")?,
                    None => 0.0,
                };
                let value = arg(&args, &kwargs, 3, "value")
                    .cloned()
                    .unwrap_or(Value::Int(1));
                let shape = match map {
                    Value::Painted(p) => p.shape(),
                    Value::Array(a) => a
                        .try_borrow()
                        .map_err(|_| "the map is in use")?
                        .shape
                        .clone(),
                    _ => Vec::new(),
                };
                if shape.len() < 3 || shape[..3] != g.size[..] {
                    return Err(format!(
                        "set_voxel_by_radius needs a map of shape {:?}, got {:?}",
                        g.size, shape
                    ));
                }
                let c = g.clamp_voxel_f(center);
                // Clamped to the grid: `cm2index` saturates, and a radius of 1e30 cm would
                // overflow the sums below.
                let r: [i64; 3] = if radius > 0.0 {
                    [0, 1, 2].map(|a| g.cm2index(radius, a).clamp(0, g.size[a] as i64))
                } else {
                    [0; 3]
                };
                let lo = [0, 1, 2].map(|a| (c[a] as i64 - r[a]).max(0) as usize);
                let hi = [0, 1, 2].map(|a| ((c[a] as i64 + r[a] + 1) as usize).min(g.size[a]));
                let inner: usize = shape[3..].iter().product();
                let vals: Vec<f32> = match value.to_f64_vec() {
                    Some(v) if v.len() == inner => v.iter().map(|&x| x as f32).collect(),
                    Some(v) if v.len() == 1 => vec![v[0] as f32; inner],
                    _ => {
                        return Err(format!(
                            "value must be a number (or {inner} numbers for this map)"
                        ));
                    }
                };
                match map {
                    // Kept as a box while the map is a painting.
                    Value::Painted(p) => p.paint(&lo, &hi, &vals, budget)?,
                    Value::Array(m) => {
                        let mut m = m.try_borrow_mut().map_err(|_| "the map is in use")?;
                        paint_box(&mut m, &lo, &hi, &vals, budget)?;
                    }
                    _ => {}
                }
                Ok(Value::None)
            }
            "get_ee_pos" => Ok(int_array(&w.ee_voxel().map(|x| x as f64))),
            "get_default_ee_pos" => Ok(int_array(
                &g.world_to_voxel(w.default_ee.position).map(|x| x as f64),
            )),
            "get_ee_quat" => Ok(quat_value(w.ee.quat)),
            "euler2quat" => {
                let a = num(arg(&args, &kwargs, 0, "ai"), "euler2quat's ai")?;
                let b = num(arg(&args, &kwargs, 1, "aj"), "euler2quat's aj")?;
                let c = num(arg(&args, &kwargs, 2, "ak"), "euler2quat's ak")?;
                Ok(quat_value(quat::euler2quat(a, b, c)))
            }
            "quat2euler" => {
                let q = vec_n::<4>(
                    arg(&args, &kwargs, 0, "quaternion"),
                    "quat2euler's quaternion",
                )?;
                Ok(float_array(&quat::quat2euler(q)))
            }
            "qmult" => {
                let a = vec_n::<4>(arg(&args, &kwargs, 0, "q1"), "qmult's q1")?;
                let b = vec_n::<4>(arg(&args, &kwargs, 1, "q2"), "qmult's q2")?;
                Ok(quat_value(quat::qmult(a, b)))
            }
            "qinverse" => {
                let q = vec_n::<4>(arg(&args, &kwargs, 0, "q"), "qinverse's q")?;
                Ok(quat_value(quat::qinverse(q)))
            }
            "pointat2quat" | "vec2quat" => {
                let v = vec_n::<3>(arg(&args, &kwargs, 0, "vec"), &format!("{name}'s vector"))?;
                Ok(quat_value(quat::pointat2quat(v)))
            }
            other => Err(format!("unknown function {other}()")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use valuescape_core::scene::presets;

    fn run(
        world: &World,
        src: &str,
    ) -> Result<valuescape_lang::Outcome, valuescape_lang::LangError> {
        let p = valuescape_lang::parse(src)?;
        let mut host = MapHost::new(world, src);
        valuescape_lang::run(
            &p,
            &mut host,
            &valuescape_lang::Limits::default(),
            Vec::new(),
        )
    }

    /// A variable's map, dense, whether the run left it painted or not.
    fn dense(out: &valuescape_lang::Outcome, name: &str) -> Option<NdArray> {
        match out.get(name)? {
            Value::Array(a) => Some(a.borrow().clone()),
            Value::Painted(p) => Some(match p.state() {
                valuescape_lang::PaintedState::Lazy(p) => p.to_array(),
                valuescape_lang::PaintedState::Dense(a) => a.borrow().clone(),
            }),
            _ => None,
        }
    }

    fn world() -> World {
        let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
        World::new(scene, Grid::default())
    }

    #[test]
    fn set_voxel_by_radius_fills_a_box_of_truncated_half_sizes() {
        let w = world();
        let out = run(&w, "m = get_empty_avoidance_map()\nset_voxel_by_radius(m, [50, 50, 50], radius_cm=5, value=1)\nret_val = m")
            .unwrap_or_else(|e| panic!("{e}"));
        let Some(Value::Painted(p)) = out.get("ret_val") else {
            panic!("the map is not a painting");
        };
        assert!(p.is_lazy(), "set_voxel_by_radius keeps the map a painting");
        let m = dense(&out, "ret_val").map(|a| a.data).unwrap_or_default();
        // 5 cm: x 5/1.05 -> 4, y 5/1.31 -> 3, z 5/1.0 -> 5 (half sizes): 9 x 7 x 11 voxels.
        assert_eq!(m.iter().filter(|&&x| x == 1.0).count(), 9 * 7 * 11);
        let g = w.grid;
        assert_eq!(m[g.index([46, 47, 45])], 1.0);
        assert_eq!(m[g.index([45, 50, 50])], 0.0);
        assert_eq!(m[g.index([50, 46, 50])], 0.0);
        assert_eq!(m[g.index([50, 50, 56])], 0.0);
    }

    /// A radius past the workspace fills the whole map (it overflowed in debug builds).
    #[test]
    fn set_voxel_by_radius_with_an_enormous_radius_fills_the_map() {
        let w = world();
        let out = run(
            &w,
            "m = get_empty_avoidance_map()
set_voxel_by_radius(m, [8, 8, 8], radius_cm=1e30, value=1)
ret_val = m",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let m = dense(&out, "ret_val").map(|a| a.data).unwrap_or_default();
        assert_eq!(m.len(), w.grid.len());
        assert!(m.iter().all(|&x| x == 1.0));
    }

    /// The same box whether the map is still a painting, was made dense by a read, or is an
    /// ordinary array.
    #[test]
    fn set_voxel_by_radius_paints_the_same_on_every_kind_of_map() {
        let w = world();
        let paint = "set_voxel_by_radius(m, [50, 50, 50], radius_cm=5, value=1)\n\
                     set_voxel_by_radius(m, [52, 50, 50], radius_cm=0, value=3)\nret_val = m";
        let maps: Vec<Vec<f32>> = [
            "m = get_empty_avoidance_map()",
            "m = get_empty_avoidance_map()\ns = m.sum()",
            "m = get_empty_avoidance_map() + 0",
        ]
        .iter()
        .map(|make| {
            let out = run(&w, &format!("{make}\n{paint}")).unwrap_or_else(|e| panic!("{e}"));
            dense(&out, "ret_val").map(|a| a.data).unwrap_or_default()
        })
        .collect();
        assert_eq!(
            maps[0].iter().filter(|&&x| x == 1.0).count(),
            9 * 7 * 11 - 1
        );
        assert_eq!(maps[0][w.grid.index([52, 50, 50])], 3.0);
        assert_eq!(maps[0], maps[1]);
        assert_eq!(maps[0], maps[2]);
        // A map where the voxel goes is a map, painted or not: the same error.
        let errors: Vec<String> = [
            "n = get_empty_avoidance_map()",
            "n = get_empty_avoidance_map() + 0",
        ]
        .iter()
        .map(|make| {
            let src =
                format!("m = get_empty_avoidance_map()\n{make}\nset_voxel_by_radius(m, n, 0, 1)");
            run(&w, &src)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        })
        .collect();
        assert!(
            errors[0].contains("must have 3 finite numbers"),
            "{}",
            errors[0]
        );
        assert_eq!(errors[0], errors[1]);
    }

    #[test]
    fn detect_gives_the_original_observation_fields() {
        let w = world();
        let out = run(&w, "b = detect('blue block')\np = b.position\nlo = b.aabb[0]\nhi = b.aabb[1]\nn = b.normal\ng = detect('gripper').position\nnone = detect('banana')")
            .unwrap_or_else(|e| panic!("{e}"));
        let p = out.get("p").and_then(Value::to_f64_vec).unwrap_or_default();
        let lo = out
            .get("lo")
            .and_then(Value::to_f64_vec)
            .unwrap_or_default();
        let hi = out
            .get("hi")
            .and_then(Value::to_f64_vec)
            .unwrap_or_default();
        assert_eq!(p.len(), 3);
        for a in 0..3 {
            assert!(lo[a] <= p[a] && p[a] <= hi[a]);
        }
        assert_eq!(
            out.get("n").and_then(Value::to_f64_vec),
            Some(vec![0.0, 0.0, 1.0])
        );
        let gpos = out.get("g").and_then(Value::to_f64_vec).unwrap_or_default();
        assert_eq!(gpos, w.ee_voxel().map(|x| x as f64).to_vec());
        assert!(matches!(out.get("none"), Some(Value::None)));
    }

    #[test]
    fn defaults_match_the_reference_table() {
        let mut w = world();
        w.ee.gripper_open = false;
        let out = run(&w, "a = get_empty_affordance_map()\nb = get_empty_avoidance_map()\nv = get_empty_velocity_map()\ng = get_empty_gripper_map()\nr = get_empty_rotation_map()")
            .unwrap_or_else(|e| panic!("{e}"));
        let all =
            |name: &str, x: f32| dense(&out, name).is_some_and(|a| a.data.iter().all(|&y| y == x));
        assert!(all("a", 0.0) && all("b", 0.0) && all("v", 1.0) && all("g", 0.0));
        let r = dense(&out, "r").map(|a| (a.shape.clone(), a.data[..4].to_vec()));
        assert_eq!(
            r,
            Some((vec![100, 100, 100, 4], w.ee.quat.map(|x| x as f32).to_vec()))
        );
    }
}
