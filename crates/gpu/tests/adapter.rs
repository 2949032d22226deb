//! The headless device exists, or the test FAILS saying why (GPU tests never skip).

mod common;

use valuescape_gpu::GpuError;

#[test]
fn headless_adapter_is_found() {
    let c = common::ctx();
    assert!(!c.adapter_info.name.is_empty());
    let l = c.device.limits();
    assert!(
        l.max_storage_buffers_per_shader_stage
            >= valuescape_gpu::GpuBackend::STORAGE_BUFFERS_NEEDED,
        "the kernels bind up to {} storage buffers",
        valuescape_gpu::GpuBackend::STORAGE_BUFFERS_NEEDED
    );
    assert!(l.max_compute_invocations_per_workgroup >= 256);
}

#[test]
fn missing_adapter_error_says_what_to_install() {
    let msg = GpuError::NoAdapter("no Vulkan ICD".into()).to_string();
    assert!(
        msg.contains("no Vulkan ICD") && msg.contains("lavapipe"),
        "{msg}"
    );
}
