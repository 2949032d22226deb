//! VoxPoser's cost map on the GPU: the counterpart of `valuescape_core::cost::compose`.

use bytemuck::{Pod, Zeroable};
use valuescape_core::cost::{self, CostMaps, Movable};
use valuescape_core::field::Field;
use valuescape_core::gaussian;
use valuescape_core::grid::{Grid, MAX_SIZE};
use valuescape_core::paint::{Map, Painted};

use crate::timer::GpuTimer;
use crate::util::{
    self, BufferPool, bind, dispatch, groups, pipeline, storage, storage_init, uniform,
};
use crate::{GpuError, shaders};

const UNREACHED: u32 = u32::MAX;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct EdtParams {
    n_lines: u32,
    len: u32,
    a: u32,
    b: u32,
    c: u32,
    stride: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GaussParams {
    len: u32,
    stride: u32,
    taps: u32,
    lines: u32,
    per: u32,
    inner: u32,
    inner_stride: u32,
    outer_stride: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PaintParams {
    nx: u32,
    ny: u32,
    nz: u32,
    n_boxes: u32,
    base: f32,
    n: u32,
    _pad: [u32; 2],
}

/// `paint.wgsl`'s `PaintBox`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuPaintBox {
    lo: [u32; 3],
    value: f32,
    hi: [u32; 3],
    _pad: u32,
}

/// A map the cost composition takes: dense values to upload, or a painting the GPU paints
/// (`paint.wgsl`), which uploads a few boxes instead of 4 bytes a voxel.
#[derive(Clone, Copy, Debug)]
pub enum MapInput<'a> {
    /// One value per voxel, C order.
    Dense(&'a [f32]),
    /// A base value and boxes.
    Painted(&'a Painted<f32>),
}

impl<'a> From<&'a [f32]> for MapInput<'a> {
    fn from(v: &'a [f32]) -> Self {
        MapInput::Dense(v)
    }
}

impl<'a> From<&'a Vec<f32>> for MapInput<'a> {
    fn from(v: &'a Vec<f32>) -> Self {
        MapInput::Dense(v)
    }
}

impl<'a> From<&'a Painted<f32>> for MapInput<'a> {
    fn from(p: &'a Painted<f32>) -> Self {
        MapInput::Painted(p)
    }
}

impl<'a> From<&'a Map<f32>> for MapInput<'a> {
    fn from(m: &'a Map<f32>) -> Self {
        match m {
            Map::Dense(_, d) => MapInput::Dense(d),
            Map::Painted(p) => MapInput::Painted(p),
        }
    }
}

impl MapInput<'_> {
    fn check(&self, what: &'static str, grid: &Grid) -> Result<(), GpuError> {
        match self {
            MapInput::Dense(d) => util::check_len(what, grid.len(), d.len()),
            MapInput::Painted(p) if p.grid.size != grid.size => Err(GpuError::BadInput(format!(
                "{what} is painted on a grid of {:?} voxels, not {:?}",
                p.grid.size, grid.size
            ))),
            MapInput::Painted(p) => match p
                .boxes
                .iter()
                .find(|b| (0..3).any(|a| b.hi[a] > grid.size[a]))
            {
                Some(b) => Err(GpuError::BadInput(format!(
                    "{what} has a box {:?}..{:?} outside the grid of {:?} voxels",
                    b.lo, b.hi, grid.size
                ))),
                None => Ok(()),
            },
        }
    }

    /// The number of target voxels of an affordance map
    /// (`valuescape_core::cost::target_count`: a painted map's without a mask of the grid).
    fn target_count(&self) -> usize {
        match self {
            MapInput::Dense(d) => d.iter().filter(|&&a| cost::is_target(a)).count(),
            MapInput::Painted(p) => cost::painted_target_count(p),
        }
    }

    /// The map in a storage buffer from `pool`: uploaded when dense, painted by `paint`
    /// into `pass` when painted (every voxel written either way).
    fn buffer(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pool: &BufferPool,
        paint: &wgpu::ComputePipeline,
        pass: &mut wgpu::ComputePass<'_>,
        label: &'static str,
    ) -> wgpu::Buffer {
        let p = match self {
            MapInput::Dense(d) => {
                let out = pool.take(device, label, d.len() as u64 * 4);
                queue.write_buffer(&out, 0, bytemuck::cast_slice(d));
                return out;
            }
            MapInput::Painted(p) => p,
        };
        let [nx, ny, nz] = p.grid.size.map(|s| s as u32);
        let n = p.grid.len();
        // Empty boxes paint nothing (on the CPU too); the rest lie within the grid
        // (`MapInput::check`), so their corners fit in u32.
        let mut boxes: Vec<GpuPaintBox> = p
            .boxes
            .iter()
            .filter(|b| (0..3).all(|a| b.lo[a] < b.hi[a]))
            .map(|b| GpuPaintBox {
                lo: b.lo.map(|x| x as u32),
                value: b.value,
                hi: b.hi.map(|x| x as u32),
                _pad: 0,
            })
            .collect();
        let n_boxes = boxes.len() as u32;
        // A binding cannot be empty.
        if boxes.is_empty() {
            boxes.push(GpuPaintBox::zeroed());
        }
        let params = uniform(
            device,
            &PaintParams {
                nx,
                ny,
                nz,
                n_boxes,
                base: p.base,
                n: n as u32,
                _pad: [0; 2],
            },
        );
        let boxes = storage_init(device, "paint boxes", &boxes);
        let out = pool.take(device, label, n as u64 * 4);
        let bg = bind(device, paint, &[(0, &params), (1, &boxes), (2, &out)]);
        dispatch(pass, paint, &bg, groups(n, 256));
        out
    }
}

