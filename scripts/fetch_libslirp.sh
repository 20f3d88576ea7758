#!/usr/bin/env bash
# Fetches Debian's libslirp 4.7.0 source (the version bookworm's libslirp-dev
# packages) into ~/.cache/minivmm/src and extracts it, for the static builds
# (cmake/libslirp.cmake): Debian ships no libslirp.a. Pinned by checksum.
set -euo pipefail
version=4.7.0
sha256=358ce8b6ea59ec9deac937cc754f0115b992839e7b0cddf30ffb8f77dc21da82
md5=b815c4de99265559caf5ef635a213609
dir=${MINIVMM_SRC_CACHE:-$HOME/.cache/minivmm/src}
tarball=$dir/libslirp_$version.orig.tar.bz2
url=http://deb.debian.org/debian/pool/main/libs/libslirp/libslirp_$version.orig.tar.bz2
mkdir -p "$dir"
if [ -f "$dir/libslirp-v$version/.minivmm-extracted" ]; then
  echo "libslirp $version: $dir/libslirp-v$version"
  exit 0
fi
if [ ! -f "$tarball" ]; then
  curl -sSfL -o "$tarball.part" "$url"
  mv "$tarball.part" "$tarball"
fi
echo "$sha256  $tarball" | sha256sum -c --quiet - || { echo "fetch_libslirp: $tarball: sha256 mismatch" >&2; exit 1; }
echo "$md5  $tarball" | md5sum -c --quiet - || { echo "fetch_libslirp: $tarball: md5 mismatch" >&2; exit 1; }
rm -rf "$dir/libslirp-v$version"
tar -C "$dir" -xjf "$tarball"
touch "$dir/libslirp-v$version/.minivmm-extracted"
echo "libslirp $version: $dir/libslirp-v$version"
