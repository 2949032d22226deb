//! The cost-to-go over the voxel graph by value iteration on the GPU, and the path down it:
//! the counterpart of `valuescape_core::plan::field_value`.
//!
//! `shaders/value.wgsl` relaxes 8x8x8 blocks in workgroup memory, one pass at a time, and
//! runs a block only where it or a neighbour block changed in the pass before; a pass in
//! which no block changed proves the fixed point (the CPU Dijkstra's values, up to f32
//! rounding: a driver may fuse the sums into FMAs). Passes take the blocks in the 8 sweep
//! orders in turn, so that where blocks run one after another values cross more than one
//! block per pass.
//! The host submits passes in batches and reads back one counter per pass; a plan adds the
//! descent down `V` to each batch and reads back the path with the counters, never `V`.

use bytemuck::{Pod, Zeroable};
use valuescape_core::grid::{Grid, Voxel};
use valuescape_core::plan::{PathPlan, Problem, REACH_TOLERANCE, STEP_COST, field_value};

use crate::cost::GpuCostMaps;
use crate::util::{self, bind, dispatch, groups, pipeline, storage, storage_init, uniform};
use crate::{GpuError, GpuTimer, shaders};

const TARGET: u32 = 1;
const BLOCKED: u32 = 2;
/// Block edge of the tiled relaxation (`value.wgsl`'s `B`).
const BLOCK: usize = 8;
/// Most passes recorded between two convergence checks (one counter slot each).
const MAX_BATCH: usize = 64;
/// The counter slot `count_finite` adds to.
const COUNT_SLOT: usize = MAX_BATCH;
/// The counter slot every block that runs adds 1 to (`value.wgsl`'s `RUNS_SLOT`).
const RUNS_SLOT: usize = MAX_BATCH + 1;
/// Counters per batch: one per pass, the count's and the runs'.
const COUNTERS: usize = RUNS_SLOT + 1;
/// In-block relaxation rounds per pass by default (`value.wgsl`'s `LOCAL_ITERS`).
pub(crate) const LOCAL_ITERS: u32 = 16;
/// Most voxels of a path the GPU descends; a longer one is descended on the host.
const MAX_PATH: usize = 16_384;

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
    /// `u32` per voxel: 1 = target, 2 = blocked.
    pub flags: wgpu::Buffer,
    /// Where the moving entity starts.
    pub start: Voxel,
    /// Move in the horizontal plane only.
    pub planar: bool,
}

impl GpuProblem {
    /// Uploads a CPU problem (its cost, target and blocked masks).
    pub fn upload(device: &wgpu::Device, p: &Problem<'_>) -> Result<GpuProblem, GpuError> {
        let n = p.grid.len();
        util::check_size(device, n as u64 * 4)?;
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
        })
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

/// The compiled value-iteration kernels.
#[derive(Debug)]
pub struct ValuePipelines {
    init: wgpu::ComputePipeline,
    flags: wgpu::ComputePipeline,
    /// `relax` in 3-D and in the plane (`PLANAR`).
    relax: [wgpu::ComputePipeline; 2],
    count: wgpu::ComputePipeline,
    descend: wgpu::ComputePipeline,
    /// Room for the path the GPU descends (`MAX_PATH`; smaller in tests).
    max_path: usize,
    /// Most passes in one submission (1..=MAX_BATCH).
    batch_cap: usize,
    /// Each `relax` pipeline's group 1 for each counter slot of a batch, made once.
    pass_groups: [Vec<wgpu::BindGroup>; 2],
    /// `count_finite`'s group 1 (slot `COUNT_SLOT`).
    count_group: wgpu::BindGroup,
}

/// The buffers of one run of value iteration.
struct Run {
    value: wgpu::Buffer,
    /// Block passes run, including the one that changed nothing.
    passes: u32,
    /// Blocks that ran, summed over the passes.
    block_runs: u64,
    /// With the descent: the voxels with a finite `V`, and `path[]` as `descend` wrote it.
    descent: Option<(usize, Vec<u32>)>,
}

impl ValuePipelines {
    /// Compiles the kernels.
    pub fn new(device: &wgpu::Device) -> Self {
        Self::with_local_iters(device, LOCAL_ITERS)
    }

