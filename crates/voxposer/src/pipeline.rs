//! Running a compiled plan: programs -> maps -> cost -> path -> waypoints, step by step,
//! with the world updated between steps (the gripper moves, grasps, carries and releases;
//! pushed objects and drawers move), and closed-loop execution with replanning.

use std::collections::BTreeMap;

use valuescape_core::cost::{CostInput, CostMaps, Movable};
use valuescape_core::paint::{Map, PaintBox, Painted};
use valuescape_core::plan::{self, PathPlan};
use valuescape_core::scene::{Entity, Primitive};
use valuescape_core::{Grid, Voxel};
use valuescape_lang::{Limits, NdArray, PaintedState, Painting, Value};
use web_time::Instant;

use crate::api::{
    KeepMaps, MapKind, PlanError, PlannerKind, StepMaps, StepResult, Timing, Waypoint,
};
use crate::backend::{AsyncBackend, Backend, CpuBackend, Immediate, Resident, measured_path_cost};
use crate::compiler::StepSpec;
use crate::quat;
use crate::query::Resolved;
use crate::world::{MapHost, World};
use valuescape_core::ready_now;

/// Limits for one map program up to 100^3 voxels: 60 million operations (about 60 whole-map
/// operations at 100^3, a small fraction of a second; an endless loop stops quickly), 64
/// million array elements allocated, nesting 64. Larger grids scale the first two with the
/// voxel count ([`program_limits`]).
pub const PROGRAM_LIMITS: Limits = Limits {
    max_ops: 60_000_000,
    max_alloc_elements: 64_000_000,
    max_depth: 64,
    max_seq_len: 1_000_000,
};

/// The limits for a program on a grid of `voxels` voxels: [`PROGRAM_LIMITS`], with the
/// operation and allocation budgets raised to 60 and 64 per voxel where that is more (a
/// rotation map alone is 4 values per voxel, 67 million at 256^3).
pub fn program_limits(voxels: usize) -> Limits {
    let v = voxels as u64;
    Limits {
        max_ops: PROGRAM_LIMITS.max_ops.max(60 * v),
        max_alloc_elements: PROGRAM_LIMITS.max_alloc_elements.max(64 * v),
        ..PROGRAM_LIMITS
    }
}

/// End-effector speed at velocity 1, metres per second.
pub const BASE_SPEED: f64 = 0.25;
/// Slowest speed multiplier used for timing (a velocity of 0 would never arrive).
pub const MIN_VELOCITY: f64 = 0.05;

/// The five maps a step's programs produced: each kept as the boxes its program painted
/// unless the program did more with it than paint (see [`valuescape_core::paint`]).
#[derive(Clone, Debug)]
pub struct ProgramMaps {
    /// Affordance.
    pub affordance: Map<f32>,
    /// Avoidance.
    pub avoidance: Map<f32>,
    /// Velocity.
    pub velocity: Map<f32>,
    /// Gripper.
    pub gripper: Map<f32>,
    /// Rotation, one quaternion per voxel.
    pub rotation: Map<[f32; 4]>,
    /// What the user should know about how the programs ran (indices clamped into the grid).
    pub warnings: Vec<String>,
}

fn err(stage: &str, step: Option<usize>, map: Option<MapKind>, message: String) -> PlanError {
    PlanError {
        stage: stage.into(),
        step,
        map,
        line: None,
        col: None,
        span: None,
        message,
    }
}

/// What a map program left: the painting of a map it only painted, else a dense array.
#[derive(Clone, Debug)]
pub enum ProgramMap {
    /// A base value and boxes (`valuescape_lang::Painted`).
    Painted(Painting),
    /// A dense array.
    Dense(NdArray),
}

