#!/usr/bin/env bash
# The aarch64 nested harness (DESIGN.md §7): boots L1 = QEMU TCG's "virt"
# machine with EL2 (virtualization=on), a GICv3 and -cpu max (pauth-impdef:
# the architected pointer-auth algorithm is ~3x slower under TCG), running
# Debian bookworm's arm64 kernel (KVM built in, VHE) and an initramfs that
# holds everything L1 needs: arm64 busybox, the static cross-built vmm and
# KVM integration tests with their tiny guests, the Debian arm64 kernel as
# L2 (raw Image and gzip-compressed) and the arm64 busybox initramfs for L2.
# No 9p: every binary is static. The only modules L1 loads are virtio-mmio
# and virtio-blk, for the disks of --l1-disk, and tun (the virtio-net TAP step).
#
#   run_aarch64.sh [options]
# Options:
#   --build-dir DIR      cross build tree (default build/cross-aarch64)
#   --steps FILE         steps file (default steps_aarch64.sh)
#   --timeout SECS       whole run (default 900)
#   --step-timeout SECS  each step (default 300)
#   --verbose            stream the whole console, not only the markers
#   --l1-disk FILE       a raw image L1 sees as its next virtio disk (/dev/vda,
#                        ...; repeatable): L2 boots from it and the host reads
#                        what L2 wrote once L1 is gone
#
# L1 runs the steps file with the shared runner (lib_l1.sh). Passes when
# every step it declared (expect_steps) reported PASS and L1 finished
# (NESTED-DONE; lib_verdict.sh); otherwise prints the last 40 console lines
# and exits 1. The console log is kept in
# ~/.cache/minivmm/nested/aarch64/console.log.
set -euo pipefail

die() { echo "run_aarch64: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
nested_cache=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/aarch64

build_dir=$project/build/cross-aarch64 steps_file=$here/steps_aarch64.sh
overall_timeout=900 step_timeout=300 verbose=0 l1_disks=()
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift ;;
    --steps) steps_file=$2; shift ;;
    --timeout) overall_timeout=$2; shift ;;
    --step-timeout) step_timeout=$2; shift ;;
    --verbose) verbose=1 ;;
    --l1-disk) [ -f "$2" ] || die "--l1-disk '$2': no such file"; l1_disks+=("$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option '$1'" ;;
  esac
  shift
done
build_dir=$(realpath -m "$build_dir")

command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 not found (run scripts/setup.sh: qemu-system-arm)"
if [ ! -f "$kernel_cache/arm64/.done" ] || [ ! -x "$kernel_cache/arm64/busybox" ]; then
  bash "$project/scripts/fetch_kernels.sh" >&2
fi
kernel=$kernel_cache/arm64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"
vmm=$build_dir/vmm/vmm
tests=$build_dir/tests/vmm_tests
for f in "$vmm" "$(dirname "$vmm")/vmm-exec-init" "$tests" "$build_dir/tests/guests/aarch64_guest_off.bin" \
  "$build_dir/tests/guests/hostile_aarch64.bin"; do
  [ -f "$f" ] || die "$f not built (cmake --preset cross-aarch64 && cmake --build build/cross-aarch64 --target vmm exec_init vmm_tests test_guests)"
done
file -L "$vmm" | grep -q 'ARM aarch64.*statically linked' || die "$vmm is not a static aarch64 binary"

mkdir -p "$nested_cache"
# L2: the Debian arm64 Image as is, and gzip-compressed (the Image.gz other
# distributions ship), made here, once per kernel.
l2_gz=$nested_cache/Image.gz
if [ ! -f "$l2_gz" ] || [ "$l2_gz" -ot "$kernel" ]; then
  gzip -9 -n -c "$kernel" >"$l2_gz.tmp" && mv -f "$l2_gz.tmp" "$l2_gz"
fi
l2_initrd=$(bash "$project/scripts/build_initramfs.sh" arm64 | tail -n1)

stage=$(mktemp -d "$nested_cache/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/minivmm/vmm" "$stage/minivmm/tests/guests" "$stage/l2" "$stage/nested"
# (collect_modules.sh picks aarch64-linux-gnu-objcopy itself.)
bash "$here/collect_modules.sh" "$kernel_cache/arm64/modules" "$stage/modules" virtio_mmio virtio_blk tun
cp "$vmm" "$stage/minivmm/vmm/vmm"
# vmm exec's guest init sits next to vmm; L2's modules for it.
cp "$(dirname "$vmm")/vmm-exec-init" "$stage/minivmm/vmm/vmm-exec-init"
bash "$here/exec_modules.sh" "$kernel_cache/arm64/modules" "$stage/l2/modules"
cp "$tests" "$stage/minivmm/tests/vmm_tests"
cp "$build_dir"/tests/guests/aarch64_guest_*.bin* "$build_dir/tests/guests/hostile_aarch64.bin" "$stage/minivmm/tests/guests/"
cp "$kernel" "$stage/l2/Image"
cp "$l2_gz" "$stage/l2/Image.gz"
cp "$l2_initrd" "$stage/l2/initramfs.cpio.gz"
cat "$here/lib_aarch64_l2.sh" "$here/lib_disk_l2.sh" "$here/lib_exec_l2.sh" "$here/lib_net_l2.sh" \
  "$here/lib_hostile_l2.sh" >"$stage/nested/lib.sh"
cp "$(bash "$project/scripts/build_net_initramfs.sh" arm64 | tail -n1)" "$stage/l2/net.cpio.gz"
cp "$(bash "$project/scripts/build_virtio_root_initramfs.sh" arm64 | tail -n1)" "$stage/l2/virtio-root.cpio.gz"
cp "$here/lib_l1.sh" "$stage/nested/lib_l1.sh"
# The knobs of the steps (NESTED_ONLY: lib_l1.sh), when set here, travel in the
# steps file: L1 does not see this environment.
# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
{ echo "STEP_TIMEOUT=$step_timeout"; nested_knobs NESTED_ONLY L2_TIMEOUT HOSTILE_TIMEOUT; cat "$steps_file"; } \
  >"$stage/nested/steps.sh"
l1_initrd=$(bash "$project/scripts/build_initramfs.sh" --init "$here/l1_init_aarch64.sh" \
  --add "$stage/minivmm:/minivmm" --add "$stage/l2:/l2" --add "$stage/nested:/nested" --add "$stage/modules:/lib/modules" \
  --output "$nested_cache/l1-initramfs.cpio.gz" arm64 | tail -n1)

# shellcheck disable=SC2054 # commas belong to QEMU option values
qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on -smp 1 -m 2048
      -nographic -no-reboot -kernel "$kernel" -initrd "$l1_initrd" -append "console=ttyAMA0 panic=-1 quiet")
for i in "${!l1_disks[@]}"; do
  qemu+=(-drive "file=${l1_disks[$i]},format=raw,if=none,id=l1disk$i" -device "virtio-blk-device,drive=l1disk$i,serial=l1disk$i")
done

# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_run run_aarch64 "$nested_cache/console.log" "$overall_timeout" "$verbose" "${qemu[@]}" || exit 1
