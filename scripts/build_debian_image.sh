#!/usr/bin/env bash
# Builds a real Debian bookworm amd64 root file system as a raw ext4 image, to
# boot under minivmm with its root on virtio-blk and systemd as init:
#
#   build_debian_image.sh [--output FILE] [--size MiB]
#
#   vmm --kernel ~/.cache/minivmm/kernels/cloud-amd64/vmlinuz \
#       --initrd "$(scripts/build_virtio_root_initramfs.sh cloud-amd64 | tail -n1)" \
#       --disk COPY-OF-THE-IMAGE --cmdline 'console=ttyS0 root=/dev/vda rw'
#
# The system is `debootstrap --variant=minbase` with systemd-sysv and udev
# (udev makes the device units, such as dev-ttyS0.device, that
# serial-getty@ttyS0 waits for), set up for a VM:
#   - log in on the console as root, password "minivmm" (a test value: the
#     image is for test VMs only); systemd starts a getty on the console= tty
#   - hostname minivmm; /etc/fstab mounts /dev/vda on /
#   - a fixed machine-id, so no boot is a "first boot" (no systemd-firstboot
#     prompts), and /etc/.updated and /var/.updated, so no boot rebuilds the
#     hwdb or the ld.so cache
#   - the timers of apt, dpkg, fstrim and e2scrub masked, with the units that
#     wait for a network, and no gettys on virtual terminals
# Each boot writes to the image (journal, random seed): boot a copy of it
# (cp --sparse=always) so the cached image stays as built.
#
# Needs root (debootstrap makes device nodes and runs the packages'
# maintainer scripts in a chroot; mke2fs -d then keeps every file's owner)
# and the Debian mirror this machine's apt uses (as scripts/fetch_kernels.sh;
# MINIVMM_DEBIAN_MIRROR=URL overrides it).
# Installs debootstrap with apt-get when it is missing. --size is the file
# system size (default 1024 MiB; the file is sparse, ~230 MiB of it used).
# Default output: ~/.cache/minivmm/debian/bookworm-amd64.img. The image is
# rebuilt only when this script or --size changed since it was built (a
# stamp beside it holds both), so a warm run costs nothing; delete the image
# to rebuild it from the mirror's newest packages. A cold build downloads
# ~40 MB and took 3.3 min on a busy 2-core machine (2.7 min with the packages
# already in ~/.cache/minivmm/debian/debs, where they stay). Prints the
# output path on its last line.
set -euo pipefail

die() { echo "build_debian_image: error: $*" >&2; exit 1; }
log() { echo "build_debian_image: $*" >&2; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }

cache=${MINIVMM_DEBIAN_CACHE:-$HOME/.cache/minivmm/debian}
suite=bookworm
arch=amd64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
root_password=minivmm
hostname=minivmm
# Any fixed value will do; it spells "minivmm" in its first bytes.
machine_id=6d696e69766d6d000000000000000001
output=
size=1024