/// Which kernel filters the Gaussian's lines (`gaussian.wgsl`); all three make the same
/// products and sum them in the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaussianKernel {
    /// Whole lines copied to workgroup memory, taps summed from there (`axis_pass`); kept
    /// to be measured against the default (`gpu_bench` reports both).
    Tiled,
    /// One invocation per voxel, taps read from global memory (`axis_pass_direct`); the
    /// default before [`GaussianKernel::Sliding`], kept to be measured against it.
    Direct,
    /// One invocation per 4 consecutive voxels of a line, sliding a window along it so that
    /// each voxel of the taps is read from global memory once (`axis_pass_sliding`): 84
    /// reads for 4 outputs at VoxPoser's 81 taps, against 324. The default.
    Sliding,
}

/// Which kernel runs the exact EDT's line passes (`edt.wgsl`); both give the CPU's squared
/// distances exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdtKernel {
    /// One invocation per line, running the lower envelope of its parabolas one after another
    /// (`line_pass`). The default.
    Envelope,
    /// One invocation per voxel, searching outwards along its line in workgroup memory until
    /// no nearer site can lower it (`line_pass_search`): more work, far more parallelism;
    /// kept to be measured against the default (`gpu_bench` reports both).
    Search,
}

/// Invocations of a `line_pass_search` workgroup, which holds as many whole lines as fit
/// (`edt.wgsl`'s `SEARCH_WG`).
const EDT_SEARCH_WG: u32 = 256;

/// Outputs an `axis_pass_sliding` invocation computes (`gaussian.wgsl`'s `RUN`).
const GAUSS_RUN: u32 = 4;

/// Floats of a Gaussian tile in workgroup memory (`gaussian.wgsl`'s `TILE`).
const GAUSS_TILE: u32 = 3840;
/// The fewest tiles a Gaussian pass is cut into, where the grid allows.
const GAUSS_TILES: u32 = 1024;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    n: u32,
    slot: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ComposeParams {
    n: u32,
    n_collisions: u32,
    clear_d2: u32,
    slot: u32,
    target_weight: f32,
    obstacle_weight: f32,
    inf_bits: u32,
    _pad: u32,
}

/// The compiled cost-map kernels and VoxPoser's Gaussian weights.
#[derive(Debug)]
pub struct CostPipelines {
    edt: wgpu::ComputePipeline,
    edt_kernel: EdtKernel,
    gauss: wgpu::ComputePipeline,
    gauss_kernel: GaussianKernel,
    minmax: wgpu::ComputePipeline,
    seed: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    prepare: wgpu::ComputePipeline,
    combine: wgpu::ComputePipeline,
    normalize: wgpu::ComputePipeline,
    paint: wgpu::ComputePipeline,
    /// `gaussian::kernel(VOXPOSER_SIGMA, TRUNCATE)` on the device, and its taps (81).
    weights: wgpu::Buffer,
    taps: u32,
    /// The composition's grid-sized buffers, given back by [`CostPipelines::recycle`].
    pool: BufferPool,
}

