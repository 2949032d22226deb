//! The wasm32 implementation (see the crate docs).

use std::sync::atomic::{AtomicBool, Ordering};

use bevy::prelude::*;
use serde::Serialize;
use valuescape_viewer::app::{BridgeRes, ViewerOptions, build_app};
use valuescape_viewer::{Bridge, Command, Outgoing, ViewState};
use wasm_bindgen::prelude::*;

static STARTED: AtomicBool = AtomicBool::new(false);

/// The bundle's tier (one bundle per tier; Bevy picks its backend at compile time).
#[cfg(feature = "webgpu")]
const TIER: &str = "webgpu";
#[cfg(not(feature = "webgpu"))]
const TIER: &str = "webgl2";

/// Called by wasm-bindgen when the module is instantiated: route panics to the console.
#[wasm_bindgen(start)]
pub fn main_js() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&format!("valuescape panicked: {info}")));
    }));
}

fn serializer() -> serde_wasm_bindgen::Serializer {
    serde_wasm_bindgen::Serializer::json_compatible()
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serializer())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// A running playground.
#[wasm_bindgen]
pub struct Playground {
    bridge: Bridge,
    destroyed: bool,
}

#[wasm_bindgen]
impl Playground {
    /// The current view state, as a JSON-compatible object, with the read-only `tier`
    /// (`"webgpu"` or `"webgl2"`) and `compute` (`"gpu"` or `"cpu"`).
    pub fn state(&self) -> Result<JsValue, JsError> {
        let v = to_js(&self.bridge.state())?;
        let t = self.bridge.tier();
        let tier = if t.tier.is_empty() {
            TIER.to_string()
        } else {
            t.tier
        };
        let _ = js_sys::Reflect::set(&v, &"tier".into(), &tier.into());
        let _ = js_sys::Reflect::set(&v, &"compute".into(), &t.compute.into());
        Ok(v)
    }

    /// The tier and compute path: `{ tier, compute, adapter, note }`.
    pub fn tier(&self) -> Result<JsValue, JsError> {
        let mut t = self.bridge.tier();
        if t.tier.is_empty() {
            t.tier = TIER.into();
        }
        to_js(&t)
    }

    /// Where things are on the canvas, in CSS pixels from its top-left corner:
    /// `{ objects: { name: [x, y] }, widgets: { instruction: [x, y, w, h] }, focus,
    /// map_source, map_rect }` (an object's top centre; the panel's instruction box; the
    /// widget with the keyboard focus; how the selected map is drawn, `gpu`, `mesh` or
    /// `none`, and the grid's box on screen, `[x, y, w, h]`).
    /// For driving the playground with a real mouse and keyboard.
    pub fn layout(&self) -> Result<JsValue, JsError> {
        to_js(&self.bridge.layout())
    }

    /// Destroys the renderer's GPU device, as a driver reset would: planning falls back to the
    /// CPU and the state is kept. For tests of that path.
    #[wasm_bindgen(js_name = loseGpuDevice)]
    pub fn lose_gpu_device(&self) {
        self.bridge.send(Command::LoseGpuDevice);
    }

    /// Puts `text` in the instruction box without submitting it (Enter plans it), as the
    /// element does after a restart for what was typed and not yet submitted.
    #[wasm_bindgen(js_name = setDraft)]
    pub fn set_draft(&self, text: &str) {
        self.bridge.send(Command::SetDraft(text.to_string()));
    }

    /// Draws maps as the CPU's voxel-surface mesh even where the GPU buffer could be drawn
    /// (`true`), or from the GPU where it can be (`false`, the default). `layout().map_source`
    /// says which is drawn. For tests comparing the two.
    #[wasm_bindgen(js_name = setMeshOnly)]
    pub fn set_mesh_only(&self, on: bool) {
        self.bridge.send(Command::MeshOnly(on));
    }

    /// Plans on the GPU (`"gpu"`, the default where the tier has GPU compute) or on the CPU
    /// (`"cpu"`) from now on, as the panel's compute switch does, and replans the current
    /// state when that changes where plans run; `tier().compute` says which. Asking for the
    /// GPU on a tier without GPU compute leaves the CPU planning and says so in a notice.
    /// Throws for any other word.
    #[wasm_bindgen(js_name = setCompute)]
    pub fn set_compute(&self, kind: &str) -> Result<(), JsError> {
        let gpu = match kind {
            "gpu" => true,
            "cpu" => false,
            other => {
                return Err(JsError::new(&format!(
                    "setCompute: {other:?} is neither \"gpu\" nor \"cpu\""
                )));
            }
        };
        self.bridge.send(Command::PlanOnGpu(gpu));
        Ok(())
    }

    /// Applies the given fields over the current state (changing the scene resets moved
    /// objects, instruction and edited programs; changing the instruction resets the edited
    /// programs). Throws if a field does not decode; replans when the scene, instruction,
    /// programs, planner or grid changed.
    #[wasm_bindgen(js_name = setState)]
    pub fn set_state(&self, state: JsValue) -> Result<(), JsError> {
        let json = js_sys::JSON::stringify(&state)
            .map_err(|_| JsError::new("setState: the state is not JSON-serialisable"))?;
        let text: String = json.into();
        // Check it now so that the caller gets the error; applied over the then-current
        // state by the viewer.
        ViewState::default()
            .patched(&text)
            .map_err(|e| JsError::new(&format!("setState: {e}")))?;
        self.bridge.send(Command::Patch(text));
        Ok(())
    }

