#!/usr/bin/env bash
# shellcheck disable=SC2016 # the fake steps and step shells expand their own $
# Tests of the nested harness's own logic, with no QEMU (a few seconds):
#  - the host's verdict (lib_verdict.sh) on fake console logs: all steps
#    passed; a declared step missing; a step failed; a step timed out; no
#    step declared; a step not declared; L1 died mid-step; QEMU timed out;
#  - L1's step runner (lib_l1.sh), run here under bash with coreutils'
#    timeout (exit 124) and under busybox sh with busybox's timeout (exit
#    143): its console output, judged by the verdict, passes when every step
#    passes, fails naming a step that timed out (and stops what it started;
#    a step that exits 143 on its own is no timeout), and names the steps a
#    steps file that stops early never ran.
#
#   test_verdict.sh     -> prints one line a case; exit 1 if any case is wrong
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_verdict.sh
source "$here/lib_verdict.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=0 wrong=0

# check NAME WANT_RC QEMU_RC [GREP...]: the verdict on $tmp/console.log must
# return WANT_RC and its output must contain every GREP (fixed strings).
check() {
  local name=$1 want=$2 qemu_rc=$3 got=0 out pattern bad=''
  shift 3
  out=$(nested_verdict "test" "$tmp/console.log" "$qemu_rc" 900 2>&1) || got=$?
  [ "$got" -eq "$want" ] || bad="verdict returned $got, want $want"
  for pattern in "$@"; do
    grep -qF -- "$pattern" <<<"$out" || bad+="${bad:+; }no '$pattern' in the verdict"
  done
  cases=$((cases + 1))
  if [ -n "$bad" ]; then
    wrong=$((wrong + 1))
    echo "FAIL  $name: $bad"
    printf '%s\n' "$out" | sed 's/^/      | /'
  else
    echo "ok    $name"
  fi
}

# log LINE...: the fake console (CRLF line ends, kernel noise, as QEMU's).
log() { printf '%s\r\n' '[    0.000000] Linux version 6.1.0' "$@" >"$tmp/console.log"; }
expect='NESTED-EXPECT a' expect_b='NESTED-EXPECT b' expect_c='NESTED-EXPECT c'
pass() { printf 'NESTED-STEP-BEGIN %s\nstep %s output\nNESTED-STEP %s PASS rc=0 secs=1.00' "$1" "$1" "$1"; }

log NESTED-L1-INIT "$expect" "$expect_b" "$expect_c" "$(pass a)" "$(pass b)" "$(pass c)" 'NESTED-DONE passed=3 failed=0'
check "all declared steps passed" 0 0 "all 3 declared steps passed"

log NESTED-L1-INIT "$expect" "$expect_b" "$expect_c" "$(pass a)" "$(pass c)" 'NESTED-DONE passed=2 failed=0'
check "a declared step is missing" 1 0 "declared step(s) that never reported: b"

log NESTED-L1-INIT "$expect" "$expect_b" "$expect_c" "$(pass a)" \
  'NESTED-STEP-BEGIN b' 'the output of the failed step' 'NESTED-STEP b FAIL rc=1 secs=2.00' "$(pass c)" \
  'NESTED-DONE passed=2 failed=1'
check "a step failed" 1 0 "1 step(s) failed: b" "last 40 console lines of step b" "the output of the failed step"

log NESTED-L1-INIT "$expect" "$expect_b" "$(pass a)" \
  'NESTED-STEP-BEGIN b' 'step b: timed out after 300s (rc=143)' 'NESTED-STEP b FAIL rc=143 secs=300.01 timed-out' \
  'NESTED-DONE passed=1 failed=1'
check "a step timed out" 1 0 "step(s) failed: b (timed out)"

log NESTED-L1-INIT "$(pass a)" 'NESTED-DONE passed=1 failed=0'
check "no step declared" 1 0 "declared no expected steps"

log NESTED-L1-INIT "$expect" "$(pass a)" "$(pass z)" 'NESTED-DONE passed=2 failed=0'
check "a step not declared" 1 0 "not declared (expect_steps): z"

log NESTED-L1-INIT "$expect" "$expect_b" "$(pass a)" 'NESTED-STEP-BEGIN b' '[  100.0] Kernel panic'
check "L1 died inside a step" 1 0 "began but never reported" "never reported: b" "no NESTED-DONE"

