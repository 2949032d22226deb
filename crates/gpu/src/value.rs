//! The cost-to-go over the voxel graph by value iteration on the GPU, and the path down it:
//! the counterpart of `valuescape_core::plan::field_value`.
//!
//! `shaders/value.wgsl` relaxes 8x8x8 blocks in workgroup memory, one pass at a time, and
//! runs a block only where it or a neighbour block changed in the pass before, and only when
//! that change lies within a bucket of the front (delta-stepping's order, so that blocks run
//! fewer times); a pass in which no block changed or waited proves the fixed point (the CPU
//! Dijkstra's values, up to f32 rounding: a driver may fuse the sums into FMAs). Passes take
//! the blocks in the 8 sweep orders in turn, so that where blocks run one after another
//! values cross more than one block per pass. A plan stops as soon as `V(start)` is final,
//! and goes towards the start as A* does: its front, buckets and stop weigh each value plus a
//! lower bound of the cost from the start to its block, so that blocks off every cheap path
//! from the start wait behind the stop ([`ValuePipelines::goal_direction`]).
//! A pass first lists the blocks that run, then dispatches only those.
//! The host submits passes in batches and reads back one counter per pass; a plan adds the
//! descent down `V` to each batch and reads back the path with the counters, never `V`.

use std::sync::{Arc, OnceLock};

use bytemuck::{Pod, Zeroable};
use valuescape_core::grid::{Grid, Voxel};
use valuescape_core::plan::{PathPlan, Problem, REACH_TOLERANCE, STEP_COST, field_value};

use crate::cost::{GpuCostMaps, check_grid};
use crate::util::{self, BufferPool, bind, dispatch, groups, pipeline, storage_init, uniform};
use crate::{GpuError, GpuTimer, shaders};

const TARGET: u32 = 1;
const BLOCKED: u32 = 2;
/// Flags made from composed maps ([`ValuePipelines::problem_from_maps`]) hold the squared
/// target distance from this bit up (`value.wgsl`'s `D2_SHIFT`).
const D2_SHIFT: u32 = 2;
/// Block edge of the tiled relaxation (`value.wgsl`'s `B`).
const BLOCK: usize = 8;
/// Most passes recorded between two convergence checks (one counter slot each).
const MAX_BATCH: usize = 64;
/// Passes in each batch after the first.
const LATER_BATCH: usize = 16;
/// The counter slot `count_finite` adds to.
const COUNT_SLOT: usize = MAX_BATCH;
/// Voxels each invocation of `count_finite` counts, and its invocations a workgroup
/// (`value.wgsl`'s `COUNT_RUN`, `COUNT_THREADS`).
const COUNT_RUN: usize = 16;
const COUNT_THREADS: u32 = 256;
/// The counter slot every block that runs adds 1 to (`value.wgsl`'s `RUNS_SLOT`).
const RUNS_SLOT: usize = MAX_BATCH + 1;
/// The counter slot every block that runs adds its in-block rounds to (`ROUNDS_SLOT`).
const ROUNDS_SLOT: usize = MAX_BATCH + 2;
/// From this counter on, one per pass of a batch: the most in-block rounds a block ran in
/// that pass (`value.wgsl`'s `PASS_ROUNDS`).
const PASS_ROUNDS: usize = ROUNDS_SLOT + 1;
/// Counters per batch: one per pass, the count's, the runs', the rounds', and the most
/// rounds of a block in each pass.
const COUNTERS: usize = PASS_ROUNDS + MAX_BATCH;
/// A block's sides (`value.wgsl`'s `SIDES`): its 26 neighbour directions and itself.
const SIDES: usize = 27;
/// Words of the block marks per block (`value.wgsl`'s `mark_at`, `held_at`, `top_at`), in
/// regions of one kind each over all blocks: the whole block's mark for each parity of pass,
/// the input held back, a mark per side for each parity, and a greatest value per side
/// (the last region, from word `TOPS_FROM * blocks` on).
const MARK_WORDS: usize = TOPS_FROM + SIDES;
/// Words per block of the regions before the sides' greatest values.
const TOPS_FROM: usize = 3 + 2 * SIDES;
/// After the counters, the front's and the stop at the start's state, kept across batches
/// (`value.wgsl`'s `FRONT`): the least value written back in each of three passes, `V(start)`
/// after each of two, and the least input held back in each of three, each weighed with the
/// goal direction's guide; then the same two least values again, not weighed.
const FRONT_WORDS: usize = 14;
/// In-block relaxation rounds per pass by default (`value.wgsl`'s `LOCAL_ITERS`). On the
/// H200, 4 beat 2, 8 and 16 from 64^3 to 256^3 (docs/bench/h200-2026-11-28.md): a block that
/// needs more runs again in a later pass, and a pass lasts as long as its slowest block.
pub(crate) const LOCAL_ITERS: u32 = 4;
/// Width of the value buckets by default ([`ValuePipelines::bucket_width`]), in units of
/// `V`: about a block's width of steps (8 voxels at a typical edge weight of 0.3 to 0.5).
/// On the H200, 3 (with 4 rounds) was the fastest of widths 1 to 4 at 64^3, within 3 % of the
/// fastest at 100^3 and 128^3 and 17 % behind it at 256^3; plans ran 1.3 to 2.9 times faster
/// than with neither buckets nor the 4-round limit (docs/bench/h200-2026-11-28.md).
pub const DEFAULT_BUCKET: f32 = 3.0;
/// `value.wgsl`'s `run_args` as a run starts: for each parity of pass, an indirect dispatch's
/// arguments (the list's length, 1, 1) and a word of padding.
const LIST_HEADER: [u32; 8] = [0, 1, 1, 0, 0, 1, 1, 0];
/// Most voxels of a path the GPU descends; a longer one is descended on the host.
const MAX_PATH: usize = 16_384;
/// The share of the lower bound of a voxel's cost from the start that a plan's goal
/// direction leaves out, for f32 rounding (`value.wgsl`'s `guide_scale` is 1 minus this).
const GUIDE_MARGIN: f32 = 0.02;
/// The greatest `V(start)` at which the stop at the start may weigh values with the goal
/// direction: `GUIDE_MARGIN * STEP_COST / 2^-23` (see `value.wgsl`'s `decide`). Above it the
/// stop weighs values alone, as in value order.
const GUIDE_LIMIT: f32 = GUIDE_MARGIN * STEP_COST * 8_388_608.0;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ValueParams {
    nx: u32,
    ny: u32,
    nz: u32,
    planar: u32,
    start: u32,
    count: u32,
    step_cost: f32,
    max_path: u32,
    bx: u32,
    by: u32,
    bz: u32,
    nblocks: u32,
    stop_at_start: u32,
    bucket: f32,
    guide_scale: f32,
    guide_limit: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PassParams {
    slot: u32,
    _pad: [u32; 3],
}

/// A planning problem resident on the GPU: the cost map and per-voxel flags (bit 0 target,
/// bit 1 blocked), the start and the planar switch.
#[derive(Debug, Clone)]
pub struct GpuProblem {
    /// The grid.
    pub grid: Grid,
    /// The cost map, `f32` per voxel.
    pub cost: wgpu::Buffer,
    /// `u32` per voxel: 1 = target, 2 = blocked; made from composed maps
    /// ([`ValuePipelines::problem_from_maps`]), the squared target distance from bit 2 up.
    pub flags: wgpu::Buffer,
    /// Where the moving entity starts.
    pub start: Voxel,
    /// Move in the horizontal plane only.
    pub planar: bool,
    /// `(a, b, t0, 0)` as `f32`: the cost's lower bound `cost >= max(0, a * d - b)` in the
    /// target distance `d`, and the start's target distance, for a plan's goal direction
    /// (`value.wgsl`'s `guide`).
    pub bound: wgpu::Buffer,
}

impl GpuProblem {
    /// Uploads a CPU problem (its cost, target and blocked masks).
    pub fn upload(device: &wgpu::Device, p: &Problem<'_>) -> Result<GpuProblem, GpuError> {
        let n = check_problem(device, &p.grid, p.start)?;
        util::check_len("the cost map", n, p.cost.len())?;
        util::check_len("the target mask", n, p.target.len())?;
        util::check_len("the blocked mask", n, p.blocked.len())?;
        // The kernels keep the blocked flag in the cost's sign bit: costs must be finite and
        // not negative (-0.0 is stored as +0.0).
        if let Some(i) = p.cost.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
            return Err(GpuError::BadInput(format!(
                "cost[{i}] is {}: the GPU planners take finite, non-negative costs",
                p.cost[i]
            )));
        }
        util::check_len("the target distance", n, p.target_distance.len())?;
        let cost: Vec<f32> = p.cost.iter().map(|c| c.abs()).collect();
        let flags: Vec<u32> = p
            .target
            .iter()
            .zip(p.blocked)
            .map(|(&t, &b)| if t { TARGET } else { 0 } | if b { BLOCKED } else { 0 })
            .collect();
        Ok(GpuProblem {
            grid: p.grid,
            cost: storage_init(device, "cost", &cost),
            flags: storage_init(device, "flags", &flags),
            start: p.start,
            planar: p.planar,
            bound: storage_init(device, "cost bound", &bound(p)),
        })
    }

    /// [`GpuProblem::bound`] read back: for tests.
    #[doc(hidden)]
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_bound(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<[f32; 4], GpuError> {
        let words: Vec<f32> = util::block_on(util::read(device, queue, &self.bound, 4))?;
        Ok([0, 1, 2, 3].map(|k| words.get(k).copied().unwrap_or(f32::NAN)))
    }
}

/// The voxels of `grid`, or why the planners cannot take it or `start` on this device: an
/// axis outside 1 to `MAX_SIZE` (as `Grid::new` checks; a grid made as a value skips that,
/// and a pass of every block dispatches a workgroup a block, at most 65,535 along an
/// axis), a map over the device's binding limit, or a start off the grid.
fn check_problem(device: &wgpu::Device, grid: &Grid, start: Voxel) -> Result<usize, GpuError> {
    let n = check_grid(device, grid.size)?;
    if start.iter().zip(grid.size).any(|(&s, len)| s >= len) {
        return Err(GpuError::BadInput(format!(
            "the start {start:?} lies outside the grid {:?}",
            grid.size
        )));
    }
    Ok(n)
}

/// A problem's cost bound and its start's target distance, as [`GpuProblem::bound`] holds
/// them. A bound that is not finite and non-negative is taken as none.
fn bound(p: &Problem<'_>) -> [f32; 4] {
    let (a, b) = p.lower_bound;
    let t0 = p.target_distance[p.grid.index(p.start)];
    let ok = |x: f32| x.is_finite() && x >= 0.0;
    if ok(a) && b.is_finite() && ok(t0) {
        [a, b, t0, 0.0]
    } else {
        [0.0; 4]
    }
}

/// The cost-to-go computed on the GPU.
#[derive(Debug, Clone)]
pub struct GpuValue {
    /// `V` per voxel (`f32::INFINITY` where no target is reachable).
    pub value: Vec<f32>,
    /// Block passes run (including the final one that proved the fixed point).
    pub passes: u32,
    /// Blocks that ran (loaded their tile and relaxed it), summed over the passes: the
    /// work, where `passes` is the latency.
    pub block_runs: u64,
}

/// What a plan's value iteration took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassStats {
    /// Block passes run, including the first that changed nothing.
    pub passes: u32,
    /// Blocks that ran, summed over the passes.
    pub block_runs: u64,
    /// In-block relaxation rounds, summed over the blocks that ran.
    pub rounds: u64,
    /// The most in-block rounds any block ran in a pass, summed over the passes: the rounds
    /// run one after another on a GPU wide enough to run all of a pass's blocks at once (a
    /// pass lasts as long as its slowest block), where `rounds` is the work.
    pub critical_rounds: u64,
}

