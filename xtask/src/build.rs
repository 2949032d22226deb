//! The web bundle: cargo (wasm32) -> wasm-bindgen (cli-support, =0.2.130) -> wasm-opt
//! (binaryen from npm) -> brotli and gzip copies, and a size report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, root, run, shaders, target_dir, tools};

/// Sizes of one bundle, bytes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// wasm-bindgen's output.
    pub raw: u64,
    /// After wasm-opt (equal to `raw` for dev builds).
    pub opt: u64,
    /// Brotli (quality 11; 4 for dev) of the served wasm.
    pub brotli: u64,
    /// Gzip (level 9; 6 for dev) of the served wasm.
    pub gzip: u64,
}

/// The bundles, one per tier: the loader picks WebGPU where the browser has it, else WebGL2.
/// Each is `valuescape-web` built with the feature of the same name.
pub const BACKENDS: [&str; 2] = ["webgl2", "webgpu"];

/// Output folder of a backend's bundle.
pub fn pkg_dir(backend: &str) -> PathBuf {
    root().join("www").join("pkg").join(backend)
}

/// Cargo's target directory for a bundle: WebGL2 in the shared one, WebGPU in a folder of
/// its own inside it, so that building one never invalidates the other's (fat-LTO) link.
fn bundle_target_dir(backend: &str) -> PathBuf {
    if backend == "webgl2" {
        target_dir()
    } else {
        target_dir().join(format!("bundle-{backend}"))
    }
}

/// `cargo <sub> -p valuescape-web --features <backend> --target wasm32-unknown-unknown`.
pub fn web_cargo(sub: &str, backend: &str) -> Command {
    let mut c = cargo();
    c.args([
        sub,
        "-p",
        "valuescape-web",
        "--features",
        backend,
        "--target",
        "wasm32-unknown-unknown",
    ]);
    c
}

/// Names what happens to cargo's output after the build, in the bundle's stamp: a bundle
/// made by an older xtask is remade even when cargo's output did not change.
const POST_PROCESS: &str = "bindgen+wgsl-comments+opt2-lmu";

/// wasm-opt passes over a release bundle.
const WASM_OPT_PASSES: usize = 2;

/// Builds every bundle (see [`BACKENDS`]); returns each one's sizes.
pub fn build(dev: bool) -> Result<Vec<(&'static str, Sizes)>, String> {
    let mut out = Vec::new();
    for b in BACKENDS {
        out.push((b, build_one(b, dev)?));
    }
    Ok(out)
}

