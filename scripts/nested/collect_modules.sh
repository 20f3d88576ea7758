#!/usr/bin/env bash
# Copies kernel modules and, recursively, the modules they depend on from an
# unpacked Debian kernel package into OUTDIR, decompressed (busybox insmod does
# not read .ko.xz/.ko.zst), and writes OUTDIR/load.order: one module name a line,
# dependencies before their users, for a plain `insmod` loop.
#
#   collect_modules.sh MODULES_DIR OUTDIR MODULE...
#
# Dependencies come from each module's own .modinfo "depends=" field, so no
# modules.dep (which Debian's packages do not ship: depmod makes it on install)
# and no kmod on the host are needed.
set -euo pipefail

die() { echo "collect_modules: error: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: collect_modules.sh MODULES_DIR OUTDIR MODULE..."
moddir=$1 outdir=$2; shift 2
[ -d "$moddir" ] || die "$moddir: not a directory (run scripts/fetch_kernels.sh)"
command -v objcopy >/dev/null || die "objcopy not found (binutils; run scripts/setup.sh)"

# Module names treat '-' and '_' alike; index every module file by its normalised name.
declare -A path_of=()
while IFS= read -r f; do
  base=${f##*/}; base=${base%%.ko*}
  path_of[${base//-/_}]=$f
done < <(find -L "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

mkdir -p "$outdir"
rm -f "$outdir"/*.ko "$outdir/load.order"
declare -A state=()
order=()

decompress_to() {
  case $1 in
    *.ko) cp "$1" "$2" ;;
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
  esac
}

visit() {
  local name=${1//-/_} src dst deps d
  case ${state[$name]:-} in
    done) return 0 ;;
    active) die "dependency cycle through module '$name'" ;;
  esac
  src=${path_of[$name]:-}
  [ -n "$src" ] || die "module '$1' not found under $moddir"
  state[$name]=active
  dst=$outdir/$name.ko
  decompress_to "$src" "$dst"
  deps=$(objcopy -O binary --only-section=.modinfo "$dst" /dev/stdout | tr '\0' '\n' |
         sed -n 's/^depends=//p' | tr ',' ' ')
  for d in $deps; do visit "$d"; done
  state[$name]='done'
  order+=("$name")
}

for m in "$@"; do visit "$m"; done
printf '%s\n' "${order[@]}" >"$outdir/load.order"
