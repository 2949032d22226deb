//! Exact Euclidean distance transform (Felzenszwalb & Huttenlocher's separable lower
//! envelope of parabolas), in voxel units.
//!
//! `distance(seeds)[v]` is the Euclidean distance from voxel `v` to the nearest seed voxel,
//! which equals `scipy.ndimage.distance_transform_edt(1 - seeds)` with unit sampling.

/// Squared distance used for "no seed on this line / in this grid".
pub const UNREACHED: f32 = f32::INFINITY;

/// Up to this many seeds, distances are computed directly (one pass per seed beats the
/// three envelope passes); the results are identical (exact integer squares in `f32`).
pub const DIRECT_SEEDS: usize = 24;

/// Squared Euclidean distance from every voxel to the nearest seed (`UNREACHED` if none).
/// `size` is `[nx, ny, nz]`, C order.
pub fn squared_distance(seeds: &[bool], size: [usize; 3]) -> Vec<f32> {
    let [nx, ny, nz] = size;
    debug_assert_eq!(seeds.len(), nx * ny * nz);
    let few: Vec<usize> = seeds
        .iter()
        .enumerate()
        .filter(|(_, s)| **s)
        .map(|(i, _)| i)
        .take(DIRECT_SEEDS + 1)
        .collect();
    if few.len() <= DIRECT_SEEDS {
        return direct(&few, size);
    }
    let mut d: Vec<f32> = seeds
        .iter()
        .map(|&s| if s { 0.0 } else { UNREACHED })
        .collect();
    let n_max = nx.max(ny).max(nz);
    let mut scratch = Envelope::new(n_max);
    let mut line = vec![0f32; n_max];
    let mut out = vec![0f32; n_max];

    // z: contiguous lines.
    for chunk in d.chunks_exact_mut(nz) {
        if chunk.iter().all(|x| x.is_infinite()) {
            continue;
        }
        line[..nz].copy_from_slice(chunk);
        scratch.transform(&line[..nz], &mut out[..nz]);
        chunk.copy_from_slice(&out[..nz]);
    }
    // y: stride nz inside each x slab.
    for i in 0..nx {
        let slab = &mut d[i * ny * nz..(i + 1) * ny * nz];
        for k in 0..nz {
            let mut any = false;
            for j in 0..ny {
                let x = slab[j * nz + k];
                any |= x.is_finite();
                line[j] = x;
            }
            if !any {
                continue;
            }
            scratch.transform(&line[..ny], &mut out[..ny]);
            for j in 0..ny {
                slab[j * nz + k] = out[j];
            }
        }
    }
    // x: stride ny*nz; gather a block of columns at a time to stay cache-friendly.
    let plane = ny * nz;
    const BLOCK: usize = 64;
    let mut block = vec![0f32; BLOCK * nx];
    let mut start = 0;
    while start < plane {
        let w = BLOCK.min(plane - start);
        for i in 0..nx {
            let row = &d[i * plane + start..i * plane + start + w];
            for (c, &x) in row.iter().enumerate() {
                block[c * nx + i] = x;
            }
        }
        for c in 0..w {
            let col = &mut block[c * nx..(c + 1) * nx];
            if col.iter().all(|x| x.is_infinite()) {
                continue;
            }
            scratch.transform(col, &mut out[..nx]);
            col.copy_from_slice(&out[..nx]);
        }
        for i in 0..nx {
            let row = &mut d[i * plane + start..i * plane + start + w];
            for (c, x) in row.iter_mut().enumerate() {
                *x = block[c * nx + i];
            }
        }
        start += w;
    }
    d
}

/// Squared distances to a handful of seeds (flat indices), by direct evaluation.
fn direct(seeds: &[usize], size: [usize; 3]) -> Vec<f32> {
    let [nx, ny, nz] = size;
    let mut d = vec![UNREACHED; nx * ny * nz];
    let pts: Vec<[f32; 3]> = seeds
        .iter()
        .map(|&i| {
            [
                (i / (ny * nz)) as f32,
                ((i / nz) % ny) as f32,
                (i % nz) as f32,
            ]
        })
        .collect();
    // Per seed: dx^2 + dy^2 are constant along a z line, so the inner loop is a
    // vectorisable min over k.
    let kz: Vec<f32> = (0..nz).map(|k| k as f32).collect();
    for p in &pts {
        for i in 0..nx {
            let dx = i as f32 - p[0];
            for j in 0..ny {
                let dy = j as f32 - p[1];
                let base = dx * dx + dy * dy;
                let line = &mut d[(i * ny + j) * nz..(i * ny + j + 1) * nz];
                for (o, &k) in line.iter_mut().zip(&kz) {
                    let dz = k - p[2];
                    *o = o.min(base + dz * dz);
                }
            }
        }
    }
    d
}