impl ProgramMap {
    /// The shape of the map.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            ProgramMap::Painted(p) => p.shape(),
            ProgramMap::Dense(a) => a.shape.clone(),
        }
    }

    /// The map as a dense array.
    pub fn to_array(&self) -> NdArray {
        match self {
            ProgramMap::Painted(p) => p.to_array(),
            ProgramMap::Dense(a) => a.clone(),
        }
    }

    fn has_non_finite(&self) -> bool {
        let bad = |v: &[f32]| !v.iter().fold(true, |ok, x| ok & x.is_finite());
        match self {
            // A non-finite value may have been painted over; the dense map says for sure.
            ProgramMap::Painted(p) => {
                (bad(&p.base) || p.boxes.iter().any(|b| bad(&b.value))) && bad(&p.to_array().data)
            }
            ProgramMap::Dense(a) => bad(&a.data),
        }
    }

    /// A map of one value per voxel on `grid` (the shape checked already).
    fn scalar(self, grid: Grid) -> Map<f32> {
        self.on_grid(grid, |v| v.first().copied().unwrap_or(0.0), |d| d)
    }

    /// A map of one quaternion per voxel on `grid` (the shape checked already).
    fn quaternions(self, grid: Grid) -> Map<[f32; 4]> {
        let q = |v: &[f32]| [0, 1, 2, 3].map(|k| v.get(k).copied().unwrap_or(0.0));
        // Four floats a voxel: the same memory as quaternions, taken over without a copy
        // where the allocation allows (it is 16 MB at 100^3).
        self.on_grid(grid, q, |d| {
            bytemuck::try_cast_vec::<f32, [f32; 4]>(d)
                .unwrap_or_else(|(_, d)| d.chunks_exact(4).map(q).collect())
        })
    }

    fn on_grid<T: Copy>(
        self,
        grid: Grid,
        value: impl Fn(&[f32]) -> T,
        dense: impl FnOnce(Vec<f32>) -> Vec<T>,
    ) -> Map<T> {
        let corner = |v: &[usize]| [0, 1, 2].map(|a| v.get(a).copied().unwrap_or(0));
        match self {
            ProgramMap::Dense(a) => Map::Dense(grid, dense(a.data)),
            ProgramMap::Painted(p) => Map::Painted(Painted {
                grid,
                base: value(&p.base),
                boxes: p
                    .boxes
                    .iter()
                    .map(|b| PaintBox {
                        lo: corner(&b.lo),
                        hi: corner(&b.hi),
                        value: value(&b.value),
                    })
                    .collect(),
            }),
        }
    }
}

/// Parses and runs one map program; returns its map (`ret_val`, else `<kind>_map`).
pub fn run_program(
    world: &World,
    kind: MapKind,
    source: &str,
    step: usize,
) -> Result<ProgramMap, PlanError> {
    run_program_noting(world, kind, source, step).map(|(a, _)| a)
}

/// What a run's clamped indices mean for its map, in words; `None` when none was clamped.
/// The clamping itself is VoxPoser's (an index past the grid paints or reads its edge), but
/// the map then differs from what the program's arithmetic asked for: a target "60cm above"
/// something near the top of the workspace becomes a target at the top, and is reached.
pub fn clamp_warning(
    kind: MapKind,
    step: usize,
    clamped: &[valuescape_lang::ClampedIndex],
    count: u64,
) -> Option<String> {
    if clamped.is_empty() {
        return None;
    }
    let axis = |a: usize| match a {
        0 => "x".to_string(),
        1 => "y".to_string(),
        2 => "z".to_string(),
        _ => format!("axis {a}"),
    };
    let listed: Vec<String> = clamped
        .iter()
        .take(3)
        .map(|c| {
            let to = if c.index < 0.0 { 0 } else { c.size - 1 };
            format!(
                "{} = {} (clamped to {to}; the grid is 0 to {})",
                axis(c.axis),
                c.index,
                c.size - 1
            )
        })
        .collect();
    let more = if count > listed.len() as u64 {
        format!("; indices were clamped {count} times in all")
    } else {
        String::new()
    };
    Some(format!(
        "step {step}'s {} program indexed outside the grid: {}{more}. The map is drawn at the \
         workspace's edge instead, so this step's target may not be where the instruction says.",
        kind.name(),
        listed.join(", ")
    ))
}

