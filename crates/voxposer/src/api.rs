//! The facade: request in, plan out. Shared by the CLI, the viewer and the wasm entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use valuescape_core::paint::Map;
use valuescape_core::scene::Scene;
use valuescape_core::{Field, Grid};

/// The five VoxPoser value maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapKind {
    /// 1 = target.
    Affordance,
    /// 1 = avoid.
    Avoidance,
    /// End-effector orientation (quaternion wxyz).
    Rotation,
    /// Speed multiplier.
    Velocity,
    /// 1 = open, 0 = closed.
    Gripper,
}

impl MapKind {
    /// All five, in display order.
    pub const ALL: [MapKind; 5] = [
        MapKind::Affordance,
        MapKind::Avoidance,
        MapKind::Rotation,
        MapKind::Velocity,
        MapKind::Gripper,
    ];

    /// Lower-case name, as in JSON and file names.
    pub fn name(self) -> &'static str {
        match self {
            MapKind::Affordance => "affordance",
            MapKind::Avoidance => "avoidance",
            MapKind::Rotation => "rotation",
            MapKind::Velocity => "velocity",
            MapKind::Gripper => "gripper",
        }
    }

    /// Parses a lower-case name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Which planner turns the cost map into a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlannerKind {
    /// Cost-to-go over the voxel graph, followed downhill (the default).
    #[default]
    Value,
    /// The original's greedy descent.
    Greedy,
    /// Sampling-based trajectory optimisation (MPPI) over smooth trajectories.
    Mppi,
}

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// The scene (objects and end effector).
    pub scene: Scene,
    /// Plain-English instruction; empty means the scene's first instruction.
    pub instruction: String,
    /// Planner choice.
    pub planner: PlannerKind,
    /// Voxels per axis (16..=256).
    pub grid_size: usize,
    /// Program texts that replace compiled ones: (step index, map kind, program text).
    pub overrides: Vec<(usize, MapKind, String)>,
    /// Which maps of every step the result keeps (the viewer wants them; the CLI's `--npy`
    /// too).
    pub keep_maps: KeepMaps,
}

/// Which maps a plan's steps keep in the result ([`StepResult::maps`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeepMaps {
    /// None: with the value planner a GPU backend leaves the composed maps on the device
    /// (only the path and its voxels' samples come back; the other planners need the maps
    /// on the host).
    #[default]
    None,
    /// The five maps the programs made (on the host in any case); the composed obstacle
    /// and cost maps only where they came to the host anyway (the CPU, or a planner that
    /// needs them there): a GPU value plan leaves them on the device, where a renderer on
    /// the same device draws them (the viewer's drag previews).
    Programs,
    /// All seven.
    All,
}

/// One end-effector waypoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    /// Voxel `[i, j, k]`.
    pub voxel: [usize; 3],
    /// World position, metres.
    pub position: [f64; 3],
    /// Orientation, quaternion `[w, x, y, z]`.
    pub quat: [f64; 4],
    /// Gripper command, 1 open, 0 closed.
    pub gripper: f64,
    /// Speed multiplier read from the velocity map.
    pub velocity: f64,
    /// Arrival time, seconds from the start of the step (velocity applied).
    pub time_s: f64,
}

/// The dense maps of one step.
#[derive(Clone, Debug)]
pub struct StepMaps {
    /// Affordance map.
    pub affordance: Map<f32>,
    /// Avoidance map (the program's).
    pub avoidance: Map<f32>,
    /// Velocity map.
    pub velocity: Map<f32>,
    /// Gripper map.
    pub gripper: Map<f32>,
    /// Rotation map, one quaternion `[w, x, y, z]` per voxel.
    pub rotation: Map<[f32; 4]>,
    /// Avoidance plus scene collision after the clearings (the Gaussian's input); `None`
    /// where it stayed on the device ([`KeepMaps::Programs`]).
    pub obstacle: Option<Field>,
    /// The composed cost map; `None` where it stayed on the device ([`KeepMaps::Programs`]).
    pub cost: Option<Field>,
    /// Where `cost` stayed on the device: the map's least and greatest value there (equal
    /// where it is constant), as the backend reported them; `None` where `cost` is here.
    pub cost_range: Option<(f32, f32)>,
}

