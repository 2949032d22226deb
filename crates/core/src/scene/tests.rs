//! Tests of the scene module: presets, JSON round trips, validation paths, rasterisation.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::Value;

use super::entity::voxel_spacing;
use super::*;
use crate::grid::Grid;

fn preset(name: &str) -> Scene {
    match presets::by_name(name) {
        Some(s) => s,
        None => panic!("no preset {name}"),
    }
}

fn entity(scene: &Scene, name: &str) -> Entity {
    match scene.entity(name) {
        Some(e) => e,
        None => panic!(
            "no entity {name:?} in {}: {:?}",
            scene.name,
            scene.entity_names()
        ),
    }
}

fn grid(scene: &Scene, n: usize) -> Grid {
    match scene.workspace.grid([n; 3]) {
        Ok(g) => g,
        Err(e) => panic!("grid: {e}"),
    }
}

// ---------------------------------------------------------------- presets

#[test]
fn preset_names_are_stable_unique_and_resolvable() {
    let names = presets::names();
    assert!(names.len() >= 9);
    let all = presets::all();
    assert_eq!(all.len(), names.len());
    let set: HashSet<_> = names.iter().collect();
    assert_eq!(set.len(), names.len());
    for (s, n) in all.iter().zip(&names) {
        assert_eq!(s.name, *n);
        assert!(
            n.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{n} is not snake_case"
        );
        assert!(!s.title.is_empty());
        assert!((1..=3).contains(&s.instructions.len()), "{n}");
    }
    assert!(
        presets::by_name("Open_Drawer").is_none(),
        "by_name is exact"
    );
    assert!(presets::by_name("nope").is_none());
    assert_eq!(
        &names[..3],
        &["rubbish_in_bin", "open_drawer", "close_drawer"]
    );
}

#[test]
fn every_preset_validates_and_round_trips() {
    for s in presets::all() {
        if let Err(e) = s.validate() {
            panic!("{}: {e}", s.name);
        }
        let text = s.to_json();
        match Scene::from_json(&text) {
            Ok(back) => assert_eq!(back, s, "{}", s.name),
            Err(e) => panic!("{}: {e}\n{text}", s.name),
        }
    }
}

#[test]
fn preset_entity_names_are_unique() {
    for s in presets::all() {
        let names = s.entity_names();
        let set: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(set.len(), names.len(), "{}: {names:?}", s.name);
        for n in &names {
            assert!(s.entity(n).is_some());
            assert!(s.entity(&n.to_uppercase()).is_some(), "case-insensitive");
        }
    }
}

#[test]
fn preset_entities_rasterize_at_every_size() {
    for s in presets::all() {
        for n in [16, 64, 100] {
            let g = grid(&s, n);
            for e in s.entities() {
                let v = e.rasterize(&g);
                assert!(!v.is_empty(), "{} / {} at {n}", s.name, e.name);
                assert!(v.windows(2).all(|w| w[0] < w[1]), "sorted and deduplicated");
                assert!(v.iter().all(|&i| i < g.len()));
            }
        }
    }
}

#[test]
fn preset_objects_do_not_overlap_at_100() {
    for s in presets::all() {
        let g = grid(&s, 100);
        let mut owner: HashMap<usize, String> = HashMap::new();
        for e in s.entities() {
            for i in e.rasterize(&g) {
                if let Some(o) = owner.get(&i) {
                    assert_eq!(
                        o,
                        &e.object,
                        "{}: {} overlaps {o} at voxel {:?}",
                        s.name,
                        e.name,
                        g.voxel(i)
                    );
                }
                owner.insert(i, e.object.clone());
            }
        }
    }
}

