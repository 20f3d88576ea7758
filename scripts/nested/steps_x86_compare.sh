# shellcheck shell=bash
# Nested harness steps (x86_64): minivmm against QEMU's tuned microvm, side by
# side in the same L1, alternating, COMPARE_RUNS (default 5) boots each of the
# cloud bzImage to the initramfs marker with identical kernel, initrd and
# command line (functions: lib_x86_l2.sh). The summary step prints
# NESTED-TIME lines with medians and the ratio to QEMU.
for run in $(seq "${COMPARE_RUNS:-5}"); do
  expect_steps "compare-qemu-microvm-$run" "compare-minivmm-linux-$run" "compare-minivmm-pvh-$run"
done
expect_steps compare-summary
for run in $(seq "${COMPARE_RUNS:-5}"); do
  step "compare-qemu-microvm-$run" timed qemu-microvm \
    qemu_l2 "$CLOUD_BZIMAGE" "$L2_CMDLINE" MINIVMM-INIT-OK -M "$QEMU_TUNED_MACHINE"
  step "compare-minivmm-linux-$run" timed minivmm-linux l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot linux
  step "compare-minivmm-pvh-$run" timed minivmm-pvh l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot pvh
done
step compare-summary compare_summary qemu-microvm minivmm-linux minivmm-pvh
