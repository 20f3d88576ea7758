# shellcheck shell=bash
# The host side of a nested benchmark's end (bench_virtio.sh, bench_exec.sh):
#
#   bench_summary NAME LOG NOTE   -> 0 when LOG holds a summary table, else 1
#
# prints the date, host and load, NOTE, the run's NESTED-BENCH table and its
# NESTED-BENCH-RAW figures.
bench_summary() {
  local name=$1 log=$2 note=$3 rc=0
  echo
  echo "$name: $(date -u +%Y-%m-%d), nested L1 (QEMU TCG, SVM+NPT) on $(nproc) host CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$name: $note"
  if ! tr -d '\r' <"$log" | sed -n 's/^NESTED-BENCH //p' | grep .; then
    echo "$name: no summary table in $log (the summary step did not run or failed)"
    rc=1
  fi
  tr -d '\r' <"$log" | sed -n 's/^NESTED-BENCH-RAW /  raw: /p'
  return "$rc"
}
