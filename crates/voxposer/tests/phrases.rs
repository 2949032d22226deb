//! One test per phrase class: the compiled program paints exactly the voxels the phrase
//! means, computed here from the scene geometry and VoxPoser's rules.

use valuescape_core::scene::presets;
use valuescape_core::{Grid, Voxel};
use valuescape_voxposer::compiler::StepSpec;
use valuescape_voxposer::pipeline::run_program;
use valuescape_voxposer::quat;
use valuescape_voxposer::{CompileError, MapKind, ProgramSource, RuleCompiler, World};

fn world(preset: &str) -> World {
    World::new(
        presets::by_name(preset).unwrap_or_else(|| panic!("{preset}")),
        Grid::default(),
    )
}

fn steps(w: &World, instruction: &str) -> Vec<StepSpec> {
    RuleCompiler
        .compile(instruction, w)
        .unwrap_or_else(|e| panic!("{instruction:?}: {e}"))
}

/// The error of an instruction that must not compile.
fn compile_err(w: &World, text: &str) -> CompileError {
    RuleCompiler
        .compile(text, w)
        .err()
        .unwrap_or_else(|| panic!("{text:?} should fail to compile"))
}

fn map(w: &World, s: &StepSpec, kind: MapKind) -> Vec<f32> {
    let src = s
        .programs
        .get(&kind)
        .unwrap_or_else(|| panic!("no {kind:?} program"));
    run_program(w, kind, src, 0)
        .unwrap_or_else(|e| panic!("{e}\n{src}"))
        .to_array()
        .data
}

/// Voxels whose value differs from `background`.
fn painted(w: &World, data: &[f32], background: f32) -> Vec<Voxel> {
    data.iter()
        .enumerate()
        .filter(|(_, x)| **x != background)
        .map(|(i, _)| w.grid.voxel(i))
        .collect()
}

