//! Savitzky-Golay smoothing (least-squares polynomial fits over a sliding window), with
//! scipy's `mode='interp'`: edge points take the polynomial fitted to the first or last
//! full window.

use nalgebra::{DMatrix, DVector};

/// Filter coefficients: `coeffs[p]` (p in `0..window`) are the weights that evaluate the
/// window's least-squares polynomial at offset `p - half` from the centre.
fn coefficients(window: usize, order: usize) -> Option<Vec<Vec<f64>>> {
    let half = (window / 2) as f64;
    let a = DMatrix::from_fn(window, order + 1, |r, c| (r as f64 - half).powi(c as i32));
    let ata = a.transpose() * &a;
    let inv = ata.try_inverse()?;
    let pinv = inv * a.transpose(); // (order+1) x window
    Some(
        (0..window)
            .map(|p| {
                let x = p as f64 - half;
                let basis = DVector::from_fn(order + 1, |c, _| x.powi(c as i32));
                (pinv.transpose() * &basis).iter().copied().collect()
            })
            .collect(),
    )
}

/// Smooths each coordinate of a path. The window is made odd (rounded down) and must exceed
/// `order`; otherwise the path is returned unchanged.
pub fn smooth(path: &[[f64; 3]], window: usize, order: usize) -> Vec<[f64; 3]> {
    let n = path.len();
    let window = if window.is_multiple_of(2) {
        window.saturating_sub(1)
    } else {
        window
    };
    if window <= order || window > n {
        return path.to_vec();
    }
    let Some(coeffs) = coefficients(window, order) else {
        return path.to_vec();
    };
    let half = window / 2;
    let mut out = vec![[0.0; 3]; n];
    for (i, o) in out.iter_mut().enumerate() {
        // Window start and the position of i inside it.
        let (start, pos) = if i < half {
            (0, i)
        } else if i + half >= n {
            (n - window, i - (n - window))
        } else {
            (i - half, half)
        };
        let c = &coeffs[pos];
        for a in 0..3 {
            o[a] = (0..window).map(|t| c[t] * path[start + t][a]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_paths_are_preserved_exactly() {
        let path: Vec<[f64; 3]> = (0..30)
            .map(|i| {
                let t = i as f64 * 0.3;
                [t * t * t - 2.0 * t, 1.0 - t * t, 4.0 * t]
            })
            .collect();
        let s = smooth(&path, 20, 3);
        for (a, b) in path.iter().zip(&s) {
            for k in 0..3 {
                assert!((a[k] - b[k]).abs() < 1e-6, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn noise_is_reduced_and_short_paths_pass_through() {
        let path: Vec<[f64; 3]> = (0..40)
            .map(|i| [i as f64, if i % 2 == 0 { 1.0 } else { -1.0 }, 0.0])
            .collect();
        let s = smooth(&path, 20, 3);
        let rough: f64 = path.iter().map(|p| p[1].abs()).sum();
        let smooth_: f64 = s.iter().map(|p| p[1].abs()).sum();
        assert!(smooth_ < rough * 0.3);
        let short = vec![[1.0, 2.0, 3.0], [2.0, 2.0, 3.0], [3.0, 3.0, 3.0]];
        assert_eq!(smooth(&short, 3, 3), short);
    }
}
