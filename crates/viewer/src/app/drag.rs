//! Dragging an object with the mouse: it slides on the horizontal plane through the point
//! grabbed, and on release `Scene::move_object` moves it and the plan runs again. On the GPU
//! path, and on the CPU in the browser (whose plans pause between stages), the plan also
//! follows while dragging: a new plan whenever the previous is done.

use std::collections::HashMap;

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::input::EguiWantsInput;
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraSystemSet};

use super::model::Model;
use super::scene_view::SceneEntity;
use super::{from_bevy, to_bevy};

/// A drag in progress.
#[derive(Debug, Clone)]
struct Dragging {
    object: String,
    /// Height of the plane it slides on, metres.
    plane_z: f64,
    /// Where the plane was first hit.
    grab: [f64; 3],
    /// Current offset from the start, metres (z stays 0).
    delta: [f64; 3],
    /// The dragged meshes' translations when the drag began.
    base: HashMap<Entity, Vec3>,
    /// The offset last planned while dragging.
    previewed: [f64; 3],
}

/// The drag state.
#[derive(Resource, Debug, Default)]
pub struct Drag {
    active: Option<Dragging>,
}

impl Drag {
    /// The object being dragged.
    pub fn object(&self) -> Option<&str> {
        self.active.as_ref().map(|d| d.object.as_str())
    }
}

/// Mouse dragging of objects.
pub struct DragPlugin;

impl Plugin for DragPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Drag>()
            .add_systems(
                PostUpdate,
                (drag_objects, gate_orbit)
                    .chain()
                    .before(PanOrbitCameraSystemSet),
            )
            .add_systems(Last, publish_layout.before(super::model::PublishSet));
    }
}

/// Entry distance of a ray into an AABB (slab test), if it hits.
pub fn ray_aabb(origin: [f64; 3], dir: [f64; 3], lo: [f64; 3], hi: [f64; 3]) -> Option<f64> {
    let mut t0 = 0.0f64;
    let mut t1 = f64::INFINITY;
    for a in 0..3 {
        if dir[a].abs() < 1e-12 {
            if origin[a] < lo[a] || origin[a] > hi[a] {
                return None;
            }
            continue;
        }
        let inv = 1.0 / dir[a];
        let (mut n, mut f) = ((lo[a] - origin[a]) * inv, (hi[a] - origin[a]) * inv);
        if n > f {
            std::mem::swap(&mut n, &mut f);
        }
        t0 = t0.max(n);
        t1 = t1.min(f);
        if t0 > t1 {
            return None;
        }
    }
    Some(t0)
}

/// Where a ray meets the horizontal plane `z`.
fn ray_plane_z(origin: [f64; 3], dir: [f64; 3], z: f64) -> Option<[f64; 3]> {
    if dir[2].abs() < 1e-9 {
        return None;
    }
    let t = (z - origin[2]) / dir[2];
    (t > 0.0).then(|| [0, 1, 2].map(|a| origin[a] + dir[a] * t))
}

