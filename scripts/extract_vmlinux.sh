#!/usr/bin/env bash
# Writes the ELF vmlinux inside an x86 bzImage: the payload named by the setup
# header (payload_offset/payload_length, protocol >= 2.08), decompressed with
# the matching command-line tool. Used by the nested harness to boot Debian's
# kernels through the ELF vmlinux paths, and as an independent cross-check of
# the loader's own payload decompression.
#
#   extract_vmlinux.sh BZIMAGE OUTPUT
set -euo pipefail
die() { echo "extract_vmlinux: error: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: extract_vmlinux.sh BZIMAGE OUTPUT"
in=$1 out=$2
[ -f "$in" ] || die "$in: no such file"

u8() { od -An -tu1 -j "$1" -N 1 "$in" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N 4 "$in" | tr -d ' '; }
hexat() { od -An -tx1 -j "$1" -N "$2" "$in" | tr -d ' \n'; }

[ "$(hexat $((0x202)) 4)" = 48647253 ] || die "$in: no 'HdrS' at 0x202: not a bzImage"
setup_sects=$(u8 $((0x1f1)))
((setup_sects != 0)) || setup_sects=4
payload_offset=$(u32 $((0x248)))
payload_length=$(u32 $((0x24c)))
((payload_length > 0)) || die "$in: payload_length is 0 (boot protocol older than 2.08?)"
start=$(( (setup_sects + 1) * 512 + payload_offset ))
size=$(stat -L -c %s "$in")
((start + payload_length <= size)) ||
  die "$in: payload at file offset $start + $payload_length runs past the end ($size bytes)"

magic=$(hexat "$start" 6)
case $magic in
  fd377a585a00*) tool=(xz -dc --single-stream) ;;
  02214c18*) tool=(lz4 -dc) ;;
  1f8b*) tool=(gzip -dc) ;;
  28b52ffd*) tool=(zstd -qdc) ;;
  425a68*) tool=(bzip2 -dc) ;;
  5d0000*) tool=(xz -dc --format=lzma) ;;
  894c5a4f*) tool=(lzop -dc) ;;
  *) die "$in: unknown payload compression (magic $magic at file offset $start)" ;;
esac
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The kernel appends the decompressed size after the stream; tools that
# complain about trailing bytes still write the whole ELF first.
tail -c +$((start + 1)) "$in" | head -c "$payload_length" | "${tool[@]}" >"$tmp" 2>/dev/null || true
[ "$(od -An -tx1 -N 4 "$tmp" | tr -d ' \n')" = 7f454c46 ] ||
  die "$in: the decompressed payload (${tool[0]}) is not an ELF"
# ...and that size (little-endian u32, the payload's last 4 bytes) proves the
# output is complete.
want=$(u32 $((start + payload_length - 4)))
got=$(stat -c %s "$tmp")
[ "$got" = "$want" ] || die "$in: decompressed $got bytes, the kernel's trailer says $want"
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
