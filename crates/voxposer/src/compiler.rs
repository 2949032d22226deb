//! The deterministic, offline instruction compiler. It mirrors VoxPoser's hierarchy:
//!
//! 1. **planner**: the instruction is split into clauses and each clause into sub-steps
//!    ("place the blue block on the yellow block" -> grasp, lift, move above, open gripper);
//! 2. **composer**: each sub-step names what moves (the gripper, or an object being pushed)
//!    and one query per map kind;
//! 3. **map programs**: each query is written out as a short program over the map API
//!    (`parse_query_obj`, `cm2index`, `set_voxel_by_radius`, ...), the text the user sees,
//!    edits, and that runs.
//!
//! Anything it cannot place gets a [`CompileError`] naming the words and the phrases it
//! knows nearby. [`ProgramSource`] is the seam where a language model can supply programs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use valuescape_core::scene::Shape;

use crate::api::MapKind;
use crate::query::{self, Resolved};
use crate::world::World;

/// One sub-step: what moves and a program per map kind.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSpec {
    /// The sub-step in words.
    pub instruction: String,
    /// The moving entity: `gripper` or an entity name.
    pub movable: String,
    /// The movable is pushed in the horizontal plane.
    pub planar: bool,
    /// A program for each of the five map kinds.
    pub programs: BTreeMap<MapKind, String>,
}

/// Why an instruction could not be compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileError {
    /// What went wrong, with the phrases it knows nearby.
    pub message: String,
    /// Byte range of the offending words in the instruction.
    pub span: Option<(usize, usize)>,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for CompileError {}

/// Something that turns an instruction into sub-steps with map programs: the built-in
/// [`RuleCompiler`], or a language model prompted the way VoxPoser's were.
pub trait ProgramSource {
    /// Compiles an instruction in a world.
    fn compile(&self, instruction: &str, world: &World) -> Result<Vec<StepSpec>, CompileError>;
}

/// The built-in deterministic compiler.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleCompiler;

impl ProgramSource for RuleCompiler {
    fn compile(&self, instruction: &str, world: &World) -> Result<Vec<StepSpec>, CompileError> {
        compile(instruction, world)
    }
}

/// The phrases the compiler knows, shown when an instruction cannot be placed.
pub const KNOWN_PHRASES: &[&str] = &[
    "grasp / pick up / lift X",
    "place / put / move X on | in | above | below | left of | right of | in front of | behind Y [by N cm]",
    "move to N cm above | below | left of | right of | in front of | behind X",
    "move to the center of X",
    "move N cm into | away from X",
    "move up | down | left | right | forward | back [by] N cm",
    "open / close the top drawer",
    "push / press the button",
    "push / slide / sweep X to | into Y",
    "take X off Y",
    "turn X N degrees [clockwise | counterclockwise]",
    "open / close the gripper [near X]",
    "back to default pose",
    "... while avoiding X | keeping at least N cm away from X",
    "... at a quarter | half speed, slowly",
    "... keeping it upright",
    "the X closest to Y, the leftmost | topmost X",
];

const FILLER: &[&str] = &[
    "the", "a", "an", "please", "and", "then", "first", "next", "finally", "after", "that", "it",
    "to", "of", "can", "you", "robot", "now", "by", "with", "your", "its", "so", "is", "at", "all",
    "way",
];

// ---------------------------------------------------------------- tokens

#[derive(Clone, Debug)]
struct Tok {
    text: String,
    span: (usize, usize),
    num: Option<f64>,
    used: bool,
}

fn number_word(w: &str) -> Option<f64> {
    Some(match w {
        "zero" => 0.0,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "twelve" => 12.0,
        "fifteen" => 15.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "ninety" => 90.0,
        _ => return None,
    })
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut push = |text: String, span: (usize, usize)| {
        let text = match text.as_str() {
            "centre" => "center".to_string(),
            "centimeters" | "centimetres" | "centimeter" | "centimetre" => "cm".to_string(),
            "°" | "deg" | "degree" => "degrees".to_string(),
            "onto" => "onto".to_string(),
            _ => text,
        };
        let num = text
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .or_else(|| number_word(&text));
        out.push(Tok {
            text,
            span,
            num,
            used: false,
        });
    };
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        let starts_number = |k: usize| {
            chars.get(k).is_some_and(|(_, d)| d.is_ascii_digit())
                || (chars.get(k).is_some_and(|(_, d)| *d == '.')
                    && chars.get(k + 1).is_some_and(|(_, d)| d.is_ascii_digit()))
        };
        // A minus sign (or U+2212) before a number, not inside a word: the number is negative
        // (which `compile` refuses, rather than dropping the sign).
        let negative = matches!(c, '-' | '\u{2212}')
            && starts_number(i + 1)
            && !(i > 0 && chars[i - 1].1.is_alphanumeric());
        if negative || starts_number(i) {
            let mut j = if negative { i + 1 } else { i };
            while j < chars.len() && (chars[j].1.is_ascii_digit() || chars[j].1 == '.') {
                j += 1;
            }
            let e = chars.get(j).map_or(s.len(), |x| x.0);
            let digits = s[b..e].trim_end_matches('.');
            let text = if negative {
                format!("-{}", &digits[c.len_utf8()..])
            } else {
                digits.to_string()
            };
            push(text, (b, e));
            i = j;
        } else if c.is_alphabetic() {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphabetic() || chars[j].1 == '\'') {
                j += 1;
            }
            let e = chars.get(j).map_or(s.len(), |x| x.0);
            push(
                s[b..e].to_lowercase().trim_end_matches("'s").to_string(),
                (b, e),
            );
            i = j;
        } else if c == '%' || c == '°' || c == ';' || c == ',' || c == '.' {
            let e = b + c.len_utf8();
            push(
                if c == '%' {
                    "percent".into()
                } else {
                    c.to_string()
                },
                (b, e),
            );
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------- intermediate form

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rel {
    Above,
    Below,
    Left,
    Right,
    Front,
    Behind,
    Into,
    Away,
}

impl Rel {
    fn words(self) -> &'static str {
        match self {
            Rel::Above => "above",
            Rel::Below => "below",
            Rel::Left => "to the left of",
            Rel::Right => "to the right of",
            Rel::Front => "in front of",
            Rel::Behind => "behind",
            Rel::Into => "into",
            Rel::Away => "away from",
        }
    }
}

/// An object phrase: the query string programs pass to `parse_query_obj`.
#[derive(Clone, Debug, PartialEq)]
struct Obj {
    query: String,
}

