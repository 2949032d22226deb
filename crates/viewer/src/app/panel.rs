//! The side panel (bevy_egui): preset, instruction, planner, status and timing, the steps,
//! the map selector with its legend, the playback controls and the editable programs with
//! their errors marked at their span.

use std::sync::Arc;

use bevy::camera::Viewport;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::egui::text::{LayoutJob, TextFormat};
use bevy_egui::egui::{self, Color32, FontId, Galley, RichText, TextBuffer, Ui};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};
use bevy_panorbit_camera::PanOrbitCamera;
use valuescape_core::scene::presets;
use valuescape_voxposer::{MapKind, PlanError, PlannerKind};

use super::map_view::MapInfo;
use super::model::{Model, PlanStatus};
use super::path_view::{Playback, duration, timeline};
use crate::colormap::viridis;
use crate::state::ShownMap;

/// Panel width, logical pixels.
pub const PANEL_WIDTH: f32 = 380.0;

/// The side panel.
pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, panel);
    }
}

/// The panel's two typefaces, from egui's own: Ubuntu Light for text and Hack for programs,
/// cut down by the build script (`build.rs`) to the Latin, Greek, punctuation, symbol, arrow
/// and mathematical characters: 0.19 MB of the bundle instead of 0.67 MB. (egui's
/// `default_fonts` would also add two emoji fonts, 0.7 MB the panel never shows.)
fn font_definitions() -> egui::FontDefinitions {
    use egui::{FontData, FontFamily};
    let mut fonts = egui::FontDefinitions::empty();
    for (name, data) in [
        (
            "Ubuntu-Light",
            &include_bytes!(concat!(env!("OUT_DIR"), "/Ubuntu-Light.ttf"))[..],
        ),
        (
            "Hack",
            &include_bytes!(concat!(env!("OUT_DIR"), "/Hack.ttf"))[..],
        ),
    ] {
        fonts
            .font_data
            .insert(name.into(), Arc::new(FontData::from_static(data)));
    }
    fonts.families.insert(
        FontFamily::Proportional,
        vec!["Ubuntu-Light".into(), "Hack".into()],
    );
    fonts.families.insert(
        FontFamily::Monospace,
        vec!["Hack".into(), "Ubuntu-Light".into()],
    );
    fonts
}

/// The text the panel shows for an error (also what the web page mirrors).
pub fn error_text(e: &PlanError) -> String {
    e.to_string()
}

const ERR: Color32 = Color32::from_rgb(255, 110, 100);

#[allow(clippy::too_many_arguments)]
fn panel(
    mut contexts: EguiContexts,
    mut model: ResMut<Model>,
    mut pb: ResMut<Playback>,
    info: Res<MapInfo>,
    mut compute: ResMut<super::compute::Compute>,
    bridge: Res<super::BridgeRes>,
    time: Res<Time<Real>>,
    window: Query<&Window, With<PrimaryWindow>>,
    mut camera: Query<&mut Camera, With<PanOrbitCamera>>,
    mut fonts_set: Local<bool>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    // Fonts take effect at the next pass: the panel starts there.
    if !*fonts_set {
        ctx.set_fonts(font_definitions());
        *fonts_set = true;
        return Ok(());
    }
    let mut root = Ui::new(
        ctx.clone(),
        "valuescape-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::left("valuescape-panel")
        .resizable(true)
        .default_size(PANEL_WIDTH)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                contents(
                    ui,
                    &mut model,
                    &mut pb,
                    &info,
                    &mut compute,
                    &bridge.0,
                    time.elapsed_secs_f64(),
                );
            });
        })
        .response
        .rect
        .width();
    // Keep the 3D view centred in the space right of the panel.
    if let (Ok(win), Ok(mut cam)) = (window.single(), camera.single_mut()) {
        let left = (width * win.scale_factor()) as u32;
        let size = UVec2::new(win.physical_width(), win.physical_height());
        let want = (size.x > left + 16 && size.y > 16).then(|| Viewport {
            physical_position: UVec2::new(left, 0),
            physical_size: UVec2::new(size.x - left, size.y),
            ..default()
        });
        let same = match (&cam.viewport, &want) {
            (Some(a), Some(b)) => {
                a.physical_position == b.physical_position && a.physical_size == b.physical_size
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            cam.viewport = want;
        }
    }
    Ok(())
}

