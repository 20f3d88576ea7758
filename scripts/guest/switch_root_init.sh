#!/bin/sh
# shellcheck shell=dash disable=SC2013 # busybox ash (dash has its local); word loops over one-name-a-line files
# /init of `build_initramfs.sh --switch-root`: loads the modules the archive
# carries, mounts the root file system the kernel command line names and
# hands over to its init. Runs under busybox sh (ash) in the guest.
#
# Kernel command line (read from /proc/cmdline: the kernel keeps root=, ro,
# rw and init= to itself and passes none of them to /init):
#   root=/dev/vdX      a device path; UUID=, LABEL=, PARTUUID= are refused
#   rootfstype=TYPE    passed to mount -t (default: let mount try them all)
#   rootflags=OPTS     extra mount options
#   ro | rw            the last one wins; neither means rw (unlike the
#                      kernel's ro, as nothing remounts the root later)
#   init=PATH          the root's init (default /sbin/init)
#   minivmm.rootwait=SECS  how long to wait for the root device (default 30)
#
# Console lines:
#   MINIVMM-INITRAMFS-MODULES loaded=N present=M
#   MINIVMM-INITRAMFS-ROOT dev=/dev/vda fstype=ext4 mode=rw
#   MINIVMM-INITRAMFS-SWITCH-ROOT init=/sbin/init
#   MINIVMM-INITRAMFS-FAIL: <reason>     then poweroff -f, so a test never hangs
#
# With MINIVMM_INIT_NO_MAIN=1 in the environment it only defines its
# functions (scripts/test_disk_scripts.sh sources it to test the parsing).

MODDIR=/lib/modules/minivmm
console_ok=0

# say LINE: to the console once it is open; before that (console=hvc0 whose
# driver is still a module to load) to the kernel log, at a level `quiet`
# still shows, which the console replays when it registers.
say() {
  if [ "$console_ok" = 1 ]; then
    echo "$*"
  else
    echo "<2>$*" >/dev/kmsg 2>/dev/null || echo "$*"
  fi
}

fail() {
  say "MINIVMM-INITRAMFS-FAIL: $*"
  poweroff -f
  sleep 5
  reboot -f
  # Still here: exiting PID 1 panics the kernel, which also ends the VM.
  exit 1
}

open_console() {
  if (: </dev/console >/dev/console) 2>/dev/null; then
    exec </dev/console >/dev/console 2>&1
    console_ok=1
  fi
}

# load_modules DIR: insmod each DIR/NAME.ko of DIR/load.order in order. A
# module already in the kernel (built in with a /sys/module entry, or loaded)
# is fine; any other failure ends the boot naming the module.
load_modules() {
  local dir="$1" name out loaded=0 present=0
  [ -f "$dir/load.order" ] || { say "MINIVMM-INITRAMFS-MODULES loaded=0 present=0"; return 0; }
  for name in $(cat "$dir/load.order"); do
    if [ -d "/sys/module/$name" ]; then present=$((present + 1)); continue; fi
    if out=$(insmod "$dir/$name.ko" 2>&1); then
      loaded=$((loaded + 1))
    else
      case $out in
        *"File exists"*) present=$((present + 1)) ;;
        *) fail "insmod $name: $(printf '%s' "$out" | tr '\n' ' ')" ;;
      esac
    fi
  done
  say "MINIVMM-INITRAMFS-MODULES loaded=$loaded present=$present"
}

# parse_cmdline FILE: sets root, rootfstype, rootflags, rootmode (ro|rw),
# new_init and rootwait from a kernel command line.
parse_cmdline() {
  local arg
  root='' rootfstype='' rootflags='' rootmode=rw new_init=/sbin/init rootwait=30
  set -f
  for arg in $(cat "$1"); do
    case $arg in
      root=*) root=${arg#root=} ;;
      rootfstype=*) rootfstype=${arg#rootfstype=} ;;
      rootflags=*) rootflags=${arg#rootflags=} ;;
      ro) rootmode=ro ;;
      rw) rootmode=rw ;;
      init=*) new_init=${arg#init=} ;;
      minivmm.rootwait=*) rootwait=${arg#minivmm.rootwait=} ;;
    esac
  done
  set +f
}

