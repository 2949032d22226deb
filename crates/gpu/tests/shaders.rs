//! Every WGSL file parses and validates with naga (no device needed).

use valuescape_gpu::shaders;

#[test]
fn every_shader_parses_and_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shaders");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut compiled: Vec<String> = shaders::ALL.iter().map(|(n, _)| n.to_string()).collect();
    compiled.sort();
    assert_eq!(
        on_disk, compiled,
        "every shader file is compiled into the crate"
    );

    for (name, src) in shaders::ALL {
        assert!(
            src.trim_start().starts_with("// "),
            "{name} starts with a header comment saying what it computes"
        );
        let module = naga::front::wgsl::parse_str(src)
            .unwrap_or_else(|e| panic!("{name} does not parse:\n{}", e.emit_to_string(src)));
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        v.validate(&module)
            .unwrap_or_else(|e| panic!("{name} does not validate:\n{}", e.emit_to_string(src)));
        assert!(!module.entry_points.is_empty(), "{name} has an entry point");
        // Browsers' WGSL compiler (Tint) rejects a float literal that f32 cannot represent,
        // e.g. 3.40282347e38 (just above f32::MAX), which naga accepts: the WebGPU tier then
        // has no pipelines at all.
        for tok in
            src.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '+' || c == '-'))
        {
            let t = tok.trim_start_matches(['-', '+']).trim_end_matches('f');
            if t.contains('.')
                && t.starts_with(|c: char| c.is_ascii_digit())
                && let Ok(v) = t.parse::<f64>()
            {
                assert!(
                    v <= f64::from(f32::MAX),
                    "{name}: the literal {tok} is outside f32's range (Tint rejects it)"
                );
            }
        }
    }
}
