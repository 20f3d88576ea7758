// The BIOS e820 memory map a Linux guest reads from the zero page (and, as
// the same ranges, from the PVH memmap), derived from the x86 MemoryMap.
#pragma once

#include <cstdint>
#include <vector>

#include "boot/error.h"
#include "boot/memory_map.h"

namespace boot {

inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;
inline constexpr uint32_t kE820Acpi = 3;
inline constexpr uint32_t kE820Nvs = 4;
inline constexpr uint32_t kE820Unusable = 5;
// The zero page holds at most this many entries (E820_MAX_ENTRIES_ZEROPAGE).
inline constexpr size_t kE820MaxEntries = 128;

struct [[gnu::packed]] E820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(E820Entry) == 20);

// Low RAM [0, 0x9fc00), the EBDA and legacy hole [0x9fc00, 1 MiB) reserved,
// RAM [1 MiB, end of ram-low), every further RAM range as RAM. Fails when the
// map has no RAM at 0 covering 1 MiB, or more than kE820MaxEntries entries.
Result<std::vector<E820Entry>> build_e820(const MemoryMap& map);

}  // namespace boot
