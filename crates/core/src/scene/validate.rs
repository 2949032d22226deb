//! Semantic checks of a parsed scene; every error names the offending field's path.

use std::collections::HashMap;

use super::color::{color_names, is_known_color};
use super::expand::MAX_DRAWERS;
use super::{RESERVED_NAMES, Scene, SceneError, Shape};

/// Tolerance on the quaternion's norm.
const QUAT_TOL: f64 = 1e-3;

type Check = Result<(), SceneError>;

fn err(path: impl Into<String>, message: impl Into<String>) -> SceneError {
    SceneError::new(path, message)
}

fn finite(path: &str, v: f64) -> Check {
    if v.is_finite() {
        Ok(())
    } else {
        Err(err(path, format!("must be a finite number, got {v}")))
    }
}

fn positive(path: &str, v: f64) -> Check {
    finite(path, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(err(path, format!("must be positive, got {v}")))
    }
}

fn positive3(path: &str, v: [f64; 3]) -> Check {
    for (a, x) in v.iter().enumerate() {
        positive(&format!("{path}[{a}]"), *x)?;
    }
    Ok(())
}

fn finite_n(path: &str, v: &[f64]) -> Check {
    for (a, x) in v.iter().enumerate() {
        finite(&format!("{path}[{a}]"), *x)?;
    }
    Ok(())
}

/// A point must lie inside the workspace; the error names the first axis outside it.
fn inside(path: &str, p: [f64; 3], scene: &Scene) -> Check {
    let ws = &scene.workspace;
    for a in 0..3 {
        if !(p[a] >= ws.min[a] && p[a] <= ws.max[a]) {
            return Err(err(
                format!("{path}[{a}]"),
                format!(
                    "{} is outside the workspace, whose {} range is [{}, {}]",
                    p[a],
                    ["x", "y", "z"][a],
                    ws.min[a],
                    ws.max[a]
                ),
            ));
        }
    }
    Ok(())
}

