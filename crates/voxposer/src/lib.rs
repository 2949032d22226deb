//! # valuescape-voxposer
//!
//! VoxPoser's pipeline on top of [`valuescape_core`] and [`valuescape_lang`]:
//! an instruction is compiled (planner -> sub-steps -> composer -> one map program per map
//! kind), the programs run against the map API, the maps are composed into a cost map and a
//! planner turns it into waypoints.
//!
//! The one entry point the viewer, the wasm API and the CLI share is [`plan`].

pub mod api;
pub mod backend;
pub mod compiler;
pub mod pipeline;
pub mod quat;
pub mod query;
pub mod world;

pub use api::{
    KeepMaps, MapKind, PlanError, PlanRequest, PlanResult, PlannerKind, StepMaps, StepResult,
    Timing, Waypoint, plan, plan_with, plan_with_async,
};
pub use backend::{AsyncBackend, Backend, CpuBackend, Immediate, Resident, ResidentPlan};
pub use compiler::{CompileError, ProgramSource, RuleCompiler, StepSpec};
pub use world::World;
