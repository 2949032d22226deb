//! The model: the view state, the scene it describes, the last plan or error, and the
//! systems that plan and talk to the [`crate::Bridge`].

use std::collections::BTreeMap;

use bevy::prelude::*;
use valuescape_core::scene::{Scene, presets};
use valuescape_voxposer::{KeepMaps, MapKind, PlanError, PlanRequest, PlanResult, plan};

use super::compute::Compute;

use super::BridgeRes;
use crate::bridge::{Command, Outgoing};
use crate::state::{CPU_BROWSER_MAX_GRID, ProgramEdit, ShownMap, ViewState};

/// The URL hash the app started with.
#[derive(Resource, Clone, Debug, Default)]
pub struct InitialHash(pub String);

/// Where planning stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlanStatus {
    /// Nothing to do.
    #[default]
    Idle,
    /// A plan was asked for; it runs after this frame is drawn (so the panel can say so).
    Requested,
    /// It runs this frame.
    Running,
}

/// Everything the viewer shows, and what it was made from.
#[derive(Resource, Debug, Default)]
pub struct Model {
    /// The current state.
    pub state: ViewState,
    /// The scene of the state (preset plus moved objects).
    pub scene: Option<Scene>,
    /// The last successful plan for the current inputs.
    pub result: Option<PlanResult>,
    /// The last plan error (cleared by a success).
    pub error: Option<PlanError>,
    /// A message that is not a plan error.
    pub notice: Option<String>,
    /// Planning status.
    pub status: PlanStatus,
    /// Bumped when the scene changes.
    pub scene_gen: u64,
    /// Bumped when what the map view draws changes.
    pub map_gen: u64,
    /// Bumped when a new plan arrives.
    pub result_gen: u64,
    /// The instruction box's text.
    pub instruction_buf: String,
    /// The box holds text typed (or restored) and not yet submitted: a finished plan does not
    /// overwrite it.
    pub draft_dirty: bool,
    /// The program editors' texts, per step and map.
    pub program_bufs: BTreeMap<(usize, MapKind), String>,
    /// Seconds (app time) at which edited programs are replanned.
    pub edit_deadline: Option<f64>,
    /// A camera pose to apply (from a state).
    pub camera_apply: Option<crate::state::CameraState>,
    /// Wall-clock milliseconds of the last `plan` call, as measured here.
    pub last_call_ms: f64,
    /// The last plan ran on the page's thread with pauses between its stages (see
    /// `PagedCpu`): `last_call_ms` includes the frames drawn in them.
    pub last_call_paged: bool,
    /// The first frame has been drawn (planning waits for it, so the page shows at once).
    pub first_frame_done: bool,
    /// A plan in flight (on the GPU; in the browser, also on the CPU), whose result arrives
    /// in a later frame.
    pub job: Option<PlanJob>,
    /// A request to plan on the CPU because its GPU job was abandoned.
    pub cpu_rerun: Option<PlanRequest>,
    /// Panel widgets' rectangles `[x, y, w, h]` (logical pixels), for the bridge's layout.
    pub widget_rects: BTreeMap<String, [f32; 4]>,
    /// The panel widget with the keyboard focus.
    pub focused_widget: Option<String>,
    /// The last GPU plan's cost maps, one per step, still on the device (the map view draws
    /// the cost map from them); empty after a CPU plan.
    #[cfg(feature = "gpu")]
    pub gpu_maps: Vec<valuescape_gpu::ComposedMap>,
    /// Draw maps as the CPU mesh even where a GPU buffer could be drawn (a test hook).
    pub mesh_only: bool,
    /// The state shown after a link that could not be read: while it is unchanged, the
    /// address keeps that link as given (so it can be corrected) instead of this state's.
    pub unread_link: Option<ViewState>,
}

/// The outcome of a plan.
pub type PlanOutcome = Result<PlanResult, PlanError>;

