//! The channel between the viewer and whoever embeds it (the wasm entry, a test): commands
//! in, events out, and the current state to read at any time. Renderer-free and cheap to
//! clone; every clone shares the same queues.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::state::ViewState;

/// A request to the running viewer.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Apply a whole state (replans if the plan inputs changed).
    SetState(Box<ViewState>),
    /// Apply the fields of a JSON object over the current state (see
    /// [`ViewState::patched`]).
    Patch(String),
    /// Apply a URL hash; one that does not decode shows a message and falls back to the
    /// default state.
    SetHash(String),
    /// Destroy the renderer's GPU device (to test the fall-back to the CPU).
    LoseGpuDevice,
    /// Put text in the instruction box without submitting it (restoring a draft after a
    /// restart).
    SetDraft(String),
    /// Draw maps as the CPU mesh even where the GPU buffer could be drawn (`true`), or
    /// draw from the GPU where possible (`false`, the default). For tests comparing the two.
    MeshOnly(bool),
    /// Plan on the GPU (`true`, where the tier has GPU compute; the default there) or on the
    /// CPU (`false`), as the panel's compute switch does: to compare the two on one page.
    PlanOnGpu(bool),
    /// Stop the app.
    Exit,
}

/// Something that happened in the viewer.
#[derive(Clone, Debug, PartialEq)]
pub enum Outgoing {
    /// A plan completed: `serde_json` of the `PlanResult`.
    Plan(String),
    /// A plan failed: `serde_json` of the `PlanError`, and the text the panel shows.
    Error {
        /// `serde_json` of the `PlanError`.
        json: String,
        /// The message as displayed.
        text: String,
    },
    /// A message for the user that is not a plan error (a bad link, a refused drag).
    Notice(String),
    /// The first frame was drawn.
    FirstFrame,
    /// The state changed; carries its URL hash.
    State(String),
    /// The GPU device was lost. The renderer cannot draw again on this page (Bevy does not
    /// rebuild its GPU resources on a new device), so the embedder restarts the playground
    /// from `hash`, the state when it happened; planning meanwhile goes on on the CPU.
    DeviceLost {
        /// What happened, for the user.
        message: String,
        /// The state's URL hash.
        hash: String,
        /// The instruction box's unsubmitted text, if any (the hash does not hold it).
        draft: Option<String>,
    },
}

/// What the panel currently says about planning (mirrored for pages and tests, which cannot
/// read the canvas).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Status {
    /// A plan is requested or running.
    pub planning: bool,
    /// The plan error shown in the panel, as displayed.
    pub error: Option<String>,
    /// The notice shown in the panel.
    pub notice: Option<String>,
    /// Plans completed or failed so far.
    pub plans: u64,
    /// The instruction box's text when it differs from the state's instruction (typed but
    /// not yet submitted).
    pub draft: Option<String>,
}

/// Where the viewer runs and plans (detected once; the compute path may fall back to the
/// CPU later, e.g. when the GPU device is lost).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct TierInfo {
    /// `webgpu` or `webgl2` in the browser (the bundle the loader chose), `native` otherwise;
    /// empty until the renderer has started.
    pub tier: String,
    /// `gpu` (compute shaders on the renderer's device) or `cpu`.
    pub compute: String,
    /// The adapter, where known.
    pub adapter: String,
    /// Why the compute path is what it is, when that is not the tier's natural one.
    pub note: Option<String>,
}

/// Where things are on the canvas, in CSS pixels from its top-left corner: for tests and
/// embedders that drive the playground with a real mouse and keyboard.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Layout {
    /// Each object's top centre, `[x, y]` (absent when off screen).
    pub objects: std::collections::BTreeMap<String, [f32; 2]>,
    /// Panel widgets (`instruction`: the instruction box), `[x, y, width, height]`.
    pub widgets: std::collections::BTreeMap<String, [f32; 4]>,
    /// The widget that has the keyboard focus, if any (keys typed go there).
    pub focus: Option<String>,
    /// How the selected map is drawn: `gpu` (ray-marched from the compute kernels' buffer,
    /// never copied through the CPU), `mesh` (the CPU's voxel-surface mesh) or `none`.
    pub map_source: String,
    /// Whether the selected map's values are on the CPU: `false` for the cost map of a drag
    /// preview planned on the GPU (left on the device), and when the step has no maps.
    pub map_on_host: bool,
    /// The grid's bounding box on screen, `[x, y, width, height]` (absent when no map is
    /// drawn or the box is behind the camera).
    pub map_rect: Option<[f32; 4]>,
}

/// The shared part.
#[derive(Debug, Default)]
pub struct BridgeInner {
    /// The panel's status.
    pub status: Status,
    /// Commands not yet applied.
    pub inbox: Vec<Command>,
    /// Events not yet delivered.
    pub outbox: Vec<Outgoing>,
    /// The state as last published by the viewer.
    pub state: ViewState,
    /// The tier and compute path.
    pub tier: TierInfo,
    /// Where objects and widgets are on the canvas.
    pub layout: Layout,
}

/// Shared queues between the viewer and its embedder.
#[derive(Clone, Debug, Default)]
pub struct Bridge(Arc<Mutex<BridgeInner>>);

impl Bridge {
    /// A new, empty bridge.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the shared part (a poisoned lock is recovered: the data stays usable).
    pub fn lock(&self) -> MutexGuard<'_, BridgeInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a command.
    pub fn send(&self, c: Command) {
        self.lock().inbox.push(c);
    }

    /// Takes the queued commands.
    pub fn take_commands(&self) -> Vec<Command> {
        std::mem::take(&mut self.lock().inbox)
    }

    /// Queues an event.
    pub fn emit(&self, e: Outgoing) {
        self.lock().outbox.push(e);
    }

    /// Takes the queued events.
    pub fn take_events(&self) -> Vec<Outgoing> {
        std::mem::take(&mut self.lock().outbox)
    }

    /// The last published state.
    pub fn state(&self) -> ViewState {
        self.lock().state.clone()
    }

    /// The panel's status.
    pub fn status(&self) -> Status {
        self.lock().status.clone()
    }

    /// The tier and compute path.
    pub fn tier(&self) -> TierInfo {
        self.lock().tier.clone()
    }

    /// Where objects and widgets are on the canvas.
    pub fn layout(&self) -> Layout {
        self.lock().layout.clone()
    }

    /// Publishes the layout (only when it changed: cheap to call every frame).
    pub fn set_layout(&self, l: Layout) {
        let mut g = self.lock();
        if g.layout != l {
            g.layout = l;
        }
    }

    /// Publishes the tier and compute path.
    pub fn set_tier(&self, t: TierInfo) {
        self.lock().tier = t;
    }

    /// Publishes the state.
    pub fn publish_state(&self, s: &ViewState) {
        self.lock().state = s.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_are_shared_between_clones() {
        let a = Bridge::new();
        let b = a.clone();
        a.send(Command::Exit);
        b.emit(Outgoing::FirstFrame);
        assert_eq!(b.take_commands(), vec![Command::Exit]);
        assert!(a.take_commands().is_empty());
        assert_eq!(a.take_events(), vec![Outgoing::FirstFrame]);
        let s = ViewState {
            scene: "x".into(),
            ..ViewState::default()
        };
        b.publish_state(&s);
        assert_eq!(a.state().scene, "x");
    }
}
