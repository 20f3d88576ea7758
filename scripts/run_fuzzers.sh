#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang 16, ASan+UBSan) and runs
# each for a bounded time, seeded from the unit tests' image builders.
# Any crash, leak, sanitizer report or timeout fails the run; the crashing
# input is left in build/fuzz/artifacts/ to become a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

# The seed writer is built with the default preset (it links the test builders).
cmake --preset default >/dev/null
cmake --build build/default --target write_fuzz_seeds
rm -rf build/fuzz-seeds
build/default/tests/write_fuzz_seeds build/fuzz-seeds

cmake --preset fuzz >/dev/null
cmake --build build/fuzz
shopt -s nullglob
targets=(build/fuzz/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "run_fuzzers: no fuzz targets were built" >&2
  exit 1
fi
mkdir -p build/fuzz/artifacts
for t in "${targets[@]}"; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus=build/fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=()
  [ -d "build/fuzz-seeds/$name" ] && seeds=("build/fuzz-seeds/$name")
  echo "fuzz: $name for ${seconds}s"
  if ! "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "${seeds[@]}" >build/fuzz/"$name".log 2>&1; then
    tail -n 40 build/fuzz/"$name".log
    echo "fuzz: $name FAILED (input saved under build/fuzz/artifacts/)" >&2
    exit 1
  fi
  grep -E "^Done [0-9]+ runs" build/fuzz/"$name".log || true
done
echo "fuzz: all targets ran ${seconds}s clean"
