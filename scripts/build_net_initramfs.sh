#!/usr/bin/env bash
# Builds the virtio-net proof's L2 initramfs for KERNEL (amd64, cloud-amd64,
# arm64, riscv64 in the kernel cache): busybox, scripts/guest/net_init.sh as
# /init, and the kernel's virtio_pci/virtio_mmio/virtio_net modules with
# their dependencies (those built in are skipped).
#
#   build_net_initramfs.sh [--output FILE] KERNEL
#
# Prints the output path on its last line (default
# ~/.cache/minivmm/initramfs/KERNEL-net.cpio.gz).
set -euo pipefail
die() { echo "build_net_initramfs: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
kernel_cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
out_dir=${MINIVMM_INITRAMFS_CACHE:-$HOME/.cache/minivmm/initramfs}
output= kernel=
while (($#)); do
  case $1 in
    --output|-o) [ $# -ge 2 ] || die "--output needs a path"; output=$2; shift ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$kernel" ] || die "more than one KERNEL"; kernel=$1 ;;
  esac
  shift
done
case $kernel in
  amd64|cloud-amd64) arch=amd64 ;;
  arm64|riscv64) arch=$kernel ;;
  *) die "KERNEL must be amd64, cloud-amd64, arm64 or riscv64" ;;
esac
[ -d "$kernel_cache/$kernel/modules" ] || die "$kernel_cache/$kernel/modules missing: run scripts/fetch_kernels.sh"
bash "$here/build_initramfs.sh" --init "$here/guest/net_init.sh" --modules "$kernel_cache/$kernel/modules" \
  --module virtio_pci,virtio_mmio,virtio_net --output "${output:-$out_dir/$kernel-net.cpio.gz}" "$arch"
