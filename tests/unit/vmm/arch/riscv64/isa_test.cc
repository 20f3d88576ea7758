// The device tree's picture of a hart from KVM's register values.
#include "arch/riscv64/isa.h"

#include <gtest/gtest.h>

#include "arch/riscv64/kvm_regs.h"

namespace vmm::riscv64 {
namespace {

constexpr uint64_t letters(std::string_view s) {
  uint64_t bits = 0;
  for (char c : s) bits |= uint64_t{1} << (c - 'a');
  return bits;
}

TEST(RiscvIsa, LettersComeInCanonicalOrderThenMultiLetterNames) {
  // KVM ids (uapi): 8 = sstc, 13 = zbb, 17 = zba, 20 = zicsr, 21 = zifencei.
  HartIsa isa = describe_isa(letters("cadfmi"), {8, 13, 17, 20, 21});
  EXPECT_EQ(isa.isa, "rv64imafdc_sstc_zbb_zba_zicsr_zifencei");
  EXPECT_EQ(isa.extensions, (std::vector<std::string>{"i", "m", "a", "f", "d", "c", "sstc", "zbb", "zba", "zicsr",
                                                       "zifencei"}));
}

TEST(RiscvIsa, ZicsrAndZifenceiAreImpliedByIWhenKvmDoesNotListThem) {
  HartIsa isa = describe_isa(letters("imac"), {});
  EXPECT_EQ(isa.isa, "rv64imac_zicsr_zifencei");
  EXPECT_EQ(isa.extensions.back(), "zifencei");
}

TEST(RiscvIsa, SingleLetterIdsAndUnknownIdsAreSkipped) {
  HartIsa isa = describe_isa(letters("i"), {0, 5, 6, 9999, 20, 21});
  EXPECT_EQ(isa.isa, "rv64i_zicsr_zifencei");
}

TEST(RiscvIsa, ExtensionTableMatchesTheUapiNumbering) {
  EXPECT_EQ(isa_ext_name(7), "svpbmt");
  EXPECT_EQ(isa_ext_name(11), "zicbom");
  EXPECT_EQ(isa_ext_name(14), "ssaia");
  EXPECT_EQ(isa_ext_name(19), "zicntr");
  EXPECT_EQ(isa_ext_name(22), "zihpm");
  EXPECT_EQ(isa_ext_name(56), "zca");
  EXPECT_FALSE(isa_ext_name(6).has_value()) << "m is a letter";
  EXPECT_FALSE(isa_ext_name(isa_ext_count()).has_value());
}

TEST(RiscvIsa, SatpModeMapsToMmuTypeWithSv39Fallback) {
  EXPECT_EQ(mmu_type(8), boot::RiscvMmuType::kSv39);
  EXPECT_EQ(mmu_type(9), boot::RiscvMmuType::kSv48);
  EXPECT_EQ(mmu_type(10), boot::RiscvMmuType::kSv57);
  EXPECT_EQ(mmu_type(0), boot::RiscvMmuType::kSv39);
}

TEST(RiscvIsa, OneRegIdsFollowTheKvmEncoding) {
  // KVM_REG_RISCV | KVM_REG_SIZE_U64 | type << 24 | index.
  EXPECT_EQ(kCorePc, 0x8030000002000000ull);
  EXPECT_EQ(core_a(0), 0x803000000200000aull);
  EXPECT_EQ(core_a(1), 0x803000000200000bull);
  EXPECT_EQ(kCoreMode, 0x8030000002000020ull);
  EXPECT_EQ(kConfigIsa, 0x8030000001000000ull);
  EXPECT_EQ(kConfigSatpMode, 0x8030000001000006ull);
  EXPECT_EQ(kTimerFrequency, 0x8030000004000000ull);
  EXPECT_EQ(isa_ext_id(8), 0x8030000007000008ull);
  EXPECT_EQ(sbi_ext_id(kKvmSbiExtDbcn), 0x8030000008000009ull);
}

}  // namespace
}  // namespace vmm::riscv64
