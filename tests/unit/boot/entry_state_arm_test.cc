#include "boot/entry_state_arm.h"

#include <gtest/gtest.h>

namespace boot {
namespace {

using loader::GuestAddress;

TEST(EntryStateAarch64, El1hWithDaifMaskedAndDtbInX0) {
  auto s = aarch64_entry_state(GuestAddress(0x8020'0000), GuestAddress(0x87e0'0000));
  EXPECT_EQ(s.pc, 0x8020'0000u);
  // PSTATE: M[3:0] = 0b0101 (EL1h), D A I F = bits 9 8 7 6.
  EXPECT_EQ(s.pstate, 0x3c5u);
  EXPECT_EQ(s.x0, 0x87e0'0000u);
  EXPECT_EQ(s.x1, 0u);
  EXPECT_EQ(s.x2, 0u);
  EXPECT_EQ(s.x3, 0u);
}

TEST(EntryStateRiscv64, HartIdInA0DtbInA1SatpZero) {
  auto s = riscv64_entry_state(GuestAddress(0x8020'0000), 3, GuestAddress(0x8fe0'0000));
  EXPECT_EQ(s.pc, 0x8020'0000u);
  EXPECT_EQ(s.a0, 3u);
  EXPECT_EQ(s.a1, 0x8fe0'0000u);
  EXPECT_EQ(s.satp, 0u);
}

TEST(Aarch64Mpidr, MatchesKvmClustersOfSixteen) {
  EXPECT_EQ(aarch64_mpidr_for_vcpu(0), 0u);
  EXPECT_EQ(aarch64_mpidr_for_vcpu(7), 7u);
  EXPECT_EQ(aarch64_mpidr_for_vcpu(15), 0xfu);
  EXPECT_EQ(aarch64_mpidr_for_vcpu(16), 0x100u);
  EXPECT_EQ(aarch64_mpidr_for_vcpu(0x35), 0x305u);
  EXPECT_EQ(aarch64_mpidr_for_vcpu(0x1234), 0x01'23'04u);
}

}  // namespace
}  // namespace boot
