#!/usr/bin/env bash
# Builds the root-switching initramfs for one of the cached Debian kernels:
# build_initramfs.sh --switch-root with the modules a virtio-blk ext4 root, the
# virtio console and the virtio rng need, for both transports:
#   crc32c_generic virtio_pci virtio_mmio virtio_blk virtio_console virtio_rng ext4
# plus what they depend on; the names a kernel builds in are skipped
# (cloud-amd64: ext4 and crc32c; riscv64: virtio_pci, virtio_console).
# crc32c_generic is listed because ext4 and jbd2 only soft-depend on
# "crypto-crc32c", and the metadata_csum ext4 of build_disk_image.sh cannot be
# mounted without it.
#
#   build_virtio_root_initramfs.sh [--output FILE] [--module NAME]... KERNEL
#
# KERNEL is amd64, cloud-amd64, arm64 or riscv64: the modules come from
# ~/.cache/minivmm/kernels/KERNEL/modules (scripts/fetch_kernels.sh), busybox
# as in build_initramfs.sh. --module adds more names. Default output:
# ~/.cache/minivmm/initramfs/KERNEL-virtio-root.cpio.gz. Prints the output
# path on its last line. For any other unpacked kernel package:
#   build_initramfs.sh --switch-root --modules DIR/lib/modules/VERSION \
#     --module crc32c_generic,virtio_pci,virtio_mmio,virtio_blk,virtio_console,virtio_rng,ext4 ARCH
set -euo pipefail

die() { echo "build_virtio_root_initramfs: error: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
out_dir=${MINIVMM_INITRAMFS_CACHE:-$HOME/.cache/minivmm/initramfs}
modules=crc32c_generic,virtio_pci,virtio_mmio,virtio_blk,virtio_console,virtio_rng,ext4
output=
kernel=

while (($#)); do
  case $1 in
    --output|-o) [ $# -ge 2 ] || usage; output=$2; shift ;;
    --module) [ $# -ge 2 ] || usage; modules+=,$2; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$kernel" ] || die "more than one KERNEL given ('$kernel', '$1')"; kernel=$1 ;;
  esac
  shift
done
[ -n "$kernel" ] || usage
case $kernel in
  amd64|cloud-amd64) arch=amd64 ;;
  arm64|riscv64) arch=$kernel ;;
  *) die "unknown KERNEL '$kernel' (amd64, cloud-amd64, arm64 or riscv64)" ;;
esac
[ -d "$kernel_cache/$kernel/modules" ] ||
  die "$kernel_cache/$kernel/modules missing: run scripts/fetch_kernels.sh first"

bash "$here/build_initramfs.sh" --switch-root --modules "$kernel_cache/$kernel/modules" --module "$modules" \
  --output "${output:-$out_dir/$kernel-virtio-root.cpio.gz}" "$arch"
