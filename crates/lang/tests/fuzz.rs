//! Property tests: no input makes the lexer, parser or interpreter panic,
//! and every error points inside the source.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proptest::prelude::*;
use valuescape_lang::{LangError, Limits, NoHost, Program, Value, parse, run};

fn check_span(src: &str, e: &LangError) {
    let s = e.span;
    assert!(s.start <= s.end, "span start after end: {e:?}");
    assert!(
        s.end <= src.len(),
        "span {s:?} outside source of {} bytes: {e}",
        src.len()
    );
    assert!(
        src.is_char_boundary(s.start) && src.is_char_boundary(s.end),
        "span not on char boundary: {e}"
    );
    assert!(s.line >= 1 && s.col >= 1, "{e:?}");
    assert!(
        s.end_line > s.line || (s.end_line == s.line && s.end_col >= s.col),
        "{e:?}"
    );
    // '\n', '\r\n' and a lone '\r' all end a line.
    let lines = src
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .count() as u32;
    assert!(
        s.line <= lines + 1,
        "line {} beyond {} lines: {e}",
        s.line,
        lines
    );
    assert!(!e.message.is_empty());
    // Display never panics either.
    let _ = e.to_string();
}

/// Cases per property (override with `PROPTEST_CASES` for long runs).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

fn fuzz_limits() -> Limits {
    Limits {
        max_ops: 200_000,
        max_alloc_elements: 2_000_000,
        ..Limits::default()
    }
}

fn parse_and_run(src: &str, predefined: Vec<(String, Value)>) {
    let program: Program = match parse(src) {
        Ok(p) => p,
        Err(e) => return check_span(src, &e),
    };
    match run(&program, &mut MockHost::new(), &fuzz_limits(), predefined) {
        Ok(out) => {
            // Formatting any resulting value must not panic.
            for v in out.globals.values() {
                let _ = format!("{v:?} {v}");
            }
        }
        Err(e) => check_span(src, &e),
    }
}

const TOKENS: &[&str] = &[
    "if",
    "elif",
    "else",
    "for",
    "while",
    "in",
    "not",
    "and",
    "or",
    "is",
    "None",
    "True",
    "False",
    "pass",
    "break",
    "continue",
    "import",
    "from",
    "as",
    "def",
    "class",
    "lambda",
    "return",
    "del",
    "assert",
    "try",
    "with",
    "yield",
    "global",
    "numpy",
    "np",
    "math",
    "x",
    "y",
    "z",
    "m",
    "a",
    "b",
    "i",
    "range",
    "len",
    "print",
    "np.zeros",
    "np.array",
    "get_empty_affordance_map()",
    "parse_query_obj('mug')",
    ".position",
    ".aabb",
    ".shape",
    ".T",
    "0",
    "1",
    "-1",
    "2",
    "3.5",
    "1e309",
    ".5",
    "10",
    "9223372036854775807",
    "'s'",
    "\"t\"",
    "'''",
    "f'x'",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "@",
    "&",
    "|",
    "^",
    "~",
    "<<",
    ">>",
    "<",
    ">",
    "<=",
    ">=",
    "==",
    "!=",
    "=",
    "+=",
    "-=",
    "*=",
    "/=",
    ":=",
    "->",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ";",
    ".",
    "...",
    "\\",
    "\n",
    "\n",
    "\n",
    "    ",
    "  ",
    "\t",
    " ",
    " ",
    "#c",
    "$",
    "é",
    "\r",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|toks| {
        let mut s = String::new();
        for t in toks {
            s.push_str(t);
            if !matches!(t, "\n" | "    " | "  " | "\t" | " " | "." | "(" | "[") {
                s.push(' ');
            }
        }
        s
    })
}

/// Python-ish lines with a proper indentation structure.
fn structured_program() -> impl Strategy<Value = String> {
    let stmt = prop::sample::select(vec![
        "x = 1",
        "y = x + 2 * 3",
        "m = get_empty_affordance_map()",
        "m[x, y, 3] = 1",
        "m[:, :, 0:5] = 0.5",
        "m[m > 0.2] = 1",
        "o = parse_query_obj('mug')",
        "p = o.position + [1, 0, 0]",
        "a, b, c = p",
        "l = [i * i for i in range(5) if i]",
        "d = {'k': l}",
        "x += 1",
        "print(x, l)",
        "import numpy as np",
        "v = np.linalg.norm(np.array(p) - 1)",
        "z = np.mean(o.aabb, axis=0)",
        "s = 'abc'.upper()",
        "pass",
        "x = x - y",
        "t = (1, 2)[x % 2]",
        "m[0] += 1",
        "l.append(x)",
        "q = [v for v in l if v > 1]",
        "x = min(x, 10)",
    ]);
    let header = prop::sample::select(vec![
        "if x > 0:",
        "for i in range(3):",
        "while x < 5:",
        "for k in l[:3]:",
        "if m[x, 0, 0] < 1 and x:",
    ]);
    let line = prop_oneof![3 => stmt.prop_map(|l| (l, false)), 1 => header.prop_map(|l| (l, true))];
    // (how many levels to dedent, line): indentation is kept valid so most
    // programs parse and actually run.
    prop::collection::vec((0usize..3, line), 1..25).prop_map(|lines| {
        let mut s = String::from(
            "x = 1\ny = 2\nm = get_empty_affordance_map()\no = parse_query_obj('cup')\np = o.position\nl = [1, 2]\n",
        );
        let mut depth = 0usize;
        let mut after_header = false;
        for (dedent, (l, is_header)) in lines {
            if after_header {
                depth += 1;
            } else {
                depth = depth.saturating_sub(dedent);
            }
            s.push_str(&"    ".repeat(depth));
            s.push_str(l);
            s.push('\n');
            after_header = is_header;
        }
        if after_header {
            s.push_str(&"    ".repeat(depth + 1));
            s.push_str("pass\n");
        }
        s
    })
}