/// One planned sub-step.
#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    /// The sub-step's instruction.
    pub instruction: String,
    /// The entity that moves (`gripper` or an object part).
    pub movable: String,
    /// Program text per map kind: exactly what ran.
    pub programs: BTreeMap<MapKind, String>,
    /// Waypoints, start to end.
    pub waypoints: Vec<Waypoint>,
    /// Whether the last waypoint is within 2 voxels of a target voxel.
    pub target_reached: bool,
    /// The path's accumulated cost as the value planner measures it (unit steps, each
    /// length x (step cost + mean cost), ending in a target voxel; `null` if it crosses a
    /// blocked voxel). Equal-cost paths are equally good: two backends may return different
    /// optimal paths of the same cost.
    #[serde(default)]
    pub path_cost: Option<f64>,
    /// What the user should know about this step: a program that indexed outside the grid
    /// (its map is drawn at the workspace's edge instead). Absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// MPPI only: the rollouts it scored for this step (rounds x iterations x rollouts per
    /// iteration), the work behind `timing_ms.plan` (the browser's bench page divides the
    /// two). Absent for the other planners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollouts: Option<u64>,
    /// Dense maps, when asked for.
    #[serde(skip)]
    pub maps: Option<StepMaps>,
}

/// Milliseconds per stage, summed over steps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timing {
    /// Instruction to programs.
    pub compile: f64,
    /// Running the map programs.
    pub programs: f64,
    /// Scene collision, clearings, EDT, Gaussian, normalisation. Where a GPU value plan
    /// leaves its maps on the device ([`KeepMaps`] other than `All`), only submitting them:
    /// the device's work ends inside `plan`, which nothing waits for before.
    pub cost: f64,
    /// Path search and trajectory.
    pub plan: f64,
    /// Everything, less the time the pipeline gave back to the page's event loop
    /// ([`crate::backend::AsyncBackend::pause`]).
    pub total: f64,
    /// Given back to the page's event loop between stages (not part of the plan's output).
    #[serde(skip)]
    pub paused: f64,
}

/// A plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanResult {
    /// The instruction that was planned.
    pub instruction: String,
    /// The planner used.
    pub planner: PlannerKind,
    /// The grid.
    pub grid: Grid,
    /// Sub-steps in order.
    pub steps: Vec<StepResult>,
    /// Stage timings.
    pub timing_ms: Timing,
}

