#!/bin/sh
# /init of the riscv64 nested harness's L1 guest (busybox ash; the host's
# x86 binaries cannot run here, so everything L1 needs is in its initramfs:
# /minivmm holds the static riscv64 vmm, the KVM tests, the L2 kernels and
# initramfs, and steps.sh). Loads kvm.ko, then runs steps.sh, whose
#   step NAME CMD [ARG...]
# lines each run with a timeout and print
#   NESTED-STEP-BEGIN NAME
#   NESTED-STEP NAME PASS|FAIL rc=N secs=S
# and finally NESTED-DONE passed=P failed=F (the markers of run_x86.sh).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

uptime() { cut -d' ' -f1 /proc/uptime; }
fail() { echo "NESTED-L1-ERROR $*"; poweroff -f; sleep 5; reboot -f; }
echo "NESTED-L1-INIT uptime=$(uptime)"

for m in $(cat /lib/modules/load.order); do
  insmod "/lib/modules/$m.ko" || fail "insmod $m failed"
done
[ -c /dev/kvm ] || fail "/dev/kvm did not appear after loading kvm (does the L1 CPU have the H extension?)"
echo "NESTED-L1-KVM $(grep -m1 '^isa' /proc/cpuinfo | tr -d '\t')"
echo "NESTED-L1-UP uptime=$(uptime)"

STEP_TIMEOUT=300
passed=0 failed=0
step() {
  name=$1
  shift
  echo "NESTED-STEP-BEGIN $name"
  start=$(uptime)
  timeout "$STEP_TIMEOUT" "$@" </dev/null
  rc=$?
  end=$(uptime)
  if [ "$rc" -eq 0 ]; then verdict=PASS; passed=$((passed + 1)); else verdict=FAIL; failed=$((failed + 1)); fi
  [ "$rc" -eq 143 ] && echo "step $name: timed out after ${STEP_TIMEOUT}s"
  echo "NESTED-STEP $name $verdict rc=$rc secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')"
}
cd /minivmm || fail "/minivmm missing from the initramfs"
. /minivmm/steps.sh
echo "NESTED-DONE passed=$passed failed=$failed"
sync
poweroff -f
sleep 5
reboot -f
