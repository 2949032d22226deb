"""Peer timing for the GPU benchmark (optional; needs numpy, scipy and CuPy on a CUDA machine):
the VoxPoser cost map -- exact EDT of the target, Gaussian (sigma 10) of the obstacles, the two
min-max normalisations -- with CuPy's GPU ndimage, on the same synthetic tabletop scene that
`cargo run --release -p valuescape-gpu --example gpu_bench` uses (a 3^3 target, an avoidance
wall, a two-voxel table slab).

    python3 tests/reference/cupy_cost_bench.py [--sizes 64,100,128,256] [--reps 9] [--scipy-max 128]

Prints one Markdown row per size: CuPy median ms (CUDA events around the whole map), scipy
median ms where the size is at most --scipy-max, and the largest difference between the two.
"""
import argparse, time
import numpy as np

def scene(n):
    at = lambda f: min(int(f * n), n - 1)
    target = np.zeros((n, n, n), np.float32)
    target[at(0.8) - 1:at(0.8) + 2, at(0.5) - 1:at(0.5) + 2, at(0.3) - 1:at(0.3) + 2] = 1
    obst = np.zeros((n, n, n), np.float32)
    obst[at(0.5):at(0.5) + 2, at(0.2):at(0.8), 0:at(0.6)] = 1
    obst[:, :, 0:2] = 1
    return target, obst

def cost(xp, ndi, target, obst):
    def norm(a):
        lo, hi = a.min(), a.max()
        return (a - lo) / (hi - lo)
    edt = ndi.distance_transform_edt(1 - target)
    g = ndi.gaussian_filter(obst, sigma=10)
    return norm(2 * norm(edt) + norm(g))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', default='64,100,128,256')
    ap.add_argument('--reps', type=int, default=9)
    ap.add_argument('--scipy-max', type=int, default=128)
    a = ap.parse_args()
    import cupy as cp
    import cupyx.scipy.ndimage as cndi
    import scipy.ndimage as sndi
    print(f"CuPy {cp.__version__} on {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}")
    print("| grid | CuPy cost map ms | scipy cost map ms | max abs diff |\n|---|---:|---:|---:|")
    for n in [int(s) for s in a.sizes.split(',')]:
        t_np, o_np = scene(n)
        t, o = cp.asarray(t_np), cp.asarray(o_np)
        out = cost(cp, cndi, t, o)  # warm-up (kernel compilation)
        cp.cuda.Device().synchronize()
        ts = []
        for _ in range(a.reps):
            s, e = cp.cuda.Event(), cp.cuda.Event()
            s.record(); out = cost(cp, cndi, t, o); e.record(); e.synchronize()
            ts.append(cp.cuda.get_elapsed_time(s, e))
        gpu = float(np.median(ts))
        cpu, diff = '-', '-'
        if n <= a.scipy_max:
            cs = []
            for _ in range(3):
                t0 = time.perf_counter(); ref = cost(np, sndi, t_np, o_np); cs.append((time.perf_counter() - t0) * 1e3)
            cpu = f"{np.median(cs):.1f}"
            diff = f"{float(np.abs(cp.asnumpy(out) - ref).max()):.1e}"
        print(f"| {n}^3 | {gpu:.2f} | {cpu} | {diff} |", flush=True)

if __name__ == '__main__':
    main()
