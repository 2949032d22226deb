//! The path (tubes) and waypoint markers, the gripper, and its playback along the
//! trajectory at the waypoints' `time_s`.

use bevy::prelude::*;
use valuescape_voxposer::{PlanResult, Waypoint};

use super::model::Model;
use super::{quat_to_bevy, to_bevy, world_triangle_mesh};
use crate::strokes::StrokeMesh;

/// Playback of the gripper along the plan.
#[derive(Resource, Debug, Default)]
pub struct Playback {
    /// Playing (otherwise paused).
    pub playing: bool,
    /// Time along the whole trajectory (all steps end to end), seconds.
    pub t: f64,
    /// Speed factor.
    pub speed: f64,
    seen: u64,
}

/// The gripper's root entity.
#[derive(Component)]
pub struct Gripper;

/// One finger; `side` is -1 or +1.
#[derive(Component)]
pub struct Finger {
    side: f32,
}

/// One waypoint on the global timeline.
#[derive(Clone, Debug)]
pub struct TimedWaypoint {
    /// Time from the start of the first step, seconds.
    pub t: f64,
    /// Index of the step it belongs to.
    pub step: usize,
    /// The waypoint.
    pub wp: Waypoint,
}

/// All steps' waypoints on one timeline (each step starts where the previous one ended).
pub fn timeline(r: &PlanResult) -> Vec<TimedWaypoint> {
    let mut out = Vec::new();
    let mut offset = 0.0;
    for (i, s) in r.steps.iter().enumerate() {
        let mut last = 0.0f64;
        for w in &s.waypoints {
            let tt = if w.time_s.is_finite() {
                w.time_s.max(last)
            } else {
                last
            };
            last = tt;
            out.push(TimedWaypoint {
                t: offset + tt,
                step: i,
                wp: w.clone(),
            });
        }
        offset += last;
    }
    out
}

/// Duration of the timeline, seconds.
pub fn duration(tl: &[TimedWaypoint]) -> f64 {
    tl.last().map(|w| w.t).unwrap_or(0.0)
}

/// The pose at time `t`: position, orientation (wxyz), gripper opening.
pub fn pose_at(tl: &[TimedWaypoint], t: f64) -> Option<([f64; 3], [f64; 4], f64)> {
    let first = tl.first()?;
    if t <= first.t {
        return Some((first.wp.position, first.wp.quat, first.wp.gripper));
    }
    for w in tl.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if t <= b.t {
            let f = if b.t > a.t {
                (t - a.t) / (b.t - a.t)
            } else {
                1.0
            };
            let p = [0, 1, 2].map(|k| a.wp.position[k] + (b.wp.position[k] - a.wp.position[k]) * f);
            let q = slerp_wxyz(a.wp.quat, b.wp.quat, f);
            let g = a.wp.gripper + (b.wp.gripper - a.wp.gripper) * f;
            return Some((p, q, g));
        }
    }
    let l = tl.last()?;
    Some((l.wp.position, l.wp.quat, l.wp.gripper))
}

fn slerp_wxyz(a: [f64; 4], b: [f64; 4], f: f64) -> [f64; 4] {
    let qa = Quat::from_xyzw(a[1] as f32, a[2] as f32, a[3] as f32, a[0] as f32);
    let qb = Quat::from_xyzw(b[1] as f32, b[2] as f32, b[3] as f32, b[0] as f32);
    if !(qa.is_finite() && qb.is_finite())
        || qa.length_squared() == 0.0
        || qb.length_squared() == 0.0
    {
        return a;
    }
    let q = qa.normalize().slerp(qb.normalize(), f as f32);
    [q.w, q.x, q.y, q.z].map(f64::from)
}

/// Draws the path and animates the gripper.
pub struct PathViewPlugin;

impl Plugin for PathViewPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Playback {
            speed: 1.0,
            ..default()
        })
        .add_systems(Startup, spawn_gripper)
        .add_systems(
            Update,
            (advance_playback, place_gripper, build_path_meshes)
                .chain()
                .after(super::model::ModelSet),
        );
    }
}

