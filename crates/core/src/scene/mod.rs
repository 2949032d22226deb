//! Tabletop scenes: objects (plain primitives and composites), the entities they expand
//! into, the JSON format, validation, and the preset scenes.
//!
//! # Conventions
//!
//! - **Axes** are VoxPoser's ([`crate::grid`]): x back to front, y left to right, z up;
//!   metres. The tabletop surface is the workspace floor, z = 0.75 in the default workspace.
//!   The robot stands at the back of the table (low x) looking toward +x, so "in front of"
//!   is +x, "left of" is -y.
//! - **Objects**: [`Object::position`] is the centre of the object's bounding box in its own
//!   frame, which is the world frame rotated by [`Object::yaw_deg`] about +z. An object
//!   resting on the table has `position[2] = 0.75 + height / 2`. Exceptions, where a part
//!   sticks out of the box the shape's parameters describe: a mug's handle (out to 1.4 r on
//!   its local +y side), a saucepan's side handle (local +y) and its lid and knob (on top of
//!   `height`), and a cabinet's open drawers and its handles (out of the front).
//! - **Facing**: a composite's front is its local -x. With `yaw_deg = 0` a cabinet's drawers
//!   pull out toward -x, i.e. toward the robot; its drawer and handle normals are the front
//!   direction rotated by the yaw. A dustpan's mouth faces its local -x too (its handle is at
//!   local +x).
//! - **End effector**: the gripper's approach axis is its local +z. The quaternion is `wxyz`
//!   in the world frame; `[0, 1, 0, 0]` (half a turn about x) points the gripper straight
//!   down, and is the default pose with the gripper open at `[0.2, 0.0, 1.25]`.
//!
//! # Entity names
//!
//! Every object expands into entities ([`Scene::entities`]); `detect(name)` finds one by
//! name. The object's main part carries the object's name; other parts are named
//! `"<object name> <part>"`. A few parts people name without their owner ("the top drawer",
//! "the lid handle") drop the prefix when the object has its shape's default name
//! (`cabinet`, `saucepan`):
//!
//! | shape | entities (object named `N`) | when `N` is the default noun |
//! |---|---|---|
//! | box, cylinder, sphere | `N` | |
//! | drawer_cabinet | `N` (body), `N <drawer>`, `N <drawer> handle` | `cabinet`, `top drawer`, `top drawer handle`, ... |
//! | bin | `N` (floor and four walls) | |
//! | mug | `N`, `N handle` | `mug`, `mug handle` |
//! | saucepan | `N` (pot and side handle), `N lid`, `N lid handle` (lid only when `lid_on`) | `saucepan`, `saucepan lid`, `lid handle` |
//! | button | `N` (the cap you press), `N base` | |
//! | dustpan | `N` (pan: floor, low back and side walls), `N handle` | |
//! | bottle | `N` (body and neck), `N cap` | |
//!
//! Drawers top to bottom: one is `drawer`; two are `top drawer`, `bottom drawer`; three are
//! `top drawer`, `middle drawer`, `bottom drawer`; more are `drawer 1` .. `drawer N`.
//! Names compare case-insensitively and must be unique across the scene.

mod color;
mod entity;
mod expand;
pub mod presets;
#[cfg(test)]
mod tests;
mod validate;

use serde::{Deserialize, Serialize};

use crate::grid::{DEFAULT_BOUNDS_MAX, DEFAULT_BOUNDS_MIN, Grid, GridError};

pub use color::{color_names, color_rgb, is_known_color};
pub use entity::{Entity, Primitive};
pub use expand::{MAX_DRAWERS, drawer_names};

/// Entity names a scene may not use: the built-in aliases of `detect`.
pub const RESERVED_NAMES: &[&str] = &["gripper", "ee", "hand", "end effector", "table"];

/// A tabletop scene: the workspace, the objects on the table, the robot's end effector and
/// the instructions a user might give in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Identifier (the preset id for presets, snake_case).
    pub name: String,
    /// Human-readable title.
    #[serde(default)]
    pub title: String,
    /// The box the voxel grid covers; defaults to the standard tabletop workspace.
    #[serde(default)]
    pub workspace: Workspace,
    /// The objects, in order.
    #[serde(default)]
    pub objects: Vec<Object>,
    /// The end effector's starting pose; defaults to [`EndEffector::default`].
    #[serde(default)]
    pub end_effector: EndEffector,
    /// Natural-language instructions for this scene; the first is the default.
    #[serde(default)]
    pub instructions: Vec<String>,
}

/// The box workspace, metres.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// Lower corner; `min[2]` is the tabletop surface.
    pub min: [f64; 3],
    /// Upper corner.
    pub max: [f64; 3],
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            min: DEFAULT_BOUNDS_MIN,
            max: DEFAULT_BOUNDS_MAX,
        }
    }
}

