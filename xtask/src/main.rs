//! Valuescape's task runner.
//!
//! ```text
//! cargo xtask serve [--port 8080] [--dev] [--no-build]   build the web bundle and serve www/
//! cargo xtask build [--dev]                              build the web bundle only
//! cargo xtask test  [--dev] [--no-browser]               fmt, clippy, docs, tests, wasm build, browser tests
//! cargo xtask bench                                      native plan timings (to compare with wasm)
//! ```
//!
//! The cargo target directory defaults to `$HOME/.cache/valuescape/target` (outside the clone,
//! so CI and fresh clones build incrementally). Build tools (the wasm32 target, binaryen's
//! `wasm-opt` and `playwright-core` from npm into `tests/node_modules`) are installed when
//! missing; when they cannot be, the error says exactly what is missing.

mod build;
mod serve;
mod shaders;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The repository root.
pub fn root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the binary too: prefer it to the compile-time
    // value, so that an xtask binary shared through one CARGO_TARGET_DIR by two checkouts
    // (cargo reuses the one built last) works on the checkout it was run from.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dir.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `$HOME/.cache/valuescape/target`.
pub fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".."));
    home.join(".cache").join("valuescape").join("target")
}

/// A `cargo` command run in the root with the target directory set.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root()).env("CARGO_TARGET_DIR", target_dir());
    c
}

/// Runs a command, echoing it; an error says which command failed.
pub fn run(c: &mut Command) -> Result<(), String> {
    let shown = format!("{c:?}").replace('"', "");
    eprintln!("$ {shown}");
    let status = c
        .status()
        .map_err(|e| format!("could not run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

const USAGE: &str = "usage:
  cargo xtask serve [--port 8080] [--dev] [--no-build]
  cargo xtask build [--dev] [--backend webgl2|webgpu]
  cargo xtask test  [--dev] [--no-browser]
  cargo xtask bench";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve_cmd(&args[1..]),
        Some("build") => flags(&args[1..], &["--dev"]).and_then(|f| match f.value("--backend") {
            None => build::build(f.has("--dev")).map(|_| ()),
            Some(b) => match build::BACKENDS.iter().find(|x| **x == b) {
                Some(b) => build::build_one(b, f.has("--dev")).map(|_| ()),
                None => Err(format!(
                    "--backend: {b:?} is not one of {:?}",
                    build::BACKENDS
                )),
            },
        }),
        Some("test") => test_cmd(&args[1..]),
        Some("bench") => bench(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parsed flags.
struct Flags {
    set: Vec<String>,
    values: Vec<(String, String)>,
}

impl Flags {
    fn has(&self, f: &str) -> bool {
        self.set.iter().any(|s| s == f)
    }
    fn value(&self, f: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.as_str())
    }
}

fn flags(args: &[String], known: &[&str]) -> Result<Flags, String> {
    let mut f = Flags {
        set: Vec::new(),
        values: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--port" || a == "--backend" {
            let v = it.next().ok_or(format!("{a} needs a value"))?;
            f.values.push((a.clone(), v.clone()));
        } else if let Some((k @ ("--port" | "--backend"), v)) = a.split_once('=') {
            f.values.push((k.into(), v.into()));
        } else if known.contains(&a.as_str()) {
            f.set.push(a.clone());
        } else {
            return Err(format!("unknown argument {a:?}\n{USAGE}"));
        }
    }
    Ok(f)
}

fn serve_cmd(args: &[String]) -> Result<(), String> {
    let f = flags(args, &["--dev", "--no-build"])?;
    let port: u16 = match f.value("--port") {
        Some(p) => p
            .parse()
            .map_err(|_| format!("--port: not a port number: {p}"))?,
        None => 8080,
    };
    if !f.has("--no-build") {
        build::build(f.has("--dev"))?;
    }
    let server = serve::Server::bind(&root().join("www"), port)?;
    println!(
        "serving {} on http://127.0.0.1:{}/  (Ctrl-C stops)",
        root().join("www").display(),
        server.port()
    );
    server.run_forever();
    Ok(())
}

fn test_cmd(args: &[String]) -> Result<(), String> {
    let f = flags(args, &["--dev", "--no-browser"])?;
    let t0 = Instant::now();
    let mut stages: Vec<(String, f64)> = Vec::new();
    let mut stage = |name: &str, f: &mut dyn FnMut() -> Result<(), String>| {
        eprintln!("\n=== xtask test: {name} ===");
        let t = Instant::now();
        let r = f();
        stages.push((name.to_string(), t.elapsed().as_secs_f64()));
        r.map_err(|e| format!("{name}: {e}"))
    };
    stage("tools", &mut || tools::ensure(!f.has("--no-browser")))?;
    stage("fmt", &mut || {
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    stage("clippy (native)", &mut || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    stage("docs (native)", &mut || {
        // Every crate's docs build, their links resolving (natively: items behind wasm32 or
        // a feature are not linked from docs that build without them).
        run(cargo()
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "--no-deps"]))
    })?;
    stage("clippy (wasm32)", &mut || {
        for backend in build::BACKENDS {
            run(build::web_cargo("clippy", backend).args(["--", "-D", "warnings"]))?;
        }
        Ok(())
    })?;
    stage("native tests", &mut || {
        // The viewer's Bevy app is checked by clippy above; its renderer-free parts (state
        // codec, colour maps, surfaces) are tested without compiling Bevy natively.
        run(cargo().args(["test", "--workspace", "--exclude", "valuescape-viewer"]))?;
        run(cargo().args(["test", "-p", "valuescape-viewer", "--no-default-features"]))
    })?;
    let mut sizes = None;
    stage("wasm build", &mut || {
        sizes = Some(build::build(f.has("--dev"))?);
        Ok(())
    })?;
    if !f.has("--no-browser") {
        stage("browser tests", &mut browser_tests)?;
    }
    eprintln!(
        "\n=== xtask test: all passed in {:.0} s ===",
        t0.elapsed().as_secs_f64()
    );
    for (name, s) in &stages {
        eprintln!("  {name:<18} {s:>7.1} s");
    }
    for (backend, s) in sizes.unwrap_or_default() {
        eprintln!(
            "  {backend} bundle wasm: {} bytes raw, {} after wasm-opt, {} brotli, {} gzip",
            s.raw, s.opt, s.brotli, s.gzip
        );
    }
    Ok(())
}

/// Serves www/ on a free port and runs `node --test` on tests/.
fn browser_tests() -> Result<(), String> {
    let server = serve::Server::bind(&root().join("www"), 0)?;
    let url = format!("http://127.0.0.1:{}/", server.port());
    let handle = server.spawn();
    let chromium = tools::chromium().ok_or_else(tools::chromium_missing)?;
    let r = run(Command::new("node")
        .current_dir(root().join("tests"))
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .env("VALUESCAPE_URL", &url)
        .env("CHROMIUM", chromium));
    drop(handle);
    r
}

fn bench() -> Result<(), String> {
    run(cargo().args([
        "run",
        "--release",
        "-p",
        "valuescape-viewer",
        "--no-default-features",
        "--example",
        "plan_timing",
    ]))
}