/// [`run_program`], with what [`clamp_warning`] says of the run.
pub fn run_program_noting(
    world: &World,
    kind: MapKind,
    source: &str,
    step: usize,
) -> Result<(ProgramMap, Option<String>), PlanError> {
    let to_err = |e: valuescape_lang::LangError| PlanError {
        stage: "program".into(),
        step: Some(step),
        map: Some(kind),
        line: Some(e.span.line),
        col: Some(e.span.col),
        span: Some((e.span.start, e.span.end)),
        message: format!("{}: {}", e.kind.name(), e.message),
    };
    let program = valuescape_lang::parse(source).map_err(to_err)?;
    let mut host = MapHost::new(world, source);
    let out = valuescape_lang::run(
        &program,
        &mut host,
        &program_limits(world.grid.len()),
        Vec::new(),
    )
    .map_err(to_err)?;
    let var = format!("{}_map", kind.name());
    let v = out
        .get("ret_val")
        .filter(|v| !matches!(v, Value::None))
        .or_else(|| out.get(&var));
    let Some(v) = v else {
        return Err(err(
            "program",
            Some(step),
            Some(kind),
            format!("the program must leave its map in `ret_val` (or `{var}`)"),
        ));
    };
    let in_use = || {
        err(
            "program",
            Some(step),
            Some(kind),
            "the map is still in use".into(),
        )
    };
    // Take the array out of the finished run instead of copying it.
    let take = |rc: &std::rc::Rc<std::cell::RefCell<NdArray>>| {
        rc.try_borrow_mut().map(|mut a| {
            std::mem::replace(
                &mut *a,
                NdArray::zeros(vec![0], valuescape_lang::DType::Float),
            )
        })
    };
    let a = match v {
        Value::Array(rc) => ProgramMap::Dense(take(rc).map_err(|_| in_use())?),
        Value::Painted(p) => match p.state() {
            PaintedState::Lazy(p) => ProgramMap::Painted(p),
            PaintedState::Dense(rc) => ProgramMap::Dense(take(&rc).map_err(|_| in_use())?),
        },
        _ => {
            return Err(err(
                "program",
                Some(step),
                Some(kind),
                format!("`ret_val` must be a map, got {}", v.type_name()),
            ));
        }
    };
    let mut want = world.grid.size.to_vec();
    if kind == MapKind::Rotation {
        want.push(4);
    }
    if a.shape() != want {
        return Err(err(
            "program",
            Some(step),
            Some(kind),
            format!(
                "the {} map has shape {:?}; it must be {:?}",
                kind.name(),
                a.shape(),
                want
            ),
        ));
    }
    if a.has_non_finite() {
        return Err(err(
            "program",
            Some(step),
            Some(kind),
            format!("the {} map contains NaN or infinite values", kind.name()),
        ));
    }
    Ok((
        a,
        clamp_warning(kind, step, &out.clamped, out.clamped_count),
    ))
}

/// Runs the five programs of a step.
pub fn run_programs(
    world: &World,
    programs: &BTreeMap<MapKind, String>,
    step: usize,
) -> Result<ProgramMaps, PlanError> {
    let g = world.grid;
    // A kind with no program gets its default map (as `execute` does for a map not passed).
    let source = |kind: MapKind| -> String {
        programs
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| format!("ret_val = get_empty_{}_map()\n", kind.name()))
    };
    let mut warnings = Vec::new();
    let mut map = |kind: MapKind| -> Result<ProgramMap, PlanError> {
        let (a, w) = run_program_noting(world, kind, &source(kind), step)?;
        warnings.extend(w);
        Ok(a)
    };
    let affordance = map(MapKind::Affordance)?.scalar(g);
    let avoidance = map(MapKind::Avoidance)?.scalar(g);
    let velocity = map(MapKind::Velocity)?.scalar(g);
    let gripper = map(MapKind::Gripper)?.scalar(g);
    let rotation = map(MapKind::Rotation)?.quaternions(g);
    Ok(ProgramMaps {
        affordance,
        avoidance,
        velocity,
        gripper,
        rotation,
        warnings,
    })
}

/// Stage times of one step, milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepTiming {
    /// Programs.
    pub programs: f64,
    /// Cost composition.
    pub cost: f64,
    /// Path and trajectory.
    pub plan: f64,
    /// Spent in [`AsyncBackend::pause`] (in no stage).
    pub paused: f64,
}

