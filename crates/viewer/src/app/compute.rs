//! Where planning runs: the capability tier, detected once, and the GPU path on Bevy's own
//! device.
//!
//! With the `gpu` feature and a device that has compute shaders and storage buffers (WebGPU,
//! native Vulkan/Metal/DX12), the cost map is composed and the plan searched by
//! `valuescape-gpu`'s `GpuBackend`, built on the renderer's `RenderDevice` and
//! `RenderQueue` (no second device). Otherwise (WebGL2: no compute) the CPU path runs. The
//! tier and the compute path are reported to the embedder through the [`crate::Bridge`]
//! ([`crate::bridge::TierInfo`]) and shown in the panel.
//!
//! A GPU failure never loses the user's state: a lost device (reported by Bevy's render
//! error handler, which this plugin installs) or a GPU plan that fails where the CPU succeeds
//! switches planning to the CPU for the rest of the session, with a notice. A lost device
//! also stops rendering (Bevy 0.19's own recovery makes a new device but keeps the meshes,
//! pipelines and surface of the lost one, so it draws nothing) and is reported to the
//! embedder with the state's hash ([`crate::Outgoing::DeviceLost`]): the web element
//! restarts the page from it on the WebGL2 bundle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::prelude::*;
use bevy::render::error_handler::{RenderError, RenderErrorHandler, RenderErrorPolicy};
use bevy::render::renderer::{RenderAdapterInfo, RenderDevice, RenderQueue};

use super::BridgeRes;

/// Value-iteration passes per GPU submission while the viewer plans. On the H200 a pass at
/// 100^3 took about 0.08 ms of device time (2.35 ms for 29, value buckets on;
/// `docs/bench/h200-2026-11-28.md`), so 16 take about 1.3 ms there and about 13 ms on a GPU
/// ten times slower: a frame fits between two submissions. Fewer would cost more read-back
/// round trips per plan.
#[cfg(feature = "gpu")]
const FRAME_PASSES: usize = 16;
use crate::bridge::TierInfo;

/// Set by the render error handler when the GPU device is lost (read by [`Compute`]).
static DEVICE_LOST: AtomicBool = AtomicBool::new(false);

/// The last GPU error other than a lost device, set by the render error handler.
static GPU_ERROR: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// A self-test in flight: the backend under test and the slot its result fills.
#[cfg(feature = "gpu")]
type SelfTest = (
    Arc<valuescape_gpu::GpuBackend>,
    Arc<std::sync::Mutex<Option<Result<(), String>>>>,
);

/// The planning backend and the tier.
#[derive(Resource, Default)]
pub struct Compute {
    /// The GPU backend on the renderer's device, while it is usable.
    #[cfg(feature = "gpu")]
    pub gpu: Option<Arc<valuescape_gpu::GpuBackend>>,
    /// What is reported.
    pub info: TierInfo,
    /// The tier has been decided.
    pub decided: bool,
    /// Asks for the device to be destroyed (a test of the lost-device path).
    pub lose_device: Arc<AtomicBool>,
    /// The device was lost (reported once).
    pub device_lost: bool,
    /// The GPU backend's self-test, while it runs.
    #[cfg(feature = "gpu")]
    testing: Option<SelfTest>,
    /// The user chose to plan on the CPU although the GPU backend is usable (the panel, or
    /// the page's `setCompute("cpu")`): to compare the two on the same page.
    pub cpu_chosen: bool,
}

/// The note shown while the CPU plans by choice.
const CPU_BY_CHOICE: &str = "planning on the CPU by choice: the GPU is ready (the panel's \
     compute switch, or setCompute(\"gpu\"))";

impl Compute {
    /// Whether the GPU backend is usable (whichever plans now).
    pub fn has_gpu(&self) -> bool {
        #[cfg(feature = "gpu")]
        {
            self.gpu.is_some()
        }
        #[cfg(not(feature = "gpu"))]
        {
            false
        }
    }

    /// Whether plans run on the GPU now.
    pub fn on_gpu(&self) -> bool {
        self.has_gpu() && !self.cpu_chosen
    }

    /// Plans on the GPU (`true`, where there is one) or on the CPU (`false`) from now on, and
    /// updates what is reported. Returns whether that changes where plans run.
    pub fn choose(&mut self, gpu: bool) -> bool {
        let before = self.on_gpu();
        self.cpu_chosen = !gpu;
        self.report_choice();
        before != self.on_gpu()
    }

    /// `info.compute` and the note, where the GPU backend is usable.
    fn report_choice(&mut self) {
        if !self.has_gpu() {
            return;
        }
        self.info.compute = if self.on_gpu() { "gpu" } else { "cpu" }.into();
        self.info.note = self.cpu_chosen.then(|| CPU_BY_CHOICE.to_string());
    }

    /// Switches to the CPU for the rest of the session, saying why.
    pub fn fall_back(&mut self, why: String) {
        #[cfg(feature = "gpu")]
        {
            self.gpu = None;
        }
        self.info.compute = "cpu".into();
        self.info.note = Some(why);
    }
}

/// The tier the embedder named (`webgpu`, `webgl2`; natively `native`).
#[derive(Resource, Clone, Debug)]
pub struct TierName(pub String);

/// Detects the tier once the renderer exists, and watches for a lost device.
pub struct ComputePlugin;

