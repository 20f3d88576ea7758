#include "boot/page_tables.h"

#include <gtest/gtest.h>

#include <optional>

#include "unit/boot/guest_bytes.h"

namespace boot {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

// A by-hand 4-level walk in guest memory: PML4 -> PDPT -> PD (2 MiB page) or PT.
std::optional<uint64_t> translate(const loader::GuestMemory& mem, uint64_t cr3, uint64_t va) {
  constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;
  uint64_t pml4e = boot_test::u64(mem, (cr3 & kAddrMask) + ((va >> 39) & 0x1ff) * 8);
  if (!(pml4e & 1)) return std::nullopt;
  uint64_t pdpte = boot_test::u64(mem, (pml4e & kAddrMask) + ((va >> 30) & 0x1ff) * 8);
  if (!(pdpte & 1)) return std::nullopt;
  if (pdpte & 0x80) return (pdpte & 0x000fffffc0000000ull) | (va & (kGiB - 1));
  uint64_t pde = boot_test::u64(mem, (pdpte & kAddrMask) + ((va >> 21) & 0x1ff) * 8);
  if (!(pde & 1)) return std::nullopt;
  if (pde & 0x80) return (pde & 0x000fffffffe00000ull) | (va & 0x1fffff);
  uint64_t pte = boot_test::u64(mem, (pde & kAddrMask) + ((va >> 12) & 0x1ff) * 8);
  if (!(pte & 1)) return std::nullopt;
  return (pte & kAddrMask) | (va & 0xfff);
}

TEST(PageTables, IdentityMapsTheFirst4GiB) {
  auto mem = boot_test::x86_memory(64ull << 20);
  auto layout = write_identity_page_tables(mem, 0x9000, 0xa000, 0xb000, 4);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;
  EXPECT_EQ(layout->mapped_size, 4 * kGiB);
  for (uint64_t va : {0x0ull, 0x7000ull, 0x9fc00ull, 0x100200ull, 0x1000000ull, 0x1234567ull, 0x3fffffffull,
                      0x40000000ull, 0xbfffffffull, 0xc0000000ull, 0xfec00000ull, 0xfee00abcull, 0xffffffffull}) {
    auto pa = translate(mem, 0x9000, va);
    ASSERT_TRUE(pa.has_value()) << std::hex << va;
    EXPECT_EQ(*pa, va) << std::hex << va;
  }
  // Exactly 4 GiB: the next byte is unmapped.
  EXPECT_FALSE(translate(mem, 0x9000, 4 * kGiB).has_value());
  EXPECT_FALSE(translate(mem, 0x9000, 1ull << 39).has_value());
  // Entries are present and writable.
  EXPECT_EQ(boot_test::u64(mem, 0x9000), 0xa000u | 0x3u);
  EXPECT_EQ(boot_test::u64(mem, 0xa000 + 3 * 8), 0xe000u | 0x3u);
  EXPECT_EQ(boot_test::u64(mem, 0xb000 + 8), 0x200000u | 0x83u);
}

TEST(PageTables, RejectsBadPdCount) {
  auto mem = boot_test::x86_memory(64ull << 20);
  EXPECT_FALSE(write_identity_page_tables(mem, 0x9000, 0xa000, 0xb000, 0).has_value());
  EXPECT_FALSE(write_identity_page_tables(mem, 0x9000, 0xa000, 0xb000, 513).has_value());
}

TEST(PageTables, RejectsUnalignedTables) {
  auto mem = boot_test::x86_memory(64ull << 20);
  auto r = write_identity_page_tables(mem, 0x9008, 0xa000, 0xb000, 4);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("0x9008"), std::string::npos);
}

TEST(PageTables, RejectsOverlappingTables) {
  auto mem = boot_test::x86_memory(64ull << 20);
  auto r = write_identity_page_tables(mem, 0x9000, 0xa000, 0x8000, 4);  // PDs cover 0x8000..0xc000
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
  EXPECT_FALSE(write_identity_page_tables(mem, 0x9000, 0x9000, 0xb000, 4).has_value());
}

TEST(PageTables, RejectsWrappingPdRange) {
  auto mem = boot_test::x86_memory(64ull << 20);
  auto r = write_identity_page_tables(mem, 0x9000, 0xa000, 0xfffffffffffff000ull, 4);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverflow);
}

TEST(PageTables, RejectsTablesOutsideMemory) {
  auto mem = boot_test::x86_memory(16ull << 20);
  EXPECT_FALSE(write_identity_page_tables(mem, 0x9000, 0xa000, 0xfff000, 4).has_value());
}

}  // namespace
}  // namespace boot
