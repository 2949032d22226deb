//! Small wgpu helpers shared by the pipelines: pipelines from WGSL, buffers, bind groups,
//! dispatch sizes, and reading buffers back (async, with blocking wrappers on native).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use wgpu::util::DeviceExt;

use crate::GpuError;

/// Storage usage for buffers the kernels write and the host may copy from or clear.
pub(crate) const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A compute pipeline with an automatic layout for `entry` of `source`.
pub(crate) fn pipeline(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    entry: &str,
) -> wgpu::ComputePipeline {
    pipeline_with(device, label, source, entry, Default::default())
}

/// [`pipeline`] with values for the shader's `override` constants, and without wgpu's
/// zeroing of workgroup memory at the start of every workgroup: for kernels that write all
/// the workgroup memory they read (a tiled kernel's zeroing would otherwise cost as much
/// as a block that has nothing to do).
pub(crate) fn pipeline_tuned(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    entry: &str,
    constants: &[(&str, f64)],
) -> wgpu::ComputePipeline {
    pipeline_with(
        device,
        label,
        source,
        entry,
        wgpu::PipelineCompilationOptions {
            constants,
            zero_initialize_workgroup_memory: false,
        },
    )
}

fn pipeline_with(
    device: &wgpu::Device,
    label: &str,
    source: &str,
    entry: &str,
    options: wgpu::PipelineCompilationOptions<'_>,
) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: options,
        cache: None,
    })
}

/// A bind group for group 0 of `pipeline` with `(binding, buffer)` entries.
pub(crate) fn bind(
    device: &wgpu::Device,
    pipeline: &wgpu::ComputePipeline,
    entries: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let layout = pipeline.get_bind_group_layout(0);
    let entries: Vec<wgpu::BindGroupEntry<'_>> = entries
        .iter()
        .map(|(b, buf)| wgpu::BindGroupEntry {
            binding: *b,
            resource: buf.as_entire_binding(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &layout,
        entries: &entries,
    })
}

/// A uniform buffer holding `value`.
pub(crate) fn uniform<T: bytemuck::Pod>(device: &wgpu::Device, value: &T) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("params"),
        contents: bytemuck::bytes_of(value),
        usage: wgpu::BufferUsages::UNIFORM,
    })
}

/// A storage buffer initialised with `data` (at least 4 bytes, so empty lists bind).
pub(crate) fn storage_init<T: bytemuck::Pod>(
    device: &wgpu::Device,
    label: &str,
    data: &[T],
) -> wgpu::Buffer {
    let bytes: &[u8] = bytemuck::cast_slice(data);
    let pad = [0u8; 4];
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: if bytes.is_empty() { &pad } else { bytes },
        usage: STORAGE,
    })
}

/// An uninitialised (zeroed) storage buffer of `bytes` bytes.
pub(crate) fn storage(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: STORAGE,
        mapped_at_creation: false,
    })
}

/// Storage buffers ([`STORAGE`] usage) given back for reuse, so that a loop that composes
/// and plans every frame does not have the driver allocate and zero a dozen grid-sized
/// buffers each time. A buffer taken holds whatever its last user left: every taker writes
/// or clears each word it reads before reading it. Only an owner that knows no other handle
/// to a buffer is still used gives it back (after its last submission: the queue runs
/// submissions in order, so a later one cannot overtake the work that used it). A take
/// that finds no buffer of its size drops the large ones of other sizes (the grid changed:
/// they would otherwise stay allocated), and at most [`POOL_KEPT`] buffers are kept (the oldest go
/// first). So the pool holds about one step's buffers between steps, where they used to be
/// freed, until [`BufferPool::clear`] (`GpuBackend::release_buffers`); each set of pipelines
/// has its own pool, on its own device.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: Mutex<Vec<wgpu::Buffer>>,
    /// Set: every take makes a new buffer and nothing is kept (the benchmark's comparison).
    off: std::sync::atomic::AtomicBool,
}

/// Most buffers a [`BufferPool`] keeps: two compositions' and two plans' worth.
const POOL_KEPT: usize = 24;
/// Kept buffers of at least this size go when a take finds none of its size.
const POOL_DROP_BYTES: u64 = 1 << 20;

