#!/usr/bin/env bash
# Builds an ext4 disk image with a busybox-static userland for a guest
# architecture, to boot as the root file system on a virtio-blk disk (with the
# initramfs of build_virtio_root_initramfs.sh, or a kernel that has virtio_blk
# and ext4 built in).
#
#   build_disk_image.sh ARCH OUTPUT [--size MiB] [--init FILE] [--add SRC:DEST]...
#
# ARCH is amd64 (the host's busybox-static; cloud-amd64 and x86_64 mean the
# same), arm64 or riscv64 (the foreign busybox-static of the kernel cache,
# scripts/fetch_kernels.sh). --size is the file system size (default 64 MiB;
# the file is sparse). The image holds /bin/busybox and its applet links,
# /etc/passwd and /etc/group with root, /dev/console and /dev/null, and an
# /sbin/init (scripts/guest/disk_init.sh, or --init FILE) that prints
#   MINIVMM-DISK-INIT-OK
#   MINIVMM-DISK-WROTE=/minivmm-result-TAG      (TAG from minivmm.tag=, default "default")
#   MINIVMM-RO-WRITE-FAILED | -SUCCEEDED        (with minivmm.ro_disk=DEV)
#   MINIVMM-RNG=...  MINIVMM-HWRNG-READ-OK  MINIVMM-CONSOLES=...
#   MINIVMM-DISK-DONE
# and powers off; scripts/check_disk_image.sh reads the result files back.
# --add copies extra files or directories into the image (SRC to /DEST).
#
# No root needed: mke2fs -d fills the file system from a staging directory
# and debugfs makes every file root's and adds the device nodes. The UUID and
# hash seed are fixed and every time stamp is 1 (1970-01-01 00:00:01), so
# the same inputs give the same bytes. Builds into a temporary file beside
# OUTPUT and renames it; prints OUTPUT on its last line.
set -euo pipefail

die() { echo "build_disk_image: error: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib_busybox.sh
source "$here/lib_busybox.sh"

# shellcheck disable=SC2034 # read by lib_busybox.sh
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
# Any fixed value will do; this one spells "minivm" in its first bytes.
uuid=6d696e69-766d-4d00-8000-000000000001
epoch=1
size=64
init_file=$here/guest/disk_init.sh
adds=()
positional=()

while (($#)); do
  case $1 in
    --size) [ $# -ge 2 ] || usage; size=$2; shift ;;
    --init) [ $# -ge 2 ] || usage; init_file=$2; shift ;;
    --add) [ $# -ge 2 ] || usage; adds+=("$2"); shift ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1'" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
((${#positional[@]} == 2)) || { echo "build_disk_image: error: want ARCH and OUTPUT, got ${#positional[@]} argument(s)" >&2; usage; }
arch=${positional[0]} output=${positional[1]}

busybox_for_arch "$arch"
case $size in
  ''|*[!0-9]*) die "--size '$size': want a whole number of MiB" ;;
esac
# Below ~16 MiB the ext4 journal and metadata leave little room.
((size >= 16)) || die "--size $size: at least 16 MiB"
[ -f "$init_file" ] || die "--init $init_file: no such file"
for tool in mke2fs debugfs; do
  command -v "$tool" >/dev/null || die "'$tool' not found: install e2fsprogs (scripts/setup.sh)"
done
out_dir=$(dirname "$output")
[ -d "$out_dir" ] || die "OUTPUT '$output': directory $out_dir does not exist"

stage=$(mktemp -d)
cmds=$stage.debugfs
tmp_img=
trap 'rm -rf "$stage" "$cmds"; [ -z "$tmp_img" ] || rm -f "$tmp_img"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc,mnt,run}
stage_busybox "$bb_path" "$stage"
install -m 0755 "$init_file" "$stage/sbin/init"
# What every init here starts with (scripts/guest/guest_lib.sh).
install -D -m 0644 "$here/guest/guest_lib.sh" "$stage/lib/minivmm/guest_lib.sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
chmod 1777 "$stage/tmp"

if ((${#adds[@]})); then
  for spec in "${adds[@]}"; do
    src=${spec%%:*}; dest=${spec#*:}
    [ "$src" != "$spec" ] || die "--add '$spec': expected SRC:DEST"
    [ -e "$src" ] || die "--add '$spec': $src does not exist"
    mkdir -p "$stage/$(dirname "$dest")"
    cp -a "$src" "$stage/$dest"
  done
fi

# debugfs reads one command a line and splits on blanks outside quotes.
paths=()
while IFS= read -r -d '' p; do
  case $p in *'"'*|*$'\n'*) die "cannot put '$p' in the image: a double quote or newline in its name" ;; esac
  paths+=("${p#.}")
done < <(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z)

find "$stage" -exec touch -h -d "@$epoch" {} +
tmp_img=$(mktemp "$output.XXXXXX")
# -T default -b 4096: not the "small" profile mke2fs picks below 512 MiB, so
# the layout does not change with --size. lazy_itable_init=0: the guest
# kernel would otherwise zero inode tables in the background after mounting,
# writing to a disk a test may offer read-only.
log=$(E2FSPROGS_FAKE_TIME=$epoch mke2fs -F -q -t ext4 -T default -b 4096 -L minivmm-root -U "$uuid" \
        -E "root_owner=0:0,hash_seed=$uuid,lazy_itable_init=0,lazy_journal_init=0,nodiscard" \
        -d "$stage" "$tmp_img" "${size}M" 2>&1) || die "mke2fs failed: $log"

# mke2fs -d copies each file's owner (the caller's, when not root) and its
# change time (now: nobody can set it) from the staging directory; debugfs
# sets both, and its set_current_time keeps the superblock's write time fixed.
{
  echo "set_current_time @$epoch"
  for p in / "${paths[@]}"; do
    printf 'sif "%s" %s\n' "$p" "uid 0" "$p" "gid 0" "$p" "ctime @$epoch" "$p" "atime @$epoch"
  done
  # The kernel opens /dev/console for init before anything mounts devtmpfs.
  echo 'cd /dev'
  echo 'mknod console c 5 1'
  echo 'sif console mode 020600'
  echo 'mknod null c 1 3'
  echo 'sif null mode 020666'
} >"$cmds"
# debugfs exits 0 whatever a command did; its errors are whatever it says on
# stderr besides its version banner.
errors=$(debugfs -w -f "$cmds" "$tmp_img" 2>&1 >/dev/null | grep -v '^debugfs [0-9]' || true)
[ -z "$errors" ] || die "debugfs could not finish the image: $errors"

chmod 0644 "$tmp_img"
mv "$tmp_img" "$output"
tmp_img=
echo "$output"
