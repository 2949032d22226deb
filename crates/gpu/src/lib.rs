//! # valuescape-gpu
//!
//! wgpu compute pipelines for Valuescape's numerics, each the GPU counterpart of a CPU
//! reference in `valuescape-core` and tested against it:
//!
//! - [`CostPipelines`]: VoxPoser's cost map on the GPU ([`CostPipelines::compose_cost`]),
//!   from dense maps or from the boxes a map program painted ([`MapInput`], painted on the
//!   device by `paint.wgsl`, [`CostPipelines::paint`]): the exact EDT (three separable lower-envelope passes, integer-exact), the 81-tap separable
//!   Gaussian with reflected borders, min-max reductions and the normalisations; plus the
//!   single stages on their own ([`CostPipelines::squared_distance`],
//!   [`CostPipelines::gaussian`], [`CostPipelines::normalize`]).
//! - [`ValuePipelines`]: the cost-to-go over the voxel graph by block-tiled value iteration
//!   (8x8x8 blocks relaxed in workgroup memory, only where a neighbour block changed, the
//!   passes in the 8 sweep orders in turn), and the path down it, descended on the GPU so
//!   that only the path is read back.
//! - [`MppiPipelines`]: MPPI with thousands of rollouts in parallel and the softmax-weighted
//!   update on the GPU, with the same deterministic noise as `valuescape_core::plan::mppi`.
//! - [`GpuBackend`]: all of it behind `valuescape-voxposer`'s `Backend` (blocking, native)
//!   and `AsyncBackend` (the browser) traits, on any device; it gives each step's grid-sized
//!   buffers back to the pipelines' pools ([`CostPipelines::recycle`]), so that a drag's
//!   steps do not allocate them again.
//! - [`GpuTimer`] and [`bench()`]: per-stage device timing (timestamp queries when the adapter
//!   has them, wall clock otherwise) against the CPU reference.
//!
//! Pipelines take `&wgpu::Device` and `&wgpu::Queue`, so the Bevy viewer can pass its own;
//! [`GpuContext::headless`] makes a device for tools and tests (any adapter, Mesa's lavapipe
//! included). The shaders live in `shaders/` at the repository root, one file per kernel
//! ([`shaders`]). Everything that reads results back has an `async` form for the browser
//! (WebGPU) and a blocking form on native targets.

mod backend;
mod bench_impl;
mod cost;
mod mppi;
mod timer;
mod util;
mod value;

pub use backend::{ComposedMap, GpuBackend};
#[cfg(not(target_arch = "wasm32"))]
pub use bench_impl::bench;
pub use bench_impl::{BenchOptions, BenchRow, format_table};
pub use cost::{
    CostPipelines, EdtKernel, GaussianKernel, GpuCostMaps, MapInput, movable_cleared_collision,
};
pub use mppi::{MppiPipelines, RolloutBatch};
pub use timer::GpuTimer;
pub use value::{
    DEFAULT_BUCKET, GpuProblem, GpuValue, PassAnatomy, PassStats, ValuePipelines, ValueVariant,
};

/// The WGSL sources, one file per kernel, as compiled into the crate.
pub mod shaders {
    /// Exact squared EDT, one separable pass (lower envelope of parabolas per line).
    pub const EDT: &str = include_str!("../../../shaders/edt.wgsl");
    /// Separable Gaussian, one axis pass with reflected borders.
    pub const GAUSSIAN: &str = include_str!("../../../shaders/gaussian.wgsl");
    /// Min-max reduction with order-preserving integer atomics.
    pub const REDUCE: &str = include_str!("../../../shaders/reduce.wgsl");
    /// Element-wise steps of the cost map (seeds, clearing, obstacle, combine, normalise).
    pub const COMPOSE: &str = include_str!("../../../shaders/compose.wgsl");
    /// A map made dense from the boxes its program painted.
    pub const PAINT: &str = include_str!("../../../shaders/paint.wgsl");
    /// Block-tiled value iteration for the cost-to-go, and the path down it.
    pub const VALUE: &str = include_str!("../../../shaders/value.wgsl");
    /// MPPI rollouts.
    pub const MPPI_ROLLOUT: &str = include_str!("../../../shaders/mppi_rollout.wgsl");
    /// MPPI's softmax-weighted update.
    pub const MPPI_UPDATE: &str = include_str!("../../../shaders/mppi_update.wgsl");
    /// Every shader, with its file name.
    pub const ALL: &[(&str, &str)] = &[
        ("edt.wgsl", EDT),
        ("gaussian.wgsl", GAUSSIAN),
        ("reduce.wgsl", REDUCE),
        ("compose.wgsl", COMPOSE),
        ("paint.wgsl", PAINT),
        ("value.wgsl", VALUE),
        ("mppi_rollout.wgsl", MPPI_ROLLOUT),
        ("mppi_update.wgsl", MPPI_UPDATE),
    ];
}

