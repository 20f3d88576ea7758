// Identity-mapped 4-level page tables for the Linux 64-bit entry, which must
// run with paging on: PML4 -> one PDPT -> four PDs of 2 MiB pages = 4 GiB,
// enough for the kernel, zero page, command line and an initrd below 4 GiB.
#pragma once

#include <cstdint>

#include "boot/error.h"
#include "loader/guest_memory.h"

namespace boot {

inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWritable = 1ull << 1;
inline constexpr uint64_t kPtePageSize = 1ull << 7;  // PS: 2 MiB page in a PD entry

struct PageTableLayout {
  uint64_t pml4_addr = 0;
  uint64_t pdpt_addr = 0;
  uint64_t pd_addr = 0;
  uint64_t pd_count = 0;
  uint64_t mapped_size = 0;  // identity-mapped bytes from 0
};

// Writes PML4 at pml4_addr, the PDPT at pdpt_addr and pd_count PDs from
// pd_addr (each 4 KiB aligned, not overlapping). pd_count 1..512.
Result<PageTableLayout> write_identity_page_tables(loader::GuestMemory& mem, uint64_t pml4_addr,
                                                   uint64_t pdpt_addr, uint64_t pd_addr, uint64_t pd_count);

}  // namespace boot
