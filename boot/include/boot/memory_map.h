// The guest-physical memory map of one VM as plain data: the single source
// the GuestMemory regions, the e820 table, the PVH memmap, the MP table and
// the device trees are all derived from. Each architecture builds one in its
// own file (memory_map_x86.h, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loader/guest_memory.h"
#include "loader/kernel.h"

namespace boot {

enum class RangeKind {
  kRam,       // guest RAM, backed by GuestMemory
  kReserved,  // RAM the guest must not use (firmware data, legacy holes)
  kMmio,      // a device window, not backed by RAM
};

struct MemoryRange {
  std::string name;  // "ram-low", "ram-high", "ioapic", "uart0", ...
  uint64_t base = 0;
  uint64_t size = 0;
  RangeKind kind = RangeKind::kRam;

  uint64_t end() const { return base + size; }  // exclusive; builders guarantee no wrap
};

struct MemoryMap {
  loader::Arch arch = loader::Arch::kX86_64;
  // Backed RAM, sorted by base, disjoint, page aligned.
  std::vector<MemoryRange> ram;
  // Device windows (kMmio) and reserved ranges, sorted by base.
  std::vector<MemoryRange> devices;

  // Sum of the RAM range sizes.
  uint64_t ram_size() const;
  // Exclusive end of the highest RAM range (0 when there is none).
  uint64_t ram_end() const;
  // The device window with this name, or nullptr.
  const MemoryRange* find_device(std::string_view name) const;
  // True when [addr, addr+len) lies inside one RAM range.
  bool ram_contains(uint64_t addr, uint64_t len) const;
};

// The RAM ranges as GuestMemory::create wants them.
std::vector<loader::RegionSpec> guest_memory_regions(const MemoryMap& map);

}  // namespace boot