impl Workspace {
    /// A voxel grid over this workspace with `n` voxels per axis.
    pub fn grid(&self, n: [usize; 3]) -> Result<Grid, GridError> {
        Grid::new(self.min, self.max, n)
    }

    /// Whether a point lies inside the workspace (boundary included).
    pub fn contains(&self, p: [f64; 3]) -> bool {
        (0..3).all(|a| p[a] >= self.min[a] && p[a] <= self.max[a])
    }
}

/// The robot's end effector.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndEffector {
    /// Position of the gripper's tool centre, metres.
    pub position: [f64; 3],
    /// Orientation, quaternion `wxyz`, world frame (`[0, 1, 0, 0]` points the gripper down).
    pub quat: [f64; 4],
    /// Whether the gripper is open.
    pub gripper_open: bool,
}

impl EndEffector {
    /// The default pose: 50 cm above the table, pointing straight down, gripper open.
    pub const DEFAULT: EndEffector = EndEffector {
        position: [0.2, 0.0, 1.25],
        quat: [0.0, 1.0, 0.0, 0.0],
        gripper_open: true,
    };
}

impl Default for EndEffector {
    fn default() -> Self {
        Self::DEFAULT
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// One object on the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    /// Unique name, e.g. `"blue block"`; also the name of its main entity.
    pub name: String,
    /// Colour word (see [`color_names`]); `None` draws it in its shape's default colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Centre of its bounding box, metres (see the module docs for parts that stick out).
    pub position: [f64; 3],
    /// Rotation about +z, degrees.
    #[serde(default)]
    pub yaw_deg: f64,
    /// What it is.
    pub shape: Shape,
    /// Whether the robot may move it (default `true`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub movable: bool,
}

impl Object {
    /// The colour word it is drawn with: its own, or its shape's default.
    pub fn effective_color(&self) -> &str {
        self.color
            .as_deref()
            .unwrap_or_else(|| self.shape.default_color())
    }

    /// Its entities, main part first (see the naming rule in the module docs).
    pub fn entities(&self) -> Vec<Entity> {
        expand::entities_of(self)
    }
}

/// The shape of an object. All lengths in metres; JSON is externally tagged in snake_case,
/// e.g. `{"box": {"size": [0.05, 0.05, 0.05]}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A box of `size` (x, y, z) before the yaw.
    Box {
        /// Full extents.
        size: [f64; 3],
    },
    /// An upright cylinder.
    Cylinder {
        /// Radius.
        radius: f64,
        /// Full height.
        height: f64,
    },
    /// A ball.
    Sphere {
        /// Radius.
        radius: f64,
    },
    /// A cabinet of `size` = (depth, width, height) with `drawers` stacked drawers whose
    /// fronts face its local -x.
    DrawerCabinet {
        /// Depth, width, height of the closed cabinet.
        size: [f64; 3],
        /// Number of drawers, 1 to [`MAX_DRAWERS`].
        drawers: u32,
        /// How far each drawer is pulled out, top to bottom, in `[0, depth]`; empty means
        /// all closed.
        #[serde(default)]
        open: Vec<f64>,
    },
    /// An open-topped bin: a floor and four walls of thickness `wall`.
    Bin {
        /// Outer depth, width, height.
        size: [f64; 3],
        /// Wall and floor thickness.
        wall: f64,
    },
    /// A mug: a cylinder and a handle on its local +y side.
    Mug {
        /// Body radius.
        radius: f64,
        /// Body height.
        height: f64,
    },
    /// A saucepan: a pot with a side handle (local +y), optionally a lid with a knob.
    Saucepan {
        /// Pot radius.
        radius: f64,
        /// Pot height (the lid sits on top of it).
        height: f64,
        /// Whether the lid is on (default `true`).
        #[serde(default = "yes")]
        lid_on: bool,
    },
    /// A push button: a square base (3 radii wide, half the height) and a round cap on it.
    Button {
        /// Cap radius.
        radius: f64,
        /// Total height, base and cap.
        height: f64,
    },
    /// A dustpan of `size` = (depth, width, height): a flat pan with low walls, its mouth
    /// facing local -x, and a handle in the back 30% of the depth.
    Dustpan {
        /// Depth (pan and handle), width, back-wall height.
        size: [f64; 3],
    },
    /// A bottle: body, neck and a screw cap (the top 10% of the height).
    Bottle {
        /// Body radius.
        radius: f64,
        /// Total height including the cap.
        height: f64,
    },
}

