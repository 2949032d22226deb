//! The preset scenes, after the tasks VoxPoser demonstrates.
//!
//! Every preset uses the default workspace, rests its objects on the table (z = 0.75) with
//! no two objects touching, and starts the end effector at [`EndEffector::DEFAULT`].

use super::{EndEffector, Object, Scene, Shape, Workspace};

/// Preset ids, in their stable order.
const NAMES: &[&str] = &[
    "rubbish_in_bin",
    "open_drawer",
    "close_drawer",
    "push_button",
    "blocks_and_mug",
    "saucepan_lid",
    "sweep_trash",
    "turn_cap",
    "slide_block",
    "bowls_and_sticker",
    "lamp_off",
];

/// The tabletop surface, metres.
const TABLE: f64 = 0.75;

/// Rounds to the micrometre, so computed coordinates print short and read back exactly.
fn um(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// An object standing on the table at `(x, y)`, `height` tall.
fn on_table(name: &str, color: Option<&str>, xy: [f64; 2], height: f64, shape: Shape) -> Object {
    Object {
        name: name.to_string(),
        color: color.map(str::to_string),
        position: [xy[0], xy[1], um(TABLE + height / 2.0)],
        yaw_deg: 0.0,
        shape,
        movable: true,
    }
}

fn fixed(mut o: Object) -> Object {
    o.movable = false;
    o
}

fn yawed(mut o: Object, deg: f64) -> Object {
    o.yaw_deg = deg;
    o
}

fn block(name: &str, color: &str, xy: [f64; 2], side: f64) -> Object {
    on_table(name, Some(color), xy, side, Shape::Box { size: [side; 3] })
}

fn cylinder(name: &str, color: &str, xy: [f64; 2], radius: f64, height: f64) -> Object {
    on_table(
        name,
        Some(color),
        xy,
        height,
        Shape::Cylinder { radius, height },
    )
}

fn sphere(name: &str, color: &str, xy: [f64; 2], radius: f64) -> Object {
    on_table(
        name,
        Some(color),
        xy,
        2.0 * radius,
        Shape::Sphere { radius },
    )
}

fn cabinet(open: [f64; 3]) -> Object {
    let size = [0.3, 0.4, 0.45];
    fixed(on_table(
        "cabinet",
        Some("wooden"),
        [0.45, 0.0],
        size[2],
        Shape::DrawerCabinet {
            size,
            drawers: 3,
            open: open.to_vec(),
        },
    ))
}

fn button(name: &str, color: &str, xy: [f64; 2]) -> Object {
    let (radius, height) = (0.03, 0.04);
    fixed(on_table(
        name,
        Some(color),
        xy,
        height,
        Shape::Button { radius, height },
    ))
}

fn scene(name: &str, title: &str, objects: Vec<Object>, instructions: &[&str]) -> Scene {
    Scene {
        name: name.to_string(),
        title: title.to_string(),
        workspace: Workspace::default(),
        objects,
        end_effector: EndEffector::DEFAULT,
        instructions: instructions.iter().map(|s| s.to_string()).collect(),
    }
}

/// Preset ids in their stable order.
pub fn names() -> Vec<&'static str> {
    NAMES.to_vec()
}

/// Every preset, in [`names`] order.
pub fn all() -> Vec<Scene> {
    NAMES.iter().filter_map(|n| by_name(n)).collect()
}

