//! [`GpuBackend`]: the pipelines behind `valuescape-voxposer`'s backend traits, on any wgpu
//! device — one of its own (the CLI, tests) or the renderer's (the viewer hands it Bevy's).

use valuescape_core::cost::{self, CostInput, CostMaps, Movable};
use valuescape_core::grid::{Grid, Voxel};
use valuescape_core::paint::{Map, Painted};
use valuescape_core::plan::mppi::{self, MppiConfig};
use valuescape_core::plan::{
    PathPlan, Problem, REACH_TOLERANCE, path_measure, path_measure_with, value,
};
use valuescape_voxposer::backend::{
    NOTHING_RESIDENT, REPLACED_RESIDENT, cpu_plan, measured_path_cost,
};
use valuescape_voxposer::{AsyncBackend, PlannerKind, Resident, ResidentPlan};

use crate::value::SampledPath;
use crate::{
    CostPipelines, GpuCostMaps, GpuError, GpuProblem, MppiPipelines, ValuePipelines,
    movable_cleared_collision,
};

/// Workgroup memory the tiled kernels use: WebGPU's default limit (the Gaussian's line tile
/// takes 15,360 bytes, the value iteration's block with its halo, round marks and side
/// marks 9,428).
const WORKGROUP_STORAGE_NEEDED: u32 = 16_384;

/// Cost composition, the value planner (cost-to-go by block passes, the path descended on
/// the GPU) and MPPI on the GPU; the greedy planner, sequential by nature, stays on the CPU.
///
/// With [`GpuBackend::keep_composed`] on, every cost map it composes stays resident on the
/// device and is kept, in order, until [`GpuBackend::take_composed`]: a renderer on the same
/// device draws it from there, with no round trip through the CPU.
#[derive(Debug)]
pub struct GpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    cost: CostPipelines,
    value: ValuePipelines,
    mppi: MppiPipelines,
    composed: std::sync::Mutex<Vec<ComposedMap>>,
    keep: std::sync::atomic::AtomicBool,
    /// The maps of the last compose (see [`Last`]); the plan takes them, and other plans
    /// and the next compose recycle them.
    last: std::sync::Mutex<Option<Last>>,
    /// Compositions so far: the last one's number names its maps ([`Last::generation`]).
    composes: std::sync::atomic::AtomicU64,
}

/// The maps of the last compose, for the plan that follows it.
#[derive(Debug)]
struct Last {
    maps: GpuCostMaps,
    /// A fingerprint of the host copy the compose returned, for `plan_composed`; `None`
    /// (no host copy) after `compose_resident`, for `plan_resident`.
    print: Option<Vec<u32>>,
    /// Whether the cost map was kept for a renderer ([`GpuBackend::keep_composed`]): it is
    /// then not recycled.
    cost_kept: bool,
    /// The composition's number (from 1), which [`Resident`] carries.
    generation: u64,
}

/// A cost map composed on the device: the grid and its buffer (`f32` per voxel, C order,
/// `STORAGE` usage), as [`GpuBackend::take_composed`] hands it out.
#[derive(Debug, Clone)]
pub struct ComposedMap {
    /// The grid.
    pub grid: Grid,
    /// The cost map.
    pub cost: wgpu::Buffer,
}

impl GpuBackend {
    /// The most storage buffers one kernel binds (`value.wgsl`'s `relax_listed`: the cost,
    /// flags, values, counters, block marks, cost bound and run list). `tests/shaders.rs`
    /// counts every kernel's with naga and holds this to their greatest.
    pub const STORAGE_BUFFERS_NEEDED: u32 = 7;

    /// Why `device` cannot run the kernels (a WebGL2 device has no compute shaders or
    /// storage buffers), or `Ok`.
    pub fn check(device: &wgpu::Device) -> Result<(), String> {
        Self::check_limits(&device.limits())
    }

