# shellcheck shell=bash
# The host side's verdict on a nested run, shared by run_x86.sh,
# run_aarch64.sh and run_riscv64.sh: every step that began must have reported
# PASS, L1 must have finished (NESTED-DONE) and QEMU must have exited 0.
# On failure, prints each failed step's own last 40 console lines (they say
# more than the end of the console), then the last 40 lines of the console.
#
#   nested_verdict NAME LOG QEMU_RC OVERALL_TIMEOUT   -> 0 pass, 1 fail
nested_verdict() {
  local name=$1 log=$2 rc=$3 overall_timeout=$4
  local markers n_pass n_fail n_begin step
  local -a failures=()
  markers=$(grep -ao 'NESTED-[A-Z0-9-]*.*' "$log" || true)
  ((rc == 0)) || failures+=("QEMU exited with status $rc$( ((rc == 124)) && echo " (overall timeout ${overall_timeout}s)")")
  grep -q '^NESTED-L1-ERROR' <<<"$markers" && failures+=("$(grep -m1 '^NESTED-L1-ERROR' <<<"$markers")")
  n_pass=$(grep -c '^NESTED-STEP [^ ]* PASS' <<<"$markers" || true)
  n_fail=$(grep -c '^NESTED-STEP [^ ]* FAIL' <<<"$markers" || true)
  n_begin=$(grep -c '^NESTED-STEP-BEGIN ' <<<"$markers" || true)
  ((n_fail == 0)) || failures+=("$n_fail step(s) failed: $(grep '^NESTED-STEP [^ ]* FAIL' <<<"$markers" | awk '{print $2}' | tr '\n' ' ')")
  ((n_begin == n_pass + n_fail)) || failures+=("a step began but never reported (L1 died or timed out)")
  ((n_begin > 0)) || failures+=("no step ran")
  grep -q '^NESTED-DONE' <<<"$markers" || failures+=("L1 did not finish its steps (no NESTED-DONE)")

  if ((${#failures[@]})); then
    echo "$name: FAILED:" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    for step in $(grep '^NESTED-STEP [^ ]* FAIL' <<<"$markers" | awk '{print $2}'); do
      echo "$name: last 40 console lines of step $step:" >&2
      tr -d '\r' <"$log" | awk -v n="$step" '$0 ~ "NESTED-STEP-BEGIN " n "$" {on = 1; next}
        on && $0 ~ "NESTED-STEP " n " " {exit} on' | tail -n 40 | sed 's/^/  | /' >&2
    done
    echo "$name: last 40 console lines ($log):" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    return 1
  fi
  echo "$name: all $n_pass steps passed"
}
