//! The `valuescape` command as a user runs it: listing, planning with JSON and .npy output,
//! program overrides, and exit status 2 with a message for bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn valuescape(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_valuescape"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run valuescape: {e}"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("valuescape-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn scenes_lists_every_preset_as_json() {
    let o = valuescape(&["scenes", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let names: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.len() >= 8, "{names:?}");
    assert!(names.contains(&"blocks_and_mug") && names.contains(&"open_drawer"));
}

#[test]
fn plan_writes_the_documented_json_and_npy_files() {
    let d = tmp("plan");
    let json = d.join("plan.json");
    let npy = d.join("maps");
    let o = valuescape(&[
        "plan",
        "--scene",
        "blocks_and_mug",
        "--grid",
        "48",
        "--json",
        json.to_str().unwrap_or(""),
        "--npy",
        npy.to_str().unwrap_or(""),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("parse_query_obj('yellow block')") && out.contains("timing (ms)"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
            .unwrap_or_default();
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 4);
    for s in &steps {
        assert!(s["instruction"].is_string() && s["target_reached"].as_bool() == Some(true));
        for k in ["affordance", "avoidance", "rotation", "velocity", "gripper"] {
            assert!(s["programs"][k].is_string(), "program {k}");
        }
        let w = &s["waypoints"][0];
        assert_eq!(w["voxel"].as_array().map(Vec::len), Some(3));
        assert_eq!(w["position"].as_array().map(Vec::len), Some(3));
        assert_eq!(w["quat"].as_array().map(Vec::len), Some(4));
        assert!(w["gripper"].is_number() && w["velocity"].is_number());
    }
    for k in ["compile", "programs", "cost", "plan", "total"] {
        assert!(v["timing_ms"][k].is_number(), "timing {k}");
    }
    // .npy: one folder per step, float32 C-order [48,48,48] (rotation [48,48,48,4]).
    for step in 0..4 {
        for name in [
            "affordance",
            "avoidance",
            "velocity",
            "gripper",
            "rotation",
            "obstacle",
            "cost",
        ] {
            let p = npy.join(format!("step{step}")).join(format!("{name}.npy"));
            let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
            let header = String::from_utf8_lossy(&b[10..10 + hlen]).into_owned();
            let (shape, n) = if name == "rotation" {
                ("(48, 48, 48, 4)", 48 * 48 * 48 * 4)
            } else {
                ("(48, 48, 48)", 48 * 48 * 48)
            };
            assert!(
                header.contains(shape) && header.contains("'<f4'") && header.contains("False"),
                "{header}"
            );
            assert_eq!(b.len(), 10 + hlen + 4 * n);
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_program_file_replaces_the_compiled_program() {
    let d = tmp("override");
    let prog = d.join("aff.py");
    std::fs::write(&prog, "affordance_map = get_empty_affordance_map()\nmug = parse_query_obj('mug')\nx, y, z = mug.position\naffordance_map[x, y, mug.aabb[1][2] + cm2index(20, 'z')] = 1\nret_val = affordance_map\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let json = d.join("p.json");
    let arg = format!("affordance={}", prog.display());
    let o = valuescape(&[
        "plan",
        "--scene",
        "blocks_and_mug",
        "--grid",
        "40",
        "--program",
        &arg,
        "--json",
        json.to_str().unwrap_or(""),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
            .unwrap_or_default();
    assert!(
        v["steps"][0]["programs"]["affordance"]
            .as_str()
            .unwrap_or("")
            .contains("cm2index(20, 'z')")
    );
    // A broken program: exit 2, the message names the step, the map and the line.
    std::fs::write(&prog, "affordance_map = get_empty_affordance_map()\nx, y, z = parse_query_obj('mug').position\naffordance_map[x, y, z = 1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let o = valuescape(&[
        "plan",
        "--scene",
        "blocks_and_mug",
        "--grid",
        "40",
        "--program",
        &arg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("step 0") && e.contains("affordance program") && e.contains("line 3"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_problem() {
    let d = tmp("bad");
    let scene = d.join("scene.json");
    std::fs::write(&scene, r#"{"name": "x", "objects": [{"name": "cube", "position": [0.3, 0.0, 0.8], "shape": {"box": {"size": [0.05, -0.05, 0.05]}}}]}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["plan".into(), "--scene".into(), "no_such_scene".into()],
            "neither a preset nor a file",
        ),
        (
            vec!["plan".into(), "--scene".into(), scene.display().to_string()],
            "objects[0].shape.box.size[1]",
        ),
        (
            vec![
                "plan".into(),
                "--scene".into(),
                "blocks_and_mug".into(),
                "--instruction".into(),
                "grap the blue block".into(),
            ],
            "did you mean",
        ),
        (
            vec![
                "plan".into(),
                "--scene".into(),
                "blocks_and_mug".into(),
                "--grid".into(),
                "8".into(),
            ],
            "between 16 and 256",
        ),
        (
            vec![
                "plan".into(),
                "--scene".into(),
                "blocks_and_mug".into(),
                "--program".into(),
                "colour=x.py".into(),
            ],
            "unknown map kind",
        ),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = valuescape(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bench_reports_every_preset() {
    let o = valuescape(&["bench", "--grid", "32", "--runs", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let rows = v["presets"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 8);
    for r in rows {
        for k in ["programs", "cost", "plan", "cycle"] {
            assert!(r["median_ms"][k].as_f64().is_some_and(|x| x >= 0.0), "{k}");
        }
    }
}

#[test]
fn gpu_backend_and_mppi_planner_give_the_same_json_shape() {
    let d = tmp("backends");
    let plan_json = |extra: &[&str], name: &str| -> serde_json::Value {
        let out = d.join(name);
        let mut args = vec![
            "plan",
            "--scene",
            "sweep_trash",
            "--grid",
            "20",
            "--json",
            out.to_str().unwrap_or(""),
        ];
        args.extend_from_slice(extra);
        let o = valuescape(&args);
        // The GPU backend needs an adapter (Mesa lavapipe in CI): no adapter is a failure here.
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap_or_default()).unwrap_or_default()
    };
    let cpu = plan_json(&["--backend", "cpu"], "cpu.json");
    let gpu = plan_json(&["--backend", "gpu"], "gpu.json");
    let mppi = plan_json(&["--planner", "mppi"], "mppi.json");
    for v in [&cpu, &gpu, &mppi] {
        let steps = v["steps"].as_array().cloned().unwrap_or_default();
        assert_eq!(steps.len(), cpu["steps"].as_array().map_or(0, Vec::len));
        for s in &steps {
            assert_eq!(s["target_reached"].as_bool(), Some(true), "{s}");
            let keys: Vec<&String> = s["waypoints"][0]
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            assert_eq!(keys.len(), 6);
        }
    }
    // Same programs whichever backend ran; the value planner's end points agree.
    for (a, b) in cpu["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(gpu["steps"].as_array().into_iter().flatten())
    {
        assert_eq!(a["programs"], b["programs"]);
        let end = |s: &serde_json::Value| {
            s["waypoints"]
                .as_array()
                .and_then(|w| w.last())
                .map(|w| w["voxel"].clone())
        };
        assert_eq!(end(a), end(b));
    }
    let _ = std::fs::remove_dir_all(&d);
}