/// A composed cost map, resident on the GPU. Buffers hold one value per voxel, C order.
#[derive(Debug)]
pub struct GpuCostMaps {
    /// The grid.
    pub grid: Grid,
    /// Number of target voxels (affordance == 1; where the squared distance is 0).
    pub target_count: usize,
    /// Squared distance to the nearest target, `u32` (exact).
    pub squared_distance: wgpu::Buffer,
    /// Distance to the nearest target, `f32`.
    pub distance: wgpu::Buffer,
    /// Avoidance plus cleared collision, clipped to [0, 1], `f32`.
    pub obstacle: wgpu::Buffer,
    /// The Gaussian of the obstacle map before normalisation, `f32`.
    pub gaussian: wgpu::Buffer,
    /// The cost map, `f32`.
    pub cost: wgpu::Buffer,
    /// Reduction results, 3 `(min, max)` pairs of order-preserving keys: distance, Gaussian,
    /// raw sum.
    pub stats: wgpu::Buffer,
}

/// The scene-collision voxels left after the clearing around the moving entity (a +-10
/// voxel cube around the gripper, or within 15 voxels of the object), as `u32` flat indices:
/// the list [`CostPipelines::compose_cost`] takes. The clearing near the targets is left to the
/// GPU (it needs the target distance). Done on the CPU with `valuescape_core`'s own rule.
pub fn movable_cleared_collision(
    grid: &Grid,
    collision: &[usize],
    movable: Movable<'_>,
) -> Vec<u32> {
    cost::clear_near_movable(grid, collision, movable)
        .into_iter()
        .map(|i| i as u32)
        .collect()
}

/// The smallest integer squared distance whose `f32` square root is at least the clearing
/// radius: `d2 >= this` is exactly the CPU's `distance >= CLEAR_RADIUS`.
fn clear_threshold() -> u32 {
    (0u32..)
        .find(|&d| (d as f32).sqrt() >= cost::CLEAR_RADIUS)
        .unwrap_or(u32::MAX)
}

pub(crate) fn check_grid(device: &wgpu::Device, size: [usize; 3]) -> Result<usize, GpuError> {
    if size.iter().any(|&s| s == 0 || s > MAX_SIZE) {
        return Err(GpuError::TooLarge(format!(
            "grid {size:?}: every axis must hold 1 to {MAX_SIZE} voxels"
        )));
    }
    let n = size[0] * size[1] * size[2];
    util::check_size(device, n as u64 * 4)?;
    Ok(n)
}

/// The three line specifications of the separable passes, z then y then x.
fn edt_lines(size: [usize; 3]) -> [EdtParams; 3] {
    let [nx, ny, nz] = size.map(|s| s as u32);
    let p = |n_lines, len, a, b, c, stride| EdtParams {
        n_lines,
        len,
        a,
        b,
        c,
        stride,
        _pad: [0; 2],
    };
    [
        p(nx * ny, nz, 1, nz, 0, 1),
        p(nx * nz, ny, nz, ny * nz, 1, nz),
        p(ny * nz, nx, ny * nz, 0, 1, ny * nz),
    ]
}

fn begin<'e>(
    enc: &'e mut wgpu::CommandEncoder,
    timer: &mut Option<&mut GpuTimer>,
    label: &'static str,
) -> wgpu::ComputePass<'e> {
    let writes = timer.as_deref_mut().and_then(|t| t.writes(label));
    enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(label),
        timestamp_writes: writes,
    })
}

impl CostPipelines {
    /// Compiles the kernels, with the sliding Gaussian ([`GaussianKernel::Sliding`]). (Of
    /// the two before it, the direct kernel took 0.42 ms at 100^3 and 4.49 ms at 256^3 on an
    /// H200 against the tiled kernel's 0.56 and 5.63 ms (device time, `gpu_bench`,
    /// 2026-11-27). The sliding kernel makes the same products with a quarter of the direct
    /// kernel's reads; it has been timed on lavapipe only, see `docs/bench`.)
    pub fn new(device: &wgpu::Device) -> Self {
        Self::with_gaussian(device, GaussianKernel::Sliding)
    }

    /// Compiles the kernels with the given Gaussian kernel (all three give the same sums).
    pub fn with_gaussian(device: &wgpu::Device, kernel: GaussianKernel) -> Self {
        Self::with_gaussian_borders(device, kernel, true)
    }

    /// Compiles the kernels with the given EDT kernel (both give the same distances) and
    /// the default Gaussian.
    pub fn with_edt(device: &wgpu::Device, edt: EdtKernel) -> Self {
        Self::build(device, GaussianKernel::Sliding, true, edt)
    }

    /// [`CostPipelines::with_gaussian`], reading the taps that fall off a line through a
    /// remainder per tap where `fold` is off (`gaussian.wgsl`'s `FOLD`), as before they were
    /// read in runs: for the benchmark's comparison (the sums are the same). The direct and
    /// tiled kernels read `FOLD`; the sliding kernel folds each tap position without a
    /// remainder whatever `fold` says.
    #[doc(hidden)]
    pub fn with_gaussian_borders(
        device: &wgpu::Device,
        kernel: GaussianKernel,
        fold: bool,
    ) -> Self {
        Self::build(device, kernel, fold, EdtKernel::Envelope)
    }

