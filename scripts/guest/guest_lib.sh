# shellcheck shell=dash
# What every /sbin/init of build_disk_image.sh starts with; the image has
# this file at /lib/minivmm/guest_lib.sh (MINIVMM_GUEST_LIB overrides the
# path, for scripts/test_disk_scripts.sh on the host).

# guest_prologue NAME: refuses to go on unless PID 1 (an init mounts and
# ends with poweroff -f: run by mistake on a host as root, that would power
# the host off), then mounts proc, sysfs and devtmpfs and makes the console
# its standard input and output.
guest_prologue() {
  if [ "$$" -ne 1 ]; then
    echo "$1: not PID 1: this is a guest's init, not for running here" >&2
    exit 1
  fi
  export PATH=/bin:/sbin:/usr/bin:/usr/sbin
  [ -e /proc/self ] || mount -t proc proc /proc
  [ -d /sys/class ] || mount -t sysfs sysfs /sys
  # The initramfs moves its devtmpfs here; a kernel that mounted the root
  # itself has done so with CONFIG_DEVTMPFS_MOUNT.
  grep -q '^[^ ]* /dev devtmpfs' /proc/mounts || mount -t devtmpfs devtmpfs /dev
  exec </dev/console >/dev/console 2>&1
}
