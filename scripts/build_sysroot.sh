#!/usr/bin/env bash
# Fills the sysroot that cmake/toolchain-<arch>.cmake cross-builds against with
# the target's Debian -dev packages (headers and static libraries only).
#
#   scripts/build_sysroot.sh <aarch64|riscv64> [--refresh]
#
# Sysroot: $MINIVMM_SYSROOT, default ~/.cache/minivmm/sysroot/<arch>.
#   aarch64: bookworm arm64 (the same release as the host's cross compiler).
#   riscv64: trixie riscv64, since bookworm has no riscv64 port.
# The C runtime (glibc headers and libc.a, kernel headers, libstdc++) is NOT in
# the sysroot: it is the cross compiler's own (libc6-dev-<arch>-cross,
# linux-libc-dev-<arch>-cross, bookworm's glibc 2.36), which the compiler
# searches before any sysroot anyway. Trixie's glibc 2.41 cannot be used: its
# libc.a makes bookworm's binutils 2.40 ld crash (SIGSEGV, even for an empty
# main()). Trixie's C libraries link fine against glibc 2.36; its C++
# libraries do not (built by g++-14: they need std::ios_base_library_init()
# from libstdc++ 13+ and glibc 2.38's __isoc23_strtol), so for riscv64
# GoogleTest is built here from the host's /usr/src/googletest with the cross
# compiler instead of taken from trixie.
# Packages come from the mirror this machine's apt uses, through an apt state of
# their own (lists, cache, status under <sysroot>.apt/), so the host's apt
# configuration, lists and dpkg database are never touched; they are unpacked
# with dpkg -x, never installed.
#
# Idempotent: once a sysroot is complete for the current package list it is
# reused without network access; --refresh re-resolves against the mirror and
# rebuilds the sysroot only if a package version changed.
set -euo pipefail

die() { echo "build_sysroot: error: $*" >&2; exit 1; }
log() { echo "build_sysroot: $*"; }

arch=${1:-}
refresh=0
[ "${2:-}" = --refresh ] && refresh=1
case $arch in
  aarch64) deb_arch=arm64;   suite=bookworm ;;
  riscv64) deb_arch=riscv64; suite=trixie ;;
  *) die "usage: $0 <aarch64|riscv64> [--refresh]" ;;
esac

sysroot=${MINIVMM_SYSROOT:-$HOME/.cache/minivmm/sysroot/$arch}
sysroot=${sysroot%/}
state=$sysroot.apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

for tool in apt-get apt-cache dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/setup.sh)"
done
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"

# What minivmm links (cmake/dependencies.cmake) plus GoogleTest for the unit
# tests. Metapackages are resolved below to the versioned -dev packages.
wanted=(
  libfmt-dev libboost-dev libboost-program-options-dev
  zlib1g-dev liblzma-dev libzstd-dev liblz4-dev liblzo2-dev libbz2-dev libfdt-dev
  libpcre2-dev liburing-dev libseccomp-dev
  libglib2.0-dev
)
# libglib2.0-dev (libglib-2.0.a) is for libslirp, built from source against it
# (cmake/libslirp.cmake): Debian's libslirp-dev has no static library.
# Packaged GoogleTest only where it was built by the same g++ 12 (bookworm).
[ "$suite" = bookworm ] && wanted+=(libgtest-dev libgmock-dev)
gtest_src=/usr/src/googletest
if [ "$suite" != bookworm ]; then
  [ -f "$gtest_src/CMakeLists.txt" ] || die "$gtest_src missing (install googletest: scripts/setup.sh)"
  command -v "$arch-linux-gnu-g++" >/dev/null || die "$arch-linux-gnu-g++ missing (run scripts/setup.sh)"
  gtest_version=$(dpkg-query -W -f='${Version}' googletest 2>/dev/null || echo unknown)
  wanted+=("googletest-source=$gtest_version")   # part of the stamp only
fi
# The list itself is part of the stamp: editing it rebuilds the sysroot.
want_id=$(printf '%s\n' "$suite" "$deb_arch" "${wanted[@]}" | sha256sum | cut -c1-16)
wanted=("${wanted[@]/googletest-source=*/}")
mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | grep .)

if [ "$refresh" = 0 ] && [ -f "$sysroot/.minivmm-sysroot" ] &&
   [ "$(head -n1 "$sysroot/.minivmm-sysroot")" = "$want_id" ]; then
  log "$arch: cached in $sysroot ($(($(wc -l <"$sysroot/.minivmm-sysroot") - 1)) packages, $suite $deb_arch)"
  exit 0
fi

# Reuse exactly the Debian mirror this machine's apt is configured with.
host_mirror() {
  local uri
  uri=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}';
           cat /etc/apt/sources.list 2>/dev/null | awk '/^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}'; } |
         grep -E '/debian/?$' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=$(host_mirror)
mirror=${mirror%/}

mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" \
  "$state/etc/preferences.d" "$state/etc/apt.conf.d" "$state/etc/sources.list.d"
[ -f "$state/status" ] || : >"$state/status"
# Bookworm gets its -updates and -security suites, as the host's apt has them.
# Trixie gets its base suite only: its riscv64 -updates/-security indexes on
# this mirror have been seen inconsistent ("Mirror sync in progress?").
{
  echo "deb [arch=$deb_arch signed-by=$keyring] $mirror $suite main"
  if [ "$suite" = bookworm ]; then
    echo "deb [arch=$deb_arch signed-by=$keyring] $mirror $suite-updates main"
    echo "deb [arch=$deb_arch signed-by=$keyring] ${mirror%/debian}/debian-security $suite-security main"
  fi
} >"$state/sources.list"

