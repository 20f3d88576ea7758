# shellcheck shell=bash
# Host side of the nested disk boots (lib_disk_l2.sh runs inside L1): fresh
# images before the run, and what the guest left in them afterwards, read on
# the host. Sourced by test_x86.sh, test_aarch64.sh and test_riscv64.sh
# (which set $project).
# shellcheck disable=SC2154 # project: set by the sourcing script

# disks_prepare ARCH DIR: DIR/root.img, the ext4 root of build_disk_image.sh
# for ARCH, and DIR/ro.img, 1 MiB of a recognisable pattern whose sha256 is
# kept; sets disk_args to the run_*.sh options that give them to L1 (as
# the disks with serials l1disk0 and l1disk1).
disks_prepare() {
  local arch=$1 dir=$2
  mkdir -p "$dir"
  rm -f "$dir/root.img" "$dir/ro.img" "$dir/ro.sha256"
  bash "$project/scripts/build_disk_image.sh" "$arch" "$dir/root.img" >/dev/null
  # yes ends on SIGPIPE once head has its bytes: not a failure.
  { yes MINIVMM-READ-ONLY-DISK || true; } | head -c 1048576 >"$dir/ro.img"
  sha256sum <"$dir/ro.img" >"$dir/ro.sha256"
  disks_dir=$dir
  disk_args=(--l1-disk "$dir/root.img" --l1-disk "$dir/ro.img")
}

# disks_check WHO TAG...: every TAG's result file is in the root image
# (check_disk_image.sh reads it with debugfs) and the read-only image is
# byte-identical to what the run started with.
disks_check() {
  local who=$1 rc=0
  shift
  # A run of some steps only (NESTED_ONLY, by hand) need not have booted the
  # disks' guests at all.
  if [ -n "${NESTED_ONLY:-}" ]; then
    echo "$who: the disks' checks skipped: NESTED_ONLY='$NESTED_ONLY' ran a subset of the steps"
    return 0
  fi
  if bash "$project/scripts/check_disk_image.sh" "$disks_dir/root.img" "$@"; then
    echo "$who: the guests' result files ($*) are in $disks_dir/root.img"
  else
    echo "$who: error: the guests' result files are not all in $disks_dir/root.img"
    rc=1
  fi
  if sha256sum <"$disks_dir/ro.img" | cmp -s - "$disks_dir/ro.sha256"; then
    echo "$who: the read-only disk is byte-identical after the run"
  else
    echo "$who: error: the read-only disk $disks_dir/ro.img changed"
    rc=1
  fi
  return "$rc"
}

# disks_prepare_debian DIR: DIR/debian.img, a sparse copy of the Debian
# bookworm image of build_debian_image.sh (cached: built once, minutes cold),
# appended to disk_args as L1's next disk (after disks_prepare's two:
# /dev/vdc). The boot writes to the copy (journal, random seed), never to the
# cached image.
disks_prepare_debian() {
  local dir=$1 image
  mkdir -p "$dir"
  rm -f "$dir/debian.img"
  image=$(bash "$project/scripts/build_debian_image.sh" | tail -n1)
  cp --sparse=always "$image" "$dir/debian.img"
  debian_disk=$dir/debian.img
  disk_args+=(--l1-disk "$debian_disk")
}

# disks_check_debian WHO: systemd's poweroff left the Debian image's file
# system clean: remounted read-only and synced, nothing for e2fsck -fn to fix.
disks_check_debian() {
  local who=$1 out
  if out=$(e2fsck -fn "$debian_disk" 2>&1); then
    echo "$who: the Debian image's file system is clean after the run ($(tail -n1 <<<"$out"))"
  else
    printf '%s\n' "$out" | tail -n 15
    echo "$who: error: e2fsck -fn finds the Debian image $debian_disk not clean after the run"
    return 1
  fi
}
