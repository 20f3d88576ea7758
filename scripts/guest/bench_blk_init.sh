#!/bin/sh
# shellcheck shell=dash disable=SC2013 # busybox ash (dash has its local); a word loop over /proc/cmdline
# /sbin/init of the disk image of scripts/bench_virtio.sh (build_disk_image.sh
# --init): the guest side of the virtio benchmark. Runs under the image's
# busybox sh as PID 1, prints marker lines on /dev/console and powers off.
#
#   BENCH-INIT-OK                        first thing, as soon as init runs: the
#                                        boot benchmark's marker
# then, with bench.mode=io (the default):
#   BENCH-DATA-DISK dev=/dev/vdX bytes=N  the disk whose serial is bench.serial
#   BENCH-START <test> rep=R             just before each timed test, so the
#   BENCH <test> ...                     host can time it with its own clock
#                                        too; the BENCH line is blkbench's
#   BENCH-DONE
# or BENCH-FAIL <reason> when something is wrong. bench.mode=boot powers off
# right after the first marker.
#
# Kernel command line:
#   bench.mode=io|boot       what to do (default io)
#   bench.serial=ID          serial of the data disk (default bench-data); the
#                            disk is found by it in /sys/block/vd*/serial, so
#                            the VMMs may order their disks as they like
#   bench.mib=N              MiB of each sequential pass (default: the whole disk)
#   bench.rand_ops=N         4 KiB reads of each random pass (default 10000)
#   bench.reps=N             passes of each test (default 3)
#
# Every test is /bin/blkbench (scripts/guest/blkbench.c): O_DIRECT,
# synchronous, 1 MiB blocks for seq-read/seq-write, 4 KiB for rand-read.
# The data disk's contents are overwritten.
#
# With MINIVMM_INIT_NO_MAIN=1 in the environment it only defines its
# functions.

# parse_cmdline FILE: sets mode, serial, mib, rand_ops and reps.
# shellcheck source-path=SCRIPTDIR source=guest_lib.sh
. "${MINIVMM_GUEST_LIB:-/lib/minivmm/guest_lib.sh}"

parse_cmdline() {
  local arg
  mode=io serial=bench-data mib='' rand_ops=10000 reps=3
  set -f
  for arg in $(cat "$1"); do
    case $arg in
      bench.mode=*) mode=${arg#bench.mode=} ;;
      bench.serial=*) serial=${arg#bench.serial=} ;;
      bench.mib=*) mib=${arg#bench.mib=} ;;
      bench.rand_ops=*) rand_ops=${arg#bench.rand_ops=} ;;
      bench.reps=*) reps=${arg#bench.reps=} ;;
    esac
  done
  set +f
}

# whole_number VALUE: a positive decimal integer.
whole_number() {
  case $1 in
    ''|*[!0-9]*|0) return 1 ;;
  esac
  return 0
}

# find_data_disk SERIAL: prints /dev/vdX of the virtio disk with that serial.
find_data_disk() {
  local f
  for f in /sys/block/vd*/serial; do
    [ -r "$f" ] || continue
    if [ "$(cat "$f")" = "$1" ]; then
      f=${f%/serial}
      echo "/dev/${f##*/}"
      return 0
    fi
  done
  return 1
}

stop() {
  sync
  poweroff -f
  sleep 5
  reboot -f
}

bench_fail() {
  echo "BENCH-FAIL $*"
  stop
}

run_io() {
  local dev bytes rep test count
  whole_number "$rand_ops" || bench_fail "bench.rand_ops=$rand_ops: want a whole number above 0"
  whole_number "$reps" || bench_fail "bench.reps=$reps: want a whole number above 0"
  [ -z "$mib" ] || whole_number "$mib" || bench_fail "bench.mib=$mib: want a whole number above 0"
  # The disk may still be probing when init starts.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    dev=$(find_data_disk "$serial") && break
    sleep 0.5
  done
  [ -n "$dev" ] || bench_fail "no virtio disk with serial '$serial' (serials: $(cat /sys/block/vd*/serial 2>/dev/null | tr '\n' ' '))"
  bytes=$(($(cat "/sys/block/${dev#/dev/}/size") * 512))
  echo "BENCH-DATA-DISK dev=$dev bytes=$bytes"
  [ -n "$mib" ] || mib=$((bytes / 1048576))
  if [ "$mib" -eq 0 ] || [ $((mib * 1048576)) -gt "$bytes" ]; then
    bench_fail "bench.mib=$mib does not fit the $bytes-byte disk"
  fi
  rep=1
  while [ "$rep" -le "$reps" ]; do
    for test in seq-read seq-write rand-read; do
      count=$mib
      [ "$test" != rand-read ] || count=$rand_ops
      echo "BENCH-START $test rep=$rep"
      blkbench "$test" "$dev" "$count" || bench_fail "blkbench $test $dev $count exited $?"
    done
    rep=$((rep + 1))
  done
  echo "BENCH-DONE"
}

main() {
  guest_prologue bench_blk_init
  echo "BENCH-INIT-OK"
  parse_cmdline /proc/cmdline
  case $mode in
    boot) ;;
    io) run_io ;;
    *) bench_fail "bench.mode=$mode: want io or boot" ;;
  esac
  stop
}

[ "${MINIVMM_INIT_NO_MAIN:-}" = 1 ] || main "$@"
