//! The cost-to-go over the voxel graph by value iteration on the GPU: the counterpart of
//! `valuescape_core::plan::field_value`.

use bytemuck::{Pod, Zeroable};
use valuescape_core::grid::{Grid, Voxel};
use valuescape_core::plan::{PathPlan, Problem, REACH_TOLERANCE, STEP_COST, field_value};

use crate::cost::GpuCostMaps;
use crate::util::{self, bind, dispatch, groups, pipeline, storage, storage_init, uniform};
use crate::{GpuError, shaders};

const TARGET: u32 = 1;
const BLOCKED: u32 = 2;
/// Sweep directions of one round: +-z, +-y, +-x (axis, reversed).
const ROUND: [(u32, u32); 6] = [(2, 0), (2, 1), (1, 0), (1, 1), (0, 0), (0, 1)];
/// Most rounds recorded between two convergence checks.
const MAX_BATCH_ROUNDS: usize = 8;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ValueParams {
    nx: u32,
    ny: u32,
    nz: u32,
    axis: u32,
    dir: u32,
    planar: u32,
    slot: u32,
    start: u32,
    count: u32,
    step_cost: f32,
    _pad: [u32; 2],
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
        let flags: Vec<u32> = p
            .target
            .iter()
            .zip(p.blocked)
            .map(|(&t, &b)| if t { TARGET } else { 0 } | if b { BLOCKED } else { 0 })
            .collect();
        Ok(GpuProblem {
            grid: p.grid,
            cost: storage_init(device, "cost", p.cost),
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
    /// Directional sweeps run (including the final one that proved the fixed point).
    pub sweeps: u32,
}

/// The compiled value-iteration kernels.
#[derive(Debug)]
pub struct ValuePipelines {
    init: wgpu::ComputePipeline,
    flags: wgpu::ComputePipeline,
    sweep: wgpu::ComputePipeline,
}

impl ValuePipelines {
    /// Compiles the kernels.
    pub fn new(device: &wgpu::Device) -> Self {
        Self {
            init: pipeline(device, "value init", shaders::VALUE, "init"),
            flags: pipeline(device, "value flags", shaders::VALUE, "flags_from_maps"),
            sweep: pipeline(device, "value sweep", shaders::VALUE, "sweep"),
        }
    }

    fn params(grid: &Grid, start: Voxel, planar: bool) -> ValueParams {
        let [nx, ny, nz] = grid.size.map(|s| s as u32);
        ValueParams {
            nx,
            ny,
            nz,
            axis: 0,
            dir: 0,
            planar: planar as u32,
            slot: 0,
            start: grid.index(start) as u32,
            count: nx * ny * nz,
            step_cost: STEP_COST,
            _pad: [0; 2],
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
        let u = uniform(device, &Self::params(&maps.grid, start, planar));
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

    /// Value iteration to the fixed point: rounds of six directional line sweeps, the
    /// changed flags read back after 1, 2, 4, then every 8 rounds; it stops at the first
    /// sweep that changed nothing. Leaves `V` on the GPU in `value` (f32 bits).
    async fn iterate(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        value: &wgpu::Buffer,
    ) -> Result<u32, GpuError> {
        let g = gp.grid;
        let n = g.len();
        let [nx, ny, nz] = g.size;
        let base = Self::params(&g, gp.start, gp.planar);
        let changed = storage(device, "changed", (6 * MAX_BATCH_ROUNDS * 4) as u64);
        // One parameter buffer and bind group per sweep slot of a batch.
        let mut sweeps = Vec::with_capacity(6 * MAX_BATCH_ROUNDS);
        for slot in 0..6 * MAX_BATCH_ROUNDS {
            let (axis, dir) = ROUND[slot % 6];
            let lines = match axis {
                2 => nx * ny,
                1 => nx * nz,
                _ => ny * nz,
            };
            let u = uniform(
                device,
                &ValueParams {
                    axis,
                    dir,
                    slot: slot as u32,
                    count: lines as u32,
                    ..base
                },
            );
            let bg = bind(
                device,
                &self.sweep,
                &[
                    (0, &u),
                    (1, &gp.cost),
                    (2, &gp.flags),
                    (3, value),
                    (4, &changed),
                ],
            );
            sweeps.push((bg, groups(lines, 64)));
        }
        let init_u = uniform(device, &base);
        let init_bg = bind(
            device,
            &self.init,
            &[(0, &init_u), (2, &gp.flags), (3, value)],
        );
        util::submit_one(device, queue, &self.init, &init_bg, groups(n, 64));

        // Bellman-Ford needs at most n - 1 relaxations of every voxel.
        let limit = n.max(6) as u32;
        let mut done = 0u32;
        let mut rounds = 1usize;
        loop {
            let count = 6 * rounds;
            let mut enc =
                device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            enc.clear_buffer(&changed, 0, None);
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                for (bg, gr) in &sweeps[..count] {
                    dispatch(&mut pass, &self.sweep, bg, *gr);
                }
            }
            queue.submit([enc.finish()]);
            let flags: Vec<u32> = util::read(device, queue, &changed, count).await?;
            if let Some(first_clean) = flags.iter().position(|&f| f == 0) {
                return Ok(done + first_clean as u32 + 1);
            }
            done += count as u32;
            if done >= limit {
                return Err(GpuError::NotConverged { sweeps: done });
            }
            rounds = (rounds * 2).min(MAX_BATCH_ROUNDS);
        }
    }

    /// The cost-to-go of every voxel (see `valuescape_core::plan::field_value::cost_to_go`).
    pub async fn cost_to_go_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
    ) -> Result<GpuValue, GpuError> {
        let n = gp.grid.len();
        let value = storage(device, "value", n as u64 * 4);
        let sweeps = self.iterate(device, queue, gp, &value).await?;
        let bits: Vec<u32> = util::read(device, queue, &value, n).await?;
        Ok(GpuValue {
            value: bits.into_iter().map(f32::from_bits).collect(),
            sweeps,
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

    /// Plans on the GPU: uploads the problem, computes the cost-to-go and follows it
    /// downhill from the start on the CPU (`field_value::descend`).
    pub async fn plan_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        p: &Problem<'_>,
    ) -> Result<PathPlan, GpuError> {
        let gp = GpuProblem::upload(device, p)?;
        let v = self.cost_to_go_async(device, queue, &gp).await?;
        let search_path = field_value::descend(p, &v.value);
        let last = search_path.last().copied().unwrap_or(p.start);
        Ok(PathPlan {
            points: search_path.iter().map(|v| v.map(|x| x as f64)).collect(),
            reached: p.target_distance[p.grid.index(last)] <= REACH_TOLERANCE,
            expanded: v.value.iter().filter(|x| x.is_finite()).count(),
            search_path,
        })
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
