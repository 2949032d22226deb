//! Separable Gaussian filter with scientific Python's conventions: the kernel is
//! `exp(-x^2 / (2 sigma^2))` normalised to sum 1, truncated at `truncate * sigma`
//! (radius `floor(truncate * sigma + 0.5)`), and the border mirrored half-sample
//! symmetric (`... c b a | a b c ...`, scipy's `mode='reflect'`).
//!
//! All-zero lines, rows and planes are skipped, so the cost follows the non-zero part of
//! the input: an avoidance map with a few obstacles filters far faster than a dense one,
//! with the same result.

/// VoxPoser's sigma, in voxels.
pub const VOXPOSER_SIGMA: f64 = 10.0;
/// scipy's default truncation, in sigmas.
pub const TRUNCATE: f64 = 4.0;

/// The normalised 1-D kernel, `2 * radius + 1` taps.
pub fn kernel(sigma: f64, truncate: f64) -> Vec<f32> {
    let radius = (truncate * sigma + 0.5).floor().max(0.0) as i64;
    if sigma <= 0.0 {
        return vec![1.0];
    }
    let w: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 * (x * x) as f64 / (sigma * sigma)).exp())
        .collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|x| (x / s) as f32).collect()
}

/// Index of `i` (possibly outside `0..n`) under half-sample symmetric reflection.
#[inline]
pub fn reflect(i: i64, n: usize) -> usize {
    let n = n as i64;
    let period = 2 * n;
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - 1 - m }) as usize
}

/// Gaussian-filters a C-order `[nx, ny, nz]` volume along all three axes.
pub fn filter(data: &[f32], size: [usize; 3], sigma: f64, truncate: f64) -> Vec<f32> {
    let w = kernel(sigma, truncate);
    let [nx, ny, nz] = size;
    debug_assert_eq!(data.len(), nx * ny * nz);
    // scipy filters axis 0, then 1, then 2; linear and separable, so the order only moves
    // rounding. We go z, y, x so the sparse input is skipped earliest.
    let a = filter_z(data, size, &w);
    let b = filter_rows(&a, nx, ny, nz, &w);
    filter_rows(&b, 1, nx, ny * nz, &w)
}

/// VoxPoser's Gaussian: sigma 10 voxels, truncated at 4 sigma.
pub fn voxposer(data: &[f32], size: [usize; 3]) -> Vec<f32> {
    filter(data, size, VOXPOSER_SIGMA, TRUNCATE)
}

/// Along the fastest axis: each contiguous line of `nz` is padded by reflection and
/// convolved tap by tap (the inner loop over the line vectorises).
fn filter_z(data: &[f32], size: [usize; 3], w: &[f32]) -> Vec<f32> {
    let nz = size[2];
    let r = (w.len() / 2) as i64;
    let mut out = vec![0f32; data.len()];
    let mut padded = vec![0f32; nz + 2 * r as usize];
    for (src, dst) in data.chunks_exact(nz).zip(out.chunks_exact_mut(nz)) {
        if src.iter().all(|&x| x == 0.0) {
            continue;
        }
        for (p, slot) in padded.iter_mut().enumerate() {
            *slot = src[reflect(p as i64 - r, nz)];
        }
        for (t, &wt) in w.iter().enumerate() {
            let shifted = &padded[t..t + nz];
            for (o, &x) in dst.iter_mut().zip(shifted) {
                *o += wt * x;
            }
        }
    }
    out
}

