#!/usr/bin/env bash
# CI entry of the x86_64 nested proof: prepares what L1 needs (kernels,
# busybox initramfs, the cloud kernel's vmlinux, the disk images: the
# Debian bookworm one of build_debian_image.sh needs root to build, once) and
# runs, inside L1, the KVM checks (steps_x86_kvm.sh) and minivmm's KVM
# integration tests and real Debian kernel boots, up to systemd and a console
# login on a debootstrap root (steps_x86_vmm.sh).
#
#   test_x86.sh [--kvm-only | --qemu-reference | --compare] [run_x86.sh options]
#
# MINIVMM_BUILD_DIR selects the build tree (default build/default); its vmm
# binary and KVM tests must already be built. MINIVMM_ASAN_BUILD_DIR (default
# build/asan) is the ASan+UBSan tree the hostile-guest steps run; this script
# builds its vmm and test guests.
set -euo pipefail
die() { echo "test_x86: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
build_dir=$(realpath -m "${MINIVMM_BUILD_DIR:-$project/build/default}")

# What to run after the KVM checks: minivmm's tests and boots (default), the
# QEMU reference boots, or the minivmm/QEMU timing comparison.
steps=("$here/steps_x86_kvm.sh")
mode=vmm
case ${1:-} in
  --kvm-only) mode=kvm; shift ;;
  --qemu-reference) mode=qemu; shift ;;
  --compare) mode=compare; shift ;;
esac
case $mode in
  vmm) steps+=("$here/lib_x86_l2.sh" "$here/lib_disk_l2.sh" "$here/lib_exec_l2.sh" "$here/lib_hostile_l2.sh"
               "$here/lib_net_l2.sh" "$here/steps_x86_vmm.sh") ;;
  qemu) steps+=("$here/lib_x86_l2.sh" "$here/steps_x86_qemu.sh") ;;
  compare) steps+=("$here/lib_x86_l2.sh" "$here/steps_x86_compare.sh") ;;
esac
vmm=$build_dir/vmm/vmm
if [ "$mode" = vmm ] || [ "$mode" = compare ]; then
  [ -x "$vmm" ] || die "$vmm not built (cmake --preset default && cmake --build --preset default)"
fi
# The hostile-guest steps run the ASan+UBSan build (MINIVMM_ASAN_BUILD_DIR,
# default build/asan; scripts/test.sh builds it before the nested layers):
# make sure its vmm and test guests are current.
asan_dir=$(realpath -m "${MINIVMM_ASAN_BUILD_DIR:-$project/build/asan}")
if [ "$mode" = vmm ]; then
  [ -f "$asan_dir/build.ninja" ] || (cd "$project" && cmake --preset asan >/dev/null) ||
    die "cannot configure the ASan build in $asan_dir"
  cmake --build "$asan_dir" --target vmm test_guests >/dev/null || die "the ASan build of vmm failed ($asan_dir)"
fi

bash "$project/scripts/fetch_kernels.sh" >/dev/null
initrd=$(bash "$project/scripts/build_initramfs.sh" amd64 | tail -n1)
vmlinux=$kernel_cache/cloud-amd64/vmlinux
if [ ! -f "$vmlinux" ] || [ "$vmlinux" -ot "$kernel_cache/cloud-amd64/vmlinuz" ]; then
  bash "$project/scripts/extract_vmlinux.sh" "$kernel_cache/cloud-amd64/vmlinuz" "$vmlinux" >/dev/null
fi

# vmm exec's modules, without the rest of each tree (L1 reads them over 9p).
exec_modules=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/x86/exec-modules
for k in amd64 cloud-amd64; do bash "$here/exec_modules.sh" "$kernel_cache/$k/modules" "$exec_modules/$k"; done
disk_initrd=$(bash "$project/scripts/build_virtio_root_initramfs.sh" cloud-amd64 | tail -n1)
generic_disk_initrd=$(bash "$project/scripts/build_virtio_root_initramfs.sh" amd64 | tail -n1)
# The virtio-net guest (lib_net_l2.sh): the cloud kernel's virtio_net modules.
net_initrd=$(bash "$project/scripts/build_net_initramfs.sh" cloud-amd64 | tail -n1)
envs=(--env "BUILD_DIR=$build_dir" --env "INITRD=$initrd"
      --env "DISK_KERNEL=$kernel_cache/cloud-amd64/vmlinuz" --env "DISK_INITRD=$disk_initrd"
      --env "DISK_CMDLINE=reboot=k panic=-1" --env "GENERIC_DISK_INITRD=$generic_disk_initrd"
      --env "CLOUD_BZIMAGE=$kernel_cache/cloud-amd64/vmlinuz" --env "CLOUD_VMLINUX=$vmlinux"
      --env "GENERIC_BZIMAGE=$kernel_cache/amd64/vmlinuz"
      --env "EXEC_KERNEL=$kernel_cache/cloud-amd64/vmlinuz" --env "EXEC_MODULES=$exec_modules/cloud-amd64"
      --env "EXEC_9P_KERNEL=$kernel_cache/amd64/vmlinuz" --env "EXEC_9P_MODULES=$exec_modules/amd64"
      --env "HOSTILE_BUILD_DIR=$asan_dir"
      --env "NET_KERNEL=$kernel_cache/cloud-amd64/vmlinuz" --env "NET_INITRD=$net_initrd"
      --env "NET_CMDLINE=console=ttyS0 reboot=k panic=-1")
[ ! -x "$vmm" ] || envs+=(--env "VMM=$vmm")
# Knobs of the steps files, passed through when set here.
for knob in COMPARE_RUNS L2_TIMEOUT DEBIAN_L2_TIMEOUT KVM_TESTS_REGEX HOSTILE_TIMEOUT NESTED_ONLY NESTED_X86_HOSTILE; do
  [ -z "${!knob:-}" ] || envs+=(--env "$knob=${!knob}")
done
# Twelve L2 boots under nested virtualization on a shared 2-core host, one of
# them systemd to a login: allow far more than the few minutes an idle machine
# needs (later --timeout wins).
# shellcheck source=lib_disks.sh
source "$here/lib_disks.sh"
disk_args=()
if [ "$mode" = vmm ]; then
  nested_disks=${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/x86/disks
  disks_prepare amd64 "$nested_disks"
  disks_prepare_debian "$nested_disks"
fi
rc=0
bash "$here/run_x86.sh" --timeout 2700 ${envs[@]+"${envs[@]}"} "${disk_args[@]}" "$@" "${steps[@]}" || rc=$?
if [ "$mode" = vmm ]; then
  disks_check test_x86 pci-x86 mmio-x86 hvc0-x86 shell-x86 mptable-x86 || rc=1
  disks_check_debian test_x86 || rc=1
fi

# The boot report of every minivmm boot, per step, from the console log.
# shellcheck source=lib_host.sh
source "$here/lib_host.sh"
nested_boot_reports test_x86 "${MINIVMM_NESTED_CACHE:-$HOME/.cache/minivmm/nested}/x86/console.log"
exit "$rc"