/// A planned step plus what the executor needs.
#[derive(Clone, Debug)]
pub struct PlannedStep {
    /// The public result.
    pub result: StepResult,
    /// Stage times.
    pub timing: StepTiming,
    /// Distance (voxels) from the movable's start to the nearest target.
    pub start_distance: f32,
    /// The movable's own path (voxel coordinates), for pushes.
    pub movable_path: Vec<[f64; 3]>,
    /// The raw search path.
    pub path: PathPlan,
    /// The accumulated cost ([`plan::path_measure`]) of the search path, continued by a
    /// straight line to the nearest target voxel when it stopped short (the greedy planner).
    pub path_cost: f64,
    /// Whether any waypoint's voxel is marked (> 0.5) in the avoidance map.
    pub enters_avoidance: bool,
}

/// Milliseconds spent in the backend's [`AsyncBackend::pause`].
async fn pause<B: AsyncBackend + ?Sized>(backend: &B) -> f64 {
    let t = Instant::now();
    backend.pause().await;
    ms(t)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The entity a step moves, as an index into the world's entities (None for the gripper).
fn movable_entity(world: &World, spec: &StepSpec, step: usize) -> Result<Option<usize>, PlanError> {
    match world
        .resolve(&spec.movable)
        .map_err(|e| err("plan", Some(step), None, e))?
    {
        Some(Resolved::Gripper) => Ok(None),
        Some(Resolved::Entity(i)) => Ok(Some(i)),
        Some(Resolved::Table) => Err(err(
            "plan",
            Some(step),
            None,
            "the table cannot move".into(),
        )),
        None => Err(err(
            "plan",
            Some(step),
            None,
            format!("the moving entity {:?} is not in the scene", spec.movable),
        )),
    }
}

/// Plans one step in a world: runs its programs, composes the cost, plans, reads the maps
/// along the path.
pub fn plan_step(
    world: &World,
    spec: &StepSpec,
    step: usize,
    planner: PlannerKind,
    keep_maps: KeepMaps,
) -> Result<PlannedStep, PlanError> {
    plan_step_on(world, spec, step, planner, keep_maps, &CpuBackend)
}

/// [`plan_step`] on a chosen backend.
pub fn plan_step_on(
    world: &World,
    spec: &StepSpec,
    step: usize,
    planner: PlannerKind,
    keep_maps: KeepMaps,
    backend: &dyn Backend,
) -> Result<PlannedStep, PlanError> {
    resolve(plan_step_async(
        world,
        spec,
        step,
        planner,
        keep_maps,
        &Immediate(backend),
    ))
}

/// The result of a pipeline future over an [`Immediate`] backend (ready at once).
pub(crate) fn resolve<T>(f: impl Future<Output = Result<T, PlanError>>) -> Result<T, PlanError> {
    ready_now(f).unwrap_or_else(|| {
        Err(err(
            "plan",
            None,
            None,
            "internal: a synchronous backend's work did not complete at once".into(),
        ))
    })
}

/// [`plan_step_on`] on a backend whose results may arrive later (WebGPU in the browser).
pub async fn plan_step_async<B: AsyncBackend + ?Sized>(
    world: &World,
    spec: &StepSpec,
    step: usize,
    planner: PlannerKind,
    keep_maps: KeepMaps,
    backend: &B,
) -> Result<PlannedStep, PlanError> {
    let g = world.grid;
    let mut paused = pause(backend).await;
    let t0 = Instant::now();
    let mut maps = run_programs(world, &spec.programs, step)?;
    let t_programs = ms(t0);

    paused += pause(backend).await;
    let t1 = Instant::now();
    let mover = movable_entity(world, spec, step)?;
    let held = world.held.as_deref().map(str::to_lowercase);
    let ents = world.entities();
    let mut collision: Vec<usize> = Vec::new();
    for (k, (e, vox)) in ents.iter().enumerate() {
        if Some(k) == mover || held.as_deref() == Some(e.name.to_lowercase().as_str()) {
            continue;
        }
        if let Some(h) = held.as_deref() {
            // Carrying a whole object: none of its parts are obstacles.
            if e.object.to_lowercase() == h {
                continue;
            }
        }
        collision.extend_from_slice(vox);
    }
    let (start, movable) = match mover {
        None => (world.ee_voxel(), Movable::Gripper(world.ee_voxel())),
        Some(k) => {
            let (e, vox) = &ents[k];
            (
                g.world_to_voxel(e.centroid_world()),
                Movable::Object(vox.as_slice()),
            )
        }
    };
    let input = CostInput {
        affordance: &maps.affordance,
        avoidance: &maps.avoidance,
        collision: &collision,
        movable,
    };
    let compose_err = |e| err("plan", Some(step), Some(MapKind::Affordance), e);
    // A value plan whose maps the step does not keep may stay where the backend composed
    // it: only the path and what the step reports of it come back (`Backend::plan_resident`).
    let resident = if keep_maps != KeepMaps::All && planner == PlannerKind::Value {
        backend
            .compose_resident(&input)
            .await
            .map_err(compose_err)?
    } else {
        None
    };
    let composed = match resident {
        Some(maps) => Composed::Resident(maps),
        None => Composed::Here(Box::new(
            backend.compose(&input).await.map_err(compose_err)?,
        )),
    };
    let t_cost = ms(t1);

    paused += pause(backend).await;
    let t2 = Instant::now();
    let s = g.index(start);
    let plan_err = |e| {
        err(
            "plan",
            Some(step),
            None,
            format!("{} backend: {e}", backend.name()),
        )
    };
    let (path, path_cost, start_distance, resident_range) = match &composed {
        &Composed::Resident(maps) => {
            let r = backend
                .plan_resident(maps, start, spec.planar)
                .await
                .map_err(plan_err)?;
            (r.path, r.path_cost, r.start_distance, Some(r.cost_range))
        }
        Composed::Here(cm) => {
            let blocked = cm.blocked(s);
            let problem = cm.problem(&blocked, start, spec.planar);
            // The problem is the composed maps' own (blocked mask by `CostMaps::blocked`).
            let path = backend
                .plan_composed(&problem, planner)
                .await
                .map_err(plan_err)?;
            let cost = measured_path_cost(cm, &problem, &path);
            (path, cost, cm.target_distance[s], None)
        }
    };
    // End-effector points: the movable's path shifted by the gripper's offset from it.
    let offset: [f64; 3] = match mover {
        None => [0.0; 3],
        Some(_) => {
            let e = world.ee_voxel();
            [0, 1, 2].map(|a| e[a] as f64 - start[a] as f64)
        }
    };
    let waypoints = trajectory(&g, &path.points, offset, &maps);
    let t_plan = ms(t2);

    let enters_avoidance = path.search_path.iter().any(|v| maps.avoidance.at(*v) > 0.5);

    // The maps move into the result: nothing reads them after this (a copy was about 40 MB
    // of memory traffic per step at 100^3).
    let warnings = std::mem::take(&mut maps.warnings);
    let (obstacle, cost) = match composed {
        Composed::Here(cm) => (Some(cm.obstacle), Some(cm.cost)),
        Composed::Resident(_) => (None, None),
    };
    let kept = (keep_maps != KeepMaps::None).then_some(StepMaps {
        affordance: maps.affordance,
        avoidance: maps.avoidance,
        velocity: maps.velocity,
        gripper: maps.gripper,
        rotation: maps.rotation,
        obstacle,
        cost,
        cost_range: resident_range,
    });
    let result = StepResult {
        instruction: spec.instruction.clone(),
        movable: spec.movable.clone(),
        programs: spec.programs.clone(),
        waypoints,
        target_reached: path.reached,
        path_cost: path_cost.is_finite().then_some(path_cost),
        warnings,
        rollouts: (planner == PlannerKind::Mppi).then_some(path.expanded as u64),
        maps: kept,
    };
    Ok(PlannedStep {
        result,
        timing: StepTiming {
            programs: t_programs,
            cost: t_cost,
            plan: t_plan,
            paused,
        },
        start_distance,
        movable_path: path.points.clone(),
        path,
        path_cost,
        enters_avoidance,
    })
}

/// Where a step's composed maps are: kept by the backend (planned on there), or here.
enum Composed {
    Resident(Resident),
    Here(Box<CostMaps>),
}

/// Waypoints along voxel-coordinate points: maps read at each voxel, velocity applied to the
/// timing (segment length over `BASE_SPEED * velocity`).
pub fn trajectory(
    g: &Grid,
    points: &[[f64; 3]],
    offset: [f64; 3],
    maps: &ProgramMaps,
) -> Vec<Waypoint> {
    let mut out: Vec<Waypoint> = Vec::with_capacity(points.len());
    for p in points {
        let read = g.clamp_voxel_f(*p);
        let q = [p[0] + offset[0], p[1] + offset[1], p[2] + offset[2]];
        let voxel = g.clamp_voxel_f(q);
        let position =
            g.voxel_to_world_f([0, 1, 2].map(|a| q[a].clamp(0.0, (g.size[a] - 1) as f64)));
        let r = maps.rotation.at(read);
        let velocity = maps.velocity.at(read) as f64;
        let time_s = match out.last() {
            None => 0.0,
            Some(prev) => {
                let d = (0..3)
                    .map(|a| (position[a] - prev.position[a]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                prev.time_s + d / (BASE_SPEED * velocity.max(MIN_VELOCITY))
            }
        };
        out.push(Waypoint {
            voxel,
            position,
            quat: quat::normalize(r.map(|x| x as f64)),
            gripper: maps.gripper.at(read) as f64,
            velocity,
            time_s,
        });
    }
    out
}

fn translate(e: &mut Entity, d: [f64; 3]) {
    for p in &mut e.primitives {
        let c = match p {
            Primitive::Box { center, .. }
            | Primitive::Cylinder { center, .. }
            | Primitive::Sphere { center, .. } => center,
        };
        for a in 0..3 {
            c[a] += d[a];
        }
    }
}

/// Moves an entity (and what it belongs to) by `d` metres: whole objects move, drawers slide
/// along their normal, other parts (a lid) come off their object and move freely.
pub fn move_entity(world: &mut World, name: &str, d: [f64; 3]) {
    if d.iter().all(|x| x.abs() < 1e-12) {
        return;
    }
    let lower = name.to_lowercase();
    if let Some(f) = world
        .floating
        .iter_mut()
        .find(|e| e.name.to_lowercase() == lower)
    {
        let obj = f.object.clone();
        for e in world.floating.iter_mut().filter(|e| e.object == obj) {
            translate(e, d);
        }
        world.refresh();
        return;
    }
    let Some(idx) = world.entity_index(name) else {
        return;
    };
    let ent = world.entities()[idx].0.clone();
    if let Some((open, depth)) = world.scene.drawer_state(&ent.name) {
        let along = ent.normal[0] * d[0] + ent.normal[1] * d[1] + ent.normal[2] * d[2];
        let _ = world
            .scene
            .set_drawer_open(&ent.name, (open + along).clamp(0.0, depth));
    } else if ent.name.eq_ignore_ascii_case(&ent.object) {
        let _ = world.scene.move_object(&ent.name, d);
    } else {
        // A part comes off its object: a lid (with its handle).
        let parts: Vec<Entity> = world
            .scene
            .entities()
            .into_iter()
            .filter(|e| {
                e.object == ent.object
                    && (e.name.eq_ignore_ascii_case(&ent.name) || lid_family(&e.name, &ent.name))
            })
            .collect();
        if world.scene.set_lid_on(&ent.object, false).is_ok() {
            for mut p in parts {
                translate(&mut p, d);
                world.floating.push(p);
            }
        }
    }
    world.refresh();
}

fn lid_family(a: &str, b: &str) -> bool {
    a.contains("lid") && b.contains("lid")
}

/// Applies a planned step's end state: the gripper (and whatever it holds or pushes) moves to
/// the last waypoint; the gripper opens or closes, grasping or releasing.
pub fn apply_step(world: &mut World, planned: &PlannedStep, upto: Option<usize>) {
    let wps = &planned.result.waypoints;
    let last = match upto {
        Some(k) => wps.get(k.min(wps.len().saturating_sub(1))),
        None => wps.last(),
    };
    let Some(last) = last else { return };
    let d = [0, 1, 2].map(|a| last.position[a] - world.ee.position[a]);
    let pushed = if planned.result.movable == "gripper" {
        None
    } else {
        Some(planned.result.movable.clone())
    };
    // Resolve the pushed entity's real name before moving.
    let pushed = pushed.and_then(|q| match world.resolve(&q) {
        Ok(Some(Resolved::Entity(i))) => world.entity(i).map(|(e, _)| e.name.clone()),
        _ => None,
    });
    world.ee.position = last.position;
    world.ee.quat = last.quat;
    if let Some(h) = world.held.clone() {
        move_entity(world, &h, d);
    } else if let Some(p) = pushed {
        move_entity(world, &p, d);
    }
    let open = last.gripper >= 0.5;
    if world.ee.gripper_open && !open {
        world.held = grasped(world);
    } else if !world.ee.gripper_open && open {
        world.held = None;
    }
    world.ee.gripper_open = open;
}

/// The entity between the fingers: the closest entity whose voxels come within 2 voxels of
/// the gripper.
fn grasped(world: &World) -> Option<String> {
    let g = world.grid;
    let v = world.ee_voxel();
    let mut best: Option<(i64, String)> = None;
    for (e, vox) in world.entities() {
        for &i in vox {
            let u = g.voxel(i);
            let d = (0..3)
                .map(|a| (u[a] as i64 - v[a] as i64).abs())
                .max()
                .unwrap_or(i64::MAX);
            if d <= 2 && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((d, e.name.clone()));
            }
        }
    }
    best.map(|(_, n)| n)
}

/// Plans every step in order, updating the world between them (open loop).
pub fn plan_steps(
    world: &mut World,
    specs: &[StepSpec],
    planner: PlannerKind,
    keep_maps: KeepMaps,
    timing: &mut Timing,
    backend: &dyn Backend,
) -> Result<Vec<StepResult>, PlanError> {
    resolve(plan_steps_async(
        world,
        specs,
        planner,
        keep_maps,
        timing,
        &Immediate(backend),
    ))
}

/// [`plan_steps`] on a backend whose results may arrive later.
pub async fn plan_steps_async<B: AsyncBackend + ?Sized>(
    world: &mut World,
    specs: &[StepSpec],
    planner: PlannerKind,
    keep_maps: KeepMaps,
    timing: &mut Timing,
    backend: &B,
) -> Result<Vec<StepResult>, PlanError> {
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let p = plan_step_async(world, spec, i, planner, keep_maps, backend).await?;
        timing.programs += p.timing.programs;
        timing.cost += p.timing.cost;
        timing.plan += p.timing.plan;
        timing.paused += p.timing.paused;
        apply_step(world, &p, None);
        out.push(p.result);
    }
    Ok(out)
}

/// What closed-loop execution did in one step.
#[derive(Clone, Debug)]
pub struct ExecutedStep {
    /// The sub-step.
    pub instruction: String,
    /// Positions the end effector actually passed through.
    pub executed: Vec<[f64; 3]>,
    /// How many times the step was (re)planned.
    pub plans: usize,
    /// Whether it ended within 2 voxels of its target.
    pub reached: bool,
}

/// Closed-loop execution: each step is planned, `replan_every` waypoints are executed, then
/// `disturb(step, tick, world)` may move things, the programs are re-evaluated on the moved
/// world and the step replanned from where the gripper is, until the movable is within 2
/// voxels of a target or `max_plans` plans were made.
pub fn execute(
    world: &mut World,
    specs: &[StepSpec],
    planner: PlannerKind,
    replan_every: usize,
    max_plans: usize,
    disturb: &mut dyn FnMut(usize, usize, &mut World),
) -> Result<Vec<ExecutedStep>, PlanError> {
    let k = replan_every.max(1);
    let mut out = Vec::new();
    let mut tick = 0;
    for (i, spec) in specs.iter().enumerate() {
        let mut ex = ExecutedStep {
            instruction: spec.instruction.clone(),
            executed: vec![world.ee.position],
            plans: 0,
            reached: false,
        };
        while ex.plans < max_plans {
            let p = plan_step(world, spec, i, planner, KeepMaps::None)?;
            ex.plans += 1;
            if p.start_distance <= plan::REACH_TOLERANCE || p.result.waypoints.len() <= 1 {
                ex.reached = p.start_distance <= plan::REACH_TOLERANCE;
                apply_step(world, &p, Some(0));
                break;
            }
            let n = p.result.waypoints.len();
            let upto = k.min(n - 1);
            for w in &p.result.waypoints[1..=upto] {
                ex.executed.push(w.position);
            }
            apply_step(world, &p, Some(upto));
            tick += 1;
            disturb(i, tick, world);
            world.refresh();
        }
        out.push(ex);
    }
    Ok(out)
}

/// The voxel of an entity's centre now (for tests and the executor).
pub fn entity_voxel(world: &World, name: &str) -> Option<Voxel> {
    world
        .entity_index(name)
        .and_then(|i| world.entity(i))
        .map(|(e, _)| world.grid.world_to_voxel(e.centroid_world()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use valuescape_core::Grid;
    use valuescape_core::scene::presets;

    use super::*;

    /// A NaN a later box painted over is gone, as it is from a dense map; one left is an
    /// error.
    #[test]
    fn a_nan_painted_over_is_no_error() {
        let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
        let world = World::new(scene, Grid::cubic(16).unwrap_or_else(|e| panic!("{e}")));
        let head = "import numpy as np\nm = get_empty_avoidance_map()\n";
        for read in ["", "_ = m.sum()\n"] {
            let over = format!("{head}{read}m[1, 2, 3] = np.nan\nm[1, 2, 3] = 0\nret_val = m\n");
            let m = run_program(&world, MapKind::Avoidance, &over, 0)
                .unwrap_or_else(|e| panic!("{read:?}: {e}"));
            assert_eq!(matches!(m, ProgramMap::Painted(_)), read.is_empty());
            let kept = format!("{head}{read}m[1, 2, 3] = np.nan\nret_val = m\n");
            let e = run_program(&world, MapKind::Avoidance, &kept, 0)
                .err()
                .unwrap_or_else(|| panic!("{read:?}: a NaN left in the map"));
            assert!(e.message.contains("NaN"), "{e}");
        }
    }

    /// The rotation map reaches the planner as one quaternion per voxel, in the grid's
    /// order, whether its memory is taken over or copied.
    #[test]
    fn the_rotation_map_keeps_each_voxels_quaternion() {
        let scene = presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset"));
        let world = World::new(scene, Grid::cubic(16).unwrap_or_else(|e| panic!("{e}")));
        let mut programs = BTreeMap::new();
        programs.insert(
            MapKind::Rotation,
            "rotation_map = get_empty_rotation_map()\nrotation_map[1, 2, 3] = [0.5, 0.5, 0.5, 0.5]\n\
             rotation_map[15, 0, 7] = [0, 0, 1, 0]\nret_val = rotation_map\n"
                .to_string(),
        );
        let maps = run_programs(&world, &programs, 0).unwrap_or_else(|e| panic!("{e}"));
        let g = world.grid;
        let q = world.ee.quat.map(|x| x as f32);
        assert!(
            maps.rotation.painted().is_some(),
            "a program that only paints gives a painting"
        );
        for dense in [false, true] {
            let rotation = if dense {
                Map::Dense(g, maps.rotation.values().into_owned())
            } else {
                maps.rotation.clone()
            };
            assert_eq!(rotation.values().len(), g.len());
            assert_eq!(rotation.at([1, 2, 3]), [0.5; 4]);
            assert_eq!(rotation.at([15, 0, 7]), [0.0, 0.0, 1.0, 0.0]);
            assert_eq!(rotation.at([1, 2, 4]), q);
            assert_eq!(rotation.at([0, 0, 0]), q);
        }
    }
}