/// A plan in flight: the request (rerun on the CPU if the GPU fails) and the slot its future
/// fills.
#[derive(Debug)]
pub struct PlanJob {
    /// What is being planned.
    pub req: PlanRequest,
    /// It runs on the GPU (otherwise on the CPU, paused between stages: `PagedCpu`).
    pub on_gpu: bool,
    /// Filled when the plan completes.
    pub slot: std::sync::Arc<std::sync::Mutex<Option<PlanOutcome>>>,
    /// When it started ([`now_ms`]).
    pub started_ms: f64,
    /// A drag preview ([`Model::preview_move`]): another is likely to follow.
    pub preview: bool,
    /// The cost maps the plan composed, left on the device (filled with the outcome).
    #[cfg(feature = "gpu")]
    pub maps: std::sync::Arc<std::sync::Mutex<Vec<valuescape_gpu::ComposedMap>>>,
}

impl Model {
    /// Applies a state: rebuilds the scene and replans when the plan inputs changed,
    /// otherwise only the view is refreshed.
    pub fn apply_state(&mut self, new: ViewState) {
        let replan = self.scene.is_none() || self.state.plan_inputs_differ(&new);
        let shown_before = self.shown_instruction();
        let scene_changed = self.scene.is_none()
            || self.state.scene != new.scene
            || self.state.positions != new.positions;
        if new.camera.is_some() && new.camera != self.state.camera {
            self.camera_apply = new.camera;
        }
        self.state = new;
        if scene_changed {
            self.rebuild_scene();
        }
        if !replan && let Some(n) = self.result.as_ref().map(|r| r.steps.len()) {
            // Only the view changed: a step the plan shown does not have is said at once
            // (after a replan, the new plan's steps decide).
            if let Some(msg) = self.state.clamp_step(n) {
                self.notice = Some(msg);
            }
        }
        if replan {
            // The box follows the instruction, but text typed into it and not submitted
            // stays while the instruction itself is unchanged (a planner or grid change, a
            // moved object).
            let shown = self.shown_instruction();
            if !self.draft_dirty || shown != shown_before {
                self.instruction_buf = shown;
                self.draft_dirty = false;
            }
            self.request_plan();
        }
        self.map_gen += 1;
    }

    /// On the CPU in the browser, caps the grid (see [`CPU_BROWSER_MAX_GRID`]).
    fn cap_grid_for_cpu(&mut self, bridge: &crate::Bridge) {
        if !cfg!(target_arch = "wasm32") {
            return;
        }
        if let Some(msg) = self.state.cap_grid(CPU_BROWSER_MAX_GRID) {
            bridge.emit(Outgoing::Notice(msg.clone()));
            self.notice = Some(msg);
        }
    }

    /// The instruction that will be planned: the state's, or the scene's first.
    pub fn shown_instruction(&self) -> String {
        if !self.state.instruction.trim().is_empty() {
            return self.state.instruction.clone();
        }
        self.scene
            .as_ref()
            .and_then(|s| s.instructions.first().cloned())
            .unwrap_or_default()
    }

    /// Rebuilds the scene from the preset and the moved positions; problems become notices
    /// and fall back to the default preset.
    pub fn rebuild_scene(&mut self) {
        let name = if self.state.scene.is_empty() {
            default_preset()
        } else {
            self.state.scene.clone()
        };
        let mut scene = match presets::by_name(&name) {
            Some(s) => s,
            None => {
                self.notice = Some(format!(
                    "there is no preset called {name:?}; showing {:?}. Presets: {}",
                    default_preset(),
                    presets::names().join(", ")
                ));
                self.state.scene = default_preset();
                match presets::by_name(&self.state.scene) {
                    Some(s) => s,
                    None => {
                        self.scene = None;
                        return;
                    }
                }
            }
        };
        if self.state.scene.is_empty() {
            self.state.scene = scene.name.clone();
        }
        let mut bad = Vec::new();
        let mut applied = Vec::new();
        for (obj, pos) in &self.state.positions {
            let Some(cur) = scene.object(obj).map(|o| o.position) else {
                bad.push(format!("no object {obj:?}"));
                continue;
            };
            let delta = [0, 1, 2].map(|a| pos[a] - cur[a]);
            match scene.move_object(obj, delta) {
                Ok(()) => applied.push(obj.clone()),
                Err(e) => bad.push(e.to_string()),
            }
        }
        if !bad.is_empty() {
            self.notice = Some(format!(
                "some moved objects were not applied: {}",
                bad.join("; ")
            ));
            // The state (and the link) keeps only the moves the scene shows.
            self.state.positions.retain(|k, _| applied.contains(k));
        }
        self.scene = Some(scene);
        self.scene_gen += 1;
    }

