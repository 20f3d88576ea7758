#!/usr/bin/env bash
# Rebuilds Boost.Program_options for the riscv64 sysroot with the host's
# cross g++-12. Trixie's libboost_program_options.a (the only riscv64 Debian
# archive) was built by g++-14 against glibc 2.38+, and bookworm's riscv64
# cross ld crashes (SIGSEGV) on it; the sysroot's own Boost 1.83 headers are
# kept, and the library is compiled from trixie's boost1.83 source package
# (apt-get source through a private apt state: the host's apt is untouched).
#
#   build_boost_program_options.sh [SYSROOT]   (default ~/.cache/minivmm/sysroot/riscv64)
#
# Idempotent: a stamp next to the library holds the rebuilt library's sha256,
# so a library the sysroot script unpacked again (trixie's) is rebuilt again.
set -euo pipefail
die() { echo "build_boost_program_options: error: $*" >&2; exit 1; }
sysroot=${1:-${MINIVMM_SYSROOT:-$HOME/.cache/minivmm/sysroot/riscv64}}
cache=$HOME/.cache/minivmm/src
lib=$sysroot/usr/lib/riscv64-linux-gnu/libboost_program_options.a
stamp=$lib.minivmm-g++12
[ -f "$lib" ] || die "$lib missing (run scripts/build_sysroot.sh riscv64 first)"
if [ -f "$stamp" ] && [ "$(sha256sum <"$lib")" = "$(cat "$stamp")" ]; then
  echo "build_boost_program_options: $lib already rebuilt"; exit 0
fi
command -v riscv64-linux-gnu-g++ >/dev/null || die "riscv64-linux-gnu-g++ not found (scripts/setup.sh)"

version=$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' "$sysroot/usr/include/boost/version.hpp" | tr _ .)
[ -n "$version" ] || die "cannot read the Boost version from $sysroot/usr/include/boost/version.hpp"
apt_state=$HOME/.cache/minivmm/src-apt
mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial" "$cache"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
  >"$apt_state/sources.list"
apt=(-o Dir::Etc::SourceList="$apt_state/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$apt_state/lists" -o Dir::Cache="$apt_state/cache")
tarball=$(ls "$cache"/boost"$version"_*.orig.tar.xz 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
  apt-get "${apt[@]}" update -q >&2
  (cd "$cache" && apt-get "${apt[@]}" source --download-only -q "boost$version" >&2)
  tarball=$(ls "$cache"/boost"$version"_*.orig.tar.xz | head -n1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work" --wildcards '*/libs/program_options/src/*'
objs=()
for src in "$work"/*/libs/program_options/src/*.cpp; do
  obj=$work/$(basename "$src" .cpp).o
  riscv64-linux-gnu-g++ -std=c++17 -O2 -fPIC -DNDEBUG \
    -isystem "$sysroot/usr/include" -c "$src" -o "$obj"
  objs+=("$obj")
done
cp "$lib" "$lib.trixie"
rm -f "$lib"
riscv64-linux-gnu-ar rcs "$lib" "${objs[@]}"
sha256sum <"$lib" >"$stamp"
echo "build_boost_program_options: rebuilt $lib (${#objs[@]} objects, Boost $version)"
