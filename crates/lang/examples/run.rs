//! Runs a map program read from a file (or stdin) with no host and prints
//! its output, its error, or its `ret_val`.
//!
//! `cargo run -p valuescape-lang --example run -- program.py`
use std::io::Read;

use valuescape_lang::{Limits, NoHost, parse, run};

fn main() {
    let mut src = String::new();
    let read = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path).map(|s| src = s),
        None => std::io::stdin().read_to_string(&mut src).map(|_| ()),
    };
    if let Err(e) = read {
        eprintln!("cannot read program: {e}");
        std::process::exit(2);
    }
    let result = parse(&src).and_then(|p| run(&p, &mut NoHost, &Limits::default(), Vec::new()));
    match result {
        Ok(out) => {
            for line in &out.output {
                println!("{line}");
            }
            if let Some(v) = out.get("ret_val") {
                println!("ret_val = {v:?}");
            }
            eprintln!("({} operations)", out.ops);
        }
        Err(e) => {
            eprintln!("{e}");
            if let Some(line) = src.lines().nth(e.span.line.saturating_sub(1) as usize) {
                eprintln!("    {line}");
                eprintln!("    {}^", " ".repeat(e.span.col.saturating_sub(1) as usize));
            }
            std::process::exit(1);
        }
    }
}
