# shellcheck shell=bash
# Nested harness steps (x86_64): the network benchmark, minivmm against
# QEMU/KVM in the same L1 (functions: lib_bench_net.sh, after lib_x86_l2.sh
# and lib_bench_l1.sh; started by scripts/bench_net.sh, not by
# scripts/test.sh).
#
#   bench-net-prepare        images into L1's RAM, loopback, the TAP
#   bench-net-VMM-BACKEND-R  ROUNDS rounds (default 3) of minivmm user, QEMU
#                            user, minivmm tap, QEMU tap, alternating so a
#                            drift of the shared host's load hits both; each
#                            one boot of BENCH_REPS transfers each way
#   bench-net-summary        the NESTED-BENCH table of medians and ratios
expect_steps bench-net-prepare bench-net-summary
for run in $(seq "${ROUNDS:-3}"); do
  expect_steps "bench-net-minivmm-user-$run" "bench-net-qemu-user-$run" \
    "bench-net-minivmm-tap-$run" "bench-net-qemu-tap-$run"
done

step bench-net-prepare netb_prepare
for run in $(seq "${ROUNDS:-3}"); do
  for backend in user tap; do
    step "bench-net-minivmm-$backend-$run" netb_minivmm "$backend"
    step "bench-net-qemu-$backend-$run" netb_qemu "$backend"
  done
done
step bench-net-summary netb_summary