impl Obj {
    fn var(&self) -> String {
        let mut v: String = self
            .query
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while v.contains("__") {
            v = v.replace("__", "_");
        }
        let v = v.trim_matches('_').to_string();
        if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
            format!("obj_{v}")
        } else {
            v
        }
    }
    fn gripper() -> Self {
        Obj {
            query: "gripper".into(),
        }
    }
    fn is_gripper(&self) -> bool {
        self.query == "gripper"
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Spot {
    /// `cm` along a relation of an object.
    Rel(Obj, Rel, f64),
    /// The centre of an object; with `Some(m)`, at the height of `m` (pushes).
    Center(Obj, Option<Obj>),
    /// Offset from an object's own position along an axis (`sign` +-1).
    Offset(Obj, usize, f64, f64),
    /// Stay where the gripper is.
    Here,
    /// The default pose.
    Default,
}

impl Spot {
    fn describe(&self) -> String {
        match self {
            Spot::Rel(o, r, cm) => {
                format!("a point {}cm {} the {}", fmt_num(*cm), r.words(), o.query)
            }
            Spot::Center(o, _) => format!("the center of the {}", o.query),
            Spot::Offset(o, axis, sign, cm) => {
                let dir = match (axis, *sign > 0.0) {
                    (0, true) => "forward",
                    (0, false) => "back",
                    (1, true) => "right",
                    (1, false) => "left",
                    (_, true) => "up",
                    (_, false) => "down",
                };
                if o.is_gripper() {
                    format!("a point {}cm {dir} of where the gripper is", fmt_num(*cm))
                } else {
                    format!("a point {}cm {dir} of the {}", fmt_num(*cm), o.query)
                }
            }
            Spot::Here => "the current position".into(),
            Spot::Default => "the default pose".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Grip {
    Keep,
    Open,
    Close,
    /// Open everywhere except `cm` around the object (grasp it on arrival).
    GraspAt(Obj, f64),
    /// Close near the object.
    CloseNear(Obj, f64),
    /// Open near the object (closed elsewhere).
    OpenNear(Obj, f64),
}

#[derive(Clone, Debug, PartialEq)]
enum Turn {
    Keep,
    Upright,
    /// Degrees about the vertical axis, counter-clockwise seen from above.
    By(f64),
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Modifiers {
    avoid: Vec<(Obj, f64)>,
    speed: Option<f64>,
    upright: bool,
    grip: Option<Grip>,
}

#[derive(Clone, Debug, PartialEq)]
struct Sub {
    text: String,
    movable: Obj,
    planar: bool,
    spot: Spot,
    avoid: Vec<(Obj, f64)>,
    speed: Option<f64>,
    turn: Turn,
    grip: Grip,
}

impl Sub {
    fn motion(text: String, spot: Spot, m: &Modifiers) -> Self {
        Sub {
            text,
            movable: Obj::gripper(),
            planar: false,
            spot,
            avoid: m.avoid.clone(),
            speed: m.speed,
            turn: if m.upright { Turn::Upright } else { Turn::Keep },
            grip: m.grip.clone().unwrap_or(Grip::Keep),
        }
    }

    fn in_place(text: &str, grip: Grip, turn: Turn) -> Self {
        Sub {
            text: text.into(),
            movable: Obj::gripper(),
            planar: false,
            spot: Spot::Here,
            avoid: Vec::new(),
            speed: None,
            turn,
            grip,
        }
    }
}

/// The most sub-steps one instruction compiles to: each step keeps its five maps (4 MB each
/// at 100^3 in the viewer), and VoxPoser's tasks take a handful.
const MAX_SUB_STEPS: usize = 24;

/// The largest turn an instruction may ask for, degrees (ten full turns).
const MAX_TURN_DEG: f64 = 3600.0;

fn fmt_num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x}")
    }
}

fn with_modifiers(mut text: String, m: &Modifiers) -> String {
    for (o, cm) in &m.avoid {
        let _ = write!(
            text,
            " while keeping at least {}cm away from the {}",
            fmt_num(*cm),
            o.query
        );
    }
    if let Some(s) = m.speed {
        let _ = write!(text, " at {} speed", speed_words(s));
    }
    if m.upright {
        text.push_str(" keeping it upright");
    }
    text
}

fn speed_words(s: f64) -> String {
    if (s - 0.25).abs() < 1e-9 {
        "a quarter".into()
    } else if (s - 0.5).abs() < 1e-9 {
        "half".into()
    } else if (s - 1.0).abs() < 1e-9 {
        "full".into()
    } else {
        format!("{}%", fmt_num(s * 100.0))
    }
}

// ---------------------------------------------------------------- the parser

struct Parser<'w> {
    toks: Vec<Tok>,
    world: &'w World,
    vocab: Vec<String>,
    src: String,
    /// The last object a clause acted on ("it").
    last: Option<Obj>,
    /// The last clause's verb (a clause without one reuses it).
    last_verb: Option<String>,
    /// What the gripper holds after the clauses so far.
    holding: Option<Obj>,
}

type PResult<T> = Result<T, CompileError>;

const VERBS: &[&str] = &[
    "grasp", "grab", "pick", "take", "lift", "hold", "place", "put", "set", "drop", "stack",
    "move", "bring", "carry", "go", "reach", "approach", "head", "open", "close", "shut", "push",
    "press", "slide", "sweep", "shove", "nudge", "turn", "rotate", "twist", "unscrew", "screw",
    "release", "back", "return", "reset", "throw", "discard", "pull",
];

impl<'w> Parser<'w> {
    fn new(src: &str, world: &'w World) -> Self {
        let mut vocab: Vec<String> = Vec::new();
        for (e, _) in world.entities() {
            vocab.extend(query::words(&e.name));
            if let Some(c) = &e.color {
                vocab.push(c.to_lowercase());
            }
        }
        vocab.extend(["gripper", "table", "one", "hand"].map(String::from));
        vocab.sort();
        vocab.dedup();
        Self {
            toks: tokenize(src),
            world,
            vocab,
            src: src.to_string(),
            last: None,
            last_verb: None,
            holding: None,
        }
    }

    fn word(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.text.as_str())
    }

    fn is(&self, i: usize, w: &str) -> bool {
        self.word(i) == w
    }

    fn err_at(&self, range: std::ops::Range<usize>, message: String) -> CompileError {
        let span = match (
            self.toks.get(range.start),
            self.toks.get(range.end.saturating_sub(1).max(range.start)),
        ) {
            (Some(a), Some(b)) => Some((a.span.0, b.span.1.max(a.span.1))),
            _ => Some((self.src.len(), self.src.len())),
        };
        CompileError { message, span }
    }

    fn mark(&mut self, range: std::ops::Range<usize>) {
        for t in self.toks.iter_mut().take(range.end).skip(range.start) {
            t.used = true;
        }
    }

    fn skip_articles(&self, mut i: usize, end: usize) -> usize {
        while i < end && matches!(self.word(i), "the" | "a" | "an") {
            i += 1;
        }
        i
    }

    /// An object phrase starting at `i` (within `..end`): returns the object and the index
    /// after it.
    fn object(&mut self, i: usize, end: usize) -> PResult<Option<(Obj, usize)>> {
        let start = self.skip_articles(i, end);
        if start >= end {
            return Ok(None);
        }
        if matches!(self.word(start), "it" | "them")
            && let Some(o) = self.last.clone()
        {
            return Ok(Some((o, start + 1)));
        }
        let mut j = start;
        let superlative = [
            "leftmost",
            "rightmost",
            "topmost",
            "highest",
            "uppermost",
            "lowest",
            "bottommost",
            "frontmost",
            "backmost",
            "rearmost",
        ];
        if superlative.contains(&self.word(j)) {
            j += 1;
        }
        let name_start = j;
        while j < end && self.vocab.iter().any(|v| v == &singular(self.word(j))) {
            // A number is part of a name ("tomato 1") only when no unit follows it.
            if self.toks[j].num.is_some()
                && (j == name_start
                    || matches!(self.word(j + 1), "cm" | "m" | "mm" | "degrees" | "percent"))
            {
                break;
            }
            j += 1;
        }
        if j == name_start {
            return Ok(None);
        }
        let mut phrase: Vec<String> = self.toks[start..j].iter().map(|t| t.text.clone()).collect();
        // "X closest to Y"
        let rels = [
            ("closest", "to"),
            ("nearest", "to"),
            ("farthest", "from"),
            ("furthest", "from"),
        ];
        if let Some(&(r, p)) = rels.iter().find(|(r, _)| self.is(j, r)) {
            let k = if self.is(j + 1, p) { j + 2 } else { j + 1 };
            if let Some((other, after)) = self.object(k, end)? {
                phrase.push(r.to_string());
                phrase.push(p.to_string());
                phrase.push("the".into());
                phrase.push(other.query.clone());
                j = after;
            }
        }
        let text = phrase.join(" ");
        let resolved = self
            .world
            .resolve(&text)
            .map_err(|e| self.err_at(start..j, e))?;
        let query = match resolved {
            None => {
                let names: Vec<String> = self
                    .world
                    .entities()
                    .iter()
                    .map(|(e, _)| e.name.clone())
                    .collect();
                return Err(self.err_at(
                    start..j,
                    format!(
                        "there is no {text:?} in this scene; it has: {}",
                        names.join(", ")
                    ),
                ));
            }
            Some(Resolved::Gripper) => "gripper".to_string(),
            Some(Resolved::Table) => "table".to_string(),
            Some(Resolved::Entity(k)) => {
                let name = self
                    .world
                    .entity(k)
                    .map(|(e, _)| e.name.clone())
                    .unwrap_or_default();
                if text.contains(" closest ")
                    || text.contains(" farthest ")
                    || text.contains(" nearest ")
                    || text.contains(" furthest ")
                    || superlative.contains(&self.word(start))
                {
                    text.trim_start_matches("the ").to_string()
                } else {
                    name
                }
            }
        };
        self.mark(i..j);
        let o = Obj { query };
        if !o.is_gripper() {
            self.last = Some(o.clone());
        }
        Ok(Some((o, j)))
    }

    /// All entities a plural phrase names ("the tomatoes"), or the single one.
    fn objects_plural(&mut self, i: usize, end: usize) -> PResult<Option<(Vec<Obj>, usize)>> {
        let start = self.skip_articles(i, end);
        let w = self.word(start).to_string();
        if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
            let matches = query::matching(&w, &self.world.candidates());
            if matches.len() > 1 {
                self.mark(i..start + 1);
                let objs: Vec<Obj> = matches
                    .iter()
                    .filter_map(|&k| {
                        self.world.entity(k).map(|(e, _)| Obj {
                            query: e.name.clone(),
                        })
                    })
                    .collect();
                self.last = objs.last().cloned();
                return Ok(Some((objs, start + 1)));
            }
        }
        Ok(self.object(i, end)?.map(|(o, j)| (vec![o], j)))
    }

    /// A distance "N cm" at `i`; returns (cm, next index).
    fn distance(&self, i: usize) -> Option<(f64, usize)> {
        let n = self.toks.get(i)?.num?;
        if self.is(i + 1, "cm") {
            Some((n, i + 2))
        } else if self.is(i + 1, "m")
            || self.is(i + 1, "meter")
            || self.is(i + 1, "metre")
            || self.is(i + 1, "meters")
        {
            Some((n * 100.0, i + 2))
        } else if self.is(i + 1, "mm") {
            Some((n / 10.0, i + 2))
        } else {
            None
        }
    }

    /// A spatial target phrase at `i`. `mover` is what moves (for pushes and offsets).
    fn spot(
        &mut self,
        i: usize,
        end: usize,
        mover: &Obj,
        planar: bool,
    ) -> PResult<Option<(Spot, usize)>> {
        let mut j = i;
        while j < end && self.toks[j].used {
            j += 1; // modifiers already taken ("move slowly to ...")
        }
        let mut cm: Option<f64> = None;
        // "to 10cm above X"
        if matches!(self.word(j), "to" | "toward" | "towards") && self.distance(j + 1).is_some() {
            j += 1;
        }
        if let Some((d, k)) = self.distance(j) {
            cm = Some(d);
            j = k;
        }
        // "by N cm" after a direction word is handled in the direction arm.
        let w = self.word(j).to_string();
        let next = self.word(j + 1).to_string();
        // Directions: "up 10cm", "10cm forward", "left by 5 cm".
        let dir = match w.as_str() {
            "up" | "upward" | "upwards" | "higher" => Some((2, 1.0)),
            "down" | "downward" | "downwards" | "lower" => Some((2, -1.0)),
            "forward" | "forwards" | "ahead" => Some((0, 1.0)),
            "back" | "backward" | "backwards" if next != "to" => Some((0, -1.0)),
            "left" | "right" if !matches!(next.as_str(), "of") && (next != "side") => {
                Some((1, if w == "left" { -1.0 } else { 1.0 }))
            }
            _ => None,
        };
        if let Some((axis, sign)) = dir {
            let mut k = j + 1;
            if cm.is_none() {
                let b = if self.is(k, "by") { k + 1 } else { k };
                if let Some((d, kk)) = self.distance(b) {
                    cm = Some(d);
                    k = kk;
                }
            }
            self.mark(i..k);
            return Ok(Some((
                Spot::Offset(mover.clone(), axis, sign, cm.unwrap_or(10.0)),
                k,
            )));
        }
        // Relations.
        let (rel, default_cm, skip) = match (w.as_str(), next.as_str(), self.word(j + 2)) {
            ("on", "top", "of") => (Some(Rel::Above), 5.0, 3),
            ("on", _, _) | ("onto", _, _) | ("atop", _, _) => (Some(Rel::Above), 5.0, 1),
            ("above", _, _) | ("over", _, _) => (Some(Rel::Above), 10.0, 1),
            ("below", _, _) | ("under", _, _) | ("beneath", _, _) | ("underneath", _, _) => {
                (Some(Rel::Below), 5.0, 1)
            }
            ("to", "the", "left") | ("to", "the", "right")
                if self.is(j + 3, "of") || self.object_ahead(j + 3, end) =>
            {
                let r = if self.word(j + 2) == "left" {
                    Rel::Left
                } else {
                    Rel::Right
                };
                (Some(r), 10.0, if self.is(j + 3, "of") { 4 } else { 3 })
            }
            ("to", "the", "left") | ("to", "the", "right") => {
                // A direction hint before the real target: "push X to the right into Y".
                let sign = if self.word(j + 2) == "left" {
                    -1.0
                } else {
                    1.0
                };
                self.mark(i..j + 3);
                if let Some(found) = self.spot(j + 3, end, mover, planar)? {
                    return Ok(Some(found));
                }
                return Ok(Some((
                    Spot::Offset(mover.clone(), 1, sign, cm.unwrap_or(10.0)),
                    j + 3,
                )));
            }
            ("left", "of", _) => (Some(Rel::Left), 10.0, 2),
            ("right", "of", _) => (Some(Rel::Right), 10.0, 2),
            ("in", "front", "of") => (Some(Rel::Front), 10.0, 3),
            ("behind", _, _) => (Some(Rel::Behind), 10.0, 1),
            ("in", "back", "of") => (Some(Rel::Behind), 10.0, 3),
            ("away", "from", _) => (Some(Rel::Away), 10.0, 2),
            ("into", _, _) | ("in", _, _) | ("inside", _, _) if cm.is_some() => {
                (Some(Rel::Into), 0.0, 1)
            }
            _ => (None, 0.0, 0),
        };
        if let Some(rel) = rel {
            // allow "by N cm" after the relation's object, e.g. "above the block by 5cm"
            let Some((o, mut k)) = self.object(j + skip, end)? else {
                return Err(self.err_at(
                    j..(j + skip + 1).min(self.toks.len()),
                    format!("expected an object after {:?}", rel.words()),
                ));
            };
            if cm.is_none()
                && self.is(k, "by")
                && let Some((d, kk)) = self.distance(k + 1)
            {
                cm = Some(d);
                k = kk;
            }
            self.mark(i..k);
            if planar && rel == Rel::Above {
                // An object pushed "onto" a flat target stays on the table.
                return Ok(Some((Spot::Center(o, Some(mover.clone())), k)));
            }
            return Ok(Some((Spot::Rel(o, rel, cm.unwrap_or(default_cm)), k)));
        }
        // Containers: "into the bin", "in the dustpan".
        if matches!(w.as_str(), "into" | "in" | "inside")
            && let Some((o, k)) = self.object(j + 1, end)?
        {
            self.mark(i..k);
            let spot = if planar {
                Spot::Center(o, Some(mover.clone()))
            } else {
                Spot::Rel(o, Rel::Above, 10.0)
            };
            return Ok(Some((spot, k)));
        }
        // "to the center of X", "at the middle of X".
        let c0 = if matches!(w.as_str(), "to" | "at" | "towards" | "toward") {
            j + 1
        } else {
            j
        };
        let c1 = self.skip_articles(c0, end);
        if matches!(self.word(c1), "center" | "middle")
            && self.is(c1 + 1, "of")
            && let Some((o, k)) = self.object(c1 + 2, end)?
        {
            self.mark(i..k);
            let at = if planar { Some(mover.clone()) } else { None };
            return Ok(Some((Spot::Center(o, at), k)));
        }
        // "to X" / "X": on top for the gripper, the centre for pushes.
        if matches!(w.as_str(), "to" | "towards" | "toward" | "at") || self.object_ahead(j, end) {
            let k0 = if matches!(w.as_str(), "to" | "towards" | "toward" | "at") {
                j + 1
            } else {
                j
            };
            if let Some((o, k)) = self.object(k0, end)? {
                self.mark(i..k);
                let spot = if planar {
                    Spot::Center(o, Some(mover.clone()))
                } else if o.is_gripper() {
                    Spot::Here
                } else {
                    Spot::Rel(o, Rel::Above, cm.unwrap_or(5.0))
                };
                return Ok(Some((spot, k)));
            }
        }
        Ok(None)
    }

    fn object_ahead(&self, j: usize, end: usize) -> bool {
        let k = self.skip_articles(j, end);
        k < end && self.vocab.iter().any(|v| v == &singular(self.word(k)))
    }

    /// Removes and returns the modifiers of a clause.
    fn modifiers(&mut self, start: usize, end: usize) -> PResult<Modifiers> {
        let mut m = Modifiers::default();
        let mut i = start;
        while i < end {
            if self.toks[i].used {
                i += 1;
                continue;
            }
            let w = self.word(i).to_string();
            // avoid / keep away
            if matches!(
                w.as_str(),
                "avoiding"
                    | "avoid"
                    | "keeping"
                    | "keep"
                    | "staying"
                    | "stay"
                    | "steering"
                    | "steer"
                    | "without"
            ) {
                let mut k = i + 1;
                if w == "without" && matches!(self.word(k), "touching" | "hitting") {
                    k += 1;
                }
                if self.is(k, "clear") {
                    k += 1;
                    if self.is(k, "of") {
                        k += 1;
                    }
                }
                if self.is(k, "at") && self.is(k + 1, "least") {
                    k += 2;
                }
                let mut cm = 15.0;
                if let Some((d, kk)) = self.distance(k) {
                    cm = d;
                    k = kk;
                }
                if self.is(k, "away") {
                    k += 1;
                }
                if self.is(k, "from") {
                    k += 1;
                }
                let is_avoid_phrase =
                    matches!(w.as_str(), "avoiding" | "avoid" | "without") || k > i + 1;
                if is_avoid_phrase && let Some((o, after)) = self.object(k, end)? {
                    if i > start
                        && matches!(self.word(i - 1), "while" | "and")
                        && !self.toks[i - 1].used
                    {
                        self.mark(i - 1..i);
                    }
                    self.mark(i..after);
                    m.avoid.push((o, cm));
                    i = after;
                    continue;
                }
            }
            // speed
            let speed = match (
                w.as_str(),
                self.word(i + 1),
                self.word(i + 2),
                self.word(i + 3),
            ) {
                ("at", "a", "quarter", _) | ("at", "quarter", _, _) => {
                    Some((0.25, if self.is(i + 1, "a") { 3 } else { 2 }))
                }
                ("at", "half", _, _) | ("at", "a", "half", _) => {
                    Some((0.5, if self.is(i + 1, "a") { 3 } else { 2 }))
                }
                ("at", "full", _, _) => Some((1.0, 2)),
                ("very", "slowly", _, _) => Some((0.25, 2)),
                ("slowly", _, _, _) | ("carefully", _, _, _) | ("gently", _, _, _) => {
                    Some((0.5, 1))
                }
                ("at", n, "percent", _) if n.parse::<f64>().is_ok() => {
                    Some((n.parse::<f64>().unwrap_or(100.0) / 100.0, 3))
                }
                _ => None,
            };
            if let Some((s, mut n)) = speed {
                // "... of the speed", "... speed"
                while matches!(
                    self.word(i + n),
                    "of" | "the" | "speed" | "normal" | "velocity"
                ) {
                    n += 1;
                }
                if !(s > 0.0 && s <= 4.0) {
                    return Err(self.err_at(
                        i..i + n,
                        format!("a speed of {s} times normal is out of range (0, 4]"),
                    ));
                }
                self.mark(i..i + n);
                m.speed = Some(s);
                i += n;
                continue;
            }
            // upright
            if w == "upright" {
                let mut a = i;
                while a > start
                    && matches!(
                        self.word(a - 1),
                        "keeping" | "keep" | "it" | "while" | "and" | "them" | "stay" | "staying"
                    )
                    && !self.toks[a - 1].used
                {
                    a -= 1;
                }
                self.mark(a..i + 1);
                m.upright = true;
                i += 1;
                continue;
            }
            // gripper near X
            if matches!(w.as_str(), "open" | "close")
                && self.is(i + 1, "the")
                && self.is(i + 2, "gripper")
                || matches!(w.as_str(), "open" | "close") && self.is(i + 1, "gripper")
            {
                let g = if self.is(i + 1, "the") { i + 3 } else { i + 2 };
                let mut k = g;
                if self.is(k, "when") {
                    k += 1;
                }
                let mut cm = 5.0;
                if matches!(self.word(k), "near" | "around" | "close") || self.is(k, "within") {
                    if self.is(k, "within") {
                        if let Some((d, kk)) = self.distance(k + 1) {
                            cm = d;
                            k = kk;
                        }
                        if self.is(k, "of") {
                            k += 1;
                        }
                    } else {
                        k += 1;
                        if self.is(k, "to") {
                            k += 1;
                        }
                    }
                    if let Some((o, after)) = self.object(k, end)? {
                        if i > start && matches!(self.word(i - 1), "and") {
                            self.mark(i - 1..i);
                        }
                        self.mark(i..after);
                        m.grip = Some(if w == "open" {
                            Grip::OpenNear(o, cm)
                        } else {
                            Grip::CloseNear(o, cm)
                        });
                        i = after;
                        continue;
                    }
                }
            }
            i += 1;
        }
        Ok(m)
    }

    /// Degrees and direction: "180 degrees [clockwise]", at most [`MAX_TURN_DEG`] either way.
    fn degrees(&mut self, start: usize, end: usize) -> PResult<Option<f64>> {
        for i in start..end {
            if self.toks[i].used {
                continue;
            }
            if let (Some(n), true) = (self.toks[i].num, self.is(i + 1, "degrees")) {
                let mut k = i + 2;
                let mut sign = 1.0;
                match self.word(k) {
                    "clockwise" => {
                        sign = -1.0;
                        k += 1;
                    }
                    "counterclockwise" | "anticlockwise" => k += 1,
                    "counter" | "anti" if self.is(k + 1, "clockwise") => k += 2,
                    _ => {}
                }
                let from = if i > start && self.is(i - 1, "by") {
                    i - 1
                } else {
                    i
                };
                if n.is_nan() || n.abs() > MAX_TURN_DEG {
                    return Err(self.err_at(
                        i..k,
                        format!(
                            "a turn of {n} degrees is out of range (at most {MAX_TURN_DEG} \
                             either way)"
                        ),
                    ));
                }
                self.mark(from..k);
                return Ok(Some(sign * n));
            }
        }
        Ok(None)
    }

    /// How far a drawer (named by the drawer or its handle) is open, and its depth, in cm.
    fn drawer_cm(&self, drawer: &str) -> Option<(f64, f64)> {
        self.world
            .scene
            .drawer_state(drawer)
            .map(|(open, depth)| (open * 100.0, depth * 100.0))
    }

    fn is_button(&self, o: &Obj) -> bool {
        o.query.contains("button")
            || self.world.scene.objects.iter().any(|ob| {
                matches!(ob.shape, Shape::Button { .. }) && ob.name.eq_ignore_ascii_case(&o.query)
            })
    }

    fn is_drawer(&self, o: &Obj) -> bool {
        o.query.contains("drawer") && self.drawer_cm(&o.query).is_some()
    }

    fn handle_of(&self, o: &Obj) -> Obj {
        if o.query.ends_with("handle") {
            o.clone()
        } else {
            Obj {
                query: format!("{} handle", o.query),
            }
        }
    }

    /// One clause (tokens `start..end`) to sub-steps.
    fn clause(&mut self, start: usize, end: usize) -> PResult<Vec<Sub>> {
        let m = self.modifiers(start, end)?;
        let deg = self.degrees(start, end)?;
        // The verb: first unused token that is a verb.
        let found = (start..end).find(|&i| !self.toks[i].used && VERBS.contains(&self.word(i)));
        let (verb, v, mut i) = match (found, self.last_verb.clone()) {
            (Some(v), _) => {
                self.mark(v..v + 1);
                (self.word(v).to_string(), v, v + 1)
            }
            // "press the maroon button and then the green one": the verb carries over.
            (None, Some(lv)) if self.object_ahead(start, end) => (lv, start, start),
            _ => {
                // Only modifiers, or nothing usable.
                if let Some(d) = deg {
                    return Ok(vec![Sub::in_place(
                        &format!("turn {} degrees", fmt_num(d)),
                        Grip::Keep,
                        Turn::By(d),
                    )]);
                }
                if let Some(g) = m.grip.clone() {
                    return Ok(vec![Sub::in_place("operate the gripper", g, Turn::Keep)]);
                }
                return Err(self.unplaced(start, end));
            }
        };
        self.last_verb = Some(verb.clone());
        // particles
        let particle = self.word(i).to_string();
        let gripper_words = |p: &Parser<'_>, k: usize| -> bool {
            let k2 = p.skip_articles(k, end);
            matches!(p.word(k2), "gripper" | "hand")
        };
        let mut subs = Vec::new();
        match verb.as_str() {
            "open" | "close" | "shut" | "release"
                if gripper_words(self, i) || verb == "release" =>
            {
                let k = self.skip_articles(i, end);
                if gripper_words(self, i) {
                    self.mark(i..k + 1);
                }
                let open = verb == "open" || verb == "release";
                subs.push(Sub::in_place(
                    if open {
                        "open gripper"
                    } else {
                        "close gripper"
                    },
                    if open { Grip::Open } else { Grip::Close },
                    Turn::Keep,
                ));
            }
            "back" | "return" | "reset" | "go" if self.default_pose_ahead(v, end) => {
                let e = (v..end)
                    .find(|&k| matches!(self.word(k), "pose" | "position" | "home" | "reset"))
                    .map_or(v + 1, |k| k + 1);
                self.mark(v..e);
                subs.push(Sub::motion(
                    with_modifiers("back to default pose".into(), &m),
                    Spot::Default,
                    &m,
                ));
            }
            "open" | "pull" => {
                if particle == "out" || particle == "open" {
                    self.mark(i..i + 1);
                    i += 1;
                }
                let Some((o, after)) = self.object(i, end)? else {
                    return Err(self.err_at(
                        v..(v + 2).min(end),
                        "open what? name a drawer, e.g. \"open the top drawer\"".into(),
                    ));
                };
                if !self.is_drawer(&o) {
                    return Err(self.err_at(
                        i..after,
                        format!("I know how to open drawers; the {} is not one", o.query),
                    ));
                }
                let mut cm =
                    20.0f64.min(self.drawer_cm(&o.query).map_or(30.0, |(_, depth)| depth) * 0.75);
                if self.is(after, "by") {
                    if let Some((d, k)) = self.distance(after + 1) {
                        cm = d;
                        self.mark(after..k);
                    }
                } else if let Some((d, k)) = self.distance(after) {
                    cm = d;
                    self.mark(after..k);
                }
                let h = self.handle_of(&o);
                let grasp = grasp(&h, &m);
                subs.push(grasp);
                let mut pull = Sub::motion(
                    with_modifiers(
                        format!("move away from the {} by {}cm", h.query, fmt_num(cm)),
                        &m,
                    ),
                    Spot::Rel(h.clone(), Rel::Away, cm),
                    &m,
                );
                pull.grip = Grip::Close;
                subs.push(pull);
                subs.push(Sub::in_place("open gripper", Grip::Open, Turn::Keep));
            }
            "close" | "shut" => {
                let Some((o, after)) = self.object(i, end)? else {
                    return Err(self.err_at(
                        v..(v + 2).min(end),
                        "close what? name a drawer or the gripper".into(),
                    ));
                };
                if !self.is_drawer(&o) {
                    return Err(self.err_at(
                        i..after,
                        format!(
                            "I know how to close drawers and the gripper; the {} is neither",
                            o.query
                        ),
                    ));
                }
                subs.extend(self.close_drawer(&o, &m)?);
            }
            "push" | "press" | "slide" | "sweep" | "shove" | "nudge" => {
                if particle == "down" || particle == "on" {
                    self.mark(i..i + 1);
                    i += 1;
                }
                let Some((objs, after)) = self.objects_plural(i, end)? else {
                    return Err(self.missing_object(i, end, &verb));
                };
                for o in objs {
                    // "push the top drawer shut"
                    if self.is_drawer(&o) && (verb == "push" || verb == "slide") {
                        for k in after..end {
                            if matches!(self.word(k), "shut" | "closed" | "close" | "in") {
                                self.mark(k..k + 1);
                            }
                        }
                        subs.extend(self.close_drawer(&o, &m)?);
                        continue;
                    }
                    if self.is_button(&o) && (verb == "push" || verb == "press") {
                        subs.extend(press(&o, &m));
                        continue;
                    }
                    let Some((spot, _)) = self.spot(after, end, &o, true)? else {
                        return Err(self.err_at(after.min(end.saturating_sub(1))..end, format!("{verb} the {} where? e.g. \"{verb} the {} to the target\" or \"{verb} the {} 10cm forward\"", o.query, o.query, o.query)));
                    };
                    subs.extend(self.push(&o, spot, &m));
                }
            }
            "turn" | "rotate" | "twist" | "unscrew" | "screw" => {
                // "turn off the lamp" -> press its button
                if matches!(particle.as_str(), "off" | "on") {
                    self.mark(i..i + 1);
                    let target = self.object(i + 1, end)?;
                    let button = self
                        .world
                        .entities()
                        .iter()
                        .map(|(e, _)| e.name.clone())
                        .find(|n| n.contains("button") && !n.ends_with("base"));
                    return match button {
                        Some(b) => Ok(press(&Obj { query: b }, &m)),
                        None => Err(self.err_at(
                            v..target.map_or(i + 1, |t| t.1),
                            "there is no button here to switch it with".into(),
                        )),
                    };
                }
                let obj = self.object(i, end)?;
                let d = deg.unwrap_or(if verb == "unscrew" { 180.0 } else { 90.0 });
                match obj {
                    Some((o, _)) if !o.is_gripper() => {
                        let grasp = grasp(&o, &m);
                        subs.push(grasp);
                        let dir = if d < 0.0 {
                            "clockwise"
                        } else {
                            "counterclockwise"
                        };
                        let mut turn = Sub::in_place(
                            &format!("turn the {} {} degrees {dir}", o.query, fmt_num(d.abs())),
                            Grip::Close,
                            Turn::By(d),
                        );
                        turn.speed = m.speed;
                        subs.push(turn);
                        subs.push(Sub::in_place("open gripper", Grip::Open, Turn::Keep));
                    }
                    _ => subs.push(Sub::in_place(
                        &format!("turn {} degrees", fmt_num(d)),
                        Grip::Keep,
                        Turn::By(d),
                    )),
                }
            }
            "grasp" | "grab" | "pick" | "take" | "lift" | "hold" => {
                if particle == "up" {
                    self.mark(i..i + 1);
                    i += 1;
                }
                let Some((o, after)) = self.object(i, end)? else {
                    return Err(self.missing_object(i, end, &verb));
                };
                let grasp = grasp(&o, &m);
                subs.push(grasp);
                // "take X off/out of/from Y"
                let k = after;
                if matches!(self.word(k), "off" | "from" | "out") {
                    let k2 = if self.is(k, "out") && self.is(k + 1, "of") {
                        k + 2
                    } else {
                        k + 1
                    };
                    if let Some((y, yend)) = self.object(k2, end)? {
                        self.mark(k..yend);
                        subs.push(lift(&m, 20.0));
                        let mut aside = Sub::motion(
                            with_modifiers(
                                format!("move to 25cm to the left of the {}", y.query),
                                &m,
                            ),
                            Spot::Rel(y.clone(), Rel::Left, 25.0),
                            &m,
                        );
                        aside.grip = Grip::Close;
                        subs.push(aside);
                        subs.push(Sub::in_place("open gripper", Grip::Open, Turn::Keep));
                        return Ok(subs);
                    }
                }
                if verb != "grasp" && verb != "grab" && verb != "hold" {
                    subs.push(lift(&m, 20.0));
                }
                self.holding = Some(o);
            }
            "place" | "put" | "set" | "drop" | "stack" | "bring" | "carry" | "throw"
            | "discard" | "move"
                if verb != "move" || !self.gripper_moves(i, end) =>
            {
                let Some((objs, after)) = self.objects_plural(i, end)? else {
                    return Err(self.missing_object(i, end, &verb));
                };
                let mut k = after;
                if matches!(self.word(k), "down" | "away") && verb != "throw" {
                    self.mark(k..k + 1);
                    k += 1;
                }
                let what = objs
                    .iter()
                    .map(|o| o.query.clone())
                    .collect::<Vec<_>>()
                    .join(" and the ");
                let spot = if matches!(verb.as_str(), "throw" | "discard") || self.is(k, "away") {
                    if self.is(k, "away") {
                        self.mark(k..k + 1);
                    }
                    let bin = self
                        .world
                        .entities()
                        .iter()
                        .map(|(e, _)| e.name.clone())
                        .find(|n| n.contains("bin") || n.contains("trash can"));
                    match bin {
                        Some(b) => Spot::Rel(Obj { query: b }, Rel::Above, 10.0),
                        None => {
                            return Err(
                                self.err_at(v..after, "there is no bin here to throw it in".into())
                            );
                        }
                    }
                } else {
                    let mover = Obj::gripper();
                    match self.spot(k, end, &mover, false)? {
                        Some((s, _)) => s,
                        None => {
                            return Err(self.err_at(
                                k.min(end.saturating_sub(1))..end,
                                format!("{verb} the {what} where? e.g. \"on the ...\", \"10cm to the left of the ...\""),
                            ));
                        }
                    }
                };
                for o in objs {
                    let spot = spot.clone();
                    let held = self.holding.as_ref() == Some(&o);
                    let mut steps = place(&o, spot, &m);
                    if held {
                        steps.drain(..2); // already grasped and lifted
                    }
                    subs.extend(steps);
                    self.holding = None;
                }
            }
            "move" | "go" | "reach" | "approach" | "head" => {
                let mut k = i;
                if self.object_is_gripper(k, end) {
                    let s = self.skip_articles(k, end);
                    self.mark(k..s + 1);
                    k = s + 1;
                }
                let mover = Obj::gripper();
                let spot = if verb == "approach" || verb == "reach" {
                    self.object(k, end)?
                        .map(|(o, _)| Spot::Rel(o, Rel::Above, 5.0))
                } else {
                    self.spot(k, end, &mover, false)?.map(|(s, _)| s)
                };
                let Some(spot) = spot else {
                    return Err(self.err_at(
                        v..end,
                        format!("{verb} where? e.g. \"move to 10cm above the ...\""),
                    ));
                };
                let text = with_modifiers(format!("move to {}", spot.describe()), &m);
                subs.push(Sub::motion(text, spot, &m));
            }
            _ => return Err(self.unplaced(start, end)),
        }
        // Motion-wide modifiers on the in-place turn step etc. were applied where built.
        if let Some(d) = deg
            && !subs.iter().any(|s| matches!(s.turn, Turn::By(_)))
            && let Some(last) = subs.iter_mut().rev().find(|s| s.spot != Spot::Here)
        {
            last.turn = Turn::By(d);
        }
        Ok(subs)
    }

    fn default_pose_ahead(&self, v: usize, end: usize) -> bool {
        (v..end).any(|k| matches!(self.word(k), "default" | "home" | "initial" | "start"))
            || self.word(v) == "reset"
    }

    fn object_is_gripper(&self, k: usize, end: usize) -> bool {
        let s = self.skip_articles(k, end);
        matches!(self.word(s), "gripper" | "hand")
    }

    /// For "move": does the gripper move (no object right after the verb)?
    fn gripper_moves(&self, i: usize, end: usize) -> bool {
        if self.object_is_gripper(i, end) {
            return true;
        }
        let s = self.skip_articles(i, end);
        // "move to X", "move 10cm above X", "move up": spatial words first.
        let w = self.word(s);
        !self.object_ahead(i, end)
            || self.toks.get(s).is_some_and(|t| t.num.is_some())
            || matches!(
                w,
                "to" | "up"
                    | "down"
                    | "left"
                    | "right"
                    | "forward"
                    | "back"
                    | "above"
                    | "below"
                    | "over"
                    | "into"
                    | "away"
                    | "toward"
                    | "towards"
            )
    }

    fn close_drawer(&mut self, o: &Obj, m: &Modifiers) -> PResult<Vec<Sub>> {
        let h = self.handle_of(o);
        let open_cm = self.drawer_cm(&h.query).map_or(0.0, |(open, _)| open);
        if open_cm < 0.5 {
            return Err(CompileError {
                message: format!(
                    "the {} is already closed",
                    o.query.trim_end_matches(" handle")
                ),
                span: None,
            });
        }
        let mut approach = Sub::motion(
            with_modifiers(format!("move to 5cm away from the {}", h.query), m),
            Spot::Rel(h.clone(), Rel::Away, 5.0),
            m,
        );
        approach.grip = Grip::Close;
        let mut pushing = Sub::motion(
            with_modifiers(
                format!(
                    "push close the {} by {}cm",
                    o.query.trim_end_matches(" handle"),
                    fmt_num(open_cm.round())
                ),
                m,
            ),
            Spot::Rel(h.clone(), Rel::Into, open_cm.round()),
            m,
        );
        pushing.movable = h;
        pushing.planar = true;
        pushing.grip = Grip::Close;
        Ok(vec![approach, pushing])
    }

    fn push(&self, o: &Obj, spot: Spot, m: &Modifiers) -> Vec<Sub> {
        // Approach from the side opposite the motion.
        let here = self
            .world
            .resolve(&o.query)
            .ok()
            .flatten()
            .map(|r| self.world.voxel_of(&r));
        let there = self.spot_voxel(&spot);
        let side = match (here, there) {
            (Some(a), Some(b)) => {
                let d = [b[0] as f64 - a[0] as f64, b[1] as f64 - a[1] as f64];
                if d[0].abs() >= d[1].abs() {
                    if d[0] >= 0.0 { Rel::Behind } else { Rel::Front }
                } else if d[1] >= 0.0 {
                    Rel::Left
                } else {
                    Rel::Right
                }
            }
            _ => Rel::Behind,
        };
        let mut approach = Sub::motion(
            with_modifiers(format!("move to 5cm {} the {}", side.words(), o.query), m),
            Spot::Rel(o.clone(), side, 5.0),
            m,
        );
        approach.grip = Grip::Close;
        let mut pushing = Sub::motion(
            with_modifiers(format!("push the {} to {}", o.query, spot.describe()), m),
            spot,
            m,
        );
        pushing.movable = o.clone();
        pushing.planar = true;
        pushing.grip = Grip::Close;
        vec![approach, pushing]
    }

    /// Where a spot is now (for choosing a push side).
    fn spot_voxel(&self, spot: &Spot) -> Option<[usize; 3]> {
        let at = |o: &Obj| {
            self.world
                .resolve(&o.query)
                .ok()
                .flatten()
                .map(|r| self.world.voxel_of(&r))
        };
        match spot {
            Spot::Rel(o, r, cm) => {
                let mut v = at(o)?.map(|x| x as i64);
                let g = &self.world.grid;
                match r {
                    Rel::Left => v[1] -= g.cm2index(*cm, 1),
                    Rel::Right => v[1] += g.cm2index(*cm, 1),
                    Rel::Front => v[0] += g.cm2index(*cm, 0),
                    Rel::Behind => v[0] -= g.cm2index(*cm, 0),
                    _ => {}
                }
                Some(g.clamp_voxel_i(v))
            }
            Spot::Center(o, _) => at(o),
            Spot::Offset(o, axis, sign, cm) => {
                let mut v = at(o)?.map(|x| x as i64);
                v[*axis] += (*sign * self.world.grid.cm2index(*cm, *axis) as f64) as i64;
                Some(self.world.grid.clamp_voxel_i(v))
            }
            _ => None,
        }
    }

    /// The error for a missing object after a verb: an unknown name, or nothing at all.
    fn missing_object(&self, i: usize, end: usize, verb: &str) -> CompileError {
        let k = self.skip_articles(i, end);
        let names: Vec<String> = self
            .world
            .entities()
            .iter()
            .map(|(e, _)| e.name.clone())
            .collect();
        if k < end && self.toks[k].num.is_none() {
            let mut e = k;
            while e < end
                && !self.toks[e].used
                && !FILLER.contains(&self.word(e))
                && !matches!(
                    self.word(e),
                    "on" | "in" | "into" | "onto" | "to" | "above" | "," | "."
                )
            {
                e += 1;
            }
            let e = e.max(k + 1);
            let what = self.clause_text(k, e);
            return self.err_at(
                k..e,
                format!(
                    "there is no {what:?} in this scene; it has: {}",
                    names.join(", ")
                ),
            );
        }
        self.err_at(
            i.saturating_sub(1)..(i + 1).min(end),
            format!("{verb} what? name one of: {}", names.join(", ")),
        )
    }

    fn unplaced(&self, start: usize, end: usize) -> CompileError {
        let loose: Vec<usize> = (start..end)
            .filter(|&i| {
                !self.toks[i].used
                    && !FILLER.contains(&self.word(i))
                    && !matches!(self.word(i), "," | "." | ";")
            })
            .collect();
        // Object words are placeable; the words to report are the rest.
        let unknown: Vec<usize> = loose
            .iter()
            .copied()
            .filter(|&i| !self.vocab.iter().any(|v| v == &singular(self.word(i))))
            .collect();
        if unknown.is_empty() && !loose.is_empty() {
            return self.err_at(
                loose[0]..loose[loose.len() - 1] + 1,
                format!(
                    "{:?} names something but says nothing to do with it; phrases I know: {}",
                    self.clause_text(start, end),
                    KNOWN_PHRASES.join("; ")
                ),
            );
        }
        if unknown.is_empty() {
            return self.err_at(
                start..end,
                format!(
                    "nothing to do in {:?}; phrases I know: {}",
                    self.clause_text(start, end),
                    KNOWN_PHRASES.join("; ")
                ),
            );
        }
        // Each word once, and at most a few (a long instruction repeats them).
        let mut words: Vec<&str> = Vec::new();
        for &i in &unknown {
            if !words.contains(&self.word(i)) {
                words.push(self.word(i));
            }
        }
        let more = words.len().saturating_sub(MAX_WORDS_SHOWN);
        words.truncate(MAX_WORDS_SHOWN);
        let mut hints: Vec<String> = Vec::new();
        for w in &words {
            let best = VERBS
                .iter()
                .map(|v| v.to_string())
                .chain(self.vocab.iter().cloned())
                .map(|v| (strsim::levenshtein(w, &v), v))
                .filter(|(d, v)| *d >= 1 && *d <= 2 && *d < v.len())
                .min();
            if let Some((_, v)) = best {
                hints.push(format!("{w:?} -> did you mean {v:?}?"));
            }
        }
        let names: Vec<String> = self
            .world
            .entities()
            .iter()
            .map(|(e, _)| e.name.clone())
            .collect();
        let mut msg = format!(
            "could not place the words {}{} in {:?}",
            words
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            self.clause_text(start, end)
        );
        if !hints.is_empty() {
            let _ = write!(msg, " ({})", hints.join("; "));
        }
        let _ = write!(
            msg,
            ". Phrases I know: {}. Objects here: {}.",
            KNOWN_PHRASES.join("; "),
            names.join(", ")
        );
        let first = unknown[0];
        let last = *unknown.last().unwrap_or(&first);
        self.err_at(first..last + 1, msg)
    }

    /// The clause's text for a message; a long one is cut to its first
    /// [`MAX_QUOTE_CHARS`] characters and "...".
    fn clause_text(&self, start: usize, end: usize) -> String {
        let text = match (self.toks.get(start), self.toks.get(end.saturating_sub(1))) {
            (Some(a), Some(b)) if b.span.1 >= a.span.0 => &self.src[a.span.0..b.span.1],
            _ => "",
        };
        match text.char_indices().nth(MAX_QUOTE_CHARS) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_string(),
        }
    }
}

