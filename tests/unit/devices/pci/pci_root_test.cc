#include "devices/pci/pci_root.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "devices/virtio/virtio_pci.h"
#include "unit/devices/pci/pci_test_helpers.h"
#include "devices/virtio/virtio_rng.h"
#include "unit/devices/virtio/virtio_test_util.h"

namespace devices::pci {
namespace {

PciRootPlacement x86_placement() {
  PciRootPlacement p;
  p.ecam_base = 0xe000'0000;
  p.windows.mmio32 = {0xc000'0000, 0x2000'0000};
  p.windows.mmio64 = {0x1'0000'0000, 0x4'0000'0000};
  p.intx_lines = {16, 17, 18, 19};
  p.config_ports = true;
  p.acpi = true;
  return p;
}

uint32_t read32(Bus& bus, uint64_t address) {
  std::array<std::byte, 4> b{};
  EXPECT_TRUE(bus.read(address, b)) << std::hex << address;
  uint32_t v = 0;
  std::memcpy(&v, b.data(), 4);
  return v;
}

void write32(Bus& bus, uint64_t address, uint32_t value) {
  std::array<std::byte, 4> b{};
  std::memcpy(b.data(), &value, 4);
  EXPECT_TRUE(bus.write(address, b));
}

struct Fixture {
  loader::GuestMemory memory = virtio::test_util::make_guest_memory();
  std::shared_ptr<PciRoot> root;
  std::shared_ptr<virtio::VirtioPci> rng;
  Bus pio{BusKind::kPio};
  Bus mmio{BusKind::kMmio};
  explicit Fixture(PciRootPlacement p) : root(std::make_shared<PciRoot>(p)) {
    auto t = virtio::VirtioPci::create(std::make_shared<virtio::VirtioRng>(), memory);
    EXPECT_TRUE(t.has_value());
    rng = *t;
    auto slot = root->add(rng);
    EXPECT_EQ(slot.value_or(0), 1);
    EXPECT_TRUE(map_windows(root, pio, mmio).has_value());
  }
};

TEST(PciRoot, EcamConfigPortsAndBarWindowReachTheirOwnTargets) {
  Fixture f(x86_placement());
  EXPECT_EQ(f.mmio.name_at(0xe000'0000), "pci ecam");
  EXPECT_EQ(f.pio.name_at(0xcf8), "pci cf8 latch");
  EXPECT_EQ(f.pio.name_at(0xcfb), "pci cf8 latch");
  EXPECT_EQ(f.pio.name_at(0xcfc), "pci cfc data");
  EXPECT_EQ(f.pio.name_at(0xcff), "pci cfc data");
  EXPECT_EQ(f.mmio.name_at(0xc000'0000), "pci mmio32");
  EXPECT_EQ(f.mmio.name_at(0x1'0000'0000), "pci mmio64");
  // ECAM: slot 1's vendor/device id.
  EXPECT_EQ(read32(f.mmio, 0xe000'0000 + (1u << 15)), 0x1044u << 16 | 0x1af4u);
  // CF8/CFC: the host function at 00:00.0.
  write32(f.pio, 0xcf8, 0x8000'0000);
  EXPECT_EQ(read32(f.pio, 0xcfc), uint32_t{PciHostBridge::kDeviceId} << 16 | PciHostBridge::kVendorId);
  // The virtio BAR decodes where the bridge put it: its ISR reads through the window.
  BarMapping bar = f.rng->bar_mapping(virtio::VirtioPci::kBar);
  ASSERT_TRUE(bar.decoding);
  EXPECT_NE(f.mmio.name_at(bar.address), "");
}

// The VMM queues writes only where a window allows it: the latch (its
// effect shows only through a later data access, which exits), never the
// data port (a write there changes a device) nor ECAM.
TEST(PciRoot, OnlyTheConfigAddressLatchLetsItsWritesBeQueued) {
  PciRoot root(x86_placement());
  size_t latches = 0;
  for (const auto& w : root.windows()) {
    if (w.bus == BusKind::kPio && w.base == kCf8Base) {
      EXPECT_TRUE(w.writes_may_queue);
      EXPECT_EQ(w.size, 4u);
      EXPECT_EQ(w.device_offset, 0u);
      ++latches;
    } else {
      EXPECT_FALSE(w.writes_may_queue) << w.name;
    }
    if (w.bus == BusKind::kPio && w.base == kCf8Base + 4) {
      EXPECT_EQ(w.size, 4u);
      EXPECT_EQ(w.device_offset, 4u);  // the same device sees the data port where it always did
    }
  }
  EXPECT_EQ(latches, 1u);
}

// A latch write that arrives late (queued) still selects the register the
// next data access reaches: the two windows share one device.
TEST(PciRoot, LatchAndDataWindowsShareTheMechanismOneDevice) {
  Fixture f(x86_placement());
  write32(f.pio, 0xcf8, 0x8000'0800);  // 00:01.0, register 0
  EXPECT_EQ(read32(f.pio, 0xcf8), 0x8000'0800u);
  EXPECT_EQ(read32(f.pio, 0xcfc), 0x1044u << 16 | 0x1af4u);
}

TEST(PciRoot, IntxReachesThePlatformLineOfTheSwizzledPin) {
  Fixture f(x86_placement());
  ASSERT_EQ(f.root->irqs().size(), 4u);
  EXPECT_EQ(f.root->irqs()[1].line, 17u);
  std::array<std::vector<bool>, 4> seen;
  std::vector<IrqLine> lines;
  for (size_t i = 0; i < 4; ++i) lines.push_back([&seen, i](bool level) { seen[i].push_back(level); });
  f.root->connect_irqs(std::move(lines));
  auto dev = std::make_shared<testing::TestDevice>();
  ASSERT_EQ(f.root->add(dev).value_or(0), 2);
  dev->raise_intx(true);
  // Slot 2, INTA: bridge line (2 + 1 - 1) % 4 = 2.
  EXPECT_EQ(seen[2], (std::vector<bool>{true}));
  EXPECT_TRUE(seen[0].empty() && seen[1].empty() && seen[3].empty());
}

TEST(PciRoot, AcpiDescriptionHasTheBridgeTheEcamReservationAndMcfg) {
  Fixture f(x86_placement());
  boot::PlatformDescription d;
  f.root->describe(d);
  EXPECT_TRUE(d.dt_nodes.empty());
  ASSERT_EQ(d.dsdt_sb.size(), 2u);
  auto has = [](const std::vector<uint8_t>& v, std::string_view s) {
    return std::search(v.begin(), v.end(), s.begin(), s.end()) != v.end();
  };
  EXPECT_TRUE(has(d.dsdt_sb[0], "PCI0"));
  EXPECT_TRUE(has(d.dsdt_sb[0], "_PRT"));
  EXPECT_TRUE(has(d.dsdt_sb[1], "MRES"));
  // One _PRT package for the rng's INTA: Package(4) { 0x0001FFFF, Zero, Zero, 17 }.
  const std::vector<uint8_t> prt{0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0a, 17};
  EXPECT_NE(std::search(d.dsdt_sb[0].begin(), d.dsdt_sb[0].end(), prt.begin(), prt.end()), d.dsdt_sb[0].end());
  ASSERT_EQ(d.acpi_tables.size(), 1u);
  EXPECT_EQ(std::string(d.acpi_tables[0].begin(), d.acpi_tables[0].begin() + 4), "MCFG");
}

TEST(PciRoot, DeviceTreePlatformsGetANodeAndNoConfigPorts) {
  PciRootPlacement p = x86_placement();
  p.config_ports = false;
  p.acpi = false;
  Fixture f(p);
  EXPECT_EQ(f.pio.name_at(0xcf8), "");
  boot::PlatformDescription d;
  f.root->describe(d);
  EXPECT_EQ(d.dt_nodes.size(), 1u);
  EXPECT_TRUE(d.dsdt_sb.empty());
  EXPECT_TRUE(d.acpi_tables.empty());
  EXPECT_EQ(f.root->dt_node_path(), "/pci@e0000000");
}

}  // namespace
}  // namespace devices::pci
