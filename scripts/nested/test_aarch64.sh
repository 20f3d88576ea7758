#!/usr/bin/env bash
# CI entry of the aarch64 nested proof: cross-builds the static aarch64 vmm,
# its KVM integration tests and tiny guests (preset cross-aarch64, after the
# sysroot of scripts/build_sysroot.sh), then runs run_aarch64.sh: inside an
# L1 arm64 guest under QEMU TCG, the KVM integration tests and Debian arm64
# kernel boots with 1 and 2 vCPUs and from a gzip-compressed Image. Prints
# each boot's report and its boot-to-"Run /init" time.
#
#   test_aarch64.sh [run_aarch64.sh options]
#   test_aarch64.sh --build-only     the cross build alone (scripts/test.sh
#                                    runs it beside the x86 proof)
#
# MINIVMM_JOBS sets the build's parallel jobs (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
build_dir=$project/build/cross-aarch64
jobs=${MINIVMM_JOBS:-2}
build_only=0
[ "${1:-}" != --build-only ] || { build_only=1; shift; }

bash "$project/scripts/fetch_kernels.sh" >/dev/null
bash "$project/scripts/build_sysroot.sh" aarch64 >/dev/null
bash "$project/scripts/fetch_libslirp.sh" >/dev/null  # libslirp.a is built from source (cmake/libslirp.cmake)
mkdir -p "$build_dir"
if ! (cd "$project" && cmake --preset cross-aarch64 &&
   cmake --build "$build_dir" -j "$jobs" --target vmm exec_init vmm_tests test_guests) >"$build_dir/nested-build.log" 2>&1; then
  tail -n 40 "$build_dir/nested-build.log" >&2
  echo "test_aarch64: error: cross-aarch64 build failed (log: $build_dir/nested-build.log)" >&2
  exit 1
fi
((build_only == 0)) || exit 0

rc=0
# shellcheck source=lib_disks.sh
source "$here/lib_disks.sh"
disks_prepare arm64 "${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/aarch64/disks"
bash "$here/run_aarch64.sh" --build-dir "$build_dir" "${disk_args[@]}" "$@" || rc=$?
disks_check test_aarch64 pci-arm64 mmio-arm64 hvc0-arm64 || rc=1

# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_boot_reports test_aarch64 "${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/aarch64/console.log"
exit "$rc"