/// (centre voxel, aabb min, aabb max) of an entity, from its rasterised voxels.
fn geometry(w: &World, name: &str) -> (Voxel, Voxel, Voxel) {
    let i = w.entity_index(name).unwrap_or_else(|| panic!("{name}"));
    let (e, vox) = &w.entities()[i];
    let g = w.grid;
    let mut lo = [usize::MAX; 3];
    let mut hi = [0; 3];
    for &k in vox {
        let v = g.voxel(k);
        for a in 0..3 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    (g.world_to_voxel(e.centroid_world()), lo, hi)
}

fn single(w: &World, s: &StepSpec) -> Voxel {
    let p = painted(w, &map(w, s, MapKind::Affordance), 0.0);
    assert_eq!(
        p.len(),
        1,
        "affordance should mark exactly one voxel, got {p:?}"
    );
    p[0]
}

fn clamp(g: &Grid, v: [i64; 3]) -> Voxel {
    g.clamp_voxel_i(v)
}

#[test]
fn above_below_left_right_front_behind_by_n_cm() {
    let w = world("blocks_and_mug");
    let g = w.grid;
    let (c, lo, hi) = geometry(&w, "mug");
    let c = c.map(|x| x as i64);
    let cases: [(&str, [i64; 3]); 5] = [
        (
            "move to 10cm above the mug",
            [c[0], c[1], hi[2] as i64 + g.cm2index(10.0, 2)],
        ),
        (
            "move 7cm to the left of the mug",
            [c[0], lo[1] as i64 - g.cm2index(7.0, 1), c[2]],
        ),
        (
            "move to the right of the mug by 12 cm",
            [c[0], hi[1] as i64 + g.cm2index(12.0, 1), c[2]],
        ),
        (
            "move 8cm in front of the mug",
            [hi[0] as i64 + g.cm2index(8.0, 0), c[1], c[2]],
        ),
        (
            "move 9cm behind the mug",
            [lo[0] as i64 - g.cm2index(9.0, 0), c[1], c[2]],
        ),
    ];
    for (text, want) in cases {
        let s = steps(&w, text);
        assert_eq!(s.len(), 1, "{text}");
        assert_eq!(
            single(&w, &s[0]),
            clamp(&g, want),
            "{text}\n{}",
            s[0].programs[&MapKind::Affordance]
        );
    }
    // below: relative to the gripper (the mug sits on the table).
    let e = w.ee_voxel().map(|x| x as i64);
    let s = steps(&w, "move 10cm below the gripper");
    assert_eq!(
        single(&w, &s[0]),
        clamp(&g, [e[0], e[1], (e[2] - 2) - g.cm2index(10.0, 2)])
    );
}

#[test]
fn into_and_away_from_a_handle_follow_its_normal() {
    let w = world("open_drawer");
    let g = w.grid;
    let i = w
        .entity_index("top drawer handle")
        .unwrap_or_else(|| panic!("handle"));
    let n = w.entities()[i].0.normal;
    let (c, _, _) = geometry(&w, "top drawer handle");
    let into = g.cm2index_dir(10.0, n.map(|x| -x));
    let away = g.cm2index_dir(25.0, n);
    let s = steps(&w, "move 10cm into the top drawer handle");
    assert_eq!(
        single(&w, &s[0]),
        clamp(&g, [0, 1, 2].map(|a| c[a] as i64 + into[a]))
    );
    let s = steps(&w, "move 25cm away from the top drawer handle");
    assert_eq!(
        single(&w, &s[0]),
        clamp(&g, [0, 1, 2].map(|a| c[a] as i64 + away[a]))
    );
    assert!(
        into[0] > 0 && away[0] < 0,
        "the cabinet faces the robot (-x): {n:?}"
    );
}

#[test]
fn at_the_centre_of() {
    let w = world("rubbish_in_bin");
    let s = steps(&w, "move to the centre of the bin");
    assert_eq!(single(&w, &s[0]), geometry(&w, "bin").0);
}

#[test]
fn n_cm_away_from_paints_a_box_of_truncated_half_sizes() {
    let w = world("blocks_and_mug");
    let g = w.grid;
    let s = steps(
        &w,
        "move to 5cm above the yellow block while keeping at least 12cm away from the mug",
    );
    let (c, _, _) = geometry(&w, "mug");
    let r = [0, 1, 2].map(|a| g.cm2index(12.0, a));
    let mut want = Vec::new();
    for i in 0..g.size[0] {
        for j in 0..g.size[1] {
            for k in 0..g.size[2] {
                let v = [i, j, k];
                if (0..3).all(|a| (v[a] as i64 - c[a] as i64).abs() <= r[a]) {
                    want.push(v);
                }
            }
        }
    }
    assert_eq!(painted(&w, &map(&w, &s[0], MapKind::Avoidance), 0.0), want);
    // "avoiding X" without a distance uses 15 cm.
    let s = steps(&w, "move to 5cm above the yellow block avoiding the mug");
    let n = painted(&w, &map(&w, &s[0], MapKind::Avoidance), 0.0).len();
    let r = [0, 1, 2].map(|a| g.cm2index(15.0, a));
    let in_grid = |a: usize| {
        (-r[a]..=r[a])
            .filter(|d| (0..g.size[a] as i64).contains(&(c[a] as i64 + d)))
            .count()
    };
    assert_eq!(n, in_grid(0) * in_grid(1) * in_grid(2));
}

#[test]
fn quarter_and_half_speed() {
    let w = world("blocks_and_mug");
    for (text, v) in [
        ("move to 5cm above the mug at a quarter speed", 0.25f32),
        ("move to 5cm above the mug at half speed", 0.5),
        ("move slowly to 5cm above the mug", 0.5),
    ] {
        let s = steps(&w, text);
        let m = map(&w, &s[0], MapKind::Velocity);
        assert!(m.iter().all(|&x| x == v), "{text}");
    }
    let s = steps(&w, "move to 5cm above the mug");
    assert!(map(&w, &s[0], MapKind::Velocity).iter().all(|&x| x == 1.0));
}

#[test]
fn open_and_close_the_gripper_near_an_object() {
    let w = world("blocks_and_mug");
    let g = w.grid;
    let (c, _, _) = geometry(&w, "blue block");
    let r = [0, 1, 2].map(|a| g.cm2index(3.0, a));
    let near = |v: &Voxel| (0..3).all(|a| (v[a] as i64 - c[a] as i64).abs() <= r[a]);
    let s = steps(
        &w,
        "move to the blue block and close the gripper within 3cm of the blue block",
    );
    let m = map(&w, &s[0], MapKind::Gripper);
    let closed = painted(&w, &m, 1.0);
    assert!(!closed.is_empty() && closed.iter().all(near));
    let in_grid = |a: usize| {
        (-r[a]..=r[a])
            .filter(|d| (0..g.size[a] as i64).contains(&(c[a] as i64 + d)))
            .count()
    };
    assert_eq!(closed.len(), in_grid(0) * in_grid(1) * in_grid(2));
    let s = steps(
        &w,
        "move to the blue block and open the gripper within 3cm of the blue block",
    );
    let opened = painted(&w, &map(&w, &s[0], MapKind::Gripper), 0.0);
    assert_eq!(opened, closed);
    // grasping: open everywhere except 1 cm around the object.
    let s = steps(&w, "grasp the blue block");
    let m = map(&w, &s[0], MapKind::Gripper);
    let r1 = [0, 1, 2].map(|a| g.cm2index(1.0, a));
    let in_grid1 = |a: usize| {
        (-r1[a]..=r1[a])
            .filter(|d| (0..g.size[a] as i64).contains(&(c[a] as i64 + d)))
            .count()
    };
    assert_eq!(
        painted(&w, &m, 1.0).len(),
        in_grid1(0) * in_grid1(1) * in_grid1(2)
    );
    assert_eq!(m[g.index(c)], 0.0);
}

#[test]
fn turn_n_degrees_and_keep_upright() {
    let w = world("turn_cap");
    let s = steps(&w, "turn 90 degrees clockwise");
    let m = map(&w, &s[0], MapKind::Rotation);
    let want = quat::qmult(quat::euler2quat(0.0, 0.0, (-90f64).to_radians()), w.ee.quat);
    for q in m.chunks_exact(4) {
        for a in 0..4 {
            assert!((q[a] as f64 - want[a]).abs() < 1e-6, "{q:?} vs {want:?}");
        }
    }
    let s = steps(&w, "move to 10cm above the bottle keeping it upright");
    let m = map(&w, &s[0], MapKind::Rotation);
    for q in m.chunks_exact(4) {
        assert!((q[0].abs()) < 1e-6 && (q[1] - 1.0).abs() < 1e-6 && q[2] == 0.0 && q[3] == 0.0);
    }
    // Without a rotation phrase the map is the current orientation.
    let s = steps(&w, "move to 10cm above the bottle");
    let m = map(&w, &s[0], MapKind::Rotation);
    assert!(m.chunks_exact(4).all(|q| {
        q.iter()
            .zip(w.ee.quat)
            .all(|(a, b)| (*a as f64 - b).abs() < 1e-7)
    }));
}

#[test]
fn objects_by_name_colour_and_relation() {
    let w = world("bowls_and_sticker");
    let g = w.grid;
    let above = |name: &str| {
        let (c, _, hi) = geometry(&w, name);
        [c[0], c[1], (hi[2] as i64 + g.cm2index(5.0, 2)) as usize]
    };
    let s = steps(&w, "move to the bowl closest to the sticker");
    assert!(
        s[0].programs[&MapKind::Affordance]
            .contains("parse_query_obj('bowl closest to the sticker')")
    );
    assert_eq!(single(&w, &s[0]), above("red bowl"));
    let s = steps(&w, "move to the bowl farthest from the sticker");
    assert_eq!(single(&w, &s[0]), above("blue bowl"));
    let s = steps(&w, "move to the blue one");
    assert_eq!(single(&w, &s[0]), above("blue bowl"));
    let s = steps(&w, "move to 5cm above the red bowl");
    assert_eq!(single(&w, &s[0]), above("red bowl"));
    // An ambiguous name is an error naming the candidates.
    let e = compile_err(&w, "move to the bowl");
    assert!(
        e.message.contains("blue bowl") && e.message.contains("red bowl"),
        "{}",
        e.message
    );
    assert_eq!(e.span, Some((12, 16)), "the span covers the ambiguous word");
}

#[test]
fn multi_step_tasks_give_the_expected_sub_steps() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "blocks_and_mug",
            "place the blue block on the yellow block while avoiding the mug",
            &[
                "grasp the blue block while keeping at least 15cm away from the mug",
                "move up by 20cm while keeping at least 15cm away from the mug",
                "move to a point 5cm above the yellow block while keeping at least 15cm away from the mug",
                "open gripper",
            ],
        ),
        (
            "open_drawer",
            "open the top drawer",
            &[
                "grasp the top drawer handle",
                "move away from the top drawer handle by 20cm",
                "open gripper",
            ],
        ),
        (
            "close_drawer",
            "close the top drawer",
            &[
                "move to 5cm away from the top drawer handle",
                "push close the top drawer by 18cm",
            ],
        ),
        (
            "push_button",
            "push the maroon button",
            &[
                "move to 5cm above the maroon button",
                "push down on the maroon button",
                "move to 10cm above the maroon button",
            ],
        ),
        (
            "sweep_trash",
            "sweep the trash into the dustpan",
            &[
                "move to 5cm to the left of the trash",
                "push the trash to the center of the dustpan",
            ],
        ),
        (
            "turn_cap",
            "turn the bottle cap 180 degrees",
            &[
                "grasp the bottle cap",
                "turn the bottle cap 180 degrees counterclockwise",
                "open gripper",
            ],
        ),
        (
            "saucepan_lid",
            "take the lid off the saucepan",
            &[
                "grasp the saucepan lid",
                "move up by 20cm",
                "move to 25cm to the left of the saucepan",
                "open gripper",
            ],
        ),
        (
            "rubbish_in_bin",
            "pick up the rubbish, then go back to the default pose",
            &[
                "grasp the rubbish",
                "move up by 20cm",
                "back to default pose",
            ],
        ),
    ];
    for (preset, text, want) in cases {
        let w = world(preset);
        let got: Vec<String> = steps(&w, text).into_iter().map(|s| s.instruction).collect();
        assert_eq!(got, *want, "{preset}: {text}");
    }
    let w = world("close_drawer");
    let s = steps(&w, "close the top drawer");
    assert_eq!(
        (s[1].movable.as_str(), s[1].planar),
        ("top drawer handle", true),
        "the handle moves when closing"
    );
}