/// Random expressions over numpy arrays, lists, strings and host objects:
/// exercises the built-in functions with odd argument combinations.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "-1",
        "3",
        "-7",
        "100",
        "2.5",
        "-0.5",
        "1e9",
        "float('nan')",
        "float('inf')",
        "True",
        "None",
        "'x'",
        "a",
        "f",
        "m",
        "l",
        "s",
        "o",
        "b",
        "t",
        "d",
        "np.pi",
        "[]",
        "()",
        "[1, 2, 3]",
        "(0, 1)",
        "[[1, 2], [3, 4]]",
        "-9223372036854775807",
        "o.position",
        "o.aabb",
        "m.shape",
    ])
    .prop_map(str::to_string);
    leaf.prop_recursive(4, 40, 4, |inner| {
        let func = prop::sample::select(vec![
            "np.zeros",
            "np.ones",
            "np.array",
            "np.arange",
            "np.linspace",
            "np.mean",
            "np.sum",
            "np.max",
            "np.min",
            "np.argmax",
            "np.clip",
            "np.where",
            "np.dot",
            "np.cross",
            "np.linalg.norm",
            "np.stack",
            "np.concatenate",
            "np.reshape",
            "np.round",
            "np.sqrt",
            "np.abs",
            "np.maximum",
            "np.isclose",
            "np.unique",
            "np.nonzero",
            "np.full",
            "np.eye",
            "np.transpose",
            "np.zeros_like",
            "np.any",
            "np.argwhere",
            "np.std",
            "np.sort",
            "np.expand_dims",
            "np.floor",
            "np.vstack",
            "np.outer",
            "len",
            "range",
            "int",
            "float",
            "str",
            "sorted",
            "list",
            "tuple",
            "zip",
            "enumerate",
            "min",
            "max",
            "sum",
            "abs",
            "round",
            "isinstance",
            "bool",
            "repr",
            "dict",
            "any",
            "all",
            "reversed",
            "math.sqrt",
            "math.floor",
            "math.atan2",
            "cm2index",
            "parse_query_obj",
            "euler2quat",
        ]);
        let method = prop::sample::select(vec![
            ".sum()",
            ".mean(axis=0)",
            ".max(axis=-1)",
            ".reshape(-1)",
            ".reshape(2, -1)",
            ".astype(int)",
            ".astype(bool)",
            ".tolist()",
            ".copy()",
            ".T",
            ".shape",
            ".flatten()",
            ".item()",
            ".ndim",
            ".upper()",
            ".split()",
            ".index(1)",
            ".count(2)",
            ".keys()",
            ".get(1)",
            ".any()",
            ".all()",
            ".argmin()",
            ".nonzero()",
            ".clip(0, 1)",
            ".round(1)",
            ".dtype",
            ".size",
            ".position",
        ]);
        let binop = prop::sample::select(vec![
            "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", "&", "|", "^", "and", "or",
            "in", "is", "@", "<<", ">>",
        ]);
        let kw = prop::sample::select(vec![
            "",
            ", axis=0",
            ", axis=1",
            ", axis=-1",
            ", dtype=int",
            ", dtype=bool",
        ]);
        prop_oneof![
            (inner.clone(), binop, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (func, prop::collection::vec(inner.clone(), 0..4), kw).prop_map(|(f, args, kw)| {
                let kw = if args.is_empty() {
                    kw.trim_start_matches(", ")
                } else {
                    kw
                };
                format!("{f}({}{kw})", args.join(", "))
            }),
            (inner.clone(), method).prop_map(|(a, m)| format!("({a}){m}")),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(a, idx)| format!("({a})[{}]", idx.join(", "))),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a})[{b}:{c}]")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("(not ({a}))")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("[v * 2 for v in {a} if v != {b}]")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(a, b, c)| format!("({a} if {b} else {c})")),
        ]
    })
}