while (($#)); do
  case $1 in
    --output|-o) [ $# -ge 2 ] || usage; output=$2; shift ;;
    --size) [ $# -ge 2 ] || usage; size=$2; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
case $size in
  ''|*[!0-9]*) die "--size '$size': want a whole number of MiB" ;;
esac
# debootstrap's minbase with systemd and udev is ~230 MiB.
((size >= 512)) || die "--size $size: at least 512 MiB (the system alone is ~230 MiB)"
output=${output:-$cache/$suite-$arch.img}
out_dir=$(dirname "$output")
mkdir -p "$cache"
[ -d "$out_dir" ] || die "--output '$output': directory $out_dir does not exist"
output=$(realpath -m "$output")

# What the image is built from; any change to it means a rebuild.
stamp_want="$(sha256sum <"$0" | cut -d' ' -f1) size=$size"
stamp=$output.stamp
if [ -f "$output" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_want" ]; then
  log "cached: $output (built by this script with --size $size)"
  echo "$output"
  exit 0
fi

[ "$(id -u)" -eq 0 ] ||
  die "must run as root (e.g. through sudo): debootstrap creates device nodes and runs maintainer scripts in a chroot"
[ "$(dpkg --print-architecture 2>/dev/null)" = "$arch" ] ||
  die "this host is not $arch: debootstrap's second stage runs the $arch packages' scripts here"
for tool in mke2fs chroot flock sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/setup.sh)"
done
[ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 ||
    die "apt-get install debootstrap failed (try apt-get update first, or scripts/setup.sh)"
fi

# One build at a time: two test runs started together would both build.
exec 9>"$cache/.lock"
flock 9
# The other run may have built it while this one waited.
if [ -f "$output" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_want" ]; then
  log "cached: $output (built while waiting for the lock)"
  echo "$output"
  exit 0
fi

# Reuse exactly the Debian mirror this machine's apt is configured with (the
# same lookup as scripts/fetch_kernels.sh).
host_mirror() {
  local uri
  uri=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}';
           awk '/^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; break}}' /etc/apt/sources.list 2>/dev/null; } |
         grep -E '/debian/?$' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${MINIVMM_DEBIAN_MIRROR:-$(host_mirror)}
mirror=${mirror%/}

stage=
tmp_img=
cleanup() {
  # --one-file-system: never follow a /proc or /sys debootstrap left mounted.
  [ -z "$stage" ] || { umount -R "$stage/proc" "$stage/sys" 2>/dev/null || true; rm -rf --one-file-system "$stage"; }
  [ -z "$tmp_img" ] || rm -f "$tmp_img"
}
trap cleanup EXIT
# Left by a run that was killed before its trap ran.
for old in "$cache"/staging.*; do
  [ -d "$old" ] || continue
  umount -R "$old/proc" "$old/sys" 2>/dev/null || true
  rm -rf --one-file-system "$old"
done
stage=$(mktemp -d "$cache/staging.XXXXXX")
chmod 0755 "$stage"
mkdir -p "$cache/debs"

start=$(date +%s)
log "debootstrap $suite ($arch, minbase + systemd-sysv, udev) from $mirror"
debootstrap_log=$cache/debootstrap.log
if ! debootstrap --variant=minbase --include=systemd-sysv,udev --arch="$arch" --keyring="$keyring" \
       --cache-dir="$cache/debs" "$suite" "$stage" "$mirror" >"$debootstrap_log" 2>&1; then
  tail -n 15 "$debootstrap_log" >&2
  if grep -qE 'Failed getting release file|Failed getting release signature|Could not resolve|Connection refused|Unable to fetch|Network is unreachable' "$debootstrap_log"; then
    die "the Debian mirror $mirror is unreachable: debootstrap could not fetch dists/$suite/Release (log: $debootstrap_log)"
  fi
  die "debootstrap failed (log: $debootstrap_log)"
fi
log "debootstrap done after $(($(date +%s) - start)) s"

# The login: a real password check by login/PAM, with a known answer.
echo "root:$root_password" | chroot "$stage" chpasswd || die "chpasswd in the staging root failed"
echo "$hostname" >"$stage/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$hostname" >"$stage/etc/hosts"
# The initramfs mounts the root rw before systemd runs, so there is nothing
# for a boot-time fsck to do (pass 0).
printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/vda / ext4 rw,errors=remount-ro 0 0\n' \
  >"$stage/etc/fstab"
echo "$machine_id" >"$stage/etc/machine-id"

# Nothing here is useful in a test VM, and under nested emulation each costs
# boot time or wakes the VM later: package timers, trims and scrubs, a wait
# for a network that is not there, and the first-boot wizard.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer e2scrub_all.timer \
  e2scrub_reap.service systemd-networkd-wait-online.service systemd-firstboot.service getty-static.service; do
  ln -sfn /dev/null "$stage/etc/systemd/system/$unit"
done
# A VM without a display: the gettys on virtual terminals (tty1, and tty2-6
# from Debian's getty-static without logind) serve nobody; the console's
# serial getty is all a login needs.
rm -f "$stage/etc/systemd/system/getty.target.wants/getty@tty1.service"

# The packages' downloads and indexes are of no use inside the VM.
chroot "$stage" apt-get clean
rm -rf "$stage"/var/lib/apt/lists/* "$stage"/var/log/*.log "$stage"/var/cache/debconf/*-old
# Last, after everything under /usr and /etc is in place: ConditionNeedsUpdate
# (ldconfig.service, systemd-hwdb-update.service) compares these with /usr.
touch "$stage/etc/.updated" "$stage/var/.updated"

tmp_img=$(mktemp "$output.XXXXXX")
# lazy_itable_init=0: the guest kernel would otherwise spend its first
# minutes zeroing inode tables in the background.
mke2fs_log=$(mke2fs -F -q -t ext4 -L debian-root -E lazy_itable_init=0,lazy_journal_init=0 \
               -d "$stage" "$tmp_img" "${size}M" 2>&1) ||
  die "mke2fs -d $stage failed: $mke2fs_log (is --size $size MiB large enough?)"
chmod 0644 "$tmp_img"
mv "$tmp_img" "$output"
tmp_img=
echo "$stamp_want" >"$stamp"
log "built $output in $(($(date +%s) - start)) s ($(du -m "$output" | cut -f1) MiB used of $size MiB)"
echo "$output"
