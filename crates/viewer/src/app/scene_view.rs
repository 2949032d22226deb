//! The table and the objects of the scene, from `Scene::entities()` primitives.

use bevy::prelude::*;
use valuescape_core::scene::Primitive;

use super::model::Model;
use super::{color_of, to_bevy, world_to_bevy_rotation};

/// Marks everything spawned for the scene (despawned on rebuild).
#[derive(Component)]
pub struct SceneMesh;

/// One drawn scene entity, for picking and dragging.
#[derive(Component, Clone, Debug)]
pub struct SceneEntity {
    /// The entity's name.
    pub name: String,
    /// The object it belongs to.
    pub object: String,
    /// Whether the object may be moved.
    pub movable: bool,
    /// World AABB (z up).
    pub aabb: ([f64; 3], [f64; 3]),
}

/// Draws the scene.
pub struct SceneViewPlugin;

impl Plugin for SceneViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, setup_lights)
            .add_systems(Update, rebuild_scene);
    }
}

fn setup_lights(mut commands: Commands) {
    commands.insert_resource(GlobalAmbientLight {
        color: Color::WHITE,
        brightness: 450.0,
        affects_lightmapped_meshes: true,
    });
    commands.spawn((
        DirectionalLight {
            illuminance: 6000.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(1.5, 3.0, 1.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}

fn rebuild_scene(
    mut commands: Commands,
    model: Res<Model>,
    mut seen: Local<u64>,
    old: Query<Entity, With<SceneMesh>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if *seen == model.scene_gen {
        return;
    }
    *seen = model.scene_gen;
    for e in &old {
        commands.entity(e).despawn();
    }
    let Some(scene) = &model.scene else {
        return;
    };
    let ws = scene.workspace;
    // The table: a slab under the workspace floor (min z is the tabletop).
    let thick = 0.04;
    let half = [
        (ws.max[0] - ws.min[0]) / 2.0 + 0.05,
        (ws.max[1] - ws.min[1]) / 2.0 + 0.05,
        thick / 2.0,
    ];
    let center = [
        (ws.max[0] + ws.min[0]) / 2.0,
        (ws.max[1] + ws.min[1]) / 2.0,
        ws.min[2] - thick / 2.0 - 0.001,
    ];
    commands.spawn((
        SceneMesh,
        Mesh3d(meshes.add(Cuboid::new(
            2.0 * half[0] as f32,
            2.0 * half[1] as f32,
            2.0 * half[2] as f32,
        ))),
        MeshMaterial3d(materials.add(StandardMaterial {
            base_color: Color::srgb(0.55, 0.45, 0.35),
            perceptual_roughness: 0.9,
            ..default()
        })),
        Transform::from_translation(to_bevy(center)).with_rotation(world_to_bevy_rotation()),
    ));
    for ent in scene.entities() {
        let material = materials.add(StandardMaterial {
            base_color: color_of(ent.color.as_deref()),
            perceptual_roughness: 0.6,
            ..default()
        });
        let info = SceneEntity {
            name: ent.name.clone(),
            object: ent.object.clone(),
            movable: ent.movable,
            aabb: ent.aabb_world(),
        };
        for p in &ent.primitives {
            let (mesh, transform) = primitive_mesh(p);
            commands.spawn((
                SceneMesh,
                info.clone(),
                Mesh3d(meshes.add(mesh)),
                MeshMaterial3d(material.clone()),
                transform,
            ));
        }
    }
}

/// A mesh and its transform for one primitive.
pub fn primitive_mesh(p: &Primitive) -> (Mesh, Transform) {
    match *p {
        Primitive::Box { center, half, yaw } => (
            Cuboid::new(
                2.0 * half[0] as f32,
                2.0 * half[1] as f32,
                2.0 * half[2] as f32,
            )
            .into(),
            Transform::from_translation(to_bevy(center))
                .with_rotation(world_to_bevy_rotation() * Quat::from_rotation_z(yaw as f32)),
        ),
        // Bevy's cylinder stands along its local y, which is world z once converted.
        Primitive::Cylinder {
            center,
            radius,
            half_height,
        } => (
            Cylinder::new(radius as f32, 2.0 * half_height as f32)
                .mesh()
                .resolution(32)
                .build(),
            Transform::from_translation(to_bevy(center)),
        ),
        Primitive::Sphere { center, radius } => (
            Sphere::new(radius as f32).mesh().uv(24, 16),
            Transform::from_translation(to_bevy(center)),
        ),
    }
}
