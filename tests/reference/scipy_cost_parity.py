"""Cross-check of Valuescape's cost map against scientific Python (optional; needs numpy and
scipy): the cost VoxPoser composes is recomputed with scipy.ndimage from the affordance and
obstacle maps the CLI wrote, and compared with Valuescape's cost.npy.

    valuescape plan --scene blocks_and_mug --npy out/
    python3 tests/reference/scipy_cost_parity.py out/
"""
import numpy as np, time, sys
from scipy.ndimage import distance_transform_edt, gaussian_filter
def norm(a):
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else a
worst = 0
for step in sorted(__import__('os').listdir(sys.argv[1])):
    d = sys.argv[1] + '/' + step
    aff = np.load(d + '/affordance.npy'); obst = np.load(d + '/obstacle.npy'); cost = np.load(d + '/cost.npy')
    target = (aff == 1).astype(np.float64)
    if target.sum() == 0: continue
    t = time.perf_counter()
    edt = distance_transform_edt(1 - target)
    g = gaussian_filter(obst.astype(np.float64), sigma=10)
    ref = norm(2 * norm(edt) + norm(g))
    dt = (time.perf_counter() - t) * 1000
    err = np.abs(ref - cost).max()
    worst = max(worst, err)
    print(f"{step}: max |scipy - valuescape| = {err:.2e}   scipy cost map {dt:.0f} ms")
print("worst", worst)
sys.exit(0 if worst < 1e-5 else 1)