#[test]
fn preset_geometry_is_plausible() {
    for s in presets::all() {
        let ws = s.workspace;
        let margin = 0.03;
        let mut lowest: HashMap<String, f64> = HashMap::new();
        for e in s.entities() {
            let (lo, hi) = e.aabb_world();
            for a in 0..2 {
                assert!(
                    lo[a] >= ws.min[a] + margin,
                    "{} / {} axis {a}",
                    s.name,
                    e.name
                );
                assert!(
                    hi[a] <= ws.max[a] - margin,
                    "{} / {} axis {a}",
                    s.name,
                    e.name
                );
            }
            assert!(
                lo[2] >= ws.min[2] - 1e-9,
                "{} / {} below the table",
                s.name,
                e.name
            );
            assert!(hi[2] <= ws.max[2] - margin);
            let l = lowest.entry(e.object.clone()).or_insert(f64::INFINITY);
            *l = l.min(lo[2]);
            // The gripper does not start inside anything.
            let p = s.end_effector.position;
            assert!(
                !e.contains(p),
                "{}: gripper starts inside {}",
                s.name,
                e.name
            );
            assert!(
                p[2] > hi[2] + 0.03,
                "{}: gripper too close above {}",
                s.name,
                e.name
            );
            let n = e.normal;
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-9, "{} normal {n:?}", e.name);
        }
        for (o, z) in lowest {
            assert!(
                (z - 0.75).abs() < 1e-6,
                "{}: {o} does not rest on the table ({z})",
                s.name
            );
        }
        assert_eq!(s.end_effector, EndEffector::DEFAULT);
    }
}

#[test]
fn preset_entities_named_in_the_brief_exist() {
    let expect: &[(&str, &[&str])] = &[
        (
            "rubbish_in_bin",
            &["rubbish", "bin", "tomato 1", "tomato 2"],
        ),
        (
            "open_drawer",
            &[
                "cabinet",
                "top drawer",
                "middle drawer",
                "bottom drawer",
                "top drawer handle",
                "middle drawer handle",
                "bottom drawer handle",
            ],
        ),
        (
            "close_drawer",
            &[
                "cabinet",
                "top drawer",
                "middle drawer",
                "bottom drawer",
                "top drawer handle",
                "middle drawer handle",
                "bottom drawer handle",
            ],
        ),
        (
            "push_button",
            &[
                "maroon button",
                "maroon button base",
                "green button",
                "green button base",
            ],
        ),
        (
            "blocks_and_mug",
            &["blue block", "yellow block", "mug", "mug handle"],
        ),
        ("saucepan_lid", &["saucepan", "saucepan lid", "lid handle"]),
        ("sweep_trash", &["trash", "dustpan", "dustpan handle"]),
        ("turn_cap", &["bottle", "bottle cap"]),
        ("slide_block", &["red block", "target"]),
        ("bowls_and_sticker", &["blue bowl", "red bowl", "sticker"]),
        ("lamp_off", &["lamp", "button", "button base"]),
    ];
    for (p, names) in expect {
        let s = preset(p);
        let got = s.entity_names();
        assert_eq!(got.len(), names.len(), "{p}: {got:?}");
        for n in *names {
            assert!(s.entity(n).is_some(), "{p}: no {n:?} in {got:?}");
        }
    }
}

#[test]
fn drawers_face_the_robot_and_open_drawers_stick_out() {
    let open = preset("open_drawer");
    let closed_top = entity(&open, "top drawer");
    let h = entity(&open, "top drawer handle");
    assert!((h.normal[0] + 1.0).abs() < 1e-12, "{:?}", h.normal);
    assert!(
        h.centroid_world()[0] < closed_top.aabb_world().0[0],
        "handle in front of the face"
    );
    let top = entity(&open, "top drawer").centroid_world()[2];
    let mid = entity(&open, "middle drawer").centroid_world()[2];
    let bot = entity(&open, "bottom drawer").centroid_world()[2];
    assert!(top > mid && mid > bot);

    let close = preset("close_drawer");
    let pulled = entity(&close, "top drawer");
    let dx = closed_top.aabb_world().0[0] - pulled.aabb_world().0[0];
    assert!((dx - 0.18).abs() < 1e-9, "pulled out by 18 cm, got {dx}");
    let hh = entity(&close, "top drawer handle");
    assert!((h.centroid_world()[0] - hh.centroid_world()[0] - 0.18).abs() < 1e-9);
    // The other drawers have not moved.
    assert_eq!(
        entity(&close, "middle drawer"),
        entity(&open, "middle drawer")
    );

    // A cabinet turned by 90 degrees faces -y.
    let mut turned = open.clone();
    turned.objects[0].yaw_deg = 90.0;
    let n = entity(&turned, "top drawer handle").normal;
    assert!(n[0].abs() < 1e-12 && (n[1] + 1.0).abs() < 1e-12, "{n:?}");
}