    /// Asks for a plan (it runs after the next frame is drawn).
    pub fn request_plan(&mut self) {
        self.status = PlanStatus::Requested;
    }

    /// The request the current state describes.
    pub fn request(&self) -> Option<PlanRequest> {
        Some(PlanRequest {
            scene: self.scene.clone()?,
            instruction: self.state.instruction.clone(),
            planner: self.state.planner,
            grid_size: self.state.grid,
            overrides: self
                .state
                .programs
                .iter()
                .map(|p| (p.step, p.map, p.text.clone()))
                .collect(),
            keep_maps: KeepMaps::All,
        })
    }

    /// Sets the instruction (from the box) and replans; program edits are dropped (they
    /// belong to the old instruction's programs).
    pub fn set_instruction(&mut self, text: String) {
        self.draft_dirty = false;
        self.state.instruction = text;
        self.state.programs.clear();
        self.request_plan();
    }

    /// Records an edited program and schedules a replan.
    pub fn edit_program(&mut self, step: usize, map: MapKind, text: String, now: f64) {
        match self
            .state
            .programs
            .iter_mut()
            .find(|p| p.step == step && p.map == map)
        {
            Some(p) => p.text = text,
            None => self.state.programs.push(ProgramEdit { step, map, text }),
        }
        self.edit_deadline = Some(now + 0.6);
    }

    /// Switches to another preset (moved objects, instruction and edits are reset).
    pub fn set_preset(&mut self, name: &str) {
        let mut s = self.state.clone();
        s.scene = name.to_string();
        s.positions.clear();
        s.instruction.clear();
        s.programs.clear();
        s.step = 0;
        self.apply_state(s);
    }

    /// Selects the map drawn (and its natural threshold direction).
    pub fn set_map(&mut self, map: ShownMap) {
        self.state.map = map;
        self.state.invert = matches!(map, ShownMap::Gripper);
        self.map_gen += 1;
    }

    /// Starts the plan: on the GPU, a job whose result a later frame picks up; on the CPU,
    /// now.
    fn run_plan(&mut self, bridge: &crate::Bridge, compute: &Compute) {
        self.status = PlanStatus::Idle;
        self.edit_deadline = None;
        if !compute.on_gpu() {
            self.cap_grid_for_cpu(bridge);
        }
        let Some(req) = self.request() else {
            return;
        };
        if compute.on_gpu() {
            self.start_gpu_job(req, compute);
            return;
        }
        self.plan_on_cpu(req, bridge);
    }