/// Unknown words an error lists at most.
const MAX_WORDS_SHOWN: usize = 8;
/// Characters of a clause an error quotes at most.
const MAX_QUOTE_CHARS: usize = 120;

fn singular(w: &str) -> String {
    query::singular(w).to_string()
}

/// Grasp: go to the object's centre with the gripper open everywhere except 1 cm around
/// it, so it closes on arrival.
fn grasp(o: &Obj, m: &Modifiers) -> Sub {
    let mut s = Sub::motion(
        with_modifiers(format!("grasp the {}", o.query), m),
        Spot::Center(o.clone(), None),
        m,
    );
    s.grip = Grip::GraspAt(o.clone(), 1.0);
    s
}

fn lift(m: &Modifiers, cm: f64) -> Sub {
    let mut s = Sub::motion(
        with_modifiers(format!("move up by {}cm", fmt_num(cm)), m),
        Spot::Offset(Obj::gripper(), 2, 1.0, cm),
        m,
    );
    s.grip = Grip::Close;
    s
}

fn place(o: &Obj, spot: Spot, m: &Modifiers) -> Vec<Sub> {
    let grasp = grasp(o, m);
    let mut lift = lift(m, 20.0);
    lift.grip = Grip::Close;
    let mut mv = Sub::motion(
        with_modifiers(format!("move to {}", spot.describe()), m),
        spot,
        m,
    );
    mv.grip = Grip::Close;
    vec![
        grasp,
        lift,
        mv,
        Sub::in_place("open gripper", Grip::Open, Turn::Keep),
    ]
}