#[test]
fn set_drawer_open_and_lid() {
    let mut s = preset("open_drawer");
    let before = entity(&s, "middle drawer").centroid_world();
    assert!(s.set_drawer_open("middle drawer handle", 0.1).is_ok());
    let after = entity(&s, "middle drawer").centroid_world();
    assert!(after[0] < before[0]);
    assert!(s.validate().is_ok());
    assert!(s.set_drawer_open("cabinet", 0.1).is_err());
    assert!(s.set_drawer_open("top drawer", 0.31).is_err());
    assert!(s.set_drawer_open("nope", 0.1).is_err());
    assert!(s.set_drawer_open("top drawer", 0.3).is_ok());

    let mut p = preset("saucepan_lid");
    assert!(p.set_lid_on("lid handle", false).is_ok());
    assert!(p.entity("saucepan lid").is_none());
    assert!(p.entity("lid handle").is_none());
    assert!(p.set_lid_on("saucepan", true).is_ok());
    assert!(p.entity("lid handle").is_some());
    let mut b = preset("blocks_and_mug");
    assert!(b.set_lid_on("mug", true).is_err());
}

// ---------------------------------------------------------------- naming rule

fn obj(name: &str, shape: Shape) -> Object {
    Object {
        name: name.to_string(),
        color: None,
        position: [0.3, 0.0, 1.0],
        yaw_deg: 0.0,
        shape,
        movable: true,
    }
}

fn names_of(o: &Object) -> Vec<String> {
    o.entities().into_iter().map(|e| e.name).collect()
}

#[test]
fn part_names_follow_the_rule() {
    let cab = |name: &str, n: u32| {
        obj(
            name,
            Shape::DrawerCabinet {
                size: [0.3, 0.4, 0.5],
                drawers: n,
                open: vec![],
            },
        )
    };
    assert_eq!(
        names_of(&cab("cabinet", 1)),
        ["cabinet", "drawer", "drawer handle"]
    );
    assert_eq!(
        names_of(&cab("Cabinet", 2)),
        [
            "Cabinet",
            "top drawer",
            "top drawer handle",
            "bottom drawer",
            "bottom drawer handle"
        ]
    );
    assert_eq!(
        names_of(&cab("wooden cabinet", 3))[1..],
        [
            "wooden cabinet top drawer",
            "wooden cabinet top drawer handle",
            "wooden cabinet middle drawer",
            "wooden cabinet middle drawer handle",
            "wooden cabinet bottom drawer",
            "wooden cabinet bottom drawer handle",
        ]
    );
    let five = names_of(&cab("cabinet", 5));
    assert_eq!(five.len(), 11);
    assert_eq!(five[1], "drawer 1");
    assert_eq!(five[10], "drawer 5 handle");

    let mug = Shape::Mug {
        radius: 0.04,
        height: 0.1,
    };
    assert_eq!(
        names_of(&obj("red mug", mug.clone())),
        ["red mug", "red mug handle"]
    );
    assert_eq!(names_of(&obj("mug", mug)), ["mug", "mug handle"]);
    let pan = |lid_on| Shape::Saucepan {
        radius: 0.1,
        height: 0.08,
        lid_on,
    };
    assert_eq!(
        names_of(&obj("saucepan", pan(true))),
        ["saucepan", "saucepan lid", "lid handle"]
    );
    assert_eq!(
        names_of(&obj("big pot", pan(true))),
        ["big pot", "big pot lid", "big pot lid handle"]
    );
    assert_eq!(names_of(&obj("saucepan", pan(false))), ["saucepan"]);
    let button = Shape::Button {
        radius: 0.03,
        height: 0.04,
    };
    assert_eq!(
        names_of(&obj("maroon button", button)),
        ["maroon button", "maroon button base"]
    );
    let bottle = Shape::Bottle {
        radius: 0.03,
        height: 0.25,
    };
    assert_eq!(
        names_of(&obj("wine bottle", bottle)),
        ["wine bottle", "wine bottle cap"]
    );
    let pan = Shape::Dustpan {
        size: [0.2, 0.2, 0.05],
    };
    assert_eq!(
        names_of(&obj("dustpan", pan)),
        ["dustpan", "dustpan handle"]
    );
}

