//! Where the numerics run. The pipeline composes the cost map and searches for a path
//! through a [`Backend`]; [`CpuBackend`] is the reference in `valuescape-core`. A GPU backend
//! (`valuescape-gpu`'s) implements the same trait, so this crate stays free of any GPU
//! dependency and the results have one shape whichever backend ran.
//!
//! In the browser a GPU's results arrive later (WebGPU maps buffers asynchronously and the
//! page must not block), so the pipeline itself is written against [`AsyncBackend`]; the
//! synchronous API runs it over [`Immediate`], whose futures are ready at once.

use valuescape_core::cost::{self, CostInput, CostMaps};
use valuescape_core::grid::Voxel;
use valuescape_core::plan::{self, PathPlan, Problem};

use crate::api::PlannerKind;

/// Composes cost maps and plans paths.
pub trait Backend {
    /// `cpu`, `gpu`, ...
    fn name(&self) -> &'static str;
    /// VoxPoser's cost map (see [`valuescape_core::cost::compose`]).
    fn compose(&self, input: &CostInput<'_>) -> Result<CostMaps, String>;
    /// A path for a planning problem with the chosen planner.
    fn plan(&self, problem: &Problem<'_>, planner: PlannerKind) -> Result<PathPlan, String>;
    /// [`Backend::plan`] for a problem made from the maps the last [`Backend::compose`]
    /// returned, its blocked mask by [`CostMaps::blocked`] (what the pipeline does): a
    /// backend that kept those maps where it composed them may plan on them there instead of
    /// taking the problem's copies. The default is [`Backend::plan`].
    fn plan_composed(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> Result<PathPlan, String> {
        self.plan(problem, planner)
    }
    /// Composes the cost map and keeps it where it was composed, for
    /// [`Backend::plan_resident`], without bringing it to the host: `Ok(Some(maps))`, naming
    /// the maps kept, when it did; `Ok(None)` where the backend does not keep maps (the
    /// default; the pipeline then composes with [`Backend::compose`]). Fails as
    /// [`Backend::compose`] does.
    fn compose_resident(&self, input: &CostInput<'_>) -> Result<Option<Resident>, String> {
        let _ = input;
        Ok(None)
    }
    /// The value planner's path from `start` on the maps `maps` names, which
    /// [`Backend::compose_resident`] kept, measured there ([`ResidentPlan`]). The plan takes
    /// them. Another compose or plan on the backend in between drops them, and this fails
    /// ([`NOTHING_RESIDENT`], or [`REPLACED_RESIDENT`] where another compose's maps are kept
    /// now: those are left for their own plan), never planning on maps other than `maps`.
    fn plan_resident(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> Result<ResidentPlan, String> {
        let _ = (maps, start, planar);
        Err(NOTHING_RESIDENT.into())
    }
}

/// Names the maps one [`Backend::compose_resident`] kept on a backend, for the
/// [`Backend::plan_resident`] on them (a count of the backend's compositions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resident(pub u64);

/// What [`Backend::plan_resident`] says when no maps were kept.
pub const NOTHING_RESIDENT: &str = "no cost map was kept on this backend to plan on";

/// What [`Backend::plan_resident`] says when the maps it names are gone and another
/// composition came after them (steps interleaved on one backend, or a second plan on them).
pub const REPLACED_RESIDENT: &str = "the cost map kept for this plan is gone: a later composition on the same backend replaced it, or a plan already took it";

/// A value plan on maps a backend kept where it composed them, with what the pipeline
/// reports of those maps: what a step needs when it does not keep its maps, so that they
/// never come to the host.
#[derive(Clone, Debug)]
pub struct ResidentPlan {
    /// The plan.
    pub path: PathPlan,
    /// [`measured_path_cost`] of the plan on the maps.
    pub path_cost: f64,
    /// The start's distance (voxels) to the nearest target: `CostMaps::target_distance`
    /// there.
    pub start_distance: f32,
    /// The composed cost map's least and greatest value (equal where the map is constant),
    /// for a renderer that draws the map where it stayed ([`crate::StepMaps::cost_range`]).
    pub cost_range: (f32, f32),
}

/// The cost a step reports for its path on composed maps: [`plan::path_measure`] of the
/// search path, continued to the nearest target voxel where it stopped short of one (the
/// greedy planner, or a target out of reach).
pub fn measured_path_cost(maps: &CostMaps, problem: &Problem<'_>, path: &PathPlan) -> f64 {
    let g = &problem.grid;
    let mut measured = path.search_path.clone();
    if let Some(&last) = measured.last()
        && !maps.target[g.index(last)]
        && let Some(t) = plan::nearest_target(g, &maps.target, last.map(|x| x as f64))
    {
        measured.push(t);
    }
    plan::path_measure(problem, &measured)
}

/// A [`Backend`] whose results may arrive later: what the pipeline's async functions
/// ([`crate::pipeline::plan_step_async`], [`crate::api::plan_with_async`]) run on.
pub trait AsyncBackend {
    /// `cpu`, `gpu`, ...
    fn name(&self) -> &'static str;
    /// VoxPoser's cost map (see [`valuescape_core::cost::compose`]).
    fn compose(&self, input: &CostInput<'_>) -> impl Future<Output = Result<CostMaps, String>>;
    /// A path for a planning problem with the chosen planner.
    fn plan(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> impl Future<Output = Result<PathPlan, String>>;
    /// [`AsyncBackend::plan`] for a problem made from the maps the last
    /// [`AsyncBackend::compose`] returned (see [`Backend::plan_composed`]).
    fn plan_composed(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> impl Future<Output = Result<PathPlan, String>> {
        self.plan(problem, planner)
    }
    /// See [`Backend::compose_resident`].
    fn compose_resident(
        &self,
        input: &CostInput<'_>,
    ) -> impl Future<Output = Result<Option<Resident>, String>> {
        let _ = input;
        std::future::ready(Ok(None))
    }
    /// See [`Backend::plan_resident`].
    fn plan_resident(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> impl Future<Output = Result<ResidentPlan, String>> {
        let _ = (maps, start, planar);
        std::future::ready(Err(NOTHING_RESIDENT.to_string()))
    }
    /// Awaited between stages (before each step's programs, its cost map and its search): a
    /// backend that computes on the page's own thread can give the browser its event loop
    /// here, so frames are drawn and input handled while a plan runs. The time spent here
    /// counts in no stage and not in the total. The default returns at once.
    fn pause(&self) -> impl Future<Output = ()> {
        std::future::ready(())
    }
}

/// A synchronous [`Backend`] as an [`AsyncBackend`]: it computes when called and its futures
/// are ready at once.
#[derive(Clone, Copy)]
pub struct Immediate<'a>(pub &'a dyn Backend);

impl AsyncBackend for Immediate<'_> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn compose(&self, input: &CostInput<'_>) -> impl Future<Output = Result<CostMaps, String>> {
        std::future::ready(self.0.compose(input))
    }

    fn plan(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> impl Future<Output = Result<PathPlan, String>> {
        std::future::ready(self.0.plan(problem, planner))
    }

    fn plan_composed(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> impl Future<Output = Result<PathPlan, String>> {
        std::future::ready(self.0.plan_composed(problem, planner))
    }

    fn compose_resident(
        &self,
        input: &CostInput<'_>,
    ) -> impl Future<Output = Result<Option<Resident>, String>> {
        std::future::ready(self.0.compose_resident(input))
    }

    fn plan_resident(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> impl Future<Output = Result<ResidentPlan, String>> {
        std::future::ready(self.0.plan_resident(maps, start, planar))
    }
}

/// The CPU reference: `valuescape-core`'s functions.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBackend;

/// Plans on the CPU with any planner (shared by every backend for the planners it does not
/// accelerate).
pub fn cpu_plan(problem: &Problem<'_>, planner: PlannerKind) -> PathPlan {
    match planner {
        PlannerKind::Value => plan::value::plan(problem),
        PlannerKind::Greedy => plan::greedy::plan(problem),
        PlannerKind::Mppi => plan::mppi::plan(problem, &plan::mppi::MppiConfig::default()),
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn compose(&self, input: &CostInput<'_>) -> Result<CostMaps, String> {
        cost::compose(input).map_err(|e| e.to_string())
    }

    fn plan(&self, problem: &Problem<'_>, planner: PlannerKind) -> Result<PathPlan, String> {
        Ok(cpu_plan(problem, planner))
    }
}
