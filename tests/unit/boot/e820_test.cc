#include "boot/e820.h"

#include <gtest/gtest.h>

#include "boot/memory_map_x86.h"

namespace boot {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

struct Expected {
  uint64_t addr, size;
  uint32_t type;
};

void expect_e820(uint64_t ram, const std::vector<Expected>& want) {
  auto map = x86_memory_map(ram);
  ASSERT_TRUE(map.has_value());
  auto e820 = build_e820(*map);
  ASSERT_TRUE(e820.has_value()) << e820.error().message;
  ASSERT_EQ(e820->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*e820)[i].addr, want[i].addr) << "entry " << i;
    EXPECT_EQ((*e820)[i].size, want[i].size) << "entry " << i;
    EXPECT_EQ((*e820)[i].type, want[i].type) << "entry " << i;
  }
}

TEST(E820, For128MiB) {
  expect_e820(128 * kMiB, {{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, 0x8000000 - 0x100000, 1}});
}

TEST(E820, For3GiB) {
  expect_e820(3 * kGiB, {{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, 0xC0000000 - 0x100000, 1}});
}

TEST(E820, For5GiB) {
  expect_e820(5 * kGiB, {{0, 0x9fc00, 1},
                         {0x9fc00, 0x60400, 2},
                         {0x100000, 0xC0000000 - 0x100000, 1},
                         {0x100000000, 0x80000000, 1}});
}

TEST(E820, RejectsMapWithoutLowRam) {
  MemoryMap map;
  map.ram.push_back({"ram", 0x100000, 0x1000000, RangeKind::kRam});
  auto e820 = build_e820(map);
  ASSERT_FALSE(e820.has_value());
  EXPECT_NE(e820.error().message.find("0x100000+0x1000000"), std::string::npos) << e820.error().message;
}

TEST(E820, RejectsMapWithNoRam) {
  MemoryMap map;
  EXPECT_FALSE(build_e820(map).has_value());
}

TEST(E820, ReservedDeviceRangesAppearAsReserved) {
  auto map = x86_memory_map(128 * kMiB);
  ASSERT_TRUE(map.has_value());
  map->devices.push_back({"fw", 0xFFFC0000, 0x40000, RangeKind::kReserved});
  auto e820 = build_e820(*map);
  ASSERT_TRUE(e820.has_value());
  ASSERT_EQ(e820->size(), 4u);
  EXPECT_EQ(e820->back().addr, 0xFFFC0000u);
  EXPECT_EQ(e820->back().type, kE820Reserved);
}

TEST(E820, OverflowBeyond128EntriesIsAnError) {
  auto map = x86_memory_map(128 * kMiB);
  ASSERT_TRUE(map.has_value());
  // 3 entries from RAM + 126 reserved = 129.
  for (uint64_t i = 0; i < 126; ++i)
    map->devices.push_back({"r", 0xD0000000 + i * 0x2000, 0x1000, RangeKind::kReserved});
  auto e820 = build_e820(*map);
  ASSERT_FALSE(e820.has_value());
  EXPECT_EQ(e820.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(e820.error().message.find("129"), std::string::npos) << e820.error().message;
  map->devices.pop_back();  // exactly 128 fits
  EXPECT_TRUE(build_e820(*map).has_value());
}

TEST(E820, OverlappingRamRangesAreAnError) {
  MemoryMap map;
  map.ram.push_back({"a", 0, 0x2000000, RangeKind::kRam});
  map.ram.push_back({"b", 0x1000000, 0x2000000, RangeKind::kRam});
  auto e820 = build_e820(map);
  ASSERT_FALSE(e820.has_value());
  EXPECT_EQ(e820.error().code, ErrorCode::kOverlap);
}

}  // namespace
}  // namespace boot