#[test]
fn two_default_cabinets_collide_by_name() {
    let mut s = preset("open_drawer");
    let mut second = s.objects[0].clone();
    second.name = "cabinet 2".into();
    second.position[1] = 0.0;
    s.objects.push(second);
    // "cabinet 2" prefixes its drawers, so no clash.
    assert!(s.validate().is_ok(), "{:?}", s.validate());
    let mut third = s.objects[0].clone();
    third.name = "top drawer".into();
    s.objects.push(Object {
        shape: Shape::Sphere { radius: 0.02 },
        ..third
    });
    let e = s.validate().err();
    assert_eq!(e.map(|e| e.path), Some("objects[2].name".to_string()));
}

// ---------------------------------------------------------------- colours

#[test]
fn colours() {
    for c in [
        "red", "Blue", " maroon ", "grey", "gray", "wooden", "silver", "beige",
    ] {
        let rgb = color_rgb(c);
        assert!(rgb.is_some(), "{c}");
        assert!(rgb.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
    }
    assert_eq!(color_rgb("grey"), color_rgb("gray"));
    assert!(color_rgb("plaid").is_none());
    for s in presets::all() {
        for o in &s.objects {
            assert!(color_rgb(o.effective_color()).is_some());
        }
        for e in s.entities() {
            assert!(
                e.color.as_deref().and_then(color_rgb).is_some(),
                "{}",
                e.name
            );
        }
    }
    let shapes = [
        Shape::Box { size: [1.0; 3] },
        Shape::DrawerCabinet {
            size: [1.0; 3],
            drawers: 1,
            open: vec![],
        },
        Shape::Bin {
            size: [1.0; 3],
            wall: 0.1,
        },
        Shape::Dustpan { size: [1.0; 3] },
    ];
    for sh in shapes {
        assert!(color_rgb(sh.default_color()).is_some());
    }
}

// ---------------------------------------------------------------- validation

/// Parses `text` (a preset's JSON with one edit) and returns the error's path.
fn error_of(text: &str) -> SceneError {
    match Scene::from_json(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => {
            assert!(!e.message.is_empty());
            e
        }
    }
}

/// A preset as a JSON value, edited by `f`.
fn edited(name: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = match serde_json::from_str(&preset(name).to_json()) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    f(&mut v);
    v.to_string()
}

#[test]
fn validation_errors_name_the_path() {
    use serde_json::json;
    let cases: Vec<(String, &str, &str)> = vec![
        (
            edited("blocks_and_mug", |v| {
                v["objects"][0]["shape"]["box"]["size"][1] = json!(-0.1)
            }),
            "objects[0].shape.box.size[1]",
            "must be positive, got -0.1",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][1]["position"][0] = json!("far")
            }),
            "objects[1].position[0]",
            "invalid type",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][2]["colour"] = json!("red")
            }),
            "objects[2].colour",
            "unknown field `colour`",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][2]["shape"]["mug"]["depth"] = json!(1)
            }),
            "objects[2].shape.mug.depth",
            "unknown field `depth`",
        ),
        (
            edited("blocks_and_mug", |v| v["extra"] = json!(1)),
            "extra",
            "unknown field `extra`",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][0]["color"] = json!("plaid")
            }),
            "objects[0].color",
            "unknown colour \"plaid\"; known colours: red, green",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][1]["name"] = json!("Blue Block")
            }),
            "objects[1].name",
            "already used by objects[0]",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][1]["name"] = json!("mug handle")
            }),
            "objects[2].name",
            "entity name \"mug handle\" (a part of \"mug\") is already used by objects[1]",
        ),
        (
            edited("blocks_and_mug", |v| v["objects"][1]["name"] = json!("")),
            "objects[1].name",
            "must not be empty",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][1]["name"] = json!("gripper")
            }),
            "objects[1].name",
            "reserved",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["objects"][0]["position"][2] = json!(0.5)
            }),
            "objects[0].position[2]",
            "0.5 is outside the workspace, whose z range is [0.75, 1.75]",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["end_effector"]["position"][1] = json!(2.0)
            }),
            "end_effector.position[1]",
            "outside the workspace",
        ),
        (
            edited("blocks_and_mug", |v| {
                v["end_effector"]["quat"] = json!([0.0, 2.0, 0.0, 0.0])
            }),
            "end_effector.quat",
            "normalise it (normalised: [0.0, 1.0, 0.0, 0.0])",
        ),
        (
            edited("open_drawer", |v| {
                v["objects"][0]["shape"]["drawer_cabinet"]["open"] = json!([0.0, 0.1])
            }),
            "objects[0].shape.drawer_cabinet.open",
            "has 2 values but the cabinet has 3 drawers",
        ),
        (
            edited("open_drawer", |v| {
                v["objects"][0]["shape"]["drawer_cabinet"]["open"][2] = json!(0.5)
            }),
            "objects[0].shape.drawer_cabinet.open[2]",
            "must be between 0 and the cabinet depth 0.3, got 0.5",
        ),
        (
            edited("open_drawer", |v| {
                v["objects"][0]["shape"]["drawer_cabinet"]["drawers"] = json!(0)
            }),
            "objects[0].shape.drawer_cabinet.drawers",
            "must be between 1 and 12, got 0",
        ),
        (
            edited("open_drawer", |v| {
                v["objects"][0]["shape"]["drawer_cabinet"]["drawers"] = json!(-2)
            }),
            "objects[0].shape.drawer_cabinet.drawers",
            "invalid value",
        ),
        (
            edited("rubbish_in_bin", |v| {
                v["objects"][1]["shape"]["bin"]["wall"] = json!(0.2)
            }),
            "objects[1].shape.bin.wall",
            "too thick",
        ),
        (
            edited("rubbish_in_bin", |v| {
                v["objects"][0]["shape"] = json!({"cone": {"radius": 1}})
            }),
            "objects[0].shape",
            "unknown variant `cone`",
        ),
        (
            edited("rubbish_in_bin", |v| v["workspace"]["max"][2] = json!(0.5)),
            "workspace.max[2]",
            "must be greater than workspace.min[2] (0.75), got 0.5",
        ),
        (
            edited("rubbish_in_bin", |v| {
                v["workspace"]["min"] = json!([-1e308, -1e308, -1e308]);
                v["workspace"]["max"] = json!([1e308, 1e308, 1e308]);
            }),
            "workspace.min[0]",
            "must lie within 1000 m of the origin, got -1e308",
        ),
        (
            edited("rubbish_in_bin", |v| {
                v["workspace"]["max"][2] = json!(0.7500001)
            }),
            "workspace.max[2]",
            "must lie 0.001 to 1000 m above workspace.min[2] (0.75), got 0.7500001",
        ),
        (
            edited("rubbish_in_bin", |v| v["instructions"][1] = json!("  ")),
            "instructions[1]",
            "must not be empty",
        ),
        (
            edited("rubbish_in_bin", |v| {
                v["objects"][0]["yaw_deg"] = json!("HUGE")
            })
            .replace("\"HUGE\"", "1e999"),
            "objects[0].yaw_deg",
            "number out of range",
        ),
        (
            edited("rubbish_in_bin", |v| {
                if let Some(o) = v["objects"][0].as_object_mut() {
                    o.remove("position");
                }
            }),
            "objects[0]",
            "missing field `position`",
        ),
        (
            "{\"name\": \"x\"} trailing".to_string(),
            "",
            "unexpected text",
        ),
        ("{\"name\": \"x\", ".to_string(), "", "EOF"),
    ];
    for (text, path, msg) in &cases {
        let e = error_of(text);
        assert_eq!(&e.path, path, "{e}");
        assert!(
            e.message.contains(msg),
            "{e}\nexpected it to contain {msg:?}"
        );
        if !path.is_empty() {
            assert!(e.to_string().starts_with(&format!("{path}: ")));
        }
    }
}

