//! Benchmark of every GPU stage against its CPU reference, on a synthetic tabletop scene.

use valuescape_core::plan::mppi::MppiConfig;

#[cfg(not(target_arch = "wasm32"))]
use crate::{GpuContext, GpuError};

/// One line of the benchmark table.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    /// Voxels per axis.
    pub size: usize,
    /// What was timed.
    pub stage: String,
    /// GPU milliseconds (median), if measured.
    pub gpu_ms: Option<f64>,
    /// How the GPU time was taken: `device` (timestamp queries) or `wall` (submit + wait).
    pub gpu_timing: &'static str,
    /// CPU reference milliseconds (median), if measured.
    pub cpu_ms: Option<f64>,
    /// Extra facts (block passes, rollouts per second).
    pub note: String,
}

/// What to benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchOptions {
    /// Grid sizes (voxels per axis).
    pub sizes: Vec<usize>,
    /// Timed repetitions after one warm-up (the median is reported).
    pub reps: usize,
    /// Largest size the CPU reference runs at (it is slow at 256^3).
    pub cpu_max_size: usize,
    /// MPPI's parameters (one round of `iterations` is timed).
    pub mppi: MppiConfig,
    /// Milliseconds of composing and planning before each size's timings, so that a GPU
    /// that idles at a low clock has raised it (0: none).
    pub warm_ms: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            sizes: vec![64, 100, 128, 256],
            reps: 3,
            cpu_max_size: 128,
            mppi: MppiConfig::default(),
            warm_ms: 0,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    Some(xs[xs.len() / 2])
}