impl Shape {
    /// The snake_case tag used in JSON (`"box"`, `"drawer_cabinet"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Box { .. } => "box",
            Shape::Cylinder { .. } => "cylinder",
            Shape::Sphere { .. } => "sphere",
            Shape::DrawerCabinet { .. } => "drawer_cabinet",
            Shape::Bin { .. } => "bin",
            Shape::Mug { .. } => "mug",
            Shape::Saucepan { .. } => "saucepan",
            Shape::Button { .. } => "button",
            Shape::Dustpan { .. } => "dustpan",
            Shape::Bottle { .. } => "bottle",
        }
    }

    /// The colour word objects of this shape get when they have none.
    pub fn default_color(&self) -> &'static str {
        match self {
            Shape::Box { .. } | Shape::Cylinder { .. } | Shape::Sphere { .. } => "grey",
            Shape::DrawerCabinet { .. } => "wooden",
            Shape::Bin { .. } => "black",
            Shape::Mug { .. } => "white",
            Shape::Saucepan { .. } => "silver",
            Shape::Button { .. } => "red",
            Shape::Dustpan { .. } => "blue",
            Shape::Bottle { .. } => "green",
        }
    }
}

/// Why a scene is invalid: the JSON path of the offending field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SceneError {
    /// Path of the field, e.g. `objects[2].shape.box.size[1]`; empty for the whole document.
    pub path: String,
    /// What is wrong, e.g. `must be positive, got -0.1`.
    pub message: String,
}

impl SceneError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SceneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SceneError {}

/// Case-insensitive, whitespace-trimmed name comparison.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Scene {
    /// All entities of all objects, in object order (each object's main part first).
    pub fn entities(&self) -> Vec<Entity> {
        self.objects.iter().flat_map(Object::entities).collect()
    }

    /// Names of all entities, in [`Self::entities`] order.
    pub fn entity_names(&self) -> Vec<String> {
        self.entities().into_iter().map(|e| e.name).collect()
    }

    /// The entity with this name (case-insensitive, surrounding whitespace ignored).
    pub fn entity(&self, name: &str) -> Option<Entity> {
        self.entities()
            .into_iter()
            .find(|e| same_name(&e.name, name))
    }

    /// The object with this name (case-insensitive).
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| same_name(&o.name, name))
    }

    /// Index of the object owning the entity (or object) called `name`.
    pub fn object_index_of(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.objects.iter().position(|o| same_name(&o.name, name)) {
            return Some(i);
        }
        self.objects
            .iter()
            .position(|o| o.entities().iter().any(|e| same_name(&e.name, name)))
    }

    fn unknown_entity(&self, name: &str) -> SceneError {
        SceneError::new(
            "",
            format!(
                "no entity named {name:?}; the scene has: {}",
                self.entity_names().join(", ")
            ),
        )
    }

    /// Moves the whole object owning entity `name` by `delta` metres (a drawer handle moves
    /// its cabinet). Fails, leaving the scene unchanged, for an unknown name, a non-finite
    /// delta, or when the object's centre would leave the workspace.
    pub fn move_object(&mut self, name: &str, delta: [f64; 3]) -> Result<(), SceneError> {
        let i = self
            .object_index_of(name)
            .ok_or_else(|| self.unknown_entity(name))?;
        if delta.iter().any(|d| !d.is_finite()) {
            return Err(SceneError::new(
                "",
                format!("move of {name:?}: delta must be finite, got {delta:?}"),
            ));
        }
        let p = self.objects[i].position;
        let q = [0, 1, 2].map(|a| p[a] + delta[a]);
        if !self.workspace.contains(q) {
            return Err(SceneError::new(
                format!("objects[{i}].position"),
                format!(
                    "moving {:?} by {delta:?} would put its centre at {q:?}, outside the workspace {:?}..{:?}",
                    self.objects[i].name, self.workspace.min, self.workspace.max
                ),
            ));
        }
        self.objects[i].position = q;
        Ok(())
    }

    /// The drawer that a drawer or drawer-handle entity belongs to: `(open, depth)` in
    /// metres (how far it is pulled out, and how far it can be). `None` for anything else.
    pub fn drawer_state(&self, name: &str) -> Option<(f64, f64)> {
        self.objects.iter().find_map(|o| match &o.shape {
            // A cabinet's entities are [body, drawer 0, handle 0, drawer 1, handle 1, ...].
            Shape::DrawerCabinet { open, size, .. } => o
                .entities()
                .iter()
                .position(|e| same_name(&e.name, name))
                .filter(|&k| k > 0)
                .map(|k| (open.get((k - 1) / 2).copied().unwrap_or(0.0), size[0])),
            _ => None,
        })
    }

    /// Pulls the drawer `drawer` (a drawer's or its handle's entity name) out to `amount`
    /// metres (0 = closed). Fails for an unknown drawer or an amount outside `[0, depth]`.
    pub fn set_drawer_open(&mut self, drawer: &str, amount: f64) -> Result<(), SceneError> {
        let i = self
            .object_index_of(drawer)
            .ok_or_else(|| self.unknown_entity(drawer))?;
        // A cabinet's entities are [body, drawer 0, handle 0, drawer 1, handle 1, ...].
        let slot = self.objects[i]
            .entities()
            .iter()
            .position(|e| same_name(&e.name, drawer))
            .filter(|&k| k > 0)
            .map(|k| (k - 1) / 2);
        let (
            Shape::DrawerCabinet {
                size,
                drawers,
                open,
            },
            Some(slot),
        ) = (&mut self.objects[i].shape, slot)
        else {
            return Err(SceneError::new(
                format!("objects[{i}]"),
                format!("{drawer:?} is not a drawer"),
            ));
        };
        if !(amount.is_finite() && (0.0..=size[0]).contains(&amount)) {
            return Err(SceneError::new(
                format!("objects[{i}].shape.drawer_cabinet.open[{slot}]"),
                format!(
                    "must be between 0 and the cabinet depth {}, got {amount}",
                    size[0]
                ),
            ));
        }
        let n = (*drawers).clamp(1, MAX_DRAWERS) as usize;
        open.resize(n, 0.0);
        open[slot] = amount;
        Ok(())
    }

    /// Puts the lid of saucepan `name` (the saucepan or any of its parts) on or takes it off.
    pub fn set_lid_on(&mut self, name: &str, on: bool) -> Result<(), SceneError> {
        let i = self
            .object_index_of(name)
            .ok_or_else(|| self.unknown_entity(name))?;
        match &mut self.objects[i].shape {
            Shape::Saucepan { lid_on, .. } => {
                *lid_on = on;
                Ok(())
            }
            _ => Err(SceneError::new(
                format!("objects[{i}]"),
                format!("{name:?} is not a saucepan"),
            )),
        }
    }

    /// Parses a scene from JSON and validates it. Errors name the offending field's path.
    pub fn from_json(text: &str) -> Result<Scene, SceneError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let scene: Scene = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // Drop the trailing segments serde_path_to_error could not name ("?").
            let mut path = e.path().to_string();
            while let Some(p) = path.strip_suffix(".?") {
                path = p.to_string();
            }
            if path == "." || path == "?" {
                path.clear();
            }
            SceneError::new(path, e.into_inner().to_string())
        })?;
        de.end()
            .map_err(|e| SceneError::new("", format!("unexpected text after the scene: {e}")))?;
        scene.validate()?;
        Ok(scene)
    }

    /// The scene as pretty-printed JSON (short arrays of plain values on one line);
    /// [`Self::from_json`] reads it back equal.
    pub fn to_json(&self) -> String {
        compact_arrays(&serde_json::to_string_pretty(self).unwrap_or_default())
    }

    /// Checks the scene's semantics; the first problem found is returned with its path.
    pub fn validate(&self) -> Result<(), SceneError> {
        validate::validate(self)
    }
}

