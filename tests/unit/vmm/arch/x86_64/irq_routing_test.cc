#include "arch/x86_64/irq_routing.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <utility>

namespace vmm::x86 {
namespace {

std::optional<uint32_t> pin_of(const std::vector<kvm_irq_routing_entry>& table, uint32_t gsi, uint32_t chip) {
  std::optional<uint32_t> pin;
  for (const auto& e : table) {
    if (e.gsi != gsi || e.type != KVM_IRQ_ROUTING_IRQCHIP || e.u.irqchip.irqchip != chip) continue;
    EXPECT_FALSE(pin.has_value()) << "GSI " << gsi << " routed twice to chip " << chip;
    pin = e.u.irqchip.pin;
  }
  return pin;
}

TEST(IrqRouting, PitGsi0ReachesIoapicPin2AsTheMpTableAndMadtSay) {
  auto table = legacy_gsi_routing();
  EXPECT_EQ(pin_of(table, 0, KVM_IRQCHIP_IOAPIC), std::optional<uint32_t>(2));
  EXPECT_EQ(pin_of(table, 0, KVM_IRQCHIP_PIC_MASTER), std::optional<uint32_t>(0));
}

TEST(IrqRouting, DevicesKeepTheirOwnIoapicPins) {
  auto table = legacy_gsi_routing();
  for (uint32_t gsi : {1u, 3u, 4u, 8u, 12u, 14u, 15u, 23u})
    EXPECT_EQ(pin_of(table, gsi, KVM_IRQCHIP_IOAPIC), std::optional<uint32_t>(gsi)) << "GSI " << gsi;
  EXPECT_EQ(pin_of(table, 4, KVM_IRQCHIP_PIC_MASTER), std::optional<uint32_t>(4));
  EXPECT_EQ(pin_of(table, 12, KVM_IRQCHIP_PIC_SLAVE), std::optional<uint32_t>(4));
}

TEST(IrqRouting, NothingDrivesIoapicPin2OrTheCascadeButTheTimer) {
  auto table = legacy_gsi_routing();
  EXPECT_FALSE(pin_of(table, 2, KVM_IRQCHIP_IOAPIC).has_value());
  EXPECT_FALSE(pin_of(table, 2, KVM_IRQCHIP_PIC_MASTER).has_value());
  std::set<std::pair<uint32_t, uint32_t>> targets;
  for (const auto& e : table)
    EXPECT_TRUE(targets.insert({e.u.irqchip.irqchip, e.u.irqchip.pin}).second)
        << "two GSIs drive chip " << e.u.irqchip.irqchip << " pin " << e.u.irqchip.pin;
}

}  // namespace
}  // namespace vmm::x86
