#!/usr/bin/env bash
# Copies what `vmm exec` needs out of a kernel's module tree (a fetched
# Debian kernel's, see fetch_kernels.sh) into DST with the same layout:
# modules.builtin and the virtio, virtio-console, virtio-fs and 9p modules
# with their dependencies (those that exist: trixie builds some in). The
# busybox L1s of the aarch64/riscv64 harness carry this instead of the
# whole tree.
#
#   exec_modules.sh SRC DST
set -euo pipefail
src=${1:?usage: exec_modules.sh SRC DST} dst=${2:?usage: exec_modules.sh SRC DST}
[ -d "$src/kernel" ] || { echo "exec_modules: $src has no kernel/ tree" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst"
for f in modules.builtin modules.order; do
  [ ! -f "$src/$f" ] || cp "$src/$f" "$dst/"
done
for name in virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev virtio_mmio \
  virtio_console fuse virtiofs 9pnet 9pnet_virtio 9p netfs fscache; do
  while IFS= read -r f; do
    rel=${f#"$src"/}
    mkdir -p "$dst/$(dirname "$rel")"
    cp "$f" "$dst/$rel"
  done < <(find "$src/kernel" -name "$name.ko*")
done