#[test]
fn instructions_it_cannot_place_say_which_words_and_where() {
    let w = world("blocks_and_mug");
    let cases = [
        ("grap the blue block", "grap", (0, 4)),
        ("put the banana on the mug", "banana", (8, 14)),
        (
            "place the blue block on the yellow block and frobnicate",
            "frobnicate",
            (45, 55),
        ),
    ];
    for (text, word, span) in cases {
        let e = compile_err(&w, text);
        assert!(e.message.contains(word), "{text}: {}", e.message);
        assert_eq!(e.span, Some(span), "{text}: {}", e.message);
    }
    let e = compile_err(&w, "grap the blue block");
    assert!(
        e.message.contains("did you mean \"grab\"") && e.message.contains("Phrases I know"),
        "{}",
        e.message
    );
}

/// Each instruction fails to compile, with `needle` in the message and the error at `span`.
fn assert_refused(w: &World, cases: &[(&str, (usize, usize))], needle: &str) {
    for &(text, span) in cases {
        let e = compile_err(w, text);
        assert!(e.message.contains(needle), "{text}: {}", e.message);
        assert_eq!(e.span, Some(span), "{text}: {}", e.message);
    }
}

/// A minus sign is never dropped: a negative number is refused at its span (with the unit),
/// while hyphens inside words and numbers without a sign still work.
#[test]
fn negative_numbers_are_refused_where_they_stand() {
    let w = world("rubbish_in_bin");
    assert_refused(
        &w,
        &[
            ("move to -5cm above the bin", (8, 12)),
            ("move up by \u{2212}10 cm", (11, 19)),
            ("move to -.5 m above the bin", (8, 13)),
        ],
        "negative",
    );
    // The same instructions without the sign compile, and so does a hyphenated word.
    for text in [
        "move to 5cm above the bin",
        "move up by 10 cm",
        "move up by 10 cm while avoiding the bin",
    ] {
        assert!(RuleCompiler.compile(text, &w).is_ok(), "{text}");
    }
    let hyphen = RuleCompiler.compile("move to 5cm above the bin-5", &w);
    assert!(
        hyphen
            .as_ref()
            .err()
            .is_none_or(|e| !e.message.contains("negative")),
        "a hyphen inside a word is not a sign: {hyphen:?}"
    );
}

