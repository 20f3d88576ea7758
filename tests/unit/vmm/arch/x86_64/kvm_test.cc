// The KVM wrappers against the real /dev/kvm (skipped where there is none)
// and their error messages (checked everywhere).
#include "vmm/kvm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "arch/x86_64/x86_vm.h"

namespace vmm {
namespace {

bool have_kvm() { return access("/dev/kvm", R_OK | W_OK) == 0; }
#define REQUIRE_KVM() \
  if (!have_kvm()) GTEST_SKIP() << "no /dev/kvm: KVM integration tests need a host with KVM (run them in the nested harness)"

TEST(Kvm, MissingDeviceSaysThereIsNoKvm) {
  auto kvm = Kvm::open("/nonexistent/minivmm-kvm");
  ASSERT_FALSE(kvm);
  EXPECT_EQ(kvm.error().err, ENOENT);
  EXPECT_NE(kvm.error().message.find("not found: this host has no KVM"), std::string::npos) << kvm.error().message;
}

TEST(Kvm, NonKvmDeviceFailsTheApiVersionCheck) {
  // /dev/null opens fine but answers no KVM ioctl.
  auto kvm = Kvm::open("/dev/null");
  ASSERT_FALSE(kvm);
  EXPECT_NE(kvm.error().message.find("KVM API version"), std::string::npos) << kvm.error().message;
}

TEST(Kvm, OpensChecksCapabilitiesAndCreatesVmAndVcpu) {
  REQUIRE_KVM();
  auto kvm = Kvm::open();
  ASSERT_TRUE(kvm) << kvm.error().message;
  ASSERT_TRUE(x86::check_capabilities(*kvm)) << x86::check_capabilities(*kvm).error().message;
  auto missing = kvm->require(0x7fffffff, "KVM_CAP_MADE_UP");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("KVM_CAP_MADE_UP"), std::string::npos);
  auto cpuid = kvm->supported_cpuid();
  ASSERT_TRUE(cpuid) << cpuid.error().message;
  EXPECT_GT(cpuid->size(), 4u);
  auto vm = kvm->create_vm();
  ASSERT_TRUE(vm) << vm.error().message;
  ASSERT_TRUE(x86::setup_vm(*vm)) << x86::setup_vm(*vm).error().message;
  auto size = kvm->vcpu_mmap_size();
  ASSERT_TRUE(size);
  auto vcpu = vm->create_vcpu(0, *size);
  ASSERT_TRUE(vcpu) << vcpu.error().message;
  ASSERT_NE(vcpu->run_state(), nullptr);
  auto sregs = vcpu->get_sregs();
  ASSERT_TRUE(sregs);
  EXPECT_EQ(sregs->cs.selector, 0xf000) << "a fresh vCPU sits at the reset vector";
  ASSERT_TRUE(x86::setup_vcpu(*vcpu, *cpuid, 1, std::nullopt));
  auto lapic = vcpu->get_lapic();
  ASSERT_TRUE(lapic);
  uint32_t lint0 = 0;
  std::memcpy(&lint0, lapic->regs + 0x350, 4);
  EXPECT_EQ((lint0 >> 8) & 7, 7u) << "LINT0 ExtINT";
}

TEST(Kvm, SecondIrqchipIsAnErrorWithErrnoText) {
  REQUIRE_KVM();
  auto kvm = Kvm::open();
  ASSERT_TRUE(kvm);
  auto vm = kvm->create_vm();
  ASSERT_TRUE(vm);
  ASSERT_TRUE(vm->create_irqchip());
  auto again = vm->create_irqchip();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("KVM_CREATE_IRQCHIP: "), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().err, 0);
}

}  // namespace
}  // namespace vmm