/// Builds one bundle into `www/pkg/<backend>/`; `dev` uses the `web-dev` profile and skips
/// wasm-opt.
pub fn build_one(backend: &'static str, dev: bool) -> Result<Sizes, String> {
    tools::ensure_wasm_target()?;
    tools::ensure_npm()?;
    let profile = if dev { "web-dev" } else { "web-release" };
    let t0 = Instant::now();
    let tdir = bundle_target_dir(backend);
    run(web_cargo("build", backend)
        .args(["--profile", profile])
        .env("CARGO_TARGET_DIR", &tdir))?;
    let wasm = tdir
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join("valuescape_web.wasm");
    let out = pkg_dir(backend);
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    // Skip wasm-bindgen, wasm-opt and compression when cargo's output did not change.
    let stamp = stamp_of(&wasm, &format!("{profile} {backend} {POST_PROCESS}"))?;
    let stamp_path = out.join("build.stamp");
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
        && let Some(sizes) = read_sizes(&out.join("size.json"))
        && out.join("valuescape_web_bg.wasm").exists()
    {
        install_loader()?;
        eprintln!("bundle ({profile}, {backend}) is up to date");
        return Ok(sizes);
    }
    let _ = std::fs::remove_file(&stamp_path);
    eprintln!("wasm-bindgen {} -> {}", wasm.display(), out.display());
    let mut bg = wasm_bindgen_cli_support::Bindgen::new();
    bg.input_path(&wasm)
        .out_name("valuescape_web")
        .typescript(true)
        .debug(false)
        .keep_debug(false)
        .remove_producers_section(true);
    let mut generated = bg
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .generate_output()
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", wasm.display()))?;
    // The embedded WGSL's comments as spaces, as naga_oil's preprocessor sees them.
    let sources = shaders::sources()?;
    let module = generated.wasm_mut();
    let ids: Vec<_> = module.data.iter().map(|d| d.id()).collect();
    let mut segments: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| std::mem::take(&mut module.data.get_mut(*id).value))
        .collect();
    let blanked = shaders::blank_comments(segments.iter_mut(), &sources);
    for (id, data) in ids.into_iter().zip(segments) {
        module.data.get_mut(id).value = data;
    }
    eprintln!(
        "WGSL comments blanked: {} bytes in {} copies of {} of {} sources ({} bytes of WGSL)",
        blanked.blanked,
        blanked.copies,
        blanked.files,
        sources.len(),
        blanked.bytes
    );
    generated
        .emit(&out)
        .map_err(|e| format!("writing wasm-bindgen's output to {}: {e:#}", out.display()))?;
    let bundle = out.join("valuescape_web_bg.wasm");
    let raw = size(&bundle)?;
    if !dev {
        // Two passes: the second finds what the first's inlining and merging exposed (about
        // 17 kB of brotli on the WebGL2 bundle; a third found under 1 kB more). The low 1 kB of
        // memory is Rust's stack bottom, never reached through a wrapped address, so constant
        // offsets may be folded into loads and stores (`--low-memory-unused`: about 16 kB).
        let tmp = out.join("valuescape_web_bg.opt.wasm");
        for pass in 1..=WASM_OPT_PASSES {
            eprintln!("wasm-opt -Oz, pass {pass} of {WASM_OPT_PASSES}");
            run(Command::new(tools::wasm_opt())
                .arg(&bundle)
                .args([
                    "-Oz",
                    "--low-memory-unused",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                    "--strip-debug",
                    "--strip-producers",
                    "-o",
                ])
                .arg(&tmp))?;
            std::fs::rename(&tmp, &bundle)
                .map_err(|e| format!("renaming {}: {e}", tmp.display()))?;
        }
    }
    let opt = size(&bundle)?;
    // Compressed copies for the server (and the size report).
    let mut brotli = 0;
    let mut gzip = 0;
    for name in ["valuescape_web_bg.wasm", "valuescape_web.js"] {
        let p = out.join(name);
        let data = std::fs::read(&p).map_err(|e| format!("reading {}: {e}", p.display()))?;
        // Best compression for release; quick for --dev (its wasm is ~10x larger).
        let (bq, gl) = if dev { (4, 6) } else { (11, 9) };
        let br = compress_brotli(&data, bq)?;
        let gz = compress_gzip(&data, gl);
        write(&with_ext(&p, "br"), &br)?;
        write(&with_ext(&p, "gz"), &gz)?;
        if name.ends_with(".wasm") {
            brotli = br.len() as u64;
            gzip = gz.len() as u64;
        }
    }
    install_loader()?;
    let sizes = Sizes {
        raw,
        opt,
        brotli,
        gzip,
    };
    let report = format!(
        "{{\n  \"backend\": \"{backend}\",\n  \"profile\": \"{profile}\",\n  \"wasm_raw\": {raw},\n  \"wasm_opt\": {opt},\n  \"wasm_brotli\": {brotli},\n  \"wasm_gzip\": {gzip},\n  \"wgsl_comment_bytes_blanked\": {}\n}}\n",
        blanked.blanked
    );
    write(&out.join("size.json"), report.as_bytes())?;
    write(&stamp_path, stamp.as_bytes())?;
    eprintln!(
        "bundle ({profile}, {backend}) in {:.0} s: wasm {} raw, {} after wasm-opt{}, {} brotli, {} gzip",
        t0.elapsed().as_secs_f64(),
        mib(raw),
        mib(opt),
        if dev { " (skipped for --dev)" } else { "" },
        mib(brotli),
        mib(gzip)
    );
    Ok(sizes)
}