/// Euclidean distance from every voxel to the nearest seed (`f32::INFINITY` if none).
pub fn distance(seeds: &[bool], size: [usize; 3]) -> Vec<f32> {
    let mut d = squared_distance(seeds, size);
    for x in &mut d {
        *x = x.sqrt();
    }
    d
}

/// Scratch space for the 1-D lower envelope.
struct Envelope {
    v: Vec<usize>,
    z: Vec<f64>,
}

impl Envelope {
    fn new(n: usize) -> Self {
        Self {
            v: vec![0; n],
            z: vec![0.0; n + 1],
        }
    }

    /// 1-D squared distance transform of `f` (infinite entries are "no site").
    fn transform(&mut self, f: &[f32], out: &mut [f32]) {
        let n = f.len();
        let (v, z) = (&mut self.v, &mut self.z);
        let mut k: isize = -1;
        for q in 0..n {
            let fq = f[q] as f64;
            if !fq.is_finite() {
                continue;
            }
            loop {
                if k < 0 {
                    k = 0;
                    v[0] = q;
                    z[0] = f64::NEG_INFINITY;
                    z[1] = f64::INFINITY;
                    break;
                }
                let p = v[k as usize];
                let fp = f[p] as f64;
                let (qf, pf) = (q as f64, p as f64);
                let s = ((fq + qf * qf) - (fp + pf * pf)) / (2.0 * (qf - pf));
                if s <= z[k as usize] {
                    k -= 1;
                    continue;
                }
                k += 1;
                let ku = k as usize;
                v[ku] = q;
                z[ku] = s;
                z[ku + 1] = f64::INFINITY;
                break;
            }
        }
        if k < 0 {
            out.fill(UNREACHED);
            return;
        }
        let mut j = 0usize;
        for (q, o) in out.iter_mut().enumerate() {
            let qf = q as f64;
            while z[j + 1] < qf {
                j += 1;
            }
            let p = v[j];
            let dq = qf - p as f64;
            *o = (dq * dq + f[p] as f64) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(seeds: &[bool], size: [usize; 3]) -> Vec<f32> {
        let [nx, ny, nz] = size;
        let pts: Vec<[usize; 3]> = (0..seeds.len())
            .filter(|&i| seeds[i])
            .map(|i| [i / (ny * nz), (i / nz) % ny, i % nz])
            .collect();
        let mut out = vec![f32::INFINITY; seeds.len()];
        for i in 0..nx {
            for j in 0..ny {
                for k in 0..nz {
                    let mut best = f64::INFINITY;
                    for p in &pts {
                        let d = [
                            i as f64 - p[0] as f64,
                            j as f64 - p[1] as f64,
                            k as f64 - p[2] as f64,
                        ];
                        best = best.min(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
                    }
                    out[(i * ny + j) * nz + k] = best.sqrt() as f32;
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn equals_brute_force(nx in 1usize..12, ny in 1usize..12, nz in 1usize..12,
                              density in 0.0f64..0.2, seed in any::<u64>()) {
            let n = nx * ny * nz;
            let mut s = seed | 1;
            let seeds: Vec<bool> = (0..n).map(|_| {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                (s % 10_000) as f64 / 10_000.0 < density
            }).collect();
            let got = distance(&seeds, [nx, ny, nz]);
            let want = brute(&seeds, [nx, ny, nz]);
            for (g, w) in got.iter().zip(&want) {
                if w.is_infinite() { prop_assert!(g.is_infinite()); }
                else { prop_assert!((g - w).abs() < 1e-4, "{g} vs {w}"); }
            }
        }
    }

    #[test]
    fn single_seed_gives_euclidean_distance() {
        let size = [20, 17, 23];
        let mut seeds = vec![false; 20 * 17 * 23];
        seeds[(3 * 17 + 5) * 23 + 7] = true;
        let d = distance(&seeds, size);
        let at = |i: usize, j: usize, k: usize| d[(i * 17 + j) * 23 + k];
        assert_eq!(at(3, 5, 7), 0.0);
        assert!(
            (at(19, 16, 22) - ((16f32).powi(2) + 11f32.powi(2) + 15f32.powi(2)).sqrt()).abs()
                < 1e-4
        );
    }

    #[test]
    fn no_seed_is_unreached() {
        let d = distance(&[false; 64], [4, 4, 4]);
        assert!(d.iter().all(|x| x.is_infinite()));
    }
}
