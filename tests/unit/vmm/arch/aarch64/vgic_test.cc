// The routing table minivmm gives KVM once the ITS is in use must keep what
// vgic_init installed (GSI n -> SPI n), since KVM_SET_GSI_ROUTING replaces
// it; MSI routes go above.
#include "arch/aarch64/vgic.h"

#include <gtest/gtest.h>

#include "boot/memory_map_aarch64.h"

namespace vmm::aarch64 {
namespace {

TEST(Vgic, SpiRoutesAreKvmsDefaultTable) {
  const auto table = spi_routes();
  ASSERT_EQ(table.size(), kVgicNrSpis);
  EXPECT_EQ(kVgicNrSpis, 96u) << "128 interrupts less the 32 private ones";
  for (uint32_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(table[i].gsi, i);
    EXPECT_EQ(table[i].type, static_cast<uint32_t>(KVM_IRQ_ROUTING_IRQCHIP));
    EXPECT_EQ(table[i].flags, 0u);
    EXPECT_EQ(table[i].u.irqchip.irqchip, 0u);
    EXPECT_EQ(table[i].u.irqchip.pin, i);
  }
}

TEST(Vgic, ItsSitsBetweenDistributorAndRedistributors) {
  // KVM wants the ITS 64 KiB aligned and two 64 KiB frames long
  // (KVM_VGIC_V3_ITS_SIZE, whose SZ_64K the uapi header leaves undefined).
  EXPECT_EQ(boot::aarch64::kGicItsBase % 0x1'0000, 0u);
  EXPECT_EQ(boot::aarch64::kGicItsSize, 2u * 0x1'0000);
  EXPECT_GE(boot::aarch64::kGicItsBase, boot::aarch64::kGicDistBase + boot::aarch64::kGicV3DistSize);
  EXPECT_LE(boot::aarch64::kGicItsBase + boot::aarch64::kGicItsSize, boot::aarch64::kGicRedistBase);
}

}  // namespace
}  // namespace vmm::aarch64
