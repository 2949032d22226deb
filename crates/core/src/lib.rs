//! # valuescape-core
//!
//! The numerical heart of Valuescape's VoxPoser playground, in plain Rust (no GPU, no Bevy,
//! builds for `wasm32-unknown-unknown`):
//!
//! - [`grid`]: the voxel grid over a box workspace and VoxPoser's forgiving indexing;
//! - [`scene`]: tabletop scenes (primitives and composites), their JSON format and the presets;
//! - [`field`]: dense voxel fields; [`paint`]: maps kept as the boxes a program painted;
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
pub mod paint;
pub mod plan;
pub mod scene;

pub use field::Field;
pub use grid::{Grid, Voxel};

/// The output of a future that completes without waiting, `None` if it would wait. The
/// pipelines are written once, async (a GPU in the browser answers later); over CPU work,
/// whose futures are ready at once, this runs them synchronously.
pub fn ready_now<F: Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}
