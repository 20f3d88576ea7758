# shellcheck shell=bash
# The host side of a nested run, shared by run_x86.sh, run_aarch64.sh and
# run_riscv64.sh: runs L1 (QEMU, its serial console on stdout) under a
# timeout, keeps the console in a log, streams the markers, then gives the
# verdict (lib_verdict.sh).
#
#   nested_run NAME LOG OVERALL_TIMEOUT VERBOSE QEMU-COMMAND...  -> 0 pass, 1 fail
#
# The previous log is kept as LOG.1. Without VERBOSE (0) only the NESTED-*
# markers are shown, each with the seconds since QEMU started (not
# NESTED-STEP-BEGIN or NESTED-EXPECT: the step's verdict line follows);
# VERBOSE=1 shows every console line.

# shellcheck source=lib_verdict.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_verdict.sh"

nested_run() {
  local name=$1 log=$2 overall_timeout=$3 verbose=$4 start rc errexit=0
  shift 4
  [ -f "$log" ] && mv -f "$log" "$log.1"
  : >"$log"
  echo "$name: L1 = ${*:1:12} ... (console: $log)"
  start=$EPOCHREALTIME
  [[ $- == *e* ]] && errexit=1
  set +e
  local fifo qemu_pid watch_pid
  fifo=$(mktemp -u "${TMPDIR:-/tmp}/nested-console.XXXXXX")
  mkfifo "$fifo" || { echo "$name: cannot make $fifo"; return 1; }
  timeout -k 10 "$overall_timeout" "$@" </dev/null >"$fifo" 2>&1 &
  qemu_pid=$!
  nested_watch_silence "$name" "$log" "$qemu_pid" &
  watch_pid=$!
  nested_console_lines "$name" "$log" "$start" "$verbose" <"$fifo"
  wait "$qemu_pid"
  rc=$?
  kill "$watch_pid" 2>/dev/null
  wait "$watch_pid" 2>/dev/null
  rm -f "$fifo"
  ((errexit)) && set -e
  echo "$name: whole run $(nested_elapsed "$start")s"
  nested_verdict "$name" "$log" "$rc" "$overall_timeout"
}

# nested_watch_silence NAME LOG PID: stops PID (the timeout around QEMU)
# when LOG has not grown for NESTED_SILENCE seconds (default 420, above any
# step's quiet stretch): an L1 that froze (its vCPU asleep, no timer waking
# it; seen under the x86 hostile guest) then fails in minutes, not at the
# whole run's timeout, with a line in the log saying so.
nested_watch_silence() {
  local name=$1 log=$2 pid=$3 silence=${NESTED_SILENCE:-420} idle=0 size last=-1
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if [ "$size" = "$last" ]; then idle=$((idle + 10)); else idle=0 last=$size; fi
    if ((idle >= silence)); then
      echo "NESTED-HOST-FROZEN no console output for ${idle}s: L1 looks frozen; stopping it" | tee -a "$log" >&2
      kill -TERM "$pid" 2>/dev/null
      return 0
    fi
  done
}

# nested_knobs NAME...: an `export NAME='VALUE'` line for each NAME set in
# this environment, for a steps file L1 sources (aarch64, riscv64: their L1
# does not see this host's environment; x86 passes them with --env). Single
# quotes inside VALUE are kept.
nested_knobs() {
  local knob value
  for knob in "$@"; do
    value=${!knob:-}
    [ -n "$value" ] || continue
    printf "export %s='%s'\n" "$knob" "${value//\'/\'\\\'\'}"
  done
}

# nested_elapsed START: seconds since START ($EPOCHREALTIME), one decimal.
nested_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}'; }

# nested_console_lines NAME LOG START VERBOSE: the console read loop (stdin).
nested_console_lines() {
  local name=$1 log=$2 start=$3 verbose=$4 line l1_up=''
  while IFS= read -r line; do
    line=${line%$'\r'}
    printf '%s\n' "$line" >>"$log"
    if ((verbose)); then
      printf '  | %s\n' "$line"
    elif [[ $line == *NESTED-* && $line != *NESTED-STEP-BEGIN* && $line != *NESTED-EXPECT* ]]; then
      printf '  [%6ss] %s\n' "$(nested_elapsed "$start")" "NESTED-${line#*NESTED-}"
    fi
    if [[ $line == *NESTED-L1-UP* && -z $l1_up ]]; then l1_up=$(nested_elapsed "$start"); fi
  done
  if [ -n "$l1_up" ]; then
    echo "$name: L1 up (KVM offered, ready to run steps) after ${l1_up}s"
  else
    echo "$name: L1 never came up"
  fi
}

# nested_boot_reports NAME LOG: every minivmm --boot-report in LOG under the
# step that printed it, then a NESTED-TIME STEP run-init=T line for each step
# whose report timed "Run /init".
nested_boot_reports() {
  local name=$1 log=$2
  grep -aq 'minivmm boot report' "$log" 2>/dev/null || return 0
  echo "$name: boot reports (from $log):"
  tr -d '\r' <"$log" | awk '
    /NESTED-STEP-BEGIN / {sub(/.*NESTED-STEP-BEGIN /, ""); step = $1; next}
    /minivmm boot report/ {inreport = 1; print "  [" step "]"; next}
    inreport && /^  [a-zA-Z"(]/ {print "    " substr($0, 3); if ($0 ~ /"Run \/init"/) times[step] = $0; next}
    {inreport = 0}
    END {for (s in times) {t = times[s]; sub(/.*:[ ]+/, "", t); print "NESTED-TIME " s " run-init=" t}}'
}