impl std::fmt::Display for PassStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passes, {} block runs, {} in-block rounds ({} on the critical path)",
            self.passes, self.block_runs, self.rounds, self.critical_rounds
        )
    }
}

/// The compiled value-iteration kernels.
#[derive(Debug)]
pub struct ValuePipelines {
    init: wgpu::ComputePipeline,
    mark_targets: wgpu::ComputePipeline,
    flags: wgpu::ComputePipeline,
    /// The pass kernels, by [`PassKind`], each in 3-D ([0]) and in the plane ([1], `PLANAR`),
    /// compiled when a run first needs them and kept. The 3-D kernels the variant dispatches
    /// (`schedule` and `relax_listed`; `relax` where passes dispatch every block) are compiled
    /// with the pipelines; the others (the plane's, for pushed objects; `relax` of a listed
    /// variant, for grids of more blocks than a dispatch dimension holds) only where used.
    passes: [[OnceLock<Arc<PassKernel>>; 2]; 3],
    /// The pass kernels' pipeline constants.
    variant: ValueVariant,
    /// One uniform per counter slot of a batch (and the count's slot), bound as the pass
    /// kernels' group 1.
    slot_params: Vec<wgpu::Buffer>,
    count: wgpu::ComputePipeline,
    descend: wgpu::ComputePipeline,
    /// Room for the path the GPU descends (`MAX_PATH`; smaller in tests).
    max_path: usize,
    /// Whether a descent the GPU cut short is descended on the host (off in tests of the
    /// GPU's descent, see [`ValuePipelines::allow_host_descent`]).
    host_descent: bool,
    /// Most passes in one submission (1..=MAX_BATCH).
    batch_cap: usize,
    /// Whether a plan stops once `V(start)` is final (see [`ValuePipelines::stop_at_start`]).
    stop_at_start: bool,
    /// Width of the value buckets (see [`ValuePipelines::bucket_width`]).
    bucket: f32,
    /// Whether a plan goes towards the start (see [`ValuePipelines::goal_direction`]).
    guide: bool,
    /// `count_finite`'s group 1 (slot `COUNT_SLOT`).
    count_group: wgpu::BindGroup,
    /// A run's buffers and the flags of problems made from maps, given back when done.
    pool: BufferPool,
}

