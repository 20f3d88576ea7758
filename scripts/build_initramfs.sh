#!/usr/bin/env bash
# Builds a busybox-static initramfs (cpio newc + gzip) for a guest architecture.
#
#   build_initramfs.sh [--interactive] [--init FILE] [--add SRC:DEST]... [--output FILE]
#                      [--modules MODULES_DIR --module NAME[,NAME]...]... [--switch-root] ARCH
#
# ARCH is amd64 (the host's busybox-static; cloud-amd64 and x86_64 mean the
# same), arm64 or riscv64 (the foreign busybox-static that
# scripts/fetch_kernels.sh puts in the kernel cache).
# The default /init mounts proc, sys and dev, prints
#   MINIVMM-INIT-OK
#   MINIVMM-CPUS=<online CPUs>
# and then `reboot -f` (with reboot=k on an x86 command line that is an i8042
# reset request, which the VMM sees as a clean reset). --interactive (or INTERACTIVE=1, or
# minivmm.shell=1 on the kernel command line) starts a shell on the console
# instead and reboots when it exits. --init replaces /init with FILE; --add
# copies extra files or directories into the image (the nested harness uses both).
#
# --modules MODULES_DIR (an unpacked kernel package's lib/modules/VERSION)
# with --module NAME (repeatable, or a comma list) puts those modules and the
# modules they depend on, decompressed, in /lib/modules/minivmm with a
# load.order, dependencies first (scripts/nested/collect_modules.sh). A name
# the kernel builds in (MODULES_DIR/modules.builtin) is skipped; an unknown
# name is an error.
#
# --switch-root makes /init (scripts/guest/switch_root_init.sh) load those
# modules and switch to the root file system of the kernel command line:
# root=/dev/vdX (device paths only), rootfstype=, rootflags=, ro or rw (rw if
# neither), init= (default /sbin/init), minivmm.rootwait=SECS (default 30).
# It prints MINIVMM-INITRAMFS-MODULES, -ROOT and -SWITCH-ROOT lines, and on any
# failure (a module that will not load, no root device in time, a failed
# mount) `MINIVMM-INITRAMFS-FAIL: <reason>` and powers off.
# scripts/build_virtio_root_initramfs.sh calls it with the modules for a
# virtio-blk ext4 root.
#
# Prints the output path on its last line. Default: ~/.cache/minivmm/initramfs/
# <arch>[-interactive].cpio.gz; with --switch-root <arch>-switch-root-<kernel
# version>.cpio.gz; with only --modules <arch>-<kernel version>.cpio.gz.
# The archive is reproducible: same inputs, same bytes.
set -euo pipefail

die() { echo "build_initramfs: error: $*" >&2; exit 1; }
# The help is the header comment, up to its first non-comment line.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib_busybox.sh
source "$here/lib_busybox.sh"

kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
out_dir=${MINIVMM_INITRAMFS_CACHE:-$HOME/.cache/minivmm/initramfs}
interactive=${INTERACTIVE:-0}
init_file=
output=
adds=()
arch=
modules_dir=
module_names=()
switch_root=0

while (($#)); do
  case $1 in
    --interactive) interactive=1 ;;
    --init) [ $# -ge 2 ] || usage; init_file=$2; shift ;;
    --add) [ $# -ge 2 ] || usage; adds+=("$2"); shift ;;
    --output|-o) [ $# -ge 2 ] || usage; output=$2; shift ;;
    --modules) [ $# -ge 2 ] || usage; modules_dir=$2; shift ;;
    --module) [ $# -ge 2 ] || usage; module_names+=("$2"); shift ;;
    --switch-root) switch_root=1 ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$arch" ] || die "more than one ARCH given ('$arch', '$1')"; arch=$1 ;;
  esac
  shift
done
[ -n "$arch" ] || usage

busybox_for_arch "$arch"
arch=$bb_arch busybox=$bb_path
for tool in cpio gzip; do command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/setup.sh)"; done

if ((${#module_names[@]})); then
  [ -n "$modules_dir" ] || die "--module needs --modules MODULES_DIR (a kernel's lib/modules/VERSION)"
  [ -d "$modules_dir" ] || die "--modules '$modules_dir': not a directory (an unpacked kernel's lib/modules/VERSION; scripts/fetch_kernels.sh)"
else
  [ -z "$modules_dir" ] || die "--modules given without any --module NAME"
fi
if [ "$switch_root" = 1 ]; then
  [ -z "$init_file" ] || die "--switch-root and --init both set /init: give one"
  [ "$interactive" != 1 ] || die "--switch-root has no interactive shell: drop --interactive (or INTERACTIVE=1)"
fi

if [ -z "$output" ]; then
  suffix=
  [ "$interactive" = 1 ] && suffix=-interactive
  [ "$switch_root" = 1 ] && suffix=-switch-root
  # Modules belong to one kernel build: its version keeps two kernels'
  # archives (amd64 and cloud-amd64, say) apart.
  [ -z "$modules_dir" ] || suffix+=-$(basename "$(readlink -f "$modules_dir")")
  output=$out_dir/$arch$suffix.cpio.gz
fi
mkdir -p "$(dirname "$output")"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,mnt}
stage_busybox "$busybox" "$stage"

if ((${#module_names[@]})); then
  bash "$here/nested/collect_modules.sh" "$modules_dir" "$stage/lib/modules/minivmm" "${module_names[@]}" ||
    die "could not collect modules ${module_names[*]} from $modules_dir"
fi

if [ -n "$init_file" ]; then
  [ -f "$init_file" ] || die "--init $init_file: no such file"
  install -m 0755 "$init_file" "$stage/init"
elif [ "$switch_root" = 1 ]; then
  install -m 0755 "$here/guest/switch_root_init.sh" "$stage/init"
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
