#!/usr/bin/env bash
# Fetches the real Debian kernels (and foreign busybox-static binaries) that the
# loader tests, benchmarks and the nested harness use, into a cache outside the
# repository. Idempotent: whatever is already unpacked and verified is skipped.
#
# Layout ($MINIVMM_KERNEL_CACHE, default ~/.cache/minivmm/kernels):
#   amd64/vmlinuz        bookworm linux-image-amd64 bzImage (xz payload)
#   amd64/modules        its lib/modules/<version> (the nested L1 loads kvm from it)
#   cloud-amd64/vmlinuz  bookworm linux-image-cloud-amd64 bzImage (LZ4 legacy payload)
#   arm64/vmlinuz        bookworm linux-image-arm64 raw Image with an MZ (PE) stub
#   riscv64/vmlinuz      trixie linux-image-riscv64 raw Image with an MZ (PE) stub
#   <arch>/modules, <arch>/version, <arch>/root (the whole unpacked package)
#   arm64/busybox        bookworm busybox-static, aarch64
#   riscv64/busybox      trixie busybox-static, riscv64
#   manifest.txt         package, version, sha256 of the .deb and of each file above
#
# Each architecture/suite gets its own apt state (lists, cache, status) under
# apt-<name>/, so the host's apt configuration and lists are never touched.
#
#   fetch_kernels.sh [--refresh]   --refresh re-resolves every package against
#                                  the archive (a newer kernel replaces the cached one)
set -euo pipefail

cache=${MINIVMM_KERNEL_CACHE:-$HOME/.cache/minivmm/kernels}
refresh=0
case ${1:-} in
  --refresh) refresh=1 ;;
  "") ;;
  *) echo "fetch_kernels: error: unknown argument '$1' (only --refresh)" >&2; exit 2 ;;
esac
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "fetch_kernels: error: $*" >&2; exit 1; }
log() { echo "fetch_kernels: $*"; }

for tool in apt-get apt-cache dpkg-deb sha256sum file; do
  command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/setup.sh)"
done
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"

mkdir -p "$cache"
# One run at a time: the nested tests each call this, and two runs sharing
# the apt state directories break each other.
command -v flock >/dev/null && { exec 9>"$cache/.lock"; flock 9; }
rm -rf "$cache"/.bb.*   # left by an interrupted run
avail_kb=$(df -Pk "$cache" | awk 'NR==2 {print $4}')
# ~250 MB of .debs and ~1.5 GB unpacked when nothing is cached yet.
if [ ! -f "$cache/manifest.txt" ] && [ "$avail_kb" -lt $((3 * 1024 * 1024)) ]; then
  die "less than 3 GiB free under $cache ($((avail_kb / 1024)) MiB); free some space"
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
security_mirror=${mirror%/debian}/debian-security
log "cache $cache, mirror $mirror"

# apt_env NAME ARCH SUITE [EXTRA]: prepares apt-NAME/. With EXTRA=updates the
# -updates and -security suites are added, as the host's own apt has them for
# bookworm. Trixie gets its base suite only: its riscv64 -updates/-security
# indexes on this mirror are inconsistent ("Mirror sync in progress?").
apt_env() {
  local name=$1 arch=$2 suite=$3 extra=${4:-} dir=$cache/apt-$1
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/etc/preferences.d" "$dir/etc/apt.conf.d"
  : >"$dir/status.tmp"
  [ -f "$dir/status" ] || mv "$dir/status.tmp" "$dir/status"
  rm -f "$dir/status.tmp"
  cat >"$dir/sources.list.new" <<EOF
deb [arch=$arch signed-by=$keyring] $mirror $suite main
EOF
  if [ "$extra" = updates ]; then
    cat >>"$dir/sources.list.new" <<EOF
deb [arch=$arch signed-by=$keyring] $mirror $suite-updates main
deb [arch=$arch signed-by=$keyring] $security_mirror $suite-security main
EOF
  fi
  if ! cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
    mv "$dir/sources.list.new" "$dir/sources.list"
    rm -f "$dir/updated"
  else
    rm -f "$dir/sources.list.new"
  fi
}

# apt_opts NAME ARCH: the options that point apt at apt-NAME/ only.
apt_opts() {
  local dir=$cache/apt-$1 arch=$2
  opts=(-o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
        -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
        -o "Dir::Cache=$dir/cache" -o "Dir::Etc::SourceList=$dir/sources.list"
        -o "Dir::Etc::SourceParts=$dir/etc/sources.list.d"
        -o "Dir::Etc::Preferences=$dir/etc/preferences" -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d"
        -o "Dir::Etc::Parts=$dir/etc/apt.conf.d"
        -o "Debug::NoLocking=1" -o "Acquire::Languages=none" -o "APT::Get::List-Cleanup=0")
  # Downloads into a root-owned home cannot be sandboxed as _apt; say so once, here.
  [ "$(id -u)" -ne 0 ] || opts+=(-o "APT::Sandbox::User=root")
}

