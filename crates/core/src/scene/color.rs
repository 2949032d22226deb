//! The fixed table of colour words a scene may use, and their linear RGB values.

/// Colour words and their sRGB values (0–255), converted to linear RGB by [`color_rgb`].
///
/// Synonyms ("grey"/"gray", "wooden"/"wood") share a value. Lookups ignore case and
/// surrounding whitespace.
const TABLE: &[(&str, [u8; 3])] = &[
    ("red", [200, 30, 30]),
    ("green", [40, 160, 60]),
    ("blue", [30, 80, 200]),
    ("yellow", [240, 200, 30]),
    ("orange", [240, 130, 20]),
    ("purple", [120, 50, 160]),
    ("maroon", [120, 20, 30]),
    ("pink", [240, 130, 170]),
    ("white", [240, 240, 235]),
    ("black", [25, 25, 25]),
    ("grey", [128, 128, 128]),
    ("gray", [128, 128, 128]),
    ("brown", [120, 75, 40]),
    ("cyan", [30, 190, 210]),
    ("teal", [20, 128, 128]),
    ("navy", [20, 30, 110]),
    ("olive", [110, 120, 30]),
    ("gold", [212, 175, 55]),
    ("silver", [192, 192, 196]),
    ("wooden", [160, 110, 60]),
    ("wood", [160, 110, 60]),
    ("beige", [225, 205, 165]),
];

/// Every known colour word, in table order.
pub fn color_names() -> Vec<&'static str> {
    TABLE.iter().map(|(n, _)| *n).collect()
}

/// Whether `name` is a known colour word (case-insensitive).
pub fn is_known_color(name: &str) -> bool {
    lookup(name).is_some()
}

fn lookup(name: &str) -> Option<[u8; 3]> {
    let name = name.trim();
    TABLE
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, rgb)| *rgb)
}

/// Linear RGB (each channel in `[0, 1]`) of a colour word such as `"blue"` or `"maroon"`;
/// `None` for an unknown word. Case and surrounding whitespace are ignored.
pub fn color_rgb(name: &str) -> Option<[f32; 3]> {
    lookup(name).map(|rgb| rgb.map(srgb_to_linear))
}

/// The standard sRGB transfer function, inverted.
fn srgb_to_linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}