#[test]
fn minimal_scene_gets_defaults() {
    let s = Scene::from_json(
        r#"{"name": "tiny", "objects": [{"name": "cube", "position": [0.2, 0, 0.8],
            "shape": {"box": {"size": [0.1, 0.1, 0.1]}}}]}"#,
    );
    let s = match s {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(s.workspace, Workspace::default());
    assert_eq!(s.end_effector, EndEffector::DEFAULT);
    assert!(s.objects[0].movable);
    assert_eq!(s.objects[0].effective_color(), "grey");
    assert_eq!(Scene::from_json(&s.to_json()), Ok(s));
}

#[test]
fn programmatic_non_finite_values_are_rejected() {
    let mut s = preset("slide_block");
    s.objects[1].shape = Shape::Cylinder {
        radius: f64::NAN,
        height: 0.01,
    };
    let e = s.validate().err();
    assert_eq!(
        e.map(|e| e.to_string()),
        Some("objects[1].shape.cylinder.radius: must be a finite number, got NaN".into())
    );
    let mut s = preset("slide_block");
    s.end_effector.position[0] = f64::INFINITY;
    assert_eq!(
        s.validate().err().map(|e| e.path),
        Some("end_effector.position[0]".into())
    );
}

// ---------------------------------------------------------------- moving

