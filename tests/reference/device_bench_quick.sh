#!/usr/bin/env bash
# The GPU figures of issue 4 in one call of the device tool (see device_bench.sh for the
# binaries in .devbin/ and the loader packages in .gl/): the parity tests at 64^3 and 100^3,
# gpu_bench (GPU only), the CLI's whole cycle, an earlier build's gpu_bench and CLI cycle on
# the same machine where .devbin/old/ holds them, and CuPy's cost map on the same GPU, with
# the SM clock sampled by `nvidia-smi dmon` throughout (it has been seen at 345 MHz when a
# run began). Output goes to stdout and to $OUT/*.txt.
set -uo pipefail
OUT=${OUT:-/tmp/vs-out}; mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
B=.devbin
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
nvidia-smi dmon -s pc -d 1 > "$OUT/dmon.txt" 2>&1 &
DMON=$!
VALUESCAPE_PARITY_SIZES=64,100 timeout 120 $B/parity 2>&1 | grep -v XDG | tail -16 | tee "$OUT/parity_tests.txt"
echo "== gpu_bench, GPU only"
timeout 150 $B/gpu_bench --sizes 64,100,128,256 --reps 9 --cpu-max 0 2>&1 | tee "$OUT/gpu_bench.txt"
if [ -x $B/old/gpu_bench ]; then
  echo "== the earlier build's gpu_bench, same machine"
  timeout 90 $B/old/gpu_bench --sizes 100,256 --reps 9 --cpu-max 0 2>&1 \
    | grep -E "adapter|compose|gaussian|edt|normalise|read back|value plan \(|value passes \||descent|cycle" | tee "$OUT/gpu_bench_old.txt"
fi
for g in 100 128; do
  echo "-- gpu $g"; timeout 60 $B/valuescape bench --grid $g --runs 3 --backend gpu 2>&1 | grep -v XDG
  if [ -x $B/old/valuescape ]; then
    echo "-- earlier build, gpu $g"; timeout 60 $B/old/valuescape bench --grid $g --runs 3 --backend gpu 2>&1 | grep -v XDG | tail -3
  fi
done | tee "$OUT/cli_bench.txt"
echo "== CuPy cost map"
timeout 60 python3 tests/reference/cupy_cost_bench.py --sizes 100,256 --reps 9 --scipy-max 0 2>&1 | tee "$OUT/cupy.txt"
kill $DMON 2>/dev/null
echo "== SM clock samples (MHz): min / median / max"
head -2 "$OUT/dmon.txt"
awk '/^# *gpu/ { for (i = 2; i <= NF; i++) if ($i == "pclk") c = i - 1 } !/^#/ && c { print $c }' "$OUT/dmon.txt" \
  | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[1], a[int((NR + 1) / 2)], a[NR], "(" NR " samples)" }'