fn name_ok(path: &str, name: &str) -> Check {
    if name.trim().is_empty() {
        return Err(err(path, "must not be empty"));
    }
    if name.trim() != name {
        return Err(err(
            path,
            format!("{name:?} must not start or end with whitespace"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(err(
            path,
            format!("{name:?} must not contain control characters"),
        ));
    }
    Ok(())
}

fn shape_ok(path: &str, shape: &Shape) -> Check {
    let p = format!("{path}.{}", shape.kind());
    match *shape {
        Shape::Box { size } | Shape::Dustpan { size } => positive3(&format!("{p}.size"), size),
        Shape::Cylinder { radius, height }
        | Shape::Mug { radius, height }
        | Shape::Saucepan { radius, height, .. }
        | Shape::Button { radius, height }
        | Shape::Bottle { radius, height } => {
            positive(&format!("{p}.radius"), radius)?;
            positive(&format!("{p}.height"), height)
        }
        Shape::Sphere { radius } => positive(&format!("{p}.radius"), radius),
        Shape::DrawerCabinet {
            size,
            drawers,
            ref open,
        } => {
            positive3(&format!("{p}.size"), size)?;
            if !(1..=MAX_DRAWERS).contains(&drawers) {
                return Err(err(
                    format!("{p}.drawers"),
                    format!("must be between 1 and {MAX_DRAWERS}, got {drawers}"),
                ));
            }
            if !open.is_empty() && open.len() != drawers as usize {
                return Err(err(
                    format!("{p}.open"),
                    format!(
                        "has {} values but the cabinet has {drawers} drawers; give one per \
                         drawer, top to bottom (or leave it empty for all closed)",
                        open.len()
                    ),
                ));
            }
            for (k, &o) in open.iter().enumerate() {
                let q = format!("{p}.open[{k}]");
                finite(&q, o)?;
                if !(0.0..=size[0]).contains(&o) {
                    return Err(err(
                        q,
                        format!(
                            "must be between 0 and the cabinet depth {}, got {o}",
                            size[0]
                        ),
                    ));
                }
            }
            Ok(())
        }
        Shape::Bin { size, wall } => {
            positive3(&format!("{p}.size"), size)?;
            positive(&format!("{p}.wall"), wall)?;
            if 2.0 * wall >= size[0].min(size[1]) || wall >= size[2] {
                return Err(err(
                    format!("{p}.wall"),
                    format!(
                        "{wall} is too thick: it must be less than half the bin's depth and \
                         width and less than its height ({size:?})"
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// The farthest a workspace corner may lie from the origin along an axis, metres.
const MAX_WORKSPACE_COORD: f64 = 1_000.0;
/// The least and greatest extent of a workspace along an axis, metres (a millimetre to a
/// kilometre: a tabletop is about one).
const MIN_WORKSPACE_EXTENT: f64 = 1e-3;
const MAX_WORKSPACE_EXTENT: f64 = 1_000.0;

/// The checks of [`Scene::validate`].
pub(crate) fn validate(scene: &Scene) -> Check {
    name_ok("name", &scene.name)?;
    for (i, text) in scene.instructions.iter().enumerate() {
        if text.trim().is_empty() {
            return Err(err(format!("instructions[{i}]"), "must not be empty"));
        }
    }

    let ws = &scene.workspace;
    finite_n("workspace.min", &ws.min)?;
    finite_n("workspace.max", &ws.max)?;
    for a in 0..3 {
        if ws.min[a] >= ws.max[a] {
            return Err(err(
                format!("workspace.max[{a}]"),
                format!(
                    "must be greater than workspace.min[{a}] ({}), got {}",
                    ws.min[a], ws.max[a]
                ),
            ));
        }
        // Programs measure in centimetres and voxels: a workspace of 1e-300 m or of 1e308 m
        // (whose extent is infinite) would plan through overflowed or NaN positions.
        for (what, x) in [("min", ws.min[a]), ("max", ws.max[a])] {
            if x.abs() > MAX_WORKSPACE_COORD {
                return Err(err(
                    format!("workspace.{what}[{a}]"),
                    format!(
                        "must lie within {MAX_WORKSPACE_COORD} m of the origin, got {}",
                        // 1e308 rather than its 309 digits.
                        if x.abs() >= 1e6 {
                            format!("{x:e}")
                        } else {
                            format!("{x}")
                        }
                    ),
                ));
            }
        }
        let extent = ws.max[a] - ws.min[a];
        if !(MIN_WORKSPACE_EXTENT..=MAX_WORKSPACE_EXTENT).contains(&extent) {
            return Err(err(
                format!("workspace.max[{a}]"),
                format!(
                    "must lie {MIN_WORKSPACE_EXTENT} to {MAX_WORKSPACE_EXTENT} m above \
                     workspace.min[{a}] ({}), got {}",
                    ws.min[a], ws.max[a]
                ),
            ));
        }
    }

    let ee = &scene.end_effector;
    finite_n("end_effector.position", &ee.position)?;
    inside("end_effector.position", ee.position, scene)?;
    finite_n("end_effector.quat", &ee.quat)?;
    let norm = ee.quat.iter().map(|q| q * q).sum::<f64>().sqrt();
    if (norm - 1.0).abs() > QUAT_TOL {
        let hint = if norm > 0.0 {
            format!(
                " (normalised: {:?})",
                ee.quat.map(|q| (q / norm * 1e6).round() / 1e6)
            )
        } else {
            String::new()
        };
        return Err(err(
            "end_effector.quat",
            format!(
                "must be a unit quaternion (wxyz, norm 1 ± {QUAT_TOL}), got norm {norm}; \
                 normalise it{hint}"
            ),
        ));
    }

    for (i, o) in scene.objects.iter().enumerate() {
        let path = format!("objects[{i}]");
        name_ok(&format!("{path}.name"), &o.name)?;
        if let Some(c) = &o.color
            && !is_known_color(c)
        {
            return Err(err(
                format!("{path}.color"),
                format!(
                    "unknown colour {c:?}; known colours: {}",
                    color_names().join(", ")
                ),
            ));
        }
        finite_n(&format!("{path}.position"), &o.position)?;
        inside(&format!("{path}.position"), o.position, scene)?;
        finite(&format!("{path}.yaw_deg"), o.yaw_deg)?;
        shape_ok(&format!("{path}.shape"), &o.shape)?;
    }

    // Names: objects, then every entity, unique case-insensitively across the scene.
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    for (i, o) in scene.objects.iter().enumerate() {
        let mut names: Vec<String> = vec![o.name.clone()];
        names.extend(o.entities().into_iter().map(|e| e.name));
        names.dedup();
        for name in names {
            let key = name.to_lowercase();
            if RESERVED_NAMES.contains(&key.as_str()) {
                return Err(err(
                    format!("objects[{i}].name"),
                    format!(
                        "{name:?} is reserved for a built-in alias ({})",
                        RESERVED_NAMES.join(", ")
                    ),
                ));
            }
            if let Some((j, owner)) = seen.get(&key) {
                let what = if name == o.name {
                    format!("name {name:?}")
                } else {
                    format!("entity name {name:?} (a part of {:?})", o.name)
                };
                return Err(err(
                    format!("objects[{i}].name"),
                    format!(
                        "{what} is already used by objects[{j}] ({owner:?}); names must be \
                         unique, ignoring case"
                    ),
                ));
            }
            seen.insert(key, (i, o.name.clone()));
        }
    }
    Ok(())
}
