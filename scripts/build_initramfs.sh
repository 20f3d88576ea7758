#!/usr/bin/env bash
# Builds a busybox-static initramfs (cpio newc + gzip) for a guest architecture.
#
#   build_initramfs.sh [--interactive] [--init FILE] [--add SRC:DEST]... [--output FILE] ARCH
#
# ARCH is amd64 (the host's busybox-static), arm64 or riscv64 (the foreign
# busybox-static that scripts/fetch_kernels.sh puts in the kernel cache).
# The default /init mounts proc, sys and dev, prints
#   MINIVMM-INIT-OK
#   MINIVMM-CPUS=<online CPUs>
# and then `reboot -f` (with reboot=k on an x86 command line that is an i8042
# reset request, which the VMM sees as a clean reset). --interactive (or INTERACTIVE=1, or
# minivmm.shell=1 on the kernel command line) starts a shell on the console
# instead and reboots when it exits. --init replaces /init with FILE; --add
# copies extra files or directories into the image (the nested harness uses both).
# Prints the output path (default ~/.cache/minivmm/initramfs/<arch>[-interactive].cpio.gz)
# on its last line. The archive is reproducible: same inputs, same bytes.
set -euo pipefail

die() { echo "build_initramfs: error: $*" >&2; exit 1; }
usage() { sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2; }

kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
out_dir=${MINIVMM_INITRAMFS_CACHE:-$HOME/.cache/minivmm/initramfs}
interactive=${INTERACTIVE:-0}
init_file=
output=
adds=()
arch=

while (($#)); do
  case $1 in
    --interactive) interactive=1 ;;
    --init) [ $# -ge 2 ] || usage; init_file=$2; shift ;;
    --add) [ $# -ge 2 ] || usage; adds+=("$2"); shift ;;
    --output|-o) [ $# -ge 2 ] || usage; output=$2; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$arch" ] || die "more than one ARCH given ('$arch', '$1')"; arch=$1 ;;
  esac
  shift
done
[ -n "$arch" ] || usage

case $arch in
  amd64|x86_64)
    arch=amd64
    busybox=/bin/busybox
    [ -x "$busybox" ] || die "$busybox missing: install busybox-static (scripts/setup.sh)"
    file -L "$busybox" | grep -q 'statically linked' ||
      die "$busybox is not statically linked: install busybox-static, not busybox" ;;
  arm64|aarch64)
    arch=arm64; busybox=$kernel_cache/arm64/busybox ;;
  riscv64)
    busybox=$kernel_cache/riscv64/busybox ;;
  *) die "unknown ARCH '$arch' (amd64, arm64 or riscv64)" ;;
esac
[ -x "$busybox" ] || die "$busybox missing: run scripts/fetch_kernels.sh first"
for tool in cpio gzip; do command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/setup.sh)"; done

if [ -z "$output" ]; then
  suffix=
  [ "$interactive" = 1 ] && suffix=-interactive
  output=$out_dir/$arch$suffix.cpio.gz
fi
mkdir -p "$(dirname "$output")"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,mnt}
install -m 0755 "$busybox" "$stage/bin/busybox"
# Applet links made here (not with `busybox --install` at boot) so /init needs no
# set-up. The host's busybox-static lists its applets; the foreign builds are
# the same or newer Debian busybox, and a missing applet only fails when used.
applets=$(/bin/busybox --list 2>/dev/null || true)
[ -n "$applets" ] || applets="sh ash mount umount mkdir cat echo ls grep sed tr cut head tail sleep
  reboot poweroff halt setsid cttyhack insmod lsmod chroot dmesg uname mknod mdev timeout
  date ps kill env true false test stty ln rm cp mv dd od wc find sync awk"
for applet in $applets; do
  [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done

if [ -n "$init_file" ]; then
  [ -f "$init_file" ] || die "--init $init_file: no such file"
  install -m 0755 "$init_file" "$stage/init"
else
  cat >"$stage/init" <<'EOF'
#!/bin/sh
# minivmm test initramfs: report, then reboot (or a shell with minivmm.shell=1).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

count_cpus() {
  local n=0 r a b
  if [ -r /sys/devices/system/cpu/online ]; then
    for r in $(tr ',' ' ' </sys/devices/system/cpu/online); do
      case $r in
        *-*) a=${r%-*}; b=${r#*-}; n=$((n + b - a + 1)) ;;
        *) n=$((n + 1)) ;;
      esac
    done
  else
    n=$(grep -c '^processor' /proc/cpuinfo)
  fi
  echo "$n"
}

shell=@INTERACTIVE@
for arg in $(cat /proc/cmdline); do
  case $arg in minivmm.shell=*) shell=${arg#minivmm.shell=} ;; esac
done

echo "MINIVMM-INIT-OK"
echo "MINIVMM-CPUS=$(count_cpus)"
if [ "$shell" = 1 ]; then
  echo "minivmm: busybox shell on the console; 'exit' or 'reboot -f' ends the VM"
  setsid cttyhack sh -l
fi
reboot -f
sleep 5
poweroff -f
EOF
  sed -i "s/@INTERACTIVE@/$interactive/" "$stage/init"
  chmod 0755 "$stage/init"
fi

if ((${#adds[@]})); then
  for spec in "${adds[@]}"; do
    src=${spec%%:*}; dest=${spec#*:}
    [ "$src" != "$spec" ] || die "--add '$spec': expected SRC:DEST"
    [ -e "$src" ] || die "--add '$spec': $src does not exist"
    mkdir -p "$stage/$(dirname "$dest")"
    cp -a "$src" "$stage/$dest"
  done
fi

# /dev/console in the archive lets the kernel give init a console before devtmpfs
# is mounted; creating it needs root, and /init copes without it.
if [ "$(id -u)" -eq 0 ]; then mknod -m 0600 "$stage/dev/console" c 5 1; fi

tmp_out=$(mktemp "$output.XXXXXX")
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
   cpio --quiet -o -H newc --owner 0:0 --reproducible) | gzip -9 -n >"$tmp_out"
chmod 0644 "$tmp_out"
if cmp -s "$tmp_out" "$output"; then rm -f "$tmp_out"; else mv "$tmp_out" "$output"; fi
echo "$output"
