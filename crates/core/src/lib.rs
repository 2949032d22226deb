//! # valuescape-core
//!
//! The numerical heart of Valuescape's VoxPoser playground, in plain Rust (no GPU, no Bevy,
//! builds for `wasm32-unknown-unknown`):
//!
//! - [`grid`]: the voxel grid over a box workspace and VoxPoser's forgiving indexing;
//! - [`scene`]: tabletop scenes (primitives and composites), their JSON format and the presets;
//! - [`field`]: dense voxel fields (the five value maps are fields);
//! - [`edt`], [`gaussian`], [`cost`]: the exact Euclidean distance transform, the separable
//!   Gaussian, and the cost map VoxPoser composes from the maps;
//! - [`plan`]: the `greedy` planner faithful to the original and the `value` planner (a
//!   cost-to-go over the voxel graph followed downhill), and the trajectory read along a path.
//!
//! Every function here is the CPU reference the GPU kernels are tested against.

pub mod cost;
pub mod edt;
pub mod field;
pub mod gaussian;
pub mod grid;
pub mod plan;
pub mod scene;

pub use field::Field;
pub use grid::{Grid, Voxel};