fn press(o: &Obj, m: &Modifiers) -> Vec<Sub> {
    let mut above = Sub::motion(
        with_modifiers(format!("move to 5cm above the {}", o.query), m),
        Spot::Rel(o.clone(), Rel::Above, 5.0),
        m,
    );
    above.grip = Grip::Close;
    let mut down = Sub::motion(
        with_modifiers(format!("push down on the {}", o.query), m),
        Spot::Rel(o.clone(), Rel::Into, 1.0),
        m,
    );
    down.grip = Grip::Close;
    let mut up = Sub::motion(
        with_modifiers(format!("move to 10cm above the {}", o.query), m),
        Spot::Rel(o.clone(), Rel::Above, 10.0),
        m,
    );
    up.grip = Grip::Close;
    vec![above, down, up]
}

/// Splits into clauses at "then", ";", ".", ", and" and "and" before a verb.
fn clauses(toks: &[Tok]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < toks.len() {
        let w = toks[i].text.as_str();
        let next = toks.get(i + 1).map_or("", |t| t.text.as_str());
        let next2 = toks.get(i + 2).map_or("", |t| t.text.as_str());
        let split = match w {
            "then" | ";" | "." => Some(1),
            "," if next == "then"
                || (next == "and" && VERBS.contains(&next2))
                || VERBS.contains(&next) =>
            {
                Some(1)
            }
            "and" if VERBS.contains(&next) && !matches!(next, "open" | "close") => Some(1),
            "and" if matches!(next, "open" | "close") && !matches!(next2, "the" | "gripper") => {
                Some(1)
            }
            "and" if next == "then" => Some(2),
            _ => None,
        };
        if let Some(n) = split {
            if i > start {
                out.push((start, i));
            }
            start = i + n;
            i += n;
            continue;
        }
        i += 1;
    }
    if start < toks.len() {
        out.push((start, toks.len()));
    }
    out
}