/// A long instruction's error names each unknown word once, a few at most, and quotes the
/// clause cut short, so the message stays readable; the span still covers the words.
#[test]
fn errors_on_long_instructions_stay_short() {
    let w = world("rubbish_in_bin");
    let text = format!("move to 10cm above the bin {}", "very ".repeat(390));
    let e = compile_err(&w, &text);
    assert_eq!(e.message.matches("\"very\"").count(), 1, "{}", e.message);
    assert!(
        e.message.len() < 1500,
        "{} bytes: {}",
        e.message.len(),
        e.message
    );
    assert!(e.message.contains("..."), "{}", e.message);
    let many =
        "move to 10cm above the bin alpha bravo charlie delta echo foxtrot golf hotel india juliet";
    let e = compile_err(&w, many);
    assert!(e.message.contains("and 2 more"), "{}", e.message);
    assert_eq!(e.span.map(|s| s.1), Some(many.len()), "{}", e.message);
}

/// A distance longer than the workspace's diagonal is refused at its span instead of being
/// clamped to the boundary (where the plan would report the target reached).
#[test]
fn distances_beyond_the_workspace_are_refused() {
    let w = world("rubbish_in_bin");
    assert_refused(
        &w,
        &[
            ("move to 1000cm above the bin", (8, 14)),
            ("move up by 10 m", (11, 15)),
        ],
        "workspace",
    );
    assert!(
        RuleCompiler
            .compile("move to 30cm above the bin", &w)
            .is_ok()
    );
}

