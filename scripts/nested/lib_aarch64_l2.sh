# shellcheck shell=sh
# Nested harness (aarch64): functions the steps run inside L1 (busybox sh).
# Paths are those of the L1 initramfs built by run_aarch64.sh.
VMM=/minivmm/vmm/vmm
L2_INITRD=/l2/initramfs.cpio.gz
L2_CMDLINE="console=ttyS0 earlycon panic=-1"
L2_TIMEOUT=${L2_TIMEOUT:-240}

# l2_boot EXPECT VMM-ARGS...: one minivmm boot of the Debian arm64 kernel
# with the busybox initramfs until the console matches EXPECT.
l2_boot() {
  expect=$1
  shift
  echo "+ vmm $* --cmdline '$L2_CMDLINE' --expect $expect"
  "$VMM" --memory 512M --initrd "$L2_INITRD" --console stdio --timeout "$L2_TIMEOUT" \
    --boot-report --expect "$expect" --cmdline "$L2_CMDLINE" "$@"
}

# The aarch64 KVM integration tests (suite KvmBootAarch64: the tiny arm64
# guests of tests/guests). KVM works here, so a skip is a failure.
kvm_integration_tests() {
  out=$(MINIVMM_BINARY_DIR=/minivmm /minivmm/tests/vmm_tests --gtest_filter='KvmBootAarch64.*' 2>&1)
  rc=$?
  printf '%s\n' "$out"
  [ "$rc" -eq 0 ] || return "$rc"
  if printf '%s\n' "$out" | grep -q '\[  SKIPPED \]'; then
    echo "kvm_integration_tests: tests skipped although /dev/kvm works in L1"
    return 1
  fi
  printf '%s\n' "$out" | grep -q '\[  PASSED  \] [1-9]' || { echo "kvm_integration_tests: no test passed"; return 1; }
}
