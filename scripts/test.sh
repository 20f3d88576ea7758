#!/usr/bin/env bash
# README's test command: installs what is missing, fetches the real kernels,
# builds, and runs every test layer (unit, ASan+UBSan, fuzzers, KVM, nested).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
export MINIVMM_REQUIRE_KERNELS=1
export MINIVMM_KERNEL_CACHE=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}

# Every layer runs under set -e: reaching the next step means the last passed.
layers=0
step() { layers=$((layers + 1)); printf '\n=== %s ===\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "fetch real kernels"
bash scripts/fetch_kernels.sh

step "build and unit tests (default preset)"
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default -j2

step "unit tests under ASan+UBSan (asan preset)"
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j2

step "fuzzers (${FUZZ_SECONDS}s each)"
bash scripts/run_fuzzers.sh "$FUZZ_SECONDS"

step "nested proof: x86_64 (minivmm inside an L1 guest under QEMU TCG)"
bash scripts/nested/test_x86.sh

step "nested proof: aarch64 (minivmm inside an arm64 L1 guest under QEMU TCG)"
bash scripts/nested/test_aarch64.sh

step "nested proof: riscv64 (static cross-built minivmm inside a riscv64 L1 under QEMU TCG)"
bash scripts/nested/test_riscv64.sh

echo
echo "all test layers passed"
echo "layers: ${layers} passed, 0 failed"
