//! MPPI on the GPU: rollouts and the softmax-weighted update, the counterpart of
//! `valuescape_core::plan::mppi` (same noise, same scores, same update).

use bytemuck::{Pod, Zeroable};
use valuescape_core::plan::mppi::{self, MppiConfig, RoundState};
#[cfg(not(target_arch = "wasm32"))]
use valuescape_core::plan::{PathPlan, Problem};

use crate::util::{self, bind, dispatch, groups, pipeline, storage, storage_init, uniform};
use crate::value::GpuProblem;
use crate::{GpuError, shaders};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RolloutParams {
    nx: u32,
    ny: u32,
    nz: u32,
    rollouts: u32,
    start: [f32; 3],
    horizon: u32,
    round: u32,
    iteration: u32,
    seed: u32,
    substeps: u32,
    planar: u32,
    start_free: u32,
    _pad: [u32; 2],
    sigma: f32,
    smoothing: f32,
    gain: f32,
    max_step: f32,
    step_cost: f32,
    collision_w: f32,
    smooth_w: f32,
    terminal_w: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct UpdateParams {
    rollouts: u32,
    horizon: u32,
    temperature: f32,
    _pad: u32,
}

/// The compiled MPPI kernels.
#[derive(Debug)]
pub struct MppiPipelines {
    rollout: wgpu::ComputePipeline,
    update: wgpu::ComputePipeline,
}

/// Scores and perturbations of one iteration's rollouts, read back (for parity checks).
#[derive(Debug, Clone)]
pub struct RolloutBatch {
    /// Score per rollout.
    pub scores: Vec<f32>,
    /// Applied velocity minus nominal, `rollouts x horizon`, rollout-major.
    pub deltas: Vec<[f32; 3]>,
}

fn pad4(u: &[[f32; 3]]) -> Vec<[f32; 4]> {
    u.iter().map(|v| [v[0], v[1], v[2], 0.0]).collect()
}

impl MppiPipelines {
    /// Compiles the kernels.
    pub fn new(device: &wgpu::Device) -> Self {
        Self {
            rollout: pipeline(device, "mppi rollout", shaders::MPPI_ROLLOUT, "rollout"),
            update: pipeline(device, "mppi update", shaders::MPPI_UPDATE, "update"),
        }
    }

    fn rollout_params(
        gp: &GpuProblem,
        cfg: &MppiConfig,
        st: &RoundState,
        iteration: u32,
    ) -> RolloutParams {
        let [nx, ny, nz] = gp.grid.size.map(|s| s as u32);
        RolloutParams {
            nx,
            ny,
            nz,
            rollouts: cfg.rollouts,
            start: st.start,
            horizon: cfg.horizon,
            round: st.round,
            iteration,
            seed: cfg.seed,
            substeps: cfg.substeps,
            planar: gp.planar as u32,
            start_free: st.start_free as u32,
            _pad: [0; 2],
            sigma: cfg.noise_sigma,
            smoothing: cfg.noise_smoothing,
            gain: mppi::innovation_gain(cfg.noise_smoothing),
            max_step: cfg.max_step,
            step_cost: cfg.length_weight,
            collision_w: cfg.collision_weight,
            smooth_w: cfg.smooth_weight,
            terminal_w: cfg.terminal_weight,
        }
    }

    fn check(
        device: &wgpu::Device,
        cfg: &MppiConfig,
        nominal: &[[f32; 3]],
    ) -> Result<(), GpuError> {
        util::check_len("the nominal controls", cfg.horizon as usize, nominal.len())?;
        if cfg.rollouts == 0 || cfg.horizon == 0 {
            return Err(GpuError::TooLarge(
                "MPPI needs at least one rollout and one step".into(),
            ));
        }
        // The update dispatches one workgroup per step of the horizon along x.
        let most = device.limits().max_compute_workgroups_per_dimension;
        if cfg.horizon > most {
            return Err(GpuError::TooLarge(format!(
                "an MPPI horizon of {} steps; the device dispatches at most {most} a round",
                cfg.horizon
            )));
        }
        util::check_size(device, cfg.rollouts as u64 * cfg.horizon as u64 * 16)
    }

    /// Uploads the terminal field (`mppi::terminal_field`, one value per voxel of `gp`).
    pub fn upload_terminal(
        device: &wgpu::Device,
        gp: &GpuProblem,
        terminal: &[f32],
    ) -> Result<wgpu::Buffer, GpuError> {
        util::check_len("the terminal field", gp.grid.len(), terminal.len())?;
        Ok(storage_init(device, "mppi terminal", terminal))
    }

    /// The rollout kernel's bindings: parameters, the problem, the nominal and the outputs.
    #[allow(clippy::too_many_arguments)]
    fn rollout_bind_group(
        &self,
        device: &wgpu::Device,
        gp: &GpuProblem,
        terminal: &wgpu::Buffer,
        params: &wgpu::Buffer,
        nominal: &wgpu::Buffer,
        deltas: &wgpu::Buffer,
        scores: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        bind(
            device,
            &self.rollout,
            &[
                (0, params),
                (1, &gp.cost),
                (2, &gp.flags),
                (3, nominal),
                (4, deltas),
                (5, scores),
                (6, terminal),
            ],
        )
    }

    /// Runs one round's `iterations` (rollouts, then the update) on the GPU and returns the
    /// improved nominal in `nominal`: the GPU form of `mppi::optimise_round`. `terminal` is
    /// from [`MppiPipelines::upload_terminal`].
    #[allow(clippy::too_many_arguments)]
    pub async fn optimise_round_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        terminal: &wgpu::Buffer,
        cfg: &MppiConfig,
        st: &RoundState,
        nominal: &mut [[f32; 3]],
    ) -> Result<(), GpuError> {
        Self::check(device, cfg, nominal)?;
        let (k_n, h_n) = (cfg.rollouts as usize, cfg.horizon as usize);
        let nom = storage_init(device, "nominal", &pad4(nominal));
        let deltas = storage(device, "deltas", (k_n * h_n * 16) as u64);
        let scores = storage(device, "scores", (k_n * 4) as u64);
        let up = uniform(
            device,
            &UpdateParams {
                rollouts: cfg.rollouts,
                horizon: cfg.horizon,
                temperature: cfg.temperature,
                _pad: 0,
            },
        );
        let up_bg = bind(
            device,
            &self.update,
            &[(0, &up), (3, &nom), (4, &deltas), (5, &scores)],
        );
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("mppi round"),
        });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            for it in 0..cfg.iterations {
                let u = uniform(device, &Self::rollout_params(gp, cfg, st, it));
                let bg = self.rollout_bind_group(device, gp, terminal, &u, &nom, &deltas, &scores);
                dispatch(&mut pass, &self.rollout, &bg, groups(k_n, 64));
                dispatch(&mut pass, &self.update, &up_bg, (cfg.horizon, 3));
            }
        }
        queue.submit([enc.finish()]);
        let out: Vec<[f32; 4]> = util::read(device, queue, &nom, h_n).await?;
        for (u, o) in nominal.iter_mut().zip(out) {
            *u = [o[0], o[1], o[2]];
        }
        Ok(())
    }

    /// Runs only the rollouts of one iteration and reads their scores and perturbations
    /// back (what `mppi::rollout` computes per rollout).
    #[allow(clippy::too_many_arguments)]
    pub async fn rollouts_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        terminal: &wgpu::Buffer,
        cfg: &MppiConfig,
        st: &RoundState,
        iteration: u32,
        nominal: &[[f32; 3]],
    ) -> Result<RolloutBatch, GpuError> {
        Self::check(device, cfg, nominal)?;
        let (k_n, h_n) = (cfg.rollouts as usize, cfg.horizon as usize);
        let nom = storage_init(device, "nominal", &pad4(nominal));
        let deltas = storage(device, "deltas", (k_n * h_n * 16) as u64);
        let scores = storage(device, "scores", (k_n * 4) as u64);
        let u = uniform(device, &Self::rollout_params(gp, cfg, st, iteration));
        let bg = self.rollout_bind_group(device, gp, terminal, &u, &nom, &deltas, &scores);
        util::submit_one(device, queue, &self.rollout, &bg, groups(k_n, 64));
        let scores: Vec<f32> = util::read(device, queue, &scores, k_n).await?;
        let d: Vec<[f32; 4]> = util::read(device, queue, &deltas, k_n * h_n).await?;
        Ok(RolloutBatch {
            scores,
            deltas: d.into_iter().map(|v| [v[0], v[1], v[2]]).collect(),
        })
    }

    /// Blocking [`MppiPipelines::optimise_round_async`].
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(clippy::too_many_arguments)]
    pub fn optimise_round(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        terminal: &wgpu::Buffer,
        cfg: &MppiConfig,
        st: &RoundState,
        nominal: &mut [[f32; 3]],
    ) -> Result<(), GpuError> {
        util::block_on(self.optimise_round_async(device, queue, gp, terminal, cfg, st, nominal))
    }

    /// Blocking [`MppiPipelines::rollouts_async`].
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(clippy::too_many_arguments)]
    pub fn rollouts(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        gp: &GpuProblem,
        terminal: &wgpu::Buffer,
        cfg: &MppiConfig,
        st: &RoundState,
        iteration: u32,
        nominal: &[[f32; 3]],
    ) -> Result<RolloutBatch, GpuError> {
        util::block_on(
            self.rollouts_async(device, queue, gp, terminal, cfg, st, iteration, nominal),
        )
    }

    /// Plans with MPPI, the rounds optimised on the GPU and the receding-horizon loop on
    /// the host (`mppi::plan_with`, shared with the CPU planner), with the given terminal
    /// field (`mppi::terminal_field`). Blocking; native only (in the browser, drive
    /// `mppi::plan_with_async`'s steps with [`MppiPipelines::optimise_round_async`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn plan(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        p: &Problem<'_>,
        cfg: &MppiConfig,
        terminal: &[f32],
    ) -> Result<PathPlan, GpuError> {
        let gp = GpuProblem::upload(device, p)?;
        let tb = Self::upload_terminal(device, &gp, terminal)?;
        mppi::plan_with(p, cfg, terminal, |st, u| {
            self.optimise_round(device, queue, &gp, &tb, cfg, st, u)
        })
    }
}
