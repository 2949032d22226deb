//! Random instructions and mutated programs never panic: they compile/run or give an error
//! whose span lies inside the text.

use proptest::prelude::*;
use valuescape_core::Grid;
use valuescape_core::scene::presets;
use valuescape_voxposer::pipeline::run_program;
use valuescape_voxposer::{MapKind, ProgramSource, RuleCompiler, World};

fn world() -> World {
    World::new(
        presets::by_name("blocks_and_mug").unwrap_or_else(|| panic!("preset")),
        Grid::cubic(24).unwrap_or_default(),
    )
}

const WORDS: &[&str] = &[
    "put", "the", "blue", "block", "on", "yellow", "mug", "while", "avoiding", "10cm", "5", "cm",
    "above", "left", "of", "and", "then", "open", "close", "gripper", "drawer", "push", "turn",
    "90", "degrees", "at", "half", "speed", "closest", "to", "into", "away", "from", "move",
    "grasp", ",", ".", "keeping", "upright", "it", "one", "xyzzy",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_strings_never_panic(s in "\\PC{0,80}") {
        let w = world();
        match RuleCompiler.compile(&s, &w) {
            Ok(steps) => prop_assert!(!steps.is_empty()),
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                if let Some((a, b)) = e.span { prop_assert!(a <= b && b <= s.len()); }
            }
        }
    }

    #[test]
    fn random_word_salad_never_panics(ws in proptest::collection::vec(0..WORDS.len(), 0..14)) {
        let s: Vec<&str> = ws.iter().map(|&i| WORDS[i]).collect();
        let s = s.join(" ");
        let w = world();
        match RuleCompiler.compile(&s, &w) {
            Ok(steps) => {
                for st in &steps {
                    for (k, src) in &st.programs {
                        // Compiled programs always run.
                        let r = run_program(&w, *k, src, 0);
                        prop_assert!(r.is_ok(), "{s:?}: {:?}: {:?}\n{src}", k, r.err());
                    }
                }
            }
            Err(e) => if let Some((a, b)) = e.span { prop_assert!(a <= b && b <= s.len()); },
        }
    }

    #[test]
    fn mutated_programs_give_a_map_or_a_spanned_error(pos in 0usize..400, cut in 0usize..6, insert in "\\PC{0,6}", kind in 0usize..5) {
        let w = world();
        let steps = RuleCompiler.compile("place the blue block on the yellow block while avoiding the mug at half speed keeping it upright", &w)
            .unwrap_or_else(|e| panic!("{e}"));
        let kind = MapKind::ALL[kind];
        let src = steps[2].programs[&kind].clone();
        let mut chars: Vec<char> = src.chars().collect();
        let p = pos % (chars.len() + 1);
        let end = (p + cut).min(chars.len());
        chars.splice(p..end, insert.chars());
        let mutated: String = chars.into_iter().collect();
        match run_program(&w, kind, &mutated, 2) {
            Ok(a) => prop_assert_eq!(a.shape()[..3].to_vec(), w.grid.size.to_vec()),
            Err(e) => {
                prop_assert_eq!(e.stage.as_str(), "program");
                prop_assert!(!e.message.is_empty());
                if let Some((a, b)) = e.span { prop_assert!(a <= b && b <= mutated.len(), "{:?} in {}", e.span, mutated.len()); }
            }
        }
    }
}

#[test]
fn an_endless_loop_in_a_program_stops_with_a_limit_error() {
    let w = world();
    let t = std::time::Instant::now();
    let e = run_program(&w, MapKind::Affordance, "affordance_map = get_empty_affordance_map()\nwhile True:\n    affordance_map = affordance_map + 1\n", 0)
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert!(
        e.message.contains("LimitError") || e.message.contains("budget"),
        "{}",
        e.message
    );
    assert_eq!(e.line, Some(3));
    // Not a timed assertion, just a sanity bound far above the expected fraction of a second.
    assert!(t.elapsed().as_secs() < 60);
}
