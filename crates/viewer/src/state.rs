//! The playground's view state and its URL-hash codec.
//!
//! Everything a copied link must reproduce lives in [`ViewState`]: the scene (a preset plus
//! the positions of dragged objects), the instruction, edited programs, the shown map, the
//! planner, the grid size and the camera. The hash is `#v1.` followed by the state's JSON in
//! unpadded base64url; every field has a default, so a hash only has to carry what differs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use valuescape_voxposer::{MapKind, PlannerKind};

/// Prefix of an encoded hash (after the `#`).
pub const HASH_PREFIX: &str = "v1.";

/// Grid size the playground plans on unless the state says otherwise.
pub const DEFAULT_GRID: usize = 100;

/// Which map the viewer draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShownMap {
    /// The affordance map (1 = target).
    #[default]
    Affordance,
    /// The avoidance map (1 = avoid).
    Avoidance,
    /// The composed cost map.
    Cost,
    /// The velocity map (speed multiplier).
    Velocity,
    /// The gripper map (1 open, 0 closed).
    Gripper,
    /// The rotation map, drawn as the angle away from the start orientation.
    Rotation,
}

impl ShownMap {
    /// All six, in the selector's order.
    pub const ALL: [ShownMap; 6] = [
        ShownMap::Affordance,
        ShownMap::Avoidance,
        ShownMap::Cost,
        ShownMap::Velocity,
        ShownMap::Gripper,
        ShownMap::Rotation,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            ShownMap::Affordance => "affordance",
            ShownMap::Avoidance => "avoidance",
            ShownMap::Cost => "cost",
            ShownMap::Velocity => "velocity",
            ShownMap::Gripper => "gripper",
            ShownMap::Rotation => "rotation",
        }
    }

    /// What a value of the map means, for the legend.
    pub fn meaning(self) -> &'static str {
        match self {
            ShownMap::Affordance => "1 = target",
            ShownMap::Avoidance => "1 = avoid",
            ShownMap::Cost => "low = cheap to visit",
            ShownMap::Velocity => "speed multiplier",
            ShownMap::Gripper => "1 = open, 0 = closed",
            ShownMap::Rotation => "angle from start orientation, degrees",
        }
    }
}

/// An edited map program: it replaces the compiled one of `step`'s `map`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramEdit {
    /// Sub-step index.
    pub step: usize,
    /// Map kind.
    pub map: MapKind,
    /// Program text.
    pub text: String,
}

/// The orbit camera: what it looks at and from where.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CameraState {
    /// Point looked at, world metres (z up).
    pub focus: [f32; 3],
    /// Yaw, radians.
    pub yaw: f32,
    /// Pitch, radians.
    pub pitch: f32,
    /// Distance from the focus, metres.
    pub radius: f32,
}

impl Default for CameraState {
    fn default() -> Self {
        Self {
            focus: [0.25, 0.0, 0.95],
            yaw: 0.9,
            pitch: 0.55,
            radius: 2.2,
        }
    }
}

/// The whole view state. Unknown fields are rejected so that a mistyped link says so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewState {
    /// Preset scene name; empty means the default (first) preset.
    pub scene: String,
    /// Objects moved by dragging: object name -> centre position, metres.
    pub positions: BTreeMap<String, [f64; 3]>,
    /// Instruction; empty means the scene's first instruction.
    pub instruction: String,
    /// Edited programs.
    pub programs: Vec<ProgramEdit>,
    /// The map drawn.
    pub map: ShownMap,
    /// The step whose maps are drawn.
    pub step: usize,
    /// Threshold for the voxel surface, as a fraction of the map's value range.
    pub threshold: f32,
    /// Draw the voxels *below* the threshold instead (closed-gripper or slow regions).
    pub invert: bool,
    /// An axis-aligned slice drawn as a textured quad: `[axis, voxel index]` (0 x, 1 y, 2 z).
    pub slice: Option<[usize; 2]>,
    /// Planner.
    pub planner: PlannerKind,
    /// Voxels per axis.
    pub grid: usize,
    /// The camera; `None` frames the workspace.
    pub camera: Option<CameraState>,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            scene: String::new(),
            positions: BTreeMap::new(),
            instruction: String::new(),
            programs: Vec::new(),
            map: ShownMap::default(),
            step: 0,
            threshold: 0.5,
            invert: false,
            slice: None,
            planner: PlannerKind::default(),
            grid: DEFAULT_GRID,
            camera: None,
        }
    }
}

