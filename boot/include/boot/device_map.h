// Where the virtio transports sit in each architecture's guest physical
// address space, and which interrupt lines they drive (shared/DESIGN.md §9):
// the PCI host bridge's ECAM and BAR windows and its four INTx lines, and
// the virtio-mmio slots. Kept beside the memory maps so the device tree, the
// ACPI tables, the buses and the dry run all read the same numbers.
//
//   x86_64   ECAM, the 32-bit BAR window and the virtio-mmio slots inside the
//            3..4 GiB gap below the IOAPIC; INTx on IOAPIC pins 16..19 (the
//            PCI pins, level, active low per _PRT), virtio-mmio on the ISA
//            lines no legacy device here uses (5, 6, 7, 10, 11).
//   aarch64  QEMU virt's places: virtio-mmio at 0x0a00_0000 on SPIs 16..47,
//            the BAR window 0x1000_0000..0x3f00_0000, ECAM at 0x3f00_0000,
//            INTx on SPIs 3..6.
//   riscv64  QEMU virt's virtio-mmio slots (0x1000_1000, sources 1..8), ECAM
//            at 0x3000_0000, the BAR window 0x4000_0000..0x8000_0000, INTx on
//            the last four PLIC sources.
// The 64-bit prefetchable window starts at the first 1 GiB boundary above
// RAM; where that would leave the guest's physical address space (aarch64's
// 40-bit IPA) it is left out and 64-bit BARs go in the 32-bit window.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "loader/kernel.h"

namespace boot {

struct PciHostMap {
  uint64_t ecam_base = 0;
  uint64_t ecam_size = 0;  // bus 0 only: 1 MiB
  uint64_t mmio32_base = 0;
  uint64_t mmio32_size = 0;
  uint64_t mmio64_base = 0;
  uint64_t mmio64_size = 0;  // 0: none
  std::array<uint32_t, 4> intx_lines{};  // the bridge's lines 0..3 in the platform's numbering
  bool config_ports = false;             // x86: configuration mechanism #1 at 0xCF8
};

struct VirtioMmioMap {
  uint64_t base = 0;
  uint64_t stride = 0;          // one 0x200 register window per slot
  std::vector<uint32_t> lines;  // one per slot: the number of slots
  uint64_t slot_base(size_t slot) const { return base + stride * slot; }
};

struct DeviceMap {
  PciHostMap pci;
  VirtioMmioMap virtio_mmio;
};

inline constexpr uint64_t kVirtioMmioStride = 0x200;
inline constexpr uint64_t kPciMmio64Size = 16ull << 30;

// ram_size as the memory map accepted it.
DeviceMap device_map_for(loader::Arch arch, uint64_t ram_size);

}  // namespace boot