/// How the value iteration's pass kernels are compiled (`value.wgsl`'s pipeline
/// constants). The default is what plans use; the others are kept for the benchmark's
/// comparison ([`ValuePipelines::with_variant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueVariant {
    /// Most in-block relaxation rounds a block runs in a pass (`LOCAL_ITERS`; at least 1).
    pub rounds: u32,
    /// Rounds after the first relax only the voxels next to one lowered in the round
    /// before (`SKIP_SETTLED`).
    pub skip_settled: bool,
    /// Fewest rounds a block runs, settled or not (`MIN_ROUNDS`): for timing rounds with
    /// [`ValuePipelines::pass_anatomy`]; plans need 0.
    pub min_rounds: u32,
    /// A block weighs each neighbour's mark on the side facing it against its own greatest
    /// value there, and drops the inputs that cannot lower it (`SIDE_MARKS`); off, every
    /// neighbour that wrote back anything makes it run, as before.
    pub side_marks: bool,
    /// With side marks, a neighbour's mark on the side facing a block is dropped where it is
    /// no lower than the block's greatest value there less an edge (`SIDE_TOPS`); off, every
    /// facing mark is kept. For the parity test that this check saves runs.
    pub side_tops: bool,
    /// A pass dispatches only the blocks that run: `schedule` (one invocation per block)
    /// decides and lists them, and `relax_listed` runs the list through an indirect dispatch.
    /// Off, every block is dispatched as a workgroup of 256 and decides for itself (`relax`),
    /// as before. (Grids of more blocks than a dispatch's dimension holds are always
    /// dispatched whole.)
    pub listed: bool,
    /// The descent's window: the radius (Chebyshev, voxels) of the maps it loads around
    /// the walk into workgroup memory and takes its steps in, in 3-D (at most 4) and in the
    /// plane (at most 13) (`DESCENT_RADIUS`, `DESCENT_RADIUS_PLANE`; at least 1). The walk
    /// waits on global memory once in that many steps or more; 1 loads the 27 voxels (9 in
    /// the plane) around each step. The path is the same for any.
    pub descent_radius: [u32; 2],
}

/// The descent's window radius by default, in 3-D and in the plane ([`ValueVariant`]).
pub const DESCENT_RADIUS: [u32; 2] = [3, 13];
/// The largest window radius the descent's workgroup memory holds (9^3 and 27^2 voxels).
const DESCENT_RADIUS_MAX: [u32; 2] = [4, 13];

impl Default for ValueVariant {
    fn default() -> Self {
        Self {
            rounds: LOCAL_ITERS,
            skip_settled: true,
            min_rounds: 0,
            side_marks: true,
            side_tops: true,
            listed: true,
            descent_radius: DESCENT_RADIUS,
        }
    }
}

/// What one block pass costs on the device (see [`ValuePipelines::pass_anatomy`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct PassAnatomy {
    /// Milliseconds of a pass in which no block runs.
    pub empty_ms: f64,
    /// Milliseconds of a pass after a clean one (no block changed or held back) in the same
    /// batch: what each pass a batch holds beyond the plan's end costs.
    pub after_clean_ms: f64,
    /// Milliseconds of a pass in which every block runs on the converged `V`.
    pub every_block_ms: f64,
    /// Blocks in the grid.
    pub blocks: usize,
}

/// The buffers and bind groups of one run of value iteration.
struct Iteration {
    value: wgpu::Buffer,
    counters: wgpu::Buffer,
    /// The block marks (bound in the passes; read from the host only by the native
    /// `pass_anatomy`).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    marks: wgpu::Buffer,
    batch_done: wgpu::Buffer,
    path: wgpu::Buffer,
    /// How the passes dispatch their blocks, with their group 0.
    passes: Passes,
    count_bg: wgpu::BindGroup,
    descend_bg: wgpu::BindGroup,
    /// Words of `path`.
    room: usize,
    /// Voxels in the grid.
    n: usize,
    /// Blocks per axis.
    blocks: [u32; 3],
}

/// Group 1 of `pipeline`: the counter slot's uniform `params`.
fn slot_group(
    device: &wgpu::Device,
    pipeline: &wgpu::ComputePipeline,
    params: &wgpu::Buffer,
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("value pass"),
        layout: &pipeline.get_bind_group_layout(1),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: params.as_entire_binding(),
        }],
    })
}

/// The value iteration's pass kernels (`value.wgsl`'s entry points).
#[derive(Clone, Copy)]
enum PassKind {
    /// `relax`: every block dispatched, deciding for itself.
    Relax = 0,
    /// `schedule`: one invocation per block lists the blocks that run.
    Schedule = 1,
    /// `relax_listed`: the listed blocks run.
    RelaxListed = 2,
}

/// A pass kernel compiled for one setting of `PLANAR`, with its group 1 for each counter
/// slot of a batch.
#[derive(Debug)]
struct PassKernel {
    pipeline: wgpu::ComputePipeline,
    slots: Vec<wgpu::BindGroup>,
}

/// How a run's passes dispatch their blocks.
enum Passes {
    /// Every block, deciding for itself: `relax` and its group.
    Every(Arc<PassKernel>, wgpu::BindGroup),
    /// Only the blocks that run.
    Listed(Listed),
}

/// What a run whose passes dispatch only the blocks that run needs.
struct Listed {
    /// `schedule` and `relax_listed`.
    kernels: [Arc<PassKernel>; 2],
    /// `value.wgsl`'s `run_args`: the indirect dispatches' arguments.
    args: wgpu::Buffer,
    /// `value.wgsl`'s `run_list` (from the pool).
    list: wgpu::Buffer,
    /// `schedule`'s and `relax_listed`'s groups.
    schedule: wgpu::BindGroup,
    relax: wgpu::BindGroup,
}

/// A path the GPU descended on a problem made from composed maps, with what the descent read
/// at each of its voxels ([`ValuePipelines::plan_sampled_async`]): enough to measure and
/// report the path without the maps on the host.
#[derive(Clone, Debug)]
pub(crate) struct SampledPath {
    /// The voxels, from the start.
    pub voxels: Vec<Voxel>,
    /// Each voxel's cost.
    pub cost: Vec<f32>,
    /// Whether each voxel is blocked (the pipeline's rule, made on the device).
    pub blocked: Vec<bool>,
    /// Whether each voxel is a target.
    pub target: Vec<bool>,
    /// Each voxel's squared distance to the nearest target (exact, as the EDT gives it).
    pub squared_distance: Vec<u32>,
    /// Whether the descent ended on its own (at a target, or where `V` stops decreasing)
    /// rather than at the GPU's room for the path.
    pub complete: bool,
    /// `V` as the plan left it (f32 bits), for a descent on the host where this one was
    /// cut short ([`ValuePipelines::descend_on_host`]).
    pub value: wgpu::Buffer,
    /// The voxels with a finite `V` (the planner's `expanded`).
    pub expanded: usize,
    /// The composed cost map's least and greatest value, from its reductions
    /// (`GpuCostMaps::stats`), read back in the plan's mapping.
    pub cost_range: Option<(f32, f32)>,
}

