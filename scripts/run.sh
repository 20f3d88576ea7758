#!/usr/bin/env bash
# README's run command: boots the default guest — Debian bookworm's cloud
# kernel with the project's busybox initramfs — to an interactive shell on
# this terminal. Directly under minivmm where /dev/kvm works; otherwise
# inside the nested harness (an L1 guest under QEMU TCG that offers KVM),
# saying which.
#
#   scripts/run.sh [--direct | --nested] [extra vmm options...]
#
# In the shell, `exit` (or `reboot -f`) ends the VM; Ctrl-A x quits minivmm.
# MINIVMM_BUILD_DIR selects the build tree (default build/default); the vmm
# binary is built there first if missing.
set -euo pipefail
die() { echo "run: error: $*" >&2; exit 1; }
project=$(cd "$(dirname "$0")/.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
build_dir=$(realpath -m "${MINIVMM_BUILD_DIR:-$project/build/default}")
vmm=$build_dir/vmm/vmm

mode=auto
case ${1:-} in
  --direct) mode=direct; shift ;;
  --nested) mode=nested; shift ;;
  -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

# A fresh machine gets its Debian packages first (idempotent, quick when present).
bash "$project/scripts/setup.sh" >&2

if [ ! -x "$vmm" ]; then
  echo "run: building vmm in $build_dir" >&2
  if [ "$build_dir" = "$project/build/default" ]; then
    cmake --preset default >/dev/null
  else
    [ -f "$build_dir/CMakeCache.txt" ] || die "$build_dir is not a configured build tree"
  fi
  cmake --build "$build_dir" -j2 --target vmm >&2
  [ -x "$vmm" ] || die "building the vmm target did not produce $vmm"
fi

bash "$project/scripts/fetch_kernels.sh" >/dev/null
kernel=$kernel_cache/cloud-amd64/vmlinuz
initrd=$(bash "$project/scripts/build_initramfs.sh" --interactive amd64 | tail -n1)
vmm_args=(--kernel "$kernel" --initrd "$initrd" --memory 512M
          --cmdline "console=ttyS0 reboot=k panic=-1" "$@")

# Why /dev/kvm cannot boot a stock kernel here, or nothing when it can. Usable
# means hardware virtualization (vmx/svm) and a guest that actually runs: some
# cloud machines offer a software-only /dev/kvm (kvm_pvm, "Pagetable-based
# Virtual Machine") that runs kvm_smoke.py's real-mode guest but only
# PVM-enabled guest kernels, and failed here on Debian's (KVM internal errors).
kvm_unusable_reason() {
  [ -e /dev/kvm ] || { echo "there is no /dev/kvm"; return; }
  if [ -d /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
    echo "/dev/kvm is software-only (no vmx/svm; kvm_pvm) and boots no stock kernel"; return
  fi
  python3 "$project/scripts/nested/kvm_smoke.py" 2>&1 | grep -v '^kvm_smoke: OK' | head -n1 || true
}

if [ "$mode" = auto ]; then
  reason=$(kvm_unusable_reason)
  if [ -z "$reason" ]; then mode=direct; else mode=nested; fi
fi

if [ "$mode" = direct ]; then
  echo "run: /dev/kvm works here: booting the cloud kernel directly under minivmm" >&2
  exec "$vmm" "${vmm_args[@]}"
fi
echo "run: ${reason:-nested mode requested}: booting the cloud kernel under minivmm inside the" \
     "nested harness (L1 = QEMU TCG with emulated SVM)" >&2
exec bash "$project/scripts/nested/run_x86.sh" --interactive -- "$vmm" "${vmm_args[@]}"