/// Fields the embedder's `state()` adds for reading (the tier and compute path, see
/// [`crate::bridge::TierInfo`]); a state given back with them applies without them.
pub const REPORTED_FIELDS: [&str; 2] = ["tier", "compute"];

impl ViewState {
    /// Whether the parts that change the plan (not the view) differ.
    pub fn plan_inputs_differ(&self, other: &ViewState) -> bool {
        self.scene != other.scene
            || self.positions != other.positions
            || self.instruction != other.instruction
            || self.programs != other.programs
            || self.planner != other.planner
            || self.grid != other.grid
    }

    /// The state as a URL hash, `#v1.<base64url(json)>`.
    pub fn to_hash(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("#{HASH_PREFIX}{}", base64url_encode(json.as_bytes()))
    }

    /// Reads a URL hash (with or without its `#`). An empty hash is `Ok(None)`; anything
    /// that does not decode is an error saying why.
    pub fn from_hash(hash: &str) -> Result<Option<ViewState>, String> {
        let h = hash.strip_prefix('#').unwrap_or(hash).trim();
        if h.is_empty() {
            return Ok(None);
        }
        let body = h.strip_prefix(HASH_PREFIX).ok_or_else(|| {
            format!(
                "the link's state does not start with {HASH_PREFIX:?}; it is not a Valuescape link"
            )
        })?;
        let bytes = base64url_decode(body).ok_or_else(|| {
            "the link's state is not valid base64url (was it cut short?)".to_string()
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| "the link's state is not UTF-8 text".to_string())?;
        Self::from_json(&text).map(Some)
    }

    /// Reads the state from JSON; every field is optional.
    pub fn from_json(text: &str) -> Result<ViewState, String> {
        let mut v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("the state is not valid JSON: {e}"))?;
        // Said the same way as `patched` says it (serde would say "invalid type: integer").
        let serde_json::Value::Object(m) = &mut v else {
            return Err("the state must be a JSON object".into());
        };
        for k in REPORTED_FIELDS {
            m.remove(k);
        }
        let s: ViewState =
            serde_json::from_value(v).map_err(|e| format!("the state is not valid: {e}"))?;
        s.validate()?;
        Ok(s)
    }

    /// This state with the fields of the JSON object `patch` applied over it. Changing the
    /// scene resets the moved objects, the instruction, the edited programs and the step
    /// (unless the patch sets them); changing the instruction resets the edited programs.
    pub fn patched(&self, patch: &str) -> Result<ViewState, String> {
        let patch: serde_json::Value =
            serde_json::from_str(patch).map_err(|e| format!("the state is not valid JSON: {e}"))?;
        let serde_json::Value::Object(patch) = patch else {
            return Err("the state must be a JSON object".into());
        };
        let mut cur = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let changes = |k: &str| patch.get(k).is_some_and(|v| cur.get(k) != Some(v));
        let scene_changed = changes("scene");
        let instruction_changed = changes("instruction");
        if scene_changed {
            for k in ["positions", "instruction", "programs", "step"] {
                cur.remove(k);
            }
        }
        if scene_changed || instruction_changed {
            cur.remove("programs");
        }
        for (k, v) in patch {
            if !REPORTED_FIELDS.contains(&k.as_str()) {
                cur.insert(k, v);
            }
        }
        Self::from_json(&serde_json::Value::Object(cur).to_string())
    }

    /// Resets a step that a plan of `steps` steps does not have to 0, and says so (the state
    /// and the link then hold the step shown). `None` when the step is in range.
    pub fn clamp_step(&mut self, steps: usize) -> Option<String> {
        if self.step < steps {
            return None;
        }
        let asked = std::mem::take(&mut self.step);
        (asked != 0).then(|| {
            let last = steps.saturating_sub(1);
            format!("This plan has no step {asked} (its steps are 0 to {last}); showing step 0.")
        })
    }

