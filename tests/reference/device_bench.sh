#!/usr/bin/env bash
# The GPU figures of issue 4, on a CUDA machine with no Vulkan loader installed (the device
# tool's H100): unpack the loader packages in .gl/, then run the release binaries in .devbin/
# (built elsewhere: `cargo build --release -p valuescape-cli -p valuescape-gpu --example gpu_bench`)
# and CuPy's peer timing. Output goes to stdout and, when $OUT is set, to $OUT/*.txt.
set -uo pipefail
OUT=${OUT:-/tmp/vs-out}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
B=.devbin
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
nproc; lscpu | grep 'Model name'
echo "== gpu_bench (stage times, GPU vs CPU reference, single-threaded CPU)"
timeout 200 $B/gpu_bench --sizes 64,100,128,256 --reps 9 --cpu-max 128 2>&1 | tee "$OUT/gpu_bench.txt"
echo "== valuescape bench: whole compose + plan cycle over the 11 presets"
for g in 64 100 128 256; do
  timeout 60 $B/valuescape bench --grid $g --runs 5 --backend gpu 2>&1 | tail -1 | sed "s/^/gpu $g: /"
  [ $g -le 128 ] && timeout 60 $B/valuescape bench --grid $g --runs 5 --backend cpu 2>&1 | tail -1 | sed "s/^/cpu $g: /"
done | tee "$OUT/cli_bench.txt"
timeout 60 $B/valuescape bench --grid 100 --runs 5 --backend gpu 2>&1 | tee "$OUT/cli_bench_100_gpu.txt"
for p in mppi; do for b in gpu cpu; do
  timeout 60 $B/valuescape bench --grid 100 --runs 3 --planner $p --backend $b 2>&1 | tail -1 | sed "s/^/$p $b 100: /"
done; done | tee -a "$OUT/cli_bench.txt"
echo "== CuPy / scipy peer: the same cost map"
PYTHONUNBUFFERED=1 timeout 120 python3 tests/reference/cupy_cost_bench.py --sizes 64,100,128,256 --reps 9 --scipy-max 128 2>&1 | tee "$OUT/cupy.txt"
echo "== scipy parity of the GPU backend's cost maps (blocks_and_mug at 100^3)"
rm -rf /tmp/npy; timeout 60 $B/valuescape plan --scene blocks_and_mug --backend gpu --npy /tmp/npy >/dev/null && \
  timeout 60 python3 tests/reference/scipy_cost_parity.py /tmp/npy 2>&1 | tee "$OUT/parity.txt"
