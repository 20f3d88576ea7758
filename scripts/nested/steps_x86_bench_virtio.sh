# shellcheck shell=bash
# Nested harness steps (x86_64): the virtio benchmark, minivmm against
# QEMU/KVM in the same L1 (functions: lib_bench_virtio.sh, after
# lib_x86_l2.sh and lib_bench_l1.sh; started by scripts/bench_virtio.sh, not
# by scripts/test.sh).
#
#   bench-prepare          images into L1's RAM, the brd data disk, filled once
#                          (no data disk with IO_RUNS=0)
#   bench-io-*-R           IO_RUNS rounds (default 2) of minivmm, QEMU
#                          aio=threads, QEMU aio=io_uring, each one boot that
#                          runs BENCH_REPS passes of each block test
#   bench-boot-warmup-*    one untimed boot of each VMM (binaries and firmware
#                          into L1's page cache)
#   bench-boot-*-R         COMPARE_RUNS rounds (default 3) of QEMU microvm,
#                          minivmm pci, minivmm mmio: boot to the marker, hvc0
#   bench-boot-before-*-R  with VMM_BEFORE: the same boots under that binary
#   bench-boot-extra-R     with VMM_EXTRA_ARGS: a pci boot with those arguments
#   bench-summary          the NESTED-BENCH table of medians and ratios
expect_steps bench-prepare bench-boot-warmup-qemu bench-boot-warmup-minivmm bench-summary
[ -z "${VMM_BEFORE:-}" ] || expect_steps bench-boot-warmup-before
for run in $(seq "${IO_RUNS:-2}"); do
  expect_steps "bench-io-minivmm-$run" "bench-io-qemu-threads-$run" "bench-io-qemu-io_uring-$run"
done
for run in $(seq "${COMPARE_RUNS:-3}"); do
  expect_steps "bench-boot-qemu-microvm-$run" "bench-boot-minivmm-pci-$run" "bench-boot-minivmm-mmio-$run"
  [ -z "${VMM_BEFORE:-}" ] || expect_steps "bench-boot-before-pci-$run" "bench-boot-before-mmio-$run"
  [ -z "${VMM_EXTRA_ARGS:-}" ] || expect_steps "bench-boot-extra-$run"
done

step bench-prepare bench_prepare
for run in $(seq "${IO_RUNS:-2}"); do
  step "bench-io-minivmm-$run" bench_io_minivmm minivmm
  step "bench-io-qemu-threads-$run" bench_io_qemu qemu-threads threads
  step "bench-io-qemu-io_uring-$run" bench_io_qemu qemu-io_uring io_uring
done
step bench-boot-warmup-qemu bench_boot_qemu warmup-qemu
step bench-boot-warmup-minivmm bench_boot_minivmm warmup-minivmm pci
[ -z "${VMM_BEFORE:-}" ] || step bench-boot-warmup-before bench_boot_minivmm warmup-before pci "$VMM_BEFORE"
for run in $(seq "${COMPARE_RUNS:-3}"); do
  step "bench-boot-qemu-microvm-$run" bench_boot_qemu qemu-microvm
  step "bench-boot-minivmm-pci-$run" bench_boot_minivmm minivmm-pci pci
  step "bench-boot-minivmm-mmio-$run" bench_boot_minivmm minivmm-mmio mmio
  if [ -n "${VMM_BEFORE:-}" ]; then
    step "bench-boot-before-pci-$run" bench_boot_minivmm before-pci pci "$VMM_BEFORE"
    step "bench-boot-before-mmio-$run" bench_boot_minivmm before-mmio mmio "$VMM_BEFORE"
  fi
  # Word splitting wanted: VMM_EXTRA_ARGS holds several arguments.
  # shellcheck disable=SC2086
  [ -z "${VMM_EXTRA_ARGS:-}" ] || step "bench-boot-extra-$run" bench_boot_minivmm extra pci "$VMM" $VMM_EXTRA_ARGS
done
step bench-summary bench_summary
