//! Resource limits: every pathological program ends with an error, quickly,
//! without panicking or overflowing the stack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use valuescape_lang::{ErrorKind, Limits, NoHost, parse, parse_with_limits, run};

fn limit_err(src: &str, limits: &Limits) -> valuescape_lang::LangError {
    let start = Instant::now();
    let r = match parse_with_limits(src, limits) {
        Ok(p) => run(&p, &mut MockHost::new(), limits, Vec::new()),
        Err(e) => Err(e),
    };
    let e = match r {
        Ok(_) => panic!("expected a limit error for:\n{src}"),
        Err(e) => e,
    };
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}: {src}",
        start.elapsed()
    );
    assert!(e.span.end <= src.len());
    e
}

fn small() -> Limits {
    Limits {
        max_ops: 2_000_000,
        ..Limits::default()
    }
}

#[test]
fn infinite_loop_hits_the_operation_budget() {
    let e = limit_err("while True:\n    pass\n", &small());
    assert_eq!(e.kind, ErrorKind::Limit);
    assert!(
        e.message.contains("operation budget exhausted"),
        "{}",
        e.message
    );
    // With the default budget it still ends in well under the test timeout.
    let start = Instant::now();
    let e = limit_err("x = 0\nwhile True:\n    x += 1\n", &Limits::default());
    assert_eq!(e.kind, ErrorKind::Limit);
    eprintln!("default budget infinite loop: {:?}", start.elapsed());
    let e = limit_err("for i in range(10 ** 18):\n    pass\n", &small());
    assert_eq!(e.kind, ErrorKind::Limit);
}

#[test]
fn huge_allocations_are_refused_before_allocating() {
    for src in [
        "import numpy as np\nm = np.zeros((100000, 100000))",
        "import numpy as np\nm = np.ones((2 ** 40, 2 ** 40, 2 ** 40))",
        "import numpy as np\nm = np.full((9223372036854775807,), 1)",
        "import numpy as np\nm = np.arange(1e15)",
        "import numpy as np\nm = np.linspace(0, 1, 10 ** 12)",
        "import numpy as np\nm = np.eye(10 ** 6)",
        "import numpy as np\nm = np.zeros(1000000)\nwhile True:\n    m = m + 1",
        "l = [0] * 10 ** 7",
        "l = [0] * 9223372036854775807",
        "s = 'ab' * 10 ** 9",
        "l = list(range(10 ** 8))",
        "s = 'a'\nwhile True:\n    s = s + s",
        "l = []\nwhile True:\n    l.append(1)",
        "l = [1]\nwhile True:\n    l = l + l",
        "x = [i for i in range(10 ** 9)]",
    ] {
        let e = limit_err(src, &Limits::default());
        assert_eq!(e.kind, ErrorKind::Limit, "{src}: {e}");
    }
}

#[test]
fn print_flood_is_bounded() {
    let e = limit_err("while True:\n    print('x' * 1000)\n", &Limits::default());
    assert_eq!(e.kind, ErrorKind::Limit);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let parens = format!("x = {}1{}", "(".repeat(200), ")".repeat(200));
    let e = parse(&parens).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(e.message.contains("nested too deeply"), "{}", e.message);

    let lists = format!("x = {}{}", "[".repeat(500), "]".repeat(500));
    assert_eq!(parse(&lists).unwrap_err().kind, ErrorKind::Syntax);
    let unary = format!("x = {}1", "-".repeat(5000));
    assert_eq!(parse(&unary).unwrap_err().kind, ErrorKind::Syntax);
    let nots = format!("x = {}1", "not ".repeat(5000));
    assert_eq!(parse(&nots).unwrap_err().kind, ErrorKind::Syntax);
    let pows = format!("x = 2{}", " ** 2".repeat(5000));
    assert_eq!(parse(&pows).unwrap_err().kind, ErrorKind::Syntax);
    let attrs = format!("x = a{}", ".b".repeat(5000));
    assert_eq!(parse(&attrs).unwrap_err().kind, ErrorKind::Syntax);
    let calls = format!("x = f{}", "()".repeat(5000));
    assert_eq!(parse(&calls).unwrap_err().kind, ErrorKind::Syntax);
    let ternary = format!("x = {}0", "1 if 1 else ".repeat(5000));
    assert_eq!(parse(&ternary).unwrap_err().kind, ErrorKind::Syntax);
    let comp = format!("x = [1 {}]", "for a in b ".repeat(5000));
    assert_eq!(parse(&comp).unwrap_err().kind, ErrorKind::Syntax);
    let mut blocks = String::new();
    for i in 0..300 {
        blocks.push_str(&" ".repeat(i));
        blocks.push_str("if True:\n");
    }
    blocks.push_str(&" ".repeat(300));
    blocks.push_str("pass\n");
    assert_eq!(parse(&blocks).unwrap_err().kind, ErrorKind::Syntax);
    let mixed = format!("x = {}", "[(-{".repeat(100));
    assert!(parse(&mixed).is_err());
}