log NESTED-L1-INIT "$expect" "$(pass a)"
check "QEMU hit the overall timeout" 1 124 "status 124 (overall timeout 900s)"

log NESTED-L1-INIT 'NESTED-L1-ERROR insmod kvm failed'
check "L1 error before any step" 1 0 "NESTED-L1-ERROR insmod kvm failed" "no step ran"

# L1's runner itself: lib_l1.sh with a steps file, as the /init scripts run
# it, with STEP_LIB (a step's function) and a one-second STEP_TIMEOUT.
# run_l1 LABEL SHELL STEPS_FILE [PATH_DIR]: the console in $tmp/console.log;
# PATH_DIR goes first on PATH (busybox's sh and timeout for busybox).
run_l1() {
  local label=$1 shell=$2 steps=$3 path_dir=${4:-}
  (
    cd "$tmp" || exit 1
    [ -z "$path_dir" ] || PATH=$path_dir:$PATH
    STEP_TIMEOUT=1 L1_LIB=$here/lib_l1.sh STEP_LIB=$tmp/step_lib.sh "$shell" -c '. "$L1_LIB"; . "$1"; steps_done' "l1-$label" "$steps"
  ) >"$tmp/console.log" 2>&1
}
cat >"$tmp/steps_ok.sh" <<'EOF'
expect_steps true-cmd runner-fn step-lib-fn
step true-cmd true
step runner-fn l1_uptime
step step-lib-fn helper arg
EOF
echo 'helper() { [ "$1" = arg ]; }' >"$tmp/step_lib.sh"
cat >"$tmp/steps_timeout.sh" <<'EOF'
expect_steps quick killed slow after
step quick true
step killed sh -c 'kill -TERM $$'
step slow sh -c 'sleep 30 & echo $! >slow.pid; wait'
step after true
EOF
cat >"$tmp/steps_stops.sh" <<'EOF'
expect_steps first second third
step first true
return 0 2>/dev/null || exit 0
step second true
step third true
EOF

shells=(bash)
if command -v busybox >/dev/null; then
  mkdir -p "$tmp/busybox"
  for applet in sh timeout; do ln -s "$(command -v busybox)" "$tmp/busybox/$applet"; done
  shells+=(busybox)
else
  echo "skip  busybox cases: no busybox on PATH (scripts/setup.sh installs busybox-static)"
fi
for shell in "${shells[@]}"; do
  if [ "$shell" = bash ]; then sh=bash dir=''; else sh=$tmp/busybox/sh dir=$tmp/busybox; fi
  run_l1 "$shell" "$sh" "$tmp/steps_ok.sh" "$dir"
  check "runner ($shell): every step passes" 0 0 "all 3 declared steps passed"
  run_l1 "$shell" "$sh" "$tmp/steps_timeout.sh" "$dir"
  want_rc=124; [ "$shell" = busybox ] && want_rc=143
  # A step SIGTERMed by anything else fails with 143 too, but is no timeout.
  check "runner ($shell): a step times out (rc $want_rc)" 1 0 "2 step(s) failed: killed slow (timed out)" \
    "NESTED-STEP slow FAIL rc=$want_rc"
  # What the timed-out step started is stopped with it (gone, or a zombie
  # that nobody reaped yet).
  cases=$((cases + 1))
  if [ -s "$tmp/slow.pid" ] && ! awk '$3 != "Z" {found = 1} END {exit !found}' "/proc/$(cat "$tmp/slow.pid")/stat" 2>/dev/null; then
    echo "ok    runner ($shell): the timed-out step's children were stopped"
  else
    wrong=$((wrong + 1))
    echo "FAIL  runner ($shell): the timed-out step's child $(cat "$tmp/slow.pid" 2>/dev/null) is still running"
    kill "$(cat "$tmp/slow.pid" 2>/dev/null)" 2>/dev/null
  fi
  rm -f "$tmp/slow.pid"
  run_l1 "$shell" "$sh" "$tmp/steps_stops.sh" "$dir"
  check "runner ($shell): the steps file stops early" 1 0 "never reported: second third"
done

echo "test_verdict: $((cases - wrong)) of $cases cases right"
((wrong == 0))