    /// Replaces the whole state (missing fields take their defaults).
    #[wasm_bindgen(js_name = replaceState)]
    pub fn replace_state(&self, state: JsValue) -> Result<(), JsError> {
        let json = js_sys::JSON::stringify(&state)
            .map_err(|_| JsError::new("replaceState: the state is not JSON-serialisable"))?;
        let text: String = json.into();
        let s =
            ViewState::from_json(&text).map_err(|e| JsError::new(&format!("replaceState: {e}")))?;
        self.bridge.send(Command::SetState(Box::new(s)));
        Ok(())
    }

    /// Applies a URL hash (`#v1....`); one that does not decode shows a message and changes
    /// nothing (the view stays as it was).
    #[wasm_bindgen(js_name = setHash)]
    pub fn set_hash(&self, hash: &str) {
        self.bridge.send(Command::SetHash(hash.to_string()));
    }

    /// The current state as a URL hash.
    pub fn hash(&self) -> String {
        self.bridge.state().to_hash()
    }

    /// What the panel says about planning: `{ planning, error, notice, plans, draft }`
    /// (`draft`: the instruction box's text when typed and not yet submitted).
    pub fn status(&self) -> Result<JsValue, JsError> {
        to_js(&self.bridge.status())
    }

    /// Stops the app. The page must be reloaded to start another playground.
    pub fn destroy(&mut self) {
        if !self.destroyed {
            self.destroyed = true;
            self.bridge.send(Command::Exit);
        }
    }
}

/// One preset: id, title, instructions.
#[derive(Serialize)]
struct PresetInfo {
    name: String,
    title: String,
    instructions: Vec<String>,
}

/// The preset scenes: `[{ name, title, instructions }]`.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsError> {
    let list: Vec<PresetInfo> = valuescape_core_presets()
        .into_iter()
        .map(|s| PresetInfo {
            name: s.name,
            title: s.title,
            instructions: s.instructions,
        })
        .collect();
    to_js(&list)
}

fn valuescape_core_presets() -> Vec<valuescape_core::scene::Scene> {
    valuescape_core::scene::presets::all()
}

/// Starts the playground on the canvas matching `canvas` (a CSS selector) with the state of
/// `hash` (empty: the default preset, already planned).
#[wasm_bindgen]
pub fn start(canvas: &str, hash: Option<String>) -> Result<Playground, JsError> {
    if STARTED.swap(true, Ordering::SeqCst) {
        return Err(JsError::new(
            "a Valuescape playground already ran on this page; reload the page to start another",
        ));
    }
    let bridge = Bridge::new();
    let mut app = build_app(ViewerOptions {
        canvas: Some(canvas.to_string()),
        hash: hash.unwrap_or_default(),
        bridge: bridge.clone(),
        title: "Valuescape".into(),
        tier: TIER.into(),
    });
    app.add_systems(
        Last,
        dispatch_events.after(valuescape_viewer::app::model::PublishSet),
    );
    app.run();
    Ok(Playground {
        bridge,
        destroyed: false,
    })
}

fn dispatch(name: &str, detail: &JsValue) {
    dispatch_event(name, detail, false);
}

/// A `CustomEvent` on `window`; a cancelable one lets a listener stop the default action.
fn dispatch_event(name: &str, detail: &JsValue, cancelable: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    init.set_cancelable(cancelable);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = window.dispatch_event(&ev);
    }
}

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or(JsValue::NULL)
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Delivers the viewer's events as DOM events (runs every frame, after the viewer's systems).
fn dispatch_events(bridge: Res<BridgeRes>) {
    for e in bridge.0.take_events() {
        match e {
            Outgoing::Plan(json) => dispatch("valuescape:plan", &parse(&json)),
            Outgoing::Error { json, text } => {
                let detail = parse(&json);
                let _ = js_sys::Reflect::set(&detail, &"text".into(), &text.into());
                dispatch("valuescape:error", &detail);
            }
            Outgoing::Notice(m) => {
                dispatch("valuescape:notice", &object(&[("message", m.into())]));
            }
            Outgoing::FirstFrame => {
                dispatch("valuescape:ready", &object(&[("t", now().into())]));
            }
            Outgoing::DeviceLost {
                message,
                hash,
                draft,
            } => {
                // Cancelable: the element restarts the page from `hash` (and puts `draft`
                // back in the instruction box) unless a listener calls preventDefault().
                let draft = draft.map_or(JsValue::NULL, JsValue::from);
                dispatch_event(
                    "valuescape:devicelost",
                    &object(&[
                        ("message", message.into()),
                        ("hash", hash.into()),
                        ("draft", draft),
                    ]),
                    true,
                );
            }
            Outgoing::State(hash) => {
                let state = to_js(&bridge.0.state()).unwrap_or(JsValue::NULL);
                dispatch(
                    "valuescape:state",
                    &object(&[("hash", hash.into()), ("state", state)]),
                );
            }
        }
    }
}
