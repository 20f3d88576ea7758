#!/usr/bin/env bash
# CI entry of the riscv64 nested proof: cross-builds the static riscv64 vmm,
# its KVM integration tests and the tiny test guests (preset cross-riscv64),
# gathers them with Debian trixie's riscv64 kernel (as L2, raw and
# gzip-compressed) and the riscv64 busybox initramfs into L1's payload, and
# runs steps_riscv64.sh inside L1 (run_riscv64.sh). Prints every boot report.
#
#   test_riscv64.sh [run_riscv64.sh options]
#   test_riscv64.sh --build-only     the cross build alone (scripts/test.sh
#                                    runs it beside the x86 and aarch64 proofs)
#
# MINIVMM_CROSS_BUILD_DIR selects the cross build tree (default build/cross-riscv64).
set -euo pipefail
die() { echo "test_riscv64: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
nested_cache=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/riscv64
build_dir=$(realpath -m "${MINIVMM_CROSS_BUILD_DIR:-$project/build/cross-riscv64}")
jobs=${MINIVMM_JOBS:-2}
build_only=0
[ "${1:-}" != --build-only ] || { build_only=1; shift; }

bash "$project/scripts/fetch_kernels.sh" >/dev/null
bash "$project/scripts/build_sysroot.sh" riscv64 >/dev/null
bash "$project/scripts/fetch_libslirp.sh" >/dev/null  # libslirp.a is built from source (cmake/libslirp.cmake)
bash "$project/scripts/build_boost_program_options.sh" >/dev/null
mkdir -p "$build_dir"
if ! (cd "$project" && cmake --preset cross-riscv64 -B "$build_dir" &&
  cmake --build "$build_dir" -j "$jobs" --target vmm exec_init vmm_tests test_guests) >"$build_dir/nested-build.log" 2>&1; then
  tail -n 40 "$build_dir/nested-build.log" >&2
  die "cross-riscv64 build failed (log: $build_dir/nested-build.log)"
fi
file -L "$build_dir/vmm/vmm" | grep -q 'statically linked' || die "$build_dir/vmm/vmm is not a static binary"
((build_only == 0)) || exit 0
initrd=$(bash "$project/scripts/build_initramfs.sh" riscv64 | tail -n1)
image=$kernel_cache/riscv64/vmlinuz

payload=$nested_cache/payload-src
rm -rf "$payload"
mkdir -p "$payload/build/vmm" "$payload/build/tests/guests" "$payload/l2"
cp "$build_dir/vmm/vmm" "$build_dir/vmm/vmm-exec-init" "$payload/build/vmm/"
bash "$here/exec_modules.sh" "$kernel_cache/riscv64/modules" "$payload/l2/modules"
cp "$build_dir/tests/vmm_tests" "$payload/build/tests/"
cp "$build_dir"/tests/guests/riscv64_guest_*.bin* "$build_dir/tests/guests/hostile_riscv64.bin" "$payload/build/tests/guests/"
cp "$image" "$payload/l2/Image"
gz=$nested_cache/Image.gz
if [ ! -f "$gz" ] || [ "$gz" -ot "$image" ]; then gzip -9 -n -c "$image" >"$gz.tmp" && mv "$gz.tmp" "$gz"; fi
cp "$gz" "$payload/l2/Image.gz"
cp "$initrd" "$payload/l2/initramfs.cpio.gz"
cp "$here/steps_riscv64.sh" "$payload/steps.sh"
cat "$here/lib_disk_l2.sh" "$here/lib_exec_l2.sh" "$here/lib_net_l2.sh" "$here/lib_hostile_l2.sh" >"$payload/lib_l2.sh"
cp "$(bash "$project/scripts/build_net_initramfs.sh" riscv64 | tail -n1)" "$payload/l2/net.cpio.gz"
cp "$(bash "$project/scripts/build_virtio_root_initramfs.sh" riscv64 | tail -n1)" "$payload/l2/virtio-root.cpio.gz"
# shellcheck source=lib_disks.sh
source "$here/lib_disks.sh"
disks_prepare riscv64 "$nested_cache/disks"

rc=0
bash "$here/run_riscv64.sh" --timeout 900 --step-timeout 360 "${disk_args[@]}" "$@" "$payload" || rc=$?
disks_check test_riscv64 pci-riscv64 mmio-riscv64 hvc0-riscv64 || rc=1

# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_boot_reports test_riscv64 "$nested_cache/console.log"
exit "$rc"
