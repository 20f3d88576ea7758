#!/usr/bin/env bash
# README's test command: installs what is missing, fetches the real kernels,
# builds, and runs every test layer (the nested harness's own logic, the disk
# image and initramfs scripts, unit,
# ASan+UBSan, fuzzers, the aarch64/riscv64 unit tests under qemu-user, KVM,
# nested). Ends with each layer's time and "layers: N passed, 0 failed".
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
export MINIVMM_REQUIRE_KERNELS=1
export MINIVMM_KERNEL_CACHE=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
# Compiled objects survive the clean clone CI builds from (setup.sh installs ccache).
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/minivmm/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# Paths inside the clone are hashed relative to it, so a clone elsewhere hits too.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# Every layer runs under set -e: reaching the next step means the last passed.
layers=0 layer_start=$SECONDS layer_name=''
times=()
layer_done() {
  [ -z "$layer_name" ] || times+=("$(printf '%5ds  %s' $((SECONDS - layer_start)) "$layer_name")")
}
step() {
  layer_done
  layers=$((layers + 1)) layer_start=$SECONDS layer_name=$*
  printf '\n=== %s ===\n' "$*"
}

step "setup"
bash scripts/setup.sh

step "nested harness logic: verdicts and the L1 step runner (no QEMU)"
bash scripts/nested/test_verdict.sh

step "fetch real kernels"
bash scripts/fetch_kernels.sh

# Still the cheap layer (no QEMU, no C++ build), but after the fetch: it
# builds initramfs archives from the cached kernels' modules.
step "disk image and root-switching initramfs scripts (no QEMU)"
bash scripts/test_disk_scripts.sh

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

# An L1 under QEMU TCG is one emulated CPU on one host core: the aarch64 and
# riscv64 cross builds (in turn) take what the L1s leave, at the lowest
# priority so they never slow an L1, and every core while the next proof
# waits for its build.
prebuild=build/cross-prebuild
rm -rf "$prebuild"
mkdir -p "$prebuild"
# Its own session, so a failing layer can stop the whole build with it.
# shellcheck disable=SC2016 # expanded by the inner shell
setsid bash -c 'for arch in aarch64 riscv64; do
    rc=0
    MINIVMM_JOBS=$(nproc) nice -n 19 bash "scripts/nested/test_$arch.sh" --build-only >"$1/$arch.log" 2>&1 || rc=$?
    echo "$rc" >"$1/$arch.rc"
  done' prebuild "$prebuild" &
prebuild_pid=$!
trap 'kill -- -"$prebuild_pid" 2>/dev/null || true' EXIT
# cross_built ARCH: waits for ARCH's background build and fails with its log.
cross_built() {
  while [ ! -f "$prebuild/$1.rc" ]; do
    kill -0 "$prebuild_pid" 2>/dev/null || break
    sleep 2
  done
  if [ "$(cat "$prebuild/$1.rc" 2>/dev/null)" != 0 ]; then
    tail -n 40 "$prebuild/$1.log" >&2
    echo "test: the $1 cross build failed (log: $prebuild/$1.log)" >&2
    exit 1
  fi
}

step "nested proof: x86_64 (minivmm inside an L1 guest under QEMU TCG)"
bash scripts/nested/test_x86.sh

step "nested proof: aarch64 (minivmm inside an arm64 L1 guest under QEMU TCG)"
cross_built aarch64
bash scripts/nested/test_aarch64.sh

step "nested proof: riscv64 (static cross-built minivmm inside a riscv64 L1 under QEMU TCG)"
cross_built riscv64
wait "$prebuild_pid"
bash scripts/nested/test_riscv64.sh

# The unit tests of tests/unit/*/arch/aarch64|riscv64 build only in the cross
# trees, which the nested proofs above just built: nothing left to build.
step "aarch64-only unit tests under qemu-aarch64-static (cross-aarch64 tree)"
bash scripts/test_cross.sh --arch-only aarch64

step "riscv64-only unit tests under qemu-riscv64-static (cross-riscv64 tree)"
bash scripts/test_cross.sh --arch-only riscv64

layer_done
echo
echo "all test layers passed; time per layer:"
printf '  %s\n' "${times[@]}"
echo "layers: ${layers} passed, 0 failed"
