//! The selected map: ONE merged mesh of the exposed faces of the voxels past the threshold,
//! vertex-coloured by viridis, plus an optional axis-aligned slice as a textured quad.

use std::ops::Sub;

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use valuescape_core::Grid;

use super::model::Model;
use super::{to_bevy_f32, world_triangle_mesh};
use crate::surface::{
    MAX_FACES, ShownValues, exposed_faces, is_uniform, shown_values, slice, uniform_note,
};

/// Marks the map's entities.
#[derive(Component)]
pub struct MapMesh;

/// What the map view drew, for the panel's legend.
#[derive(Resource, Clone, Debug)]
pub struct MapInfo {
    /// Value range the colours span.
    pub range: Option<(f32, f32)>,
    /// Faces drawn.
    pub faces: usize,
    /// Voxels (or blocks) drawn.
    pub solid: usize,
    /// Block size used (1 = full resolution).
    pub stride: usize,
    /// The grid.
    pub grid: Option<Grid>,
    /// A note (uniform map, no map for this step).
    pub note: Option<String>,
    /// `gpu` (ray-marched from the compute kernels' buffer), `mesh` (the CPU's voxel
    /// surface) or `none`.
    pub source: &'static str,
    /// Whether the map's values are on the CPU: not for the cost map of a drag preview
    /// planned on the GPU, which stays on the device (no mesh or slice until the drag ends).
    pub on_host: bool,
}

impl Default for MapInfo {
    fn default() -> Self {
        Self {
            range: None,
            faces: 0,
            solid: 0,
            stride: 1,
            grid: None,
            note: None,
            source: "none",
            on_host: false,
        }
    }
}

/// Draws the map.
pub struct MapViewPlugin;

impl Plugin for MapViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MapInfo>()
            .add_systems(Update, rebuild_map.after(super::model::ModelSet));
    }
}

/// The values of the selected map and their colour range (see [`shown_values`]).
pub fn map_values(model: &Model) -> Option<ShownValues> {
    let r = model.result.as_ref()?;
    let maps = r.steps.get(model.state.step)?.maps.as_ref()?;
    let start = model
        .scene
        .as_ref()
        .map(|s| s.end_effector.quat)
        .unwrap_or([1.0, 0.0, 0.0, 0.0]);
    shown_values(maps, model.state.map, start)
}

#[allow(clippy::too_many_arguments)]
fn rebuild_map(
    mut commands: Commands,
    model: Res<Model>,
    compute: Res<super::compute::Compute>,
    #[cfg(feature = "gpu")] mut volumes: ResMut<Assets<super::map_volume::MapVolumeMaterial>>,
    mut seen: Local<u64>,
    old: Query<Entity, With<MapMesh>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut images: ResMut<Assets<Image>>,
    mut info: ResMut<MapInfo>,
) {
    if *seen == model.map_gen {
        return;
    }
    *seen = model.map_gen;
    for e in &old {
        commands.entity(e).despawn();
    }
    *info = MapInfo::default();
    let Some(ShownValues {
        grid,
        values,
        range,
    }) = map_values(&model)
    else {
        if model.result.is_some() {
            info.note = Some("no maps for this step".into());
        }
        return;
    };
    info.grid = Some(grid);
    info.range = Some(range);
    info.on_host = values.is_some();
    let uniform = is_uniform(range);
    // The cost map of a GPU plan is drawn from the device buffer it was composed in.
    #[cfg(feature = "gpu")]
    let on_device = (!uniform
        && !model.mesh_only
        && compute.on_gpu()
        && model.state.map == crate::state::ShownMap::Cost)
        .then(|| model.gpu_map(model.state.step))
        .flatten()
        .filter(|m| m.grid == grid);
    #[cfg(not(feature = "gpu"))]
    let on_device: Option<()> = {
        let _ = &compute;
        None
    };
    if uniform {
        info.note = Some(uniform_note(range));
    } else if let Some(_map) = on_device {
        info.source = "gpu";
        #[cfg(feature = "gpu")]
        commands.spawn((
            MapMesh,
            Mesh3d(meshes.add(Cuboid::new(1.0, 1.0, 1.0))),
            MeshMaterial3d(volumes.add(super::map_volume::material(
                _map,
                range,
                model.state.threshold,
                model.state.invert,
            ))),
            super::map_volume::box_transform(&grid),
        ));
    } else if let Some(values) = &values {
        info.source = "mesh";
        let m = exposed_faces(
            &grid,
            values,
            range,
            model.state.threshold,
            model.state.invert,
            MAX_FACES,
        );
        info.faces = m.faces();
        info.solid = m.solid;
        info.stride = m.stride;
        if m.faces() > 0 {
            let mesh = world_triangle_mesh(&m.positions, &m.normals, &m.colors, m.indices);
            commands.spawn((
                MapMesh,
                Mesh3d(meshes.add(mesh)),
                MeshMaterial3d(materials.add(StandardMaterial {
                    base_color: Color::WHITE,
                    perceptual_roughness: 0.8,
                    ..default()
                })),
                Transform::IDENTITY,
            ));
        }
    } else {
        info.note =
            Some("the preview's cost map is on the GPU: its mesh follows the drag's end".into());
    }
    if values.is_none() && model.state.slice.is_some() && info.note.is_none() {
        info.note =
            Some("the preview's cost map is on the GPU: its slice follows the drag's end".into());
    }
    if let Some([axis, index]) = model.state.slice
        && let Some(values) = &values
        && let Some(s) = slice(&grid, values, axis, index, range.0, range.1)
    {
        let mut image = Image::new(
            Extent3d {
                width: s.width as u32,
                height: s.height as u32,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            s.rgba,
            TextureFormat::Rgba8UnormSrgb,
            RenderAssetUsages::RENDER_WORLD,
        );
        image.sampler = ImageSampler::nearest();
        let [o, a, b] = s.corners.map(to_bevy_f32);
        let c = [0, 1, 2].map(|i| a[i] + b[i] - o[i]);
        let normal = Vec3::from(a)
            .sub(Vec3::from(o))
            .cross(Vec3::from(b).sub(Vec3::from(o)))
            .normalize_or_zero()
            .to_array();
        // Texel (col, row) is at u = col / width along o->a and v = row / height along o->b.
        let mesh = Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::RENDER_WORLD,
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, vec![o, a, c, b])
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, vec![normal; 4])
        .with_inserted_attribute(
            Mesh::ATTRIBUTE_UV_0,
            vec![[0.0f32, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        )
        .with_inserted_indices(Indices::U32(vec![0, 1, 2, 0, 2, 3]));
        commands.spawn((
            MapMesh,
            Mesh3d(meshes.add(mesh)),
            MeshMaterial3d(materials.add(StandardMaterial {
                base_color_texture: Some(images.add(image)),
                unlit: true,
                cull_mode: None,
                double_sided: true,
                ..default()
            })),
            Transform::IDENTITY,
        ));
    }
}
