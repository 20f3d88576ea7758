#!/usr/bin/env bash
# The network benchmark, x86_64: minivmm's virtio-net against QEMU/KVM's,
# both inside the same nested L1 (scripts/nested/run_x86.sh: QEMU TCG with
# SVM + nested paging), on the same Debian cloud kernel, net initramfs
# (scripts/guest/net_init.sh, minivmm.bench=MIB) and command line, in one
# run, so every ratio compares figures taken minutes apart on the same
# machine: TCP throughput guest->host and host->guest, in MB/s (10^6 bytes),
#
#   user  --net user,hostfwd=...      against -netdev user,hostfwd=... (libslirp)
#   tap   --net tap=IF                against -netdev tap,...,vhost=off
#
# 512 MiB, 1 vCPU, virtio-net over PCI (QEMU: q35, virtio-net-pci). L1 runs
# the other end (scripts/nested/net_bench_client.py) and times it by its
# clock; the guest's busybox nc serves a sink and a source. Every transfer's
# byte count is checked. Details: scripts/nested/lib_bench_net.sh.
#
#   bench_net.sh [run_x86.sh options, e.g. --verbose]
#
# Prints the summary table (NESTED-BENCH lines: medians over every transfer,
# ratio = minivmm / QEMU, goal >= 1.00) and exits 1 when the run failed; the
# console log is in $MINIVMM_BENCH_CACHE/nested/x86/console.log. Not part of
# scripts/test.sh: a benchmark is no test. Takes about 18 minutes on a
# shared 2-core host at load 10 (user-mode boots are the slow ones).
#
# Environment:
#   VMM          the minivmm binary (default: build/release/vmm/vmm, built or
#                brought up to date first); copied into the cache first, so a
#                rebuild during the run changes nothing
#   ROUNDS       boots of each VMM and backend, alternating (default 3)
#   BENCH_REPS   transfers each way in one boot (default 2)
#   BENCH_MIB    MiB a transfer (default 64)
#   NET_TIMEOUT  seconds each boot may take (default 300)
#   MINIVMM_BENCH_CACHE  work directory (default ~/.cache/minivmm/bench-net)
set -euo pipefail

die() { echo "bench_net: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
work=${MINIVMM_BENCH_CACHE:-$HOME/.cache/minivmm/bench-net}
# The run's own L1 cache: its console log must not be another nested run's.
export MINIVMM_NESTED_CACHE=$work/nested

case ${1:-} in
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
esac

# shellcheck source=lib_bench_knobs.sh
source "$here/lib_bench_knobs.sh"
declare -A knobs
bench_knobs ROUNDS=3 BENCH_REPS=2 BENCH_MIB=64 NET_TIMEOUT=300
# The guest stores what it receives in its RAM (512 MiB) before counting it.
((knobs[BENCH_MIB] <= 256)) || die "BENCH_MIB=${knobs[BENCH_MIB]}: at most 256 (the guest's sink holds a transfer in RAM)"

vmm=$(bench_release_vmm "$project" vmm)
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (scripts/setup.sh)"
command -v python3 >/dev/null || die "python3 not found (L1 runs the client from this root)"

mkdir -p "$work"
bash "$project/scripts/fetch_kernels.sh" >/dev/null
kernel=$kernel_cache/cloud-amd64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"
initrd=$(bash "$project/scripts/build_net_initramfs.sh" --output "$work/initramfs.cpio.gz" cloud-amd64 | tail -n1)
cp "$vmm" "$work/vmm.new" && mv -f "$work/vmm.new" "$work/vmm"
echo "bench_net: vmm $vmm ($(grep -m1 -o 'CMAKE_BUILD_TYPE:STRING=.*' "$(dirname "$vmm")/../CMakeCache.txt" 2>/dev/null ||
  echo 'build type unknown')), copied to $work/vmm"

nested=$project/scripts/nested
rc=0
bash "$nested/run_x86.sh" --timeout 3600 --step-timeout 900 \
  --env "VMM=$work/vmm" --env "BENCH_KERNEL=$kernel" --env "BENCH_INITRD=$initrd" \
  --env "BENCH_CLIENT=$nested/net_bench_client.py" "${knob_envs[@]}" \
  "$@" "$nested/steps_x86_kvm.sh" "$nested/lib_x86_l2.sh" "$nested/lib_bench_l1.sh" "$nested/lib_bench_net.sh" \
  "$nested/steps_x86_bench_net.sh" || rc=$?

# shellcheck source=nested/lib_bench_summary.sh
source "$nested/lib_bench_summary.sh"
bench_summary bench_net "$MINIVMM_NESTED_CACHE/x86/console.log" "medians of ${ROUNDS:-3} boots x ${BENCH_REPS:-2} transfers of ${BENCH_MIB:-64} MiB; ratio = minivmm / QEMU; QEMU's TAP without vhost-net (minivmm has none)" || rc=1
exit "$rc"
