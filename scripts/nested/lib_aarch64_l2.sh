# shellcheck shell=sh
# Nested harness (aarch64): functions the steps run inside L1 (busybox sh).
# Paths are those of the L1 initramfs built by run_aarch64.sh.
VMM=/minivmm/vmm/vmm
L2_INITRD=/l2/initramfs.cpio.gz
L2_CMDLINE="console=ttyS0 earlycon panic=-1"
L2_TIMEOUT=${L2_TIMEOUT:-240}
# For l2_disk_boot (lib_disk_l2.sh, appended to this file by run_aarch64.sh).
DISK_KERNEL=/l2/Image
DISK_INITRD=/l2/virtio-root.cpio.gz
DISK_CMDLINE="earlycon panic=-1"
# For lib_exec_l2.sh (also appended): the same kernel, its modules (exec_modules.sh).
EXEC_KERNEL=/l2/Image
EXEC_MODULES=/l2/modules

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
# guests of tests/guests). KVM works here, so a skip is a failure (kvm_tests_ran:
# lib_l1.sh).
kvm_integration_tests() {
  export MINIVMM_BINARY_DIR=/minivmm
  kvm_tests_ran /minivmm/tests/vmm_tests --gtest_filter='KvmBootAarch64.*'
}