/// Compiles an instruction into sub-steps with programs.
pub fn compile(instruction: &str, world: &World) -> Result<Vec<StepSpec>, CompileError> {
    if instruction.trim().is_empty() {
        return Err(CompileError {
            message: "the instruction is empty; try e.g. \"put the rubbish in the bin\"".into(),
            span: Some((0, 0)),
        });
    }
    if instruction.len() > 2000 {
        return Err(CompileError {
            message: format!(
                "the instruction is {} bytes long (UTF-8); keep it under 2000",
                instruction.len()
            ),
            span: None,
        });
    }
    let mut p = Parser::new(instruction, world);
    if let Some(i) = p.toks.iter().position(|t| t.num.is_some_and(|n| n < 0.0)) {
        let unit =
            usize::from(p.toks.get(i + 1).is_some_and(|t| {
                matches!(t.text.as_str(), "cm" | "m" | "mm" | "degrees" | "percent")
            }));
        return Err(p.err_at(
            i..i + 1 + unit,
            format!(
                "the number {} is negative; give the direction in words instead (e.g. \
                 \"5cm below\" rather than \"-5cm above\")",
                p.toks[i].text
            ),
        ));
    }
    // A distance longer than the workspace's diagonal names no point in it (the programs
    // would clamp it to the boundary and report the target reached).
    let g = &world.grid;
    let diagonal_cm = 100.0
        * (0..3)
            .map(|a| (g.max[a] - g.min[a]).powi(2))
            .sum::<f64>()
            .sqrt();
    if let Some((i, cm)) = (0..p.toks.len()).find_map(|i| {
        p.distance(i)
            .map(|(cm, _)| (i, cm))
            .filter(|x| x.1 > diagonal_cm)
    }) {
        return Err(p.err_at(
            i..i + 2,
            format!(
                "{}cm is farther than anywhere in the workspace ({}cm corner to corner); \
                 give a smaller distance",
                fmt_num(cm),
                fmt_num(diagonal_cm.floor())
            ),
        ));
    }
    let mut subs = Vec::new();
    for (a, b) in clauses(&p.toks) {
        // "the green one": a clause's "one" refers back by colour; handled by the resolver.
        let s = p.clause(a, b)?;
        // Anything left unplaced in this clause?
        let left: Vec<usize> = (a..b)
            .filter(|&i| {
                !p.toks[i].used
                    && !FILLER.contains(&p.word(i))
                    && !matches!(p.word(i), "," | "." | ";")
            })
            .collect();
        if !left.is_empty() {
            return Err(p.unplaced(a, b));
        }
        if subs.len() + s.len() > MAX_SUB_STEPS {
            return Err(p.err_at(
                a..b,
                format!(
                    "this part would make the instruction's sub-step {}; an instruction holds \
                     at most {MAX_SUB_STEPS} (each keeps its maps): give the rest as another \
                     instruction",
                    subs.len() + s.len()
                ),
            ));
        }
        subs.extend(s);
    }
    if subs.is_empty() {
        return Err(p.unplaced(0, p.toks.len()));
    }
    Ok(subs.iter().map(|s| render(s, &world.grid)).collect())
}

