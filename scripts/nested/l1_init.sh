#!/bin/sh
# /init of the nested harness's L1 guest (busybox). Loads KVM and virtio-9p
# modules, mounts the host's root read-only over 9p with a tmpfs overlay on
# top (so tests may write), chroots into it and runs the harness's runner
# (l1_runner.sh) on the steps file named on the kernel command line. Every
# state is reported with a NESTED-* marker line for the host to read.
export PATH=/bin
# shellcheck source=lib_l1.sh
. /lib/lib_l1.sh
l1_start

runner='' steps='' project='' interactive=0
for arg in $(cat /proc/cmdline); do
  case $arg in
    minivmm.runner=*) runner=${arg#*=} ;;
    minivmm.steps=*) steps=${arg#*=} ;;
    minivmm.project=*) project=${arg#*=} ;;
    minivmm.interactive=*) interactive=${arg#*=} ;;
  esac
done
[ -n "$runner" ] && [ -n "$steps" ] && [ -n "$project" ] ||
  l1_fail "kernel command line lacks minivmm.runner=, minivmm.steps= or minivmm.project="

# Nested paging is what makes L2 usable under TCG; ask for it explicitly.
l1_load_modules /lib/modules "kvm_amd:nested=1 npt=1"
[ -c /dev/kvm ] || l1_fail "/dev/kvm did not appear after loading kvm_amd"
echo "NESTED-L1-KVM nested=$(cat /sys/module/kvm_amd/parameters/nested) npt=$(cat /sys/module/kvm_amd/parameters/npt)"

mkdir -p /host /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host ||
  l1_fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o size=1536m tmpfs /rw
mkdir -p /rw/upper /rw/work
# The overlay keeps the host's /tmp (build trees may live there) visible and
# writable; only without it does /tmp become an empty tmpfs.
overlay=1
if ! mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot; then
  echo "NESTED-L1-WARN overlay over 9p failed; the host root stays read-only"
  mount --bind /host /newroot || l1_fail "cannot bind /host"
  overlay=0
fi
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
if [ "$overlay" = 0 ]; then
  mount -t tmpfs tmpfs /newroot/tmp
  mount -t tmpfs tmpfs /newroot/run
fi
[ -f "/newroot$runner" ] || l1_fail "runner $runner not visible in the host root"
[ -f "/newroot$steps" ] || l1_fail "steps file $steps not visible in the host root"

echo "NESTED-L1-UP uptime=$(l1_uptime)"
env_args="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-linux} TMPDIR=/tmp"
if [ "$interactive" = 1 ]; then
  setsid cttyhack env -i $env_args chroot /newroot /bin/bash "$runner" "$project" "$steps"
else
  env -i $env_args chroot /newroot /bin/bash "$runner" "$project" "$steps"
fi
echo "NESTED-L1-EXIT rc=$? uptime=$(l1_uptime)"
l1_poweroff
