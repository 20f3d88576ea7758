#include "devices/pci/pci_device.h"

#include <gtest/gtest.h>

#include "unit/devices/pci/pci_test_helpers.h"

namespace devices::pci {
namespace {

using testing::TestDevice;

struct Sent {
  uint64_t address;
  uint32_t data;
  bool operator==(const Sent&) const = default;
};

// A device with 3 vectors: table at BAR 0 + 0x100, PBA at + 0x800.
class MsixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dev.bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
    ASSERT_TRUE(dev.msix(3, 0, 0x100, 0x800));
    dev.set_msi_sink([this](const Msi& m) {
      sent.push_back({m.message.address, m.message.data});
      vectors.push_back(m.vector);
    });
    for (uint16_t v = 0; v < 3; ++v) {
      table_write(v * 16 + 0, 0xfee0'0000u + v * 0x1000);
      table_write(v * 16 + 4, 0);
      table_write(v * 16 + 8, 0x30u + v);
    }
  }
  void table_write(uint64_t off, uint32_t v) {
    dev.bar_write(0, 0x100 + off, std::as_bytes(std::span(&v, 1)));
  }
  uint32_t read32(uint64_t off) {
    uint32_t v = 0;
    dev.bar_read(0, off, std::as_writable_bytes(std::span(&v, 1)));
    return v;
  }
  uint64_t pba() {
    uint64_t v = 0;
    dev.bar_read(0, 0x800, std::as_writable_bytes(std::span(&v, 1)));
    return v;
  }
  void control(uint16_t bits) { dev.config_write(0x42, 2, bits); }

  TestDevice dev;
  std::vector<Sent> sent;
  std::vector<uint16_t> vectors;  // of each message in `sent`
};

TEST_F(MsixTest, CapabilityDescribesTableAndPba) {
  EXPECT_EQ(dev.config_read(kCapabilitiesPointer, 1), 0x40u);
  EXPECT_EQ(dev.config_read(0x40, 1), kCapIdMsix);
  EXPECT_EQ(dev.config_read(0x42, 2) & 0x7ff, 2u);  // table size - 1
  EXPECT_EQ(dev.config_read(0x44, 4), 0x100u);       // offset | BIR 0
  EXPECT_EQ(dev.config_read(0x48, 4), 0x800u);
  dev.config_write(0x42, 2, 0xffff);  // only enable and function mask are writable
  EXPECT_EQ(dev.config_read(0x42, 2), 0xc002u);
  EXPECT_EQ(read32(0x100 + 12), 1u);  // vectors start masked
  EXPECT_EQ(read32(0x100 + 16 + 8), 0x31u);
}

TEST_F(MsixTest, DeliversOnlyWhenEnabledAndUnmasked) {
  dev.raise_msix(1);  // MSI-X disabled: nothing, and nothing pending
  EXPECT_TRUE(sent.empty());
  control(kMsixEnable);
  dev.raise_msix(1);  // enabled but the vector is masked: pending
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(pba(), 0b010u);
  table_write(16 + 12, 0);  // unmask: the pending message goes out
  EXPECT_EQ(sent, (std::vector<Sent>{{0xfee0'1000, 0x31}}));
  EXPECT_EQ(pba(), 0u);
  dev.raise_msix(1);
  EXPECT_EQ(sent.size(), 2u);
  dev.raise_msix(7);  // no such vector
  EXPECT_EQ(sent.size(), 2u);
}

TEST_F(MsixTest, FunctionMaskHoldsMessagesUntilCleared) {
  table_write(12, 0);
  table_write(32 + 12, 0);
  control(kMsixEnable | kMsixFunctionMask);
  dev.raise_msix(0);
  dev.raise_msix(2);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(pba(), 0b101u);
  uint64_t pba_write = 0;
  dev.bar_write(0, 0x800, std::as_bytes(std::span(&pba_write, 1)));  // the PBA is read-only
  EXPECT_EQ(pba(), 0b101u);
  control(kMsixEnable);
  EXPECT_EQ(sent, (std::vector<Sent>{{0xfee0'0000, 0x30}, {0xfee0'2000, 0x32}}));
  EXPECT_EQ(vectors, (std::vector<uint16_t>{0, 2})) << "pending messages name their vectors";
  EXPECT_EQ(pba(), 0u);
}

TEST(PciDevice, MsixPlacementIsChecked) {
  TestDevice d;
  ASSERT_TRUE(d.bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  ASSERT_TRUE(d.bar(1, BarSpec{BarKind::kIo, 0x10, false}));
  EXPECT_FALSE(d.msix(4, 2, 0, 0x800));      // no BAR 2
  EXPECT_FALSE(d.msix(4, 1, 0, 0x8));        // IO BAR
  EXPECT_FALSE(d.msix(4, 0, 0x0, 0x20));     // PBA inside the table
  EXPECT_FALSE(d.msix(4, 0, 0xff8, 0x800));  // table past the BAR end
  EXPECT_FALSE(d.msix(0, 0, 0, 0x800));
  EXPECT_TRUE(d.msix(4, 0, 0, 0x800));
  EXPECT_FALSE(d.msix(4, 0, 0, 0x800));      // twice
}

TEST(PciDevice, DecodeIsOffUntilMemoryIsEnabled) {
  TestDevice d;
  ASSERT_TRUE(d.bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  d.config_write(kBar0, 4, 0xd000'0000);
  EXPECT_FALSE(d.decode(AddressSpace::kMemory, 0xd000'0000, 4));
  d.config_write(kCommand, 2, kCommandMemory);
  auto hit = d.decode(AddressSpace::kMemory, 0xd000'0ffc, 4);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->bar, 0u);
  EXPECT_EQ(hit->offset, 0xffcu);
  EXPECT_FALSE(d.decode(AddressSpace::kMemory, 0xd000'0ffc, 8));
  EXPECT_FALSE(d.decode(AddressSpace::kIo, 0xd000'0000, 4));
}

TEST(PciDevice, IntxLineFollowsStateAndDisableBit) {
  TestDevice d;
  std::vector<bool> levels;
  d.connect_intx([&](bool l) { levels.push_back(l); });
  d.raise_intx(true);
  d.raise_intx(true);  // no repeated edges
  d.config_write(kCommand, 2, kCommandIntxDisable);
  d.raise_intx(false);
  d.config_write(kCommand, 2, 0);
  EXPECT_EQ(levels, (std::vector<bool>{true, false}));
  EXPECT_FALSE(d.intx_level());
}

}  // namespace
}  // namespace devices::pci