fn contents(
    ui: &mut Ui,
    model: &mut Model,
    pb: &mut Playback,
    info: &MapInfo,
    compute: &mut super::compute::Compute,
    bridge: &crate::Bridge,
    now: f64,
) {
    ui.heading("Valuescape");
    ui.label("VoxPoser value maps: instruction -> programs -> maps -> path.");
    // Where the GPU can plan, the user may plan on the CPU instead, to compare the two.
    if compute.has_gpu() {
        let was = compute.on_gpu();
        let mut gpu = was;
        ui.horizontal(|ui| {
            ui.small("compute:");
            ui.radio_value(&mut gpu, true, "GPU");
            ui.radio_value(&mut gpu, false, "CPU");
        });
        if gpu != was {
            super::model::choose_compute(model, compute, bridge, gpu);
        }
    }
    let tier = &compute.info;
    if !tier.tier.is_empty() {
        let how = if tier.compute == "gpu" {
            "maps and plans computed on the GPU"
        } else {
            "maps and plans computed on the CPU"
        };
        ui.small(format!("tier: {} - {how}", tier.tier));
        if !tier.adapter.is_empty() {
            ui.small(format!("adapter: {}", tier.adapter));
        }
        if let Some(n) = &tier.note {
            ui.small(n.as_str());
        }
    }
    ui.separator();

    // Preset.
    let current = model.state.scene.clone();
    let mut picked = None;
    egui::ComboBox::from_id_salt("preset")
        .selected_text(current.as_str())
        .width(220.0)
        .show_ui(ui, |ui| {
            for name in presets::names() {
                if ui.selectable_label(current == name, name).clicked() {
                    picked = Some(name.to_string());
                }
            }
        });
    if let Some(p) = picked
        && p != current
    {
        model.set_preset(&p);
    }
    if let Some(s) = &model.scene
        && !s.title.is_empty()
    {
        ui.small(&s.title);
    }

    // Instruction.
    ui.label("Instruction (Enter compiles and plans):");
    let instr_err = model
        .error
        .as_ref()
        .filter(|e| e.stage == "instruction")
        .cloned();
    let mut buf = std::mem::take(&mut model.instruction_buf);
    let mut layouter = |ui: &Ui, text: &dyn TextBuffer, wrap: f32| -> Arc<Galley> {
        highlight(
            ui,
            text.as_str(),
            wrap,
            instr_err.as_ref().and_then(|e| e.span),
            false,
        )
    };
    let resp = ui.add(
        egui::TextEdit::singleline(&mut buf)
            .desired_width(f32::INFINITY)
            .layouter(&mut layouter),
    );
    let r = resp.rect;
    model.widget_rects.insert(
        "instruction".into(),
        [r.min.x, r.min.y, r.width(), r.height()],
    );
    model.focused_widget = resp.has_focus().then(|| "instruction".to_string());
    if resp.changed() {
        model.draft_dirty = true;
    }
    let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        if ui.button("Plan").clicked() || enter {
            model.set_instruction(buf.clone());
        }
        if let Some(s) = &model.scene {
            let examples: Vec<String> = s.instructions.clone();
            egui::ComboBox::from_id_salt("examples")
                .selected_text("examples")
                .show_ui(ui, |ui| {
                    for ex in examples {
                        if ui.selectable_label(false, &ex).clicked() {
                            buf = ex.clone();
                            model.set_instruction(ex);
                        }
                    }
                });
        }
    });
    model.instruction_buf = buf;

    // Planner and grid.
    ui.horizontal(|ui| {
        ui.label("Planner:");
        let mut p = model.state.planner;
        ui.radio_value(&mut p, PlannerKind::Value, "value");
        ui.radio_value(&mut p, PlannerKind::Greedy, "greedy");
        ui.radio_value(&mut p, PlannerKind::Mppi, "MPPI");
        if p != model.state.planner {
            model.state.planner = p;
            model.request_plan();
        }
    });
    ui.horizontal(|ui| {
        ui.label("Grid:");
        let mut g = model.state.grid;
        for n in [32usize, 48, 64, 100, 128] {
            ui.radio_value(&mut g, n, n.to_string());
        }
        if g != model.state.grid {
            model.state.grid = g;
            model.request_plan();
        }
    });
    ui.separator();

    // Status.
    match model.status {
        PlanStatus::Idle => {}
        _ => {
            ui.label(RichText::new("planning...").strong());
        }
    }
    if let Some(e) = &model.error {
        ui.label(RichText::new(format!("Plan failed: {}", error_text(e))).color(ERR));
    }
    if let Some(n) = &model.notice {
        ui.label(RichText::new(n).color(Color32::from_rgb(250, 200, 90)));
    }
    if let Some(r) = &model.result {
        let t = &r.timing_ms;
        ui.label(format!(
            "timing: compile {:.1} ms, programs {:.1}, cost {:.1}, plan {:.1}, total {:.1} ms",
            t.compile, t.programs, t.cost, t.plan, t.total
        ));
        ui.small(format!(
            "call as measured here: {:.1} ms{}",
            model.last_call_ms,
            if model.last_call_paged {
                " (with the frames drawn between its stages)"
            } else {
                ""
            }
        ));
        for (i, s) in r.steps.iter().enumerate() {
            let mark = if s.target_reached {
                "reached"
            } else {
                "NOT reached"
            };
            ui.label(format!(
                "step {i}: {} ({} moves; {} waypoints; target {mark})",
                s.instruction,
                s.movable,
                s.waypoints.len()
            ));
            for w in &s.warnings {
                ui.label(RichText::new(w).color(Color32::from_rgb(250, 200, 90)));
            }
        }
    }
    ui.separator();

    map_controls(ui, model, info);
    ui.separator();
    playback_controls(ui, model, pb);
    ui.separator();
    programs(ui, model, now);
}