/// The buffers of one run of value iteration.
struct Run {
    value: wgpu::Buffer,
    /// What the passes took.
    stats: PassStats,
    /// With the descent: the voxels with a finite `V`, and `path[]` as `descend` wrote it.
    descent: Option<(usize, Vec<u32>)>,
    /// The words of the buffer [`Descent::Sampled`] named, read in the same mapping.
    also: Option<Vec<u32>>,
}

/// What a run of value iteration reads back after each batch, besides its pass counters.
#[derive(Clone, Copy, Debug)]
enum Descent<'a> {
    /// Nothing: `V` stays on the device.
    Off,
    /// The path descended from the start.
    Path,
    /// The path with what the descent read at each of its voxels, and the first
    /// [`ALSO_WORDS`] words of a buffer (a composition's reductions).
    Sampled(&'a wgpu::Buffer),
}

/// Words of the buffer [`Descent::Sampled`] reads beside the path (`GpuCostMaps::stats`).
const ALSO_WORDS: usize = 6;

impl ValuePipelines {
    /// Compiles the kernels.
    pub fn new(device: &wgpu::Device) -> Self {
        Self::with_local_iters(device, LOCAL_ITERS)
    }

    /// Compiles the kernels with at most `rounds` in-block relaxation rounds per pass
    /// (`value.wgsl`'s `LOCAL_ITERS`; at least 1). The fixed point is the same for any.
    pub fn with_local_iters(device: &wgpu::Device, rounds: u32) -> Self {
        Self::with_variant(
            device,
            ValueVariant {
                rounds,
                ..ValueVariant::default()
            },
        )
    }

    /// Compiles the kernels in `variant`: the default, or one the benchmark compares.
    /// Every variant but `min_rounds` reaches the same fixed point.
    pub fn with_variant(device: &wgpu::Device, variant: ValueVariant) -> Self {
        let tuned = |label, entry, constants: &[(&str, f64)]| {
            util::pipeline_tuned(device, label, shaders::VALUE, entry, constants)
        };
        let count = tuned("value count", "count_finite", &[]);
        // One uniform per counter slot of a batch (and the count's slot), shared by the
        // pipelines' group-1 bind groups.
        let slot_params: Vec<wgpu::Buffer> = (0..=COUNT_SLOT)
            .map(|slot| {
                uniform(
                    device,
                    &PassParams {
                        slot: slot as u32,
                        _pad: [0; 3],
                    },
                )
            })
            .collect();
        let count_group = slot_group(device, &count, &slot_params[COUNT_SLOT]);
        let pipes = Self {
            init: pipeline(device, "value init", shaders::VALUE, "init"),
            mark_targets: pipeline(device, "value targets", shaders::VALUE, "mark_targets"),
            flags: tuned(
                "value flags",
                "flags_from_maps",
                &[(
                    "TARGET_WEIGHT",
                    f64::from(valuescape_core::cost::TARGET_WEIGHT),
                )],
            ),
            passes: Default::default(),
            variant,
            slot_params,
            count,
            descend: tuned(
                "value descend",
                "descend",
                &[
                    (
                        "DESCENT_RADIUS",
                        f64::from(variant.descent_radius[0].clamp(1, DESCENT_RADIUS_MAX[0])),
                    ),
                    (
                        "DESCENT_RADIUS_PLANE",
                        f64::from(variant.descent_radius[1].clamp(1, DESCENT_RADIUS_MAX[1])),
                    ),
                ],
            ),
            max_path: MAX_PATH,
            host_descent: true,
            batch_cap: MAX_BATCH,
            stop_at_start: true,
            bucket: DEFAULT_BUCKET,
            guide: true,
            count_group,
            pool: BufferPool::default(),
        };
        // The kernels of 3-D plans now, so that the first plan does not wait for them.
        let kinds: &[PassKind] = if variant.listed {
            &[PassKind::Schedule, PassKind::RelaxListed]
        } else {
            &[PassKind::Relax]
        };
        for &kind in kinds {
            pipes.pass_kernel(device, kind, 0);
        }
        pipes
    }

    /// The pass kernel `kind` in 3-D (`planar` 0) or in the plane (1), compiled on first use.
    fn pass_kernel(&self, device: &wgpu::Device, kind: PassKind, planar: usize) -> Arc<PassKernel> {
        let cell = &self.passes[kind as usize][planar];
        Arc::clone(cell.get_or_init(|| {
            let v = self.variant;
            let (label, entry) = match kind {
                PassKind::Relax => ("value relax", "relax"),
                PassKind::Schedule => ("value schedule", "schedule"),
                PassKind::RelaxListed => ("value relax listed", "relax_listed"),
            };
            let pipeline = util::pipeline_tuned(
                device,
                label,
                shaders::VALUE,
                entry,
                &[
                    ("LOCAL_ITERS", v.rounds.max(1) as f64),
                    ("PLANAR", planar as f64),
                    ("SKIP_SETTLED", v.skip_settled as u8 as f64),
                    ("MIN_ROUNDS", v.min_rounds as f64),
                    ("SIDE_MARKS", v.side_marks as u8 as f64),
                    ("SIDE_TOPS", v.side_tops as u8 as f64),
                ],
            );
            let slots = self.slot_params[..MAX_BATCH]
                .iter()
                .map(|u| slot_group(device, &pipeline, u))
                .collect();
            Arc::new(PassKernel { pipeline, slots })
        }))
    }

    /// Gives buffers this crate took from the pipelines' pool back (a run's `V`, the flags of
    /// a problem made from maps) once nothing will use them.
    pub(crate) fn recycle(&self, buffers: impl IntoIterator<Item = wgpu::Buffer>) {
        self.pool.give(buffers);
    }

    /// Makes every run allocate its buffers afresh (`off`), as before buffers were recycled,
    /// or recycle them again: for the benchmark's comparison.
    #[doc(hidden)]
    pub fn set_recycling_off(&self, off: bool) {
        self.pool.set_off(off);
    }

    /// Frees the buffers kept for the next run; returns their bytes.
    pub fn release_buffers(&self) -> u64 {
        self.pool.clear()
    }

    /// The bytes of the buffers kept for the next run.
    pub fn kept_bytes(&self) -> u64 {
        self.pool.bytes()
    }

    /// Submits at most `passes` block passes at a time (1 to 64; 64 by default), reading the
    /// counts back between submissions. A renderer sharing the device uses a small cap, so
    /// that no single submission of the plan holds the GPU for long and frames are drawn
    /// between them; the result is the same.
    pub fn limit_batch(&mut self, passes: usize) {
        self.batch_cap = passes.clamp(1, MAX_BATCH);
    }

    /// Whether a plan stops its passes once `V(start)` is final (the default) rather than at
    /// the fixed point of the whole grid. The path is the same either way: the passes stop
    /// when no value written back or held back in the last pass lies below `V(start)` (each
    /// plus its block's guide, with [`ValuePipelines::goal_direction`]), and then `V` is
    /// final on every voxel of every optimal path from the start (in value order, on every
    /// voxel whose cost-to-go is below `V(start)`) and no lower than final elsewhere, so the
    /// descent weighs its steps as on the fixed point (`value.wgsl`'s `decide` has the
    /// argument). The voxels with a finite `V` that a plan reports are then fewer. The full
    /// cost-to-go ([`ValuePipelines::cost_to_go`]) always runs to the fixed point.
    pub fn stop_at_start(&mut self, on: bool) {
        self.stop_at_start = on;
    }

