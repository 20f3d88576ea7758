// aarch64 KVM integration tests: the vmm binary boots the tiny arm64 Image of
// tests/guests, which prints over the MMIO 16550A, starts a second vCPU with
// PSCI CPU_ON when there is one, and ends the VM with PSCI SYSTEM_OFF or
// SYSTEM_RESET. Skipped without /dev/kvm (the nested harness runs them).
#include <gtest/gtest.h>

#include <string>

#include "support/vmm_process.h"
#include "vmm/exit_codes.h"
#include "vmm/kvm.h"

namespace {

using test_support::binary_dir;
using test_support::have_kvm;
using test_support::run_vmm;

// Under qemu-user on another host (the cross preset's ctest) /dev/kvm may
// exist but be that host's KVM, which has no arm64 PSCI.
bool have_arm64_kvm() {
  auto kvm = vmm::Kvm::open();
  return kvm && kvm->check_extension(KVM_CAP_ARM_PSCI_0_2) > 0;
}

class KvmBootAarch64 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_kvm()) GTEST_SKIP() << "no /dev/kvm: KVM integration tests need a host with KVM (run them in the nested harness)";
    if (!have_arm64_kvm()) GTEST_SKIP() << "/dev/kvm is not an arm64 KVM (qemu-user on another host?): run these in the nested harness";
    ASSERT_FALSE(binary_dir().empty()) << "cannot find the build tree (set MINIVMM_BINARY_DIR)";
  }
  std::string guest(const char* name) { return binary_dir() + "/tests/guests/" + name; }
};

TEST_F(KvmBootAarch64, OneVcpuPrintsThroughTheMmioUartAndPowersOff) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin"), "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK aarch64\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GUEST-CPUS=1\n"), std::string::npos) << "CPU_ON of a missing MPIDR must fail\n" << r.out;
  EXPECT_EQ(r.out.find("GUEST-NO-DTB"), std::string::npos) << "x0 must hold the device tree\n" << r.out;
}

TEST_F(KvmBootAarch64, SecondVcpuComesUpThroughPsciCpuOn) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin"), "--cpus", "2", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-CPU1-ON\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GUEST-CPUS=2\n"), std::string::npos) << r.out;
}

TEST_F(KvmBootAarch64, SystemResetEndsTheVmCleanly) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_reset.bin"), "--timeout", "20", "--boot-report"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK aarch64"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("system event RESET"), std::string::npos) << r.err;
}

TEST_F(KvmBootAarch64, PowerOffIsReportedAsASystemEvent) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin"), "--timeout", "20", "--boot-report"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.err.find("system event SHUTDOWN"), std::string::npos) << r.err;
}

TEST_F(KvmBootAarch64, GzipCompressedImageBoots) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin.gz"), "--expect", "GUEST-CPUS=1", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK aarch64"), std::string::npos) << r.out;
}

TEST_F(KvmBootAarch64, UnmetExpectationIsItsOwnExitCode) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin"), "--expect", "NEVER-PRINTED", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitExpectUnmet) << r.err;
}

TEST_F(KvmBootAarch64, PvhIsRefusedAsAnX86Protocol) {
  auto r = run_vmm({"--kernel", guest("aarch64_guest_off.bin"), "--boot", "pvh", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitUsage) << r.err;
  EXPECT_NE(r.err.find("PVH is an x86_64 boot protocol"), std::string::npos) << r.err;
}

}  // namespace
