#!/usr/bin/env bash
# The virtio benchmark, x86_64: minivmm against QEMU/KVM, both inside the same
# nested L1 (scripts/nested/run_x86.sh: QEMU TCG with SVM + nested paging),
# on the same Debian cloud kernel, root-switching initramfs, command line and
# root disk image, in one run, so every ratio compares figures taken minutes
# apart on the same machine:
#
#   block I/O   inside the guest, on a second virtio-blk disk backed for both
#               VMMs by the same RAM block device of L1 (brd, O_DIRECT:
#               minivmm cache=none, QEMU cache=none with aio=threads and with
#               aio=io_uring, q35 + virtio-blk-pci, an iothread):
#               sequential read and write MB/s (1 MiB, queue depth 1) and
#               4 KiB random-read IOPS (queue depth 1), by blkbench
#               (scripts/guest/blkbench.c) under scripts/guest/bench_blk_init.sh
#   boot        process start to the disk init's first console line with
#               console=hvc0 and the root on virtio-blk: minivmm (virtio-pci
#               and virtio-mmio) against QEMU's tuned microvm (virtio-mmio,
#               virtio-serial-device + virtconsole)
#
#   bench_virtio.sh [run_x86.sh options, e.g. --verbose]
#
# Prints the summary table (NESTED-BENCH lines of the run: medians, ratio =
# minivmm / QEMU; goals: I/O >= 1.00x, boot <= 0.80x) and exits 1 when the
# run failed; the console log is in $MINIVMM_BENCH_CACHE/nested/x86/console.log.
# Not part of scripts/test.sh: a benchmark is no test. Takes 15-30 minutes
# on a shared 2-core host.
#
# Environment:
#   VMM             the minivmm binary (default: build/release/vmm/vmm, built
#                   or brought up to date first); copied into the cache
#                   first, so a rebuild during the run changes nothing
#   VMM_BEFORE      another minivmm binary (say, the build before a change)
#                   that boots beside VMM in every boot round, so a change's
#                   effect is measured in the same L1 as QEMU; its rows say
#                   "before"
#   VMM_EXTRA_ARGS  arguments for one more boot of VMM (virtio-pci) in every
#                   boot round, to try an option against the same QEMU
#                   figures (e.g. "--boot pvh"); its rows say "extra"
#   COMPARE_RUNS    boots of each kind for the boot figure (default 3)
#   IO_RUNS         I/O boots of each VMM, alternating (default 2; 0 skips
#                   the block I/O part and the RAM disk: a boot-only run of
#                   a few minutes, for working on boot time)
#   BENCH_REPS      passes of each I/O test in one boot (default 3)
#   BENCH_MIB       the data disk and each sequential pass, MiB (default 256)
#   BENCH_RAND_OPS  4 KiB reads of each random pass (default 10000)
#   L2_TIMEOUT      seconds each I/O run may take (default 300)
#   BENCH_BOOT_TIMEOUT  seconds each boot to the marker may take (default 120)
#   MINIVMM_BENCH_CACHE  work directory (default ~/.cache/minivmm/bench-virtio)
set -euo pipefail

die() { echo "bench_virtio: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
work=${MINIVMM_BENCH_CACHE:-$HOME/.cache/minivmm/bench-virtio}
# The run's own L1 cache: its console log must not be another nested run's.
export MINIVMM_NESTED_CACHE=$work/nested

case ${1:-} in
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac

# shellcheck source=lib_bench_knobs.sh
source "$here/lib_bench_knobs.sh"
declare -A knobs
# IO_RUNS=0 skips the block I/O part.
bench_knobs COMPARE_RUNS=3 IO_RUNS=2 BENCH_REPS=3 BENCH_MIB=256 BENCH_RAND_OPS=10000 \
  L2_TIMEOUT=300 BENCH_BOOT_TIMEOUT=120 -- IO_RUNS
# brd and the guest's 512 MiB share L1's 2 GiB.
((knobs[BENCH_MIB] <= 768)) || die "BENCH_MIB=${knobs[BENCH_MIB]}: at most 768 (the data disk lives in L1's 2 GiB of RAM)"

vmm=$(bench_release_vmm "$project" vmm)
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (scripts/setup.sh)"
command -v gcc >/dev/null || die "gcc not found: blkbench is a static C program (apt-get install gcc libc6-dev)"

mkdir -p "$work"
bash "$project/scripts/fetch_kernels.sh" >/dev/null
kernel=$kernel_cache/cloud-amd64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"
# L1 runs the generic amd64 kernel; brd is one of its modules.
brd=$(find "$kernel_cache/amd64/root/lib/modules" -name brd.ko -print -quit)
[ -n "$brd" ] || die "no brd.ko under $kernel_cache/amd64/root/lib/modules (the L1 kernel's RAM disk driver)"

gcc -static -O2 -Wall -Wextra -Werror -o "$work/blkbench" "$project/scripts/guest/blkbench.c" ||
  die "building blkbench failed"
root=$(bash "$project/scripts/build_disk_image.sh" amd64 "$work/root.img" \
         --init "$project/scripts/guest/bench_blk_init.sh" --add "$work/blkbench:/bin/blkbench" | tail -n1)
initrd=$(bash "$project/scripts/build_virtio_root_initramfs.sh" --output "$work/initramfs.cpio.gz" cloud-amd64 | tail -n1)
cp "$vmm" "$work/vmm.new" && mv -f "$work/vmm.new" "$work/vmm"
before_envs=()
if [ -n "${VMM_BEFORE:-}" ]; then
  [ -x "$VMM_BEFORE" ] || die "VMM_BEFORE '$VMM_BEFORE' is not an executable"
  cp "$VMM_BEFORE" "$work/vmm-before.new" && mv -f "$work/vmm-before.new" "$work/vmm-before"
  before_envs=(--env "VMM_BEFORE=$work/vmm-before")
fi
[ -z "${VMM_EXTRA_ARGS:-}" ] || before_envs+=(--env "VMM_EXTRA_ARGS=$VMM_EXTRA_ARGS")
echo "bench_virtio: vmm $vmm ($(grep -m1 -o 'CMAKE_BUILD_TYPE:STRING=.*' "$(dirname "$vmm")/../CMakeCache.txt" 2>/dev/null ||
  echo 'build type unknown')), copied to $work/vmm"

nested=$project/scripts/nested
rc=0
bash "$nested/run_x86.sh" --timeout 3600 --step-timeout 900 \
  --env "VMM=$work/vmm" --env "BENCH_KERNEL=$kernel" --env "BENCH_INITRD=$initrd" --env "BENCH_ROOT=$root" \
  --env "BRD_MODULE=$brd" "${knob_envs[@]}" "${before_envs[@]}" \
  "$@" "$nested/steps_x86_kvm.sh" "$nested/lib_x86_l2.sh" "$nested/lib_bench_l1.sh" "$nested/lib_bench_virtio.sh" \
  "$nested/steps_x86_bench_virtio.sh" || rc=$?

# shellcheck source=nested/lib_bench_summary.sh
source "$nested/lib_bench_summary.sh"
bench_summary bench_virtio "$MINIVMM_NESTED_CACHE/x86/console.log" "medians; ratio = minivmm / QEMU; (L1) rows time the same passes by L1's clock" || rc=1
exit "$rc"