    /// Compiles the kernels with at most `rounds` in-block relaxation rounds per pass
    /// (`value.wgsl`'s `LOCAL_ITERS`; at least 1). The fixed point is the same for any.
    pub fn with_local_iters(device: &wgpu::Device, rounds: u32) -> Self {
        let tuned = |label, entry, constants: &[(&str, f64)]| {
            util::pipeline_tuned(device, label, shaders::VALUE, entry, constants)
        };
        let rounds = rounds.max(1) as f64;
        let relax = [false, true].map(|planar| {
            tuned(
                "value relax",
                "relax",
                &[("LOCAL_ITERS", rounds), ("PLANAR", planar as u8 as f64)],
            )
        });
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
        let pass_group = |pipeline: &wgpu::ComputePipeline, slot: usize| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("value pass"),
                layout: &pipeline.get_bind_group_layout(1),
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: slot_params[slot].as_entire_binding(),
                }],
            })
        };
        let pass_groups = [0, 1].map(|k| {
            (0..MAX_BATCH)
                .map(|slot| pass_group(&relax[k], slot))
                .collect()
        });
        let count_group = pass_group(&count, COUNT_SLOT);
        Self {
            init: pipeline(device, "value init", shaders::VALUE, "init"),
            flags: pipeline(device, "value flags", shaders::VALUE, "flags_from_maps"),
            relax,
            count,
            descend: tuned("value descend", "descend", &[]),
            max_path: MAX_PATH,
            batch_cap: MAX_BATCH,
            pass_groups,
            count_group,
        }
    }

    /// Submits at most `passes` block passes at a time (1 to 64; 64 by default), reading the
    /// counts back between submissions. A renderer sharing the device uses a small cap, so
    /// that no single submission of the plan holds the GPU for long and frames are drawn
    /// between them; the result is the same.
    pub fn limit_batch(&mut self, passes: usize) {
        self.batch_cap = passes.clamp(1, MAX_BATCH);
    }

    /// Lets the GPU descend paths of at most `voxels` voxels (at least 1); a longer one is
    /// descended on the host from `V` read back. For tests of that fallback.
    #[doc(hidden)]
    pub fn limit_gpu_path(&mut self, voxels: usize) {
        self.max_path = voxels.clamp(1, MAX_PATH);
    }

    fn blocks(grid: &Grid) -> [usize; 3] {
        grid.size.map(|s| s.div_ceil(BLOCK))
    }

    fn params(&self, grid: &Grid, start: Voxel, planar: bool) -> ValueParams {
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
            max_path: self.max_path as u32,
            bx,
            by,
            bz,
            nblocks: bx * by * bz,
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
        let flags = storage(device, "flags", n as u64 * 4);
        let u = uniform(device, &self.params(&maps.grid, start, planar));
        let bg = bind(
            device,
            &self.flags,
            &[
                (0, &u),
                (5, &maps.obstacle),
                (6, &maps.squared_distance),
                (7, &flags),
            ],
        );
        util::submit_one(device, queue, &self.flags, &bg, groups(n, 64));
        GpuProblem {
            grid: maps.grid,
            cost: maps.cost.clone(),
            flags,
            start,
            planar,
        }
    }

    /// Value iteration to the fixed point: batches of block passes (`value.wgsl`'s
    /// `relax`), each pass counting the blocks it changed; the counts are read back after
    /// each batch, and the first pass that changed nothing ends it. The first batch is about
    /// twice the blocks along the longest axis (a pass carries values across at least one
    /// block, and a converged pass costs little: every block reads 27 flags and returns),
    /// later ones the batch cap (`MAX_BATCH` unless [`ValuePipelines::limit_batch`] lowered
    /// it). Leaves `V` on the GPU (f32 bits).
    ///
    /// With `descend`, every batch ends with `count_finite` and `descend`, read back with
    /// the counts in the same mapping: a plan that converges in the first batch (the usual
    /// case) costs one trip to the host.
    async fn iterate(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        descend: bool,
        mut timer: Option<&mut GpuTimer>,
    ) -> Result<Run, GpuError> {
        let g = gp.grid;
        let n = g.len();
        util::check_size(device, n as u64 * 4)?;
        let base = self.params(&g, gp.start, gp.planar);
        let [bx, by, bz] = Self::blocks(&g).map(|b| b as u32);
        let nblocks = base.nblocks as usize;
        let value = storage(device, "value", n as u64 * 4);
        let counters = storage(device, "pass counters", COUNTERS as u64 * 4);
        let changed = storage(device, "block changed", 2 * nblocks as u64 * 4);
        // The passes before the batch (written before each submission).
        let batch_done = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("passes done"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let room = self.max_path + 1;
        let path = storage(device, "path", room as u64 * 4);
        let params = uniform(device, &base);
        let planar = gp.planar as usize;
        let relax = bind(
            device,
            &self.relax[planar],
            &[
                (0, &params),
                (1, &gp.cost),
                (2, &gp.flags),
                (3, &value),
                (4, &counters),
                (8, &changed),
                (9, &batch_done),
            ],
        );
        let init_bg = bind(
            device,
            &self.init,
            &[(0, &params), (2, &gp.flags), (3, &value), (8, &changed)],
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
        util::submit_one(
            device,
            queue,
            &self.init,
            &init_bg,
            groups(n.max(2 * nblocks), 64),
        );

        // Bellman-Ford needs at most n - 1 relaxations of every voxel; each pass relaxes
        // every block that could change at least once.
        let limit = n.max(2) as u32;
        let mut done = 0u32;
        let mut block_runs = 0u64;
        let mut batch = (2 * bx.max(by).max(bz) as usize + 4).min(self.batch_cap);
        loop {
            queue.write_buffer(&batch_done, 0, bytemuck::bytes_of(&[done, 0, 0, 0]));
            let mut enc =
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            enc.clear_buffer(&counters, 0, None);
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("value passes"),
                    timestamp_writes: timer.as_deref_mut().and_then(|t| t.writes("value passes")),
                });
                pass.set_pipeline(&self.relax[planar]);
                pass.set_bind_group(0, &relax, &[]);
                for pg in &self.pass_groups[planar][..batch] {
                    pass.set_bind_group(1, pg, &[]);
                    // Workgroup x (fastest in dispatch order) is the block's z.
                    pass.dispatch_workgroups(bz, by, bx);
                }
            }
            if descend {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("descent"),
                    timestamp_writes: timer.as_deref_mut().and_then(|t| t.writes("descent")),
                });
                pass.set_pipeline(&self.count);
                pass.set_bind_group(0, &count_bg, &[]);
                pass.set_bind_group(1, &self.count_group, &[]);
                let (x, y) = groups(n, 64);
                pass.dispatch_workgroups(x, y, 1);
                dispatch(&mut pass, &self.descend, &descend_bg, (1, 1));
            }
            if let Some(t) = timer.as_deref() {
                t.resolve(&mut enc);
            }
            queue.submit([enc.finish()]);
            let (counts, descent) = if descend {
                let parts = util::read_many(
                    device,
                    queue,
                    &[(&counters, COUNTERS as u64 * 4), (&path, room as u64 * 4)],
                )
                .await?;
                let mut parts = parts.into_iter();
                let counts = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                (counts, Some(path))
            } else {
                (util::read(device, queue, &counters, COUNTERS).await?, None)
            };
            if counts.len() < COUNTERS || descent.as_ref().is_some_and(|p| p.len() < room) {
                return Err(GpuError::Map("a read-back came back short".into()));
            }
            let descent = descent.map(|path| (counts[COUNT_SLOT] as usize, path));
            block_runs += u64::from(counts[RUNS_SLOT]);
            if let Some(first_clean) = counts[..batch].iter().position(|&c| c == 0) {
                return Ok(Run {
                    value,
                    passes: done + first_clean as u32 + 1,
                    block_runs,
                    descent,
                });
            }
            done += batch as u32;
            if done >= limit {
                return Err(GpuError::NotConverged { passes: done });
            }
            batch = self.batch_cap;
        }
    }

    /// The cost-to-go of every voxel (see `valuescape_core::plan::field_value::cost_to_go`),
    /// read back.
    pub async fn cost_to_go_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
    ) -> Result<GpuValue, GpuError> {
        let n = gp.grid.len();
        let run = self.iterate(device, queue, gp, false, None).await?;
        let bits: Vec<u32> = util::read(device, queue, &run.value, n).await?;
        Ok(GpuValue {
            value: bits.into_iter().map(f32::from_bits).collect(),
            passes: run.passes,
            block_runs: run.block_runs,
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

    /// Plans on a problem resident on the GPU: the cost-to-go, then the path down it
    /// (`value.wgsl`'s `descend`, the rule of `field_value::descend`) and the number of
    /// voxels with a finite `V`, read back together (a few kilobytes, not the field). A
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
        let g = gp.grid;
        let n = g.len();
        let run = self.iterate(device, queue, gp, true, timer).await?;
        let (expanded, head) = run.descent.unwrap_or_default();
        let len = head.first().map_or(0, |h| (h & 0x7fff_ffff) as usize);
        let cut = head.first().is_some_and(|h| h >> 31 != 0);
        let search_path: Vec<Voxel> = if cut || len == 0 || len > self.max_path {
            // Cut short (or not written): descend on the host.
            let bits: Vec<u32> = util::read(device, queue, &run.value, n).await?;
            let v: Vec<f32> = bits.into_iter().map(f32::from_bits).collect();
            field_value::descend(p, &v)
        } else {
            head[1..=len].iter().map(|&i| g.voxel(i as usize)).collect()
        };
        let last = search_path.last().copied().unwrap_or(p.start);
        Ok(PathPlan {
            points: search_path.iter().map(|v| v.map(|x| x as f64)).collect(),
            reached: p.target_distance[g.index(last)] <= REACH_TOLERANCE,
            expanded,
            search_path,
        })
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
