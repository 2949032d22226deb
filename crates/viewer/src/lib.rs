//! # valuescape-viewer
//!
//! The Valuescape viewer: the tabletop scene, the selected value map, the planned path and a
//! side panel to drive [`valuescape_voxposer::plan`], as a Bevy app that runs natively and in
//! the browser (WebGL2). Each feature is a plugin (see [`app`]); everything shown comes from
//! `plan`, nothing is hard-coded.
//!
//! The renderer-free parts build without Bevy (`--no-default-features`) and are tested that way:
//! [`state`] (the view state and its URL-hash codec), [`bridge`] (commands in and events out for
//! an embedder), [`colormap`], [`surface`] (voxel-surface meshes and slice images) and [`strokes`] (the
//! path and the workspace outline as tube and ball meshes).

pub mod bridge;
pub mod colormap;
pub mod state;
pub mod strokes;
pub mod surface;

#[cfg(feature = "app")]
pub mod app;

pub use bridge::{Bridge, Command, Outgoing, Status};
pub use state::{CameraState, ProgramEdit, ShownMap, ViewState};