    /// Plans `req` on the CPU: natively at once; in the browser as a job that gives the page
    /// its event loop between stages ([`PagedCpu`]), so frames are drawn and input handled
    /// while it runs (an MPPI plan takes about a second there).
    fn plan_on_cpu(&mut self, req: PlanRequest, bridge: &crate::Bridge) {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = bridge;
            self.start_paged_cpu_job(req);
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let t0 = now_ms();
            let out = plan(&req);
            self.last_call_ms = now_ms() - t0;
            self.last_call_paged = false;
            self.finish_plan(out, bridge);
        }
    }

    /// Starts planning `req` on the page's thread in the browser, pausing between stages
    /// ([`PagedCpu`]); the result is picked up by a later frame.
    #[cfg(target_arch = "wasm32")]
    fn start_paged_cpu_job(&mut self, req: PlanRequest) {
        let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (job_req, fill) = (req.clone(), slot.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let backend = PagedCpu {
                gave_way: std::cell::Cell::new(now_ms()),
            };
            let r = valuescape_voxposer::plan_with_async(
                &job_req,
                &valuescape_voxposer::RuleCompiler,
                &backend,
            )
            .await;
            *fill.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        });
        self.job = Some(PlanJob {
            req,
            on_gpu: false,
            slot,
            started_ms: now_ms(),
            preview: false,
            #[cfg(feature = "gpu")]
            maps: Default::default(),
        });
    }

    /// Starts planning `req` on the GPU; the result is picked up by a later frame. Does
    /// nothing without a GPU backend.
    pub fn start_gpu_job(&mut self, req: PlanRequest, compute: &Compute) {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = compute.gpu.clone() {
            let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
            let maps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let job_req = req.clone();
            let (fill, fill_maps) = (slot.clone(), maps.clone());
            let fut = async move {
                // One job at a time: what the backend kept before is not this plan's.
                gpu.take_composed();
                let r = valuescape_voxposer::plan_with_async(
                    &job_req,
                    &valuescape_voxposer::RuleCompiler,
                    &*gpu,
                )
                .await;
                *fill_maps.lock().unwrap_or_else(|e| e.into_inner()) = gpu.take_composed();
                *fill.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            };
            let started_ms = now_ms();
            #[cfg(target_arch = "wasm32")]
            wasm_bindgen_futures::spawn_local(fut);
            // Natively the GPU futures complete once the device is polled, which reading a
            // buffer back does: block here.
            #[cfg(not(target_arch = "wasm32"))]
            bevy::tasks::block_on(fut);
            self.job = Some(PlanJob {
                req,
                on_gpu: true,
                slot,
                started_ms,
                preview: false,
                maps,
            });
        }
        #[cfg(not(feature = "gpu"))]
        let _ = (req, compute);
    }

    /// While an object is dragged: plans with the object moved by `delta` (metres) without
    /// committing it to the state, so the path follows the drag. On the GPU, and in the
    /// browser on the CPU too (its plans pause between stages, so the drag stays smooth);
    /// natively the CPU would hold every frame, so it plans on release only. One job at a
    /// time; returns whether one was started.
    pub fn preview_move(&mut self, object: &str, delta: [f64; 3], compute: &Compute) -> bool {
        let paged_cpu = cfg!(target_arch = "wasm32") && !compute.on_gpu();
        if !(compute.on_gpu() || paged_cpu) || self.job.is_some() {
            return false;
        }
        let Some(mut req) = self.request() else {
            return false;
        };
        if req.scene.move_object(object, delta).is_err() {
            return false;
        }
        // On the GPU the composed maps stay on the device, where the map view draws the
        // cost map from; the programs' maps come back (they are made on the host). Where
        // the map is drawn as the CPU's mesh (`mesh_only`), every map comes back.
        req.keep_maps = if self.mesh_only {
            KeepMaps::All
        } else {
            KeepMaps::Programs
        };
        if compute.on_gpu() {
            self.start_gpu_job(req, compute);
        } else {
            #[cfg(target_arch = "wasm32")]
            self.start_paged_cpu_job(req);
        }
        if let Some(job) = &mut self.job {
            job.preview = true;
        }
        true
    }

    /// Drops a GPU job whose device is gone and plans its request on the CPU; the maps left
    /// on that device are dropped too (the map view draws the CPU mesh). A CPU job goes on.
    pub fn abandon_job(&mut self) {
        if let Some(job) = self.job.take_if(|j| j.on_gpu) {
            self.cpu_rerun = Some(job.req);
        }
        self.drop_gpu_maps();
    }

    /// The instruction box's text when it differs from what is shown as planned.
    pub fn draft(&self) -> Option<String> {
        (self.draft_dirty && self.instruction_buf != self.shown_instruction())
            .then(|| self.instruction_buf.clone())
    }

    /// Forgets the maps kept on the GPU and redraws the map from the CPU's copy.
    pub fn drop_gpu_maps(&mut self) {
        #[cfg(feature = "gpu")]
        if !self.gpu_maps.is_empty() {
            self.gpu_maps.clear();
            self.map_gen += 1;
        }
    }

    /// The GPU-resident cost map of step `step` of the current plan, if there is one.
    #[cfg(feature = "gpu")]
    pub fn gpu_map(&self, step: usize) -> Option<&valuescape_gpu::ComposedMap> {
        self.gpu_maps.get(step)
    }

    /// Starts the CPU rerun of an abandoned GPU job, and picks up a finished job. A GPU
    /// job's failure is checked against the CPU: if the CPU plans the same request, the GPU
    /// was at fault and planning stays on the CPU from now on.
    fn poll_job(&mut self, bridge: &crate::Bridge, compute: &mut Compute) {
        if self.job.is_none()
            && let Some(req) = self.cpu_rerun.take()
        {
            self.cap_grid_for_cpu(bridge);
            let req = PlanRequest {
                grid_size: req.grid_size.min(self.state.grid),
                ..req
            };
            self.plan_on_cpu(req, bridge);
        }
        let done = match &self.job {
            Some(j) => j.slot.lock().unwrap_or_else(|e| e.into_inner()).take(),
            None => return,
        };
        let Some(out) = done else {
            return;
        };
        let Some(job) = self.job.take() else {
            return;
        };
        self.last_call_ms = now_ms() - job.started_ms;
        self.last_call_paged = !job.on_gpu;
        #[cfg(feature = "gpu")]
        let gpu_maps = std::mem::take(&mut *job.maps.lock().unwrap_or_else(|e| e.into_inner()));
        let out = match out {
            Err(e) if job.on_gpu && e.stage == "plan" => {
                let cpu = plan(&job.req);
                if cpu.is_ok() {
                    let msg = format!("GPU compute failed ({e}); planning on the CPU from now on.");
                    compute.fall_back(msg.clone());
                    bridge.set_tier(compute.info.clone());
                    bridge.emit(Outgoing::Notice(msg.clone()));
                    self.notice = Some(msg);
                }
                cpu
            }
            other => other,
        };
        #[cfg(feature = "gpu")]
        let steps = out.as_ref().map_or(0, |r| r.steps.len());
        self.finish_plan(out, bridge);
        // Kept only when they are, one for one, the steps of the plan just shown.
        #[cfg(feature = "gpu")]
        if compute.on_gpu() && steps > 0 && gpu_maps.len() == steps {
            self.gpu_maps = gpu_maps;
        }
        // The buffers the GPU keeps for the next step help only while previews follow one
        // another: after any other plan they are freed (about ten grid-sized buffers: 38 MiB
        // at 100^3, 640 MiB at 256^3).
        #[cfg(feature = "gpu")]
        if job.on_gpu
            && !job.preview
            && let Some(gpu) = &compute.gpu
        {
            gpu.release_buffers();
        }
    }

    /// Takes a plan's outcome: the result or the error, the program buffers, the events.
    fn finish_plan(&mut self, out: PlanOutcome, bridge: &crate::Bridge) {
        #[cfg(feature = "gpu")]
        self.gpu_maps.clear();
        match out {
            Ok(r) => {
                self.program_bufs.clear();
                for (i, s) in r.steps.iter().enumerate() {
                    for (k, text) in &s.programs {
                        self.program_bufs.insert((i, *k), text.clone());
                    }
                }
                if let Some(msg) = self.state.clamp_step(r.steps.len()) {
                    bridge.emit(Outgoing::Notice(msg.clone()));
                    self.notice = Some(msg);
                }
                if !self.draft_dirty {
                    self.instruction_buf = r.instruction.clone();
                }
                bridge.emit(Outgoing::Plan(
                    serde_json::to_string(&r).unwrap_or_else(|_| "null".into()),
                ));
                self.result = Some(r);
                self.error = None;
            }
            Err(e) => {
                bridge.emit(Outgoing::Error {
                    json: serde_json::to_string(&e).unwrap_or_else(|_| "null".into()),
                    text: super::panel::error_text(&e),
                });
                // A failed plan leaves nothing valid to draw for the new inputs.
                self.result = None;
                self.error = Some(e);
            }
        }
        self.result_gen += 1;
        self.map_gen += 1;
    }
}