// ---------------------------------------------------------------- programs

fn header(kind: MapKind, query: &str) -> String {
    format!(
        "# Query: {query}.\n{k}_map = get_empty_{k}_map()\n",
        k = kind.name()
    )
}

fn footer(kind: MapKind) -> String {
    format!("ret_val = {}_map\n", kind.name())
}

fn affordance_program(s: &Sub) -> String {
    let k = MapKind::Affordance;
    let mut p = header(k, &s.spot.describe());
    match &s.spot {
        Spot::Rel(o, rel, cm) => {
            let v = o.var();
            let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
            let cm = fmt_num(*cm);
            match rel {
                Rel::Into => {
                    let _ = writeln!(p, "x, y, z = {v}.position + cm2index({cm}, -{v}.normal)");
                }
                Rel::Away => {
                    let _ = writeln!(p, "x, y, z = {v}.position + cm2index({cm}, {v}.normal)");
                }
                _ => {
                    let _ = writeln!(p, "x, y, z = {v}.position");
                    let line = match rel {
                        Rel::Above => format!("z = {v}.aabb[1][2] + cm2index({cm}, 'z')"),
                        Rel::Below => format!("z = {v}.aabb[0][2] - cm2index({cm}, 'z')"),
                        Rel::Left => format!("y = {v}.aabb[0][1] - cm2index({cm}, 'y')"),
                        Rel::Right => format!("y = {v}.aabb[1][1] + cm2index({cm}, 'y')"),
                        Rel::Front => format!("x = {v}.aabb[1][0] + cm2index({cm}, 'x')"),
                        _ => format!("x = {v}.aabb[0][0] - cm2index({cm}, 'x')"),
                    };
                    let _ = writeln!(p, "{line}");
                }
            }
        }
        Spot::Center(o, at) => {
            let v = o.var();
            let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
            let _ = writeln!(p, "x, y, z = {v}.position");
            if let Some(m) = at {
                let mv = m.var();
                let mv = if mv == v { format!("{mv}_moving") } else { mv };
                let _ = writeln!(p, "{mv} = parse_query_obj('{}')", m.query);
                let _ = writeln!(p, "z = {mv}.position[2]  # keep the pushed object's height");
            }
        }
        Spot::Offset(o, axis, sign, cm) => {
            let axis_name = ["x", "y", "z"][*axis];
            let op = if *sign > 0.0 { "+" } else { "-" };
            if o.is_gripper() {
                let _ = writeln!(p, "x, y, z = get_ee_pos()");
            } else {
                let v = o.var();
                let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
                let _ = writeln!(p, "x, y, z = {v}.position");
            }
            let _ = writeln!(
                p,
                "{axis_name} = {axis_name} {op} cm2index({}, '{axis_name}')",
                fmt_num(*cm)
            );
        }
        Spot::Here => {
            let _ = writeln!(p, "x, y, z = get_ee_pos()");
        }
        Spot::Default => {
            let _ = writeln!(p, "x, y, z = get_default_ee_pos()");
        }
    }
    p.push_str("affordance_map[x, y, z] = 1\n");
    p + &footer(k)
}