    /// Orders the work by value, as delta-stepping does: in each pass a block runs only
    /// when its new inputs lie within `width` of the front (the least input anywhere after
    /// the last pass); the others wait for a later pass. Blocks then run less often, on
    /// inputs closer to final, at the price of more passes. `f32::INFINITY` runs every
    /// block with new inputs; the default is [`DEFAULT_BUCKET`]. The fixed point and the
    /// path are the same for any width; a width that is not positive is taken as infinite.
    pub fn bucket_width(&mut self, width: f32) {
        self.bucket = if width > 0.0 { width } else { f32::INFINITY };
    }

    /// Whether a plan goes towards the start (the default), as A* does: the front, the
    /// buckets and the stop at the start weigh each value plus a lower bound of the cost of
    /// a path from the start to its block (the cost's bound in the target distance, and the
    /// step cost), so that the blocks off every cheap path from the start wait behind the
    /// stop (they run only where they come within a bucket of the front before it). Only
    /// with [`ValuePipelines::stop_at_start`]; the path is the same either way. Where
    /// `V(start)` lies above `GUIDE_LIMIT` (8,389: f32 rounding would eat the bound's 2 %
    /// margin), the stop weighs values alone, as in value order.
    pub fn goal_direction(&mut self, on: bool) {
        self.guide = on;
    }

    /// With `on` false, a plan whose descent the GPU cut short (or left empty) fails
    /// instead of descending on the host: for tests that the GPU's own descent took a path.
    #[doc(hidden)]
    pub fn allow_host_descent(&mut self, on: bool) {
        self.host_descent = on;
    }

    /// Lets the GPU descend paths of at most `voxels` voxels (at least 1); a longer one is
    /// descended on the host from `V` read back. For tests of that fallback.
    #[doc(hidden)]
    pub fn limit_gpu_path(&mut self, voxels: usize) {
        self.max_path = voxels.clamp(1, MAX_PATH);
    }

    /// Voxels of a path the GPU descends on `grid`: a path down a strictly decreasing `V`
    /// visits no voxel twice, so no more than the grid holds.
    fn path_room(&self, grid: &Grid) -> usize {
        self.max_path.min(grid.len()).max(1)
    }

    fn blocks(grid: &Grid) -> [usize; 3] {
        grid.size.map(|s| s.div_ceil(BLOCK))
    }

    fn params(&self, grid: &Grid, start: Voxel, planar: bool, stop: bool) -> ValueParams {
        let [nx, ny, nz] = grid.size.map(|s| s as u32);
        let [bx, by, bz] = Self::blocks(grid).map(|b| b as u32);
        ValueParams {
            nx,
            ny,
            nz,
            planar: planar as u32,
            start: grid.index(start) as u32,
            count: nx * ny * nz,
            step_cost: STEP_COST,
            max_path: self.path_room(grid) as u32,
            bx,
            by,
            bz,
            nblocks: bx * by * bz,
            stop_at_start: stop as u32,
            // The shader never sees an infinity (WGSL may assume floats are finite): 0 is
            // "no buckets".
            bucket: if self.bucket.is_finite() {
                self.bucket
            } else {
                0.0
            },
            guide_scale: if stop && self.guide {
                1.0 - GUIDE_MARGIN
            } else {
                0.0
            },
            guide_limit: GUIDE_LIMIT,
        }
    }

    /// A problem over GPU-composed maps without reading them back, with the pipeline's
    /// rule: targets are the voxels at distance 0, blocked voxels have obstacle > 0.5 and
    /// are not targets, and the start is never blocked.
    pub fn problem_from_maps(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        maps: &GpuCostMaps,
        start: Voxel,
        planar: bool,
    ) -> GpuProblem {
        let n = maps.grid.len();
        // Every word is written by `flags_from_maps`.
        let flags = self.pool.take(device, "flags", n as u64 * 4);
        // Written by `flags_from_maps` from the reductions.
        let bound = util::storage(device, "cost bound", 16);
        let u = uniform(device, &self.params(&maps.grid, start, planar, false));
        let bg = bind(
            device,
            &self.flags,
            &[
                (0, &u),
                (5, &maps.obstacle),
                (6, &maps.squared_distance),
                (7, &flags),
                (11, &bound),
                (12, &maps.stats),
            ],
        );
        util::submit_one(device, queue, &self.flags, &bg, groups(n, 64));
        GpuProblem {
            grid: maps.grid,
            cost: maps.cost.clone(),
            flags,
            start,
            planar,
            bound,
        }
    }

    /// Value iteration to the fixed point: batches of block passes (`value.wgsl`'s
    /// `schedule` and `relax_listed`, or `relax`), each pass counting the blocks it changed
    /// or held back; the counts are read back after each batch, and the first pass that
    /// counted none ends it. The first batch is about twice the blocks along the longest
    /// axis, three times with buckets (a pass carries values across at least one block, and
    /// a converged pass costs little: every block's 27 marks are read and none runs), later
    /// ones `LATER_BATCH` passes (fewer where
    /// [`ValuePipelines::limit_batch`] lowered the cap). Leaves `V` on the GPU (f32 bits).
    ///
    /// With `descend`, every batch ends with `count_finite` and `descend`, read back with
    /// the counts in the same mapping: a plan that converges in the first batch (the usual
    /// case) costs one trip to the host. A plan also stops at the start where
    /// [`ValuePipelines::stop_at_start`] is on: the passes after `V(start)` is final change
    /// nothing, so the first of them ends it as the fixed point would. With `samples`, the
    /// descent's samples of each path voxel are read back too (three times the words).
    async fn iterate(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        descent: Descent<'_>,
        timer: Option<&mut GpuTimer>,
    ) -> Result<Run, GpuError> {
        let descend = !matches!(descent, Descent::Off);
        let it = self.setup(device, queue, gp, descend && self.stop_at_start)?;
        let run = self.converge(device, queue, &it, descent, timer).await;
        // What the run left in them has been read back; `V` goes with the run.
        self.pool.give(
            [it.counters, it.marks, it.path]
                .into_iter()
                .chain(match it.passes {
                    Passes::Listed(l) => Some(l.list),
                    Passes::Every(..) => None,
                }),
        );
        run
    }

