#!/usr/bin/env bash
# The riscv64 nested harness (DESIGN.md §7): boots L1 = QEMU TCG's virt
# machine with the hypervisor extension (-cpu rv64,h=true), QEMU's bundled
# OpenSBI and Debian trixie's riscv64 kernel, which loads kvm.ko and offers
# /dev/kvm. The host's binaries are x86, so L1 does not share the host root:
# everything it runs comes in its initramfs, from PAYLOAD_DIR (mounted at
# /minivmm), whose steps.sh holds `expect_steps NAME...` and
# `step NAME CMD [ARG...]` lines (the shared runner: lib_l1.sh).
#
#   run_riscv64.sh [--timeout SECS] [--step-timeout SECS] [--verbose]
#                  [--l1-disk FILE]... PAYLOAD_DIR
#
# --l1-disk attaches a raw image that L1 sees as its next virtio disk
# (/dev/vda, ...): L2 boots from it and the host reads what L2 wrote once L1
# is gone.
#
# Each step prints NESTED-STEP NAME PASS|FAIL on the console; the run passes
# when every declared step reported PASS and L1 finished (NESTED-DONE;
# lib_verdict.sh). Otherwise the last 40 console lines (of each failed step,
# and of the whole console) are printed and the exit status is 1. The
# console log is kept in ~/.cache/minivmm/nested/riscv64/console.log.
set -euo pipefail

die() { echo "run_riscv64: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
nested_cache=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/riscv64

overall_timeout=900 step_timeout=300 verbose=0 l1_disks=()
while (($#)); do
  case $1 in
    --timeout) overall_timeout=$2; shift ;;
    --step-timeout) step_timeout=$2; shift ;;
    --verbose) verbose=1 ;;
    --l1-disk) [ -f "$2" ] || die "--l1-disk '$2': no such file"; l1_disks+=("$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || die "expected one PAYLOAD_DIR (see --help)"
payload=$(realpath "$1")
[ -f "$payload/steps.sh" ] || die "$payload/steps.sh missing"

command -v qemu-system-riscv64 >/dev/null || die "qemu-system-riscv64 not found (run scripts/setup.sh: qemu-system-misc)"
[ -f "$kernel_cache/riscv64/.done" ] || bash "$project/scripts/fetch_kernels.sh" >&2
kernel=$kernel_cache/riscv64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"

mkdir -p "$nested_cache"
modules_dir=$nested_cache/modules
# collect_modules.sh picks riscv64-linux-gnu-objcopy itself (the host's BFD
# cannot read riscv64 objects).
bash "$here/collect_modules.sh" "$kernel_cache/riscv64/modules" "$modules_dir" kvm virtio_blk tun
# The step timeout travels in the payload's steps file.
staged=$nested_cache/payload
rm -rf "$staged"
cp -a "$payload" "$staged"
# The knobs of the steps (NESTED_ONLY: lib_l1.sh), when set here, travel in the
# steps file too: L1 does not see this environment.
# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
{ echo "STEP_TIMEOUT=$step_timeout"; nested_knobs NESTED_ONLY L2_TIMEOUT HOSTILE_TIMEOUT; cat "$payload/steps.sh"; } \
  >"$staged/steps.sh"
cp "$here/lib_l1.sh" "$staged/lib_l1.sh"
l1_initrd=$(bash "$project/scripts/build_initramfs.sh" --init "$here/l1_init_riscv64.sh" \
  --add "$modules_dir:/lib/modules" --add "$staged:/minivmm" \
  --output "$nested_cache/l1-initramfs.cpio.gz" riscv64 | tail -n1)

# shellcheck disable=SC2054 # commas belong to QEMU option values
qemu=(qemu-system-riscv64 -M virt -cpu rv64,h=true -smp 1 -m 2048 -bios default -no-reboot
      -kernel "$kernel" -initrd "$l1_initrd" -append "console=ttyS0 quiet panic=-1"
      -display none -monitor none -serial stdio)
# trixie's riscv64 kernel has virtio-pci built in; virtio_blk is a module.
for i in "${!l1_disks[@]}"; do
  qemu+=(-drive "file=${l1_disks[$i]},format=raw,if=none,id=l1disk$i" -device "virtio-blk-pci,drive=l1disk$i,serial=l1disk$i")
done

# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_run run_riscv64 "$nested_cache/console.log" "$overall_timeout" "$verbose" "${qemu[@]}" || exit 1
