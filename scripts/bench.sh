#!/usr/bin/env bash
# Runs the loader benchmark (release build) against the real kernels and
# prints each comparison as a ratio of medians. Usage: scripts/bench.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}

bash scripts/fetch_kernels.sh >/dev/null
cmake --preset release >/dev/null
cmake --build build/release --target load_kernel_bench >/dev/null
out=build/release/bench-results.json
build/release/bench/load_kernel_bench --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json >/dev/null

python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
median = {}
for b in runs:
    if b.get("aggregate_name") == "median":
        median[b["run_name"].split("/")[0]] = b["real_time"]  # ms
def show(label, a, b, goal):
    r = median[a] / median[b]
    print(f"{label:58s} {median[a]:9.3f} ms / {median[b]:9.3f} ms = {r:6.2f}x   ({goal})")
print("kernel: bookworm cloud-amd64 vmlinux (extracted from its bzImage)\n")
show("load_elf vs bare pread, pre-faulted memory", "BM_LoadElf_Prefaulted", "BM_Pread_Prefaulted", "goal <= 1.05x")
show("load_elf vs bare pread, fresh 4 KiB memory", "BM_LoadElf_Fresh4k", "BM_Pread_Fresh4k", "same work")
show("bare pread into fresh 4 KiB memory vs load_elf with THP", "BM_Pread_Fresh4k", "BM_LoadElf_FreshThp", "goal >= 5x faster")
show("bare pread into fresh 4 KiB memory vs zero-copy load_elf", "BM_Pread_Fresh4k", "BM_LoadElf_ZeroCopy", "goal >= 5x faster")
show("extract_bzimage_vmlinux vs the lz4 decompressor alone", "BM_ExtractVmlinux", "BM_Decompress_Payload", "overhead of the API")
PY
