// x86_64 guest memory map: RAM from 0, the 32-bit MMIO gap 3 GiB..4 GiB left
// for devices (IOAPIC, local APIC, MMIO windows), RAM beyond 3 GiB moved
// above 4 GiB.
#pragma once

#include <cstdint>

#include "boot/error.h"
#include "boot/memory_map.h"

namespace boot {

inline constexpr uint64_t kX86MmioGapStart = 3ull << 30;  // 0xC000_0000
inline constexpr uint64_t kX86MmioGapEnd = 4ull << 30;    // 0x1_0000_0000
// The smallest RAM that holds the boot data below 1 MiB plus a kernel.
inline constexpr uint64_t kX86MinRamSize = 16ull << 20;
// 1 TiB: well inside the 40+ physical address bits every x86_64 host has.
inline constexpr uint64_t kX86MaxRamSize = 1ull << 40;

// ram_size: total guest RAM in bytes, a multiple of 4 KiB, kX86MinRamSize..kX86MaxRamSize.
// RAM ranges: "ram-low" [0, min(ram_size, 3 GiB)), "ram-high" [4 GiB, ...) when
// ram_size > 3 GiB. Device windows: "pci-mmio" (3 GiB .. IOAPIC), "ioapic",
// "lapic", in the gap.
Result<MemoryMap> x86_memory_map(uint64_t ram_size);

}  // namespace boot