/// Why a GPU operation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuError {
    /// No adapter (GPU or software rasteriser) could be found.
    NoAdapter(String),
    /// The adapter refused to make a device.
    Device(String),
    /// The affordance map marks no target voxel.
    NoTarget,
    /// An input slice has the wrong length.
    SizeMismatch {
        /// Which input.
        what: &'static str,
        /// The length the grid needs.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The problem does not fit the device's limits or the kernels' (lines up to 256 voxels).
    TooLarge(String),
    /// A buffer could not be read back.
    Map(String),
    /// Waiting for the device failed.
    Poll(String),
    /// An input the kernels cannot take (what and where).
    BadInput(String),
    /// Value iteration did not reach its fixed point within the pass budget.
    NotConverged {
        /// Block passes run.
        passes: u32,
    },
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NoAdapter(why) => write!(
                f,
                "no GPU adapter found ({why}); on Linux without a GPU install Mesa's lavapipe \
                 (packages mesa-vulkan-drivers and libvulkan1) or set WGPU_BACKEND"
            ),
            GpuError::Device(why) => write!(f, "the GPU adapter refused to create a device: {why}"),
            GpuError::NoTarget => f.write_str(
                "the affordance map marks no target voxel (no voxel equals 1): nothing to move towards",
            ),
            GpuError::SizeMismatch { what, expected, got } => {
                write!(f, "{what} has {got} values; the grid needs {expected}")
            }
            GpuError::TooLarge(why) => write!(f, "too large for the GPU kernels: {why}"),
            GpuError::Map(why) => write!(f, "reading a GPU buffer back failed: {why}"),
            GpuError::Poll(why) => write!(f, "waiting for the GPU failed: {why}"),
            GpuError::BadInput(why) => write!(f, "bad input for the GPU: {why}"),
            GpuError::NotConverged { passes } => {
                write!(f, "value iteration did not converge in {passes} block passes")
            }
        }
    }
}

impl std::error::Error for GpuError {}

/// A device of its own, for tools, tests and benchmarks (the viewer passes Bevy's instead).
#[derive(Debug)]
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// What the adapter is (name, backend, device type: `Cpu` for lavapipe).
    pub adapter_info: wgpu::AdapterInfo,
}

impl GpuContext {
    /// Finds any adapter (a GPU first, then a fallback such as Mesa's lavapipe) and makes a
    /// device with its limits and, where offered, timestamp queries. Honours `WGPU_BACKEND`
    /// and the other `WGPU_*` environment variables. Blocking; native targets only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn headless() -> Result<GpuContext, GpuError> {
        pollster::block_on(Self::headless_async())
    }

    /// [`GpuContext::headless`] without blocking (the form the browser needs).
    pub async fn headless_async() -> Result<GpuContext, GpuError> {
        // The primary backends (Vulkan, Metal, DX12, WebGPU) first: probing GL on a headless
        // Linux box only prints noise. GL is tried when nothing else answers.
        let env = wgpu::Backends::from_env();
        let mut tried = Vec::new();
        let mut adapter = None;
        for backends in [
            env.unwrap_or(wgpu::Backends::PRIMARY),
            env.unwrap_or(wgpu::Backends::all()),
        ] {
            if adapter.is_some() {
                break;
            }
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            desc.backends = backends;
            let instance = wgpu::Instance::new(desc);
            for fallback in [false, true] {
                match instance
                    .request_adapter(&wgpu::RequestAdapterOptions {
                        power_preference: wgpu::PowerPreference::HighPerformance,
                        force_fallback_adapter: fallback,
                        compatible_surface: None,
                    })
                    .await
                {
                    Ok(a) => {
                        adapter = Some(a);
                        break;
                    }
                    Err(e) => tried.push(format!("{backends:?} fallback={fallback}: {e}")),
                }
            }
            if adapter.is_none() {
                adapter = instance
                    .enumerate_adapters(backends)
                    .await
                    .into_iter()
                    .next();
            }
        }
        let Some(adapter) = adapter else {
            return Err(GpuError::NoAdapter(format!(
                "backends compiled in: {:?}; requests: {}",
                wgpu::Instance::enabled_backend_features(),
                tried.join("; ")
            )));
        };
        let adapter_info = adapter.get_info();
        let required_features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("valuescape-gpu"),
                required_features,
                required_limits: adapter.limits(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        Ok(GpuContext {
            device,
            queue,
            adapter_info,
        })
    }

    /// One line naming the adapter, e.g. `llvmpipe (LLVM 19.1.7, 256 bits) (Vulkan, Cpu)`.
    pub fn describe(&self) -> String {
        let i = &self.adapter_info;
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
    }
}