# apt_update NAME ARCH: once per run, and only when something must be fetched.
apt_update() {
  local dir=$cache/apt-$1
  [ -f "$dir/updated.$$" ] && return 0
  apt_opts "$1" "$2"
  log "apt-get update for $1 ($2)"
  apt-get -q "${opts[@]}" update >"$dir/update.log" 2>&1 ||
    { tail -n 20 "$dir/update.log" >&2; die "apt-get update failed for $1 (log: $dir/update.log)"; }
  rm -f "$dir"/updated.*
  touch "$dir/updated.$$"
}

# resolve NAME ARCH PACKAGE: the versioned linux-image-* package a metapackage depends on.
resolve_kernel_package() {
  local name=$1 arch=$2 meta=$3 dep
  apt_opts "$name" "$arch"
  dep=$(apt-cache "${opts[@]}" show --no-all-versions "$meta" 2>/dev/null |
        awk -F': ' '/^Depends:/ {print $2; exit}' | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
        grep -E '^linux-image-[0-9]' | head -n1 || true)
  [ -n "$dep" ] || die "cannot resolve the kernel package '$meta' depends on ($name, $arch)"
  echo "$dep"
}

# download NAME ARCH PACKAGE DESTDIR: apt-get download into DESTDIR, print the .deb path.
download() {
  local name=$1 arch=$2 pkg=$3 dest=$4 deb
  apt_opts "$name" "$arch"
  mkdir -p "$dest"
  (cd "$dest" && apt-get -q "${opts[@]}" download "$pkg:$arch" >&2) ||
    die "apt-get download $pkg:$arch failed ($name)"
  deb=$(ls -t "$dest/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "apt-get download produced no .deb for $pkg:$arch"
  echo "$deb"
}

# check_bytes FILE OFFSET HEX: the bytes at OFFSET must equal HEX.
check_bytes() {
  local got
  got=$(od -An -tx1 -j "$2" -N $((${#3} / 2)) "$1" | tr -d ' \n')
  [ "$got" = "$3" ] || die "$1: expected bytes $3 at offset $2, found '${got}'"
}

verify_kernel() {
  local target=$1 f=$cache/$1/vmlinuz
  [ -s "$f" ] || die "$f missing or empty"
  case $target in
    amd64|cloud-amd64)
      check_bytes "$f" $((0x1fe)) 55aa                 # boot_flag
      check_bytes "$f" $((0x202)) 48647253             # "HdrS"
      file -L "$f" | grep -q 'bzImage' || die "$f: 'file' does not see a bzImage: $(file -L "$f")" ;;
    arm64)
      check_bytes "$f" 0 4d5a                          # "MZ" PE stub
      check_bytes "$f" $((0x38)) 41524d64 ;;           # "ARM\x64"
    riscv64)
      check_bytes "$f" 0 4d5a
      check_bytes "$f" $((0x38)) 52534305 ;;           # "RSC\x05"
  esac
}

verify_busybox() {
  local f=$cache/$1/busybox want
  case $1 in arm64) want='ARM aarch64' ;; riscv64) want='RISC-V' ;; esac
  [ -s "$f" ] || die "$f missing or empty"
  check_bytes "$f" 0 7f454c46
  file -L "$f" | grep -q "$want" || die "$f: not a $want binary: $(file -L "$f")"
  file -L "$f" | grep -q 'statically linked' || die "$f: not statically linked: $(file -L "$f")"
}

