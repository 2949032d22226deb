//! Making sure the build and test tools are present, installing what can be installed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{root, run};

/// The npm-installed tools live here.
pub fn node_dir() -> PathBuf {
    root().join("tests")
}

/// binaryen's `wasm-opt` from npm.
pub fn wasm_opt() -> PathBuf {
    node_dir()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt")
}

fn works(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The wasm32 target (via rustup when it is missing).
pub fn ensure_wasm_target() -> Result<(), String> {
    let sysroot = Command::new("rustc")
        .current_dir(root())
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc not found ({e}); install Rust with rustup"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let lib = PathBuf::from(&sysroot)
        .join("lib")
        .join("rustlib")
        .join("wasm32-unknown-unknown");
    if lib.exists() {
        return Ok(());
    }
    if !works("rustup", "--version") {
        return Err(format!(
            "the wasm32-unknown-unknown target is missing from {sysroot} and rustup is not \
             installed to add it; install rustup, or the target for this toolchain"
        ));
    }
    run(Command::new("rustup").current_dir(root()).args([
        "target",
        "add",
        "wasm32-unknown-unknown",
    ]))
    .map_err(|e| format!("could not add the wasm32-unknown-unknown target: {e}"))
}

/// binaryen (wasm-opt) and playwright-core in tests/node_modules (npm install when missing).
pub fn ensure_npm() -> Result<(), String> {
    let nm = node_dir().join("node_modules");
    let have = wasm_opt().exists() && nm.join("playwright-core").join("package.json").exists();
    if have {
        return Ok(());
    }
    if !works("node", "--version") || !works("npm", "--version") {
        return Err(
            "node and npm are needed for binaryen's wasm-opt and playwright-core but were not \
             found; install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)"
                .into(),
        );
    }
    let lock = node_dir().join("package-lock.json").exists();
    let mut c = Command::new("npm");
    c.current_dir(node_dir()).args([
        if lock { "ci" } else { "install" },
        "--no-audit",
        "--no-fund",
    ]);
    run(&mut c).map_err(|e| {
        format!(
            "{e}: could not install binaryen and playwright-core into {} (is the npm registry reachable?)",
            nm.display()
        )
    })?;
    if !wasm_opt().exists() {
        return Err(format!(
            "npm install finished but {} is missing",
            wasm_opt().display()
        ));
    }
    Ok(())
}

/// A Chromium to drive: `$CHROMIUM`, else Debian's.
pub fn chromium() -> Option<PathBuf> {
    let cands = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    cands.into_iter().flatten().find(|p| p.exists())
}

/// What to do when Chromium is missing.
pub fn chromium_missing() -> String {
    "Chromium was not found (set CHROMIUM, or on Debian: apt-get install chromium chromium-driver)"
        .into()
}

/// Everything the build needs, and the browser when `browser`.
pub fn ensure(browser: bool) -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_npm()?;
    if browser && chromium().is_none() {
        return Err(chromium_missing());
    }
    Ok(())
}