    /// The buffers and bind groups of a run, with `V` and the block marks initialised
    /// (`init` submitted).
    fn setup(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        stop: bool,
    ) -> Result<Iteration, GpuError> {
        let g = gp.grid;
        let n = check_problem(device, &g, gp.start)?;
        let base = self.params(&g, gp.start, gp.planar, stop);
        let nblocks = base.nblocks as usize;
        // From the pool: `init` writes every word of `value` and `marks` and the front's words
        // of `counters`, whose others are cleared before each batch; `descend` writes the
        // words of `path` that are read.
        let value = self.pool.take(device, "value", n as u64 * 4);
        let counters = self
            .pool
            .take(device, "pass counters", (COUNTERS + FRONT_WORDS) as u64 * 4);
        let marks = self
            .pool
            .take(device, "block marks", (MARK_WORDS * nblocks) as u64 * 4);
        // The passes before the batch (written before each submission).
        let batch_done = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("passes done"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // The length, the voxels, and two words of samples per voxel (`value.wgsl`'s
        // `descend`).
        let room = 1 + 3 * self.path_room(&g);
        let path = self.pool.take(device, "path", room as u64 * 4);
        let params = uniform(device, &base);
        let planar = gp.planar as usize;
        // What a pass's block runs bind (`run_block`, with `decide` in `relax`).
        let run_entries = [
            (0, &params),
            (1, &gp.cost),
            (2, &gp.flags),
            (3, &value),
            (4, &counters),
            (8, &marks),
            (9, &batch_done),
            (11, &gp.bound),
        ];
        // Only the blocks that run dispatched, where the grid's blocks fit one dimension of a
        // dispatch (a list's length is the indirect dispatch's x).
        let passes = if self.variant.listed
            && nblocks <= device.limits().max_compute_workgroups_per_dimension as usize
        {
            let args = wgpu::util::DeviceExt::create_buffer_init(
                device,
                &wgpu::util::BufferInitDescriptor {
                    label: Some("run list's dispatch"),
                    contents: bytemuck::cast_slice(&LIST_HEADER),
                    usage: util::STORAGE | wgpu::BufferUsages::INDIRECT,
                },
            );
            // From the pool: `schedule` writes the words `relax_listed` reads.
            let list = self.pool.take(device, "run list", nblocks as u64 * 4);
            let kernels = [PassKind::Schedule, PassKind::RelaxListed]
                .map(|kind| self.pass_kernel(device, kind, planar));
            let schedule = bind(
                device,
                &kernels[0].pipeline,
                &[
                    (0, &params),
                    (3, &value),
                    (4, &counters),
                    (8, &marks),
                    (9, &batch_done),
                    (11, &gp.bound),
                    (13, &list),
                    (14, &args),
                ],
            );
            let relax = bind(
                device,
                &kernels[1].pipeline,
                &[&run_entries[..], &[(13, &list)]].concat(),
            );
            Passes::Listed(Listed {
                kernels,
                args,
                list,
                schedule,
                relax,
            })
        } else {
            let relax = self.pass_kernel(device, PassKind::Relax, planar);
            let group = bind(device, &relax.pipeline, &run_entries);
            Passes::Every(relax, group)
        };
        let init_bg = bind(
            device,
            &self.init,
            &[
                (0, &params),
                (2, &gp.flags),
                (3, &value),
                (4, &counters),
                (8, &marks),
            ],
        );
        let count_bg = bind(
            device,
            &self.count,
            &[(0, &params), (3, &value), (4, &counters)],
        );
        let descend_bg = bind(
            device,
            &self.descend,
            &[
                (0, &params),
                (1, &gp.cost),
                (2, &gp.flags),
                (3, &value),
                (10, &path),
            ],
        );
        let mark_bg = bind(
            device,
            &self.mark_targets,
            &[(0, &params), (2, &gp.flags), (8, &marks)],
        );
        let mut enc =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            dispatch(
                &mut pass,
                &self.init,
                &init_bg,
                groups(n.max(MARK_WORDS * nblocks), 64),
            );
            dispatch(&mut pass, &self.mark_targets, &mark_bg, groups(n, 64));
        }
        queue.submit([enc.finish()]);
        Ok(Iteration {
            value,
            counters,
            marks,
            batch_done,
            path,
            passes,
            count_bg,
            descend_bg,
            room,
            n,
            blocks: Self::blocks(&g).map(|b| b as u32),
        })
    }