fn spawn_gripper(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let body = materials.add(StandardMaterial {
        base_color: Color::srgb(0.85, 0.85, 0.9),
        metallic: 0.3,
        perceptual_roughness: 0.4,
        ..default()
    });
    let finger_mat = materials.add(StandardMaterial {
        base_color: Color::srgb(0.95, 0.55, 0.1),
        ..default()
    });
    // Built in world axes with the fingers along local +z, so the default orientation
    // (180 degrees about x) points them down. The tool centre is the origin.
    commands
        .spawn((Gripper, Transform::default(), Visibility::default()))
        .with_children(|p| {
            p.spawn((
                Mesh3d(meshes.add(Cuboid::new(0.10, 0.03, 0.025))),
                MeshMaterial3d(body.clone()),
                Transform::from_xyz(0.0, 0.0, -0.05),
            ));
            p.spawn((
                Mesh3d(meshes.add(Cylinder::new(0.012, 0.12))),
                MeshMaterial3d(body),
                // Cylinder axis is local y; turn it onto local z, above the palm.
                Transform::from_xyz(0.0, 0.0, -0.12)
                    .with_rotation(Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
            ));
            for side in [-1.0f32, 1.0] {
                p.spawn((
                    Finger { side },
                    Mesh3d(meshes.add(Cuboid::new(0.012, 0.022, 0.06))),
                    MeshMaterial3d(finger_mat.clone()),
                    Transform::from_xyz(side * 0.04, 0.0, -0.01),
                ));
            }
        });
}

fn advance_playback(mut pb: ResMut<Playback>, model: Res<Model>, time: Res<Time>) {
    if pb.seen != model.result_gen {
        pb.seen = model.result_gen;
        pb.t = 0.0;
        pb.playing = model.result.is_some();
    }
    let Some(r) = &model.result else {
        pb.playing = false;
        return;
    };
    if pb.playing {
        let end = duration(&timeline(r));
        pb.t += time.delta_secs_f64() * pb.speed;
        if pb.t >= end {
            pb.t = end;
            pb.playing = false;
        }
    }
}

fn place_gripper(
    pb: Res<Playback>,
    model: Res<Model>,
    mut gripper: Query<&mut Transform, (With<Gripper>, Without<Finger>)>,
    mut fingers: Query<(&Finger, &mut Transform), Without<Gripper>>,
) {
    let pose = match &model.result {
        Some(r) => pose_at(&timeline(r), pb.t),
        None => model.scene.as_ref().map(|s| {
            let ee = s.end_effector;
            (
                ee.position,
                ee.quat,
                if ee.gripper_open { 1.0 } else { 0.0 },
            )
        }),
    };
    let Some((p, q, g)) = pose else {
        return;
    };
    for mut t in &mut gripper {
        t.translation = to_bevy(p);
        t.rotation = quat_to_bevy(q);
    }
    let open = g.clamp(0.0, 1.0) as f32;
    for (f, mut t) in &mut fingers {
        t.translation.x = f.side * (0.012 + 0.03 * open);
    }
}

/// The path's and the workspace outline's meshes (rebuilt when the plan or scene changes).
#[derive(Component)]
struct PathMesh;

/// Step colours, cycled (sRGB).
const STEP_COLORS: [[f32; 4]; 4] = [
    [1.0, 0.3, 0.2, 1.0],
    [0.2, 0.8, 1.0, 1.0],
    [1.0, 0.8, 0.1, 1.0],
    [0.8, 0.3, 1.0, 1.0],
];

/// The path as tubes with a ball at each waypoint (radii in metres), and each step's end
/// marked green where the target was reached and red where not; the workspace as a faint box.
fn build_path_meshes(
    mut commands: Commands,
    model: Res<Model>,
    old: Query<Entity, With<PathMesh>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut seen: Local<Option<(u64, u64)>>,
) {
    let now = (model.result_gen, model.scene_gen);
    if *seen == Some(now) {
        return;
    }
    *seen = Some(now);
    for e in &old {
        commands.entity(e).despawn();
    }
    let mut outline = StrokeMesh::default();
    if let Some(s) = &model.scene {
        let ws = s.workspace;
        outline.box_edges(
            ws.min.map(|x| x as f32),
            ws.max.map(|x| x as f32),
            0.0015,
            [0.7, 0.7, 0.8, 0.35],
        );
    }
    let mut path = StrokeMesh::default();
    for (i, step) in model.result.iter().flat_map(|r| r.steps.iter()).enumerate() {
        let color = STEP_COLORS[i % STEP_COLORS.len()];
        let points: Vec<[f32; 3]> = step
            .waypoints
            .iter()
            .map(|w| w.position.map(|x| x as f32))
            .collect();
        path.polyline(&points, 0.0025, 0.006, color);
        if let Some(last) = points.last() {
            let mark = if step.target_reached {
                [0.2, 1.0, 0.3, 1.0]
            } else {
                [1.0, 0.1, 0.1, 1.0]
            };
            path.ball(*last, 0.02, mark);
        }
    }
    for (m, material) in [
        (
            path,
            StandardMaterial {
                base_color: Color::WHITE,
                perceptual_roughness: 0.5,
                ..default()
            },
        ),
        (
            outline,
            StandardMaterial {
                base_color: Color::WHITE,
                alpha_mode: AlphaMode::Blend,
                unlit: true,
                ..default()
            },
        ),
    ] {
        if m.triangles() == 0 {
            continue;
        }
        commands.spawn((
            PathMesh,
            Mesh3d(meshes.add(world_triangle_mesh(
                &m.positions,
                &m.normals,
                &m.colors,
                m.indices,
            ))),
            MeshMaterial3d(materials.add(material)),
            Transform::IDENTITY,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp(x: f64, t: f64, g: f64) -> Waypoint {
        Waypoint {
            voxel: [0; 3],
            position: [x, 0.0, 1.0],
            quat: [0.0, 1.0, 0.0, 0.0],
            gripper: g,
            velocity: 1.0,
            time_s: t,
        }
    }

    #[test]
    fn timeline_interpolates() {
        let tl: Vec<TimedWaypoint> = [wp(0.0, 0.0, 1.0), wp(1.0, 2.0, 0.0)]
            .into_iter()
            .map(|w| TimedWaypoint {
                t: w.time_s,
                step: 0,
                wp: w,
            })
            .collect();
        let (p, _, g) = pose_at(&tl, 1.0).expect("test value");
        assert!((p[0] - 0.5).abs() < 1e-9);
        assert!((g - 0.5).abs() < 1e-9);
        assert_eq!(pose_at(&tl, 9.0).expect("test value").0[0], 1.0);
        assert_eq!(pose_at(&tl, -1.0).expect("test value").0[0], 0.0);
        assert!(pose_at(&[], 0.0).is_none());
        assert_eq!(duration(&tl), 2.0);
    }
}