    fn build(device: &wgpu::Device, kernel: GaussianKernel, fold: bool, edt: EdtKernel) -> Self {
        let edt_entry = match edt {
            EdtKernel::Envelope => "line_pass",
            EdtKernel::Search => "line_pass_search",
        };
        let entry = match kernel {
            GaussianKernel::Tiled => "axis_pass",
            GaussianKernel::Direct => "axis_pass_direct",
            GaussianKernel::Sliding => "axis_pass_sliding",
        };
        let weights = gaussian::kernel(gaussian::VOXPOSER_SIGMA, gaussian::TRUNCATE);
        Self {
            edt: pipeline(device, "edt", shaders::EDT, edt_entry),
            edt_kernel: edt,
            gauss: util::pipeline_tuned(
                device,
                "gaussian",
                shaders::GAUSSIAN,
                entry,
                &[("FOLD", fold as u8 as f64)],
            ),
            gauss_kernel: kernel,
            minmax: pipeline(device, "minmax", shaders::REDUCE, "minmax"),
            seed: pipeline(device, "seed", shaders::COMPOSE, "seed"),
            scatter: pipeline(device, "scatter", shaders::COMPOSE, "scatter"),
            prepare: pipeline(device, "prepare", shaders::COMPOSE, "prepare"),
            combine: pipeline(device, "combine", shaders::COMPOSE, "combine"),
            normalize: pipeline(device, "normalize", shaders::COMPOSE, "normalize"),
            paint: pipeline(device, "paint", shaders::PAINT, "paint"),
            weights: storage_init(device, "weights", &weights),
            taps: weights.len() as u32,
            pool: BufferPool::default(),
        }
    }

    /// Gives the buffers of `maps` back for the next compositions to reuse; the caller
    /// holds no other handle to them (to its cost map too where `cost_too`; a cost map a
    /// renderer still draws is kept out).
    pub fn recycle(&self, maps: GpuCostMaps, cost_too: bool) {
        let GpuCostMaps {
            squared_distance,
            distance,
            obstacle,
            gaussian,
            cost,
            stats,
            ..
        } = maps;
        let cost = cost_too.then_some(cost);
        self.pool.give(
            [squared_distance, distance, obstacle, gaussian, stats]
                .into_iter()
                .chain(cost),
        );
    }

    /// Makes every composition allocate its buffers afresh (`off`), as before buffers were
    /// recycled, or recycle them again: for the benchmark's comparison.
    #[doc(hidden)]
    pub fn set_recycling_off(&self, off: bool) {
        self.pool.set_off(off);
    }

    /// Frees the buffers kept for the next composition; returns their bytes.
    pub fn release_buffers(&self) -> u64 {
        self.pool.clear()
    }

    /// The bytes of the buffers kept for the next composition.
    pub fn kept_bytes(&self) -> u64 {
        self.pool.bytes()
    }

    /// Records the three EDT passes: `seeded -> out -> scratch -> out`.
    fn encode_edt(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::ComputePass<'_>,
        size: [usize; 3],
        seeded: &wgpu::Buffer,
        scratch: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) {
        let chain = [(seeded, out), (out, scratch), (scratch, out)];
        for (p, (src, dst)) in edt_lines(size).iter().zip(chain) {
            let u = uniform(device, p);
            let bg = bind(device, &self.edt, &[(0, &u), (1, src), (2, dst)]);
            let g = match self.edt_kernel {
                EdtKernel::Envelope => groups(p.n_lines as usize, 64),
                EdtKernel::Search => {
                    // Whole lines a workgroup, as many as fit.
                    let per = (EDT_SEARCH_WG / p.len.max(1)).max(1);
                    let workgroups = p.n_lines.div_ceil(per) as usize;
                    groups(workgroups * EDT_SEARCH_WG as usize, EDT_SEARCH_WG)
                }
            };
            dispatch(pass, &self.edt, &bg, g);
        }
    }

