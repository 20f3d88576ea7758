#!/usr/bin/env bash
# Reads back, on the host, the result files the disk image's /sbin/init
# (build_disk_image.sh) wrote in the guest: for each TAG, /minivmm-result-TAG
# must exist and its first line must be MINIVMM-WROTE-TAG.
#
#   check_disk_image.sh IMAGE TAG...
#
# Prints each result file under a "== TAG" line. Exits 0 when every TAG's
# file is right, 1 naming each tag whose file is missing or wrong (or when
# IMAGE is no ext2/3/4 image), 2 on bad arguments. A guest that stopped
# without unmounting may have left its last writes only in the journal, which
# debugfs does not read: such an image is copied and the copy's journal
# replayed (e2fsck -E journal_only); IMAGE itself is only read.
set -euo pipefail

die() { echo "check_disk_image: error: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
case ${1:-} in -h|--help) usage ;; esac
[ $# -ge 2 ] || usage
image=$1; shift
[ -f "$image" ] || [ -b "$image" ] || die "IMAGE '$image': no such file"
for tool in debugfs dumpe2fs e2fsck; do
  command -v "$tool" >/dev/null || die "'$tool' not found: install e2fsprogs (scripts/setup.sh)"
done
for tag in "$@"; do
  case $tag in
    ''|*[!A-Za-z0-9._-]*|.*) echo "check_disk_image: error: bad TAG '$tag' (letters, digits, . _ -; not starting with .)" >&2; exit 2 ;;
  esac
done

features=$(dumpe2fs -h "$image" 2>/dev/null | sed -n 's/^Filesystem features:[[:space:]]*//p') ||
  die "IMAGE '$image' is not an ext2/3/4 file system (dumpe2fs cannot read it)"
[ -n "$features" ] || die "IMAGE '$image' is not an ext2/3/4 file system (dumpe2fs cannot read it)"
read_from=$image
tmp=
trap '[ -z "$tmp" ] || rm -f "$tmp"' EXIT
if [[ " $features " == *" needs_recovery "* ]]; then
  tmp=$(mktemp "${TMPDIR:-/tmp}/check_disk_image.XXXXXX")
  cp --sparse=always "$image" "$tmp"
  # e2fsck's exit 1 means it changed something: here, replayed the journal.
  rc=0
  e2fsck -E journal_only -y "$tmp" >/dev/null 2>&1 || rc=$?
  ((rc <= 1)) || die "replaying the journal of a copy of '$image' failed (e2fsck exit $rc)"
  echo "check_disk_image: $image had an unreplayed journal; read a replayed copy"
  read_from=$tmp
fi

bad=()
for tag in "$@"; do
  file=/minivmm-result-$tag
  echo "== $tag ($file)"
  # debugfs says "File not found" on stderr and still exits 0: decide on content.
  content=$(debugfs -R "cat $file" "$read_from" 2>/dev/null) || content=
  if [ -z "$content" ]; then
    echo "(missing)"
    bad+=("$tag: $file missing")
    continue
  fi
  printf '%s\n' "$content"
  first=${content%%$'\n'*}
  [ "$first" = "MINIVMM-WROTE-$tag" ] ||
    bad+=("$tag: $file starts with '$first', not 'MINIVMM-WROTE-$tag'")
done

if ((${#bad[@]})); then
  printf 'check_disk_image: FAIL %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_disk_image: ${#@} result file(s) ok in $image"
