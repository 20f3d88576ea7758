# shellcheck shell=bash
# The host side's verdict on a nested run, shared by run_x86.sh,
# run_aarch64.sh and run_riscv64.sh (through lib_host.sh), from the markers
# of L1's step runner (lib_l1.sh) in the console log. It passes when
#   - QEMU exited 0 and L1 reported no NESTED-L1-ERROR,
#   - the steps declared steps (NESTED-EXPECT NAME) and the set of steps that
#     reported (NESTED-STEP NAME ...) is exactly that set: a declared step
#     that never reported is missing, one that reported undeclared is unknown,
#   - every step that began reported, and reported PASS,
#   - L1 finished its steps (NESTED-DONE).
# On failure, prints each failed step's own last 40 console lines (they say
# more than the end of the console), then the last 40 lines of the console.
#
#   nested_verdict NAME LOG QEMU_RC OVERALL_TIMEOUT   -> 0 pass, 1 fail
nested_verdict() {
  local name=$1 log=$2 rc=$3 overall_timeout=$4
  local markers expected reported missing unknown n_pass n_fail n_begin step
  local -a failures=()
  markers=$(grep -ao 'NESTED-[A-Z0-9-]*.*' "$log" | tr -d '\r' || true)
  ((rc == 0)) || failures+=("QEMU exited with status $rc$( ((rc == 124)) && echo " (overall timeout ${overall_timeout}s)")")
  grep -q '^NESTED-L1-ERROR' <<<"$markers" && failures+=("$(grep -m1 '^NESTED-L1-ERROR' <<<"$markers")")
  expected=$(awk '$1 == "NESTED-EXPECT" && NF >= 2 {print $2}' <<<"$markers" | sort -u)
  reported=$(awk '$1 == "NESTED-STEP" && ($3 == "PASS" || $3 == "FAIL") {print $2}' <<<"$markers" | sort -u)
  missing=$(comm -23 <(printf '%s\n' "$expected") <(printf '%s\n' "$reported") | grep . | tr '\n' ' ' || true)
  unknown=$(comm -13 <(printf '%s\n' "$expected") <(printf '%s\n' "$reported") | grep . | tr '\n' ' ' || true)
  n_pass=$(grep -c '^NESTED-STEP [^ ]* PASS' <<<"$markers" || true)
  n_fail=$(grep -c '^NESTED-STEP [^ ]* FAIL' <<<"$markers" || true)
  n_begin=$(grep -c '^NESTED-STEP-BEGIN ' <<<"$markers" || true)
  ((n_fail == 0)) || failures+=("$n_fail step(s) failed: $(awk '$1 == "NESTED-STEP" && $3 == "FAIL" {
      printf "%s%s ", $2, ($NF == "timed-out" ? " (timed out)" : "")}' <<<"$markers")")
  ((n_begin == n_pass + n_fail)) || failures+=("a step began but never reported (L1 died or timed out)")
  if [ -z "$expected" ]; then
    failures+=("the steps declared no expected steps (expect_steps in the steps file)")
  elif [ -n "$missing" ]; then
    failures+=("declared step(s) that never reported: ${missing% }")
  fi
  [ -z "$unknown" ] || failures+=("step(s) that reported but were not declared (expect_steps): ${unknown% }")
  ((n_begin > 0)) || failures+=("no step ran")
  grep -q '^NESTED-DONE' <<<"$markers" || failures+=("L1 did not finish its steps (no NESTED-DONE)")

  if ((${#failures[@]})); then
    echo "$name: FAILED:" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    for step in $(awk '$1 == "NESTED-STEP" && $3 == "FAIL" {print $2}' <<<"$markers"); do
      echo "$name: last 40 console lines of step $step:" >&2
      tr -d '\r' <"$log" | awk -v n="$step" '$0 ~ "NESTED-STEP-BEGIN " n "$" {on = 1; next}
        on && $0 ~ "NESTED-STEP " n " " {exit} on' | tail -n 40 | sed 's/^/  | /' >&2
    done
    echo "$name: last 40 console lines ($log):" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    return 1
  fi
  echo "$name: all $n_pass declared steps passed"
}
