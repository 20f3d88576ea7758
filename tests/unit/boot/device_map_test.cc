#include "boot/device_map.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "boot/layout_x86.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/memory_map_x86.h"
#include "boot/memory_maps.h"

namespace boot {
namespace {

struct Named {
  std::string name;
  uint64_t base;
  uint64_t size;
};

std::vector<Named> transport_windows(const DeviceMap& m) {
  std::vector<Named> out{{"ecam", m.pci.ecam_base, m.pci.ecam_size}, {"mmio32", m.pci.mmio32_base, m.pci.mmio32_size}};
  if (m.pci.mmio64_size) out.push_back({"mmio64", m.pci.mmio64_base, m.pci.mmio64_size});
  out.push_back({"virtio-mmio", m.virtio_mmio.base, m.virtio_mmio.stride * m.virtio_mmio.lines.size()});
  return out;
}

void expect_disjoint(const std::vector<Named>& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i)
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      const auto& a = ranges[i];
      const auto& b = ranges[j];
      EXPECT_TRUE(a.base + a.size <= b.base || b.base + b.size <= a.base) << a.name << " overlaps " << b.name;
    }
}

struct Case {
  loader::Arch arch;
  uint64_t ram;
};

class DeviceMapFor : public ::testing::TestWithParam<Case> {};

TEST_P(DeviceMapFor, WindowsMissRamAndTheFixedDevices) {
  const auto [arch, ram] = GetParam();
  auto map = memory_map_for(arch, ram);
  ASSERT_TRUE(map.has_value()) << map.error().message;
  DeviceMap d = device_map_for(arch, ram);
  std::vector<Named> all = transport_windows(d);
  for (const auto& r : map->ram) all.push_back({r.name, r.base, r.size});
  for (const auto& r : map->devices)
    if (r.name != "mmio32") all.push_back({r.name, r.base, r.size});  // x86: the gap the windows live in
  switch (arch) {
    case loader::Arch::kX86_64:
      for (const auto& w : transport_windows(d)) {
        if (w.name == "mmio64") continue;
        EXPECT_GE(w.base, kX86MmioGapStart) << w.name;
        EXPECT_LE(w.base + w.size, x86::kIoapicAddr) << w.name;
      }
      EXPECT_TRUE(d.pci.config_ports);
      break;
    case loader::Arch::kAarch64:
      all.push_back({"uart", aarch64::kUartBase, aarch64::kUartSize});
      EXPECT_FALSE(d.pci.config_ports);
      break;
    case loader::Arch::kRiscv64:
      all.push_back({"plic", riscv64::kPlicBase, riscv64::kPlicSize});
      all.push_back({"uart", riscv64::kUartBase, riscv64::kUartSize});
      all.push_back({"imsic", riscv64::kImsicBase, riscv64::kImsicSizePerHart * riscv64::kMaxHarts});
      break;
  }
  expect_disjoint(all);
  EXPECT_EQ(d.pci.ecam_size, 1u << 20);
  EXPECT_EQ(d.virtio_mmio.stride, 0x200u);
  EXPECT_GE(d.pci.mmio64_base, map->ram_end()) << "the 64-bit window is above RAM";
}

TEST_P(DeviceMapFor, InterruptLinesAreDistinctAndInRange) {
  const auto [arch, ram] = GetParam();
  DeviceMap d = device_map_for(arch, ram);
  std::set<uint32_t> lines;
  for (uint32_t l : d.pci.intx_lines) EXPECT_TRUE(lines.insert(l).second) << l;
  for (uint32_t l : d.virtio_mmio.lines) EXPECT_TRUE(lines.insert(l).second) << l;
  ASSERT_FALSE(d.virtio_mmio.lines.empty());
  switch (arch) {
    case loader::Arch::kX86_64:
      for (uint32_t taken : {0u, 1u, 2u, 8u, uint32_t{x86::kCom1Irq}, uint32_t{x86::kSciIrq}}) EXPECT_FALSE(lines.contains(taken)) << taken;
      EXPECT_LT(*lines.rbegin(), x86::kIoapicPins);
      for (uint32_t l : d.pci.intx_lines) EXPECT_GE(l, 16u) << "PCI INTx stays off the ISA lines";
      break;
    case loader::Arch::kAarch64:
      EXPECT_FALSE(lines.contains(aarch64::kUartSpi));
      EXPECT_LT(*lines.rbegin() + 32, 128u) << "inside the vGIC's 128 interrupt IDs";
      break;
    case loader::Arch::kRiscv64:
      EXPECT_FALSE(lines.contains(riscv64::kUartIrq));
      EXPECT_GE(*lines.begin(), 1u) << "PLIC source 0 means none";
      EXPECT_LE(*lines.rbegin(), riscv64::kPlicNumSources);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Arches, DeviceMapFor,
                         ::testing::Values(Case{loader::Arch::kX86_64, 512ull << 20}, Case{loader::Arch::kX86_64, 8ull << 30},
                                           Case{loader::Arch::kAarch64, 512ull << 20},
                                           Case{loader::Arch::kAarch64, 4ull << 30},
                                           Case{loader::Arch::kRiscv64, 512ull << 20},
                                           Case{loader::Arch::kRiscv64, 4ull << 30}));

TEST(DeviceMap, Aarch64LeavesOutTheMmio64WindowBeyondTheIpaSpace) {
  // RAM up to the 40-bit limit leaves no room above it.
  const uint64_t ram = (1ull << 40) - aarch64::kRamBase - (1ull << 30);
  DeviceMap d = device_map_for(loader::Arch::kAarch64, ram);
  EXPECT_EQ(d.pci.mmio64_size, 0u);
  DeviceMap small = device_map_for(loader::Arch::kAarch64, 1ull << 30);
  EXPECT_EQ(small.pci.mmio64_base, 3ull << 30);
  EXPECT_EQ(small.pci.mmio64_size, kPciMmio64Size);
}

}  // namespace
}  // namespace boot