/// Formats rows as a Markdown table.
pub fn format_table(rows: &[BenchRow]) -> String {
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
    let mut s = String::from(
        "| grid | stage | GPU ms | timing | CPU ms | CPU/GPU | note |\n|---|---|---:|---|---:|---:|---|\n",
    );
    for r in rows {
        let ratio = match (r.gpu_ms, r.cpu_ms) {
            (Some(g), Some(c)) if g > 0.0 => format!("{:.2}x", c / g),
            _ => "-".into(),
        };
        s.push_str(&format!(
            "| {n}^3 | {} | {} | {} | {} | {ratio} | {} |\n",
            r.stage,
            f(r.gpu_ms),
            r.gpu_timing,
            f(r.cpu_ms),
            r.note,
            n = r.size
        ));
    }
    s
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use valuescape_core::cost::{self, CostInput, Movable};
    use valuescape_core::field::Field;
    use valuescape_core::grid::{Grid, Voxel};
    use valuescape_core::paint::{Map, Painted};
    use valuescape_core::plan::mppi::{self, RoundState};
    use valuescape_core::plan::{field_value, value};
    use valuescape_core::{edt, gaussian};
    use valuescape_voxposer::PlannerKind;
    use valuescape_voxposer::backend::measured_path_cost;

    use super::{BenchOptions, BenchRow, median};
    use crate::util;
    use crate::{
        CostPipelines, DEFAULT_BUCKET, EdtKernel, GaussianKernel, GpuContext, GpuError, GpuProblem,
        GpuTimer, MppiPipelines, ValuePipelines, ValueVariant,
    };

    /// A tabletop scene at `n` voxels per axis: a table slab of scene collision, a wall of
    /// avoidance between the gripper and a small target box. The maps are painted (as the
    /// map programs leave them) and dense.
    pub(super) struct Scene {
        pub grid: Grid,
        pub affordance: Field,
        pub avoidance: Field,
        pub painted_affordance: Painted<f32>,
        pub painted_avoidance: Painted<f32>,
        pub collision: Vec<usize>,
        pub start: Voxel,
    }

    pub(super) fn scene(n: usize) -> Result<Scene, GpuError> {
        let grid = Grid::cubic(n).map_err(|e| GpuError::TooLarge(e.to_string()))?;
        let at = |f: f64| ((f * n as f64) as usize).min(n - 1);
        let mut painted_affordance = Painted::filled(grid, 0.0);
        let t = [at(0.8) - 1, at(0.5) - 1, at(0.3) - 1];
        painted_affordance.paint(t, t.map(|x| x + 3), 1.0);
        let mut painted_avoidance = Painted::filled(grid, 0.0);
        painted_avoidance.paint([at(0.5), at(0.2), 0], [at(0.5) + 2, at(0.8), at(0.6)], 1.0);
        let affordance = Field {
            grid,
            data: painted_affordance.to_vec(),
        };
        let avoidance = Field {
            grid,
            data: painted_avoidance.to_vec(),
        };
        let mut collision = Vec::new();
        for i in 0..n {
            for j in 0..n {
                for k in 0..2 {
                    collision.push(grid.index([i, j, k]));
                }
            }
        }
        Ok(Scene {
            grid,
            affordance,
            avoidance,
            painted_affordance,
            painted_avoidance,
            collision,
            start: [at(0.1), at(0.5), at(0.3)],
        })
    }

    /// Device time per label, each label's `reps` values (at least one run), of `f`'s
    /// passes on `timer`.
    fn device_times(
        timer: &mut GpuTimer,
        reps: usize,
        dev: &wgpu::Device,
        q: &wgpu::Queue,
        mut f: impl FnMut(&mut GpuTimer) -> Result<(), GpuError>,
    ) -> Result<Vec<(&'static str, Vec<f64>)>, GpuError> {
        let mut out: Vec<(&'static str, Vec<f64>)> = Vec::new();
        for _ in 0..reps.max(1) {
            timer.reset();
            f(timer)?;
            for (label, v) in timer.read(dev, q)? {
                match out.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, xs)) => xs.push(v),
                    None => out.push((label, vec![v])),
                }
            }
        }
        Ok(out)
    }

    fn ms(t: Instant) -> f64 {
        t.elapsed().as_secs_f64() * 1e3
    }

    fn time<T>(
        reps: usize,
        mut f: impl FnMut() -> Result<T, GpuError>,
    ) -> Result<(Option<f64>, T), GpuError> {
        let mut out = f()?; // warm-up
        let mut ts = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t = Instant::now();
            out = f()?;
            ts.push(ms(t));
        }
        Ok((median(ts), out))
    }

    pub(super) fn run(ctx: &GpuContext, opt: &BenchOptions) -> Result<Vec<BenchRow>, GpuError> {
        let (dev, q) = (&ctx.device, &ctx.queue);
        // Start-up: the default pipelines, compiled first in this process (no driver cache
        // warmed by another set of the same kernels in it; a driver's cache on disk may hold
        // them from an earlier process), each timed once on the host.
        let compiled = Instant::now();
        let costp = CostPipelines::new(dev);
        let cost_startup = ms(compiled);
        let compiled = Instant::now();
        let valuep = ValuePipelines::new(dev);
        let value_startup = ms(compiled);
        let compiled = Instant::now();
        let mppip = MppiPipelines::new(dev);
        let mppi_startup = ms(compiled);
        let costp_direct = CostPipelines::with_gaussian(dev, GaussianKernel::Direct);
        let costp_edt_search = CostPipelines::with_edt(dev, EdtKernel::Search);
        let costp_tiled = CostPipelines::with_gaussian(dev, GaussianKernel::Tiled);
        let costp_remainder =
            CostPipelines::with_gaussian_borders(dev, GaussianKernel::Direct, false);
        // Plans run to the fixed point of the whole grid, as before the stop at the start.
        let valuep_whole = {
            let mut v = ValuePipelines::new(dev);
            v.stop_at_start(false);
            v
        };
        // The descent loading the 27 voxels around each step, as near as a window comes to
        // the descent before windows (which read each step's neighbours from global memory).
        let valuep_step_window = ValuePipelines::with_variant(
            dev,
            ValueVariant {
                descent_radius: [1, 1],
                ..ValueVariant::default()
            },
        );
        // The value iteration's kernel variants (`value.wgsl`'s pipeline constants), each
        // with the same variant forced to 16 rounds over every voxel where `true`: the
        // cost of a round.
        // The value iteration's settings against the default (buckets of DEFAULT_BUCKET,
        // LOCAL_ITERS rounds, settled voxels skipped, the goal direction): (name, kernel
        // variant, bucket width, whether to time a pass of every block forced to 16 rounds,
        // the cost of a round).
        let base = ValueVariant::default();
        let rounds = |rounds| ValueVariant { rounds, ..base };
        // The default without the goal direction (work in value order), as before it.
        const UNGUIDED: &str = "value order, no goal direction (before)";
        let settings: Vec<(&str, ValueVariant, f32, bool)> = vec![
            ("default", base, DEFAULT_BUCKET, true),
            (UNGUIDED, base, DEFAULT_BUCKET, false),
            (
                "no buckets, 16 rounds (before)",
                rounds(16),
                f32::INFINITY,
                false,
            ),
            (
                "every block dispatched (before)",
                ValueVariant {
                    listed: false,
                    ..base
                },
                DEFAULT_BUCKET,
                false,
            ),
            (
                "marks of whole blocks (before)",
                ValueVariant {
                    side_marks: false,
                    ..base
                },
                DEFAULT_BUCKET,
                false,
            ),
            ("no buckets", base, f32::INFINITY, false),
            ("buckets of 2", base, 2.0, false),
            ("buckets of 4", base, 4.0, false),
            ("at most 8 rounds", rounds(8), DEFAULT_BUCKET, false),
            ("at most 16 rounds", rounds(16), DEFAULT_BUCKET, false),
            (
                "every voxel every round",
                ValueVariant {
                    skip_settled: false,
                    ..base
                },
                DEFAULT_BUCKET,
                false,
            ),
        ];
        let variants: Vec<(&str, ValuePipelines, Option<ValuePipelines>)> = settings
            .into_iter()
            .map(|(name, v, width, forced)| {
                let forced = forced.then(|| {
                    ValuePipelines::with_variant(
                        dev,
                        ValueVariant {
                            rounds: 16,
                            min_rounds: 16,
                            skip_settled: false,
                            ..base
                        },
                    )
                });
                let mut vp = ValuePipelines::with_variant(dev, v);
                vp.bucket_width(width);
                vp.goal_direction(name != UNGUIDED);
                (name, vp, forced)
            })
            .collect();
        let mut timer = GpuTimer::new(dev, q, 8);
        let mut value_timer = GpuTimer::new(dev, q, 16);
        let device_timing = if timer.is_some() { "device" } else { "wall" };
        let mut rows = Vec::new();
        let first = opt.sizes.first().copied().unwrap_or_default();
        for (what, took, note) in [
            (
                "cost map",
                cost_startup,
                "EDT, Gaussian, reductions, composition, painting",
            ),
            (
                "value iteration",
                value_startup,
                "init, target marks, flags, count, descent, and the pass kernels of 3-D plans (schedule, relax_listed) with their slots' bind groups; those of the plane and relax compile on first use",
            ),
            ("MPPI", mppi_startup, "rollouts and update"),
        ] {
            rows.push(BenchRow {
                size: first,
                stage: format!("start-up: {what} pipelines"),
                gpu_ms: Some(took),
                gpu_timing: "host",
                cpu_ms: None,
                note: format!("{note}; once per device, whatever the grid"),
            });
        }
        for &n in &opt.sizes {
            let sc = scene(n)?;
            let g = sc.grid;
            let cpu_on = n <= opt.cpu_max_size;
            let row = |stage: &str,
                       gpu_ms: Option<f64>,
                       gpu_timing: &'static str,
                       cpu_ms: Option<f64>,
                       note: String| BenchRow {
                size: n,
                stage: stage.to_string(),
                gpu_ms,
                gpu_timing,
                cpu_ms,
                note,
            };
            let movable = Movable::Gripper(sc.start);
            let coll = crate::movable_cleared_collision(&g, &sc.collision, movable);

            let compose = || {
                costp.compose_cost(
                    dev,
                    q,
                    &g,
                    (&sc.affordance.data).into(),
                    (&sc.avoidance.data).into(),
                    &coll,
                )
            };

            if opt.warm_ms > 0 {
                let t = Instant::now();
                let mut cycles = 0;
                while t.elapsed().as_millis() < u128::from(opt.warm_ms) {
                    let m = compose()?;
                    let cm = m.read_back(dev, q)?;
                    let blocked = cm.blocked(g.index(sc.start));
                    let p = cm.problem(&blocked, sc.start, false);
                    let gp = valuep.problem_from_maps(dev, q, &m, sc.start, false);
                    valuep.plan_resident(dev, q, &gp, &p)?;
                    cycles += 1;
                }
                eprintln!(
                    "{n}^3: warmed up with {cycles} cycles in {} ms",
                    ms(t) as u64
                );
            }

            // Compose: wall clock around submit + wait, then device time per stage.
            let (gpu_compose, maps) = time(opt.reps, || {
                let m = compose()?;
                util::wait(dev)?;
                Ok(m)
            })?;
            let compose_timed = |costp: &CostPipelines, t: &mut GpuTimer| {
                costp
                    .compose_cost_timed(
                        dev,
                        q,
                        &g,
                        (&sc.affordance.data).into(),
                        (&sc.avoidance.data).into(),
                        &coll,
                        Some(t),
                    )
                    .map(|_| ())
            };
            let mut stage_ms = Vec::new();
            // The same stages with the direct and the tiled Gaussian kernels, for comparison.
            let mut direct_gauss = Vec::new();
            let mut tiled_gauss = Vec::new();
            // And with a remainder per border tap, as before the taps were read in runs.
            let mut remainder_gauss = Vec::new();
            // And the EDT searching outwards from each voxel.
            let mut search_edt = Vec::new();
            if let Some(t) = timer.as_mut() {
                stage_ms = device_times(t, opt.reps, dev, q, |t| compose_timed(&costp, t))?;
                let mut stage_of =
                    |pipes: &CostPipelines, stage: &str| -> Result<Vec<f64>, GpuError> {
                        Ok(
                            device_times(t, opt.reps, dev, q, |t| compose_timed(pipes, t))?
                                .into_iter()
                                .filter(|(l, _)| *l == stage)
                                .flat_map(|(_, v)| v)
                                .collect(),
                        )
                    };
                direct_gauss = stage_of(&costp_direct, "gaussian")?;
                tiled_gauss = stage_of(&costp_tiled, "gaussian")?;
                remainder_gauss = stage_of(&costp_remainder, "gaussian")?;
                search_edt = stage_of(&costp_edt_search, "edt")?;
            }
            let (gpu_read, cm) = time(opt.reps, || maps.read_back(dev, q))?;

            // CPU reference, whole and per stage.
            let (affordance, avoidance) = (
                Map::from(sc.affordance.clone()),
                Map::from(sc.avoidance.clone()),
            );
            let input = CostInput {
                affordance: &affordance,
                avoidance: &avoidance,
                collision: &sc.collision,
                movable,
            };
            let (cpu_compose, cpu_stage) = if cpu_on {
                let (t, _) = time(opt.reps, || {
                    cost::compose(&input).map_err(|e| GpuError::TooLarge(e.to_string()))
                })?;
                let (t_edt, _) = time(opt.reps, || Ok(edt::distance(&cm.target, g.size)))?;
                let (t_obs, _) = time(opt.reps, || {
                    let kept =
                        cost::cleared_collision(&g, &sc.collision, &cm.target_distance, movable);
                    let mut o = sc.avoidance.clone();
                    for &i in &kept {
                        o.data[i] += 1.0;
                    }
                    o.data.iter_mut().for_each(|x| *x = x.clamp(0.0, 1.0));
                    Ok(o)
                })?;
                let (t_g, _) = time(opt.reps, || {
                    Ok(gaussian::voxposer(&cm.obstacle.data, g.size))
                })?;
                let (t_n, _) = time(opt.reps, || {
                    let mut c = cm.cost.data.clone();
                    let mut d = cm.target_distance.clone();
                    cost::normalize(&mut d);
                    cost::normalize(&mut c);
                    Ok(c)
                })?;
                (t, [t_edt, t_obs, t_g, t_n])
            } else {
                (None, [None; 4])
            };
            rows.push(row(
                "compose (total)",
                gpu_compose,
                "wall",
                cpu_compose,
                String::new(),
            ));
            for (i, label) in ["edt", "obstacle", "gaussian", "normalise"]
                .into_iter()
                .enumerate()
            {
                let gpu = stage_ms
                    .iter()
                    .find(|(l, _)| *l == label)
                    .and_then(|(_, xs)| median(xs.clone()));
                let note = if label == "normalise" {
                    "CPU: two min-max normalisations".to_string()
                } else {
                    String::new()
                };
                rows.push(row(
                    &format!("  {label}"),
                    gpu,
                    device_timing,
                    cpu_stage[i],
                    note,
                ));
            }
            rows.push(row(
                "  edt, a voxel an invocation",
                median(search_edt),
                device_timing,
                None,
                "each voxel searches outwards along its line in workgroup memory (the default: \
                 a line an invocation, its parabolas' lower envelope one after another)"
                    .into(),
            ));
            rows.push(row(
                "  gaussian, every tap read (before)",
                median(direct_gauss),
                device_timing,
                None,
                "one invocation per voxel, reading its 81 taps (the default: 4 outputs an invocation, each voxel read once)"
                    .into(),
            ));
            rows.push(row(
                "  gaussian, tiled kernel",
                median(tiled_gauss),
                device_timing,
                None,
                "whole lines in workgroup memory (the default reads global memory)".into(),
            ));
            rows.push(row(
                "  gaussian, a remainder per border tap (before)",
                median(remainder_gauss),
                device_timing,
                None,
                "every tap read, the taps off a line reflected through a remainder each (the direct kernel reads them in runs since; the default folds each tap position)"
                    .into(),
            ));
            rows.push(row("read back maps", gpu_read, "wall", None, String::new()));

            // The same maps as the programs leave them: painted on the device from their
            // boxes instead of uploaded (and, on the CPU, made dense first).
            let (gpu_painted, _) = time(opt.reps, || {
                let m = costp.compose_cost(
                    dev,
                    q,
                    &g,
                    (&sc.painted_affordance).into(),
                    (&sc.painted_avoidance).into(),
                    &coll,
                )?;
                util::wait(dev)?;
                Ok(m)
            })?;
            let (aff_p, avoid_p) = (
                Map::Painted(sc.painted_affordance.clone()),
                Map::Painted(sc.painted_avoidance.clone()),
            );
            let cpu_painted = if cpu_on {
                time(opt.reps, || {
                    cost::compose(&CostInput {
                        affordance: &aff_p,
                        avoidance: &avoid_p,
                        collision: &sc.collision,
                        movable,
                    })
                    .map_err(|e| GpuError::TooLarge(e.to_string()))
                })?
                .0
            } else {
                None
            };
            let paint_ms = match timer.as_mut() {
                Some(t) => device_times(t, opt.reps, dev, q, |t| {
                    costp
                        .compose_cost_timed(
                            dev,
                            q,
                            &g,
                            (&sc.painted_affordance).into(),
                            (&sc.painted_avoidance).into(),
                            &coll,
                            Some(t),
                        )
                        .map(|_| ())
                })?
                .into_iter()
                .find(|(l, _)| *l == "paint")
                .and_then(|(_, xs)| median(xs)),
                None => None,
            };
            rows.push(row(
                "compose (painted maps)",
                gpu_painted,
                "wall",
                cpu_painted,
                "two maps of one box each, painted on the device instead of uploaded".into(),
            ));
            rows.push(row(
                "  paint",
                paint_ms,
                device_timing,
                None,
                "paint.wgsl, both maps".into(),
            ));

            // Cost-to-go over the whole grid, on the resident maps.
            let blocked = cm.blocked(g.index(sc.start));
            let p = cm.problem(&blocked, sc.start, false);
            let gp = valuep.problem_from_maps(dev, q, &maps, sc.start, false);
            let (gpu_v, v) = time(opt.reps, || valuep.cost_to_go(dev, q, &gp))?;
            let cpu_v = if cpu_on {
                time(opt.reps, || Ok(field_value::cost_to_go(&p)))?.0
            } else {
                None
            };
            let vs = v.value[g.index(sc.start)];
            rows.push(row(
                "cost-to-go, V read back",
                gpu_v,
                "wall",
                cpu_v,
                format!(
                    "{} block passes, {} block runs; V(start) {vs:.3}; CPU: Dijkstra over \
                     the grid",
                    v.passes, v.block_runs
                ),
            ));
            let (gpu_plan, (gplan, gstats)) =
                time(opt.reps, || valuep.plan_resident_stats(dev, q, &gp, &p))?;
            let cpu_astar = if cpu_on {
                time(opt.reps, || Ok(value::plan(&p)))?.0
            } else {
                None
            };
            rows.push(row(
                "  CPU A* (value planner)",
                None,
                "-",
                cpu_astar,
                "reference: searches toward the start only".into(),
            ));
            rows.push(row(
                "value plan (cost-to-go + descent, path read back)",
                gpu_plan,
                "wall",
                cpu_astar,
                format!(
                    "{gstats} (stopped at the start); {} voxels on the path; CPU: A*",
                    gplan.search_path.len()
                ),
            ));
            let (gpu_whole, (wplan, wstats)) = time(opt.reps, || {
                valuep_whole.plan_resident_stats(dev, q, &gp, &p)
            })?;
            rows.push(row(
                "  value plan, to the whole grid's fixed point",
                gpu_whole,
                "wall",
                None,
                format!(
                    "{wstats}; same path: {}",
                    wplan.search_path == gplan.search_path
                ),
            ));
            // A start near the target (past the wall), where the stop saves more passes.
            let near = [
                ((0.65 * n as f64) as usize).min(n - 1),
                sc.start[1],
                sc.start[2],
            ];
            let blocked_near = cm.blocked(g.index(near));
            let p_near = cm.problem(&blocked_near, near, false);
            let gp_near = valuep.problem_from_maps(dev, q, &maps, near, false);
            let (t_near, (near_plan, near_stats)) = time(opt.reps, || {
                valuep.plan_resident_stats(dev, q, &gp_near, &p_near)
            })?;
            let cpu_near = if cpu_on {
                time(opt.reps, || Ok(value::plan(&p_near)))?.0
            } else {
                None
            };
            rows.push(row(
                "value plan, start near the target",
                t_near,
                "wall",
                cpu_near,
                format!(
                    "start {near:?}; {near_stats} (stopped at the start); {} voxels on the \
                     path; CPU: A*",
                    near_plan.search_path.len()
                ),
            ));
            let (t_near_whole, (_, near_whole)) = time(opt.reps, || {
                valuep_whole.plan_resident_stats(dev, q, &gp_near, &p_near)
            })?;
            rows.push(row(
                "  start near the target, to the whole grid's fixed point",
                t_near_whole,
                "wall",
                None,
                near_whole.to_string(),
            ));
            // Device time of the passes and of the descent, where timestamps exist.
            if let Some(vt) = value_timer.as_mut() {
                // Each labelled pass's device times over a plan of `vp`'s.
                let mut per_label = |vp: &ValuePipelines| {
                    device_times(vt, opt.reps, dev, q, |t| {
                        vp.plan_resident_timed(dev, q, &gp, &p, Some(t)).map(|_| ())
                    })
                };
                for (label, xs) in per_label(&valuep)? {
                    let note = match label {
                        "descent" => "the walk down V (one workgroup, in windows of the maps)",
                        "finite count" => "the voxels with a finite V (the plan's `expanded`)",
                        _ => "all block passes of the plan, the converged ones included",
                    };
                    rows.push(row(
                        &format!("  {label}"),
                        median(xs),
                        "device",
                        None,
                        note.into(),
                    ));
                }
                // One labelled pass of another setting's plan.
                let step_window = format!(
                    "the walk with radius 1 (the default {:?}, 3-D and plane): the 27 voxels \
                     around each step loaded, one wait on global memory a step",
                    ValueVariant::default().descent_radius
                );
                for (vp, wanted, name, note) in [
                    (
                        &valuep_whole,
                        "value passes",
                        "  value passes, to the whole grid's fixed point",
                        "all block passes, the converged ones included".to_string(),
                    ),
                    (
                        &valuep_step_window,
                        "descent",
                        "  descent, a window around each step",
                        step_window,
                    ),
                ] {
                    if let Some((_, xs)) = per_label(vp)?.into_iter().find(|(l, _)| *l == wanted) {
                        rows.push(row(name, median(xs), "device", None, note));
                    }
                }
            }
            // The kernel variants: a plan's time and work, and one pass taken apart (no
            // block runs; every block runs one round on the converged V; with `forced`,
            // every block runs 16 rounds over every voxel).
            for (name, vp, forced) in &variants {
                let (t, (pl, st)) = time(opt.reps, || vp.plan_resident_stats(dev, q, &gp, &p))?;
                let one = vp.pass_anatomy(dev, q, &gp, opt.reps)?;
                let sixteen = match forced {
                    Some(f) => f.pass_anatomy(dev, q, &gp, opt.reps)?,
                    None => None,
                };
                let anatomy = match (one, sixteen) {
                    (Some(a), s) => format!(
                        "; one pass of {} blocks: {:.3} ms with none running ({:.3} ms after \
                         a clean pass), {:.3} ms with every block one round{}",
                        a.blocks,
                        a.empty_ms,
                        a.after_clean_ms,
                        a.every_block_ms,
                        s.map_or(String::new(), |s| format!(
                            ", {:.3} ms with 16 rounds",
                            s.every_block_ms
                        ))
                    ),
                    _ => String::new(),
                };
                rows.push(row(
                    &format!("  value plan, {name}"),
                    t,
                    "wall",
                    None,
                    format!(
                        "{st}; same path: {}{anatomy}",
                        pl.search_path == gplan.search_path
                    ),
                ));
            }

            // The whole compose + plan cycle from host maps to a path on the host, without
            // reading the maps back (the map programs that make the maps are not included),
            // the buffers recycled from one cycle to the next.
            let (gpu_cycle, _) = time(opt.reps, || {
                let m = compose()?;
                let gp = valuep.problem_from_maps(dev, q, &m, sc.start, false);
                let plan = valuep.plan_resident(dev, q, &gp, &p);
                valuep.recycle([gp.flags]);
                costp.recycle(m, true);
                plan
            })?;
            let cpu_cycle = if cpu_on {
                time(opt.reps, || {
                    let cm =
                        cost::compose(&input).map_err(|e| GpuError::TooLarge(e.to_string()))?;
                    let blocked = cm.blocked(g.index(sc.start));
                    let p = cm.problem(&blocked, sc.start, false);
                    Ok(value::plan(&p))
                })?
                .0
            } else {
                None
            };
            rows.push(row(
                "compose + plan cycle",
                gpu_cycle,
                "wall",
                cpu_cycle,
                "host maps in, path out; GPU: maps stay resident, buffers recycled; CPU: compose + A*"
                    .into(),
            ));

            // A pipeline step's compose + plan through `GpuBackend`, from painted maps (as
            // the programs leave them) to the step's path and measures on the host: with
            // the maps read back (a step that keeps them: the viewer, `plan --npy`), and
            // with the maps left on the device (`compose_resident` + `plan_resident`).
            {
                use valuescape_voxposer::Backend;
                let backend = crate::GpuBackend::new(dev, q).map_err(GpuError::BadInput)?;
                let (pa, pv) = (
                    Map::Painted(sc.painted_affordance.clone()),
                    Map::Painted(sc.painted_avoidance.clone()),
                );
                let step_input = CostInput {
                    affordance: &pa,
                    avoidance: &pv,
                    collision: &sc.collision,
                    movable,
                };
                let err = GpuError::Map;
                let (read_back, kept_cost) = time(opt.reps, || {
                    let cm = backend.compose(&step_input).map_err(err)?;
                    let blocked = cm.blocked(g.index(sc.start));
                    let p = cm.problem(&blocked, sc.start, false);
                    let path = backend.plan_composed(&p, PlannerKind::Value).map_err(err)?;
                    Ok(measured_path_cost(&cm, &p, &path))
                })?;
                // The step on the device, its compose's part (the host's work up to the
                // submission: the GPU's runs on into the plan) timed apart.
                let resident_step = |compose_ms: &mut Vec<f64>| {
                    let t = Instant::now();
                    let kept = backend.compose_resident(&step_input).map_err(err)?;
                    compose_ms.push(ms(t));
                    let kept = kept.ok_or_else(|| err("no maps kept on the device".into()))?;
                    backend.plan_resident(kept, sc.start, false).map_err(err)
                };
                let mut compose_ms = Vec::new();
                let (resident, r) = time(opt.reps, || resident_step(&mut compose_ms))?;
                // What the backend keeps on the device between steps for the next.
                let kept_mib = backend.kept_bytes() as f64 / f64::from(1u32 << 20);
                // The same with every buffer made afresh, as before they were recycled.
                backend.set_recycling_off(true);
                let mut afresh_compose_ms = Vec::new();
                let afresh = time(opt.reps, || resident_step(&mut afresh_compose_ms));
                backend.set_recycling_off(false);
                let (afresh, ra) = afresh?;
                rows.push(row(
                    "step, maps read back",
                    read_back,
                    "wall",
                    None,
                    "GpuBackend: painted maps in; compose, 3 maps read back, plan".into(),
                ));
                rows.push(row(
                    "step, maps left on the device",
                    resident,
                    "wall",
                    None,
                    format!(
                        "compose_resident + plan_resident: the path and its samples read back, \
                         buffers recycled ({kept_mib:.1} MiB kept between steps, the read-backs' \
                         staging buffers included); \
                         compose_resident's host part {:.2} ms; same cost: {}",
                        median(compose_ms).unwrap_or(f64::NAN),
                        r.path_cost.to_bits() == kept_cost.to_bits()
                    ),
                ));
                rows.push(row(
                    "  step, maps left on the device, buffers made afresh",
                    afresh,
                    "wall",
                    None,
                    format!(
                        "as before buffers were recycled: a dozen grid-sized buffers made each step; \
                         compose_resident's host part {:.2} ms; same cost: {}",
                        median(afresh_compose_ms).unwrap_or(f64::NAN),
                        ra.path_cost.to_bits() == kept_cost.to_bits()
                    ),
                ));
            }

            // MPPI: one round (iterations x rollouts).
            let cfg = opt.mppi;
            let st = RoundState {
                round: 0,
                start: sc.start.map(|x| x as f32),
                start_free: true,
            };
            let gpm = GpuProblem::upload(dev, &p)?;
            // Scored at the horizon by the cost-to-go measured above, as the planner does.
            let terminal = mppi::terminal_field(&v.value);
            let tb = MppiPipelines::upload_terminal(dev, &gpm, &terminal)?;
            let nominal = vec![[0f32; 3]; cfg.horizon as usize];
            let (gpu_m, _) = time(opt.reps, || {
                let mut u = nominal.clone();
                mppip.optimise_round(dev, q, &gpm, &tb, &cfg, &st, &mut u)?;
                Ok(u)
            })?;
            let cpu_m = if cpu_on {
                time(opt.reps, || {
                    let mut u = nominal.clone();
                    mppi::optimise_round(&p, &cfg, &st, &terminal, &mut u);
                    Ok(u)
                })?
                .0
            } else {
                None
            };
            let per_s = |t: Option<f64>| {
                t.map_or("-".to_string(), |ms| {
                    format!(
                        "{:.0}",
                        (cfg.rollouts * cfg.iterations) as f64 / (ms * 1e-3)
                    )
                })
            };
            rows.push(row(
                "MPPI round",
                gpu_m,
                "wall",
                cpu_m,
                format!(
                    "K={} H={} x{} iterations; rollouts/s GPU {} CPU {}",
                    cfg.rollouts,
                    cfg.horizon,
                    cfg.iterations,
                    per_s(gpu_m),
                    per_s(cpu_m)
                ),
            ));
        }
        Ok(rows)
    }
}

/// Benchmarks every stage at each size of `opt.sizes` on `ctx`'s device against the CPU
/// reference (medians of `opt.reps` after a warm-up). GPU stage times are device times from
/// timestamp queries when the adapter supports them, else wall clock around submit + wait.
#[cfg(not(target_arch = "wasm32"))]
pub fn bench(ctx: &GpuContext, opt: &BenchOptions) -> Result<Vec<BenchRow>, GpuError> {
    native::run(ctx, opt)
}