/// Copies the JS package (`web/`) to `www/pkg/web/` and writes `www/pkg/bundles.json`, the
/// list of built backends the loader chooses from.
fn install_loader() -> Result<(), String> {
    let src = root().join("web");
    let dst = root().join("www").join("pkg").join("web");
    std::fs::create_dir_all(&dst).map_err(|e| format!("creating {}: {e}", dst.display()))?;
    for name in ["index.js", "loader.js", "element.js"] {
        std::fs::copy(src.join(name), dst.join(name))
            .map_err(|e| format!("copying web/{name}: {e}"))?;
    }
    let built: Vec<String> = ["webgpu", "webgl2"]
        .iter()
        .filter(|b| pkg_dir(b).join("valuescape_web.js").exists())
        .map(|b| format!("\"{b}\""))
        .collect();
    write(
        &root().join("www").join("pkg").join("bundles.json"),
        format!("{{\"bundles\": [{}]}}\n", built.join(", ")).as_bytes(),
    )
}

/// Identifies a cargo output: profile, size and modification time.
fn stamp_of(wasm: &Path, profile: &str) -> Result<String, String> {
    let m = std::fs::metadata(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let t = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(format!("{profile} {} {t}\n", m.len()))
}

/// Reads the sizes back from a size report.
fn read_sizes(p: &Path) -> Option<Sizes> {
    let text = std::fs::read_to_string(p).ok()?;
    let num = |key: &str| -> Option<u64> {
        let rest = &text[text.find(&format!("\"{key}\":"))? + key.len() + 3..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some(Sizes {
        raw: num("wasm_raw")?,
        opt: num("wasm_opt")?,
        brotli: num("wasm_brotli")?,
        gzip: num("wasm_gzip")?,
    })
}

fn mib(b: u64) -> String {
    format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
}

fn size(p: &Path) -> Result<u64, String> {
    std::fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(p, data).map_err(|e| format!("writing {}: {e}", p.display()))
}

/// `file.ext` -> `file.ext.<extra>`.
pub fn with_ext(p: &Path, extra: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(".");
    s.push(extra);
    PathBuf::from(s)
}

/// Brotli at `quality` (0..=11), 16 MiB window, by the reference C encoder (`brotlic`).
///
/// The window is the largest browsers decode: 2 % smaller than the default 4 MiB on the
/// 26 MiB bundle. The C encoder at quality 11 gave 10,856 bytes (0.26 %) less than the Rust
/// port (`brotli` 8 and 9) on the 19.6 MB WebGL2 bundle, the same as node's zlib.
pub fn compress_brotli(data: &[u8], quality: u8) -> Result<Vec<u8>, String> {
    let q = brotlic::Quality::new(quality).map_err(|e| format!("brotli quality {quality}: {e}"))?;
    let w = brotlic::WindowSize::new(24).map_err(|e| format!("brotli window: {e}"))?;
    // The bound is only defined from quality 2; below it, room for the data plus headers.
    let bound =
        brotlic::compress_bound(data.len(), q).unwrap_or(data.len() + data.len() / 8 + 1024);
    let mut out = vec![0; bound];
    let n = brotlic::compress(data, &mut out, q, w, brotlic::CompressionMode::Generic)
        .map_err(|e| format!("brotli compression of {} bytes: {e}", data.len()))?;
    out.truncate(n);
    Ok(out)
}

/// Gzip at `level` (0..=9).
pub fn compress_gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn unbrotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotlic::DecompressorReader::new(data)
            .read_to_end(&mut out)
            .expect("valid brotli stream");
        out
    }

    #[test]
    fn brotli_round_trips_at_every_quality_the_build_uses() {
        // Compressible text with some noise, a few hundred kB, and the edge cases.
        let mut text = Vec::new();
        for i in 0..20_000u32 {
            text.extend_from_slice(
                format!("fn f{}() -> u32 {{ {} }}\n", i % 97, i * 7919).as_bytes(),
            );
        }
        for data in [Vec::new(), vec![7u8], text] {
            for q in [0, 1, 4, 5, 11] {
                let br = compress_brotli(&data, q).expect("compresses");
                assert_eq!(unbrotli(&br), data, "quality {q}, {} bytes", data.len());
                if data.len() > 1000 {
                    // Quality 0 and 1 are the fast, weak levels.
                    let ratio = if q >= 4 { 4 } else { 2 };
                    assert!(
                        br.len() * ratio < data.len(),
                        "quality {q}: {} of {}",
                        br.len(),
                        data.len()
                    );
                }
            }
        }
        assert!(compress_brotli(b"x", 12).is_err());
    }
}