#[test]
fn move_object_moves_every_part() {
    let mut s = preset("close_drawer");
    let before = s.entities();
    let d = [0.05, -0.1, 0.0];
    assert!(s.move_object("top drawer handle", d).is_ok());
    let after = s.entities();
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        let (ca, cb) = (a.centroid_world(), b.centroid_world());
        for k in 0..3 {
            assert!(
                (cb[k] - ca[k] - d[k]).abs() < 1e-12,
                "{} moved wrongly",
                a.name
            );
        }
    }
    let mut s2 = preset("blocks_and_mug");
    let block = entity(&s2, "blue block");
    assert!(s2.move_object("MUG HANDLE", [0.0, 0.02, 0.0]).is_ok());
    assert_eq!(entity(&s2, "blue block"), block, "other objects stay");
    let copy = s2.clone();
    assert!(s2.move_object("mug", [5.0, 0.0, 0.0]).is_err());
    assert!(s2.move_object("mug", [f64::NAN, 0.0, 0.0]).is_err());
    assert!(s2.move_object("teapot", [0.0; 3]).is_err());
    assert_eq!(s2, copy, "failed moves change nothing");
}

// ---------------------------------------------------------------- rasterisation

/// Brute force: every voxel centre of the grid tested against the box with its extents
/// raised to half the (projected) voxel spacing; the nearest voxel when none is inside.
fn brute_box(g: &Grid, center: [f64; 3], half: [f64; 3], yaw: f64) -> Vec<usize> {
    let s = voxel_spacing(g);
    let (sn, c) = yaw.sin_cos();
    let wx = s[0] * c.abs() + s[1] * sn.abs();
    let wy = s[0] * sn.abs() + s[1] * c.abs();
    let h = [
        half[0].max(wx / 2.0),
        half[1].max(wy / 2.0),
        half[2].max(s[2] / 2.0),
    ];
    let mut out = Vec::new();
    for idx in 0..g.len() {
        let p = g.voxel_to_world(g.voxel(idx));
        let d = [p[0] - center[0], p[1] - center[1], p[2] - center[2]];
        let l = [d[0] * c + d[1] * sn, -d[0] * sn + d[1] * c, d[2]];
        if (0..3).all(|a| l[a].abs() <= h[a] + 1e-9) {
            out.push(idx);
        }
    }
    if out.is_empty() {
        let v = g.world_to_voxel_f(center);
        if (0..3).all(|a| v[a] >= -0.5 && v[a] <= g.size[a] as f64 - 0.5) {
            out.push(g.index(g.world_to_voxel(center)));
        }
    }
    out
}

