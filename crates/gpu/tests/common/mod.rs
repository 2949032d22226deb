//! Shared test support: one headless device per test binary, random scenes.
#![allow(dead_code)]

use std::sync::OnceLock;

use valuescape_core::cost::{self, CostInput, CostMaps, Movable};
use valuescape_core::field::Field;
use valuescape_core::grid::{Grid, Voxel};
use valuescape_core::paint::{Map, Painted};
use valuescape_gpu::GpuContext;

/// The device every GPU test uses. Panics (fails the test) with the reason when no adapter
/// exists: a GPU test never passes without running on a device.
pub fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::headless() {
        Ok(c) => {
            eprintln!("GPU tests run on: {}", c.describe());
            c
        }
        Err(e) => panic!(
            "GPU parity tests need a wgpu adapter and none was found: {e}. \
             These tests never skip; install Mesa's lavapipe (mesa-vulkan-drivers) to run them on the CPU."
        ),
    })
}

/// xorshift64*, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, m: usize) -> usize {
        (self.next() % m.max(1) as u64) as usize
    }
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

pub fn grid(size: [usize; 3]) -> Grid {
    Grid::new([0.0; 3], [1.0; 3], size).unwrap_or_else(|e| panic!("{e}"))
}

/// A random scene: a few target voxels (or a target box), avoidance boxes with random
/// values, scene-collision slabs, a start.
pub struct Scene {
    pub grid: Grid,
    pub affordance: Field,
    pub avoidance: Field,
    /// The same maps as the boxes that painted them.
    pub painted_affordance: Painted<f32>,
    pub painted_avoidance: Painted<f32>,
    pub collision: Vec<usize>,
    pub start: Voxel,
}

fn fill_box(f: &mut Field, p: &mut Painted<f32>, lo: [usize; 3], hi: [usize; 3], v: f32) {
    p.paint(lo, hi, v);
    for i in lo[0]..hi[0] {
        for j in lo[1]..hi[1] {
            for k in lo[2]..hi[2] {
                f.set([i, j, k], v);
            }
        }
    }
}

pub fn random_scene(size: [usize; 3], seed: u64) -> Scene {
    let g = grid(size);
    let mut r = Rng::new(seed);
    let mut affordance = Field::zeros(g);
    let mut painted_affordance = Painted::filled(g, 0.0);
    let n_targets = 1 + r.below(4);
    for _ in 0..n_targets {
        let t = [
            size[0] - 2 - r.below(size[0] / 4),
            r.below(size[1]),
            r.below(size[2]),
        ];
        fill_box(
            &mut affordance,
            &mut painted_affordance,
            t,
            t.map(|x| x + 1),
            1.0,
        );
    }
    if r.below(2) == 0 {
        // A target box too (more than DIRECT_SEEDS seeds on the CPU).
        let c = [size[0] * 3 / 4, r.below(size[1] - 3), r.below(size[2] - 3)];
        fill_box(
            &mut affordance,
            &mut painted_affordance,
            c,
            [c[0] + 3, c[1] + 3, c[2] + 3],
            1.0,
        );
    }
    let mut avoidance = Field::zeros(g);
    let mut painted_avoidance = Painted::filled(g, 0.0);
    for _ in 0..1 + r.below(4) {
        let lo = [2 + r.below(size[0] - 6), r.below(size[1]), r.below(size[2])];
        let hi = [
            (lo[0] + 1 + r.below(3)).min(size[0]),
            (lo[1] + 2 + r.below(size[1] / 2)).min(size[1]),
            (lo[2] + 2 + r.below(size[2] / 2)).min(size[2]),
        ];
        let v = if r.below(3) == 0 {
            0.3 + 0.7 * r.unit()
        } else {
            1.0
        };
        fill_box(&mut avoidance, &mut painted_avoidance, lo, hi, v);
    }
    let mut collision = Vec::new();
    // A table slab and a random block of scene collision.
    for i in 0..size[0] {
        for j in 0..size[1] {
            collision.push(g.index([i, j, 0]));
        }
    }
    let lo = [
        r.below(size[0] - 4),
        r.below(size[1] - 4),
        1 + r.below(size[2] - 5),
    ];
    for i in lo[0]..lo[0] + 4 {
        for j in lo[1]..lo[1] + 4 {
            for k in lo[2]..lo[2] + 4 {
                collision.push(g.index([i, j, k]));
            }
        }
    }
    let start = [1 + r.below(3), r.below(size[1]), 1 + r.below(size[2] - 1)];
    Scene {
        grid: g,
        affordance,
        avoidance,
        painted_affordance,
        painted_avoidance,
        collision,
        start,
    }
}

/// The CPU composition of a scene.
pub fn cpu_maps(sc: &Scene, movable: Movable<'_>) -> CostMaps {
    cost::compose(&CostInput {
        affordance: &Map::from(sc.affordance.clone()),
        avoidance: &Map::from(sc.avoidance.clone()),
        collision: &sc.collision,
        movable,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}