/// Why a plan failed: what, and where.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanError {
    /// `instruction`, `program`, `scene`, `plan` or `request`.
    pub stage: String,
    /// Sub-step index, where the error belongs to one.
    pub step: Option<usize>,
    /// Map kind, for program errors.
    pub map: Option<MapKind>,
    /// 1-based line and column in the program or instruction, where known.
    pub line: Option<u32>,
    /// 1-based column.
    pub col: Option<u32>,
    /// Byte range in the program or instruction text, where known.
    pub span: Option<(usize, usize)>,
    /// Human-readable message.
    pub message: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.stage)?;
        if let Some(s) = self.step {
            write!(f, " (step {s}")?;
            if let Some(m) = self.map {
                write!(f, ", {} program", m.name())?;
            }
            write!(f, ")")?;
        }
        if let (Some(l), Some(c)) = (self.line, self.col) {
            write!(f, " line {l}, column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PlanError {}

/// Compiles, evaluates, composes and plans.
pub fn plan(req: &PlanRequest) -> Result<PlanResult, PlanError> {
    plan_with(
        req,
        &crate::compiler::RuleCompiler,
        &crate::backend::CpuBackend,
    )
}

/// [`plan`] with another program source (e.g. a language model) and another backend
/// (e.g. the GPU's).
pub fn plan_with(
    req: &PlanRequest,
    source: &dyn crate::compiler::ProgramSource,
    backend: &dyn crate::backend::Backend,
) -> Result<PlanResult, PlanError> {
    crate::pipeline::resolve(plan_with_async(
        req,
        source,
        &crate::backend::Immediate(backend),
    ))
}

/// [`plan_with`] on a backend whose results may arrive later (WebGPU in the browser, where
/// the page must not block): the same pipeline, awaiting the backend at each step.
pub async fn plan_with_async<S, B>(
    req: &PlanRequest,
    source: &S,
    backend: &B,
) -> Result<PlanResult, PlanError>
where
    S: crate::compiler::ProgramSource + ?Sized,
    B: crate::backend::AsyncBackend + ?Sized,
{
    let started = web_time::Instant::now();
    let request_err = |message: String| PlanError {
        stage: "request".into(),
        step: None,
        map: None,
        line: None,
        col: None,
        span: None,
        message,
    };
    req.scene.validate().map_err(|e| PlanError {
        stage: "scene".into(),
        ..request_err(e.to_string())
    })?;
    let grid = req
        .scene
        .workspace
        .grid([req.grid_size; 3])
        .map_err(|e| request_err(e.to_string()))?;
    let instruction = if req.instruction.trim().is_empty() {
        req.scene.instructions.first().cloned().unwrap_or_default()
    } else {
        req.instruction.clone()
    };
    let mut world = crate::world::World::new(req.scene.clone(), grid);
    let t = web_time::Instant::now();
    let mut specs = source
        .compile(&instruction, &world)
        .map_err(|e| PlanError {
            stage: "instruction".into(),
            span: e.span,
            col: e
                .span
                .map(|(s, _)| instruction[..s.min(instruction.len())].chars().count() as u32 + 1),
            line: e.span.map(|_| 1),
            ..request_err(e.message)
        })?;
    let mut timing = Timing {
        compile: t.elapsed().as_secs_f64() * 1000.0,
        ..Timing::default()
    };
    for (step, kind, text) in &req.overrides {
        match specs.get_mut(*step) {
            Some(s) => {
                s.programs.insert(*kind, text.clone());
            }
            None => {
                return Err(request_err(format!(
                    "an edited {} program is for step {step}, but the plan has {} steps",
                    kind.name(),
                    specs.len()
                )));
            }
        }
    }
    let steps = crate::pipeline::plan_steps_async(
        &mut world,
        &specs,
        req.planner,
        req.keep_maps,
        &mut timing,
        backend,
    )
    .await?;
    timing.total = started.elapsed().as_secs_f64() * 1000.0 - timing.paused;
    Ok(PlanResult {
        instruction,
        planner: req.planner,
        grid,
        steps,
        timing_ms: timing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{AsyncBackend, Backend, CpuBackend};
    use std::cell::Cell;
    use valuescape_core::cost::{CostInput, CostMaps};
    use valuescape_core::plan::{PathPlan, Problem};

    /// The CPU, pausing `sleep_ms` (a busy page's frame) at every pause point.
    struct Pausing {
        sleep_ms: u64,
        pauses: Cell<usize>,
    }

    impl AsyncBackend for Pausing {
        fn name(&self) -> &'static str {
            "cpu"
        }
        fn compose(&self, input: &CostInput<'_>) -> impl Future<Output = Result<CostMaps, String>> {
            std::future::ready(CpuBackend.compose(input))
        }
        fn plan(
            &self,
            problem: &Problem<'_>,
            planner: PlannerKind,
        ) -> impl Future<Output = Result<PathPlan, String>> {
            std::future::ready(CpuBackend.plan(problem, planner))
        }
        fn pause(&self) -> impl Future<Output = ()> {
            self.pauses.set(self.pauses.get() + 1);
            std::thread::sleep(std::time::Duration::from_millis(self.sleep_ms));
            std::future::ready(())
        }
    }

    #[test]
    fn pauses_come_between_stages_and_are_not_timed() {
        let scene = valuescape_core::scene::presets::all()
            .into_iter()
            .next()
            .expect("a preset");
        let req = PlanRequest {
            scene,
            instruction: String::new(),
            planner: PlannerKind::Value,
            grid_size: 32,
            overrides: Vec::new(),
            keep_maps: KeepMaps::None,
        };
        let quiet = plan(&req).expect("plans");
        let b = Pausing {
            sleep_ms: 40,
            pauses: Cell::new(0),
        };
        let paused = crate::pipeline::resolve(plan_with_async(&req, &crate::RuleCompiler, &b))
            .expect("plans with pauses");
        let steps = quiet.steps.len();
        // Before each step's programs, its cost map and its search.
        assert_eq!(b.pauses.get(), 3 * steps);
        for (a, q) in paused.steps.iter().zip(&quiet.steps) {
            assert_eq!(a.waypoints, q.waypoints);
        }
        let t = &paused.timing_ms;
        assert!(t.paused >= (40 * 3 * steps) as f64, "{t:?}");
        // A 32^3 plan takes milliseconds: the pauses' 40 ms each are not in the total.
        assert!(t.total < 0.5 * t.paused, "{t:?}");
        assert!(
            t.total >= t.compile + t.programs + t.cost + t.plan - 1e-9,
            "{t:?}"
        );
        let json = serde_json::to_value(t).expect("serialises");
        assert!(json.get("paused").is_none(), "{json}");
    }
}
