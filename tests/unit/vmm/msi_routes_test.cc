#include "vmm/msi_routes.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

namespace pci = devices::pci;

kvm_irq_routing_entry spi_route(uint32_t gsi) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_IRQCHIP;
  e.u.irqchip.pin = gsi;
  return e;
}

MsiRouteOptions its_options() {
  MsiRouteOptions o;
  o.base = {spi_route(0), spi_route(1)};
  o.first_gsi = 96;
  o.devid = true;
  return o;
}

pci::Msi msi(uint16_t requester_id, uint16_t vector, uint64_t address, uint32_t data) {
  return pci::Msi{pci::MsiMessage{address, data}, vector, requester_id};
}

TEST(MsiRouteEntry, CarriesTheMessageAndTheDeviceId) {
  const auto e = msi_route_entry(100, pci::MsiMessage{0x1'0808'0040, 7}, uint16_t{0x18});
  EXPECT_EQ(e.gsi, 100u);
  EXPECT_EQ(e.type, static_cast<uint32_t>(KVM_IRQ_ROUTING_MSI));
  EXPECT_EQ(e.flags, static_cast<uint32_t>(KVM_MSI_VALID_DEVID));
  EXPECT_EQ(e.u.msi.devid, 0x18u);
  EXPECT_EQ(e.u.msi.address_lo, 0x0808'0040u);
  EXPECT_EQ(e.u.msi.address_hi, 1u);
  EXPECT_EQ(e.u.msi.data, 7u);
  // x86's local APICs take no device ID: KVM refuses unknown flags there.
  const auto plain = msi_route_entry(100, pci::MsiMessage{0xfee0'0000, 0x41}, std::nullopt);
  EXPECT_EQ(plain.flags, 0u);
  EXPECT_EQ(plain.u.msi.devid, 0u);
}

TEST(MsiRouteTable, GivesEachVectorItsOwnGsiAboveTheBase) {
  MsiRouteTable t(its_options());
  ASSERT_TRUE(t.reserve(0x08, 3));
  ASSERT_TRUE(t.reserve(0x18, 2));
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.gsi(msi(0x08, 0, 0, 0)), 96u);
  EXPECT_EQ(t.gsi(msi(0x08, 2, 0, 0)), 98u);
  EXPECT_EQ(t.gsi(msi(0x18, 0, 0, 0)), 99u);
  EXPECT_EQ(t.gsi(msi(0x18, 1, 0, 0)), 100u);
  EXPECT_EQ(t.gsi(msi(0x18, 2, 0, 0)), std::nullopt) << "past the function's vectors";
  EXPECT_EQ(t.gsi(msi(0x10, 0, 0, 0)), std::nullopt) << "a function never reserved";
  EXPECT_FALSE(t.reserve(0x08, 1)) << "twice";
}

TEST(MsiRouteTable, RoutesCarryTheRequesterIdAsDeviceId) {
  MsiRouteTable t(its_options());
  ASSERT_TRUE(t.reserve(0x08, 3));
  ASSERT_TRUE(t.reserve(0x18, 2));
  // Until a vector sends, only the base routes are in the table.
  auto table = t.entries();
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[1].type, static_cast<uint32_t>(KVM_IRQ_ROUTING_IRQCHIP));

  EXPECT_TRUE(t.update(msi(0x18, 1, 0x0808'0040, 5)));
  EXPECT_TRUE(t.update(msi(0x08, 0, 0x0808'0040, 0)));
  table = t.entries();
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].gsi, 0u);
  EXPECT_EQ(table[1].gsi, 1u);
  EXPECT_EQ(table[2].gsi, 96u);
  EXPECT_EQ(table[2].flags, static_cast<uint32_t>(KVM_MSI_VALID_DEVID));
  EXPECT_EQ(table[2].u.msi.devid, 0x08u);
  EXPECT_EQ(table[2].u.msi.data, 0u);
  EXPECT_EQ(table[3].gsi, 100u);
  EXPECT_EQ(table[3].type, static_cast<uint32_t>(KVM_IRQ_ROUTING_MSI));
  EXPECT_EQ(table[3].flags, static_cast<uint32_t>(KVM_MSI_VALID_DEVID));
  EXPECT_EQ(table[3].u.msi.devid, 0x18u);
  EXPECT_EQ(table[3].u.msi.address_lo, 0x0808'0040u);
  EXPECT_EQ(table[3].u.msi.data, 5u);
}

TEST(MsiRouteTable, OnlyANewMessageChangesTheTable) {
  MsiRouteTable t(its_options());
  ASSERT_TRUE(t.reserve(0x08, 2));
  EXPECT_TRUE(t.update(msi(0x08, 1, 0x0808'0040, 3)));
  EXPECT_FALSE(t.update(msi(0x08, 1, 0x0808'0040, 3))) << "the same message again: no KVM_SET_GSI_ROUTING";
  EXPECT_TRUE(t.update(msi(0x08, 1, 0x0808'0040, 4))) << "the guest moved the vector";
  EXPECT_TRUE(t.update(msi(0x08, 1, 0x0808'0044, 4)));
  EXPECT_FALSE(t.update(msi(0x08, 2, 0x0808'0040, 3))) << "no such vector";
  const auto table = t.entries();
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[2].u.msi.address_lo, 0x0808'0044u);
  EXPECT_EQ(table[2].u.msi.data, 4u);
}

TEST(MsiRouteTable, WithoutDeviceIdsRoutesHaveNoFlags) {
  MsiRouteOptions o;
  o.first_gsi = 24;
  MsiRouteTable t(o);
  ASSERT_TRUE(t.reserve(0x08, 1));
  ASSERT_TRUE(t.update(msi(0x08, 0, 0xfee0'0000, 0x41)));
  const auto table = t.entries();
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].gsi, 24u);
  EXPECT_EQ(table[0].flags, 0u);
  EXPECT_EQ(table[0].u.msi.devid, 0u);
}

TEST(MsiRouteTable, RefusesMoreVectorsThanKvmHasGsis) {
  MsiRouteOptions o = its_options();
  o.gsi_limit = 100;
  MsiRouteTable t(o);
  EXPECT_TRUE(t.reserve(0x08, 4));
  auto r = t.reserve(0x10, 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("0x10"), std::string::npos) << r.error().message;
  EXPECT_EQ(t.size(), 4u) << "a refused function reserves nothing";
}

}  // namespace
}  // namespace vmm
