#!/bin/sh
# /init of the aarch64 nested harness's L1 guest (arm64 busybox). The arm64
# kernel has KVM built in, so there is nothing to load: everything L1 runs
# (the static cross-built vmm, the KVM integration tests, the L2 kernel and
# initramfs) is inside this initramfs. Runs the `step` lines of
# /nested/steps.sh, each under a timeout, with the same console markers as
# the x86 harness (l1_runner.sh):
#   NESTED-STEP-BEGIN NAME / NESTED-STEP NAME PASS|FAIL rc=N secs=S / NESTED-DONE
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

uptime() { cut -d' ' -f1 /proc/uptime; }
now() { cut -d' ' -f1 /proc/uptime; }
fail() { echo "NESTED-L1-ERROR $*"; poweroff -f; sleep 5; reboot -f; }
echo "NESTED-L1-INIT uptime=$(uptime)"
[ -c /dev/kvm ] || fail "/dev/kvm missing: the L1 kernel offers no KVM (virtualization=on? EL2?)"
echo "NESTED-L1-KVM $(dmesg | grep -m1 -o 'kvm \[1\]: .*mode.*' || echo 'kvm present')"
echo "NESTED-L1-UP uptime=$(uptime)"

STEP_TIMEOUT=300
passed=0 failed=0
step() {
  name=$1
  shift
  echo "NESTED-STEP-BEGIN $name"
  start=$(now)
  # The step functions live in /nested/lib.sh; timeout needs a program.
  timeout "$STEP_TIMEOUT" sh -c '. /nested/lib.sh; "$@"' "step-$name" "$@" </dev/null
  rc=$?
  end=$(now)
  if [ "$rc" -eq 0 ]; then verdict=PASS; passed=$((passed + 1)); else verdict=FAIL; failed=$((failed + 1)); fi
  [ "$rc" -eq 143 ] || [ "$rc" -eq 124 ] && echo "step $name: timed out after ${STEP_TIMEOUT}s"
  echo "NESTED-STEP $name $verdict rc=$rc secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')"
}

cd /nested || fail "/nested missing from the initramfs"
# shellcheck source=/dev/null
# shellcheck source=/dev/null
. /nested/steps.sh
echo "NESTED-DONE passed=$passed failed=$failed"
sync
poweroff -f
sleep 5
reboot -f
