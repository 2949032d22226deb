//! The Bevy app, one plugin per feature:
//!
//! - [`model::ModelPlugin`]: the view state, planning through [`valuescape_voxposer::plan`]
//!   (or its async form on the GPU), the [`Bridge`] to the embedder;
//! - [`compute::ComputePlugin`]: the capability tier, the GPU backend on Bevy's own device,
//!   and the fall-back to the CPU when the device is lost;
//! - [`scene_view::SceneViewPlugin`]: the table and the objects of the scene;
//! - [`map_view::MapViewPlugin`]: the selected map as one merged voxel-surface mesh and an
//!   optional slice quad; with the `gpu` feature, a GPU plan's cost map is drawn by
//!   `map_volume::MapVolumePlugin` straight from the device buffer it was composed in;
//! - [`path_view::PathViewPlugin`]: the path and waypoints (tube meshes), the gripper and the
//!   play / pause / step playback along the waypoints' times;
//! - [`camera::CameraPlugin`]: the orbit camera and its part of the state;
//! - [`drag::DragPlugin`]: dragging objects with the mouse, which moves them and replans;
//! - [`panel::PanelPlugin`]: the side panel.
//!
//! World coordinates are VoxPoser's (z up); Bevy's are y up: see [`to_bevy`].

pub mod camera;
pub mod compute;
pub mod drag;
pub mod map_view;
#[cfg(feature = "gpu")]
pub mod map_volume;
pub mod model;
pub mod panel;
pub mod path_view;
pub mod scene_view;

use bevy::prelude::*;
use bevy::window::WindowPlugin;

use crate::bridge::Bridge;

/// How to start the viewer.
#[derive(Clone, Debug, Default)]
pub struct ViewerOptions {
    /// CSS selector of the canvas to draw into (web only); `None` creates a window/canvas.
    pub canvas: Option<String>,
    /// Initial URL hash (`#v1....`); empty starts on the default preset.
    pub hash: String,
    /// Shared queues with the embedder.
    pub bridge: Bridge,
    /// Window title (native).
    pub title: String,
    /// The tier the embedder chose (`webgpu`, `webgl2`); empty natively.
    pub tier: String,
}

/// The bridge as a resource.
#[derive(Resource, Clone, Debug, Default)]
pub struct BridgeRes(pub Bridge);

/// All the viewer's plugins (without Bevy's own).
pub struct ViewerPlugins;

impl Plugin for ViewerPlugins {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            model::ModelPlugin,
            compute::ComputePlugin,
            scene_view::SceneViewPlugin,
            map_view::MapViewPlugin,
            path_view::PathViewPlugin,
            camera::CameraPlugin,
            drag::DragPlugin,
            panel::PanelPlugin,
        ));
        #[cfg(feature = "gpu")]
        app.add_plugins(map_volume::MapVolumePlugin);
    }
}

/// A ready-to-run app: Bevy's default plugins for one window or canvas, egui, the orbit camera
/// and the viewer's plugins.
pub fn build_app(opts: ViewerOptions) -> App {
    let mut app = App::new();
    let window = Window {
        title: if opts.title.is_empty() {
            "Valuescape".into()
        } else {
            opts.title.clone()
        },
        canvas: opts.canvas.clone(),
        fit_canvas_to_parent: true,
        // Let the page keep its keyboard shortcuts (copy a link, reload) while egui works.
        prevent_default_event_handling: false,
        ..default()
    };
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(window),
        ..default()
    }))
    .insert_resource(ClearColor(Color::srgb(0.12, 0.13, 0.15)))
    .insert_resource(BridgeRes(opts.bridge.clone()))
    .insert_resource(model::InitialHash(opts.hash.clone()))
    .insert_resource(compute::TierName(if opts.tier.is_empty() {
        "native".into()
    } else {
        opts.tier.clone()
    }))
    .add_plugins(bevy_egui::EguiPlugin::default())
    .add_plugins(bevy_panorbit_camera::PanOrbitCameraPlugin)
    .add_plugins(ViewerPlugins);
    app
}

/// The rotation taking world (z up) axes to Bevy (y up) axes: -90 degrees about x.
pub fn world_to_bevy_rotation() -> Quat {
    Quat::from_rotation_x(-std::f32::consts::FRAC_PI_2)
}

/// A world point (z up, metres) in Bevy coordinates (y up): `(x, z, -y)`.
pub fn to_bevy(p: [f64; 3]) -> Vec3 {
    Vec3::new(p[0] as f32, p[2] as f32, -p[1] as f32)
}

/// A world point from Bevy coordinates.
pub fn from_bevy(v: Vec3) -> [f64; 3] {
    [f64::from(v.x), f64::from(-v.z), f64::from(v.y)]
}

/// A world vector (f32) in Bevy coordinates.
pub fn to_bevy_f32(p: [f32; 3]) -> [f32; 3] {
    [p[0], p[2], -p[1]]
}

/// A Bevy triangle mesh (y up, linear colours) from world geometry (z up, sRGB colours with
/// alpha): what the renderer-free `surface` and `strokes` modules build.
pub fn world_triangle_mesh(
    positions: &[[f32; 3]],
    normals: &[[f32; 3]],
    srgb: &[[f32; 4]],
    indices: Vec<u32>,
) -> Mesh {
    use bevy::asset::RenderAssetUsages;
    use bevy::mesh::{Indices, PrimitiveTopology};
    let colors: Vec<[f32; 4]> = srgb
        .iter()
        .map(|c| {
            let l = Color::srgb(c[0], c[1], c[2]).to_linear();
            [l.red, l.green, l.blue, c[3]]
        })
        .collect();
    let bevy = |v: &[[f32; 3]]| v.iter().map(|p| to_bevy_f32(*p)).collect::<Vec<_>>();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, bevy(positions))
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, bevy(normals))
    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
    .with_inserted_indices(Indices::U32(indices))
}

/// A world orientation (quaternion `wxyz`) as a Bevy rotation, for a model built in world
/// axes.
pub fn quat_to_bevy(q: [f64; 4]) -> Quat {
    let w = Quat::from_xyzw(q[1] as f32, q[2] as f32, q[3] as f32, q[0] as f32);
    let w = if w.length_squared() > 0.0 && w.is_finite() {
        w.normalize()
    } else {
        Quat::IDENTITY
    };
    world_to_bevy_rotation() * w
}

/// Linear colour of a scene colour word; grey when unknown.
pub fn color_of(word: Option<&str>) -> Color {
    word.and_then(valuescape_core::scene::color_rgb)
        .map(|c| Color::linear_rgb(c[0], c[1], c[2]))
        .unwrap_or(Color::linear_rgb(0.5, 0.5, 0.5))
}