    /// Caps the grid at `limit` ([`CPU_BROWSER_MAX_GRID`] where the browser plans on the
    /// CPU), and says so. `None` when it is within.
    pub fn cap_grid(&mut self, limit: usize) -> Option<String> {
        if self.grid <= limit {
            return None;
        }
        let asked = std::mem::replace(&mut self.grid, limit);
        Some(format!(
            "Grid {asked} is planned on the GPU only; this browser plans on the CPU, on the \
             page's thread, so the grid is {limit}."
        ))
    }

    /// Checks ranges that serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(valuescape_core::grid::MIN_SIZE..=valuescape_core::grid::MAX_SIZE).contains(&self.grid)
        {
            return Err(format!(
                "grid must be between {} and {}, got {}",
                valuescape_core::grid::MIN_SIZE,
                valuescape_core::grid::MAX_SIZE,
                self.grid
            ));
        }
        if !self.threshold.is_finite() {
            return Err("threshold must be a number".into());
        }
        if let Some([axis, _]) = self.slice
            && axis > 2
        {
            return Err(format!("slice axis must be 0, 1 or 2, got {axis}"));
        }
        if let Some(c) = self.camera {
            let all = [c.focus[0], c.focus[1], c.focus[2], c.yaw, c.pitch, c.radius];
            if all.iter().any(|x| !x.is_finite()) || c.radius <= 0.0 {
                return Err("camera values must be finite and its radius positive".into());
            }
        }
        if self.positions.values().flatten().any(|x| !x.is_finite()) {
            return Err("object positions must be finite".into());
        }
        Ok(())
    }
}

