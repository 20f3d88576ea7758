// The Xen PVH boot ABI as Linux implements it (xen/include/public/arch-x86/
// hvm/start_info.h): hvm_start_info, the module list and the memory map the
// 32-bit PVH entry point finds through EBX.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "boot/e820.h"
#include "boot/error.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"

namespace boot {

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;
inline constexpr uint32_t kHvmStartInfoVersion = 1;

struct HvmStartInfo {
  uint32_t magic;          // 0x00
  uint32_t version;        // 0x04
  uint32_t flags;          // 0x08
  uint32_t nr_modules;     // 0x0c
  uint64_t modlist_paddr;  // 0x10
  uint64_t cmdline_paddr;  // 0x18
  uint64_t rsdp_paddr;     // 0x20
  uint64_t memmap_paddr;   // 0x28 (version >= 1)
  uint32_t memmap_entries; // 0x30
  uint32_t reserved;       // 0x34
};
static_assert(sizeof(HvmStartInfo) == 0x38);

struct HvmModlistEntry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 0x20);

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // e820 types
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 0x18);

struct PvhConfig {
  uint64_t start_info_addr = 0;
  uint64_t modlist_addr = 0;
  uint64_t memmap_addr = 0;
  size_t memmap_capacity = 0;  // entries that fit at memmap_addr
  uint64_t cmdline_addr = 0;   // 0: no command line
  std::optional<loader::InitrdPlacement> initrd;  // module 0
  std::span<const E820Entry> e820;
  uint64_t rsdp_addr = 0;
};

// Writes start_info, the module list (initrd as module 0) and the memmap.
// Errors: more e820 entries than memmap_capacity, writes outside guest memory.
Result<HvmStartInfo> write_pvh_start_info(loader::GuestMemory& mem, const PvhConfig& config);

}  // namespace boot
