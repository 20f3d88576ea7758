#include "boot/page_tables.h"

#include <array>

#include "loader/guest_address.h"

namespace boot {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kEntries = 512;
constexpr uint64_t kHugePage = 2ull << 20;

}  // namespace

Result<PageTableLayout> write_identity_page_tables(loader::GuestMemory& mem, uint64_t pml4_addr, uint64_t pdpt_addr,
                                                   uint64_t pd_addr, uint64_t pd_count) {
  if (pd_count == 0 || pd_count > kEntries)
    return fail(ErrorCode::kInvalidArgument, "page tables: {} page directories, must be 1..512", pd_count);
  for (uint64_t a : {pml4_addr, pdpt_addr, pd_addr})
    if (a % kPage != 0) return fail(ErrorCode::kInvalidArgument, "page tables: table address {:#x} not 4 KiB aligned", a);
  if (pd_addr > UINT64_MAX - pd_count * kPage)
    return fail(ErrorCode::kOverflow, "page tables: {} PDs from {:#x} wrap", pd_count, pd_addr);
  if (pml4_addr == pdpt_addr || loader::ranges_overlap(pml4_addr, kPage, pd_addr, pd_count * kPage) ||
      loader::ranges_overlap(pdpt_addr, kPage, pd_addr, pd_count * kPage))
    return fail(ErrorCode::kOverlap, "page tables: PML4 {:#x}, PDPT {:#x} and PDs {:#x}+{:#x} overlap", pml4_addr,
                pdpt_addr, pd_addr, pd_count * kPage);

  std::array<uint64_t, kEntries> table{};
  table[0] = pdpt_addr | kPtePresent | kPteWritable;
  if (auto r = mem.write_obj(loader::GuestAddress(pml4_addr), table); !r)
    return std::unexpected(with_context(r.error(), "PML4"));
  table.fill(0);
  for (uint64_t i = 0; i < pd_count; ++i) table[i] = (pd_addr + i * kPage) | kPtePresent | kPteWritable;
  if (auto r = mem.write_obj(loader::GuestAddress(pdpt_addr), table); !r)
    return std::unexpected(with_context(r.error(), "PDPT"));
  for (uint64_t d = 0; d < pd_count; ++d) {
    for (uint64_t i = 0; i < kEntries; ++i)
      table[i] = ((d * kEntries + i) * kHugePage) | kPtePresent | kPteWritable | kPtePageSize;
    if (auto r = mem.write_obj(loader::GuestAddress(pd_addr + d * kPage), table); !r)
      return std::unexpected(with_context(r.error(), fmt::format("page directory {}", d)));
  }
  return PageTableLayout{pml4_addr, pdpt_addr, pd_addr, pd_count, pd_count * kEntries * kHugePage};
}

}  // namespace boot