/// The largest grid planned on the CPU in the browser: planning runs on the page's one
/// thread, where a 256^3 plan held the page for about ten seconds. The panel offers no more;
/// a link or `setState` asking for more is planned at this size, and told so.
pub const CPU_BROWSER_MAX_GRID: usize = 128;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url, padded or not (standard `+/` accepted too); `None` if malformed.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for n in 0..40 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let enc = base64url_encode(&bytes);
            assert!(!enc.contains('='));
            assert_eq!(base64url_decode(&enc), Some(bytes));
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_decode("Zm9vYg"), Some(b"foob".to_vec()));
        assert_eq!(base64url_decode("Zm9vYg=="), Some(b"foob".to_vec()));
        assert_eq!(base64url_decode("Z"), None);
        assert_eq!(base64url_decode("a b"), None);
    }

    #[test]
    fn hash_round_trips() {
        let mut s = ViewState {
            scene: "blocks".into(),
            instruction: "put the red block on the blue block".into(),
            map: ShownMap::Avoidance,
            planner: PlannerKind::Greedy,
            grid: 48,
            camera: Some(CameraState::default()),
            ..ViewState::default()
        };
        s.positions.insert("red block".into(), [0.1, 0.2, 0.8]);
        s.programs.push(ProgramEdit {
            step: 1,
            map: MapKind::Affordance,
            text: "a = detect(\"x\")\n# ünïcode".into(),
        });
        let h = s.to_hash();
        assert!(h.starts_with("#v1."));
        assert_eq!(ViewState::from_hash(&h), Ok(Some(s.clone())));
        assert_eq!(ViewState::from_hash(&h[1..]), Ok(Some(s)));
    }

    #[test]
    fn empty_and_bad_hashes() {
        assert_eq!(ViewState::from_hash(""), Ok(None));
        assert_eq!(ViewState::from_hash("#"), Ok(None));
        for bad in ["#hello", "#v1.%%%", "#v1.Zm9v", "#v1.e30x"] {
            let e = ViewState::from_hash(bad);
            assert!(e.is_err(), "{bad} gave {e:?}");
        }
        // `{"grid": 3}` decodes but is out of range.
        let h = format!("#v1.{}", base64url_encode(br#"{"grid":3}"#));
        assert!(
            ViewState::from_hash(&h)
                .expect_err("bad state")
                .contains("grid")
        );
        // Unknown fields are reported.
        let h = format!("#v1.{}", base64url_encode(br#"{"nope":1}"#));
        assert!(
            ViewState::from_hash(&h)
                .expect_err("bad state")
                .contains("nope")
        );
        // Partial state fills defaults.
        let h = format!("#v1.{}", base64url_encode(br#"{"map":"velocity"}"#));
        let s = ViewState::from_hash(&h)
            .expect("test value")
            .expect("test value");
        assert_eq!(s.map, ShownMap::Velocity);
        assert_eq!(s.grid, DEFAULT_GRID);
    }

    #[test]
    fn reported_fields_are_read_only_and_never_rejected() {
        let s = ViewState {
            scene: "a".into(),
            ..ViewState::default()
        };
        let mut v = serde_json::to_value(&s).expect("json");
        v["tier"] = "webgpu".into();
        v["compute"] = "gpu".into();
        let text = v.to_string();
        assert_eq!(ViewState::from_json(&text).expect("replace"), s);
        assert_eq!(s.patched(&text).expect("patch"), s);
        // Other unknown fields are still errors.
        assert!(s.patched(r#"{"tierx":1}"#).is_err());
    }

    #[test]
    fn patches_merge_and_reset() {
        let mut s = ViewState {
            scene: "a".into(),
            instruction: "do x".into(),
            ..ViewState::default()
        };
        s.positions.insert("cup".into(), [0.0, 0.0, 0.8]);
        s.programs.push(ProgramEdit {
            step: 0,
            map: MapKind::Affordance,
            text: "x".into(),
        });
        let p = s.patched(r#"{"map":"velocity"}"#).expect("patch");
        assert_eq!(p.map, ShownMap::Velocity);
        assert_eq!((p.scene.as_str(), p.programs.len()), ("a", 1));
        let p = s.patched(r#"{"instruction":"do y"}"#).expect("patch");
        assert!(p.programs.is_empty());
        assert_eq!(p.positions.len(), 1);
        let p = s.patched(r#"{"scene":"b"}"#).expect("patch");
        assert!(p.positions.is_empty() && p.programs.is_empty() && p.instruction.is_empty());
        let p = s
            .patched(r#"{"scene":"a","instruction":"do x"}"#)
            .expect("patch");
        assert_eq!(
            p, s,
            "re-stating the same scene and instruction keeps everything"
        );
        for not_object in ["[1]", "3", "\"x\"", "null"] {
            let e = s.patched(not_object).expect_err(not_object);
            assert_eq!(e, "the state must be a JSON object", "patch {not_object}");
            let e = ViewState::from_json(not_object).expect_err(not_object);
            assert_eq!(e, "the state must be a JSON object", "replace {not_object}");
            let h = format!("#v1.{}", base64url_encode(not_object.as_bytes()));
            let e = ViewState::from_hash(&h).expect_err(not_object);
            assert_eq!(e, "the state must be a JSON object", "hash {not_object}");
        }
        assert!(s.patched(r#"{"grid":2}"#).is_err());
        assert!(s.patched(r#"{"bogus":2}"#).is_err());
    }

    #[test]
    fn steps_past_the_plan_are_reset_and_said() {
        let mut s = ViewState {
            step: 7,
            ..ViewState::default()
        };
        let msg = s.clamp_step(3).expect("said");
        assert_eq!(s.step, 0);
        assert!(msg.contains("no step 7") && msg.contains("0 to 2"), "{msg}");
        s.step = 2;
        assert_eq!((s.clamp_step(3), s.step), (None, 2));
        // Step 0 of a plan without steps (a failed one) is nothing to say.
        s.step = 0;
        assert_eq!((s.clamp_step(0), s.step), (None, 0));
    }

    #[test]
    fn grids_above_the_limit_are_capped_and_said() {
        let mut s = ViewState {
            grid: 256,
            ..ViewState::default()
        };
        let msg = s.cap_grid(CPU_BROWSER_MAX_GRID).expect("capped");
        assert_eq!(s.grid, CPU_BROWSER_MAX_GRID);
        assert!(msg.contains("Grid 256") && msg.contains("128"), "{msg}");
        s.grid = 100;
        assert_eq!((s.cap_grid(CPU_BROWSER_MAX_GRID), s.grid), (None, 100));
    }

    #[test]
    fn plan_inputs() {
        let a = ViewState::default();
        let mut b = a.clone();
        b.map = ShownMap::Rotation;
        b.camera = Some(CameraState::default());
        assert!(!a.plan_inputs_differ(&b));
        b.planner = PlannerKind::Greedy;
        assert!(a.plan_inputs_differ(&b));
    }
}