impl BufferPool {
    /// A kept storage buffer of `bytes` bytes (at least 4), or a new one labelled `label`.
    pub(crate) fn take(&self, device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
        let bytes = bytes.max(4);
        let kept = if self.is_off() {
            None
        } else {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let found = free.iter().position(|b| b.size() == bytes);
            if found.is_none() {
                free.retain(|b| b.size() < POOL_DROP_BYTES);
            }
            found.map(|i| free.remove(i))
        };
        kept.unwrap_or_else(|| storage(device, label, bytes))
    }

    /// Keeps `buffers` for later takes (storage buffers only; see the type for when).
    pub(crate) fn give(&self, buffers: impl IntoIterator<Item = wgpu::Buffer>) {
        if self.is_off() {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.extend(buffers.into_iter().filter(|b| b.usage() == STORAGE));
        let excess = free.len().saturating_sub(POOL_KEPT);
        free.drain(..excess);
    }

    /// Drops every kept buffer; returns their bytes.
    pub(crate) fn clear(&self) -> u64 {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *free)
            .iter()
            .map(wgpu::Buffer::size)
            .sum()
    }

    /// The bytes of the buffers kept.
    pub(crate) fn bytes(&self) -> u64 {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.iter().map(wgpu::Buffer::size).sum()
    }