    /// Records the three Gaussian passes: `input -> out -> scratch -> out`.
    #[allow(clippy::too_many_arguments)]
    fn encode_gaussian(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::ComputePass<'_>,
        size: [usize; 3],
        weights: &wgpu::Buffer,
        taps: u32,
        input: &wgpu::Buffer,
        scratch: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) {
        let [nx, ny, nz] = size.map(|s| s as u32);
        // (len, stride, lines, inner, inner_stride, outer_stride) per axis: z lines start
        // every nz voxels; y lines at x * ny * nz + z; x lines at y * nz + z.
        let axes = [
            (nz, 1, nx * ny, nx * ny, nz, 0),
            (ny, nz, nx * nz, nz, 1, ny * nz),
            (nx, ny * nz, ny * nz, ny * nz, 1, 0),
        ];
        let chain = [(input, out), (out, scratch), (scratch, out)];
        for ((len, stride, lines, inner, inner_stride, outer_stride), (src, dst)) in
            axes.into_iter().zip(chain)
        {
            // Tiled: as many lines as fit a tile, but no fewer than GAUSS_TILES tiles (small
            // grids would leave most of a large GPU idle), one workgroup each. Direct: one
            // invocation per voxel. Sliding: one per GAUSS_RUN voxels of a line.
            let (per, invocations) = match self.gauss_kernel {
                GaussianKernel::Tiled => {
                    let per = (GAUSS_TILE / (len + 1))
                        .min(lines / GAUSS_TILES)
                        .clamp(1, lines);
                    (per, lines.div_ceil(per) as usize * 256)
                }
                GaussianKernel::Direct => (1, (lines * len) as usize),
                GaussianKernel::Sliding => (1, (lines * len.div_ceil(GAUSS_RUN)) as usize),
            };
            let u = uniform(
                device,
                &GaussParams {
                    len,
                    stride,
                    taps,
                    lines,
                    per,
                    inner,
                    inner_stride,
                    outer_stride,
                },
            );
            let bg = bind(
                device,
                &self.gauss,
                &[(0, &u), (1, src), (2, dst), (3, weights)],
            );
            dispatch(pass, &self.gauss, &bg, groups(invocations, 256));
        }
    }

    /// Records a min-max reduction of `n` values of `src` into stats slot `slot`.
    fn encode_minmax(
        &self,
        device: &wgpu::Device,
        pass: &mut wgpu::ComputePass<'_>,
        n: usize,
        src: &wgpu::Buffer,
        stats: &wgpu::Buffer,
        slot: u32,
    ) {
        let u = uniform(
            device,
            &ReduceParams {
                n: n as u32,
                slot,
                _pad: [0; 2],
            },
        );
        let bg = bind(device, &self.minmax, &[(0, &u), (1, src), (2, stats)]);
        // Each invocation folds at least 16 values (fewer workgroup barriers and atomics),
        // with up to 1024 workgroups striding over the rest.
        let wgs = n.div_ceil(256 * 16).clamp(1, 1024);
        dispatch(pass, &self.minmax, &bg, (wgs as u32, 1));
    }

    /// Composes the cost map on the GPU, with the semantics of
    /// `valuescape_core::cost::compose`: targets are the voxels whose affordance is 1;
    /// `collision_cleared` is the scene-collision list already cleared around the moving
    /// entity on the host ([`movable_cleared_collision`]); the GPU drops the entries closer
    /// than 15 voxels to a target, adds the rest to the avoidance map and clips to [0, 1];
    /// then `cost = normalize(2 normalize(EDT) + normalize(gaussian(obstacle, 10)))`.
    /// A painted affordance or avoidance map is painted on the device (its boxes uploaded,
    /// not its voxels). Submits the work and returns without waiting.
    pub fn compose_cost(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        grid: &Grid,
        affordance: MapInput<'_>,
        avoidance: MapInput<'_>,
        collision_cleared: &[u32],
    ) -> Result<GpuCostMaps, GpuError> {
        self.compose_cost_timed(
            device,
            queue,
            grid,
            affordance,
            avoidance,
            collision_cleared,
            None,
        )
    }