#[test]
fn long_flat_programs_are_fine() {
    // Long operator chains are flat, not deep.
    let chain = format!("x = 1{}\n", " + 1".repeat(20_000));
    let out = run(
        &parse(&chain).unwrap(),
        &mut NoHost,
        &Limits::default(),
        vec![],
    )
    .unwrap();
    assert_eq!(
        out.get("x").and_then(valuescape_lang::Value::as_i64),
        Some(20_001)
    );
    let cmp = format!("x = 1{}\n", " < 2".repeat(5_000));
    assert!(parse(&cmp).is_ok());
    let ands = format!("x = 1{}\n", " and 1".repeat(20_000));
    assert!(
        run(
            &parse(&ands).unwrap(),
            &mut NoHost,
            &Limits::default(),
            vec![]
        )
        .is_ok()
    );
    let lines = "x = 1\n".repeat(20_000);
    assert!(
        run(
            &parse(&lines).unwrap(),
            &mut NoHost,
            &Limits::default(),
            vec![]
        )
        .is_ok()
    );
    let list = format!("x = [{}]\n", "1, ".repeat(20_000));
    assert!(
        run(
            &parse(&list).unwrap(),
            &mut NoHost,
            &Limits::default(),
            vec![]
        )
        .is_ok()
    );
}

#[test]
fn run_time_depth_limit_applies_to_parsed_programs() {
    let p = parse("x = ((((((((((((1))))))))))))\n").unwrap();
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let e = run(&p, &mut NoHost, &limits, vec![]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    assert_eq!(e.span.line, 1);
    // Data nesting uses the same limit.
    let p = parse("x = 1\nfor i in range(10):\n    x = [x]\n").unwrap();
    let e = run(&p, &mut NoHost, &limits, vec![]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    assert!(e.message.contains("nested too deeply"));
    // Requests above the hard cap are clamped, never a stack overflow.
    let huge = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let deep = format!("x = {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(parse_with_limits(&deep, &huge).is_err());
}

#[test]
fn host_work_counts_against_the_budget() {
    let limits = Limits {
        max_ops: 50_000,
        ..Limits::default()
    };
    let src = "m = get_empty_avoidance_map()\nfor i in range(100):\n    set_voxel_by_radius(m, [1, 1, 1], radius_cm=5, value=1)\n";
    let e = limit_err(src, &limits);
    // The host's own error after exhausting the budget is reported as a limit.
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert_eq!(e.span.line, 3);
}

#[test]
fn big_array_operations_are_fast() {
    let src = "import numpy as np
m = np.zeros((100, 100, 100))
for k in range(20):
    m[:, :, 10:90] = k
    mask = m > 0.5
    m[mask] = 1
    s = m.sum()
";
    let start = Instant::now();
    let out = ok(src);
    let t = start.elapsed();
    eprintln!("20 rounds of 1M-element slice/compare/mask ops: {t:?}");
    assert!(t < Duration::from_secs(10));
    assert_eq!(
        out.get("s").and_then(valuescape_lang::Value::as_f64),
        Some(800_000.0)
    );
}

/// Programs nested right up to the default limit run on a small (1 MiB)
/// thread stack: the per-level native stack use is bounded.
#[test]
fn maximal_nesting_fits_in_a_small_stack() {
    let d = Limits::default().max_depth;
    let mut blocks = String::new();
    for i in 0..d - 2 {
        blocks.push_str(&"  ".repeat(i));
        blocks.push_str("if True:\n");
    }
    blocks.push_str(&"  ".repeat(d - 2));
    blocks.push_str("x = 1\n");
    let programs = vec![
        format!("x = {}1{}", "(".repeat(d - 2), ")".repeat(d - 2)),
        format!("x = {}1{}", "[".repeat(d - 3), "]".repeat(d - 3)),
        format!("x = {}1{}", "abs(".repeat(d - 3), ")".repeat(d - 3)),
        format!("x = {}1", "-(".repeat(d / 2 - 2)) + &")".repeat(d / 2 - 2),
        format!("x = [1 {}]", "for a in [1] ".repeat(d - 4)),
        blocks,
    ];
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for src in programs {
                let p = parse(&src).unwrap_or_else(|e| panic!("{e}\n{src}"));
                run(&p, &mut NoHost, &Limits::default(), vec![])
                    .unwrap_or_else(|e| panic!("{e}\n{src}"));
                // One level deeper than allowed is an error, not a crash.
                let deeper = format!("y = ({})\n", src.trim_end().trim_start_matches("x = "));
                let _ = parse(&deeper);
            }
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn empty_arrays_spanning_huge_axes_and_huge_range_slices_end_with_a_limit_error() {
    // No elements (so nothing charged), but indexing, joining and printing walk the other
    // axes: these ran for about 10^18 steps, or aborted on a 16 GB allocation.
    for src in [
        "Z = np.zeros((10**9, 10**9, 0))\nY = Z[:, :, :]\n",
        "Z = np.zeros((10**9, 10**9, 0))\nY = np.hstack([Z, Z])\n",
        "print(np.zeros((10**9, 0)))\n",
        "x = np.zeros((10**8, 0)).tolist()\n",
        // The slice's indices were listed before the budget saw their count (a capacity
        // overflow panic at 2**62).
        "x = range(2**62)[::1]\n",
        "x = range(10**8)[::1]\n",
    ] {
        let e = limit_err(src, &Limits::default());
        assert_eq!(e.kind, ErrorKind::Limit, "{src}: {}", e.message);
    }
}

#[test]
fn strings_kept_alive_count_against_the_allocation_budget() {
    // 1,150 strings of a million characters held 1.1 GB with the default limits.
    let e = limit_err(
        "keep = []\nfor i in range(1150):\n    keep.append('ab' * 500000)\n",
        &Limits::default(),
    );
    assert!(e.message.contains("allocation budget"), "{}", e.message);
}
