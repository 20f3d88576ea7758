#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang 16, ASan+UBSan) and runs
# each for a bounded time, seeded from the unit tests' image builders.
# Any crash, leak, sanitizer report or timeout fails the run; the crashing
# input is left in build/fuzz/artifacts/ to become a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
# FUZZ_TARGETS="fuzz_sbi fuzz_bus_devices" runs only those (all by default).
only=${FUZZ_TARGETS:-}

# The seed writer is built with the default preset (it links the test builders).
cmake --preset default >/dev/null
cmake --build build/default --target write_fuzz_seeds
rm -rf build/fuzz-seeds
build/default/tests/write_fuzz_seeds build/fuzz-seeds

cmake --preset fuzz >/dev/null
# shellcheck disable=SC2086 # the target list splits on purpose
cmake --build build/fuzz ${only:+--target $only}
shopt -s nullglob
targets=(build/fuzz/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "run_fuzzers: no fuzz targets were built" >&2
  exit 1
fi
mkdir -p build/fuzz/artifacts
summary=build/fuzz/summary.txt
: >"$summary"
# One line per target from libFuzzer's final stats: executions, and the
# coverage (edges) the last status line reports.
summarize() {
  local name=$1 log=$2 runs cov
  runs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | awk '{print $2}' | tail -n 1)
  echo "fuzz: $name runs=${runs:-?} cov=${cov:-?}" | tee -a "$summary"
}
# Each libFuzzer run is one process on one core: run as many at once as the
# machine has cores, so the fuzz layer costs 30 s per core, not per target.
jobs=${FUZZ_JOBS:-$(nproc)}
run_one() {
  local t=$1 name corpus seeds=()
  name=$(basename "$t")
  corpus=build/fuzz/corpus/$name
  mkdir -p "$corpus"
  [ -d "build/fuzz-seeds/$name" ] && seeds=("build/fuzz-seeds/$name")
  echo "fuzz: $name for ${seconds}s"
  if ! "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "${seeds[@]}" >build/fuzz/"$name".log 2>&1; then
    tail -n 40 build/fuzz/"$name".log
    echo "fuzz: $name FAILED (input saved under build/fuzz/artifacts/)" >&2
    return 1
  fi
}
selected=()
for t in "${targets[@]}"; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then continue; fi
  selected+=("$t")
done
failed=0
running=0
for t in "${selected[@]}"; do
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
((failed == 0)) || exit 1
# The summary keeps the target order, whatever order the runs finished in.
for t in "${selected[@]}"; do
  summarize "$(basename "$t")" build/fuzz/"$(basename "$t")".log
done
echo "fuzz: all targets ran ${seconds}s clean (summary in $summary)"
