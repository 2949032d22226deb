//! The viewer as a native window: `cargo run --release -p valuescape-viewer [-- '#v1.<state>']`
//! (a playground link's hash opens the same view).

use valuescape_viewer::Bridge;
use valuescape_viewer::app::{ViewerOptions, build_app};

fn main() {
    let hash = std::env::args().nth(1).unwrap_or_default();
    let hash = match hash.split_once('#') {
        Some((_, h)) => format!("#{h}"),
        None => hash,
    };
    build_app(ViewerOptions {
        canvas: None,
        hash,
        bridge: Bridge::new(),
        title: "Valuescape".into(),
        tier: String::new(),
    })
    .run();
}
