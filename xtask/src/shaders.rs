//! The comments of the WGSL embedded in a bundle, replaced by spaces.
//!
//! Bevy and our GPU crate embed their shaders' source text (`include_str!`), comments and all:
//! about 160 kB of the 670 to 700 kB of WGSL in a bundle is comments. At run time Bevy hands every
//! shader to naga_oil, whose preprocessor first replaces the comments by spaces
//! ([`CommentReplaceExt::replace_comments`]) and hands the result to naga, which ignores them
//! anyway. This pass applies that same function (naga_oil's own, at the version Bevy uses) to
//! the copies in the wasm's data, so the shipped text is what the preprocessor would see.
//!
//! - **Only whole files, matched exactly.** The sources are the `.wgsl` files of every package
//!   of the wasm build (`cargo metadata`) and the workspace's `shaders/`; a file's text is
//!   replaced only where all of it appears, byte for byte, in a data segment, longest files
//!   first, never twice over the same bytes. Strings that merely look like WGSL are untouched.
//! - **Same length, same lines.** Every comment byte becomes a space and line ends stay, so no
//!   pointer or length in the code changes and naga's line and column numbers stay right. A
//!   file whose result would differ in length is left alone.
//! - **Nothing changes for the preprocessor**: the function is idempotent (checked for every
//!   source in the tests), so naga_oil sees the same comment-free text as before.
//!
//! Effect on the release bundles (this machine, 2026-11-27): WebGL2 90 files, 156,709 comment
//! bytes, 4,131,002 -> 4,090,138 bytes after brotli; WebGPU (with our shaders) 95 files,
//! 165,536 bytes, 3,950,069 -> 3,901,444.

use std::path::{Path, PathBuf};

use naga_oil::compose::comment_strip_iter::CommentReplaceExt;

use crate::{cargo, root};

/// One WGSL source that may be embedded in a bundle.
pub struct Source {
    /// Where it was read from (for the report).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The same text with its comments replaced by spaces (same length, same line ends).
    pub blanked: String,
}

/// What [`blank_comments`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Distinct source files found in the data.
    pub files: usize,
    /// Copies replaced (a file may be embedded more than once).
    pub copies: usize,
    /// Bytes of those copies.
    pub bytes: usize,
    /// Bytes that were comments and are now spaces.
    pub blanked: usize,
}

/// Files shorter than this are not searched for: a short text could occur inside an unrelated
/// string. Every shader of Bevy's that has comments is longer.
const MIN_LEN: usize = 256;

/// `text` with its comments replaced by spaces, by naga_oil's preprocessor function; `None`
/// when that would change its length or its line ends (then the file is left alone).
pub fn blank(text: &str) -> Option<String> {
    let mut lines = text.lines();
    let replaced = lines.replace_comments();
    let mut out = String::with_capacity(text.len());
    let mut originals = text.split_inclusive('\n');
    for line in replaced {
        let original = originals.next()?;
        let body = original
            .strip_suffix('\n')
            .map(|b| b.strip_suffix('\r').unwrap_or(b))
            .unwrap_or(original);
        if line.len() != body.len() {
            return None;
        }
        out.push_str(&line);
        out.push_str(&original[body.len()..]);
    }
    (originals.next().is_none() && out.len() == text.len()).then_some(out)
}

/// The WGSL sources of the wasm build: every `.wgsl` under the packages `cargo metadata` lists
/// for wasm32, and under the workspace's `shaders/`; only those with comments, longest first.
pub fn sources() -> Result<Vec<Source>, String> {
    let out = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            "wasm32-unknown-unknown",
        ])
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata's output: {e}"))?;
    let mut dirs = vec![root().join("shaders")];
    for p in meta["packages"].as_array().into_iter().flatten() {
        if let Some(dir) = p["manifest_path"]
            .as_str()
            .and_then(|m| Path::new(m).parent())
        {
            dirs.push(dir.to_path_buf());
        }
    }
    let mut files = Vec::new();
    for d in &dirs {
        wgsl_files(d, &mut files)?;
    }
    files.sort();
    files.dedup();
    let mut sources = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if text.len() < MIN_LEN {
            continue;
        }
        if let Some(blanked) = blank(&text).filter(|b| *b != text) {
            sources.push(Source {
                path,
                text,
                blanked,
            });
        }
    }
    sources.sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.path.cmp(&b.path)));
    Ok(sources)
}

/// Appends the `.wgsl` files under `dir` (not following hidden folders, `target` or
/// `node_modules`); a missing `dir` adds nothing.
fn wgsl_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries {
        let e = e.map_err(|e| format!("listing {}: {e}", dir.display()))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        let path = e.path();
        let kind = e
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                wgsl_files(&path, out)?;
            }
        } else if name.ends_with(".wgsl") {
            out.push(path);
        }
    }
    Ok(())
}

