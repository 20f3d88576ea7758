#!/usr/bin/env bash
# Copies kernel modules and, recursively, the modules they depend on from an
# unpacked Debian kernel package into OUTDIR, decompressed (busybox insmod does
# not read .ko.xz/.ko.zst), and writes OUTDIR/load.order: one module name a line,
# dependencies before their users, for a plain `insmod` loop.
#
#   collect_modules.sh MODULES_DIR OUTDIR MODULE...
#
# MODULE is a name ('-' and '_' alike) or a comma list of names. A name that
# MODULES_DIR/modules.builtin lists is built into the kernel: it is skipped
# without a word (the same list then works for kernels that build a driver
# in and kernels that make it a module); load.order may then be empty.
#
# Dependencies come from each module's own .modinfo "depends=" field, so no
# modules.dep (which Debian's packages do not ship: depmod makes it on install)
# and no kmod on the host are needed. Soft dependencies ("softdep=pre:
# crypto-crc32c" of ext4 and jbd2) name aliases, which only a scan of every
# module could resolve: list their module (crc32c_generic) yourself.
#
# .modinfo is read with an objcopy that knows the modules' architecture:
# $OBJCOPY if set, otherwise chosen from the first module's ELF machine
# (x86_64: objcopy; aarch64: aarch64-linux-gnu-objcopy; riscv64:
# riscv64-linux-gnu-objcopy; the plain objcopy when it is the host's own
# architecture; llvm-objcopy as a last resort).
set -euo pipefail

die() { echo "collect_modules: error: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: collect_modules.sh MODULES_DIR OUTDIR MODULE..."
moddir=$1 outdir=$2; shift 2
[ -d "$moddir" ] || die "MODULES_DIR '$moddir' is not a directory (run scripts/fetch_kernels.sh)"

# Module names treat '-' and '_' alike; index every module file by its normalised name.
declare -A path_of=() builtin=()
while IFS= read -r f; do
  base=${f##*/}; base=${base%%.ko*}
  path_of[${base//-/_}]=$f
done < <(find -L "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
((${#path_of[@]})) || die "no kernel modules (*.ko*) under '$moddir'"
if [ -f "$moddir/modules.builtin" ]; then
  while IFS= read -r f; do
    base=${f##*/}; base=${base%.ko}
    builtin[${base//-/_}]=1
  done <"$moddir/modules.builtin"
fi

mkdir -p "$outdir"
modinfo=$(mktemp)
trap 'rm -f "$modinfo"' EXIT
rm -f "$outdir"/*.ko "$outdir/load.order"
declare -A state=()
order=()
objcopy_tool=${OBJCOPY:-}

decompress_to() {
  case $1 in
    *.ko) cp "$1" "$2" ;;
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
  esac
}

# pick_objcopy KO: the host's BFD objcopy reads only its own architecture's
# objects ("file format not recognized" on an arm64 module), so the tool
# follows the module, not the host.
pick_objcopy() {
  local machine elf_arch prefix candidates=() c
  machine=$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')
  case $machine in
    62) elf_arch=x86_64 prefix=x86_64-linux-gnu ;;
    183) elf_arch=aarch64 prefix=aarch64-linux-gnu ;;
    243) elf_arch=riscv64 prefix=riscv64-linux-gnu ;;
    *) die "${1##*/}: ELF machine $machine is not x86_64, aarch64 or riscv64; set OBJCOPY" ;;
  esac
  candidates=("$prefix-objcopy")
  [ "$(uname -m)" != "$elf_arch" ] || candidates+=(objcopy)
  candidates+=(llvm-objcopy)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null; then objcopy_tool=$c; return 0; fi
  done
  die "no objcopy for $elf_arch modules (tried ${candidates[*]}): install binutils-$prefix (scripts/setup.sh) or set OBJCOPY"
}

visit() {
  local name=${1//-/_} src dst deps d
  case ${state[$name]:-} in
    done) return 0 ;;
    active) die "dependency cycle through module '$name'" ;;
  esac
  if [ -n "${builtin[$name]:-}" ]; then state[$name]='done'; return 0; fi
  src=${path_of[$name]:-}
  [ -n "$src" ] || die "module '$1' not found under $moddir (neither a module file nor in modules.builtin)"
  state[$name]=active
  dst=$outdir/$name.ko
  decompress_to "$src" "$dst"
  [ -n "$objcopy_tool" ] || pick_objcopy "$dst"
  # objcopy writes a temporary file and renames it over its output: given
  # /dev/stdout it replaced that symlink with a regular file (for every
  # process on the machine) and read no dependencies at all.
  "$objcopy_tool" -O binary --only-section=.modinfo "$dst" "$modinfo" ||
    die "$objcopy_tool could not read .modinfo of $src"
  deps=$(tr '\0' '\n' <"$modinfo" | sed -n 's/^depends=//p' | tr ',' ' ')
  for d in $deps; do visit "$d"; done
  state[$name]='done'
  order+=("$name")
}

for arg in "$@"; do
  IFS=, read -r -a names <<<"$arg"
  for m in "${names[@]}"; do
    [ -z "$m" ] || visit "$m"
  done
done
# An empty load.order (every name built in) is an empty file, not one blank line.
: >"$outdir/load.order"
((${#order[@]} == 0)) || printf '%s\n' "${order[@]}" >"$outdir/load.order"