    /// [`CostPipelines::compose_cost`] with the stages (`edt`, `obstacle`, `gaussian`,
    /// `normalise`) timed by `timer` when given (one pass each); the caller resolves and
    /// reads the timer.
    #[allow(clippy::too_many_arguments)]
    pub fn compose_cost_timed(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        grid: &Grid,
        affordance: MapInput<'_>,
        avoidance: MapInput<'_>,
        collision_cleared: &[u32],
        mut timer: Option<&mut GpuTimer>,
    ) -> Result<GpuCostMaps, GpuError> {
        let n = check_grid(device, grid.size)?;
        affordance.check("the affordance map", grid)?;
        avoidance.check("the avoidance map", grid)?;
        let target_count = affordance.target_count();
        if target_count == 0 {
            return Err(GpuError::NoTarget);
        }
        let bytes = n as u64 * 4;
        let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("compose cost"),
        });
        let (aff, avoid) = {
            // Painted maps are painted here (dense ones are uploaded).
            let mut pass = begin(&mut enc, &mut timer, "paint");
            let pool = &self.pool;
            (
                affordance.buffer(device, queue, pool, &self.paint, &mut pass, "affordance"),
                avoidance.buffer(device, queue, pool, &self.paint, &mut pass, "avoidance"),
            )
        };
        let coll = storage_init(device, "collision", collision_cleared);
        // Every word of these is written before it is read, but `hits` (counted into) and
        // `stats` (folded into): those two start from the values set here.
        let take = |label| self.pool.take(device, label, bytes);
        let d2 = take("squared distance");
        let hits = take("hits");
        enc.clear_buffer(&hits, 0, None);
        let obstacle = take("obstacle");
        let distance = take("distance");
        let gauss = take("gaussian");
        let cost_buf = take("cost");
        let stats_init: [u32; 6] = [u32::MAX, 0, u32::MAX, 0, u32::MAX, 0];
        let stats = self.pool.take(device, "stats", 24);
        queue.write_buffer(&stats, 0, bytemuck::cast_slice(&stats_init));
        let (weights, taps) = (&self.weights, self.taps);
        let params = uniform(
            device,
            &ComposeParams {
                n: n as u32,
                n_collisions: collision_cleared.len() as u32,
                clear_d2: clear_threshold(),
                slot: 2,
                target_weight: cost::TARGET_WEIGHT,
                obstacle_weight: cost::OBSTACLE_WEIGHT,
                inf_bits: f32::INFINITY.to_bits(),
                _pad: 0,
            },
        );
        let g256 = groups(n, 256);
        {
            // EDT: seeds into `cost_buf` (scratch), passes cost_buf -> d2 -> obstacle -> d2.
            let mut pass = begin(&mut enc, &mut timer, "edt");
            let bg = bind(
                device,
                &self.seed,
                &[(0, &params), (1, &aff), (2, &cost_buf)],
            );
            dispatch(&mut pass, &self.seed, &bg, g256);
            self.encode_edt(device, &mut pass, grid.size, &cost_buf, &obstacle, &d2);
        }
        {
            let mut pass = begin(&mut enc, &mut timer, "obstacle");
            if !collision_cleared.is_empty() {
                let bg = bind(
                    device,
                    &self.scatter,
                    &[(0, &params), (2, &d2), (3, &coll), (4, &hits)],
                );
                dispatch(
                    &mut pass,
                    &self.scatter,
                    &bg,
                    groups(collision_cleared.len(), 256),
                );
            }
            let bg = bind(
                device,
                &self.prepare,
                &[
                    (0, &params),
                    (2, &d2),
                    (4, &hits),
                    (5, &avoid),
                    (6, &obstacle),
                    (7, &distance),
                ],
            );
            dispatch(&mut pass, &self.prepare, &bg, g256);
        }
        {
            // Gaussian: obstacle -> gauss -> cost_buf (scratch) -> gauss.
            let mut pass = begin(&mut enc, &mut timer, "gaussian");
            self.encode_gaussian(
                device, &mut pass, grid.size, weights, taps, &obstacle, &cost_buf, &gauss,
            );
        }
        {
            let mut pass = begin(&mut enc, &mut timer, "normalise");
            self.encode_minmax(device, &mut pass, n, &distance, &stats, 0);
            self.encode_minmax(device, &mut pass, n, &gauss, &stats, 1);
            let bg = bind(
                device,
                &self.combine,
                &[
                    (0, &params),
                    (7, &distance),
                    (8, &gauss),
                    (9, &stats),
                    (10, &cost_buf),
                ],
            );
            dispatch(&mut pass, &self.combine, &bg, g256);
            self.encode_minmax(device, &mut pass, n, &cost_buf, &stats, 2);
            let bg = bind(
                device,
                &self.normalize,
                &[(0, &params), (9, &stats), (10, &cost_buf)],
            );
            dispatch(&mut pass, &self.normalize, &bg, g256);
        }
        if let Some(t) = timer.as_deref() {
            t.resolve(&mut enc);
        }
        queue.submit([enc.finish()]);
        // The scratch goes back now: later work that takes it runs after this submission.
        self.pool.give([aff, avoid, hits]);
        Ok(GpuCostMaps {
            grid: *grid,
            target_count,
            squared_distance: d2,
            distance,
            obstacle,
            gaussian: gauss,
            cost: cost_buf,
            stats,
        })
    }

    /// Squared Euclidean distance from every voxel to the nearest seed (`f32::INFINITY`
    /// where there is none), as `valuescape_core::edt::squared_distance` computes it.
    pub async fn squared_distance_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        size: [usize; 3],
        seeds: &[bool],
    ) -> Result<Vec<f32>, GpuError> {
        let n = check_grid(device, size)?;
        util::check_len("the seed mask", n, seeds.len())?;
        let init: Vec<u32> = seeds
            .iter()
            .map(|&s| if s { 0 } else { UNREACHED })
            .collect();
        let a = storage_init(device, "edt in", &init);
        let b = storage(device, "edt scratch", n as u64 * 4);
        let out = storage(device, "edt out", n as u64 * 4);
        let mut enc =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            self.encode_edt(device, &mut pass, size, &a, &b, &out);
        }
        queue.submit([enc.finish()]);
        let d2: Vec<u32> = util::read(device, queue, &out, n).await?;
        Ok(d2
            .into_iter()
            .map(|d| {
                if d == UNREACHED {
                    f32::INFINITY
                } else {
                    d as f32
                }
            })
            .collect())
    }

    /// A painted map made dense on the GPU (`paint.wgsl`), as `Painted::to_vec` makes it.
    pub async fn paint_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        map: &Painted<f32>,
    ) -> Result<Vec<f32>, GpuError> {
        let n = check_grid(device, map.grid.size)?;
        let input = MapInput::Painted(map);
        input.check("the map", &map.grid)?;
        let mut enc =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let out = {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            // A buffer of its own (an empty pool makes one): it is read back below.
            let own = BufferPool::default();
            input.buffer(device, queue, &own, &self.paint, &mut pass, "painted")
        };
        queue.submit([enc.finish()]);
        util::read(device, queue, &out, n).await
    }

    /// The separable Gaussian of a volume with reflected borders, as
    /// `valuescape_core::gaussian::filter` computes it.
    pub async fn gaussian_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        size: [usize; 3],
        data: &[f32],
        sigma: f64,
        truncate: f64,
    ) -> Result<Vec<f32>, GpuError> {
        let n = check_grid(device, size)?;
        util::check_len("the volume", n, data.len())?;
        let w = gaussian::kernel(sigma, truncate);
        // `gaussian.wgsl`'s `reflect` shifts a tap's position by 32,768 periods (twice the
        // axis) before its unsigned remainder: radii from there on would read wrong voxels.
        let radius = w.len() / 2;
        let shortest = size.iter().copied().min().unwrap_or(0);
        if radius >= 32_768 * 2 * shortest {
            return Err(GpuError::TooLarge(format!(
                "a Gaussian of sigma {sigma} truncated at {truncate} sigmas reaches {radius} \
                 voxels; the GPU's takes radii below 65,536 times the shortest axis ({shortest})"
            )));
        }
        let weights = storage_init(device, "weights", &w);
        let input = storage_init(device, "gaussian in", data);
        let scratch = storage(device, "gaussian scratch", n as u64 * 4);
        let out = storage(device, "gaussian out", n as u64 * 4);
        let mut enc =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            self.encode_gaussian(
                device,
                &mut pass,
                size,
                &weights,
                w.len() as u32,
                &input,
                &scratch,
                &out,
            );
        }
        queue.submit([enc.finish()]);
        util::read(device, queue, &out, n).await
    }

    /// Min-max normalisation, as `valuescape_core::cost::normalize`: returns the normalised
    /// values and the `(min, max)` before normalising; a constant map is left as it is.
    pub async fn normalize_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        data: &[f32],
    ) -> Result<(Vec<f32>, (f32, f32)), GpuError> {
        let n = data.len();
        util::check_size(device, n as u64 * 4)?;
        if n == 0 {
            return Ok((Vec::new(), (f32::INFINITY, f32::NEG_INFINITY)));
        }
        let buf = storage_init(device, "normalize", data);
        let stats = storage_init(device, "stats", &[u32::MAX, 0u32]);
        let params = uniform(
            device,
            &ComposeParams {
                n: n as u32,
                n_collisions: 0,
                clear_d2: 0,
                slot: 0,
                target_weight: 0.0,
                obstacle_weight: 0.0,
                inf_bits: f32::INFINITY.to_bits(),
                _pad: 0,
            },
        );
        let mut enc =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            self.encode_minmax(device, &mut pass, n, &buf, &stats, 0);
            let bg = bind(
                device,
                &self.normalize,
                &[(0, &params), (9, &stats), (10, &buf)],
            );
            dispatch(&mut pass, &self.normalize, &bg, groups(n, 256));
        }
        queue.submit([enc.finish()]);
        let out: Vec<f32> = util::read(device, queue, &buf, n).await?;
        let s: Vec<u32> = util::read(device, queue, &stats, 2).await?;
        Ok((out, (util::unkey(s[0]), util::unkey(s[1]))))
    }

    /// Blocking [`CostPipelines::squared_distance_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn squared_distance(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        size: [usize; 3],
        seeds: &[bool],
    ) -> Result<Vec<f32>, GpuError> {
        util::block_on(self.squared_distance_async(device, queue, size, seeds))
    }

    /// Blocking [`CostPipelines::paint_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn paint(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        map: &Painted<f32>,
    ) -> Result<Vec<f32>, GpuError> {
        util::block_on(self.paint_async(device, queue, map))
    }

    /// Blocking [`CostPipelines::gaussian_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn gaussian(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        size: [usize; 3],
        data: &[f32],
        sigma: f64,
        truncate: f64,
    ) -> Result<Vec<f32>, GpuError> {
        util::block_on(self.gaussian_async(device, queue, size, data, sigma, truncate))
    }

    /// Blocking [`CostPipelines::normalize_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn normalize(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        data: &[f32],
    ) -> Result<(Vec<f32>, (f32, f32)), GpuError> {
        util::block_on(self.normalize_async(device, queue, data))
    }
}