/// Along a slower axis: the volume is `outer` slabs of `n` rows, each row `row_len`
/// contiguous values; row `j` of the output is the weighted sum of rows `j + t - r`
/// (reflected). Zero rows are skipped. Rows are processed in chunks that stay in the L1
/// cache while every tap is accumulated into them.
fn filter_rows(data: &[f32], outer: usize, n: usize, row_len: usize, w: &[f32]) -> Vec<f32> {
    const CHUNK: usize = 512;
    let r = (w.len() / 2) as i64;
    let mut out = vec![0f32; data.len()];
    let slab = n * row_len;
    let mut nonzero = vec![false; n];
    let mut taps: Vec<(usize, f32)> = Vec::with_capacity(w.len());
    for s in 0..outer {
        let src = &data[s * slab..(s + 1) * slab];
        let dst = &mut out[s * slab..(s + 1) * slab];
        for (j, nz) in nonzero.iter_mut().enumerate() {
            *nz = src[j * row_len..(j + 1) * row_len]
                .iter()
                .any(|&x| x != 0.0);
        }
        if !nonzero.iter().any(|&b| b) {
            continue;
        }
        for j in 0..n {
            // The non-zero input rows that reach output row j, with their weights.
            taps.clear();
            for (t, &wt) in w.iter().enumerate() {
                let jj = reflect(j as i64 + t as i64 - r, n);
                if nonzero[jj] {
                    taps.push((jj, wt));
                }
            }
            if taps.is_empty() {
                continue;
            }
            let o_row = &mut dst[j * row_len..(j + 1) * row_len];
            let mut c0 = 0;
            while c0 < row_len {
                let c1 = (c0 + CHUNK).min(row_len);
                let o = &mut o_row[c0..c1];
                for &(jj, wt) in &taps {
                    let row = &src[jj * row_len + c0..jj * row_len + c1];
                    for (a, &x) in o.iter_mut().zip(row) {
                        *a += wt * x;
                    }
                }
                c0 = c1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Direct 3-D convolution with the product kernel, for comparison.
    fn direct(data: &[f32], size: [usize; 3], sigma: f64, truncate: f64) -> Vec<f64> {
        let w = kernel(sigma, truncate);
        let r = (w.len() / 2) as i64;
        let [nx, ny, nz] = size;
        let mut out = vec![0f64; data.len()];
        for i in 0..nx {
            for j in 0..ny {
                for k in 0..nz {
                    let mut acc = 0f64;
                    for a in -r..=r {
                        for b in -r..=r {
                            for c in -r..=r {
                                let ii = reflect(i as i64 + a, nx);
                                let jj = reflect(j as i64 + b, ny);
                                let kk = reflect(k as i64 + c, nz);
                                let wt = w[(a + r) as usize] as f64
                                    * w[(b + r) as usize] as f64
                                    * w[(c + r) as usize] as f64;
                                acc += wt * data[(ii * ny + jj) * nz + kk] as f64;
                            }
                        }
                    }
                    out[(i * ny + j) * nz + k] = acc;
                }
            }
        }
        out
    }

    #[test]
    fn reflect_is_half_sample_symmetric() {
        // n = 3: ... c b a | a b c | c b a ...
        let got: Vec<usize> = (-4..7).map(|i| reflect(i, 3)).collect();
        assert_eq!(got, vec![2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]);
        assert_eq!(reflect(-1, 1), 0);
        assert_eq!(reflect(100, 7), reflect(100 % 14, 7));
    }

    #[test]
    fn kernel_matches_scipy_radius_and_sum() {
        let k = kernel(10.0, 4.0);
        assert_eq!(k.len(), 81);
        assert!((k.iter().map(|&x| x as f64).sum::<f64>() - 1.0).abs() < 1e-6);
        assert_eq!(kernel(1.0, 4.0).len(), 9);
        assert_eq!(kernel(0.5, 4.0).len(), 5);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn separable_equals_direct(nx in 1usize..9, ny in 1usize..9, nz in 1usize..9,
                                   sigma in 0.4f64..3.0, density in 0.0f64..1.0, seed in any::<u64>()) {
            let n = nx * ny * nz;
            let mut s = seed | 1;
            let data: Vec<f32> = (0..n).map(|_| {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                let u = (s % 10_000) as f64 / 10_000.0;
                if u < density { (s % 97) as f32 / 97.0 } else { 0.0 }
            }).collect();
            let got = filter(&data, [nx, ny, nz], sigma, 4.0);
            let want = direct(&data, [nx, ny, nz], sigma, 4.0);
            for (g, w) in got.iter().zip(&want) {
                prop_assert!((*g as f64 - w).abs() < 1e-5, "{g} vs {w}");
            }
        }
    }

    #[test]
    fn voxposer_sigma_on_small_grid_reflects_many_times() {
        // Radius 40 on a 16-voxel axis: the reflection wraps repeatedly; a constant
        // field must stay constant.
        let data = vec![0.5f32; 16 * 16 * 16];
        let out = voxposer(&data, [16, 16, 16]);
        assert!(out.iter().all(|&x| (x - 0.5).abs() < 1e-5));
    }
}
