# shellcheck shell=bash
# Nested harness (x86_64): the L1-side helpers every nested benchmark shares
# (lib_bench_virtio.sh, lib_bench_net.sh; the host side's closing summary is
# lib_bench_summary.sh). The bench script lists this file before its own lib,
# so a step's shell has the functions. Needs BENCH_DIR (exported): the
# benchmark's directory in L1's RAM.

# bench_spawn CMD...: starts CMD in the background with its stdout and stderr
# on a FIFO, open for reading on descriptor $out; sets the caller's pid and
# out. Not a coproc (bash closes a coproc's descriptors once it reaps it,
# unread lines and all) nor <(...) (L1's devtmpfs has no /dev/fd).
# shellcheck disable=SC2034 # pid and out are the caller's
bench_spawn() {
  local fifo
  fifo=$(mktemp -u "$BENCH_DIR/console.XXXXXX")
  mkfifo "$fifo" || { echo "bench_spawn: mkfifo $fifo failed"; return 1; }
  "$@" </dev/null >"$fifo" 2>&1 &
  pid=$!
  # Blocks until the child has opened its end, which its redirection does
  # before anything else, even when CMD cannot be run.
  exec {out}<"$fifo"
  rm -f "$fifo"
}

# bench_median FILE [FIELD]: the median of a one-value-a-line file, or of
# FIELD=VALUE words in it; nothing (and status 1) for a missing or empty file.
bench_median() {
  local file=$1 field=${2:-}
  [ -s "$file" ] || return 1
  if [ -n "$field" ]; then
    tr ' ' '\n' <"$file" | sed -n "s/^$field=//p"
  else
    cat "$file"
  fi | sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2];
                                      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# bench_row FIGURE MINIVMM-LABEL MINIVMM QEMU-LABEL QEMU GOAL TARGET FORMAT:
# one NESTED-BENCH line; GOAL ge (minivmm / QEMU should be >= TARGET) or le.
# An empty value (no successful run) prints n/a.
bench_row() {
  awk -v fig="$1" -v ml="$2" -v m="$3" -v ql="$4" -v q="$5" -v goal="$6" -v t="$7" -v fmt="$8" 'BEGIN {
    if (m == "" || q == "") { ratio = "n/a"; met = "no figure" }
    else { ratio = sprintf("%.2fx", m / q); met = (goal == "ge" ? m / q >= t : m / q <= t) ? "met" : "NOT met" }
    printf "NESTED-BENCH %-22s %-10s %9s   %-16s %9s   %6s   %s %.2fx: %s\n", fig, ml,
           (m == "" ? "n/a" : sprintf(fmt, m)), ql, (q == "" ? "n/a" : sprintf(fmt, q)), ratio,
           (goal == "ge" ? ">=" : "<="), t, met }'
}