    /// [`GpuBackend::check`] on a device's limits.
    pub fn check_limits(l: &wgpu::Limits) -> Result<(), String> {
        if l.max_compute_workgroup_size_x < 256 || l.max_compute_invocations_per_workgroup < 256 {
            return Err(format!(
                "the device runs at most {} compute invocations per workgroup; the kernels need 256",
                l.max_compute_invocations_per_workgroup
            ));
        }
        if l.max_compute_workgroup_storage_size < WORKGROUP_STORAGE_NEEDED {
            return Err(format!(
                "the device gives a workgroup {} bytes of shared memory; the kernels need {WORKGROUP_STORAGE_NEEDED}",
                l.max_compute_workgroup_storage_size
            ));
        }
        if l.max_storage_buffers_per_shader_stage < Self::STORAGE_BUFFERS_NEEDED {
            return Err(format!(
                "the device binds {} storage buffers per shader stage; the kernels need {}",
                l.max_storage_buffers_per_shader_stage,
                Self::STORAGE_BUFFERS_NEEDED
            ));
        }
        Ok(())
    }

    /// Compiles the pipelines on `device` (clones of the handles are kept; wgpu's are
    /// reference-counted). Fails, without touching the device, where [`GpuBackend::check`]
    /// does.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Result<Self, String> {
        Self::check(device)?;
        Ok(Self {
            cost: CostPipelines::new(device),
            value: ValuePipelines::new(device),
            mppi: MppiPipelines::new(device),
            device: device.clone(),
            queue: queue.clone(),
            composed: std::sync::Mutex::new(Vec::new()),
            keep: std::sync::atomic::AtomicBool::new(false),
            last: std::sync::Mutex::new(None),
            composes: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The last compose's maps (see the field).
    fn last_maps(&self) -> std::sync::MutexGuard<'_, Option<Last>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last compose's maps where `fits` them; maps that do not fit are recycled.
    fn take_last(&self, fits: impl FnOnce(&Last) -> bool) -> Option<Last> {
        let last = self.last_maps().take()?;
        if fits(&last) {
            Some(last)
        } else {
            self.recycle_maps(last);
            None
        }
    }

    /// Gives the last compose's maps, if still held, back to the pipelines' pool.
    fn drop_last(&self) {
        self.take_last(|_| false);
    }

    /// Gives a compose's maps back to the pool (all but a cost map kept for a renderer):
    /// no handle to them is used after this.
    fn recycle_maps(&self, last: Last) {
        self.cost.recycle(last.maps, !last.cost_kept);
    }

    /// Makes compositions and plans allocate their buffers afresh, as before buffers were
    /// recycled (`off`), or recycle them again: for the benchmark's comparison.
    #[doc(hidden)]
    pub fn set_recycling_off(&self, off: bool) {
        self.drop_last();
        self.cost.set_recycling_off(off);
        self.value.set_recycling_off(off);
    }

    /// Frees what it keeps between steps for the next (the last compose's maps where no plan
    /// took them; the buffers kept for reuse on the device: about ten grid-sized buffers,
    /// 38.4 MiB at 100³ as gpu_bench measured it, so some 640 MiB at 256³; and this thread's
    /// staging buffers for this device's read-backs, up to 256 MiB); a cost map kept for a
    /// renderer stays. Returns the bytes of the buffers kept for reuse that were freed. The
    /// next step makes its buffers afresh. For a caller going idle (the viewer after a plan
    /// that is not a drag preview).
    pub fn release_buffers(&self) -> u64 {
        self.drop_last();
        self.cost.release_buffers()
            + self.value.release_buffers()
            + crate::util::clear_staging(&self.device)
    }

    /// The bytes of the buffers kept for reuse by the next step: on the device, and this
    /// thread's staging buffers for its read-backs.
    pub fn kept_bytes(&self) -> u64 {
        self.cost.kept_bytes() + self.value.kept_bytes() + crate::util::staging_bytes(&self.device)
    }

    /// At most `passes` value-iteration passes per submission (see
    /// [`ValuePipelines::limit_batch`]): for a renderer sharing the device.
    pub fn with_pass_batch(mut self, passes: usize) -> Self {
        self.value.limit_batch(passes);
        self
    }

    /// Lets the GPU descend paths of at most `voxels` voxels (see
    /// [`ValuePipelines::limit_gpu_path`]): for tests of the host's fallback.
    #[doc(hidden)]
    pub fn limit_gpu_path(mut self, voxels: usize) -> Self {
        self.value.limit_gpu_path(voxels);
        self
    }

    /// Keep the cost maps composed from now on (for [`GpuBackend::take_composed`]); off by
    /// default, so that a caller that never takes them does not accumulate them. (Apart
    /// from this, the last compose's maps stay on the device for `plan_composed` until it
    /// or `plan` runs, or the next compose: one set at most.)
    pub fn keep_composed(&self, on: bool) {
        self.keep.store(on, std::sync::atomic::Ordering::Relaxed);
        if !on {
            self.take_composed();
        }
    }

    /// Reads a kept cost map back (for checks: the renderer draws it where it is).
    pub async fn read_map(&self, map: &ComposedMap) -> Result<Vec<f32>, String> {
        crate::util::read(&self.device, &self.queue, &map.cost, map.grid.len())
            .await
            .map_err(|e| e.to_string())
    }

    /// The cost maps composed since the last call, oldest first (one per planned step when
    /// a plan ran through this backend), and forgets them.
    pub fn take_composed(&self) -> Vec<ComposedMap> {
        std::mem::take(&mut *self.composed.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A device of its own ([`crate::GpuContext::headless`]); native targets.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn headless() -> Result<(Self, String), String> {
        let ctx = crate::GpuContext::headless().map_err(|e| e.to_string())?;
        let me = Self::new(&ctx.device, &ctx.queue)?;
        Ok((me, ctx.describe()))
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Checks this device against the CPU reference before it is trusted with plans: on a
    /// small scene of 20 x 24 x 18 voxels (axis lengths that are not powers of two, where one
    /// driver's signed remainder went wrong) the composed cost map must agree within 1e-5
    /// and the value planner's path must cost what the CPU's A* path costs (within 1e-4), on
    /// maps read back and on maps left on the device (`plan_resident`, whose start distance
    /// must equal the CPU's).
    /// A shader the browser's compiler rejects, a pipeline that fails validation (both leave
    /// buffers at zero) or a miscompiled kernel fails it, and the caller plans on the CPU.
    pub async fn self_test(&self) -> Result<(), String> {
        let size = [20, 24, 18];
        let grid = Grid::new([0.0; 3], [1.0; 3], size).map_err(|e| e.to_string())?;
        // Painted maps, as the map programs leave them: the GPU paints them (`paint.wgsl`).
        let mut affordance = Painted::filled(grid, 0.0);
        for v in [[15, 12, 8], [16, 12, 8], [15, 13, 8], [15, 12, 9]] {
            affordance.paint(v, v.map(|x| x + 1), 1.0);
        }
        let mut avoidance = Painted::filled(grid, 0.0);
        avoidance.paint([10, 4, 0], [11, 20, 12], 1.0);
        let (affordance, avoidance) = (Map::Painted(affordance), Map::Painted(avoidance));
        let collision: Vec<usize> = (0..size[0])
            .flat_map(|x| (0..size[1]).map(move |y| grid.index([x, y, 0])))
            .collect();
        let start = [3, 12, 6];
        let input = CostInput {
            affordance: &affordance,
            avoidance: &avoidance,
            collision: &collision,
            movable: Movable::Gripper(start),
        };
        let want = cost::compose(&input).map_err(|e| e.to_string())?;
        let got = self
            .compose_async(&input)
            .await
            .map_err(|e| format!("composing: {e}"))?;
        let worst = want
            .cost
            .data
            .iter()
            .zip(&got.cost.data)
            .map(|(a, b)| (a - b).abs())
            // A NaN anywhere fails (f32::max would skip it).
            .fold(0f32, |m, d| if d.is_nan() { f32::NAN } else { m.max(d) });
        if worst.is_nan() || worst > 1e-5 {
            return Err(format!(
                "the GPU's cost map differs from the CPU's by {worst} (at most 1e-5 expected)"
            ));
        }
        let blocked = want.blocked(grid.index(start));
        let p = want.problem(&blocked, start, false);
        let cpu = value::plan(&p);
        let gpu = self
            .plan_async(&p, PlannerKind::Value)
            .await
            .map_err(|e| format!("planning: {e}"))?;
        let (c, g) = (
            path_measure(&p, &cpu.search_path),
            path_measure(&p, &gpu.search_path),
        );
        if !(gpu.reached && c.is_finite() && (c - g).abs() <= 1e-4 * c) {
            return Err(format!(
                "the GPU's path costs {g} (reached: {}), the CPU's {c}",
                gpu.reached
            ));
        }
        // The route of a step that keeps no maps: they stay on the device, and the path
        // comes back with its voxels' costs, flags and squared target distances.
        let kept = self
            .compose_resident_sync(&input)
            .map_err(|e| format!("composing on the device: {e}"))?;
        let r = self
            .plan_resident_async(kept, start, false)
            .await
            .map_err(|e| format!("planning on the device's maps: {e}"))?;
        let d = want.target_distance[grid.index(start)];
        if !(r.path.reached && (c - r.path_cost).abs() <= 1e-4 * c && r.start_distance == d) {
            return Err(format!(
                "on the device's maps the GPU's path costs {} (reached: {}) from {} voxels off the targets; the CPU's {c} from {d}",
                r.path_cost, r.path.reached, r.start_distance
            ));
        }
        Ok(())
    }

    /// Composes on the device (submitted, not waited for), keeping the cost map for a
    /// renderer where [`GpuBackend::keep_composed`] is on (then `true` comes with the maps).
    fn compose_on_device(&self, input: &CostInput<'_>) -> Result<(GpuCostMaps, bool), GpuError> {
        let grid = input.affordance.grid();
        // The previous maps go before the new ones are made (one set on the device at most),
        // and their buffers make the new ones.
        self.drop_last();
        let collision = movable_cleared_collision(&grid, input.collision, input.movable);
        let maps = self.cost.compose_cost(
            &self.device,
            &self.queue,
            &grid,
            input.affordance.into(),
            input.avoidance.into(),
            &collision,
        )?;
        let kept = self.keep.load(std::sync::atomic::Ordering::Relaxed);
        if kept {
            self.composed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ComposedMap {
                    grid,
                    cost: maps.cost.clone(),
                });
        }
        Ok((maps, kept))
    }

    /// Keeps `maps` as the last compose's, numbered under the lock (so that the maps kept
    /// are always the latest numbered, whatever the order of concurrent composes); returns
    /// the number.
    fn keep_last(&self, maps: GpuCostMaps, print: Option<Vec<u32>>, cost_kept: bool) -> u64 {
        let mut last = self.last_maps();
        let generation = self
            .composes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if let Some(old) = last.replace(Last {
            maps,
            print,
            cost_kept,
            generation,
        }) {
            self.recycle_maps(old);
        }
        generation
    }

    async fn compose_async(&self, input: &CostInput<'_>) -> Result<CostMaps, GpuError> {
        let (maps, cost_kept) = self.compose_on_device(input)?;
        let host = maps.read_back_async(&self.device, &self.queue).await?;
        let print = fingerprint(&host.cost.data, host.lower_bound);
        self.keep_last(maps, Some(print), cost_kept);
        Ok(host)
    }

    /// Composes and keeps the maps on the device with nothing read back, for
    /// [`GpuBackend::plan_resident_async`]; returns their name.
    fn compose_resident_sync(&self, input: &CostInput<'_>) -> Result<Resident, GpuError> {
        let (maps, cost_kept) = self.compose_on_device(input)?;
        Ok(Resident(self.keep_last(maps, None, cost_kept)))
    }

    /// The value planner on the maps [`GpuBackend::compose_resident_sync`] kept: the path
    /// and its voxels' costs, flags and target distances come back in the plan's one
    /// mapping, and the step's measures are taken from them exactly as the CPU takes them
    /// from host maps. Where the descent did not finish on the device (a path cut short at
    /// its room) or ends off the targets (out of reach), the maps are read back and the plan
    /// is made as `plan_composed` makes it: rare, and slower (the passes run again).
    /// The maps and the plan's buffers are recycled after.
    /// Only the maps `maps` names are planned on: where another composition's are held,
    /// they are left for their own plan, and this fails.
    async fn plan_resident_async(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> Result<ResidentPlan, GpuError> {
        let taken = self
            .last_maps()
            .take_if(|l| l.generation == maps.0 && l.print.is_none());
        let Some(last) = taken else {
            let replaced = self.composes.load(std::sync::atomic::Ordering::Relaxed) > maps.0;
            return Err(GpuError::BadInput(
                if replaced {
                    REPLACED_RESIDENT
                } else {
                    NOTHING_RESIDENT
                }
                .into(),
            ));
        };
        let grid = last.maps.grid;
        if !grid.contains_i(start.map(|x| x as i64)) {
            self.recycle_maps(last);
            return Err(GpuError::BadInput(format!(
                "the start {start:?} is outside the grid of {:?} voxels",
                grid.size
            )));
        }
        let (d, q) = (&self.device, &self.queue);
        let gp = self
            .value
            .problem_from_maps(d, q, &last.maps, start, planar);
        let sampled = self
            .value
            .plan_sampled_async(d, q, &gp, &last.maps.stats)
            .await;
        let plan = match &sampled {
            Ok(sp) => {
                self.measure_resident(&last.maps, &gp, sp.as_ref(), start, planar)
                    .await
            }
            Err(e) => Err(e.clone()),
        };
        let value = sampled.ok().flatten().map(|sp| sp.value);
        self.value.recycle(value.into_iter().chain([gp.flags]));
        self.recycle_maps(last);
        plan
    }

    /// The step's plan and measures from the path [`ValuePipelines::plan_sampled_async`]
    /// descended on `maps` (`gp` is their problem), or from the maps read back where it did
    /// not finish on the targets (see [`GpuBackend::plan_resident_async`]).
    async fn measure_resident(
        &self,
        maps: &GpuCostMaps,
        gp: &GpuProblem,
        sampled: Option<&SampledPath>,
        start: Voxel,
        planar: bool,
    ) -> Result<ResidentPlan, GpuError> {
        let grid = maps.grid;
        let (d, q) = (&self.device, &self.queue);
        // The start's target distance from its exact squared distance, as the CPU takes it
        // (the device's square root may differ in the last place).
        let distance = |d2: u32| (d2 as f32).sqrt();
        let start_d2 = sampled
            .as_ref()
            .and_then(|sp| sp.squared_distance.first().copied());
        if let Some(sp) = sampled
            && sp.complete
            && sp.target.last() == Some(&true)
            && let Some(cost_range) = sp.cost_range
        {
            let at: std::collections::HashMap<usize, (f32, bool)> = sp
                .voxels
                .iter()
                .zip(sp.cost.iter().zip(&sp.blocked))
                .map(|(v, (&c, &b))| (grid.index(*v), (c, b)))
                .collect();
            let path_cost = path_measure_with(&grid, &sp.voxels, |i| at.get(&i).copied())
                .ok_or_else(|| GpuError::Map("a path voxel came back without its sample".into()))?;
            let reached = sp
                .squared_distance
                .last()
                .is_some_and(|&d2| distance(d2) <= REACH_TOLERANCE);
            return Ok(ResidentPlan {
                path: PathPlan::along_voxels(sp.voxels.clone(), reached, sp.expanded),
                path_cost,
                start_distance: start_d2.map_or(f32::INFINITY, distance),
                cost_range,
            });
        }
        // Out of reach (the measure goes on to the nearest target, off the path) or cut short
        // (the rest of the path is descended on the host from this run's `V`): the maps come
        // back, and the passes are not run again (only where no descent was written at all).
        let host = maps.read_back_async(d, q).await?;
        let blocked = host.blocked(grid.index(start));
        let problem = host.problem(&blocked, start, planar);
        let path = match sampled {
            None => self.value.plan_resident_async(d, q, gp, &problem).await?,
            Some(sp) => {
                let search_path = if sp.complete {
                    sp.voxels.clone()
                } else {
                    ValuePipelines::descend_on_host(d, q, &sp.value, &problem).await?
                };
                let last = search_path.last().copied().unwrap_or(start);
                let reached = host.target_distance[grid.index(last)] <= REACH_TOLERANCE;
                PathPlan::along_voxels(search_path, reached, sp.expanded)
            }
        };
        Ok(ResidentPlan {
            path_cost: measured_path_cost(&host, &problem, &path),
            cost_range: host.cost.min_max().unwrap_or((f32::NAN, f32::NAN)),
            start_distance: start_d2.map_or(host.target_distance[grid.index(start)], distance),
            path,
        })
    }

    /// Plans on the maps the last compose left on the device (the problem must be theirs,
    /// as `plan_composed` promises): the flags are made there and nothing is uploaded.
    async fn plan_composed_async(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> Result<PathPlan, GpuError> {
        // The maps are used only when the problem is theirs: same grid, same sampled costs
        // (plans interleaved on one backend would otherwise swap maps).
        let theirs = |l: &Last| {
            l.maps.grid == problem.grid
                && l.print.as_ref() == Some(&fingerprint(problem.cost, problem.lower_bound))
                && matches!(planner, PlannerKind::Value | PlannerKind::Mppi)
        };
        let Some(last) = self.take_last(theirs) else {
            return self.plan_async(problem, planner).await;
        };
        let (d, q) = (&self.device, &self.queue);
        let gp = self
            .value
            .problem_from_maps(d, q, &last.maps, problem.start, problem.planar);
        let plan = match planner {
            PlannerKind::Mppi => self.mppi_on(&gp, problem).await,
            _ => self.value.plan_resident_async(d, q, &gp, problem).await,
        };
        self.value.recycle([gp.flags]);
        self.recycle_maps(last);
        plan
    }

    /// MPPI on a resident problem: the cost-to-go by value iteration on the GPU, read back
    /// once (the host's descent guesses follow it), capped into the terminal field and
    /// uploaded for the rollouts.
    async fn mppi_on(&self, gp: &GpuProblem, problem: &Problem<'_>) -> Result<PathPlan, GpuError> {
        let (d, q) = (&self.device, &self.queue);
        let cfg = MppiConfig::default();
        let v = self.value.cost_to_go_async(d, q, gp).await?;
        let terminal = mppi::terminal_field(&v.value);
        let tb = MppiPipelines::upload_terminal(d, gp, &terminal)?;
        mppi::plan_with_async(problem, &cfg, &terminal, async |st, u: &mut [[f32; 3]]| {
            self.mppi
                .optimise_round_async(d, q, gp, &tb, &cfg, st, u)
                .await
        })
        .await
    }

    async fn plan_async(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> Result<PathPlan, GpuError> {
        // A plan on the problem's own copies: the last compose's maps are not wanted.
        self.drop_last();
        let (d, q) = (&self.device, &self.queue);
        match planner {
            PlannerKind::Value => self.value.plan_async(d, q, problem).await,
            PlannerKind::Mppi => {
                self.mppi_on(&GpuProblem::upload(d, problem)?, problem)
                    .await
            }
            PlannerKind::Greedy => Ok(cpu_plan(problem, planner)),
        }
    }
}

/// 64 cost values spread over the map and the lower bound, as bits: enough to tell the maps
/// of one compose from another's.
fn fingerprint(cost: &[f32], lower_bound: (f32, f32)) -> Vec<u32> {
    let n = cost.len();
    (0..64)
        .filter_map(|i| cost.get(i * n / 64).map(|c| c.to_bits()))
        .chain([lower_bound.0.to_bits(), lower_bound.1.to_bits(), n as u32])
        .collect()
}

impl AsyncBackend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    async fn compose(&self, input: &CostInput<'_>) -> Result<CostMaps, String> {
        self.compose_async(input).await.map_err(|e| e.to_string())
    }

    async fn plan(&self, problem: &Problem<'_>, planner: PlannerKind) -> Result<PathPlan, String> {
        self.plan_async(problem, planner)
            .await
            .map_err(|e| e.to_string())
    }

    async fn plan_composed(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> Result<PathPlan, String> {
        self.plan_composed_async(problem, planner)
            .await
            .map_err(|e| e.to_string())
    }

    async fn compose_resident(&self, input: &CostInput<'_>) -> Result<Option<Resident>, String> {
        self.compose_resident_sync(input)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    async fn plan_resident(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> Result<ResidentPlan, String> {
        self.plan_resident_async(maps, start, planar)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Blocking, on native targets (the device is polled until the work is done).
#[cfg(not(target_arch = "wasm32"))]
impl valuescape_voxposer::Backend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn compose(&self, input: &CostInput<'_>) -> Result<CostMaps, String> {
        crate::util::block_on(self.compose_async(input)).map_err(|e| e.to_string())
    }

    fn plan(&self, problem: &Problem<'_>, planner: PlannerKind) -> Result<PathPlan, String> {
        crate::util::block_on(self.plan_async(problem, planner)).map_err(|e| e.to_string())
    }

    fn plan_composed(
        &self,
        problem: &Problem<'_>,
        planner: PlannerKind,
    ) -> Result<PathPlan, String> {
        crate::util::block_on(self.plan_composed_async(problem, planner)).map_err(|e| e.to_string())
    }

    fn compose_resident(&self, input: &CostInput<'_>) -> Result<Option<Resident>, String> {
        self.compose_resident_sync(input)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn plan_resident(
        &self,
        maps: Resident,
        start: Voxel,
        planar: bool,
    ) -> Result<ResidentPlan, String> {
        crate::util::block_on(self.plan_resident_async(maps, start, planar))
            .map_err(|e| e.to_string())
    }
}
