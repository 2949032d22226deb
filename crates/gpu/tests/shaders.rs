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
        validate(name, src);
    }
}

/// Bevy's shader imports the render shaders use, as minimal stand-ins with the fields they
/// read (Bevy composes the real ones when it builds the pipeline).
const BEVY_STUBS: &[(&str, &str)] = &[
    (
        "#import bevy_pbr::forward_io::VertexOutput",
        "struct VertexOutput { @builtin(position) position: vec4<f32>, \
         @location(0) world_position: vec4<f32>, @location(1) world_normal: vec3<f32> }",
    ),
    (
        "#import bevy_pbr::mesh_view_bindings::view",
        "struct View { clip_from_world: mat4x4<f32>, world_position: vec3<f32> } \
         @group(0) @binding(0) var<uniform> view: View;",
    ),
];

#[test]
fn render_shaders_validate_with_bevys_imports_stubbed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shaders/render");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = e.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_none_or(|x| x != "wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut s = src.replace("#{MATERIAL_BIND_GROUP}", "2");
        for (import, stub) in BEVY_STUBS {
            s = s.replace(import, stub);
        }
        assert!(
            !s.contains("#import"),
            "{}: an import without a stub here",
            path.display()
        );
        validate(&path.display().to_string(), &s);
        n += 1;
    }
    assert!(n > 0, "no render shader found in {dir}");
}

fn validate(name: &str, src: &str) {
    {
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

/// The storage buffers each compute kernel binds, counted by naga's analysis of what the
/// entry point uses: the greatest is what `GpuBackend` asks of a device, so a kernel that
/// binds one more fails here instead of failing pipeline creation on a device with
/// exactly the old number.
#[test]
fn the_backend_asks_for_as_many_storage_buffers_as_the_hungriest_kernel_binds() {
    let mut most = (0u32, String::new());
    for (name, src) in shaders::ALL {
        let module = naga::front::wgsl::parse_str(src)
            .unwrap_or_else(|e| panic!("{name} does not parse:\n{}", e.emit_to_string(src)));
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name} does not validate:\n{}", e.emit_to_string(src)));
        for (k, ep) in module.entry_points.iter().enumerate() {
            if ep.stage != naga::ShaderStage::Compute {
                continue;
            }
            let uses = info.get_entry_point(k);
            let count = module
                .global_variables
                .iter()
                .filter(|(h, gv)| {
                    matches!(gv.space, naga::AddressSpace::Storage { .. }) && !uses[*h].is_empty()
                })
                .count() as u32;
            if count > most.0 {
                most = (count, format!("{name}'s {}", ep.name));
            }
        }
    }
    assert_eq!(
        most.0,
        valuescape_gpu::GpuBackend::STORAGE_BUFFERS_NEEDED,
        "{} binds the most storage buffers",
        most.1
    );
}
