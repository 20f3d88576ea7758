#include "arch/x86_64/vcpu_state.h"

#include <gtest/gtest.h>

namespace vmm::x86 {
namespace {

TEST(VcpuState, SegmentFieldsMapOneToOne) {
  boot::Segment s;
  s.base = 0x1234;
  s.limit = 0xfffff;
  s.selector = 0x10;
  s.type = 0xb;
  s.present = 1;
  s.dpl = 3;
  s.db = 0;
  s.s = 1;
  s.l = 1;
  s.g = 1;
  s.avl = 1;
  s.unusable = 0;
  kvm_segment k = to_kvm_segment(s);
  EXPECT_EQ(k.base, 0x1234u);
  EXPECT_EQ(k.limit, 0xfffffu);
  EXPECT_EQ(k.selector, 0x10);
  EXPECT_EQ(k.type, 0xb);
  EXPECT_EQ(k.present, 1);
  EXPECT_EQ(k.dpl, 3);
  EXPECT_EQ(k.s, 1);
  EXPECT_EQ(k.l, 1);
  EXPECT_EQ(k.g, 1);
  EXPECT_EQ(k.avl, 1);
}

TEST(VcpuState, SregsTakeControlRegistersAndKeepKvmsApicBase) {
  boot::SpecialRegs s;
  s.cr0 = boot::kCr0Pe | boot::kCr0Pg;
  s.cr3 = 0x9000;
  s.cr4 = boot::kCr4Pae;
  s.efer = boot::kEferLme | boot::kEferLma;
  s.gdt = {0x500, 0x2f};
  s.tr.selector = 0x20;
  kvm_sregs base{};
  base.apic_base = 0xfee00900;
  kvm_sregs k = to_kvm_sregs(s, base);
  EXPECT_EQ(k.cr0, s.cr0);
  EXPECT_EQ(k.cr3, 0x9000u);
  EXPECT_EQ(k.cr4, s.cr4);
  EXPECT_EQ(k.efer, s.efer);
  EXPECT_EQ(k.gdt.base, 0x500u);
  EXPECT_EQ(k.gdt.limit, 0x2f);
  EXPECT_EQ(k.tr.selector, 0x20);
  EXPECT_EQ(k.apic_base, 0xfee00900u);
}

TEST(VcpuState, GeneralRegisters) {
  boot::GeneralRegs r;
  r.rip = 0x1000200;
  r.rsi = 0x7000;
  r.rbx = 0x6000;
  r.rsp = 0x8ff0;
  kvm_regs k = to_kvm_regs(r);
  EXPECT_EQ(k.rip, 0x1000200u);
  EXPECT_EQ(k.rsi, 0x7000u);
  EXPECT_EQ(k.rbx, 0x6000u);
  EXPECT_EQ(k.rsp, 0x8ff0u);
  EXPECT_EQ(k.rflags, 0x2u);
}

TEST(VcpuState, MsrsEnableFastStringsAndClearSysenter) {
  auto msrs = boot_msrs();
  auto value = [&](uint32_t index) -> std::optional<uint64_t> {
    for (auto& m : msrs) {
      if (m.index == index) return m.data;
    }
    return std::nullopt;
  };
  EXPECT_EQ(value(kMsrIa32MiscEnable), 1u);
  EXPECT_EQ(value(kMsrIa32SysenterCs), 0u);
  EXPECT_EQ(value(kMsrIa32SysenterEip), 0u);
  EXPECT_EQ(value(kMsrMtrrDefType), 0x806u);
}

TEST(VcpuState, FpuResetValues) {
  kvm_fpu f = boot_fpu();
  EXPECT_EQ(f.fcw, 0x37f);
  EXPECT_EQ(f.mxcsr, 0x1f80u);
}

TEST(VcpuState, LintsBecomeExtIntAndNmiKeepingOtherBits) {
  kvm_lapic_state lapic{};
  uint32_t masked = 0x10000;
  std::memcpy(lapic.regs + kApicLvtLint0, &masked, 4);
  std::memcpy(lapic.regs + kApicLvtLint1, &masked, 4);
  wire_lapic_lints(lapic);
  EXPECT_EQ(lapic_register(lapic, kApicLvtLint0), 0x10700u);
  EXPECT_EQ(lapic_register(lapic, kApicLvtLint1), 0x10400u);
}

}  // namespace
}  // namespace vmm::x86
