//! Device-side timing of compute passes with timestamp queries.

use crate::GpuError;
use crate::util;

/// Timestamps around labelled compute passes (needs `Features::TIMESTAMP_QUERY`).
///
/// Pass [`GpuTimer::writes`] as a pass's `timestamp_writes`; after the work is submitted,
/// [`GpuTimer::read`] gives each labelled pass's device time.
#[derive(Debug)]
pub struct GpuTimer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    capacity: u32,
    labels: Vec<&'static str>,
    period_ns: f32,
}

impl GpuTimer {
    /// A timer for up to `passes` passes; `None` when the device lacks timestamp queries.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, passes: u32) -> Option<GpuTimer> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) || passes == 0 {
            return None;
        }
        let capacity = passes * 2;
        let set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("stage timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        let resolve = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamps"),
            size: capacity as u64 * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        Some(GpuTimer {
            set,
            resolve,
            capacity,
            labels: Vec::new(),
            period_ns: queue.get_timestamp_period(),
        })
    }

    /// Forgets the labelled passes (to time another submission).
    pub fn reset(&mut self) {
        self.labels.clear();
    }

    /// Timestamp writes for the next pass, labelled; `None` once the timer is full.
    pub fn writes(&mut self, label: &'static str) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        let i = self.labels.len() as u32;
        if 2 * i + 2 > self.capacity {
            return None;
        }
        self.labels.push(label);
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(2 * i),
            end_of_pass_write_index: Some(2 * i + 1),
        })
    }

    /// Records the resolve of the written timestamps (call after the timed passes).
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        let n = 2 * self.labels.len() as u32;
        if n > 0 {
            encoder.resolve_query_set(&self.set, 0..n, &self.resolve, 0);
        }
    }

    /// Each labelled pass's device time in milliseconds, summed per label, in first-seen
    /// order (after the encoder with [`GpuTimer::resolve`] was submitted).
    pub async fn read_async(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<Vec<(&'static str, f64)>, GpuError> {
        let n = 2 * self.labels.len();
        let ticks: Vec<u64> = util::read(device, queue, &self.resolve, n).await?;
        let mut out: Vec<(&'static str, f64)> = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            let dt =
                ticks[2 * i + 1].saturating_sub(ticks[2 * i]) as f64 * self.period_ns as f64 * 1e-6;
            match out.iter_mut().find(|(l, _)| l == label) {
                Some((_, t)) => *t += dt,
                None => out.push((label, dt)),
            }
        }
        Ok(out)
    }

    /// Blocking [`GpuTimer::read_async`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<Vec<(&'static str, f64)>, GpuError> {
        util::block_on(self.read_async(device, queue))
    }
}
