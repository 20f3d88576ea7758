# shellcheck shell=bash disable=SC2034,SC2154 # sets bb_* for the caller; uses its kernel_cache
# Sourced by build_initramfs.sh and build_disk_image.sh: the static busybox
# userland both put in front of a guest kernel. The caller defines die() and
# kernel_cache (the scripts/fetch_kernels.sh cache).

# busybox_for_arch ARCH: sets bb_arch (amd64, arm64 or riscv64) and bb_path
# (a statically linked busybox for it), or dies naming what is missing.
# cloud-amd64 is accepted as amd64: the kernel differs, the userland does not.
busybox_for_arch() {
  case $1 in
    amd64|x86_64|cloud-amd64)
      bb_arch=amd64 bb_path=/bin/busybox
      [ -x "$bb_path" ] || die "$bb_path missing: install busybox-static (scripts/setup.sh)"
      # A dynamic busybox would need the host's libc inside the guest.
      file -L "$bb_path" | grep -q 'statically linked' ||
        die "$bb_path is not statically linked: install busybox-static, not busybox" ;;
    arm64|aarch64) bb_arch=arm64 bb_path=$kernel_cache/arm64/busybox ;;
    riscv64) bb_arch=riscv64 bb_path=$kernel_cache/riscv64/busybox ;;
    *) die "unknown ARCH '$1' (amd64, arm64 or riscv64)" ;;
  esac
  [ -x "$bb_path" ] || die "$bb_path missing: run scripts/fetch_kernels.sh first"
}

# stage_busybox BUSYBOX DIR: DIR/bin/busybox and a symlink per applet beside it.
# The links are made here (not with `busybox --install` at boot) so init needs
# no set-up. The host's busybox-static lists its applets; the foreign builds
# are the same or newer Debian busybox, and a missing applet only fails when used.
stage_busybox() {
  local busybox=$1 dir=$2 applets applet
  mkdir -p "$dir/bin"
  install -m 0755 "$busybox" "$dir/bin/busybox"
  applets=$(/bin/busybox --list 2>/dev/null || true)
  [ -n "$applets" ] || applets="sh ash mount umount mkdir cat echo ls grep sed tr cut head tail sleep
    reboot poweroff halt setsid cttyhack insmod lsmod chroot dmesg uname mknod mdev timeout
    date ps kill env true false test stty ln rm cp mv dd od wc find sync awk switch_root"
  for applet in $applets; do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
}
