//! The cost map drawn straight from the GPU buffer the compute kernels composed it in
//! (`valuescape-gpu`'s [`ComposedMap`], on Bevy's own device): a material on the grid's
//! bounding box whose fragment shader (`shaders/render/map_volume.wgsl`) ray-marches the
//! buffer. No voxel goes through the CPU; what it draws matches the CPU mesh of
//! [`crate::surface::exposed_faces`] at full resolution.

use bevy::asset::uuid_handle;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{Material, MaterialPipeline, MaterialPipelineKey, MaterialPlugin};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, Buffer, Face, RenderPipelineDescriptor, ShaderType, SpecializedMeshPipelineError,
};
use bevy::shader::{Shader, ShaderRef};
use valuescape_core::Grid;
use valuescape_gpu::ComposedMap;

use crate::surface::voxel_pitch;

/// The shader's handle (the source is compiled into the crate).
const SHADER: Handle<Shader> = uuid_handle!("6c9d3f0e-3b8e-4f51-9a36-0d5b8a1e7c42");

/// The WGSL source.
pub const SHADER_SOURCE: &str = include_str!("../../../../shaders/render/map_volume.wgsl");

/// Registers the material and its shader.
pub struct MapVolumePlugin;

impl Plugin for MapVolumePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(MaterialPlugin::<MapVolumeMaterial>::default());
        let shader = Shader::from_wgsl(SHADER_SOURCE, "shaders/render/map_volume.wgsl");
        if let Err(e) = app
            .world_mut()
            .resource_mut::<Assets<Shader>>()
            .insert(&SHADER, shader)
        {
            error!("the map volume shader could not be registered: {e}");
        }
    }
}

/// What the shader needs besides the values (see the WGSL's `VolumeParams`).
#[derive(ShaderType, Clone, Copy, Debug, Default)]
pub struct VolumeParams {
    /// Centre of voxel (0, 0, 0), VoxPoser world coordinates.
    pub grid_min: Vec4,
    /// Voxel pitch per axis.
    pub voxel: Vec4,
    /// Voxels per axis.
    pub size: UVec4,
    /// `lo`, `hi`, threshold, invert (0 or 1).
    pub range: Vec4,
}

/// A value map drawn from a GPU buffer.
#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct MapVolumeMaterial {
    /// The grid and the colour mapping.
    #[uniform(0)]
    pub params: VolumeParams,
    /// The values, `f32` per voxel in C order: the compute kernels' own buffer.
    #[storage(1, read_only, buffer)]
    pub values: Buffer,
}

impl Material for MapVolumeMaterial {
    fn fragment_shader() -> ShaderRef {
        SHADER.into()
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        // Back faces: the ray starts at the eye, inside the box or not.
        descriptor.primitive.cull_mode = Some(Face::Front);
        Ok(())
    }
}

/// The material for a composed map, with the colour range and threshold of the view.
pub fn material(
    map: &ComposedMap,
    range: (f32, f32),
    threshold: f32,
    invert: bool,
) -> MapVolumeMaterial {
    let g = &map.grid;
    let p = voxel_pitch(g);
    MapVolumeMaterial {
        params: VolumeParams {
            grid_min: Vec4::new(g.min[0] as f32, g.min[1] as f32, g.min[2] as f32, 0.0),
            voxel: Vec4::new(p[0] as f32, p[1] as f32, p[2] as f32, 0.0),
            size: UVec4::new(g.size[0] as u32, g.size[1] as u32, g.size[2] as u32, 0),
            range: Vec4::new(range.0, range.1, threshold, if invert { 1.0 } else { 0.0 }),
        },
        values: Buffer::from(map.cost.clone()),
    }
}

/// The box the shader draws in: its Bevy transform (a unit cube scaled to the grid's
/// extent plus half a voxel on every side).
pub fn box_transform(grid: &Grid) -> Transform {
    let p = voxel_pitch(grid);
    let lo: [f64; 3] = [0, 1, 2].map(|a| grid.min[a] - 0.5 * p[a]);
    let hi: [f64; 3] = [0, 1, 2].map(|a| grid.max[a] + 0.5 * p[a]);
    let centre = [0, 1, 2].map(|a| 0.5 * (lo[a] + hi[a]));
    let size = [0, 1, 2].map(|a| (hi[a] - lo[a]) as f32);
    // World (x, y, z) sizes become Bevy (x, z, y).
    Transform::from_translation(super::to_bevy(centre))
        .with_scale(Vec3::new(size[0], size[2], size[1]))
}
