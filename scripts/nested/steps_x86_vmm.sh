# Nested harness steps (x86_64): minivmm itself, inside L1. Needs (exported by
# test_x86.sh): VMM, BUILD_DIR, CLOUD_BZIMAGE, CLOUD_VMLINUX, GENERIC_BZIMAGE, INITRD.
# Each boot must reach the initramfs's marker line on the serial console
# (`vmm --expect` exits 0 on the match); the SMP boots must report 2 CPUs.

export L2_CMDLINE="console=ttyS0 reboot=t panic=-1"
export L2_TIMEOUT=${L2_TIMEOUT:-240}

# l2_boot_with CMDLINE EXPECT VMM-ARGS...: one L2 boot with the project's
# busybox initramfs; l2_boot uses the default command line.
l2_boot_with() {
  local cmdline=$1 expect=$2
  shift 2
  echo "+ vmm $* --cmdline '$cmdline' --expect $expect"
  "$VMM" --memory 512M --initrd "$INITRD" --console stdio --timeout "$L2_TIMEOUT" \
    --boot-report --expect "$expect" --cmdline "$cmdline" "$@"
}
l2_boot() { l2_boot_with "$L2_CMDLINE" "$@"; }

# The KVM integration tests (tests/unit/vmm: suites Kvm*, booting the tiny
# guests of tests/guests). They skip where /dev/kvm is missing; here it is
# present, so a skip is a failure.
export KVM_TESTS_REGEX=${KVM_TESTS_REGEX:-^Kvm}
kvm_integration_tests() {
  local out rc=0
  out=$(ctest --test-dir "$BUILD_DIR" -R "$KVM_TESTS_REGEX" --output-on-failure --no-tests=error 2>&1) || rc=$?
  printf '%s\n' "$out"
  ((rc == 0)) || return "$rc"
  if grep -q '(Skipped)' <<<"$out"; then
    echo "kvm_integration_tests: tests skipped although /dev/kvm works in L1"
    return 1
  fi
}

step kvm-integration-tests kvm_integration_tests
step boot-linux-bzimage l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot linux
step boot-pvh-bzimage   l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot pvh
step boot-linux-vmlinux l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_VMLINUX" --boot linux
step boot-pvh-vmlinux   l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_VMLINUX" --boot pvh
step boot-auto-bzimage  l2_boot MINIVMM-INIT-OK --kernel "$CLOUD_BZIMAGE" --boot auto
# SMP through ACPI's MADT (the cloud kernel parses no MP table) ...
step boot-smp2-acpi     l2_boot MINIVMM-CPUS=2 --kernel "$CLOUD_BZIMAGE" --cpus 2
# ... and through the MP table, on the generic kernel with ACPI off.
step boot-smp2-mptable  l2_boot_with "$L2_CMDLINE acpi=off" MINIVMM-CPUS=2 --kernel "$GENERIC_BZIMAGE" --cpus 2
