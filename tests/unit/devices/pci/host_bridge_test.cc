#include "devices/pci/host_bridge.h"

#include <gtest/gtest.h>

#include <set>

#include "unit/devices/pci/pci_test_helpers.h"

namespace devices::pci {
namespace {

using testing::dev_read;
using testing::dev_write;
using testing::ecam_read;
using testing::ecam_write;
using testing::TestDevice;

std::shared_ptr<TestDevice> device_with_bars() {
  auto d = std::make_shared<TestDevice>();
  EXPECT_TRUE(d->bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  EXPECT_TRUE(d->bar(1, BarSpec{BarKind::kIo, 0x40, false}));
  EXPECT_TRUE(d->bar(2, BarSpec{BarKind::kMemory64, 0x4000, true}));
  return d;
}

uint32_t cf8_address(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t reg) {
  return 0x8000'0000u | uint32_t{bus} << 16 | uint32_t{dev} << 11 | uint32_t{fn} << 8 | reg;
}

TEST(PciHostBridge, DeviceZeroIsTheGpexStyleHostBridge) {
  PciHostBridge bridge(testing::test_windows());
  EXPECT_EQ(ecam_read(bridge, 0, kVendorId), 0x00081b36u);
  EXPECT_EQ(ecam_read(bridge, 0, kRevisionId) >> 8, 0x060000u);
  EXPECT_EQ(ecam_read(bridge, 0, kHeaderType, 1), 0u);
}

TEST(PciHostBridge, EcamAndCf8ReachTheSameConfigSpace) {
  PciHostBridge bridge(testing::test_windows());
  auto slot = bridge.add_device(std::make_shared<TestDevice>(0x5678));
  ASSERT_TRUE(slot);
  auto& cf8 = *bridge.cf8();
  dev_write(cf8, 0, 4, cf8_address(0, *slot, 0, kVendorId));
  EXPECT_EQ(dev_read(cf8, 4, 4), 0x56781234u);
  EXPECT_EQ(dev_read(cf8, 0, 4), cf8_address(0, *slot, 0, kVendorId));  // the latch reads back

  // A write through CF8/CFC (byte lane 0xCFC of dword 0x3c) shows through ECAM, and back.
  dev_write(cf8, 0, 4, cf8_address(0, *slot, 0, kInterruptLine));
  dev_write(cf8, 4, 1, 0x2a);
  EXPECT_EQ(ecam_read(bridge, *slot, kInterruptLine, 1), 0x2au);
  ecam_write(bridge, *slot, kInterruptLine, 1, 0x0b);
  EXPECT_EQ(dev_read(cf8, 4, 1), 0x0bu);
  // Byte offsets 0xCFC..0xCFF select the bytes of the latched dword.
  dev_write(cf8, 0, 4, cf8_address(0, *slot, 0, kVendorId));
  EXPECT_EQ(dev_read(cf8, 6, 2), 0x5678u);
  EXPECT_EQ(dev_read(cf8, 7, 1), 0x56u);
  EXPECT_EQ(dev_read(cf8, 6, 4), 0xffffffffu);  // would spill past 0xCFF
}

TEST(PciHostBridge, AbsentFunctionsReadAllOnes) {
  PciHostBridge bridge(testing::test_windows());
  ASSERT_TRUE(bridge.add_device(std::make_shared<TestDevice>(), 3));
  EXPECT_EQ(ecam_read(bridge, 4, kVendorId), 0xffffffffu);           // empty slot
  EXPECT_EQ(ecam_read(bridge, 3, kVendorId | 1 << 12), 0xffffffffu);  // function 1
  EXPECT_EQ(ecam_read(bridge, 3, kVendorId, 2), 0x1234u);
  ecam_write(bridge, 4, kInterruptLine, 1, 5);  // ignored, must not crash
  EXPECT_EQ(dev_read(*bridge.ecam(), 1 << 20, 4), 0xffffffffu);      // bus 1
  EXPECT_EQ(dev_read(*bridge.ecam(), testing::ecam_offset(3, 0), 8), ~0ull);  // no qword config access

  auto& cf8 = *bridge.cf8();
  dev_write(cf8, 0, 4, cf8_address(0, 3, 0, 0) & ~0x8000'0000u);  // enable bit clear
  EXPECT_EQ(dev_read(cf8, 4, 4), 0xffffffffu);
  dev_write(cf8, 0, 4, cf8_address(1, 3, 0, 0));  // bus 1
  EXPECT_EQ(dev_read(cf8, 4, 4), 0xffffffffu);
  dev_write(cf8, 0, 4, cf8_address(0, 9, 0, 0));
  EXPECT_EQ(dev_read(cf8, 4, 4), 0xffffffffu);
}

TEST(PciHostBridge, UnalignedEcamAccessesWork) {
  PciHostBridge bridge(testing::test_windows());
  EXPECT_EQ(ecam_read(bridge, 0, 1, 2), 0x0000081bu);
  EXPECT_EQ(ecam_read(bridge, 0, 1, 4), 0x0000081bu);  // vendor high byte, device, command low byte
  EXPECT_EQ(ecam_read(bridge, 0, 0xffe, 4), 0xffffffffu);        // crosses the 4 KiB function boundary
}

TEST(PciHostBridge, PreassignsBarsNaturallyAlignedInTheRightWindows) {
  const BridgeWindows w = testing::test_windows();
  PciHostBridge bridge(w);
  auto a = device_with_bars();
  auto b = device_with_bars();
  ASSERT_TRUE(bridge.add_device(a));
  ASSERT_TRUE(bridge.add_device(b));
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (auto& d : {a, b}) {
    for (uint32_t i : {0u, 1u, 2u}) {
      const BarMapping m = d->bar_mapping(i);
      EXPECT_TRUE(m.decoding) << i;
      EXPECT_EQ(m.address % m.size, 0u) << i;
      const Window& win = i == 0 ? w.mmio32 : i == 1 ? w.io : w.mmio64;
      EXPECT_GE(m.address, win.base) << i;
      EXPECT_LE(m.address + m.size, win.base + win.size) << i;
      for (auto [base, size] : seen) EXPECT_TRUE(m.address + m.size <= base || base + size <= m.address);
      seen.emplace(m.address, m.size);
    }
    EXPECT_EQ(d->config_read(kCommand, 2) & (kCommandMemory | kCommandIo), kCommandMemory | kCommandIo);
  }
}

TEST(PciHostBridge, PrefetchableBarFallsBackToThe32BitWindowAndTooBigFails) {
  BridgeWindows w;
  w.mmio32 = {0xc000'0000, 0x10'0000};
  PciHostBridge bridge(w);
  auto d = std::make_shared<TestDevice>();
  ASSERT_TRUE(d->bar(2, BarSpec{BarKind::kMemory64, 0x4000, true}));
  ASSERT_TRUE(bridge.add_device(d));
  EXPECT_EQ(d->bar_mapping(2).address, 0xc000'0000u);

  auto big = std::make_shared<TestDevice>();
  ASSERT_TRUE(big->bar(0, BarSpec{BarKind::kMemory32, 0x20'0000, false}));
  EXPECT_FALSE(bridge.add_device(big));
  auto io = std::make_shared<TestDevice>();
  ASSERT_TRUE(io->bar(0, BarSpec{BarKind::kIo, 0x10, false}));
  EXPECT_FALSE(bridge.add_device(io));  // there is no IO window
}

TEST(PciHostBridge, SlotRules) {
  PciHostBridge bridge(testing::test_windows());
  EXPECT_FALSE(bridge.add_device(std::make_shared<TestDevice>(), 0));
  EXPECT_FALSE(bridge.add_device(std::make_shared<TestDevice>(), 32));
  EXPECT_FALSE(bridge.add_device(nullptr));
  ASSERT_TRUE(bridge.add_device(std::make_shared<TestDevice>(), 5));
  EXPECT_FALSE(bridge.add_device(std::make_shared<TestDevice>(), 5));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(bridge.add_device(std::make_shared<TestDevice>()));
  EXPECT_FALSE(bridge.add_device(std::make_shared<TestDevice>()));
}

TEST(PciHostBridge, BarWindowRoutesToTheBarThatDecodes) {
  PciHostBridge bridge(testing::test_windows());
  auto d = device_with_bars();
  ASSERT_TRUE(bridge.add_device(d));
  auto& mmio = *bridge.mmio_window();
  const uint64_t bar0 = d->bar_mapping(0).address;
  const uint64_t bar2 = d->bar_mapping(2).address;
  EXPECT_EQ(dev_read(mmio, bar0 + 0x10, 4), 0x10u);
  EXPECT_EQ(dev_read(mmio, bar2 + 0x3ff8, 8), 2ull << 56 | 0x3ff8);
  dev_write(mmio, bar2 + 0x20, 2, 0xbeef);
  ASSERT_EQ(d->accesses.size(), 3u);
  EXPECT_EQ(d->accesses[2].bar, 2u);
  EXPECT_EQ(d->accesses[2].offset, 0x20u);
  EXPECT_EQ(d->accesses[2].value, 0xbeefu);
  // Straddling the end of a BAR, or outside every BAR: nobody claims it.
  EXPECT_EQ(dev_read(mmio, bar0 + 0xffe, 4), 0xffffffffu);
  EXPECT_EQ(dev_read(mmio, bar0 + 0x1000 * 64, 4), 0xffffffffu);
  EXPECT_EQ(d->accesses.size(), 3u);
  // IO BARs answer in the IO window only.
  const uint64_t io = d->bar_mapping(1).address;
  EXPECT_EQ(dev_read(mmio, io, 4), 0xffffffffu);
  EXPECT_EQ(dev_read(*bridge.io_window(), io + 4, 1), 4u);
}

TEST(PciHostBridge, GuestMovingABarOrDisablingDecodeReroutesAndTellsTheObserver) {
  PciHostBridge bridge(testing::test_windows());
  auto d = device_with_bars();
  auto slot = bridge.add_device(d);
  ASSERT_TRUE(slot);
  std::vector<BarMapping> seen;
  d->set_bar_observer([&](const BarMapping& m) { seen.push_back(m); });
  auto& mmio = *bridge.mmio_window();
  const uint64_t old_bar0 = d->bar_mapping(0).address;
  const uint64_t new_bar0 = old_bar0 + 0x10'0000;

  // What Linux does: decode off, size, program, decode on.
  const uint32_t cmd = ecam_read(bridge, *slot, kCommand, 2);
  ecam_write(bridge, *slot, kCommand, 2, cmd & ~kCommandMemory);
  EXPECT_EQ(dev_read(mmio, old_bar0, 4), 0xffffffffu);
  ecam_write(bridge, *slot, kBar0, 4, 0xffffffff);
  EXPECT_EQ(ecam_read(bridge, *slot, kBar0), 0xfffff000u);
  ecam_write(bridge, *slot, kBar0, 4, static_cast<uint32_t>(new_bar0));
  ecam_write(bridge, *slot, kCommand, 2, cmd);

  EXPECT_EQ(dev_read(mmio, old_bar0, 4), 0xffffffffu);
  EXPECT_EQ(dev_read(mmio, new_bar0 + 8, 4), 8u);
  // BAR 0 and BAR 2 stopped decoding, then BAR 0 (moved) and BAR 2 came back.
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_FALSE(seen[0].decoding);
  EXPECT_EQ(seen[2].index, 0u);
  EXPECT_TRUE(seen[2].decoding);
  EXPECT_EQ(seen[2].address, new_bar0);
  EXPECT_EQ(seen[2].size, 0x1000u);
}

TEST(PciHostBridge, IntxSwizzleAndWiredOrLines) {
  std::array<std::vector<bool>, 4> levels;
  std::array<IrqLine, 4> lines;
  for (size_t i = 0; i < 4; ++i) lines[i] = [&levels, i](bool level) { levels[i].push_back(level); };
  PciHostBridge bridge(testing::test_windows(), lines);
  EXPECT_EQ(PciHostBridge::intx_line(3, 1), 3);
  EXPECT_EQ(PciHostBridge::intx_line(4, 2), 1);
  EXPECT_EQ(PciHostBridge::intx_line(1, 4), 0);

  auto a = std::make_shared<TestDevice>(1, 1);  // slot 1, INTA -> line 1
  auto b = std::make_shared<TestDevice>(2, 4);  // slot 2, INTD -> line 1
  auto c = std::make_shared<TestDevice>(3, 1);  // slot 3, INTA -> line 3
  ASSERT_TRUE(bridge.add_device(a, 1));
  ASSERT_TRUE(bridge.add_device(b, 2));
  ASSERT_TRUE(bridge.add_device(c, 3));
  a->raise_intx(true);
  b->raise_intx(true);
  a->raise_intx(false);
  EXPECT_TRUE(bridge.line_level(1));  // b still holds it
  b->raise_intx(false);
  EXPECT_EQ(levels[1], (std::vector<bool>{true, false}));
  c->raise_intx(true);
  EXPECT_EQ(levels[3], (std::vector<bool>{true}));
  EXPECT_TRUE(levels[0].empty() && levels[2].empty());

  // INTx disable in the command register drops the wire but keeps the status bit.
  ecam_write(bridge, 3, kCommand, 2, kCommandIntxDisable);
  EXPECT_FALSE(bridge.line_level(3));
  EXPECT_NE(ecam_read(bridge, 3, kStatus, 2) & kStatusIntx, 0u);
  ecam_write(bridge, 3, kCommand, 2, 0);
  EXPECT_TRUE(bridge.line_level(3));

  const auto routes = bridge.intx_routes();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[1].device, 2);
  EXPECT_EQ(routes[1].pin, 4);
  EXPECT_EQ(routes[1].line, 1);
  EXPECT_EQ(routes[1].dt_phys_hi(), 2u << 11);
  const auto prt = bridge.prt_entries();
  ASSERT_EQ(prt.size(), 3u);
  EXPECT_EQ(prt[1].address, 0x2ffffu);
  EXPECT_EQ(prt[1].pin, 3);
  EXPECT_EQ(prt[1].line, 1);
  const auto all = PciHostBridge::all_intx_routes();
  EXPECT_EQ(all.size(), 128u);
  for (const auto& r : all) EXPECT_EQ(r.line, (r.device + r.pin - 1) % 4);
}

TEST(PciHostBridge, MsiSinkReachesDevicesAddedBeforeAndAfter) {
  PciHostBridge bridge(testing::test_windows());
  std::vector<uint32_t> got;
  std::vector<uint16_t> requesters;
  auto make = [] {
    auto d = std::make_shared<TestDevice>();
    EXPECT_TRUE(d->bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
    EXPECT_TRUE(d->msix(2, 0, 0, 0x800));
    return d;
  };
  auto before = make();
  ASSERT_TRUE(bridge.add_device(before, 1));
  bridge.set_msi_sink([&](const Msi& m) {
    got.push_back(m.message.data);
    requesters.push_back(m.requester_id);
  });
  auto after = make();
  ASSERT_TRUE(bridge.add_device(after, 2));
  for (uint8_t slot : {1, 2}) {
    auto d = bridge.device(slot);
    const uint64_t bar = d->bar_mapping(0).address;
    dev_write(*bridge.mmio_window(), bar + 8, 4, 0x40u + slot);  // entry 0 data
    dev_write(*bridge.mmio_window(), bar + 12, 4, 0);           // unmask
    ecam_write(bridge, slot, 0x42, 2, kMsixEnable);             // the MSI-X cap is the first
  }
  before->raise_msix(0);
  after->raise_msix(0);
  EXPECT_EQ(got, (std::vector<uint32_t>{0x41, 0x42}));
  // Each MSI names its function (bus 0, device = slot, function 0).
  EXPECT_EQ(requesters, (std::vector<uint16_t>{1 << 3, 2 << 3}));
}

}  // namespace
}  // namespace devices::pci
