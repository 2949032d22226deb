//! The panel's two typefaces, cut down to the characters a panel of English text, numbers and
//! formulas shows (with the `app` feature; without it nothing is built).
//!
//! egui's Ubuntu Light and Hack cover Cyrillic, box drawing and more, with TrueType hinting
//! programs: 671 kB in the wasm bundle, 267 kB of it after brotli. The subsets keep the Latin,
//! Greek, punctuation, arrow and mathematical blocks below and drop the hinting programs (egui's
//! rasteriser falls back to skrifa's autohinter), which leaves a quarter of that. A character
//! outside the subsets still stays in the text the user typed; egui draws it as a box.
//!
//! The script checks its output: every kept character the original font had must map to a glyph
//! in the subset, or the build fails saying which.

use std::error::Error;
use std::path::Path;

use read_fonts::collections::IntSet;
use read_fonts::types::{NameId, Tag};
use read_fonts::{FontRef, TableProvider};
use skera::{DEFAULT_LAYOUT_FEATURES, Plan, SubsetFlags, subset_font};

/// The Unicode blocks kept (inclusive ranges).
const KEEP: &[(u32, u32)] = &[
    (0x0020, 0x007E), // Basic Latin
    (0x00A0, 0x017F), // Latin-1 Supplement, Latin Extended-A
    (0x0370, 0x03FF), // Greek
    (0x2000, 0x206F), // General Punctuation
    (0x2070, 0x209F), // superscripts and subscripts
    (0x20AC, 0x20AC), // euro sign
    (0x2190, 0x21FF), // arrows
    (0x2200, 0x22FF), // mathematical operators
    (0x25A0, 0x25FF), // geometric shapes (egui's replacement character is U+25FB)
    (0xFFFD, 0xFFFD), // replacement character
];

/// Characters the panel cannot do without: one of the two subsets must map each.
const REQUIRED: &str = " 09AZaz~°±²³µ×éüï–—…→←≤≥θπ";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_APP").is_none() {
        return Ok(());
    }
    let out = std::env::var("OUT_DIR")?;
    let mut missing: Vec<char> = REQUIRED.chars().collect();
    for (name, data) in [
        ("Ubuntu-Light", epaint_default_fonts::UBUNTU_LIGHT),
        ("Hack", epaint_default_fonts::HACK_REGULAR),
    ] {
        let subset = subset(data).map_err(|e| format!("subsetting the font {name}: {e}"))?;
        check(name, data, &subset)?;
        let cmap = FontRef::new(&subset)?.cmap()?;
        missing.retain(|&c| cmap.map_codepoint(c).is_none());
        std::fs::write(Path::new(&out).join(format!("{name}.ttf")), subset)?;
    }
    if !missing.is_empty() {
        return Err(format!("neither font subset has a glyph for {missing:?}").into());
    }
    Ok(())
}

/// The font cut down to [`KEEP`], without hinting programs; layout features as hb-subset keeps
/// them by default.
fn subset(data: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
    let font = FontRef::new(data)?;
    let mut unicodes = IntSet::<u32>::empty();
    for &(a, b) in KEEP {
        unicodes.insert_range(a..=b);
    }
    let mut scripts = IntSet::<Tag>::empty();
    scripts.invert();
    let features: IntSet<Tag> = DEFAULT_LAYOUT_FEATURES.iter().copied().collect();
    let mut names = IntSet::<NameId>::empty();
    names.insert_range(NameId::new(0)..=NameId::new(6));
    let mut languages = IntSet::<u16>::empty();
    languages.insert(0x0409);
    let plan = Plan::new(
        &IntSet::empty(),
        &unicodes,
        &font,
        SubsetFlags::SUBSET_FLAGS_NO_HINTING,
        &IntSet::empty(),
        &scripts,
        &features,
        &names,
        &languages,
    );
    Ok(subset_font(&font, &plan)?)
}

/// Fails unless the subset maps every kept character the original maps.
fn check(name: &str, original: &[u8], subset: &[u8]) -> Result<(), Box<dyn Error>> {
    let before = FontRef::new(original)?.cmap()?;
    let after = FontRef::new(subset)?.cmap()?;
    for &(a, b) in KEEP {
        if let Some(c) =
            (a..=b).find(|&c| before.map_codepoint(c).is_some() && after.map_codepoint(c).is_none())
        {
            return Err(format!("{name}: U+{c:04X} lost by subsetting").into());
        }
    }
    Ok(())
}
