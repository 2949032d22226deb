//! `valuescape`: the command-line face of Valuescape's VoxPoser core.
//!
//! - `valuescape scenes [--json]` lists the preset scenes;
//! - `valuescape plan --scene <preset|file.json> [--instruction ...] [--planner value|greedy]
//!   [--grid N] [--json out.json] [--npy dir] [--program kind=file]` compiles, plans and
//!   reports;
//! - `valuescape bench [--grid N] [--runs N] [--json]` times the compose + plan cycle.
//!
//! Exit status: 0 on success, 2 on bad input (with a message naming the problem), 1 when
//! planning itself fails.

mod npy;

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use valuescape_core::scene::{Scene, presets};
use valuescape_voxposer::{
    Backend, CpuBackend, KeepMaps, MapKind, PlanError, PlanRequest, PlanResult, PlannerKind,
    RuleCompiler, plan_with,
};

#[derive(Parser)]
#[command(
    name = "valuescape",
    version,
    about = "VoxPoser value maps: compile instructions, plan, benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Planner {
    Value,
    Greedy,
    Mppi,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum BackendArg {
    Cpu,
    Gpu,
}

/// The backend a command asked for.
fn backend(b: BackendArg) -> Result<Box<dyn Backend>, Failure> {
    match b {
        BackendArg::Cpu => Ok(Box::new(CpuBackend)),
        BackendArg::Gpu => {
            let (g, adapter) = valuescape_gpu::GpuBackend::headless()
                .map_err(|e| Failure::Input(format!("--backend gpu: {e}")))?;
            eprintln!("gpu: {adapter}");
            Ok(Box::new(g))
        }
    }
}