fn map_controls(ui: &mut Ui, model: &mut Model, info: &MapInfo) {
    ui.label(RichText::new("Map").strong());
    let steps = model.result.as_ref().map(|r| r.steps.len()).unwrap_or(0);
    if steps > 1 {
        ui.horizontal(|ui| {
            ui.label("step:");
            let mut s = model.state.step;
            for i in 0..steps {
                ui.radio_value(&mut s, i, i.to_string());
            }
            if s != model.state.step {
                model.state.step = s;
                model.map_gen += 1;
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        let mut m = model.state.map;
        for k in ShownMap::ALL {
            ui.radio_value(&mut m, k, k.name());
        }
        if m != model.state.map {
            model.set_map(m);
        }
    });
    let mut th = model.state.threshold;
    let mut inv = model.state.invert;
    ui.horizontal(|ui| {
        ui.add(egui::Slider::new(&mut th, 0.0..=1.0).text("threshold"));
        ui.checkbox(&mut inv, "below");
    });
    if (th - model.state.threshold).abs() > f32::EPSILON || inv != model.state.invert {
        model.state.threshold = th;
        model.state.invert = inv;
        model.map_gen += 1;
    }
    // Slice.
    let n = info.grid.map(|g| g.size).unwrap_or([model.state.grid; 3]);
    let mut on = model.state.slice.is_some();
    let [mut axis, mut idx] = model.state.slice.unwrap_or([2, n[2] / 4]);
    ui.horizontal(|ui| {
        ui.checkbox(&mut on, "slice");
        for (a, name) in ["x", "y", "z"].iter().enumerate() {
            ui.radio_value(&mut axis, a, *name);
        }
    });
    if on {
        let max = n[axis.min(2)].saturating_sub(1);
        idx = idx.min(max);
        ui.add(egui::Slider::new(&mut idx, 0..=max).text("index"));
    }
    let new = on.then_some([axis, idx]);
    if new != model.state.slice {
        model.state.slice = new;
        model.map_gen += 1;
    }
    // Legend.
    if let Some((lo, hi)) = info.range {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(260.0, 14.0), egui::Sense::hover());
        let steps = 32;
        for i in 0..steps {
            let t = i as f32 / (steps - 1) as f32;
            let c = viridis(t);
            let x0 = rect.left() + rect.width() * i as f32 / steps as f32;
            let x1 = rect.left() + rect.width() * (i + 1) as f32 / steps as f32;
            ui.painter().rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x0, rect.top()),
                    egui::pos2(x1 + 0.5, rect.bottom()),
                ),
                0.0,
                Color32::from_rgb(
                    (c[0] * 255.0) as u8,
                    (c[1] * 255.0) as u8,
                    (c[2] * 255.0) as u8,
                ),
            );
        }
        ui.horizontal(|ui| {
            ui.small(format!("{lo:.3}"));
            ui.small(format!("-> {hi:.3}   ({})", model.state.map.meaning()));
        });
        if info.source == "gpu" {
            ui.small(format!(
                "voxels {} threshold, ray-marched on the GPU from the buffer it was composed in",
                if model.state.invert { "below" } else { "above" },
            ));
        } else {
            ui.small(format!(
                "{} voxels {} threshold, {} faces{}",
                info.solid,
                if model.state.invert { "below" } else { "above" },
                info.faces,
                if info.stride > 1 {
                    format!(", drawn in blocks of {}", info.stride)
                } else {
                    String::new()
                }
            ));
        }
    }
    if let Some(n) = &info.note {
        ui.small(n);
    }
}

