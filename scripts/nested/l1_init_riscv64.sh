#!/bin/sh
# /init of the riscv64 nested harness's L1 guest (busybox ash; the host's
# x86 binaries cannot run here, so everything L1 needs is in its initramfs:
# /minivmm holds the static riscv64 vmm, the KVM tests, the L2 kernels and
# initramfs, and steps.sh). Loads kvm.ko, then runs steps.sh with the shared
# step runner (lib_l1.sh, at /minivmm/lib_l1.sh).
export PATH=/bin
L1_LIB=/minivmm/lib_l1.sh
# shellcheck source=lib_l1.sh
. "$L1_LIB"
l1_start
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp

l1_load_modules /lib/modules
[ -c /dev/kvm ] || l1_fail "/dev/kvm did not appear after loading kvm (does the L1 CPU have the H extension?)"
echo "NESTED-L1-KVM $(grep -m1 '^isa' /proc/cpuinfo | tr -d '\t')"
echo "NESTED-L1-UP uptime=$(l1_uptime)"

cd /minivmm || l1_fail "/minivmm missing from the initramfs"
# shellcheck source=/dev/null
. /minivmm/steps.sh
steps_done
l1_poweroff