#[allow(clippy::too_many_arguments)]
fn drag_objects(
    mut drag: ResMut<Drag>,
    mut model: ResMut<Model>,
    buttons: Res<ButtonInput<MouseButton>>,
    egui: Res<EguiWantsInput>,
    window: Query<&Window, With<PrimaryWindow>>,
    camera: Query<(&Camera, &GlobalTransform), With<PanOrbitCamera>>,
    mut parts: Query<(Entity, &SceneEntity, &mut Transform)>,
    compute: Res<super::compute::Compute>,
) {
    let ray = (|| {
        let cursor = window.single().ok()?.cursor_position()?;
        let (cam, gt) = camera.single().ok()?;
        let r = cam.viewport_to_world(gt, cursor).ok()?;
        Some((from_bevy(r.origin), from_bevy(Vec3::from(r.direction))))
    })();
    if drag.active.is_none() {
        if !buttons.just_pressed(MouseButton::Left) || egui.wants_any_pointer_input() {
            return;
        }
        let Some((o, d)) = ray else {
            return;
        };
        let hit = parts
            .iter()
            .filter_map(|(_, s, _)| ray_aabb(o, d, s.aabb.0, s.aabb.1).map(|t| (t, s)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((t, s)) = hit else {
            return;
        };
        let grab = [0, 1, 2].map(|a| o[a] + d[a] * t);
        let object = s.object.clone();
        let base = parts
            .iter()
            .filter(|(_, p, _)| p.object == object)
            .map(|(e, _, tr)| (e, tr.translation))
            .collect();
        drag.active = Some(Dragging {
            object,
            plane_z: grab[2],
            grab,
            delta: [0.0; 3],
            base,
            previewed: [0.0; 3],
        });
        return;
    }
    let Some(active) = drag.active.as_mut() else {
        return;
    };
    if let Some((o, d)) = ray
        && let Some(p) = ray_plane_z(o, d, active.plane_z)
    {
        active.delta = [p[0] - active.grab[0], p[1] - active.grab[1], 0.0];
    }
    let shift = to_bevy(active.delta);
    for (e, _, mut tr) in &mut parts {
        if let Some(b) = active.base.get(&e) {
            tr.translation = *b + shift;
        }
    }
    if buttons.pressed(MouseButton::Left) {
        // The plan follows the drag where it can (see `Model::preview_move`): a new plan
        // whenever the last is done and the object has moved since (at least half a
        // centimetre).
        let d = [0, 1].map(|a| active.delta[a] - active.previewed[a]);
        if d[0].hypot(d[1]) > 5e-3 && model.preview_move(&active.object, active.delta, &compute) {
            active.previewed = active.delta;
        }
        return;
    }
    // Released: move the object for real and replan.
    let Some(done) = drag.active.take() else {
        return;
    };
    let moved = done.delta[0].hypot(done.delta[1]) > 1e-3;
    let result = model.scene.as_ref().map(|s| {
        let mut s = s.clone();
        s.move_object(&done.object, done.delta).map(|()| s)
    });
    match result {
        Some(Ok(scene)) if moved => {
            let mut st = model.state.clone();
            if let Some(o) = scene.object(&done.object) {
                st.positions.insert(o.name.clone(), o.position);
            }
            model.notice = None;
            model.apply_state(st);
        }
        Some(Err(e)) if moved => {
            model.notice = Some(format!("cannot move {:?}: {e}", done.object));
            // Put the meshes back.
            model.scene_gen += 1;
            replan_after_previews(&mut model, &done);
        }
        _ => {
            for (e, _, mut tr) in &mut parts {
                if let Some(b) = done.base.get(&e) {
                    tr.translation = *b;
                }
            }
            replan_after_previews(&mut model, &done);
        }
    }
}

/// A drag that ends without moving its object (dragged back, or a move the scene refuses)
/// after previews were planned: the plan shown is a preview's, for a moved object (and on
/// the GPU without its cost map on the host), so the unmoved scene is planned again.
fn replan_after_previews(model: &mut Model, done: &Dragging) {
    if done.previewed != [0.0; 3] {
        model.request_plan();
    }
}

/// Publishes where each object's top centre and the panel's widgets are on the canvas.
fn publish_layout(
    model: Res<Model>,
    parts: Query<&SceneEntity>,
    camera: Query<(&Camera, &GlobalTransform), With<PanOrbitCamera>>,
    bridge: Res<super::BridgeRes>,
    map: Res<super::map_view::MapInfo>,
) {
    let Ok((cam, gt)) = camera.single() else {
        return;
    };
    let mut boxes: std::collections::BTreeMap<&str, ([f64; 3], [f64; 3])> = Default::default();
    for p in &parts {
        let b = boxes
            .entry(p.object.as_str())
            .or_insert(([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]));
        for a in 0..3 {
            b.0[a] = b.0[a].min(p.aabb.0[a]);
            b.1[a] = b.1[a].max(p.aabb.1[a]);
        }
    }
    let objects = boxes
        .into_iter()
        .filter_map(|(name, (lo, hi))| {
            let top = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), hi[2]];
            let v = cam.world_to_viewport(gt, to_bevy(top)).ok()?;
            Some((name.to_string(), [v.x, v.y]))
        })
        .collect();
    // The grid box's eight corners on screen.
    let map_rect = map.grid.filter(|_| map.source != "none").and_then(|g| {
        let p = crate::surface::voxel_pitch(&g);
        let (mut lo, mut hi) = (Vec2::splat(f32::INFINITY), Vec2::splat(f32::NEG_INFINITY));
        for c in 0..8 {
            let corner: [f64; 3] = [0, 1, 2].map(|a| {
                if c >> a & 1 == 0 {
                    g.min[a] - 0.5 * p[a]
                } else {
                    g.max[a] + 0.5 * p[a]
                }
            });
            let v = cam.world_to_viewport(gt, to_bevy(corner)).ok()?;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        Some([lo.x, lo.y, hi.x - lo.x, hi.y - lo.y])
    });
    bridge.0.set_layout(crate::bridge::Layout {
        objects,
        widgets: model.widget_rects.clone(),
        focus: model.focused_widget.clone(),
        map_source: map.source.to_string(),
        map_on_host: map.on_host,
        map_rect,
    });
}

fn gate_orbit(drag: Res<Drag>, egui: Res<EguiWantsInput>, mut cams: Query<&mut PanOrbitCamera>) {
    let enabled = drag.active.is_none() && !egui.wants_any_pointer_input();
    for mut c in &mut cams {
        if c.enabled != enabled {
            c.enabled = enabled;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_hit_boxes_and_planes() {
        let t = ray_aabb([0.0, 0.0, 5.0], [0.0, 0.0, -1.0], [-1.0; 3], [1.0; 3]);
        assert_eq!(t, Some(4.0));
        assert_eq!(
            ray_aabb([3.0, 0.0, 5.0], [0.0, 0.0, -1.0], [-1.0; 3], [1.0; 3]),
            None
        );
        assert_eq!(
            ray_plane_z([0.0, 0.0, 2.0], [1.0, 0.0, -1.0], 1.0),
            Some([1.0, 0.0, 1.0])
        );
        assert_eq!(ray_plane_z([0.0, 0.0, 2.0], [1.0, 0.0, 1.0], 1.0), None);
    }
}
