# shellcheck shell=bash
# Nested harness steps (x86_64): the exec benchmark, `vmm exec` against QEMU
# running the same guest in the same L1 (functions: lib_bench_exec.sh, after
# lib_x86_l2.sh; started by scripts/bench_exec.sh, not by scripts/test.sh).
#
#   bench-exec-prepare     the data tree, big file and saved initramfs
#   bench-exec-warmup-*    one untimed run of each VMM (binaries into L1's page cache)
#   bench-exec-true-*-R    RUNS rounds (default 3) of `true`, four ways
#   bench-exec-job-*-R     JOB_RUNS rounds (default RUNS) of the file-heavy job, four ways
#   bench-exec-summary     the NESTED-BENCH table of medians and ratios
kinds="minivmm-virtiofs minivmm-9p qemu-virtiofs qemu-9p"
expect_steps bench-exec-prepare bench-exec-warmup-minivmm bench-exec-warmup-qemu bench-exec-summary
runs=${RUNS:-3} job_runs=${JOB_RUNS:-${RUNS:-3}}
rounds=$((runs > job_runs ? runs : job_runs))
for run in $(seq "$rounds"); do
  for kind in $kinds; do
    ((run > runs)) || expect_steps "bench-exec-true-$kind-$run"
    ((run > job_runs)) || expect_steps "bench-exec-job-$kind-$run"
  done
done

step bench-exec-prepare bench_exec_prepare
step bench-exec-warmup-minivmm exec_minivmm virtiofs true
step bench-exec-warmup-qemu exec_qemu 9p true
# Warm-up figures do not count.
rm -f "$EXEC_BENCH_RESULTS"/*
for run in $(seq "$rounds"); do
  if ((run <= runs)); then
    for kind in $kinds; do
      step "bench-exec-true-$kind-$run" "exec_${kind%%-*}" "${kind#*-}" true
    done
  fi
  if ((run <= job_runs)); then
    for kind in $kinds; do
      step "bench-exec-job-$kind-$run" "exec_${kind%%-*}" "${kind#*-}" job
    done
  fi
done
step bench-exec-summary bench_exec_summary