fn box_entity(center: [f64; 3], half: [f64; 3], yaw: f64) -> Entity {
    Entity {
        name: "b".into(),
        object: "b".into(),
        color: None,
        primitives: vec![Primitive::Box { center, half, yaw }],
        normal: [0.0, 0.0, 1.0],
        movable: true,
    }
}

#[test]
fn thin_primitives_keep_their_length() {
    let g = Grid::default();
    let coarse = match Grid::cubic(16) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    // A 2 mm plate 20 cm long: one voxel thick, about 20 voxels long at 100^3.
    let e = box_entity([0.3, 0.0, 1.0], [0.001, 0.1, 0.001], 0.0);
    let v = e.rasterize(&g);
    let ys: HashSet<usize> = v.iter().map(|&i| g.voxel(i)[1]).collect();
    assert!(ys.len() >= 14, "{}", ys.len());
    assert!(!e.rasterize(&coarse).is_empty());
    // A tiny ball marks the voxel nearest its centre.
    let ball = Entity {
        primitives: vec![Primitive::Sphere {
            center: [0.31, 0.02, 1.003],
            radius: 1e-4,
        }],
        ..e.clone()
    };
    assert_eq!(
        ball.rasterize(&g),
        vec![g.index(g.world_to_voxel([0.31, 0.02, 1.003]))]
    );
    // Outside the grid: nothing.
    let far = box_entity([5.0, 0.0, 1.0], [0.01; 3], 0.0);
    assert!(far.rasterize(&g).is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn box_rasterize_matches_brute_force(
        c in prop::array::uniform3(-0.4f64..0.9),
        h in prop::array::uniform3(0.0005f64..0.25),
        yaw in -3.2f64..3.2,
        n in 16usize..24,
        axis_aligned in any::<bool>(),
    ) {
        let c = [c[0], c[1] * 1.2, c[2] + 0.85];
        let yaw = if axis_aligned { 0.0 } else { yaw };
        let g = Grid::cubic(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let e = box_entity(c, h, yaw);
        prop_assert_eq!(e.rasterize(&g), brute_box(&g, c, h, yaw));
    }

    #[test]
    fn mutated_preset_json_never_panics(
        which in 0usize..11,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8, any::<i32>(), "[a-z _]{0,12}"), 1..4),
        cut in any::<prop::sample::Index>(),
        raw in any::<bool>(),
    ) {
        let all = presets::all();
        let scene = &all[which % all.len()];
        let text = scene.to_json();
        let text = if raw {
            // Truncate the text somewhere and append junk.
            let mut t: String = text.chars().take(cut.index(text.len() + 1)).collect();
            t.push_str(&edits[0].3);
            t
        } else {
            let mut v: Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (at, op, num, word) in &edits {
                mutate(&mut v, at, *op, *num, word);
            }
            v.to_string()
        };
        match Scene::from_json(&text) {
            Ok(s) => {
                let g = s.workspace.grid([16; 3]);
                for e in s.entities() {
                    if let Ok(g) = &g {
                        let _ = e.rasterize(g);
                    }
                    let _ = e.surface_points(0.02);
                    let _ = e.centroid_world();
                }
                prop_assert_eq!(Scene::from_json(&s.to_json()), Ok(s));
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }
}

/// JSON pointers of every node of `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn mutate(v: &mut Value, at: &prop::sample::Index, op: u8, num: i32, word: &str) {
    use serde_json::json;
    let mut ptrs = Vec::new();
    pointers(v, String::new(), &mut ptrs);
    let ptr = ptrs[at.index(ptrs.len())].clone();
    let colour = ["red", "maroon", "plaid", ""][num.unsigned_abs() as usize % 4];
    let Some(node) = v.pointer_mut(&ptr) else {
        return;
    };
    match op {
        0 => *node = json!(f64::from(num) / 1000.0),
        1 => *node = json!(-f64::from(num).abs() / 100.0 - 0.001),
        2 => *node = json!(word),
        3 => *node = json!(colour),
        4 => *node = Value::Null,
        5 => {
            if let Value::Object(m) = node {
                let key = m
                    .keys()
                    .nth(num.unsigned_abs() as usize % m.len().max(1))
                    .cloned();
                if let Some(k) = key {
                    m.remove(&k);
                }
                m.insert(word.to_string(), json!(num));
            } else {
                *node = json!({ word: num });
            }
        }
        6 => {
            if let Value::Array(a) = node {
                if num % 2 == 0 {
                    a.pop();
                } else {
                    a.push(json!(num));
                }
            } else {
                *node = json!([num, word]);
            }
        }
        _ => *node = json!(i64::from(num) * 1_000_000_000),
    }
}

#[test]
fn composite_rasterization_is_within_its_aabb() {
    for s in presets::all() {
        let g = grid(&s, 100);
        let sp = voxel_spacing(&g);
        for e in s.entities() {
            let (lo, hi) = e.aabb_world();
            for i in e.rasterize(&g) {
                let p = g.voxel_to_world(g.voxel(i));
                for a in 0..3 {
                    assert!(p[a] >= lo[a] - sp[a] && p[a] <= hi[a] + sp[a], "{}", e.name);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- surface points

#[test]
fn surface_points_lie_on_the_surface() {
    for s in presets::all() {
        for e in s.entities() {
            let pts = e.surface_points(0.01);
            assert!(!pts.is_empty());
            assert_eq!(pts, e.surface_points(0.01), "deterministic");
            let (lo, hi) = e.aabb_world();
            for p in &pts {
                assert!(e.contains(*p), "{}: {p:?} not on it", e.name);
                // On the boundary of some primitive: a nudge outward along some axis leaves it.
                for a in 0..3 {
                    assert!(p[a] >= lo[a] - 1e-9 && p[a] <= hi[a] + 1e-9);
                }
            }
        }
    }
    let e = box_entity([0.3, 0.0, 1.0], [0.05, 0.05, 0.05], 0.3);
    let coarse = e.surface_points(0.1).len();
    let fine = e.surface_points(0.01).len();
    assert!(fine > coarse);
    assert!(!e.surface_points(f64::NAN).is_empty());
    assert!(e.surface_points(1e-12).len() <= 6 * 513 * 513);
    // Every point of a box is on a face.
    for p in e.surface_points(0.02) {
        let d = [p[0] - 0.3, p[1], p[2] - 1.0];
        let (sn, c) = 0.3f64.sin_cos();
        let l = [d[0] * c + d[1] * sn, -d[0] * sn + d[1] * c, d[2]];
        assert!(l.iter().any(|x| (x.abs() - 0.05).abs() < 1e-9), "{l:?}");
    }
}

#[test]
fn display_of_errors() {
    assert_eq!(SceneError::new("a.b[1]", "bad").to_string(), "a.b[1]: bad");
    assert_eq!(SceneError::new("", "bad").to_string(), "bad");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn to_json_round_trips_awkward_text(
        words in prop::collection::vec("\\PC{0,40}", 1..4),
        title in "\\PC{0,90}",
    ) {
        let mut s = preset("blocks_and_mug");
        s.title = title;
        s.instructions = words
            .into_iter()
            .map(|w| format!("x{w}] [\"{{\\,"))
            .collect();
        let text = s.to_json();
        prop_assert_eq!(Scene::from_json(&text), Ok(s));
    }
}

#[test]
fn to_json_puts_short_plain_arrays_on_one_line() {
    let text = preset("open_drawer").to_json();
    assert!(text.contains("\"position\": [0.45, 0.0, 0.975]"), "{text}");
    assert!(text.contains("\"quat\": [0.0, 1.0, 0.0, 0.0]"));
    assert!(text.contains("\"objects\": [\n"));
}
