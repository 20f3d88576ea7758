#include "boot/device_map.h"

#include "boot/layout_x86.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/memory_map_x86.h"

namespace boot {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kEcamOneBus = 1ull << 20;
constexpr uint64_t kAarch64IpaLimit = 1ull << 40;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// The 64-bit window above RAM, or nothing when it would cross `limit`.
void place_mmio64(PciHostMap& pci, uint64_t ram_end, uint64_t limit) {
  uint64_t base = align_up(ram_end, kGiB);
  if (base + kPciMmio64Size > limit) return;
  pci.mmio64_base = base;
  pci.mmio64_size = kPciMmio64Size;
}

DeviceMap x86_64_map(uint64_t ram_size) {
  DeviceMap m;
  // 512 MiB of BAR space from the start of the gap, then ECAM, then the
  // virtio-mmio slots; all below the IOAPIC at 0xFEC0_0000.
  m.pci.mmio32_base = kX86MmioGapStart;
  m.pci.mmio32_size = 0x2000'0000;
  m.pci.ecam_base = 0xe000'0000;
  m.pci.ecam_size = kEcamOneBus;
  m.pci.intx_lines = {16, 17, 18, 19};
  m.pci.config_ports = true;
  uint64_t ram_end = ram_size <= kX86MmioGapStart ? kX86MmioGapEnd : kX86MmioGapEnd + (ram_size - kX86MmioGapStart);
  // 1 TiB of RAM plus the window still fits the 40+ physical address bits
  // the memory map already assumes.
  place_mmio64(m.pci, ram_end, ~uint64_t{0});
  m.virtio_mmio.base = 0xe010'0000;
  m.virtio_mmio.stride = kVirtioMmioStride;
  m.virtio_mmio.lines = {5, 6, 7, 10, 11};
  static_assert(0xe010'0000 + 5 * kVirtioMmioStride <= x86::kIoapicAddr);
  return m;
}

DeviceMap aarch64_map(uint64_t ram_size) {
  DeviceMap m;
  m.pci.mmio32_base = 0x1000'0000;
  m.pci.mmio32_size = 0x2f00'0000;
  m.pci.ecam_base = 0x3f00'0000;
  m.pci.ecam_size = kEcamOneBus;
  m.pci.intx_lines = {3, 4, 5, 6};
  place_mmio64(m.pci, aarch64::kRamBase + ram_size, kAarch64IpaLimit);
  m.virtio_mmio.base = 0x0a00'0000;
  m.virtio_mmio.stride = kVirtioMmioStride;
  for (uint32_t spi = 16; spi < 48; ++spi) m.virtio_mmio.lines.push_back(spi);
  static_assert(0x0a00'0000 >= aarch64::kUartBase + aarch64::kUartSize);
  static_assert(0x3f00'0000 + kEcamOneBus <= aarch64::kRamBase);
  return m;
}

DeviceMap riscv64_map(uint64_t ram_size) {
  DeviceMap m;
  m.pci.ecam_base = 0x3000'0000;
  m.pci.ecam_size = kEcamOneBus;
  m.pci.mmio32_base = 0x4000'0000;
  m.pci.mmio32_size = 0x4000'0000;
  constexpr uint32_t last = riscv64::kPlicNumSources;
  m.pci.intx_lines = {last - 3, last - 2, last - 1, last};
  place_mmio64(m.pci, riscv64::kRamBase + ram_size, ~uint64_t{0});
  m.virtio_mmio.base = 0x1000'1000;
  m.virtio_mmio.stride = kVirtioMmioStride;
  for (uint32_t source = 1; source <= 8; ++source) m.virtio_mmio.lines.push_back(source);
  static_assert(0x1000'1000 >= riscv64::kUartBase + riscv64::kUartSize);
  static_assert(riscv64::kUartIrq > 8 && riscv64::kUartIrq < last - 3, "the UART's source is not shared");
  static_assert(0x3000'0000 >= riscv64::kImsicBase + riscv64::kImsicSizePerHart * riscv64::kMaxHarts);
  return m;
}

}  // namespace

DeviceMap device_map_for(loader::Arch arch, uint64_t ram_size) {
  switch (arch) {
    case loader::Arch::kX86_64: return x86_64_map(ram_size);
    case loader::Arch::kAarch64: return aarch64_map(ram_size);
    case loader::Arch::kRiscv64: return riscv64_map(ram_size);
  }
  return {};
}

}  // namespace boot
