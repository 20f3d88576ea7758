#!/usr/bin/env bash
# The x86_64 nested harness (DESIGN.md §7): boots L1 = QEMU TCG with emulated
# AMD SVM + nested paging and Debian bookworm's amd64 kernel, which loads
# kvm_amd and offers /dev/kvm. L1 mounts this host's root read-only over
# virtio-9p (a tmpfs overlay on top), chroots into it, and runs a steps file
# there, so the project's dynamically linked binaries run unchanged.
#
#   run_x86.sh [options] STEPS_FILE...     batch: verdicts from console markers
#   run_x86.sh [options] --interactive -- CMD [ARG...]
#                                          CMD inside L1 on this terminal (the
#                                          terminal is L1's serial port)
# Options:
#   --timeout SECS       whole run (default 600; none when --interactive)
#   --step-timeout SECS  each step (default 300)
#   --env NAME=VALUE     exported to the steps (repeatable)
#   --l1-disk FILE       a raw image L1 sees as its next virtio disk (/dev/vda,
#                        /dev/vdb, ...; repeatable): L2 boots from it and the
#                        host reads what L2 wrote once L1 is gone
#   --verbose            stream the whole console, not only the markers
#   --monitor SOCKET     a QEMU monitor on the unix socket SOCKET, to ask a
#                        stuck L1 for its state (info lapic, info registers)
#
# A steps file is bash, sourced in L1 from the project directory, made of
#   expect_steps NAME...       the steps it runs (see lib_l1.sh)
#   step NAME CMD [ARG...]
# lines; each step prints NESTED-STEP NAME PASS|FAIL rc=N on the console. The
# run passes when every declared step reported PASS and L1 finished
# (NESTED-DONE; lib_verdict.sh); otherwise the last 40 console lines are
# printed and the exit status is 1. The console log is kept in
# ~/.cache/minivmm/nested/x86/console.log.
set -euo pipefail

die() { echo "run_x86: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
nested_cache=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/x86

overall_timeout=600 step_timeout=300 verbose=0 interactive=0 interactive_timeout_set=0 monitor=''
envs=() steps_files=() l1_disks=()
while (($#)); do
  case $1 in
    --timeout) overall_timeout=$2; interactive_timeout_set=1; shift ;;
    --step-timeout) step_timeout=$2; shift ;;
    --env) [[ $2 == *=* ]] || die "--env expects NAME=VALUE, got '$2'"; envs+=("$2"); shift ;;
    --l1-disk) [ -f "$2" ] || die "--l1-disk '$2': no such file"; l1_disks+=("$(realpath "$2")"); shift ;;
    --verbose) verbose=1 ;;
    --monitor) monitor=$2; shift ;;
    --interactive) interactive=1 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,33s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) break ;;
  esac
  shift
done
if ((interactive)); then
  (($#)) || die "--interactive needs a command after --"
else
  (($#)) || die "expected at least one STEPS_FILE (see --help)"
  for f in "$@"; do
    [ -f "$f" ] || die "steps file '$f' not found"
    steps_files+=("$(realpath "$f")")
  done
fi

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup.sh)"
[ -f "$kernel_cache/amd64/.done" ] || bash "$project/scripts/fetch_kernels.sh" >&2
kernel=$kernel_cache/amd64/vmlinuz
[ -f "$kernel" ] || die "$kernel missing (scripts/fetch_kernels.sh)"

mkdir -p "$nested_cache"
# L1's initramfs: busybox, the KVM and virtio-9p modules (with their
# dependencies), tun (the virtio-net TAP step), and l1_init.sh as /init. Reproducible, so rebuilding is cheap
# and leaves the file untouched when nothing changed.
modules_dir=$nested_cache/modules
bash "$here/collect_modules.sh" "$kernel_cache/amd64/modules" "$modules_dir" \
  irqbypass kvm ccp kvm-amd \
  virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
  9pnet 9pnet_virtio netfs fscache 9p overlay tun
l1_initrd=$(bash "$project/scripts/build_initramfs.sh" --init "$here/l1_init.sh" \
  --add "$modules_dir:/lib/modules" --add "$here/lib_l1.sh:/lib/lib_l1.sh" \
  --output "$nested_cache/l1-initramfs.cpio.gz" amd64 | tail -n1)

# What L1 runs lives in a per-run directory of the cache, which L1 sees at the
# same path through the 9p share of /.
run_dir=$(mktemp -d "$nested_cache/run.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT
{
  echo "STEP_TIMEOUT=$step_timeout"
  for e in ${envs[@]+"${envs[@]}"}; do printf 'export %q=%q\n' "${e%%=*}" "${e#*=}"; done
  if ((interactive)); then
    printf 'interactive'; printf ' %q' "$@"; echo
  else
    cat "${steps_files[@]}"
  fi
} >"$run_dir/steps.sh"

cmdline="console=ttyS0 quiet panic=-1 minivmm.project=$project"
cmdline+=" minivmm.runner=$here/l1_runner.sh minivmm.steps=$run_dir/steps.sh minivmm.interactive=$interactive"
# shellcheck disable=SC2054 # commas belong to QEMU option values
qemu=(qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt -smp 1 -m 2G -no-reboot
      -kernel "$kernel" -initrd "$l1_initrd" -append "$cmdline"
      -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
[ -z "$monitor" ] || qemu+=(-monitor "unix:$monitor,server,nowait")
for i in "${!l1_disks[@]}"; do
  qemu+=(-drive "file=${l1_disks[$i]},format=raw,if=none,id=l1disk$i" -device "virtio-blk-pci,drive=l1disk$i,serial=l1disk$i")
done

if ((interactive)); then
  # The terminal goes straight to L1's serial port (no QEMU mux, signals off),
  # so Ctrl-A and Ctrl-C reach the command inside (minivmm's own Ctrl-A x).
  echo "run_x86: starting the nested L1 guest (QEMU TCG, ~5-15 s to boot)" >&2
  ((interactive_timeout_set)) || overall_timeout=0
  rc=0
  timeout --foreground "$overall_timeout" "${qemu[@]}" -display none -monitor none \
    -chardev stdio,id=console,signal=off -serial chardev:console || rc=$?
  exit "$rc"
fi

# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_run run_x86 "$nested_cache/console.log" "$overall_timeout" "$verbose" \
  "${qemu[@]}" -display none -monitor none -serial stdio || exit 1