/// Longest array, in characters, that [`compact_arrays`] puts on one line.
const INLINE_ARRAY_WIDTH: usize = 72;

/// Rewrites pretty JSON so that arrays holding only plain values (numbers, strings, ...)
/// sit on one line when short enough: `[0.2, 0.0, 1.25]` instead of five lines.
fn compact_arrays(pretty: &str) -> String {
    let chars: Vec<char> = pretty.chars().collect();
    let mut out = String::with_capacity(pretty.len());
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if c == '"' {
            in_string = true;
        } else if c == '['
            && let Some((inline, end)) = inline_array(&chars, i)
        {
            out.push_str(&inline);
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The array starting at `chars[start] == '['` on one line, and the index after its `]`,
/// if it holds no nested array or object and fits [`INLINE_ARRAY_WIDTH`].
fn inline_array(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut s = String::from("[");
    let mut in_string = false;
    let mut i = start + 1;
    let mut pending_space = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            s.push(c);
            if c == '\\' {
                s.push(*chars.get(i + 1)?);
                i += 1;
            } else if c == '"' {
                in_string = false;
            }
        } else {
            match c {
                '[' | '{' => return None,
                ']' => {
                    s.push(']');
                    return (s.chars().count() <= INLINE_ARRAY_WIDTH).then_some((s, i + 1));
                }
                c if c.is_whitespace() => pending_space = s.ends_with(','),
                c => {
                    if pending_space {
                        s.push(' ');
                        pending_space = false;
                    }
                    if c == '"' {
                        in_string = true;
                    }
                    s.push(c);
                }
            }
        }
        i += 1;
    }
    None
}
