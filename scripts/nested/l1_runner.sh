#!/bin/bash
# Runs inside the nested harness's L1 guest, chrooted into the host's root:
# sources the steps file, whose `step NAME CMD...` lines each run with a
# timeout and report a verdict marker on the console:
#   NESTED-STEP-BEGIN NAME
#   NESTED-STEP NAME PASS|FAIL rc=N secs=S
# and `interactive CMD...` which hands the console to CMD (scripts/run.sh).
# Finally prints NESTED-DONE passed=P failed=F.
set -uo pipefail
project=$1 steps=$2
cd "$project" || { echo "NESTED-L1-ERROR project dir $project missing"; exit 1; }

STEP_TIMEOUT=${STEP_TIMEOUT:-300}
passed=0 failed=0

step() {
  local name=$1 start end rc verdict
  shift
  echo "NESTED-STEP-BEGIN $name"
  start=$(date +%s.%N)
  # Through bash -c so a step may be a function of the steps file (exported
  # here; the variables it uses must be exported by the steps file).
  local f
  # shellcheck disable=SC2163 # exports the function named by $f
  for f in $(declare -F | awk '{print $3}'); do export -f "$f"; done
  timeout -k 10 "$STEP_TIMEOUT" bash -c '"$@"' "step-$name" "$@" </dev/null
  rc=$?
  end=$(date +%s.%N)
  if [ "$rc" -eq 0 ]; then verdict=PASS; passed=$((passed + 1)); else verdict=FAIL; failed=$((failed + 1)); fi
  [ "$rc" -eq 124 ] && echo "step $name: timed out after ${STEP_TIMEOUT}s"
  echo "NESTED-STEP $name $verdict rc=$rc secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')"
}

interactive() {
  "$@"
  echo "NESTED-INTERACTIVE-EXIT rc=$?"
}

# shellcheck source=/dev/null
source "$steps"
echo "NESTED-DONE passed=$passed failed=$failed"
