#!/usr/bin/env bash
# Installs every Debian package that minivmm's build, tests, fuzzers, benchmarks
# and nested harness need. Idempotent: re-running it only checks.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  g++ clang-16 libclang-rt-16-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libboost-dev libboost-program-options-dev
  libfdt-dev device-tree-compiler acpica-tools
  zlib1g-dev libbz2-dev liblzma-dev liblz4-dev liblzo2-dev libzstd-dev
  libpcre2-dev libslirp-dev libglib2.0-dev liburing-dev libseccomp-dev
  xz-utils zstd lz4 bzip2 gzip lzop
  cpio busybox-static qemu-system-x86 qemu-utils
  dpkg-dev apt-utils
  g++-aarch64-linux-gnu g++-riscv64-linux-gnu qemu-user-static googletest
  file python3 binutils ccache
  e2fsprogs debootstrap binutils-aarch64-linux-gnu binutils-riscv64-linux-gnu
  qemu-system-arm
  qemu-system-misc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
