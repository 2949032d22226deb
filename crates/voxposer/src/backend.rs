//! Where the numerics run. The pipeline composes the cost map and searches for a path
//! through a [`Backend`]; [`CpuBackend`] is the reference in `valuescape-core`. A GPU backend
//! (`valuescape-gpu`'s) implements the same trait, so this crate stays free of any GPU
//! dependency and the results have one shape whichever backend ran.
//!
//! In the browser a GPU's results arrive later (WebGPU maps buffers asynchronously and the
//! page must not block), so the pipeline itself is written against [`AsyncBackend`]; the
//! synchronous API runs it over [`Immediate`], whose futures are ready at once.

use valuescape_core::cost::{self, CostInput, CostMaps};
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
