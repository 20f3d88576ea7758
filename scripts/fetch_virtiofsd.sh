#!/usr/bin/env bash
# Fetches virtiofsd (the Rust vhost-user-fs daemon QEMU's virtio-fs needs) for
# the exec benchmark's QEMU peer. Bookworm has no virtiofsd package (QEMU 7.2
# dropped its C daemon; the Rust one came with trixie), and trixie's needs
# glibc 2.39, so it runs on its own loader and libraries: trixie's virtiofsd,
# libc6, libcap-ng0, libgcc-s1 and libseccomp2, unpacked (never installed)
# under ~/.cache/minivmm/tools/virtiofsd, behind a wrapper script.
#
#   fetch_virtiofsd.sh    prints the wrapper's path (run it as virtiofsd)
#
# Packages come from the mirror the host's apt uses, through a private apt
# state (the host's apt is untouched); apt checks the signatures and hashes.
# Idempotent: a complete tree is reused without network access.
set -euo pipefail
die() { echo "fetch_virtiofsd: error: $*" >&2; exit 1; }

root=${MINIVMM_VIRTIOFSD_ROOT:-$HOME/.cache/minivmm/tools/virtiofsd}
wrapper=$root/virtiofsd
packages=(virtiofsd libc6 libcap-ng0 libgcc-s1 libseccomp2)
if [ -x "$wrapper" ] && [ -f "$root/.complete" ]; then echo "$wrapper"; exit 0; fi

for tool in apt-get dpkg-deb; do command -v "$tool" >/dev/null || die "'$tool' not found"; done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"
mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}';
            cat /etc/apt/sources.list 2>/dev/null | awk '/^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}'; } |
          grep -E '/debian/?$' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

state=$root.apt
rm -rf "$root"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" "$state/etc/apt.conf.d" \
  "$state/etc/preferences.d" "$state/etc/sources.list.d" "$root"
: >"$state/status"
echo "deb [arch=amd64 signed-by=$keyring] $mirror trixie main" >"$state/sources.list"
opts=(-o "APT::Architecture=amd64" -o "APT::Architectures=amd64"
      -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
      -o "Dir::Cache=$state/cache" -o "Dir::Etc::SourceList=$state/sources.list"
      -o "Dir::Etc::SourceParts=$state/etc/sources.list.d"
      -o "Dir::Etc::Preferences=$state/etc/preferences" -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
      -o "Dir::Etc::Parts=$state/etc/apt.conf.d"
      -o "Debug::NoLocking=1" -o "Acquire::Languages=none")
[ "$(id -u)" -ne 0 ] || opts+=(-o "APT::Sandbox::User=root")
apt-get -q "${opts[@]}" update >"$state/update.log" 2>&1 ||
  { tail -n 20 "$state/update.log" >&2; die "apt-get update failed (log: $state/update.log)"; }
(cd "$state/debs" && apt-get -q "${opts[@]}" download "${packages[@]}" >"$state/download.log" 2>&1) ||
  { tail -n 20 "$state/download.log" >&2; die "apt-get download ${packages[*]} failed"; }
for deb in "$state/debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done

bin=$root/usr/libexec/virtiofsd
loader=$root/usr/lib64/ld-linux-x86-64.so.2
[ -e "$loader" ] || loader=$root/lib64/ld-linux-x86-64.so.2
[ -x "$bin" ] || die "$bin missing from the virtiofsd package"
[ -e "$loader" ] || die "no ld-linux-x86-64.so.2 in trixie's libc6"
cat >"$wrapper" <<EOF
#!/bin/sh
# trixie's virtiofsd on trixie's glibc (written by scripts/fetch_virtiofsd.sh)
exec "$loader" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$bin" "\$@"
EOF
chmod +x "$wrapper"
"$wrapper" --version >/dev/null 2>&1 || die "$wrapper --version failed"
touch "$root/.complete"
echo "$wrapper"
