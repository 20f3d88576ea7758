#include "arch/x86_64/cpuid.h"

#include <gtest/gtest.h>

namespace vmm::x86 {
namespace {

kvm_cpuid_entry2 entry(uint32_t function, uint32_t index, uint32_t eax = 0, uint32_t ebx = 0, uint32_t ecx = 0,
                       uint32_t edx = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  e.eax = eax;
  e.ebx = ebx;
  e.ecx = ecx;
  e.edx = edx;
  return e;
}

const kvm_cpuid_entry2* find(const std::vector<kvm_cpuid_entry2>& v, uint32_t f, uint32_t i = 0) {
  for (const auto& e : v) {
    if (e.function == f && e.index == i) return &e;
  }
  return nullptr;
}

std::vector<kvm_cpuid_entry2> supported() {
  return {entry(0x1, 0, 0x000806f8, 0xff0000ff, 0x1234, 0x0), entry(0x4, 0, 0x121, 0, 0, 0),
          entry(0x4, 1, 0x163, 0, 0, 0),   entry(0xb, 0, 0xff, 0xff, 0xff, 0xff),
          entry(0xb, 1, 0xff, 0xff, 0xff, 0xff), entry(0xb, 2, 0xff, 0xff, 0xff, 0xff),
          entry(0x80000008, 0, 0x3030, 0, 0xffffffff, 0)};
}

TEST(Cpuid, Leaf1CarriesApicIdCountClflushAndHypervisorBit) {
  auto v = cpuid_for_vcpu(supported(), 3, 4);
  auto* l1 = find(v, 1);
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->ebx >> 24, 3u) << "initial APIC id";
  EXPECT_EQ((l1->ebx >> 16) & 0xff, 4u) << "logical processor count";
  EXPECT_EQ((l1->ebx >> 8) & 0xff, 8u) << "CLFLUSH 64 bytes";
  EXPECT_EQ(l1->ebx & 0xff, 0xffu) << "brand index kept";
  EXPECT_NE(l1->ecx & (1u << 31), 0u);
  EXPECT_EQ(l1->ecx & 0x1234, 0x1234u) << "other feature bits kept";
  EXPECT_NE(l1->edx & (1u << 28), 0u) << "HTT with more than one CPU";
  EXPECT_EQ(l1->eax, 0x000806f8u);
}

TEST(Cpuid, SingleCpuHasNoHtt) {
  auto v = cpuid_for_vcpu(supported(), 0, 1);
  EXPECT_EQ(find(v, 1)->edx & (1u << 28), 0u);
  EXPECT_EQ(find(v, 1)->ebx >> 24, 0u);
}

TEST(Cpuid, ExtendedTopologyDescribesOneSocketOfNCores) {
  auto v = cpuid_for_vcpu(supported(), 2, 3);
  auto* smt = find(v, 0xb, 0);
  auto* core = find(v, 0xb, 1);
  auto* end = find(v, 0xb, 2);
  ASSERT_TRUE(smt && core && end);
  EXPECT_EQ(smt->eax, 0u);
  EXPECT_EQ(smt->ebx, 1u);
  EXPECT_EQ(smt->ecx, 0x100u);
  EXPECT_EQ(core->eax, 2u) << "3 cores need 2 APIC id bits";
  EXPECT_EQ(core->ebx, 3u);
  EXPECT_EQ(core->ecx, 0x201u);
  EXPECT_EQ(end->ecx & 0xff00, 0u) << "level type 0 ends the enumeration";
  EXPECT_EQ(end->ebx, 0u);
  for (auto* e : {smt, core, end}) EXPECT_EQ(e->edx, 2u) << "x2APIC id in every subleaf";
}

TEST(Cpuid, Leaf4ReportsCoresPerPackageAndL3Sharing) {
  auto v = cpuid_for_vcpu(supported(), 0, 4);
  auto* l1d = find(v, 4, 0);  // eax 0x121: level 1
  auto* l3 = find(v, 4, 1);   // eax 0x163: level 3
  EXPECT_EQ(l1d->eax >> 26, 3u);
  EXPECT_EQ((l1d->eax >> 14) & 0xfff, 0u);
  EXPECT_EQ(l1d->eax & 0x3fff, 0x121u);
  EXPECT_EQ((l3->eax >> 14) & 0xfff, 3u);
}

TEST(Cpuid, AmdCoreCountLeaf) {
  auto v = cpuid_for_vcpu(supported(), 0, 2);
  auto* e = find(v, 0x80000008);
  EXPECT_EQ(e->ecx & 0xff, 1u);
  EXPECT_EQ((e->ecx >> 12) & 0xf, 1u);
  EXPECT_EQ(e->eax, 0x3030u);
}

}  // namespace
}  // namespace vmm::x86

namespace vmm::x86 {
namespace {

TEST(Cpuid, Cx16IsHiddenOnlyWhenAsked) {
  std::vector<kvm_cpuid_entry2> s{entry(0x1, 0, 0, 0, kCpuidCx16Bit | 1, 0)};
  EXPECT_NE(cpuid_for_vcpu(s, 0, 1)[0].ecx & kCpuidCx16Bit, 0u);
  CpuidQuirks q;
  q.hide_cx16 = true;
  auto v = cpuid_for_vcpu(s, 0, 1, q);
  EXPECT_EQ(v[0].ecx & kCpuidCx16Bit, 0u);
  EXPECT_EQ(v[0].ecx & 1u, 1u) << "other bits kept";
}

}  // namespace
}  // namespace vmm::x86