# check_root: refuses what this init cannot find without blkid/udev.
check_root() {
  case $root in
    '') echo "no root= on the kernel command line (want root=/dev/vda)"; return 1 ;;
    UUID=*|PARTUUID=*|LABEL=*|PARTLABEL=*)
      echo "root=$root: only device paths such as /dev/vda are supported"; return 1 ;;
    /dev/*) ;;
    *) echo "root=$root is not a /dev path (want root=/dev/vda)"; return 1 ;;
  esac
  case $rootwait in
    ''|*[!0-9]*) echo "minivmm.rootwait=$rootwait is not a whole number of seconds"; return 1 ;;
  esac
  case $new_init in
    /*) ;;
    *) echo "init=$new_init is not an absolute path"; return 1 ;;
  esac
  return 0
}

# wait_for_root: the disk's driver probes asynchronously after insmod, so the
# node may come a moment later; devtmpfs makes it without udev.
wait_for_root() {
  local tenths=0
  while [ ! -b "$root" ]; do
    [ "$tenths" -ge $((rootwait * 10)) ] && return 1
    [ "$tenths" -eq 0 ] && say "minivmm-initramfs: waiting up to ${rootwait}s for $root"
    sleep 0.1
    tenths=$((tenths + 1))
  done
  return 0
}

main() {
  # It mounts, and ends with poweroff -f: run by mistake on a host as root,
  # that would power the host off.
  if [ "$$" -ne 1 ]; then
    echo "switch_root_init: not PID 1: this is a guest's init, not for running here" >&2
    exit 1
  fi
  export PATH=/bin:/sbin:/usr/bin:/usr/sbin
  mount -t proc proc /proc || fail "mounting /proc failed"
  mount -t sysfs sysfs /sys || fail "mounting /sys failed"
  mount -t devtmpfs devtmpfs /dev || fail "mounting devtmpfs on /dev failed"
  open_console
  load_modules "$MODDIR"
  # virtio_console may just have brought the console the command line asked
  # for last (console=ttyS0 console=hvc0): reopened, /dev/console is that one,
  # as it will be for the root's init.
  open_console

  parse_cmdline /proc/cmdline
  local why opts
  why=$(check_root) || fail "$why"
  wait_for_root || fail "root device $root did not appear within ${rootwait}s (block devices: $(cd /sys/class/block && echo *))"

  opts=$rootmode${rootflags:+,$rootflags}
  say "MINIVMM-INITRAMFS-ROOT dev=$root fstype=${rootfstype:-auto} mode=$rootmode"
  mkdir -p /newroot
  if [ -n "$rootfstype" ]; then
    why=$(mount -t "$rootfstype" -o "$opts" "$root" /newroot 2>&1)
  else
    why=$(mount -o "$opts" "$root" /newroot 2>&1)
  fi || fail "mounting $root (${rootfstype:-any type}, $opts) on /newroot: $(printf '%s' "$why" | tr '\n' ' ')"
  [ -e "/newroot$new_init" ] || [ -L "/newroot$new_init" ] || fail "$new_init not found on $root"

  # The new init starts with devtmpfs already on /dev (as the kernel's own
  # devtmpfs.mount would give it) and mounts proc and sysfs itself.
  if [ -d /newroot/dev ]; then
    mount --move /dev /newroot/dev || fail "moving /dev to /newroot/dev failed"
  else
    say "minivmm-initramfs: $root has no /dev; its init starts without devtmpfs"
  fi
  umount /sys
  umount /proc
  say "MINIVMM-INITRAMFS-SWITCH-ROOT init=$new_init"
  exec switch_root -c /dev/console /newroot "$new_init" "$@"
}

[ "${MINIVMM_INIT_NO_MAIN:-}" = 1 ] || main "$@"
