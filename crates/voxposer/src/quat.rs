//! Quaternion helpers with the conventions VoxPoser's programs use (transforms3d's):
//! quaternions are `[w, x, y, z]`; `euler2quat(ai, aj, ak)` is the static-axes `sxyz`
//! convention (rotate about x by `ai`, then about the fixed y by `aj`, then the fixed z by
//! `ak`).

/// A quaternion `[w, x, y, z]`.
pub type Quat = [f64; 4];

/// Identity rotation.
pub const IDENTITY: Quat = [1.0, 0.0, 0.0, 0.0];
/// The gripper pointing straight down (half a turn about x): "upright" for a top grasp.
pub const DOWN: Quat = [0.0, 1.0, 0.0, 0.0];

/// Hamilton product `a * b` (apply `b`, then `a`).
pub fn qmult(a: Quat, b: Quat) -> Quat {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// Inverse (conjugate over squared norm); the zero quaternion maps to itself.
pub fn qinverse(q: Quat) -> Quat {
    let n = q.iter().map(|x| x * x).sum::<f64>();
    if n == 0.0 {
        return q;
    }
    [q[0] / n, -q[1] / n, -q[2] / n, -q[3] / n]
}

/// Normalised copy; a zero quaternion becomes the identity.
pub fn normalize(q: Quat) -> Quat {
    let n = q.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n == 0.0 || !n.is_finite() {
        return IDENTITY;
    }
    q.map(|x| x / n)
}

/// Rotation of `angle` radians about a unit `axis`.
pub fn axis_angle(axis: [f64; 3], angle: f64) -> Quat {
    let (s, c) = (0.5 * angle).sin_cos();
    [c, axis[0] * s, axis[1] * s, axis[2] * s]
}

/// transforms3d `euler2quat(ai, aj, ak, 'sxyz')`.
pub fn euler2quat(ai: f64, aj: f64, ak: f64) -> Quat {
    let qx = axis_angle([1.0, 0.0, 0.0], ai);
    let qy = axis_angle([0.0, 1.0, 0.0], aj);
    let qz = axis_angle([0.0, 0.0, 1.0], ak);
    qmult(qz, qmult(qy, qx))
}

/// transforms3d `quat2euler(q, 'sxyz')`: `(ai, aj, ak)` in radians.
pub fn quat2euler(q: Quat) -> [f64; 3] {
    let [w, x, y, z] = normalize(q);
    // Rotation matrix entries needed for sxyz.
    let r00 = 1.0 - 2.0 * (y * y + z * z);
    let r10 = 2.0 * (x * y + w * z);
    let r20 = 2.0 * (x * z - w * y);
    let r21 = 2.0 * (y * z + w * x);
    let r22 = 1.0 - 2.0 * (x * x + y * y);
    let r11 = 1.0 - 2.0 * (x * x + z * z);
    let cy = (r00 * r00 + r10 * r10).sqrt();
    if cy > 1e-9 {
        [r21.atan2(r22), (-r20).atan2(cy), r10.atan2(r00)]
    } else {
        // Gimbal lock: ak is set to 0 and ai absorbs the rotation, as transforms3d does.
        let r12 = 2.0 * (y * z - w * x);
        [(-r12).atan2(r11), (-r20).atan2(cy), 0.0]
    }
}

/// Rotates a vector by a unit quaternion.
pub fn rotate(q: Quat, v: [f64; 3]) -> [f64; 3] {
    let p = qmult(qmult(q, [0.0, v[0], v[1], v[2]]), qinverse(q));
    [p[1], p[2], p[3]]
}

/// The orientation whose approach axis (the gripper's local +z) points along `dir`, by
/// the shortest rotation from +z; pointing straight down gives [`DOWN`].
pub fn pointat2quat(dir: [f64; 3]) -> Quat {
    let n = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
    if n == 0.0 || !n.is_finite() {
        return IDENTITY;
    }
    let d = dir.map(|x| x / n);
    let dot = d[2]; // +z . d
    if dot < -1.0 + 1e-9 {
        return DOWN;
    }
    // axis = z x d = (-d.y, d.x, 0)
    let axis = [-d[1], d[0], 0.0];
    normalize([1.0 + dot, axis[0], axis[1], axis[2]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn euler_round_trip_and_known_values() {
        assert!(close(
            &euler2quat(std::f64::consts::PI, 0.0, 0.0),
            &[0.0, 1.0, 0.0, 0.0]
        ));
        let q = euler2quat(0.3, -0.4, 1.1);
        assert!(close(&quat2euler(q), &[0.3, -0.4, 1.1]));
        // sxyz: z applied last
        let v = rotate(
            euler2quat(
                std::f64::consts::FRAC_PI_2,
                0.0,
                std::f64::consts::FRAC_PI_2,
            ),
            [0.0, 1.0, 0.0],
        );
        // x-rot maps y->z, then z-rot leaves z.
        assert!(close(&v, &[0.0, 0.0, 1.0]));
    }

    #[test]
    fn pointat_maps_z_to_direction() {
        for d in [
            [1.0, 0.0, 0.0],
            [0.0, -1.0, 0.0],
            [0.3, 0.4, -0.5],
            [0.0, 0.0, -1.0],
            [0.0, 0.0, 1.0],
        ] {
            let q = pointat2quat(d);
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            assert!(
                close(&rotate(q, [0.0, 0.0, 1.0]), &d.map(|x| x / n)),
                "{d:?}"
            );
        }
        assert!(close(&qmult(DOWN, qinverse(DOWN)), &IDENTITY));
    }
}
