//! Times every GPU stage against the CPU reference and prints a Markdown table.
//!
//! ```text
//! cargo run --release -p valuescape-gpu --example gpu_bench -- [--sizes 64,100,128,256]
//!     [--reps 3] [--cpu-max 128] [--rollouts 1024] [--iterations 6] [--warm-ms 0]
//! ```
//!
//! GPU stage times are device times from timestamp queries when the adapter has them,
//! otherwise wall clock around submit + wait. On a software adapter (Mesa's lavapipe) the
//! numbers only show that the pipelines run; they say nothing about GPU speed.

use valuescape_gpu::{BenchOptions, GpuContext, bench, format_table};

fn main() {
    let mut opt = BenchOptions::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let num = |s: Option<&String>, what: &str| -> usize {
        s.and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            eprintln!("{what} needs a number");
            std::process::exit(2)
        })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--sizes" => {
                opt.sizes = args
                    .get(i + 1)
                    .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                    .unwrap_or_default();
                i += 1;
            }
            "--reps" => {
                opt.reps = num(args.get(i + 1), "--reps");
                i += 1;
            }
            "--cpu-max" => {
                opt.cpu_max_size = num(args.get(i + 1), "--cpu-max");
                i += 1;
            }
            "--rollouts" => {
                opt.mppi.rollouts = num(args.get(i + 1), "--rollouts") as u32;
                i += 1;
            }
            "--warm-ms" => {
                opt.warm_ms = num(args.get(i + 1), "--warm-ms") as u64;
                i += 1;
            }
            "--iterations" => {
                opt.mppi.iterations = num(args.get(i + 1), "--iterations") as u32;
                i += 1;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let ctx = match GpuContext::headless() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let ts = ctx
        .device
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY);
    println!(
        "adapter: {}; timestamp queries: {}\n",
        ctx.describe(),
        if ts {
            "yes (stage times are device times)"
        } else {
            "no (wall clock)"
        }
    );
    match bench(&ctx, &opt) {
        Ok(rows) => print!("{}", format_table(&rows)),
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
