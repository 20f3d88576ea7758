#include "devices/virtio/virtio_mmio_device.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "devices/virtio/virtio_rng.h"
#include "unit/devices/virtio/virtio_test_util.h"

namespace devices::virtio {
namespace {

uint32_t read32(Bus& bus, uint64_t address) {
  std::array<std::byte, 4> b{};
  EXPECT_TRUE(bus.read(address, b));
  uint32_t v = 0;
  std::memcpy(&v, b.data(), 4);
  return v;
}

bool contains(const std::vector<uint8_t>& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

struct Fixture {
  loader::GuestMemory memory = test_util::make_guest_memory();
  std::shared_ptr<VirtioMmioDevice> dev;
  Bus pio{BusKind::kPio};
  Bus mmio{BusKind::kMmio};
  explicit Fixture(bool acpi) {
    dev = std::make_shared<VirtioMmioDevice>(std::make_shared<VirtioRng>(), memory,
                                             MmioPlacement{0xd000'0200, 6, 1, acpi});
  }
};

TEST(VirtioMmioDevice, WindowReachesTheTransportRegisters) {
  Fixture f(false);
  ASSERT_EQ(f.dev->windows().size(), 1u);
  EXPECT_EQ(f.dev->windows()[0].size, 0x200u);
  ASSERT_TRUE(map_windows(f.dev, f.pio, f.mmio).has_value());
  EXPECT_EQ(read32(f.mmio, 0xd000'0200 + VirtioMmio::kMagicValue), VirtioMmio::kMagic);
  EXPECT_EQ(read32(f.mmio, 0xd000'0200 + VirtioMmio::kDeviceId), static_cast<uint32_t>(DeviceType::kEntropy));
  EXPECT_EQ(f.mmio.name_at(0xd000'0200), "virtio-mmio1 virtio-rng");
}

TEST(VirtioMmioDevice, InterruptGoesToTheConnectedLine) {
  Fixture f(false);
  ASSERT_EQ(f.dev->irqs().size(), 1u);
  EXPECT_EQ(f.dev->irqs()[0].line, 6u);
  EXPECT_EQ(f.dev->irqs()[0].trigger, boot::IrqTrigger::kLevel);
  std::vector<bool> levels;
  f.dev->connect_irqs({[&](bool level) { levels.push_back(level); }});
  f.dev->transport().signal_config();
  EXPECT_EQ(levels, (std::vector<bool>{true}));
}

TEST(VirtioMmioDevice, DescribesADeviceTreeNodeOrAnAcpiDevice) {
  Fixture dt(false);
  boot::PlatformDescription a;
  dt.dev->describe(a);
  EXPECT_EQ(a.dt_nodes.size(), 1u);
  EXPECT_TRUE(a.dsdt_sb.empty());
  EXPECT_EQ(dt.dev->dt_node_path(), "/virtio_mmio@d0000200");

  Fixture acpi(true);
  boot::PlatformDescription b;
  acpi.dev->describe(b);
  EXPECT_TRUE(b.dt_nodes.empty());
  ASSERT_EQ(b.dsdt_sb.size(), 1u);
  EXPECT_TRUE(contains(b.dsdt_sb[0], "VR01"));
  EXPECT_TRUE(contains(b.dsdt_sb[0], "LNRO0005"));
  // Memory32Fixed at the window and the extended interrupt on line 6.
  const std::vector<uint8_t> mem{0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00};
  EXPECT_NE(std::search(b.dsdt_sb[0].begin(), b.dsdt_sb[0].end(), mem.begin(), mem.end()), b.dsdt_sb[0].end());
  const std::vector<uint8_t> irq{0x89, 0x06, 0x00, 0x01, 0x01, 6, 0, 0, 0};
  EXPECT_NE(std::search(b.dsdt_sb[0].begin(), b.dsdt_sb[0].end(), irq.begin(), irq.end()), b.dsdt_sb[0].end());
}

}  // namespace
}  // namespace devices::virtio
