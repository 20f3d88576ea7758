#!/bin/bash
# Runs inside the x86 nested harness's L1 guest, chrooted into the host's
# root: sources the steps file with the shared step runner (lib_l1.sh, next
# to this file), whose `expect_steps` and `step` lines report on the console,
# then prints NESTED-DONE. A steps file may also hold `interactive CMD...`,
# which hands the console to CMD (scripts/run.sh).
set -uo pipefail
project=$1 steps=$2
cd "$project" || { echo "NESTED-L1-ERROR project dir $project missing"; exit 1; }

L1_LIB=$(dirname "${BASH_SOURCE[0]}")/lib_l1.sh
# shellcheck source=lib_l1.sh
source "$L1_LIB"

interactive() {
  "$@"
  echo "NESTED-INTERACTIVE-EXIT rc=$?"
}

# shellcheck source=/dev/null
source "$steps"
steps_done