/// A distance that fits in the workspace's diagonal but still points outside it is clamped
/// to the grid's edge, as VoxPoser's forgiving indexing does, and the step says so.
#[test]
fn targets_outside_the_workspace_are_clamped_with_a_warning() {
    use valuescape_voxposer::pipeline::run_program_noting;
    let w = world("rubbish_in_bin");
    for (instruction, axis) in [
        ("move to 90cm above the bin", "z = "),
        ("move 80cm to the left", "y = -"),
    ] {
        let s = &steps(&w, instruction)[0];
        let src = &s.programs[&MapKind::Affordance];
        let (a, warning) = run_program_noting(&w, MapKind::Affordance, src, 0)
            .unwrap_or_else(|e| panic!("{instruction}: {e}"));
        let warning = warning.unwrap_or_else(|| panic!("{instruction}: no warning"));
        assert!(
            warning.contains("affordance program indexed outside the grid")
                && warning.contains(axis),
            "{instruction}: {warning}"
        );
        // The target is still painted, on the edge.
        let target = painted(&w, &a.to_array().data, 0.0);
        assert_eq!(target.len(), 1, "{instruction}");
        assert!(
            target[0].iter().any(|&c| c == 0 || c == 99),
            "{instruction}: {target:?}"
        );
    }
    // Inside the workspace: no warning.
    let s = &steps(&w, "move to 30cm above the bin")[0];
    let src = &s.programs[&MapKind::Affordance];
    let (_, warning) = run_program_noting(&w, MapKind::Affordance, src, 0).expect("runs");
    assert_eq!(warning, None);
    // A hand-written program's reads are clamped and reported too.
    let src =
        "m = get_empty_affordance_map()\nv = m[50, 50, 130]\nm[-3, 50, 50] = 1\nret_val = m\n";
    let (_, warning) = run_program_noting(&w, MapKind::Affordance, src, 0).expect("runs");
    let warning = warning.expect("clamped");
    assert!(
        warning.contains("z = 130 (clamped to 99") && warning.contains("x = -3 (clamped to 0"),
        "{warning}"
    );
}

/// A turn past ten full turns is refused at its words: it used to saturate to i64::MAX
/// degrees in the compiled program and the step's name.
#[test]
fn an_enormous_turn_is_refused_where_it_stands() {
    let w = world("blocks_and_mug");
    assert_refused(
        &w,
        &[
            ("turn the gripper 100000000000000000000 degrees", (17, 46)),
            ("turn 3601 degrees clockwise", (5, 27)),
        ],
        "out of range",
    );
    // Ten full turns are taken.
    assert!(!steps(&w, "turn 3600 degrees").is_empty());
}

/// An instruction of more sub-steps than one may hold is refused at the clause that goes
/// past it (61 sub-steps from 1,391 characters compiled before, each keeping its maps).
#[test]
fn an_instruction_of_too_many_sub_steps_is_refused_at_the_clause_past_the_limit() {
    let w = world("blocks_and_mug");
    let clause = "open the gripper";
    let text = vec![clause; 30].join(" and then ");
    let e = compile_err(&w, &text);
    assert!(e.message.contains("at most 24"), "{}", e.message);
    let (from, to) = e.span.unwrap_or_default();
    assert_eq!(&text[from..to], clause, "{}", e.message);
    // The limit itself compiles.
    let n = steps(&w, &vec![clause; 24].join(" and then ")).len();
    assert_eq!(n, 24);
}
