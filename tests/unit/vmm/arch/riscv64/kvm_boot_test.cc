// riscv64 KVM integration tests: the vmm binary boots the tiny riscv64 Image
// of tests/guests, which prints over the MMIO 16550A (and through the legacy
// SBI console, which reaches the VMM only where the host's KVM implements SBI
// v0.1: Debian's 6.12 does not, so no test depends on it), checks the VMM's answer to an SBI call it does not implement,
// starts hart 1 with SBI HSM when there is one, and ends the VM with SBI SRST.
// Skipped without /dev/kvm (the nested harness runs them).
#include <gtest/gtest.h>

#include <string>

#include "arch/riscv64/kvm_regs.h"
#include "support/vmm_process.h"
#include "vmm/exit_codes.h"
#include "vmm/kvm.h"

namespace {

using test_support::binary_dir;
using test_support::have_kvm;
using test_support::run_vmm;

// /dev/kvm can exist without running riscv64 guests: the cross build's tests
// run under qemu-user on an x86 host. A riscv64 vCPU answering a riscv64
// ONE_REG read is the proof.
bool kvm_runs_riscv64() {
  auto kvm = vmm::Kvm::open();
  if (!kvm) return false;
  auto size = kvm->vcpu_mmap_size();
  auto vm = kvm->create_vm();
  if (!size || !vm) return false;
  auto vcpu = vm->create_vcpu(0, *size);
  return vcpu && vcpu->get_one_reg(vmm::riscv64::kConfigIsa).has_value();
}

class KvmBootRiscv64 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_kvm()) GTEST_SKIP() << "no /dev/kvm: KVM integration tests need a host with KVM (run them in the nested harness)";
    static const bool runs = kvm_runs_riscv64();
    if (!runs) GTEST_SKIP() << "this /dev/kvm cannot run riscv64 vCPUs (qemu-user on another host?): run the nested harness";
    ASSERT_FALSE(binary_dir().empty()) << "cannot find the build tree (set MINIVMM_BINARY_DIR)";
  }
  std::string guest(const char* name) { return binary_dir() + "/tests/guests/" + name; }
};

TEST_F(KvmBootRiscv64, OneHartPrintsThroughTheUartAndShutsDown) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin"), "--timeout", "60"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK riscv64\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GUEST-CPUS=1\n"), std::string::npos) << "HSM start of a missing hart must fail\n" << r.out;
  EXPECT_EQ(r.out.find("GUEST-NO-DTB"), std::string::npos) << "a1 must point at the device tree\n" << r.out;
  EXPECT_EQ(r.out.find("GUEST-BAD-HART"), std::string::npos) << "a0 must be hart 0\n" << r.out;
}

TEST_F(KvmBootRiscv64, ForwardedSbiCallsTheVmmLacksAnswerNotSupported) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin"), "--timeout", "60"});
  EXPECT_NE(r.out.find("GUEST-SBI-NOTSUPP-OK\n"), std::string::npos) << r.out;
}

TEST_F(KvmBootRiscv64, SecondHartStartsThroughSbiHsm) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin"), "--cpus", "2", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-CPU1-ON\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GUEST-CPUS=2\n"), std::string::npos) << r.out;
}

TEST_F(KvmBootRiscv64, SbiSrstShutdownIsASystemEvent) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin"), "--timeout", "60", "--boot-report"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.err.find("system event SHUTDOWN"), std::string::npos) << r.err;
}

TEST_F(KvmBootRiscv64, SbiSrstRebootEndsTheVmCleanly) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_reset.bin"), "--timeout", "60", "--boot-report"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK riscv64"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("system event RESET"), std::string::npos) << r.err;
}

TEST_F(KvmBootRiscv64, GzipCompressedImageBoots) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin.gz"), "--expect", "GUEST-CPUS=1", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("GUEST-OK riscv64"), std::string::npos) << r.out;
}

TEST_F(KvmBootRiscv64, PvhIsRefusedAsAnX86Protocol) {
  auto r = run_vmm({"--kernel", guest("riscv64_guest_off.bin"), "--boot", "pvh", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitUsage) << r.err;
  EXPECT_NE(r.err.find("PVH is an x86_64 boot protocol"), std::string::npos) << r.err;
}

}  // namespace