impl From<Planner> for PlannerKind {
    fn from(p: Planner) -> Self {
        match p {
            Planner::Value => PlannerKind::Value,
            Planner::Greedy => PlannerKind::Greedy,
            Planner::Mppi => PlannerKind::Mppi,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the preset scenes and their instructions.
    Scenes {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Compile an instruction into map programs and plan waypoints.
    Plan {
        /// A preset name or a scene JSON file.
        #[arg(long)]
        scene: String,
        /// The instruction (default: the scene's first).
        #[arg(long)]
        instruction: Option<String>,
        /// Planner.
        #[arg(long, value_enum, default_value = "value")]
        planner: Planner,
        /// Voxels per axis (16..=256).
        #[arg(long, default_value_t = 100)]
        grid: usize,
        /// Write the plan as JSON to this file (`-` for stdout).
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write each step's maps as .npy files under this folder.
        #[arg(long)]
        npy: Option<PathBuf>,
        /// Replace the first step's program of a map kind: `kind=file` (repeatable).
        #[arg(long = "program", value_name = "KIND=FILE")]
        programs: Vec<String>,
        /// Where the numerics run: `cpu` (the reference) or `gpu` (wgpu compute).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendArg,
    },
    /// Time the compose + plan cycle on every preset (median of repeated runs).
    Bench {
        /// Voxels per axis.
        #[arg(long, default_value_t = 100)]
        grid: usize,
        /// Timed runs per preset after one warm-up.
        #[arg(long, default_value_t = 9)]
        runs: usize,
        /// Planner.
        #[arg(long, value_enum, default_value = "value")]
        planner: Planner,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Where the numerics run: `cpu` (the reference) or `gpu` (wgpu compute).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendArg,
    },
}

/// A failure: bad input (exit 2) or a failed plan (exit 1).
enum Failure {
    Input(String),
    Plan(PlanError),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Scenes { json } => scenes(json),
        Command::Plan {
            scene,
            instruction,
            planner,
            grid,
            json,
            npy,
            programs,
            backend: b,
        } => backend(b).and_then(|b| {
            run_plan(
                &scene,
                instruction,
                (planner.into(), grid),
                json.as_deref(),
                npy.as_deref(),
                &programs,
                b.as_ref(),
            )
        }),
        Command::Bench {
            grid,
            runs,
            planner,
            json,
            backend: b,
        } => backend(b).and_then(|b| bench(grid, runs, planner.into(), json, b.as_ref())),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Plan(e)) => {
            eprintln!("error: {e}");
            // Instruction and program errors are the user's input too.
            if matches!(
                e.stage.as_str(),
                "instruction" | "program" | "scene" | "request"
            ) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn scenes(json: bool) -> Result<(), Failure> {
    let all = presets::all();
    if json {
        let v: Vec<serde_json::Value> = all
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "title": s.title,
                    "instructions": s.instructions,
                    "entities": s.entity_names(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Failure::Input(e.to_string()))?
        );
    } else {
        for s in &all {
            println!("{:<20} {}", s.name, s.title);
            for i in &s.instructions {
                println!("{:<20}   \"{i}\"", "");
            }
        }
    }
    Ok(())
}

fn load_scene(arg: &str) -> Result<Scene, Failure> {
    if let Some(s) = presets::by_name(arg) {
        return Ok(s);
    }
    let p = Path::new(arg);
    if !p.exists() {
        return Err(Failure::Input(format!(
            "--scene {arg:?} is neither a preset nor a file; presets: {}",
            presets::names().join(", ")
        )));
    }
    let text = std::fs::read_to_string(p).map_err(|e| Failure::Input(format!("{arg}: {e}")))?;
    Scene::from_json(&text).map_err(|e| Failure::Input(format!("{arg}: {e}")))
}

fn run_plan(
    scene: &str,
    instruction: Option<String>,
    (planner, grid): (PlannerKind, usize),
    json: Option<&Path>,
    npy_dir: Option<&Path>,
    programs: &[String],
    backend: &dyn Backend,
) -> Result<(), Failure> {
    let scene = load_scene(scene)?;
    let mut overrides = Vec::new();
    for p in programs {
        let Some((kind, file)) = p.split_once('=') else {
            return Err(Failure::Input(format!(
                "--program {p:?}: expected KIND=FILE, e.g. affordance=my_affordance.py"
            )));
        };
        let Some(kind) = MapKind::from_name(kind.trim()) else {
            return Err(Failure::Input(format!(
                "--program {p:?}: unknown map kind {kind:?}; kinds: affordance, avoidance, rotation, velocity, gripper"
            )));
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| Failure::Input(format!("--program {p:?}: {file}: {e}")))?;
        overrides.push((0, kind, text));
    }
    let req = PlanRequest {
        scene,
        instruction: instruction.unwrap_or_default(),
        planner,
        grid_size: grid,
        overrides,
        keep_maps: if npy_dir.is_some() {
            KeepMaps::All
        } else {
            KeepMaps::None
        },
    };
    let result = plan_with(&req, &RuleCompiler, backend).map_err(Failure::Plan)?;
    print_plan(&result);
    if let Some(dir) = npy_dir {
        write_npy(dir, &result)
            .map_err(|e| Failure::Input(format!("--npy {}: {e}", dir.display())))?;
    }
    if let Some(path) = json {
        let text =
            serde_json::to_string_pretty(&result).map_err(|e| Failure::Input(e.to_string()))?;
        if path.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(path, text)
                .map_err(|e| Failure::Input(format!("--json {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

fn print_plan(r: &PlanResult) {
    println!("instruction: {}", r.instruction);
    println!("grid: {:?} voxels, planner: {:?}", r.grid.size, r.planner);
    for (i, s) in r.steps.iter().enumerate() {
        println!("\n== step {i}: {} (moves: {})", s.instruction, s.movable);
        for (kind, text) in &s.programs {
            println!("-- {} program\n{}", kind.name(), text.trim_end());
        }
        let last = s.waypoints.last();
        println!(
            "-- {} waypoints, target reached: {}{}",
            s.waypoints.len(),
            s.target_reached,
            last.map(|w| format!(
                ", ends at voxel {:?} = {:.3?} m after {:.2} s",
                w.voxel, w.position, w.time_s
            ))
            .unwrap_or_default()
        );
        for w in &s.warnings {
            println!("-- warning: {w}");
        }
    }
    let t = &r.timing_ms;
    println!(
        "\ntiming (ms): compile {:.2}, programs {:.2}, cost {:.2}, plan {:.2}, total {:.2}",
        t.compile, t.programs, t.cost, t.plan, t.total
    );
}

fn write_npy(dir: &Path, r: &PlanResult) -> std::io::Result<()> {
    for (i, s) in r.steps.iter().enumerate() {
        let Some(m) = &s.maps else { continue };
        let d = dir.join(format!("step{i}"));
        std::fs::create_dir_all(&d)?;
        let shape = r.grid.size.to_vec();
        // `--npy` keeps all seven maps (`KeepMaps::All`), so the composed two are here.
        let composed = [("obstacle", &m.obstacle), ("cost", &m.cost)]
            .into_iter()
            .filter_map(|(name, f)| f.as_ref().map(|f| (name, (&f.data[..]).into())));
        for (name, f) in [
            ("affordance", m.affordance.values()),
            ("avoidance", m.avoidance.values()),
            ("velocity", m.velocity.values()),
            ("gripper", m.gripper.values()),
        ]
        .into_iter()
        .chain(composed)
        {
            npy::write(&d.join(format!("{name}.npy")), &shape, &f)?;
        }
        let rot: Vec<f32> = m.rotation.values().iter().flatten().copied().collect();
        let mut rshape = shape.clone();
        rshape.push(4);
        npy::write(&d.join("rotation.npy"), &rshape, &rot)?;
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn bench(
    grid: usize,
    runs: usize,
    planner: PlannerKind,
    json: bool,
    backend: &dyn Backend,
) -> Result<(), Failure> {
    let runs = runs.max(1);
    let mut rows = Vec::new();
    for scene in presets::all() {
        let req = PlanRequest {
            scene: scene.clone(),
            instruction: String::new(),
            planner,
            grid_size: grid,
            overrides: Vec::new(),
            keep_maps: KeepMaps::None,
        };
        plan_with(&req, &RuleCompiler, backend).map_err(Failure::Plan)?; // warm-up
        let mut stages: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        // MPPI: rollouts scored per second of its plan stage.
        let mut rates = Vec::new();
        let mut steps = 1;
        for _ in 0..runs {
            let r = plan_with(&req, &RuleCompiler, backend).map_err(Failure::Plan)?;
            steps = r.steps.len().max(1);
            let n = steps as f64;
            let t = &r.timing_ms;
            let rollouts: u64 = r.steps.iter().filter_map(|s| s.rollouts).sum();
            if rollouts > 0 && t.plan > 0.0 {
                rates.push(rollouts as f64 / (t.plan / 1000.0));
            }
            stages.entry("programs").or_default().push(t.programs / n);
            stages.entry("cost").or_default().push(t.cost / n);
            stages.entry("plan").or_default().push(t.plan / n);
            stages
                .entry("cycle")
                .or_default()
                .push((t.programs + t.cost + t.plan) / n);
            stages.entry("compile").or_default().push(t.compile);
            stages.entry("total").or_default().push(t.total);
        }
        let med: BTreeMap<&str, f64> = stages.iter_mut().map(|(k, v)| (*k, median(v))).collect();
        let rate = (!rates.is_empty()).then(|| median(&mut rates));
        rows.push((scene.name.clone(), steps, med, rate));
    }
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, steps, m, rate)| {
                let mut row = serde_json::json!({"scene": n, "steps": steps, "median_ms": m});
                if let Some(r) = rate {
                    row["median_rollouts_per_s"] = serde_json::json!(r);
                }
                row
            })
            .collect();
        let out = serde_json::json!({"grid": grid, "runs": runs, "planner": planner, "backend": backend.name(), "presets": v});
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Failure::Input(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "grid {grid}^3, planner {planner:?}, backend {}, median of {runs} runs after a warm-up; per step cycle (ms):",
        backend.name()
    );
    println!(
        "{:<20} {:>5} {:>9} {:>8} {:>8} {:>8} {:>10}",
        "scene", "steps", "programs", "cost", "plan", "cycle", "plan total"
    );
    let mut cycles = Vec::new();
    let mut all_rates = Vec::new();
    for (n, steps, m, rate) in &rows {
        let g = |k: &str| m.get(k).copied().unwrap_or(0.0);
        cycles.push(g("cycle"));
        all_rates.extend(*rate);
        let rate = rate.map_or(String::new(), |r| format!(" {r:>12.0} rollouts/s"));
        println!(
            "{:<20} {:>5} {:>9.2} {:>8.2} {:>8.2} {:>8.2} {:>10.2}{rate}",
            n,
            steps,
            g("programs"),
            g("cost"),
            g("plan"),
            g("cycle"),
            g("total")
        );
    }
    println!("median cycle over presets: {:.2} ms", median(&mut cycles));
    if !all_rates.is_empty() {
        println!(
            "median MPPI rollouts per second of plan stage over presets: {:.0}",
            median(&mut all_rates)
        );
    }
    Ok(())
}