const EXPR_PRELUDE: &str = "import numpy as np
import math
a = np.array([1, 2, 3])
f = np.array([[0.5, 1.5, -2.0], [3.0, 0.0, 1.0]])
m = get_empty_affordance_map()
l = [1, 2.5, 'x', None]
s = 'blue block'
o = parse_query_obj('mug')
b = f > 0.5
t = (1, 2)
d = {'k': 1, 2: [3]}
";

#[derive(Debug, Clone)]
enum Mutation {
    DeleteChar(usize),
    InsertChar(usize, char),
    ReplaceChar(usize, char),
    DeleteToken(usize),
    InsertToken(usize, &'static str),
    ReplaceToken(usize, &'static str),
    SwapLines(usize, usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop::sample::select(vec![
        ' ', '\n', '\t', '(', ')', '[', ']', ':', ',', '.', '=', '-', '0', '9', 'x', '\'', '"',
        '#', '\\', '*', 'é',
    ]);
    let tok = prop::sample::select(TOKENS);
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteChar),
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        any::<usize>().prop_map(Mutation::DeleteToken),
        (any::<usize>(), tok.clone()).prop_map(|(i, t)| Mutation::InsertToken(i, t)),
        (any::<usize>(), tok).prop_map(|(i, t)| Mutation::ReplaceToken(i, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn char_positions(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).collect()
}

/// Byte ranges of "words" (maximal runs of non-space characters).
fn token_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(st)) => {
                out.push((st, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

fn apply(src: &str, m: &Mutation) -> String {
    let mut s = src.to_string();
    let pos = char_positions(&s);
    let toks = token_ranges(&s);
    match *m {
        Mutation::DeleteChar(i) if !pos.is_empty() => {
            let p = pos[i % pos.len()];
            s.remove(p);
        }
        Mutation::InsertChar(i, c) => {
            let p = if pos.is_empty() {
                0
            } else {
                pos[i % pos.len()]
            };
            s.insert(p, c);
        }
        Mutation::ReplaceChar(i, c) if !pos.is_empty() => {
            let p = pos[i % pos.len()];
            s.remove(p);
            s.insert(p, c);
        }
        Mutation::DeleteToken(i) if !toks.is_empty() => {
            let (a, b) = toks[i % toks.len()];
            s.replace_range(a..b, "");
        }
        Mutation::InsertToken(i, t) => {
            let p = if pos.is_empty() {
                0
            } else {
                pos[i % pos.len()]
            };
            s.insert_str(p, t);
        }
        Mutation::ReplaceToken(i, t) if !toks.is_empty() => {
            let (a, b) = toks[i % toks.len()];
            s.replace_range(a..b, t);
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = s.split('\n').collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            s = lines.join("\n");
        }
        Mutation::DuplicateLine(a) => {
            let mut lines: Vec<&str> = s.split('\n').collect();
            let n = lines.len();
            let l = lines[a % n];
            lines.insert(a % n, l);
            s = lines.join("\n");
        }
        _ => {}
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // Failures print the minimal input; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_strings_never_panic(src in ".{0,200}") {
        parse_and_run(&src, Vec::new());
    }

    #[test]
    fn arbitrary_bytes_as_lossy_utf8_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let src = String::from_utf8_lossy(&bytes).into_owned();
        parse_and_run(&src, Vec::new());
    }

    #[test]
    fn token_soup_never_panics(src in token_soup()) {
        parse_and_run(&src, Vec::new());
    }

    #[test]
    fn structured_programs_never_panic(src in structured_program()) {
        parse_and_run(&src, Vec::new());
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..3,
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let base = [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3][which];
        let mut src = base.to_string();
        for m in &muts {
            src = apply(&src, m);
        }
        let predefined = if which == 2 { example3_predefined() } else { Vec::new() };
        parse_and_run(&src, predefined);
    }

    #[test]
    fn random_expressions_never_panic(
        exprs in prop::collection::vec(expression(), 1..4),
        target in prop::sample::select(vec!["r", "m[1, 2, 3]", "m[:, 0]", "a[0]", "l[1]", "d['k']", "m[b]", "r, q"]),
    ) {
        let mut src = EXPR_PRELUDE.to_string();
        for e in &exprs {
            src.push_str(&format!("{target} = {e}\nprint({e})\n"));
        }
        parse_and_run(&src, Vec::new());
    }

    #[test]
    fn pure_programs_without_host_never_panic(src in structured_program()) {
        if let Ok(p) = parse(&src)
            && let Err(e) = run(&p, &mut NoHost, &fuzz_limits(), Vec::new())
        {
            check_span(&src, &e);
        }
    }
}

#[test]
fn unmutated_examples_run() {
    for (i, src) in [EXAMPLE_1, EXAMPLE_2, EXAMPLE_3].iter().enumerate() {
        let predefined = if i == 2 {
            example3_predefined()
        } else {
            Vec::new()
        };
        let p = parse(src).unwrap();
        run(&p, &mut MockHost::new(), &Limits::default(), predefined)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