fn avoidance_program(s: &Sub) -> String {
    let k = MapKind::Avoidance;
    let q = if s.avoid.is_empty() {
        "nothing to avoid".to_string()
    } else {
        s.avoid
            .iter()
            .map(|(o, cm)| format!("{}cm from the {}", fmt_num(*cm), o.query))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut p = header(k, &q);
    for (o, cm) in &s.avoid {
        let v = o.var();
        let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
        let _ = writeln!(
            p,
            "set_voxel_by_radius(avoidance_map, {v}.position, radius_cm={}, value=1)",
            fmt_num(*cm)
        );
    }
    p + &footer(k)
}

fn rotation_program(s: &Sub) -> String {
    let k = MapKind::Rotation;
    match &s.turn {
        Turn::Keep => header(k, "keep the current orientation") + &footer(k),
        Turn::Upright => {
            let mut p = String::from("import numpy as np\n");
            p += &header(k, "keep the gripper upright, pointing down");
            p += "rotation_map[:, :, :] = euler2quat(np.pi, 0, 0)\n";
            p + &footer(k)
        }
        Turn::By(d) => {
            let dir = if *d < 0.0 {
                "clockwise"
            } else {
                "counterclockwise"
            };
            let mut p = String::from("import numpy as np\n");
            p += &header(
                k,
                &format!(
                    "turn {} degrees {dir} about the vertical axis",
                    fmt_num(d.abs())
                ),
            );
            let _ = writeln!(p, "turn = euler2quat(0, 0, np.radians({}))", fmt_num(*d));
            p += "rotation_map[:, :, :] = qmult(turn, get_ee_quat())\n";
            p + &footer(k)
        }
    }
}

fn velocity_program(s: &Sub) -> String {
    let k = MapKind::Velocity;
    match s.speed {
        None => header(k, "normal speed") + &footer(k),
        Some(v) => {
            let mut p = header(k, &format!("{} speed", speed_words(v)));
            let _ = writeln!(p, "velocity_map[:, :, :] = {}", fmt_num(v));
            p + &footer(k)
        }
    }
}

fn gripper_program(s: &Sub) -> String {
    let k = MapKind::Gripper;
    match &s.grip {
        Grip::Keep => header(k, "keep the gripper as it is") + &footer(k),
        Grip::Open => header(k, "open everywhere") + "gripper_map[:, :, :] = 1\n" + &footer(k),
        Grip::Close => header(k, "closed everywhere") + "gripper_map[:, :, :] = 0\n" + &footer(k),
        Grip::GraspAt(o, cm) | Grip::CloseNear(o, cm) => {
            let q = if matches!(s.grip, Grip::GraspAt(..)) {
                format!(
                    "open everywhere except {}cm around the {}",
                    fmt_num(*cm),
                    o.query
                )
            } else {
                format!("close when within {}cm of the {}", fmt_num(*cm), o.query)
            };
            let v = o.var();
            let mut p = header(k, &q);
            p += "gripper_map[:, :, :] = 1\n";
            let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
            let _ = writeln!(
                p,
                "set_voxel_by_radius(gripper_map, {v}.position, radius_cm={}, value=0)",
                fmt_num(*cm)
            );
            p + &footer(k)
        }
        Grip::OpenNear(o, cm) => {
            let v = o.var();
            let mut p = header(
                k,
                &format!("open when within {}cm of the {}", fmt_num(*cm), o.query),
            );
            p += "gripper_map[:, :, :] = 0\n";
            let _ = writeln!(p, "{v} = parse_query_obj('{}')", o.query);
            let _ = writeln!(
                p,
                "set_voxel_by_radius(gripper_map, {v}.position, radius_cm={}, value=1)",
                fmt_num(*cm)
            );
            p + &footer(k)
        }
    }
}

fn render(s: &Sub, _grid: &valuescape_core::Grid) -> StepSpec {
    let mut programs = BTreeMap::new();
    programs.insert(MapKind::Affordance, affordance_program(s));
    programs.insert(MapKind::Avoidance, avoidance_program(s));
    programs.insert(MapKind::Rotation, rotation_program(s));
    programs.insert(MapKind::Velocity, velocity_program(s));
    programs.insert(MapKind::Gripper, gripper_program(s));
    StepSpec {
        instruction: s.text.clone(),
        movable: s.movable.query.clone(),
        planar: s.planar,
        programs,
    }
}