    /// Turns reuse off (every take makes a new buffer) or back on.
    pub(crate) fn set_off(&self, off: bool) {
        self.off.store(off, std::sync::atomic::Ordering::Relaxed);
        if off {
            self.free.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    fn is_off(&self) -> bool {
        self.off.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Workgroup counts `(x, y)` covering `invocations` with `wg`-wide workgroups, within the
/// 65535-per-dimension limit (the kernels rebuild the linear index from both).
pub(crate) fn groups(invocations: usize, wg: u32) -> (u32, u32) {
    let total = invocations.div_ceil(wg as usize).max(1);
    let x = total.min(32_768);
    (x as u32, total.div_ceil(x) as u32)
}

/// Submits a command buffer holding a single dispatch.
pub(crate) fn submit_one(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    pipeline: &wgpu::ComputePipeline,
    bind_group: &wgpu::BindGroup,
    groups: (u32, u32),
) {
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        dispatch(&mut pass, pipeline, bind_group, groups);
    }
    queue.submit([enc.finish()]);
}

/// Records one dispatch.
pub(crate) fn dispatch(
    pass: &mut wgpu::ComputePass<'_>,
    pipeline: &wgpu::ComputePipeline,
    bind_group: &wgpu::BindGroup,
    (x, y): (u32, u32),
) {
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    pass.dispatch_workgroups(x, y, 1);
}

/// Checks that buffers of `bytes` fit the device's limits.
pub(crate) fn check_size(device: &wgpu::Device, bytes: u64) -> Result<(), GpuError> {
    let l = device.limits();
    let max = l.max_storage_buffer_binding_size.min(l.max_buffer_size);
    if bytes > max {
        return Err(GpuError::TooLarge(format!(
            "a {bytes}-byte buffer exceeds the device's {max}-byte storage binding limit"
        )));
    }
    Ok(())
}

/// Checks an input slice's length.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), GpuError> {
    if expected == got {
        Ok(())
    } else {
        Err(GpuError::SizeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// A one-shot channel whose receiving end is a future (no executor needed).
struct Shared<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct Receiver<T>(Arc<Mutex<Shared<T>>>);

impl<T> Future for Receiver<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = match self.0.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn oneshot<T>() -> (impl FnOnce(T), Receiver<T>) {
    let shared = Arc::new(Mutex::new(Shared {
        value: None,
        waker: None,
    }));
    let tx = {
        let shared = shared.clone();
        move |v: T| {
            let mut s = match shared.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            s.value = Some(v);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    };
    (tx, Receiver(shared))
}

/// Waits for all submitted work (a no-op on WebGPU, where the browser drives the queue).
pub(crate) fn wait(device: &wgpu::Device) -> Result<(), GpuError> {
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map(|_| ())
        .map_err(|e| GpuError::Poll(e.to_string()))
}

/// Staging buffers kept for reuse, per device, on this thread (most [`STAGING_KEPT`]).
/// Allocating host-visible memory for every read-back was the slow part of reading maps
/// back (the driver pins fresh pages each time); a kept buffer is mapped again at once.
/// Devices are told apart by `wgpu::Device`'s equality, which compares ids only: devices of
/// two `wgpu::Instance`s can compare equal, so one thread must not read back from devices of
/// two instances (a kept buffer of the other would be used; wgpu-core panics). Each front
/// end has one device; tests that need two backends build them on one device.
const STAGING_KEPT: usize = 4;
/// Most bytes of staging buffers kept (the maps of a 256^3 plan are 193 MiB).
const STAGING_KEPT_BYTES: u64 = 256 << 20;

thread_local! {
    static STAGING: std::cell::RefCell<Vec<(wgpu::Device, wgpu::Buffer)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Drops this thread's kept staging buffers of `device`; returns their bytes.
pub(crate) fn clear_staging(device: &wgpu::Device) -> u64 {
    STAGING.with_borrow_mut(|pool| {
        let bytes = device_bytes(pool, device);
        pool.retain(|(d, _)| d != device);
        bytes
    })
}

/// The bytes of this thread's kept staging buffers of `device`.
pub(crate) fn staging_bytes(device: &wgpu::Device) -> u64 {
    STAGING.with_borrow(|pool| device_bytes(pool, device))
}

/// The bytes of the staging buffers in `pool` that belong to `device`.
fn device_bytes(pool: &[(wgpu::Device, wgpu::Buffer)], device: &wgpu::Device) -> u64 {
    pool.iter()
        .filter(|(d, _)| d == device)
        .map(|(_, b)| b.size())
        .sum()
}

/// A `MAP_READ | COPY_DST` buffer of at least `bytes` bytes: a kept one of this device's if
/// one is large enough (the smallest such), else a new one (rounded up to whole MiB above
/// 1 MiB, so that similar sizes share it).
fn take_staging(device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
    let kept = STAGING.with_borrow_mut(|pool| {
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, (d, b))| d == device && b.size() >= bytes)
            .min_by_key(|(_, (_, b))| b.size())
            .map(|(i, _)| i);
        best.map(|i| pool.swap_remove(i).1)
    });
    kept.unwrap_or_else(|| {
        let size = if bytes > 1 << 20 {
            bytes.next_multiple_of(1 << 20)
        } else {
            bytes
        };
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size: size.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    })
}

/// Keeps an unmapped staging buffer for the next read-back: only for the device last used
/// (other devices' buffers are dropped, so the pool keeps no other device alive), at most
/// [`STAGING_KEPT`] buffers and [`STAGING_KEPT_BYTES`] in all (the oldest go first).
fn keep_staging(device: &wgpu::Device, buffer: wgpu::Buffer) {
    if buffer.size() > STAGING_KEPT_BYTES {
        return;
    }
    STAGING.with_borrow_mut(|pool| {
        pool.retain(|(d, _)| d == device);
        pool.push((device.clone(), buffer));
        while pool.len() > STAGING_KEPT
            || pool.iter().map(|(_, b)| b.size()).sum::<u64>() > STAGING_KEPT_BYTES
        {
            pool.remove(0);
        }
    });
}

/// Reads several buffers back through ONE staging buffer and one mapping: `(buffer, bytes)`
/// each; returns each one's 32-bit words (`bytes` of them, rounded up to 4), copied once out
/// of the mapping. One trip to the device instead of one per buffer (in the browser, each
/// mapping is a turn of the event loop).
pub(crate) async fn read_many(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    parts: &[(&wgpu::Buffer, u64)],
) -> Result<Vec<Vec<u32>>, GpuError> {
    let sizes: Vec<u64> = parts
        .iter()
        .map(|(_, b)| (*b).max(4).next_multiple_of(4))
        .collect();
    let total: u64 = sizes.iter().sum::<u64>().max(4);
    let staging = take_staging(device, total);
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    let mut at = 0;
    for ((src, _), &n) in parts.iter().zip(&sizes) {
        enc.copy_buffer_to_buffer(src, 0, &staging, at, n);
        at += n;
    }
    queue.submit([enc.finish()]);
    let (tx, rx) = oneshot();
    staging.map_async(wgpu::MapMode::Read, 0..total, tx);
    wait(device)?;
    rx.await.map_err(|e| GpuError::Map(e.to_string()))?;
    let mut out = Vec::with_capacity(parts.len());
    {
        let view = staging.get_mapped_range(0..total);
        let mut at = 0usize;
        for &n in &sizes {
            let bytes = &view[at..at + n as usize];
            // Mapped ranges are aligned (wgpu maps at 8-byte offsets; parts are whole words).
            out.push(match bytemuck::try_cast_slice::<u8, u32>(bytes) {
                Ok(words) => words.to_vec(),
                Err(_) => bytemuck::pod_collect_to_vec(bytes),
            });
            at += n as usize;
        }
    }
    staging.unmap();
    keep_staging(device, staging);
    Ok(out)
}

/// The first `len` words of a [`read_many`] part as `f32` (reusing its allocation).
pub(crate) fn f32s(mut words: Vec<u32>, len: usize) -> Vec<f32> {
    words.truncate(len);
    words.into_iter().map(f32::from_bits).collect()
}

/// Reads `len` values of type `T` from the start of `src`.
pub(crate) async fn read<T: bytemuck::Pod>(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    src: &wgpu::Buffer,
    len: usize,
) -> Result<Vec<T>, GpuError> {
    let size = (len * size_of::<T>()) as u64;
    let mut parts = read_many(device, queue, &[(src, size)]).await?;
    let words = parts.pop().unwrap_or_default();
    let bytes: &[u8] = bytemuck::cast_slice(&words);
    Ok(bytemuck::pod_collect_to_vec(&bytes[..size as usize]))
}

/// Runs a future to completion on native targets (the work it waits for is already
/// submitted and polled, so this never parks for long).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// Order-preserving key of a float (as reduce.wgsl computes it).
#[cfg(test)]
pub(crate) fn key(x: f32) -> u32 {
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// Inverse of [`key`].
pub(crate) fn unkey(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 {
        k & 0x7fff_ffff
    } else {
        !k
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes come from what was given back, by size; a take of a size none has drops the
    /// large ones of other sizes (a grid that changed), not the small ones; with reuse off,
    /// nothing is kept. Fails without an adapter.
    #[test]
    fn the_pool_reuses_by_size_and_drops_stale_sizes() {
        let ctx = crate::GpuContext::headless().unwrap_or_else(|e| panic!("{e}"));
        let d = &ctx.device;
        let pool = BufferPool::default();
        let kept = |p: &BufferPool| -> Vec<u64> {
            let mut v: Vec<u64> = p
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|b| b.size())
                .collect();
            v.sort_unstable();
            v
        };
        let (big, small) = (4u64 << 20, 256u64);
        let a = pool.take(d, "a", big);
        let b = pool.take(d, "b", big);
        let c = pool.take(d, "c", small);
        let (a_id, b_id) = (a.clone(), b.clone());
        pool.give([a, b, c]);
        assert_eq!(kept(&pool), vec![small, big, big]);
        let again = pool.take(d, "again", big);
        assert!(
            again == a_id || again == b_id,
            "a kept buffer of the size is reused"
        );
        assert_eq!(kept(&pool), vec![small, big]);
        let other = pool.take(d, "other grid", 2 << 20);
        assert_eq!(other.size(), 2 << 20);
        assert_eq!(
            kept(&pool),
            vec![small],
            "the other grid's large buffers are dropped"
        );
        pool.give([pool.take(d, "d", small), pool.take(d, "d2", small)]);
        assert_eq!(pool.bytes(), 2 * small);
        assert_eq!(pool.clear(), 2 * small);
        assert!(kept(&pool).is_empty() && pool.bytes() == 0);
        pool.give([pool.take(d, "e", small)]);
        pool.set_off(true);
        assert!(kept(&pool).is_empty());
        pool.give([again, other]);
        assert!(kept(&pool).is_empty(), "nothing is kept with reuse off");
    }

    #[test]
    fn keys_preserve_order_and_invert() {
        let xs = [
            f32::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            1e-30,
            0.5,
            2.0,
            f32::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(key(w[0]) <= key(w[1]), "{} {}", w[0], w[1]);
        }
        for x in xs {
            assert_eq!(unkey(key(x)).to_bits(), x.to_bits());
        }
        assert_eq!(groups(10, 64), (1, 1));
        let (x, y) = groups(256 * 256 * 256, 256);
        assert!(x <= 65_535 && y <= 65_535 && x as usize * y as usize * 256 >= 1 << 24);
    }
}