/// The CPU backend for the browser's page thread: between stages, once
/// [`PAGED_CPU_BUDGET_MS`] have passed since the plan began or last gave way, it waits for a
/// `setTimeout(0)`, which lets the browser draw a frame and handle input before the next
/// stage runs (each stage still runs to its end once started). Short stages run back to
/// back: every wait costs a frame, and a plan of many short stages would otherwise take a
/// frame per stage longer.
#[cfg(target_arch = "wasm32")]
struct PagedCpu {
    /// [`now_ms`] when the plan began or last gave way.
    gave_way: std::cell::Cell<f64>,
}

/// How long a paged CPU plan runs before it gives the page a frame: about three frames at
/// 60 Hz.
#[cfg(target_arch = "wasm32")]
const PAGED_CPU_BUDGET_MS: f64 = 50.0;

#[cfg(target_arch = "wasm32")]
impl valuescape_voxposer::backend::AsyncBackend for PagedCpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn compose(
        &self,
        input: &valuescape_core::cost::CostInput<'_>,
    ) -> impl Future<Output = Result<valuescape_core::cost::CostMaps, String>> {
        use valuescape_voxposer::backend::Backend;
        std::future::ready(valuescape_voxposer::backend::CpuBackend.compose(input))
    }

    fn plan(
        &self,
        problem: &valuescape_core::plan::Problem<'_>,
        planner: valuescape_voxposer::PlannerKind,
    ) -> impl Future<Output = Result<valuescape_core::plan::PathPlan, String>> {
        use valuescape_voxposer::backend::Backend;
        std::future::ready(valuescape_voxposer::backend::CpuBackend.plan(problem, planner))
    }

    async fn pause(&self) {
        if now_ms() - self.gave_way.get() < PAGED_CPU_BUDGET_MS {
            return;
        }
        let timer = js_sys::Promise::new(&mut |resolve, _reject| {
            let set = web_sys::window().map(|w| w.set_timeout_with_callback(&resolve));
            if !matches!(set, Some(Ok(_))) {
                // No window (cannot happen on the page): go on at once.
                let _ = resolve.call0(&js_sys::wasm_bindgen::JsValue::NULL);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
        self.gave_way.set(now_ms());
    }
}

/// The first preset.
pub fn default_preset() -> String {
    presets::names()
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Milliseconds from an arbitrary origin (wall clock, for timings).
pub fn now_ms() -> f64 {
    bevy::platform::time::Instant::now()
        .duration_since(*START)
        .as_secs_f64()
        * 1e3
}

static START: std::sync::LazyLock<bevy::platform::time::Instant> =
    std::sync::LazyLock::new(bevy::platform::time::Instant::now);

/// The systems that apply commands and plan; views run after it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelSet;

/// The systems that publish to the bridge (in `Last`); embedders deliver events after it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublishSet;

/// The model and planning.
pub struct ModelPlugin;

impl Plugin for ModelPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Model>()
            .init_resource::<Published>()
            .add_systems(Startup, init_model)
            .add_systems(First, apply_commands)
            .add_systems(
                Update,
                (edit_debounce, run_requested_plan).chain().in_set(ModelSet),
            )
            .add_systems(Last, (first_frame, publish_state).in_set(PublishSet));
    }
}

fn init_model(mut model: ResMut<Model>, hash: Res<InitialHash>, bridge: Res<BridgeRes>) {
    let _ = &*START;
    apply_hash(&mut model, &hash.0, &bridge.0);
}

/// Applies a URL hash. A bad one shows why and changes nothing: the view stays as it was (the
/// default state when the page opens with it), and the address keeps the link as given.
fn apply_hash(model: &mut Model, hash: &str, bridge: &crate::Bridge) {
    match ViewState::from_hash(hash) {
        Ok(s) => model.apply_state(s.unwrap_or_default()),
        Err(e) => {
            let msg = if model.scene.is_some() {
                format!("This link's state could not be read ({e}); the view is unchanged.")
            } else {
                model.apply_state(ViewState::default());
                format!("This link's state could not be read ({e}); showing the default instead.")
            };
            model.unread_link = Some(model.state.clone());
            bridge.emit(Outgoing::Notice(msg.clone()));
            model.notice = Some(msg);
        }
    }
}

/// Sends the model's notice as an event (after a state was applied, which clears it first:
/// a notice then is that state's, e.g. a step the plan shown does not have).
fn emit_notice(model: &Model, bridge: &crate::Bridge) {
    if let Some(n) = &model.notice {
        bridge.emit(Outgoing::Notice(n.clone()));
    }
}

fn apply_commands(
    mut model: ResMut<Model>,
    bridge: Res<BridgeRes>,
    mut compute: ResMut<Compute>,
    mut exit: MessageWriter<AppExit>,
) {
    for c in bridge.0.take_commands() {
        match c {
            Command::SetState(s) => match s.validate() {
                Ok(()) => {
                    model.notice = None;
                    model.apply_state(*s);
                    emit_notice(&model, &bridge.0);
                }
                Err(e) => {
                    let msg = format!("state not applied: {e}");
                    bridge.0.emit(Outgoing::Notice(msg.clone()));
                    model.notice = Some(msg);
                }
            },
            Command::Patch(json) => match model.state.patched(&json) {
                Ok(s) => {
                    model.notice = None;
                    model.apply_state(s);
                    emit_notice(&model, &bridge.0);
                }
                Err(e) => {
                    let msg = format!("state not applied: {e}");
                    bridge.0.emit(Outgoing::Notice(msg.clone()));
                    model.notice = Some(msg);
                }
            },
            Command::SetHash(h) => {
                model.notice = None;
                apply_hash(&mut model, &h, &bridge.0);
            }
            Command::SetDraft(text) => {
                model.instruction_buf = text;
                model.draft_dirty = true;
            }
            Command::MeshOnly(on) => {
                model.mesh_only = on;
                model.map_gen += 1;
            }
            Command::PlanOnGpu(gpu) => choose_compute(&mut model, &mut compute, &bridge.0, gpu),
            Command::LoseGpuDevice => {
                compute
                    .lose_device
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            Command::Exit => {
                exit.write(AppExit::Success);
            }
        }
    }
}

/// Plans on the GPU or the CPU from now on (the panel's compute switch, the page's
/// `setCompute`), and replans the current state there when that changes where plans run.
/// Asking for the GPU where there is none says so.
pub fn choose_compute(model: &mut Model, compute: &mut Compute, bridge: &crate::Bridge, gpu: bool) {
    if compute.choose(gpu) {
        model.request_plan();
    } else if gpu && !compute.has_gpu() && compute.decided {
        let msg = format!(
            "there is no GPU compute here (tier {}): planning stays on the CPU",
            compute.info.tier
        );
        bridge.emit(Outgoing::Notice(msg.clone()));
        model.notice = Some(msg);
    }
    bridge.set_tier(compute.info.clone());
}

fn edit_debounce(mut model: ResMut<Model>, time: Res<Time<Real>>) {
    if let Some(t) = model.edit_deadline
        && time.elapsed_secs_f64() >= t
        && model.status == PlanStatus::Idle
    {
        model.edit_deadline = None;
        model.request_plan();
    }
}

fn run_requested_plan(
    mut model: ResMut<Model>,
    bridge: Res<BridgeRes>,
    mut compute: ResMut<Compute>,
) {
    model.poll_job(&bridge.0, &mut compute);
    // Plans wait for the first frame and for the tier; one GPU job at a time (requests made
    // meanwhile, e.g. while dragging, are planned with the latest state when it is done).
    if !model.first_frame_done || !compute.decided || model.job.is_some() {
        return;
    }
    match model.status {
        PlanStatus::Idle => {}
        // One frame with "planning..." on screen first.
        PlanStatus::Requested => model.status = PlanStatus::Running,
        PlanStatus::Running => model.run_plan(&bridge.0, &compute),
    }
}

/// What was last published to the bridge.
#[derive(Resource, Default)]
struct Published {
    state: Option<ViewState>,
    frames: u32,
}

fn first_frame(mut p: ResMut<Published>, mut model: ResMut<Model>, bridge: Res<BridgeRes>) {
    // Frame 2's Last runs after frame 1 was rendered and presented.
    if p.frames < 3 {
        p.frames += 1;
        if p.frames == 2 {
            bridge.0.emit(Outgoing::FirstFrame);
            model.first_frame_done = true;
        }
    }
}

fn publish_state(model: Res<Model>, mut p: ResMut<Published>, bridge: Res<BridgeRes>) {
    let status = crate::bridge::Status {
        planning: model.status != PlanStatus::Idle
            || model.edit_deadline.is_some()
            || model.job.is_some(),
        error: model.error.as_ref().map(super::panel::error_text),
        notice: model.notice.clone(),
        plans: model.result_gen,
        draft: model.draft(),
    };
    {
        let mut b = bridge.0.lock();
        if b.status != status {
            b.status = status;
        }
    }
    if p.state.as_ref() != Some(&model.state) {
        bridge.0.publish_state(&model.state);
        if model.unread_link.as_ref() != Some(&model.state) {
            bridge.0.emit(Outgoing::State(model.state.to_hash()));
        }
        p.state = Some(model.state.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notices(bridge: &crate::Bridge) -> Vec<String> {
        bridge
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Outgoing::Notice(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_step_the_plan_lacks_is_reset_and_said_whichever_way_it_came() {
        let bridge = crate::Bridge::new();
        let compute = Compute::default();
        let mut m = Model::default();
        // Through a replan (a link, or `setState` with plan inputs).
        m.apply_state(ViewState {
            grid: 32,
            step: 7,
            ..ViewState::default()
        });
        m.run_plan(&bridge, &compute);
        let steps = m
            .result
            .as_ref()
            .expect("the default preset plans")
            .steps
            .len();
        assert!(steps < 7, "{steps} steps");
        assert_eq!(m.state.step, 0);
        let said = notices(&bridge);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("no step 7"), "{}", said[0]);
        assert_eq!(m.notice.as_deref(), Some(said[0].as_str()));

        // Through a view-only change (`setState({step})`): no replan, the same message.
        m.notice = None;
        let mut s = m.state.clone();
        s.step = 1000;
        m.apply_state(s);
        assert_eq!(m.status, PlanStatus::Idle, "a step alone does not replan");
        assert_eq!(m.state.step, 0);
        assert!(
            m.notice
                .as_deref()
                .is_some_and(|n| n.contains("no step 1000")),
            "{:?}",
            m.notice
        );

        // A step the plan has is kept, silently.
        m.notice = None;
        let mut s = m.state.clone();
        s.step = steps - 1;
        m.apply_state(s);
        assert_eq!((m.state.step, m.notice.as_deref()), (steps - 1, None));
    }

    #[test]
    fn natively_the_cpu_plans_any_grid() {
        let bridge = crate::Bridge::new();
        let mut m = Model::default();
        m.state.grid = 256;
        m.cap_grid_for_cpu(&bridge);
        assert_eq!(m.state.grid, 256);
        assert!(notices(&bridge).is_empty());
    }
}
