# shellcheck shell=dash disable=SC2013 # word loops over one-name-a-line files
# The nested harness's L1 side, one copy for the three architectures: sourced
# by the aarch64 and riscv64 /init (busybox ash, from their initramfs), by
# x86's l1_init.sh (busybox ash) and by x86's l1_runner.sh (bash, chrooted
# into the host root). Set L1_LIB to this file's path (as L1 sees it) first:
# every step's shell sources it again.
#
# A steps file is sourced from the runner's working directory and made of
#   expect_steps NAME...     the steps it runs, declared up front: one
#                            NESTED-EXPECT NAME marker each. The host's verdict
#                            (lib_verdict.sh) fails when a declared step never
#                            reported or a step that reported was not declared.
#   step NAME CMD [ARG...]   runs CMD under `timeout STEP_TIMEOUT` (default 300
#                            s) with stdin from /dev/null, between the markers
#                              NESTED-STEP-BEGIN NAME
#                              NESTED-STEP NAME PASS|FAIL rc=N secs=S [timed-out]
# after which the runner calls steps_done: NESTED-DONE passed=P failed=F.
#
# CMD runs in a new shell (sh, or bash under bash) that has sourced this file
# and then STEP_LIB when set, so a step may be a function of either; under
# bash the functions the steps file defined itself are exported to it too
# (the variables they use must be exported by the steps file). That shell
# leads a process group of its own, so a timeout stops CMD and all it started
# (l1_step_group), not only the shell: an L2 left running would slow or
# break the steps after it.

STEP_TIMEOUT=${STEP_TIMEOUT:-300}
passed=0 failed=0
export L1_LIB STEP_LIB

l1_uptime() { cut -d' ' -f1 /proc/uptime; }

# l1_fail MESSAGE: reports an L1 error the host's verdict names, and powers off.
l1_fail() {
  echo "NESTED-L1-ERROR $*"
  l1_poweroff
}

l1_poweroff() {
  sync
  poweroff -f
  sleep 5
  reboot -f
}

# l1_start: the first thing of each /init: proc, sys and dev mounted, the
# console as stdin/stdout/stderr, NESTED-L1-INIT printed.
l1_start() {
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null
  [ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
  echo "NESTED-L1-INIT uptime=$(l1_uptime)"
}

# l1_load_modules DIR [MODULE:ARGS...]: insmod DIR/NAME.ko for each NAME of
# DIR/load.order (collect_modules.sh, dependencies first), with the ARGS given
# for that module.
l1_load_modules() {
  local dir=$1 m a args
  shift
  for m in $(cat "$dir/load.order"); do
    args=
    for a in "$@"; do
      case $a in "$m":*) args=${a#*:} ;; esac
    done
    # shellcheck disable=SC2086 # ARGS are words
    insmod "$dir/$m.ko" $args || l1_fail "insmod $m failed"
  done
}

# NESTED_ONLY (an extended regex over whole step names) runs just those
# steps, for a quick look at one of them by hand; CI never sets it.
step_selected() {
  [ -z "${NESTED_ONLY:-}" ] || echo "$1" | grep -Eq "^(${NESTED_ONLY})\$"
}

expect_steps() {
  local name
  for name in "$@"; do step_selected "$name" && echo "NESTED-EXPECT $name"; done
  return 0
}

step() {
  local name=$1 start end rc secs verdict timed_out='' shell=sh f
  step_selected "$name" || return 0
  shift
  echo "NESTED-STEP-BEGIN $name"
  if [ -n "${BASH_VERSION:-}" ]; then
    shell=bash
    # shellcheck disable=SC2163,SC3044,SC3045 # bash only: exports the function named by $f
    for f in $(declare -F | awk '{print $3}'); do export -f "$f"; done
  fi
  start=$(l1_uptime)
  # shellcheck disable=SC2016 # expanded by the step's shell
  timeout -k 10 "$STEP_TIMEOUT" setsid "$shell" -c \
    '. "$L1_LIB"; [ -z "${STEP_LIB:-}" ] || . "$STEP_LIB"; l1_step_group "$@"' "step-$name" "$@" </dev/null
  rc=$?
  end=$(l1_uptime)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
  if [ "$rc" -eq 0 ]; then verdict=PASS; passed=$((passed + 1)); else verdict=FAIL; failed=$((failed + 1)); fi
  # coreutils' timeout exits 124 when the time ran out; busybox's exits with
  # its child's status, 143 (SIGTERM), or 137 (SIGKILL, still there 10 s
  # later): a timeout too when the step took its whole time.
  case $rc in
    124) timed_out=' timed-out' ;;
    137|143) awk -v s="$secs" -v t="$STEP_TIMEOUT" 'BEGIN {exit !(s >= t)}' && timed_out=' timed-out' ;;
  esac
  [ -z "$timed_out" ] || echo "step $name: timed out after ${STEP_TIMEOUT}s (rc=$rc)"
  echo "NESTED-STEP $name $verdict rc=$rc secs=$secs$timed_out"
}

# l1_step_group CMD...: the step's shell (setsid made it a process group
# leader) runs CMD in the background and waits, so the TERM of the step's
# timeout, which reaches only this shell (busybox's timeout signals its child
# alone), is handed to CMD and everything CMD started: the whole group.
l1_step_group() {
  trap 'trap - TERM; kill -TERM 0 2>/dev/null; exit 143' TERM
  "$@" &
  wait $!
}

steps_done() { echo "NESTED-DONE passed=$passed failed=$failed"; }

# kvm_tests_ran CMD...: runs CMD, the KVM integration tests (a gtest binary or
# ctest over it), and passes only when CMD passed, no test was skipped and at
# least one passed: L1 offers a working /dev/kvm, so a skip is a failure.
kvm_tests_ran() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [ "$rc" -eq 0 ] || return "$rc"
  # gtest: "[  SKIPPED ] N tests"; ctest: "***Skipped" and "(Skipped)".
  if printf '%s\n' "$out" | grep -Eq '\[  SKIPPED \]|\*\*\*Skipped|\(Skipped\)'; then
    echo "kvm_tests_ran: tests skipped although /dev/kvm works in L1"
    return 1
  fi
  printf '%s\n' "$out" | grep -Eq '\[  PASSED  \] [1-9]|tests passed, 0 tests failed out of [1-9]' ||
    { echo "kvm_tests_ran: no test ran and passed"; return 1; }
}