/// The preset with this exact id.
pub fn by_name(name: &str) -> Option<Scene> {
    let s = match name {
        "rubbish_in_bin" => scene(
            name,
            "Put the rubbish in the bin",
            vec![
                sphere("rubbish", "grey", [0.15, -0.2], 0.025),
                fixed(on_table(
                    "bin",
                    Some("black"),
                    [0.4, 0.2],
                    0.15,
                    Shape::Bin {
                        size: [0.2, 0.26, 0.15],
                        wall: 0.01,
                    },
                )),
                sphere("tomato 1", "red", [0.3, -0.1], 0.035),
                sphere("tomato 2", "red", [0.1, 0.05], 0.035),
            ],
            &[
                "put the rubbish in the bin",
                "throw the rubbish away",
                "put the tomatoes in the bin",
            ],
        ),
        "open_drawer" => scene(
            name,
            "Open the top drawer",
            vec![cabinet([0.0, 0.0, 0.0])],
            &[
                "open the top drawer",
                "open the middle drawer",
                "pull out the bottom drawer",
            ],
        ),
        "close_drawer" => scene(
            name,
            "Close the top drawer",
            vec![cabinet([0.18, 0.0, 0.0])],
            &["close the top drawer", "push the top drawer shut"],
        ),
        "push_button" => scene(
            name,
            "Push the maroon button",
            vec![
                button("maroon button", "maroon", [0.35, -0.12]),
                button("green button", "green", [0.35, 0.15]),
            ],
            &[
                "push the maroon button",
                "press the green button",
                "press the maroon button and then the green one",
            ],
        ),
        "blocks_and_mug" => scene(
            name,
            "Blocks and a mug",
            vec![
                block("blue block", "blue", [0.3, -0.25], 0.05),
                block("yellow block", "yellow", [0.3, 0.25], 0.05),
                on_table(
                    "mug",
                    Some("white"),
                    [0.3, 0.0],
                    0.1,
                    Shape::Mug {
                        radius: 0.045,
                        height: 0.1,
                    },
                ),
            ],
            &[
                "place the blue block on the yellow block while avoiding the mug",
                "move the blue block 10cm to the left of the mug",
                "push the mug 10cm forward",
            ],
        ),
        "saucepan_lid" => scene(
            name,
            "Take the lid off the saucepan",
            vec![on_table(
                "saucepan",
                Some("silver"),
                [0.35, -0.05],
                0.08,
                Shape::Saucepan {
                    radius: 0.09,
                    height: 0.08,
                    lid_on: true,
                },
            )],
            &[
                "take the lid off the saucepan",
                "lift the lid and put it to the left of the saucepan",
            ],
        ),
        "sweep_trash" => scene(
            name,
            "Sweep the trash into the dustpan",
            vec![
                yawed(
                    on_table(
                        "trash",
                        Some("brown"),
                        [0.3, -0.12],
                        0.02,
                        Shape::Box {
                            size: [0.04, 0.05, 0.02],
                        },
                    ),
                    20.0,
                ),
                // Turned so its mouth (local -x) faces -y, toward the trash.
                yawed(
                    fixed(on_table(
                        "dustpan",
                        Some("blue"),
                        [0.3, 0.15],
                        0.06,
                        Shape::Dustpan {
                            size: [0.2, 0.24, 0.06],
                        },
                    )),
                    90.0,
                ),
            ],
            &[
                "sweep the trash into the dustpan",
                "push the trash to the right into the dustpan",
            ],
        ),
        "turn_cap" => scene(
            name,
            "Turn the bottle cap",
            vec![fixed(on_table(
                "bottle",
                Some("green"),
                [0.35, 0.0],
                0.25,
                Shape::Bottle {
                    radius: 0.035,
                    height: 0.25,
                },
            ))],
            &["turn the bottle cap 180 degrees", "unscrew the bottle cap"],
        ),
        "slide_block" => scene(
            name,
            "Slide the block to the target",
            vec![
                block("red block", "red", [0.15, -0.2], 0.06),
                fixed(cylinder("target", "green", [0.4, 0.15], 0.06, 0.004)),
            ],
            &[
                "slide the block to the target",
                "push the red block onto the green target",
            ],
        ),
        "bowls_and_sticker" => scene(
            name,
            "Bowls and a sticker",
            vec![
                cylinder("blue bowl", "blue", [0.35, -0.2], 0.07, 0.05),
                cylinder("red bowl", "red", [0.35, 0.2], 0.07, 0.05),
                on_table(
                    "sticker",
                    Some("yellow"),
                    [0.2, 0.28],
                    0.003,
                    Shape::Box {
                        size: [0.04, 0.04, 0.003],
                    },
                ),
            ],
            &[
                "move to the bowl closest to the sticker",
                "move to the bowl farthest from the sticker",
            ],
        ),
        "lamp_off" => scene(
            name,
            "Turn off the lamp",
            vec![
                fixed(cylinder("lamp", "yellow", [0.45, 0.1], 0.06, 0.3)),
                button("button", "red", [0.3, -0.1]),
            ],
            &["turn off the lamp", "press the button"],
        ),
        _ => return None,
    };
    Some(s)
}
