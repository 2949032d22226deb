//! The GPU backend: `valuescape-gpu`'s pipelines on a device of their own.

use valuescape_core::cost::{CostInput, CostMaps};
use valuescape_core::plan::mppi::MppiConfig;
use valuescape_core::plan::{PathPlan, Problem};
use valuescape_gpu::{
    CostPipelines, GpuContext, MppiPipelines, ValuePipelines, movable_cleared_collision,
};
use valuescape_voxposer::backend::cpu_plan;
use valuescape_voxposer::{Backend, PlannerKind};

/// Cost composition, the value planner (cost-to-go sweeps, path descended on the host) and
/// MPPI on the GPU; the greedy planner, sequential by nature, stays on the CPU.
pub struct GpuBackend {
    ctx: GpuContext,
    cost: CostPipelines,
    value: ValuePipelines,
    mppi: MppiPipelines,
}

impl GpuBackend {
    /// Finds an adapter and builds the pipelines; a clear error when there is none.
    pub fn new() -> Result<Self, String> {
        let ctx = GpuContext::headless().map_err(|e| e.to_string())?;
        let cost = CostPipelines::new(&ctx.device);
        let value = ValuePipelines::new(&ctx.device);
        let mppi = MppiPipelines::new(&ctx.device);
        Ok(Self {
            ctx,
            cost,
            value,
            mppi,
        })
    }

    /// The adapter, in words.
    pub fn describe(&self) -> String {
        self.ctx.describe()
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn compose(&self, input: &CostInput<'_>) -> Result<CostMaps, String> {
        let grid = input.affordance.grid;
        let collision = movable_cleared_collision(&grid, input.collision, input.movable);
        let (d, q) = (&self.ctx.device, &self.ctx.queue);
        let maps = self
            .cost
            .compose_cost(
                d,
                q,
                &grid,
                &input.affordance.data,
                &input.avoidance.data,
                &collision,
            )
            .map_err(|e| e.to_string())?;
        maps.read_back(d, q).map_err(|e| e.to_string())
    }

    fn plan(&self, problem: &Problem<'_>, planner: PlannerKind) -> Result<PathPlan, String> {
        let (d, q) = (&self.ctx.device, &self.ctx.queue);
        match planner {
            PlannerKind::Value => self.value.plan(d, q, problem).map_err(|e| e.to_string()),
            PlannerKind::Mppi => self
                .mppi
                .plan(d, q, problem, &MppiConfig::default())
                .map_err(|e| e.to_string()),
            PlannerKind::Greedy => Ok(cpu_plan(problem, planner)),
        }
    }
}