impl GpuCostMaps {
    /// Reads the maps back into the CPU's [`CostMaps`] (the planners' input), with the
    /// lower bound derived from the GPU's reductions exactly as the CPU derives it.
    pub async fn read_back_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<CostMaps, GpuError> {
        let n = self.grid.len();
        let map = n as u64 * 4;
        // One staging buffer, one mapping.
        let parts = util::read_many(
            device,
            queue,
            &[
                (&self.distance, map),
                (&self.obstacle, map),
                (&self.cost, map),
                (&self.stats, 24),
            ],
        )
        .await?;
        let mut parts = parts.into_iter();
        let mut next = || parts.next().unwrap_or_default();
        let distance = util::f32s(next(), n);
        let obstacle = util::f32s(next(), n);
        let cost_data = util::f32s(next(), n);
        let stats = next();
        if distance.len() < n || obstacle.len() < n || cost_data.len() < n || stats.len() < 6 {
            return Err(GpuError::Map("a read-back came back short".into()));
        }
        let edt_max = util::unkey(stats[1]).max(0.0);
        let (raw_min, raw_max) = (util::unkey(stats[4]), util::unkey(stats[5]));
        let range = raw_max - raw_min;
        let lower_bound = if range > 0.0 && edt_max > 0.0 {
            let a = cost::TARGET_WEIGHT / (edt_max * range);
            (a * 0.999, raw_min / range + 1e-5)
        } else {
            (0.0, 0.0)
        };
        // The targets are the voxels at distance 0 (the EDT's seeds; any other voxel is at
        // least one voxel from them).
        Ok(CostMaps {
            target: distance.iter().map(|&d| d == 0.0).collect(),
            target_count: self.target_count,
            target_distance: distance,
            obstacle: Field {
                grid: self.grid,
                data: obstacle,
            },
            cost: Field {
                grid: self.grid,
                data: cost_data,
            },
            lower_bound,
        })
    }

    /// Blocking [`GpuCostMaps::read_back_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_back(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<CostMaps, GpuError> {
        util::block_on(self.read_back_async(device, queue))
    }

    /// Reads one `f32` map back (e.g. [`GpuCostMaps::gaussian`]).
    pub async fn read_f32_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        buffer: &wgpu::Buffer,
    ) -> Result<Vec<f32>, GpuError> {
        util::read(device, queue, buffer, self.grid.len()).await
    }

    /// Blocking [`GpuCostMaps::read_f32_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_f32(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        buffer: &wgpu::Buffer,
    ) -> Result<Vec<f32>, GpuError> {
        util::block_on(self.read_f32_async(device, queue, buffer))
    }

    /// The reductions: `[(min, max) of distance, of the Gaussian, of the raw sum]`.
    pub async fn stats_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<[(f32, f32); 3], GpuError> {
        let s: Vec<u32> = util::read(device, queue, &self.stats, 6).await?;
        Ok([0, 1, 2].map(|i| (util::unkey(s[2 * i]), util::unkey(s[2 * i + 1]))))
    }

    /// Blocking [`GpuCostMaps::stats_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn stats(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<[(f32, f32); 3], GpuError> {
        util::block_on(self.stats_async(device, queue))
    }
}
