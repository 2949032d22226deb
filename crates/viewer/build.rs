//! The panel's two typefaces, cut down to the characters a panel of text, numbers and formulas
//! shows (with the `app` feature; without it this script does nothing).
//!
//! egui's Ubuntu Light and Hack cover far more (Cyrillic, box drawing, Powerline and so on) and
//! carry TrueType hinting programs: 671 kB in the wasm bundle, 267 kB after brotli. The subsets
//! keep the blocks in `KEEP` and drop the hinting programs (egui's rasteriser falls back to
//! skrifa's autohinter): 189 kB, 83 kB after brotli. A character outside the subsets (Cyrillic
//! would cost 18 kB more after brotli) stays in the text the user typed; egui draws it as a
//! box.
//!
//! A subset is a modified version of each font: its names get " derivative Valuescape"
//! appended (the Ubuntu Font Licence's rule 2c for modified versions), and the copyright,
//! trademark, licence and licence URL records are kept (name IDs 0 to 14).
//!
//! The script checks what it wrote: every kept character the original font maps must map to a
//! glyph of the same advance width, the layout tables (GSUB, GPOS, GDEF) must survive where
//! the original had them, and `REQUIRED` must be covered; otherwise the build fails saying
//! what is wrong.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(feature = "app")]
    fonts::write_subsets(std::path::Path::new(&std::env::var("OUT_DIR")?))?;
    Ok(())
}

#[cfg(feature = "app")]
mod fonts {
    use std::error::Error;
    use std::path::Path;

    use skera::{DEFAULT_DROP_TABLES, DEFAULT_LAYOUT_FEATURES, Plan, SubsetFlags, subset_font};
    use write_fonts::FontBuilder;
    use write_fonts::from_obj::ToOwnedTable;
    use write_fonts::read::collections::IntSet;
    use write_fonts::read::types::{NameId, Tag};
    use write_fonts::read::{FontRef, TableProvider};
    use write_fonts::tables::name::{Name, NameRecord};

    /// The Unicode blocks kept (inclusive ranges).
    const KEEP: &[(u32, u32)] = &[
        (0x0020, 0x007E), // Basic Latin
        (0x00A0, 0x024F), // Latin-1 Supplement, Latin Extended-A and -B
        (0x02B0, 0x036F), // spacing modifier letters, combining diacritical marks
        (0x0370, 0x03FF), // Greek
        (0x2000, 0x206F), // General Punctuation
        (0x2070, 0x20CF), // superscripts and subscripts, currency symbols
        (0x2100, 0x218F), // letterlike symbols, number forms
        (0x2190, 0x21FF), // arrows
        (0x2200, 0x22FF), // mathematical operators
        (0x25A0, 0x25FF), // geometric shapes (egui's replacement character is U+25FB)
        (0xFFFD, 0xFFFD), // replacement character
    ];

    /// Characters the panel cannot do without: one of the two subsets must map each.
    const REQUIRED: &str = " 09AZaz~°±²³µ×éüï–—…→←≤≥θπ◻";

    /// The name records renamed (family, unique ID, full name, PostScript name).
    const RENAMED: [u16; 4] = [1, 3, 4, 6];

    /// Writes `Ubuntu-Light.ttf` and `Hack.ttf` into `out`.
    pub fn write_subsets(out: &Path) -> Result<(), Box<dyn Error>> {
        let mut missing: Vec<char> = REQUIRED.chars().collect();
        for (name, data) in [
            ("Ubuntu-Light", epaint_default_fonts::UBUNTU_LIGHT),
            ("Hack", epaint_default_fonts::HACK_REGULAR),
        ] {
            let subset =
                rename(&subset(data)?).map_err(|e| format!("subsetting the font {name}: {e}"))?;
            check(name, data, &subset)?;
            let cmap = FontRef::new(&subset)?.cmap()?;
            missing.retain(|&c| cmap.map_codepoint(c).is_none());
            std::fs::write(out.join(format!("{name}.ttf")), subset)?;
        }
        if !missing.is_empty() {
            return Err(format!("neither font subset has a glyph for {missing:?}").into());
        }
        Ok(())
    }

    /// The font cut down to [`KEEP`], without hinting programs; tables, layout features and
    /// scripts as hb-subset keeps them by default, name IDs 0 to 14 (English, Windows).
    fn subset(data: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
        let font = FontRef::new(data)?;
        let mut unicodes = IntSet::<u32>::empty();
        for &(a, b) in KEEP {
            unicodes.insert_range(a..=b);
        }
        let drop: IntSet<Tag> = DEFAULT_DROP_TABLES.iter().copied().collect();
        let mut scripts = IntSet::<Tag>::empty();
        scripts.invert();
        let features: IntSet<Tag> = DEFAULT_LAYOUT_FEATURES.iter().copied().collect();
        let mut names = IntSet::<NameId>::empty();
        names.insert_range(NameId::new(0)..=NameId::new(14));
        let mut languages = IntSet::<u16>::empty();
        languages.insert(0x0409);
        let plan = Plan::new(
            &IntSet::empty(),
            &unicodes,
            &font,
            SubsetFlags::SUBSET_FLAGS_NO_HINTING,
            &drop,
            &scripts,
            &features,
            &names,
            &languages,
        );
        Ok(subset_font(&font, &plan)?)
    }

    /// The font with " derivative Valuescape" appended to the names in [`RENAMED`] (without
    /// spaces in the PostScript name).
    fn rename(data: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
        let font = FontRef::new(data)?;
        let mut name: Name = font.name()?.to_owned_table();
        for record in &mut name.name_record {
            let id = record.name_id.to_u16();
            if RENAMED.contains(&id) {
                let old: &str = &record.string;
                let new = if id == 6 {
                    format!("{old}-DerivativeValuescape")
                } else {
                    format!("{old} derivative Valuescape")
                };
                *record = NameRecord::new(
                    record.platform_id,
                    record.encoding_id,
                    record.language_id,
                    record.name_id,
                    new.into(),
                );
            }
        }
        Ok(FontBuilder::new()
            .add_table(&name)?
            .copy_missing_tables(font)
            .build())
    }

    /// Fails unless the subset maps every kept character the original maps, to a glyph of the
    /// same advance width, and keeps the original's layout tables.
    fn check(name: &str, original: &[u8], subset: &[u8]) -> Result<(), Box<dyn Error>> {
        let (before, after) = (FontRef::new(original)?, FontRef::new(subset)?);
        let (cmap0, cmap1) = (before.cmap()?, after.cmap()?);
        let (hmtx0, hmtx1) = (before.hmtx()?, after.hmtx()?);
        for &(a, b) in KEEP {
            for c in a..=b {
                let Some(g0) = cmap0.map_codepoint(c) else {
                    continue;
                };
                let Some(g1) = cmap1.map_codepoint(c) else {
                    return Err(format!("{name}: U+{c:04X} lost by subsetting").into());
                };
                if hmtx0.advance(g0) != hmtx1.advance(g1) {
                    return Err(format!("{name}: U+{c:04X} changed its advance width").into());
                }
            }
        }
        for tag in [b"GSUB", b"GPOS", b"GDEF"] {
            let tag = Tag::new(tag);
            if before.table_data(tag).is_some() && after.table_data(tag).is_none() {
                return Err(format!("{name}: the subset lost its {tag} table").into());
            }
        }
        Ok(())
    }
}