fn playback_controls(ui: &mut Ui, model: &Model, pb: &mut Playback) {
    ui.label(RichText::new("Gripper playback").strong());
    let Some(r) = &model.result else {
        ui.small("no trajectory");
        return;
    };
    let tl = timeline(r);
    let end = duration(&tl);
    ui.horizontal(|ui| {
        if ui
            .button(if pb.playing { "pause" } else { "play" })
            .clicked()
        {
            if !pb.playing && pb.t >= end {
                pb.t = 0.0;
            }
            pb.playing = !pb.playing;
        }
        if ui.button("step").clicked() {
            pb.playing = false;
            pb.t = tl
                .iter()
                .map(|w| w.t)
                .find(|t| *t > pb.t + 1e-9)
                .unwrap_or(end);
        }
        if ui.button("reset").clicked() {
            pb.playing = false;
            pb.t = 0.0;
        }
        ui.add(
            egui::Slider::new(&mut pb.speed, 0.1..=10.0)
                .logarithmic(true)
                .text("x"),
        );
    });
    let mut t = pb.t;
    if ui
        .add(egui::Slider::new(&mut t, 0.0..=end.max(1e-6)).text("s"))
        .changed()
    {
        pb.t = t;
        pb.playing = false;
    }
    let next = tl
        .iter()
        .position(|w| w.t >= pb.t - 1e-9)
        .unwrap_or(tl.len().saturating_sub(1));
    if let Some(w) = tl.get(next) {
        ui.small(format!(
            "waypoint {} of {} (step {}): gripper {:.2}, velocity {:.2}",
            next + 1,
            tl.len(),
            w.step,
            w.wp.gripper,
            w.wp.velocity
        ));
    }
}

fn programs(ui: &mut Ui, model: &mut Model, now: f64) {
    ui.label(RichText::new("Programs").strong());
    if model.program_bufs.is_empty() {
        ui.small("no compiled programs yet");
        return;
    }
    ui.small("Edit a program to re-run the plan with it.");
    if !model.state.programs.is_empty() && ui.button("discard edits").clicked() {
        model.state.programs.clear();
        model.request_plan();
    }
    let keys: Vec<(usize, MapKind)> = model.program_bufs.keys().copied().collect();
    let err = model.error.clone();
    let mut edited = None;
    for (step, map) in keys {
        let e = err
            .as_ref()
            .filter(|e| e.stage == "program" && e.step == Some(step) && e.map == Some(map));
        let title = format!(
            "step {step} / {}{}",
            map.name(),
            if e.is_some() { "  (error)" } else { "" }
        );
        let open = e.is_some().then_some(true);
        egui::CollapsingHeader::new(RichText::new(title).monospace())
            .id_salt(("prog", step, map.name()))
            .open(open)
            .show(ui, |ui| {
                let Some(text) = model.program_bufs.get_mut(&(step, map)) else {
                    return;
                };
                let span = e.and_then(|e| e.span);
                let mut layouter = |ui: &Ui, t: &dyn TextBuffer, wrap: f32| -> Arc<Galley> {
                    highlight(ui, t.as_str(), wrap, span, true)
                };
                let r = ui.add(
                    egui::TextEdit::multiline(text)
                        .code_editor()
                        .desired_rows(3)
                        .desired_width(f32::INFINITY)
                        .layouter(&mut layouter),
                );
                if r.changed() {
                    edited = Some((step, map, text.clone()));
                }
                if let Some(e) = e {
                    ui.label(RichText::new(error_text(e)).color(ERR));
                }
            });
    }
    if let Some((s, m, t)) = edited {
        model.edit_program(s, m, t, now);
    }
}

/// Lays out `text` (monospace for code) with the byte range `span` marked in red.
fn highlight(
    ui: &Ui,
    text: &str,
    wrap: f32,
    span: Option<(usize, usize)>,
    code: bool,
) -> Arc<Galley> {
    let font = if code {
        FontId::monospace(12.0)
    } else {
        FontId::proportional(14.0)
    };
    let normal = TextFormat {
        font_id: font.clone(),
        color: ui.visuals().text_color(),
        ..Default::default()
    };
    let marked = TextFormat {
        font_id: font,
        color: Color32::WHITE,
        background: Color32::from_rgb(170, 30, 30),
        underline: egui::Stroke::new(1.5, ERR),
        ..Default::default()
    };
    let mut job = LayoutJob::default();
    match span {
        Some((a, b)) => {
            let a = floor_char(text, a.min(text.len()));
            let mut b = floor_char(text, b.min(text.len()).max(a));
            // An empty span (end of input) marks one space so it shows.
            let tail_mark = a == b;
            if tail_mark && b < text.len() {
                b = ceil_char(text, b + 1);
            }
            job.append(&text[..a], 0.0, normal.clone());
            job.append(&text[a..b], 0.0, marked.clone());
            if tail_mark && a == b {
                job.append(" ", 0.0, marked);
            }
            job.append(&text[b..], 0.0, normal);
        }
        None => job.append(text, 0.0, normal),
    }
    job.wrap.max_width = wrap;
    ui.fonts_mut(|f| f.layout_job(job))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}