/// Replaces, in `segments` (a module's data segments), every whole copy of a source by its
/// blanked text. Copies that overlap one already replaced are skipped.
pub fn blank_comments<'a>(
    segments: impl IntoIterator<Item = &'a mut Vec<u8>>,
    sources: &[Source],
) -> Report {
    let mut report = Report::default();
    let mut found = vec![false; sources.len()];
    for data in segments {
        // Byte ranges already replaced in this segment.
        let mut done: Vec<(usize, usize)> = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let needle = s.text.as_bytes();
            let starts: Vec<usize> = memchr::memmem::find_iter(data, needle).collect();
            for start in starts {
                let end = start + needle.len();
                if done.iter().any(|&(a, b)| start < b && a < end) {
                    continue;
                }
                data[start..end].copy_from_slice(s.blanked.as_bytes());
                done.push((start, end));
                found[i] = true;
                report.copies += 1;
                report.bytes += needle.len();
                report.blanked += needle
                    .iter()
                    .zip(s.blanked.as_bytes())
                    .filter(|(a, b)| a != b)
                    .count();
            }
        }
    }
    report.files = found.iter().filter(|f| **f).count();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            path: PathBuf::from("test.wgsl"),
            text: text.to_string(),
            blanked: blank(text).expect("same length"),
        }
    }

    #[test]
    fn comments_become_spaces_and_code_stays() {
        let src = "#import \"a//b.wgsl\" // trailing\r\nlet x = 1; /* one\n /* nested */ still */ let y = 2;\n// last";
        let out = blank(src).expect("same length");
        assert_eq!(
            out,
            "#import \"a//b.wgsl\"            \r\nlet x = 1;       \n                       let y = 2;\n       "
        );
        assert_eq!(out.len(), src.len());
        // Multi-byte characters in comments become one space per byte (valid UTF-8 still).
        assert_eq!(blank("a // ≤ 2\nb").as_deref(), Some("a         \nb"));
        assert_eq!(blank("").as_deref(), Some(""));
    }

    #[test]
    fn only_whole_copies_are_replaced_and_never_twice() {
        let long = format!(
            "// header\n{}fn f() {{}} // end\n",
            "let a = 1;\n".repeat(30)
        );
        let s = source(&long);
        // Two whole copies between other bytes, and a truncated one that must stay.
        let truncated = &long[..long.len() - 3];
        let mut data = [
            b"xx",
            long.as_bytes(),
            b"//yy",
            long.as_bytes(),
            truncated.as_bytes(),
        ]
        .concat();
        let before = data.clone();
        let r = blank_comments([&mut data], std::slice::from_ref(&s));
        assert_eq!(r.files, 1);
        assert_eq!(r.copies, 2);
        assert_eq!(r.bytes, 2 * long.len());
        // The non-space bytes of "// header" and "// end", in each copy.
        assert_eq!(r.blanked, 2 * (8 + 5));
        assert_eq!(data.len(), before.len());
        let expect = [
            b"xx",
            s.blanked.as_bytes(),
            b"//yy",
            s.blanked.as_bytes(),
            truncated.as_bytes(),
        ]
        .concat();
        assert_eq!(data, expect);
        // A second pass finds nothing left to replace.
        let again = blank_comments([&mut data], std::slice::from_ref(&s));
        assert_eq!(again.copies, 0);
    }

    /// Over every WGSL source of the build (Bevy's and ours): the pass keeps lengths and line
    /// ends, leaves code bytes alone, and is idempotent, so naga_oil's preprocessor (which
    /// applies the same function at run time) sees exactly what it saw before.
    #[test]
    fn every_embedded_source_is_blanked_safely() {
        let sources = sources().expect("cargo metadata and the sources");
        assert!(
            sources.len() > 50,
            "only {} WGSL sources with comments found; is the registry there?",
            sources.len()
        );
        for s in &sources {
            assert_eq!(s.blanked.len(), s.text.len(), "{}", s.path.display());
            for (a, b) in s.text.bytes().zip(s.blanked.bytes()) {
                assert!(a == b || b == b' ', "{}: {a} -> {b}", s.path.display());
                assert!(
                    a != b'\n' || b == b'\n',
                    "{}: a line end moved",
                    s.path.display()
                );
            }
            assert_eq!(
                blank(&s.blanked).as_deref(),
                Some(s.blanked.as_str()),
                "{}",
                s.path.display()
            );
        }
    }
}
