#!/usr/bin/env bash
# The GPU figures of issue 4, on a CUDA machine with no Vulkan loader installed (the device
# tool's H100/H200): unpack the loader packages in .gl/, then run the release binaries in
# .devbin/ (built elsewhere:
#   cargo build --release -p valuescape-cli
#   cargo build --release -p valuescape-gpu --example gpu_bench
#   cargo test --release -p valuescape-gpu --test parity --no-run   # copied to .devbin/parity
# and, optionally, the binaries of an earlier commit in .devbin/old/ to compare on the same
# machine), then CuPy's peer timing. Output goes to stdout and, when $OUT is set, to $OUT/*.txt.
set -uo pipefail
OUT=${OUT:-/tmp/vs-out}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
B=.devbin
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
nproc; lscpu | grep 'Model name'
echo "== parity tests on this GPU, with 64^3 and 100^3 added"
VALUESCAPE_PARITY_SIZES=64,100 timeout 150 $B/parity 2>&1 | grep -v XDG | tail -30 | tee "$OUT/parity_tests.txt"
echo "== gpu_bench (stage times, GPU vs CPU reference, single-threaded CPU)"
timeout 200 $B/gpu_bench --sizes 64,100,128,256 --reps 9 --cpu-max 128 2>&1 | tee "$OUT/gpu_bench.txt"
if [ -x $B/old/gpu_bench ]; then
  echo "== the previous commit's gpu_bench, same machine"
  timeout 100 $B/old/gpu_bench --sizes 100,256 --reps 5 --cpu-max 0 2>&1 | tee "$OUT/gpu_bench_old.txt"
fi
echo "== valuescape bench: whole cycle (programs + compose + plan) over the 11 presets"
for g in 64 100 128; do
  for b in gpu cpu; do
    echo "-- $b $g"; timeout 60 $B/valuescape bench --grid $g --runs 3 --backend $b 2>&1 | grep -v XDG
  done
done | tee "$OUT/cli_bench.txt"
if [ -x $B/old/valuescape ]; then
  echo "-- previous commit, gpu 100" | tee -a "$OUT/cli_bench.txt"
  timeout 60 $B/old/valuescape bench --grid 100 --runs 3 --backend gpu 2>&1 | tail -1 | tee -a "$OUT/cli_bench.txt"
fi
for b in gpu cpu; do
  echo "-- mppi $b 100"; timeout 60 $B/valuescape bench --grid 100 --runs 3 --planner mppi --backend $b 2>&1 | tail -1
done | tee -a "$OUT/cli_bench.txt"
echo "-- gpu 256 (1 run)" | tee -a "$OUT/cli_bench.txt"
timeout 100 $B/valuescape bench --grid 256 --runs 1 --backend gpu 2>&1 | grep -v XDG | tee -a "$OUT/cli_bench.txt"
echo "== CuPy / scipy peer: the same cost map"
PYTHONUNBUFFERED=1 timeout 90 python3 tests/reference/cupy_cost_bench.py --sizes 64,100,128,256 --reps 9 --scipy-max 100 2>&1 | tee "$OUT/cupy.txt"