# fetch_kernel TARGET APT-NAME ARCH METAPACKAGE
fetch_kernel() {
  local target=$1 name=$2 arch=$3 meta=$4 dir=$cache/$1 pkg deb kimg kver moddir ver
  if [ -f "$dir/.done" ] && ((refresh)); then
    apt_update "$name" "$arch"
    pkg=$(resolve_kernel_package "$name" "$arch" "$meta")
    ver=$(apt_opts "$name" "$arch"; apt-cache "${opts[@]}" show --no-all-versions "$pkg" | awk '/^Version:/ {print $2; exit}')
    if [ "$(cat "$dir/.done")" = "$pkg $ver" ]; then
      log "$target: $pkg $ver is still the newest"
    else
      log "$target: $(cat "$dir/.done") -> $pkg $ver"
      rm -f "$dir/.done"
    fi
  fi
  if [ -f "$dir/.done" ]; then
    verify_kernel "$target"
    log "$target: cached $(cat "$dir/.done")"
    return 0
  fi
  apt_update "$name" "$arch"
  pkg=$(resolve_kernel_package "$name" "$arch" "$meta")
  log "$target: $meta -> $pkg"
  deb=$(download "$name" "$arch" "$pkg" "$cache/debs")
  rm -rf "$dir"
  mkdir -p "$dir/root"
  dpkg-deb -x "$deb" "$dir/root"
  # riscv64 names its (raw, PE-stubbed) Image boot/vmlinux-*, the others vmlinuz-*.
  kimg=$(cd "$dir/root/boot" && ls vmlinuz-* vmlinux-* 2>/dev/null | head -n1 || true)
  [ -n "$kimg" ] || die "$deb has no boot/vmlinuz-* or boot/vmlinux-*"
  kver=${kimg#vmlinu?-}
  # trixie's packages are usr-merged (usr/lib/modules), bookworm's are not.
  moddir=lib/modules/$kver
  [ -d "$dir/root/$moddir" ] || moddir=usr/lib/modules/$kver
  [ -d "$dir/root/$moddir" ] || die "$deb has no lib/modules/$kver or usr/lib/modules/$kver"
  ln -sfn "root/boot/$kimg" "$dir/vmlinuz"
  ln -sfn "root/$moddir" "$dir/modules"
  echo "$kver" >"$dir/version"
  basename "$deb" >"$dir/deb"
  verify_kernel "$target"
  echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$dir/.done"
  log "$target: $(cat "$dir/.done")"
}

# fetch_busybox TARGET APT-NAME ARCH
fetch_busybox() {
  local target=$1 name=$2 arch=$3 dir=$cache/$1 deb tmp
  ((refresh == 0)) || rm -f "$dir/.busybox-done"
  if [ -f "$dir/.busybox-done" ]; then
    verify_busybox "$target"
    log "$target: cached busybox-static $(cat "$dir/.busybox-done")"
    return 0
  fi
  apt_update "$name" "$arch"
  deb=$(download "$name" "$arch" busybox-static "$cache/debs")
  tmp=$(mktemp -d "$cache/.bb.XXXXXX")
  dpkg-deb -x "$deb" "$tmp"
  mkdir -p "$dir"
  local bb=$tmp/bin/busybox
  [ -f "$bb" ] || bb=$tmp/usr/bin/busybox   # usr-merged (trixie)
  [ -f "$bb" ] || die "$deb has no bin/busybox or usr/bin/busybox"
  install -m 0755 "$bb" "$dir/busybox"
  rm -rf "$tmp"
  basename "$deb" >"$dir/busybox.deb"
  verify_busybox "$target"
  dpkg-deb -f "$deb" Version >"$dir/.busybox-done"
  log "$target: busybox-static $(cat "$dir/.busybox-done")"
}

apt_env bookworm-amd64 amd64 bookworm updates
apt_env bookworm-arm64 arm64 bookworm updates
apt_env trixie-riscv64 riscv64 trixie

fetch_kernel amd64       bookworm-amd64 amd64   linux-image-amd64
fetch_kernel cloud-amd64 bookworm-amd64 amd64   linux-image-cloud-amd64
fetch_kernel arm64       bookworm-arm64 arm64   linux-image-arm64
fetch_kernel riscv64     trixie-riscv64 riscv64 linux-image-riscv64
fetch_busybox arm64      bookworm-arm64 arm64
fetch_busybox riscv64    trixie-riscv64 riscv64
rm -f "$cache"/apt-*/updated.$$

# The manifest is rewritten every run from what is on disk, so it always matches.
{
  echo "# minivmm kernel cache manifest: target package version sha256(deb) file sha256(file)"
  for t in amd64 cloud-amd64 arm64 riscv64; do
    read -r pkg ver <"$cache/$t/.done"
    deb=$cache/debs/$(cat "$cache/$t/deb")
    echo "$t $pkg $ver $(sha256sum <"$deb" | cut -d' ' -f1) $t/vmlinuz $(sha256sum <"$cache/$t/vmlinuz" | cut -d' ' -f1)"
  done
  for t in arm64 riscv64; do
    deb=$cache/debs/$(cat "$cache/$t/busybox.deb")
    echo "$t busybox-static $(cat "$cache/$t/.busybox-done") $(sha256sum <"$deb" | cut -d' ' -f1) $t/busybox $(sha256sum <"$cache/$t/busybox" | cut -d' ' -f1)"
  done
} >"$cache/manifest.txt.new"
mv "$cache/manifest.txt.new" "$cache/manifest.txt"

log "contents of $cache:"
for t in amd64 cloud-amd64 arm64 riscv64; do
  printf '  %-20s %s (%s bytes) — %s\n' "$t/vmlinuz" "$(cat "$cache/$t/version")" \
    "$(stat -L -c %s "$cache/$t/vmlinuz")" "$(file -L -b "$cache/$t/vmlinuz" | cut -c1-60)"
done
for t in arm64 riscv64; do
  printf '  %-20s %s\n' "$t/busybox" "$(file -L -b "$cache/$t/busybox" | cut -c1-60)"
done
echo "  manifest.txt:"
sed 's/^/    /' "$cache/manifest.txt"
