#!/bin/sh
# /init of the aarch64 nested harness's L1 guest (arm64 busybox). The arm64
# kernel has KVM built in; L1 loads only virtio-mmio and virtio-blk (for the
# disks the host attaches). Everything else L1 runs
# (the static cross-built vmm, the KVM integration tests, the L2 kernel and
# initramfs) is inside this initramfs. Runs /nested/steps.sh with the shared
# step runner (lib_l1.sh, at /nested/lib_l1.sh); the steps' functions are in
# /nested/lib.sh (lib_aarch64_l2.sh).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
L1_LIB=/nested/lib_l1.sh STEP_LIB=/nested/lib.sh
# shellcheck source=lib_l1.sh
. "$L1_LIB"
l1_start
mount -t tmpfs tmpfs /tmp
l1_load_modules /lib/modules
[ -c /dev/kvm ] || l1_fail "/dev/kvm missing: the L1 kernel offers no KVM (virtualization=on? EL2?)"
echo "NESTED-L1-KVM $(dmesg | grep -m1 -o 'kvm \[1\]: .*mode.*' || echo 'kvm present')"
echo "NESTED-L1-UP uptime=$(l1_uptime)"

cd /nested || l1_fail "/nested missing from the initramfs"
# shellcheck source=/dev/null
. /nested/steps.sh
steps_done
l1_poweroff
