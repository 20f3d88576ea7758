#!/usr/bin/env bash
# The exec benchmark, x86_64: `vmm exec` against QEMU/KVM running the same
# guest, both inside the same nested L1 (scripts/nested/run_x86.sh: QEMU TCG
# with SVM + nested paging), in one run: the same Debian kernel (bookworm's
# generic amd64, which has both virtio-fs and 9p as modules), the same
# initramfs (`vmm exec --save-initrd`: minivmm's guest init, the modules, the
# command), L1's / shared read-only and a data directory read-write:
#
#   true   `exec -- true` wall time, process start to exit: minivmm serving
#          virtio-fs and 9p itself against QEMU + virtiofsd (one daemon per
#          share, trixie's 1.13: bookworm has none) and QEMU's own 9p
#   job    a file-heavy command timed by the guest: walk and stat a tree of
#          BENCH_FILES files, read a BENCH_BIG_MIB MiB file, `git status` in
#          the tree
#
#   bench_exec.sh [run_x86.sh options, e.g. --verbose]
#
# Prints the summary table (NESTED-BENCH lines: medians; `true` ratio =
# minivmm / QEMU, goal <= 0.50; job ratio = QEMU / minivmm time, goal >= 1.00
# against QEMU+virtiofsd) and exits 1 when the run failed; the console log is
# in $MINIVMM_BENCH_CACHE/nested/x86/console.log. Not part of scripts/test.sh.
# Takes 10-20 minutes on a shared 2-core host.
#
# Environment:
#   VMM            the minivmm binary (default: build/release/vmm/vmm, built
#                  or brought up to date first, with vmm-exec-init beside it);
#                  copied into the cache, so a rebuild during the run changes
#                  nothing
#   RUNS           rounds of each kind (default 3)
#   JOB_RUNS       rounds of the file-heavy job (default RUNS; 0 skips it: a
#                  `true`-only run of a few minutes, for working on start-up)
#   BENCH_FILES    files in the tree (default 5000)
#   BENCH_BIG_MIB  size of the big file, MiB (default 100)
#   BENCH_TIMEOUT  seconds each run may take (default 300)
#   MINIVMM_BENCH_CACHE  work directory (default ~/.cache/minivmm/bench-exec)
set -euo pipefail

die() { echo "bench_exec: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
work=${MINIVMM_BENCH_CACHE:-$HOME/.cache/minivmm/bench-exec}
export MINIVMM_NESTED_CACHE=$work/nested

case ${1:-} in
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac

# shellcheck source=lib_bench_knobs.sh
source "$here/lib_bench_knobs.sh"
# shellcheck disable=SC2034 # unused here beyond the check
declare -A knobs # filled by bench_knobs
bench_knobs RUNS=3 JOB_RUNS="${RUNS:-3}" BENCH_FILES=5000 BENCH_BIG_MIB=100 BENCH_TIMEOUT=300 -- JOB_RUNS

vmm=$(bench_release_vmm "$project" vmm exec_init)
[ -x "$(dirname "$vmm")/vmm-exec-init" ] || die "$(dirname "$vmm")/vmm-exec-init missing (cmake --build ... --target exec_init)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (scripts/setup.sh)"
command -v git >/dev/null || die "git not found (the job runs git status)"

mkdir -p "$work/bin"
bash "$project/scripts/fetch_kernels.sh" >/dev/null
virtiofsd=$(bash "$project/scripts/fetch_virtiofsd.sh" | tail -n1)
kernel=$kernel_cache/amd64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"
modules=$work/modules
bash "$project/scripts/nested/exec_modules.sh" "$kernel_cache/amd64/modules" "$modules" >/dev/null
cp "$vmm" "$work/bin/vmm.new" && mv -f "$work/bin/vmm.new" "$work/bin/vmm"
cp "$(dirname "$vmm")/vmm-exec-init" "$work/bin/vmm-exec-init"
echo "bench_exec: vmm $vmm ($(grep -m1 -o 'CMAKE_BUILD_TYPE:STRING=.*' "$(dirname "$vmm")/../CMakeCache.txt" 2>/dev/null ||
  echo 'build type unknown')), copied to $work/bin"

nested=$project/scripts/nested
rc=0
bash "$nested/run_x86.sh" --timeout 3600 --step-timeout 900 \
  --env "VMM=$work/bin/vmm" --env "BENCH_KERNEL=$kernel" --env "BENCH_MODULES=$modules" \
  --env "VIRTIOFSD=$virtiofsd" "${knob_envs[@]}" \
  "$@" "$nested/steps_x86_kvm.sh" "$nested/lib_x86_l2.sh" "$nested/lib_bench_exec.sh" \
  "$nested/steps_x86_bench_exec.sh" || rc=$?

# shellcheck source=nested/lib_bench_summary.sh
source "$nested/lib_bench_summary.sh"
bench_summary bench_exec "$MINIVMM_NESTED_CACHE/x86/console.log" "medians of ${RUNS:-3} runs; published on hardware KVM: virtme-ng 0.9 s (uname -r), vmtest 1.3 s (echo test)" || rc=1
exit "$rc"