    /// Records the block passes of counter slots `slots` in one compute pass, after `done`
    /// passes (slot `k` is pass `done + k + 1`).
    fn record_passes(
        &self,
        enc: &mut wgpu::CommandEncoder,
        it: &Iteration,
        (done, slots): (u32, std::ops::Range<usize>),
        timer: Option<&mut GpuTimer>,
        label: &'static str,
    ) {
        let [bx, by, bz] = it.blocks;
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: timer.and_then(|t| t.writes(label)),
        });
        match &it.passes {
            Passes::Every(relax, group) => {
                pass.set_pipeline(&relax.pipeline);
                pass.set_bind_group(0, group, &[]);
                for pg in &relax.slots[slots] {
                    pass.set_bind_group(1, pg, &[]);
                    // Workgroup x (fastest in dispatch order) is the block's z.
                    pass.dispatch_workgroups(bz, by, bx);
                }
            }
            Passes::Listed(l) => {
                let (x, y) = groups((bx * by * bz) as usize, 64);
                let [schedule, listed] = &l.kernels;
                for slot in slots {
                    pass.set_pipeline(&schedule.pipeline);
                    pass.set_bind_group(0, &l.schedule, &[]);
                    pass.set_bind_group(1, &schedule.slots[slot], &[]);
                    pass.dispatch_workgroups(x, y, 1);
                    // This pass's list: its length and the dispatch's y and z are the words
                    // of the pass's parity (`value.wgsl`'s `schedule`).
                    let parity = (done as usize + slot + 1) % 2;
                    pass.set_pipeline(&listed.pipeline);
                    pass.set_bind_group(0, &l.relax, &[]);
                    pass.set_bind_group(1, &listed.slots[slot], &[]);
                    pass.dispatch_workgroups_indirect(&l.args, (parity * 16) as u64);
                }
            }
        }
    }

    /// The batches of passes to the fixed point (or to the stop at the start), as
    /// [`ValuePipelines::iterate`] describes.
    async fn converge(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        it: &Iteration,
        descent: Descent<'_>,
        mut timer: Option<&mut GpuTimer>,
    ) -> Result<Run, GpuError> {
        let n = it.n;
        let descend = !matches!(descent, Descent::Off);
        // The words of `path` read back: the length and the voxels, and the samples if asked.
        let (read, also) = match descent {
            Descent::Sampled(also) => (it.room, Some(also)),
            _ => (it.room.div_ceil(3), None),
        };
        // Bellman-Ford needs at most n - 1 relaxations of every voxel; each pass relaxes
        // every block that could change at least once.
        let limit = n.max(2) as u32;
        let mut done = 0u32;
        let (mut block_runs, mut rounds, mut critical_rounds) = (0u64, 0u64, 0u64);
        // The first batch: about the passes a plan takes (values cross a block or more per
        // pass; buckets add passes); later ones are short, most plans having ended by then.
        let longest = it.blocks.into_iter().max().unwrap_or(1) as usize;
        let per_block = if self.bucket.is_finite() { 3 } else { 2 };
        let mut batch = (per_block * longest + 4).min(self.batch_cap);
        loop {
            queue.write_buffer(&it.batch_done, 0, bytemuck::bytes_of(&[done, 0, 0, 0]));
            let mut enc =
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            // The batch's counters only: the stop's state after them lives on.
            enc.clear_buffer(&it.counters, 0, Some(COUNTERS as u64 * 4));
            self.record_passes(
                &mut enc,
                it,
                (done, 0..batch),
                timer.as_deref_mut(),
                "value passes",
            );
            if descend {
                // Two passes, so that a timer tells the count (a pass over the grid) from
                // the walk (one workgroup).
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("finite count"),
                    timestamp_writes: timer.as_deref_mut().and_then(|t| t.writes("finite count")),
                });
                pass.set_pipeline(&self.count);
                pass.set_bind_group(0, &it.count_bg, &[]);
                pass.set_bind_group(1, &self.count_group, &[]);
                let (x, y) = groups(n.div_ceil(COUNT_RUN), COUNT_THREADS);
                pass.dispatch_workgroups(x, y, 1);
                drop(pass);
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("descent"),
                    timestamp_writes: timer.as_deref_mut().and_then(|t| t.writes("descent")),
                });
                dispatch(&mut pass, &self.descend, &it.descend_bg, (1, 1));
            }
            if let Some(t) = timer.as_deref() {
                t.resolve(&mut enc);
            }
            queue.submit([enc.finish()]);
            let (counts, descent, also) = if descend {
                let mut parts = vec![
                    (&it.counters, COUNTERS as u64 * 4),
                    (&it.path, read as u64 * 4),
                ];
                parts.extend(also.map(|b| (b, ALSO_WORDS as u64 * 4)));
                let mut parts = util::read_many(device, queue, &parts).await?.into_iter();
                let counts = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                (counts, Some(path), parts.next())
            } else {
                (
                    util::read(device, queue, &it.counters, COUNTERS).await?,
                    None,
                    None,
                )
            };
            if counts.len() < COUNTERS
                || descent.as_ref().is_some_and(|p| p.len() < read)
                || also.as_ref().is_some_and(|w| w.len() < ALSO_WORDS)
            {
                return Err(GpuError::Map("a read-back came back short".into()));
            }
            let descent = descent.map(|path| (counts[COUNT_SLOT] as usize, path));
            block_runs += u64::from(counts[RUNS_SLOT]);
            rounds += u64::from(counts[ROUNDS_SLOT]);
            critical_rounds += counts[PASS_ROUNDS..PASS_ROUNDS + batch]
                .iter()
                .map(|&r| u64::from(r))
                .sum::<u64>();
            if let Some(first_clean) = counts[..batch].iter().position(|&c| c == 0) {
                return Ok(Run {
                    value: it.value.clone(),
                    stats: PassStats {
                        passes: done + first_clean as u32 + 1,
                        block_runs,
                        rounds,
                        critical_rounds,
                    },
                    descent,
                    also,
                });
            }
            done += batch as u32;
            if done >= limit {
                return Err(GpuError::NotConverged { passes: done });
            }
            batch = self.batch_cap.min(LATER_BATCH);
        }
    }

    /// Device milliseconds of one block pass in three states, for the benchmark: no block
    /// runs (each block's neighbours' marks are read and none runs: with the list of blocks
    /// that run, `schedule` and an empty indirect dispatch); the pass after that one in the
    /// same batch (which decides nothing, `value.wgsl`'s `after_clean`);
    /// and every block runs on the
    /// converged `V` (loads its tile, relaxes it until a round changes nothing, which is one
    /// round unless the pipeline's `MIN_ROUNDS` asks for more, and writes nothing back).
    /// Medians over `reps` passes; `None` without timestamp queries.
    #[doc(hidden)]
    #[cfg(not(target_arch = "wasm32"))]
    pub fn pass_anatomy(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        reps: usize,
    ) -> Result<Option<PassAnatomy>, GpuError> {
        let Some(mut timer) = GpuTimer::new(device, queue, 3) else {
            return Ok(None);
        };
        util::block_on(async {
            let it = self.setup(device, queue, gp, false)?;
            let run = self
                .converge(device, queue, &it, Descent::Off, None)
                .await?;
            let done = [run.stats.passes, 0, 0, 0];
            queue.write_buffer(&it.batch_done, 0, bytemuck::bytes_of(&done));
            let nblocks = it.blocks.iter().product::<u32>() as usize;
            // Marks of +infinity: no block has inputs; of 0 (and sides' greatest values of
            // +infinity, which no input is dropped against): every block has.
            const INF: u32 = 0x7f80_0000;
            let none = storage_init(device, "no block", &vec![INF; MARK_WORDS * nblocks]);
            let mut every_marks = vec![0u32; TOPS_FROM * nblocks];
            every_marks.resize(MARK_WORDS * nblocks, INF);
            let every = storage_init(device, "every block", &every_marks);
            // Each timed pass is the same pass: its list starts empty each time.
            let header = storage_init(device, "list header", &LIST_HEADER);
            let pass = (run.stats.passes, 0..1);
            let (mut empty_ms, mut every_ms, mut after_ms) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..reps.max(1) {
                timer.reset();
                let mut enc =
                    device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                // The empty pass counts nothing in slot 0, so that the pass after it, in
                // slot 1, follows a clean pass.
                enc.clear_buffer(&it.counters, 0, Some(COUNTERS as u64 * 4));
                for (marks, label) in [(&none, "empty"), (&every, "every block")] {
                    enc.copy_buffer_to_buffer(marks, 0, &it.marks, 0, None);
                    if let Passes::Listed(l) = &it.passes {
                        enc.copy_buffer_to_buffer(&header, 0, &l.args, 0, None);
                    }
                    self.record_passes(&mut enc, &it, pass.clone(), Some(&mut timer), label);
                    if label == "empty" {
                        let next = (run.stats.passes, 1..2);
                        self.record_passes(&mut enc, &it, next, Some(&mut timer), "after");
                    }
                }
                timer.resolve(&mut enc);
                queue.submit([enc.finish()]);
                for (label, ms) in timer.read_async(device, queue).await? {
                    match label {
                        "empty" => empty_ms.push(ms),
                        "after" => after_ms.push(ms),
                        _ => every_ms.push(ms),
                    }
                }
            }
            let median = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
            };
            Ok(Some(PassAnatomy {
                empty_ms: median(empty_ms),
                after_clean_ms: median(after_ms),
                every_block_ms: median(every_ms),
                blocks: nblocks,
            }))
        })
    }

    /// The cost-to-go of every voxel (see `valuescape_core::plan::field_value::cost_to_go`),
    /// read back.
    pub async fn cost_to_go_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
    ) -> Result<GpuValue, GpuError> {
        self.value_read_back(device, queue, gp, false).await
    }

    /// The value iteration (as a plan runs it with `plan`, else to the whole grid's fixed
    /// point), `V` read back.
    async fn value_read_back(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        plan: bool,
    ) -> Result<GpuValue, GpuError> {
        let descent = if plan { Descent::Path } else { Descent::Off };
        let run = self.iterate(device, queue, gp, descent, None).await?;
        let bits: Vec<u32> = util::read(device, queue, &run.value, gp.grid.len()).await?;
        self.pool.give([run.value]);
        Ok(GpuValue {
            value: bits.into_iter().map(f32::from_bits).collect(),
            passes: run.stats.passes,
            block_runs: run.stats.block_runs,
        })
    }

    /// Blocking [`ValuePipelines::cost_to_go_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn cost_to_go(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
    ) -> Result<GpuValue, GpuError> {
        util::block_on(self.cost_to_go_async(device, queue, gp))
    }

    /// `V` as a plan leaves it (stopped at the start where
    /// [`ValuePipelines::stop_at_start`] is on), read back: for tests of the stop.
    #[doc(hidden)]
    #[cfg(not(target_arch = "wasm32"))]
    pub fn value_as_planned(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
    ) -> Result<GpuValue, GpuError> {
        util::block_on(self.value_read_back(device, queue, gp, true))
    }

    /// Plans on a problem resident on the GPU: the cost-to-go, then the path down it
    /// (`value.wgsl`'s `descend`, the rule of `field_value::descend`) and the number of
    /// voxels with a finite `V`, read back together (a word a voxel of the path's room, at
    /// most 64 KiB; not the field). A
    /// path longer than the GPU's room for it is descended on the host from `V` read back.
    pub async fn plan_resident_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
    ) -> Result<PathPlan, GpuError> {
        self.plan_resident_timed_async(device, queue, gp, p, None)
            .await
    }

    /// [`ValuePipelines::plan_resident_async`], timing the passes (`value passes`) and the
    /// descent (`descent`) on `timer` when given (read it after this returns).
    pub async fn plan_resident_timed_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
        timer: Option<&mut GpuTimer>,
    ) -> Result<PathPlan, GpuError> {
        Ok(self
            .plan_resident_stats_async(device, queue, gp, p, timer)
            .await?
            .0)
    }

    /// [`ValuePipelines::plan_resident_timed_async`], with what the passes took.
    pub async fn plan_resident_stats_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
        timer: Option<&mut GpuTimer>,
    ) -> Result<(PathPlan, PassStats), GpuError> {
        let g = gp.grid;
        let run = self
            .iterate(device, queue, gp, Descent::Path, timer)
            .await?;
        let (expanded, head) = run.descent.unwrap_or_default();
        let len = head.first().map_or(0, |h| (h & 0x7fff_ffff) as usize);
        let cut = head.first().is_some_and(|h| h >> 31 != 0);
        let room = self.path_room(&g);
        // A path the GPU wrote with a voxel off the grid (a kernel's defect) is descended
        // on the host too, or refused, never indexed.
        let off_grid = head.len() <= len || head[1..=len].iter().any(|&i| i as usize >= g.len());
        let search_path: Vec<Voxel> = if cut || len == 0 || len > room || off_grid {
            if !self.host_descent {
                self.pool.give([run.value]);
                return Err(GpuError::TooLarge(format!(
                    "the GPU's descent came back cut short, empty or off the grid ({len} \
                     voxels, room for {room}) and the host's descent is off"
                )));
            }
            // Cut short (or not written): descend on the host.
            Self::descend_on_host(device, queue, &run.value, p).await?
        } else {
            head[1..=len].iter().map(|&i| g.voxel(i as usize)).collect()
        };
        self.pool.give([run.value]);
        let last = search_path.last().copied().unwrap_or(p.start);
        let stats = run.stats;
        let reached = p.target_distance[g.index(last)] <= REACH_TOLERANCE;
        let plan = PathPlan::along_voxels(search_path, reached, expanded);
        Ok((plan, stats))
    }

    /// The path down `V` (`value`, f32 bits, as a plan left it) descended on the host
    /// (`field_value::descend`), for a descent the GPU cut short at its room.
    pub(crate) async fn descend_on_host(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        value: &wgpu::Buffer,
        p: &Problem<'_>,
    ) -> Result<Vec<Voxel>, GpuError> {
        let bits: Vec<u32> = util::read(device, queue, value, p.grid.len()).await?;
        let v: Vec<f32> = bits.into_iter().map(f32::from_bits).collect();
        Ok(field_value::descend(p, &v))
    }

    /// Plans on a problem made from composed maps ([`ValuePipelines::problem_from_maps`])
    /// with nothing of the maps read back: the path the GPU descended and what the descent
    /// read at each of its voxels (`value.wgsl`'s `sample`), in the batch's one mapping: not
    /// [`SampledPath::complete`] where the descent was cut short at its room (the caller then
    /// plans with the maps on the host); `None` where nothing was written. `cost_stats`, the
    /// maps' reductions (`GpuCostMaps::stats`), come back in the same mapping, for
    /// [`SampledPath::cost_range`].
    pub(crate) async fn plan_sampled_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        cost_stats: &wgpu::Buffer,
    ) -> Result<Option<SampledPath>, GpuError> {
        let g = gp.grid;
        let room = self.path_room(&g);
        let run = self
            .iterate(device, queue, gp, Descent::Sampled(cost_stats), None)
            .await?;
        let (expanded, head) = run.descent.unwrap_or_default();
        let len = head.first().map_or(0, |h| (h & 0x7fff_ffff) as usize);
        let cut = head.first().is_some_and(|h| h >> 31 != 0);
        if len == 0 || len > room || head.len() < 1 + 3 * room {
            return Ok(None);
        }
        let indices = &head[1..=len];
        if indices.iter().any(|&i| i as usize >= g.len()) {
            return Ok(None);
        }
        let samples = &head[1 + room..1 + room + 2 * len];
        let flags = samples.chunks_exact(2).map(|w| w[1]);
        Ok(Some(SampledPath {
            voxels: indices.iter().map(|&i| g.voxel(i as usize)).collect(),
            cost: samples
                .chunks_exact(2)
                .map(|w| f32::from_bits(w[0]))
                .collect(),
            blocked: flags.clone().map(|f| f & BLOCKED != 0).collect(),
            target: flags.clone().map(|f| f & TARGET != 0).collect(),
            squared_distance: flags.map(|f| f >> D2_SHIFT).collect(),
            complete: !cut,
            value: run.value,
            expanded,
            cost_range: run.also.map(|w| {
                valuescape_core::cost::normalized_range(util::unkey(w[4]), util::unkey(w[5]))
            }),
        }))
    }

    /// Blocking [`ValuePipelines::plan_resident_stats_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn plan_resident_stats(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
    ) -> Result<(PathPlan, PassStats), GpuError> {
        util::block_on(self.plan_resident_stats_async(device, queue, gp, p, None))
    }

    /// Blocking [`ValuePipelines::plan_resident_timed_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn plan_resident_timed(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
        timer: Option<&mut GpuTimer>,
    ) -> Result<PathPlan, GpuError> {
        util::block_on(self.plan_resident_timed_async(device, queue, gp, p, timer))
    }

    /// Blocking [`ValuePipelines::plan_resident_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn plan_resident(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        p: &Problem<'_>,
    ) -> Result<PathPlan, GpuError> {
        util::block_on(self.plan_resident_async(device, queue, gp, p))
    }

    /// Plans on the GPU: uploads the problem and runs [`ValuePipelines::plan_resident_async`].
    pub async fn plan_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        p: &Problem<'_>,
    ) -> Result<PathPlan, GpuError> {
        let gp = GpuProblem::upload(device, p)?;
        self.plan_resident_async(device, queue, &gp, p).await
    }

    /// Blocking [`ValuePipelines::plan_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn plan(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        p: &Problem<'_>,
    ) -> Result<PathPlan, GpuError> {
        util::block_on(self.plan_async(device, queue, p))
    }
}
