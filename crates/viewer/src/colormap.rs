//! Colour maps for value maps: viridis for everything, sampled from a small table.

/// Viridis at 9 evenly spaced stops, sRGB 0..1.
const VIRIDIS: [[f32; 3]; 9] = [
    [0.267, 0.005, 0.329],
    [0.283, 0.141, 0.458],
    [0.254, 0.265, 0.530],
    [0.207, 0.372, 0.553],
    [0.164, 0.471, 0.558],
    [0.128, 0.567, 0.551],
    [0.135, 0.659, 0.518],
    [0.267, 0.749, 0.441],
    [0.478, 0.821, 0.319],
];
/// The last stop (yellow) past the table.
const VIRIDIS_END: [f32; 3] = [0.993, 0.906, 0.144];

/// Viridis at `t` in `[0, 1]` (clamped; NaN is 0), sRGB 0..1.
pub fn viridis(t: f32) -> [f32; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let stops = VIRIDIS.len(); // 9 stops + the end = 10 points, 9 intervals
    let x = t * stops as f32;
    let i = (x.floor() as usize).min(stops - 1);
    let f = x - i as f32;
    let a = VIRIDIS[i];
    let b = if i + 1 < stops {
        VIRIDIS[i + 1]
    } else {
        VIRIDIS_END
    };
    [0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * f)
}

/// Viridis as 8-bit sRGBA.
pub fn viridis_rgba8(t: f32) -> [u8; 4] {
    let c = viridis(t);
    [
        (c[0] * 255.0).round() as u8,
        (c[1] * 255.0).round() as u8,
        (c[2] * 255.0).round() as u8,
        255,
    ]
}

/// Maps `v` from `[lo, hi]` to `[0, 1]`; a flat range maps to 0.5.
pub fn normalize(v: f32, lo: f32, hi: f32) -> f32 {
    if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        let top = viridis(1.0);
        for c in 0..3 {
            assert!((top[c] - VIRIDIS_END[c]).abs() < 1e-6);
        }
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(f32::NAN), viridis(0.0));
        assert_eq!(viridis_rgba8(2.0), viridis_rgba8(1.0));
        // Monotone in lightness, roughly: green channel rises.
        let g: Vec<f32> = (0..=10).map(|i| viridis(i as f32 / 10.0)[1]).collect();
        assert!(g.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(normalize(5.0, 0.0, 10.0), 0.5);
        assert_eq!(normalize(5.0, 1.0, 1.0), 0.5);
    }
}