opts=(-o "APT::Architecture=$deb_arch" -o "APT::Architectures=$deb_arch"
      -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
      -o "Dir::Cache=$state/cache" -o "Dir::Etc::SourceList=$state/sources.list"
      -o "Dir::Etc::SourceParts=$state/etc/sources.list.d"
      -o "Dir::Etc::Preferences=$state/etc/preferences" -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
      -o "Dir::Etc::Parts=$state/etc/apt.conf.d"
      -o "Debug::NoLocking=1" -o "Acquire::Languages=none" -o "APT::Get::List-Cleanup=0")
# Downloads into a root-owned home cannot be sandboxed as _apt.
[ "$(id -u)" -ne 0 ] || opts+=(-o "APT::Sandbox::User=root")

log "$arch: apt-get update ($suite $deb_arch from $mirror)"
apt-get -q "${opts[@]}" update >"$state/update.log" 2>&1 ||
  { tail -n 20 "$state/update.log" >&2; die "apt-get update failed (log: $state/update.log)"; }

# Follow Depends from the wanted packages, keeping only -dev packages: static
# linking needs headers and .a files, never the runtime .so packages. The C
# runtime's -dev packages (glibc, kernel headers, libstdc++, libgcc) are
# skipped: the cross compiler brings its own (see the top of this file).
mapfile -t packages < <(
  apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "${wanted[@]}" 2>/dev/null |
    grep -E '^[a-z0-9]' | sed 's/:.*//' | sort -u |
    grep -E -- '-dev$' |
    grep -vE '^(libc6-dev|linux-libc-dev|libcrypt-dev|libnsl-dev|libtirpc-dev|libstdc\+\+|libgcc|lib(asan|tsan|ubsan|hwasan|lsan|itm|atomic|quadmath|gomp|cc1)|gcc|g\+\+|cpp)' || true)
for p in "${wanted[@]}"; do
  printf '%s\n' "${packages[@]}" | grep -qx -- "$p" || die "apt cannot resolve $p for $deb_arch ($suite)"
done

# One line per package: name version. Versions decide whether to rebuild.
versions=$(apt-cache "${opts[@]}" show --no-all-versions "${packages[@]}" 2>/dev/null |
           awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}' | sort -u)
[ "$(wc -l <<<"$versions")" -eq "${#packages[@]}" ] ||
  die "apt-cache show returned versions for $(wc -l <<<"$versions") of ${#packages[@]} packages"
if [ -f "$sysroot/.minivmm-sysroot" ] &&
   [ "$(head -n $((${#packages[@]} + 1)) "$sysroot/.minivmm-sysroot")" = "$(printf '%s\n%s' "$want_id" "$versions")" ]; then
  log "$arch: $sysroot is up to date"
  exit 0
fi

log "$arch: downloading ${#packages[@]} packages: ${packages[*]}"
(cd "$state/debs" && apt-get -q "${opts[@]}" download "${packages[@]/%/:$deb_arch}" >"$state/download.log" 2>&1) ||
  { tail -n 20 "$state/download.log" >&2; die "apt-get download failed (log: $state/download.log)"; }

# Unpack into a fresh directory and swap it in, so an interrupted run never
# leaves a half-filled sysroot that looks complete.
tmp=$(mktemp -d "$sysroot.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
while read -r pkg ver; do
  # apt-get download names files with the epoch's ':' escaped as %3a.
  deb=$state/debs/${pkg}_${ver//:/%3a}_$deb_arch.deb
  [ -f "$deb" ] || deb=$state/debs/${pkg}_${ver//:/%3a}_all.deb
  [ -f "$deb" ] || die "no .deb for $pkg $ver in $state/debs"
  dpkg-deb -x "$deb" "$tmp"
done <<<"$versions"
# Absolute symlinks (e.g. usr/lib/<triplet>/libfoo.so -> /lib/...) must point
# into the sysroot, never at the host's files.
while IFS= read -r link; do
  ln -sfn "$sysroot$(readlink "$link")" "$link"
done < <(find "$tmp" -type l -lname '/*')
printf '%s\n%s\n' "$want_id" "$versions" >"$tmp/.minivmm-sysroot"

# GoogleTest for the target, built with the cross toolchain itself.
if [ "$suite" != bookworm ]; then
  log "$arch: building GoogleTest $gtest_version from $gtest_src"
  here=$(cd "$(dirname "$0")/.." && pwd)
  gbuild=$state/googletest-build
  rm -rf "$gbuild"
  cmake -S "$gtest_src" -B "$gbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-$arch.cmake" -DMINIVMM_SYSROOT="$tmp" \
    -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR="lib/$arch-linux-gnu" >"$state/googletest.log" 2>&1 &&
  cmake --build "$gbuild" -j2 >>"$state/googletest.log" 2>&1 &&
  DESTDIR=$tmp cmake --install "$gbuild" >>"$state/googletest.log" 2>&1 ||
    { tail -n 20 "$state/googletest.log" >&2; die "GoogleTest build failed (log: $state/googletest.log)"; }
  rm -rf "$gbuild"
  echo "googletest-source $gtest_version" >>"$tmp/.minivmm-sysroot"
fi
rm -rf "$sysroot.old"
[ ! -d "$sysroot" ] || mv "$sysroot" "$sysroot.old"
mv "$tmp" "$sysroot"
trap - EXIT
rm -rf "$sysroot.old"
log "$arch: $sysroot ready ($(wc -l <<<"$versions") packages, $(du -sh "$sysroot" | cut -f1))"
