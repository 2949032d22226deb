set -uo pipefail
OUT=${OUT:-/tmp/vs-out}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
B=.devbin
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
VALUESCAPE_PARITY_SIZES=64,100 timeout 100 $B/parity 2>&1 | grep -v XDG | tail -14 | tee "$OUT/parity_tests.txt"
for r in 1 2; do timeout 120 $B/gpu_bench --sizes 64,100,128,256 --reps 9 --cpu-max 0 2>&1 | tee "$OUT/gpu_bench_$r.txt"; done
for g in 100 128; do echo "-- gpu $g"; timeout 60 $B/valuescape bench --grid $g --runs 3 --backend gpu 2>&1 | grep -v XDG; done | tee "$OUT/cli_bench.txt"
