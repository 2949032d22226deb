//! The orbit camera (bevy_panorbit_camera) and its part of the state.

use bevy::camera::CameraOutputMode;
use bevy::camera::visibility::RenderLayers;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::render::view::Msaa;
use bevy_egui::{EguiGlobalSettings, PrimaryEguiContext};
use bevy_panorbit_camera::PanOrbitCamera;

use super::model::Model;
use super::{from_bevy, to_bevy};
use crate::state::CameraState;

/// The orbit camera and its sync with the state.
pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_camera).add_systems(
            Update,
            (apply_camera, record_camera)
                .chain()
                .after(super::model::ModelSet),
        );
    }
}

fn spawn_camera(mut commands: Commands, mut egui: ResMut<EguiGlobalSettings>) {
    commands.spawn((
        Camera3d::default(),
        // Software rasterisers (SwiftShader) are slow enough without multisampling, and
        // tonemapping LUTs would cost bundle size.
        Msaa::Off,
        Tonemapping::Reinhard,
        orbit(CameraState::default()),
    ));
    // The panel gets its own full-window camera, drawn over the 3D view, so that the 3D
    // camera's viewport can be the area right of the panel.
    egui.auto_create_primary_context = false;
    commands.spawn((
        PrimaryEguiContext,
        Camera2d,
        Msaa::Off,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

/// A panorbit camera at a state's pose (y up: the focus is converted).
pub fn orbit(c: CameraState) -> PanOrbitCamera {
    let focus = to_bevy(c.focus.map(f64::from));
    PanOrbitCamera {
        focus,
        target_focus: focus,
        yaw: Some(c.yaw),
        target_yaw: c.yaw,
        pitch: Some(c.pitch),
        target_pitch: c.pitch,
        radius: Some(c.radius),
        target_radius: c.radius,
        zoom_lower_limit: 0.1,
        zoom_upper_limit: Some(20.0),
        force_update: true,
        ..default()
    }
}

fn apply_camera(mut model: ResMut<Model>, mut cams: Query<&mut PanOrbitCamera>) {
    let Some(c) = model.camera_apply.take() else {
        return;
    };
    for mut cam in &mut cams {
        let enabled = cam.enabled;
        *cam = orbit(c);
        cam.enabled = enabled;
    }
}

fn record_camera(mut model: ResMut<Model>, cams: Query<&PanOrbitCamera>) {
    if model.camera_apply.is_some() {
        return;
    }
    let Ok(cam) = cams.single() else {
        return;
    };
    let (Some(yaw), Some(pitch), Some(radius)) = (cam.yaw, cam.pitch, cam.radius) else {
        return;
    };
    // Only record once the camera has settled on its targets.
    let settled = (yaw - cam.target_yaw).abs() < 1e-4
        && (pitch - cam.target_pitch).abs() < 1e-4
        && (radius - cam.target_radius).abs() < 1e-4
        && cam.focus.distance(cam.target_focus) < 1e-5;
    if !settled {
        return;
    }
    let focus = from_bevy(cam.focus).map(|x| x as f32);
    let now = CameraState {
        focus,
        yaw,
        pitch,
        radius,
    };
    let prev = model.state.camera.unwrap_or_default();
    let moved = (0..3).any(|a| (prev.focus[a] - now.focus[a]).abs() > 1e-3)
        || (prev.yaw - now.yaw).abs() > 1e-3
        || (prev.pitch - now.pitch).abs() > 1e-3
        || (prev.radius - now.radius).abs() > 1e-3;
    if moved {
        model.state.camera = Some(round_camera(now));
    }
}

/// Rounds to 4 decimals so links stay short and stable.
fn round_camera(c: CameraState) -> CameraState {
    let r = |x: f32| (x * 1e4).round() / 1e4;
    CameraState {
        focus: c.focus.map(r),
        yaw: r(c.yaw),
        pitch: r(c.pitch),
        radius: r(c.radius),
    }
}
