#include "boot/memory_map_x86.h"

#include <algorithm>

#include "boot/layout_x86.h"

namespace boot {

Result<MemoryMap> x86_memory_map(uint64_t ram_size) {
  if (ram_size % 4096 != 0)
    return fail(ErrorCode::kInvalidArgument, "x86 memory map: RAM size {:#x} is not a multiple of 4 KiB", ram_size);
  if (ram_size < kX86MinRamSize)
    return fail(ErrorCode::kInvalidArgument, "x86 memory map: RAM size {:#x} is below the minimum {:#x} (16 MiB)",
                ram_size, kX86MinRamSize);
  if (ram_size > kX86MaxRamSize)
    return fail(ErrorCode::kInvalidArgument, "x86 memory map: RAM size {:#x} is above the maximum {:#x} (1 TiB)",
                ram_size, kX86MaxRamSize);
  MemoryMap map;
  map.arch = loader::Arch::kX86_64;
  uint64_t low = std::min(ram_size, kX86MmioGapStart);
  map.ram.push_back({"ram-low", 0, low, RangeKind::kRam});
  if (ram_size > low) map.ram.push_back({"ram-high", kX86MmioGapEnd, ram_size - low, RangeKind::kRam});
  // Device windows in the gap. The 32-bit MMIO window is where virtio-mmio or
  // PCI BARs go; the APICs sit at their architectural addresses above it.
  map.devices.push_back({"mmio32", kX86MmioGapStart, x86::kIoapicAddr - kX86MmioGapStart, RangeKind::kMmio});
  map.devices.push_back({"ioapic", x86::kIoapicAddr, 0x1000, RangeKind::kMmio});
  map.devices.push_back({"lapic", x86::kLapicAddr, 0x1000, RangeKind::kMmio});
  return map;
}

}  // namespace boot