impl Plugin for ComputePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Compute>()
            .insert_resource(RenderErrorHandler(on_render_error))
            .add_systems(
                Update,
                (decide_tier, watch_device)
                    .chain()
                    .before(super::model::ModelSet),
            );
    }
}

/// Bevy's render error handler: a lost device switches planning to the CPU and stops
/// rendering (the embedder restarts from the state, see the module docs); other GPU errors
/// are logged and rendering goes on (Bevy's default would quit the app, and the user's work
/// with it).
fn on_render_error(
    error: &RenderError,
    _main: &mut World,
    _render: &mut World,
) -> RenderErrorPolicy {
    use bevy::render::error_handler::ErrorType;
    match error.ty {
        ErrorType::DeviceLost => {
            DEVICE_LOST.store(true, Ordering::SeqCst);
            RenderErrorPolicy::StopRendering
        }
        _ => {
            warn!("GPU error ({:?}): {}", error.ty, error.description);
            // Whatever caused it, GPU results can no longer be trusted: plans move to the CPU.
            *GPU_ERROR.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("{:?}: {}", error.ty, error.description));
            RenderErrorPolicy::Ignore
        }
    }
}

fn decide_tier(
    mut compute: ResMut<Compute>,
    name: Option<Res<TierName>>,
    device: Option<Res<RenderDevice>>,
    queue: Option<Res<RenderQueue>>,
    adapter: Option<Res<RenderAdapterInfo>>,
    bridge: Res<BridgeRes>,
) {
    if compute.decided {
        return;
    }
    #[cfg(feature = "gpu")]
    if let Some((gpu, slot)) = compute.testing.as_ref() {
        let done = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(result) = done else {
            return;
        };
        let gpu = gpu.clone();
        compute.testing = None;
        compute.decided = true;
        match result {
            Ok(()) => {
                // Its cost maps stay on the device for the map view (see `map_volume`).
                gpu.keep_composed(true);
                compute.gpu = Some(gpu);
                compute.report_choice();
            }
            Err(why) => {
                compute.info.note =
                    Some(format!("GPU self-test failed ({why}); planning on the CPU"));
            }
        }
        bridge.0.set_tier(compute.info.clone());
        return;
    }
    let (Some(device), Some(queue)) = (device, queue) else {
        return;
    };
    compute.decided = true;
    let tier = name.map_or_else(|| "native".to_string(), |n| n.0.clone());
    let mut info = TierInfo {
        tier,
        compute: "cpu".into(),
        adapter: adapter.map_or_else(String::new, |a| {
            format!("{} ({:?}, {:?})", a.0.name, a.0.backend, a.0.device_type)
        }),
        note: None,
    };
    #[cfg(feature = "gpu")]
    {
        match valuescape_gpu::GpuBackend::new(device.wgpu_device(), &queue) {
            Ok(g) => {
                // Plans share the GPU with the frames: a few passes per submission, so
                // frames are drawn between them (see `FRAME_PASSES`).
                let g = g.with_pass_batch(FRAME_PASSES);
                // Trusted only once it agrees with the CPU (see `GpuBackend::self_test`);
                // planning waits for the verdict.
                let g = Arc::new(g);
                let slot = Arc::new(std::sync::Mutex::new(None));
                let (tested, fill) = (g.clone(), slot.clone());
                let fut = async move {
                    let r = tested.self_test().await;
                    *fill.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                };
                #[cfg(target_arch = "wasm32")]
                wasm_bindgen_futures::spawn_local(fut);
                #[cfg(not(target_arch = "wasm32"))]
                bevy::tasks::block_on(fut);
                compute.testing = Some((g, slot));
                compute.decided = false;
            }
            Err(why) => info.note = Some(format!("planning on the CPU: {why}")),
        }
    }
    #[cfg(not(feature = "gpu"))]
    {
        let _ = (&device, &queue);
        info.note = Some("planning on the CPU (this build has no GPU compute)".into());
    }
    compute.info = info;
    bridge.0.set_tier(compute.info.clone());
}

fn watch_device(
    mut compute: ResMut<Compute>,
    device: Option<Res<RenderDevice>>,
    bridge: Res<BridgeRes>,
    mut model: ResMut<super::model::Model>,
) {
    if compute.lose_device.swap(false, Ordering::SeqCst)
        && let Some(d) = &device
    {
        warn!("destroying the GPU device on request");
        d.wgpu_device().destroy();
    }
    let error = GPU_ERROR.lock().unwrap_or_else(|e| e.into_inner()).take();
    let lost = DEVICE_LOST.swap(false, Ordering::SeqCst) && !compute.device_lost;
    if lost {
        // Whatever the compute path: the renderer has stopped.
        compute.device_lost = true;
        bridge.0.emit(crate::Outgoing::DeviceLost {
            message: "The GPU device was lost; the view must be restarted (the state is kept)."
                .into(),
            hash: model.state.to_hash(),
            draft: model.draft(),
        });
    }
    if (lost || error.is_some()) && compute.has_gpu() {
        let msg = match error.filter(|_| !lost) {
            Some(e) => format!("The GPU reported an error ({e}); planning continues on the CPU."),
            None => "The GPU device was lost; planning continues on the CPU.".to_string(),
        };
        compute.fall_back(msg.clone());
        bridge.0.set_tier(compute.info.clone());
        bridge.0.emit(crate::Outgoing::Notice(msg.clone()));
        model.notice = Some(msg);
        model.abandon_job();
    }
}
