#include "boot/memory_map_x86.h"

#include <gtest/gtest.h>

namespace boot {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

TEST(X86MemoryMap, SmallRamIsOneRangeFromZero) {
  auto map = x86_memory_map(128 * kMiB);
  ASSERT_TRUE(map.has_value()) << map.error().message;
  ASSERT_EQ(map->ram.size(), 1u);
  EXPECT_EQ(map->ram[0].base, 0u);
  EXPECT_EQ(map->ram[0].size, 128 * kMiB);
  EXPECT_EQ(map->ram_size(), 128 * kMiB);
  EXPECT_EQ(map->ram_end(), 128 * kMiB);
}

TEST(X86MemoryMap, ThreeGiBFillsUpToTheGap) {
  auto map = x86_memory_map(3 * kGiB);
  ASSERT_TRUE(map.has_value());
  ASSERT_EQ(map->ram.size(), 1u);
  EXPECT_EQ(map->ram[0].size, 0xC0000000u);
}

TEST(X86MemoryMap, FiveGiBMovesTwoGiBAbove4GiB) {
  auto map = x86_memory_map(5 * kGiB);
  ASSERT_TRUE(map.has_value());
  ASSERT_EQ(map->ram.size(), 2u);
  EXPECT_EQ(map->ram[0].base, 0u);
  EXPECT_EQ(map->ram[0].size, 0xC0000000u);
  EXPECT_EQ(map->ram[1].base, 0x100000000u);
  EXPECT_EQ(map->ram[1].size, 0x80000000u);
  EXPECT_EQ(map->ram_size(), 5 * kGiB);
  auto specs = guest_memory_regions(*map);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[1].base.value(), 0x100000000u);
  EXPECT_EQ(specs[1].size, 0x80000000u);
  // Nothing in RAM falls into the gap.
  EXPECT_FALSE(map->ram_contains(0xC0000000u, 1));
  EXPECT_FALSE(map->ram_contains(0xBFFFF000u, 0x2000));
  EXPECT_TRUE(map->ram_contains(0xBFFFF000u, 0x1000));
}

TEST(X86MemoryMap, DeviceWindowsSitInTheGap) {
  auto map = x86_memory_map(128 * kMiB);
  ASSERT_TRUE(map.has_value());
  const auto* ioapic = map->find_device("ioapic");
  const auto* lapic = map->find_device("lapic");
  ASSERT_NE(ioapic, nullptr);
  ASSERT_NE(lapic, nullptr);
  EXPECT_EQ(ioapic->base, 0xFEC00000u);
  EXPECT_EQ(lapic->base, 0xFEE00000u);
  for (const auto& d : map->devices) {
    EXPECT_GE(d.base, 0xC0000000u) << d.name;
    EXPECT_LE(d.end(), 0x100000000u) << d.name;
  }
  EXPECT_EQ(map->find_device("nonexistent"), nullptr);
}

TEST(X86MemoryMap, RejectsUnalignedSize) {
  auto map = x86_memory_map(128 * kMiB + 1);
  ASSERT_FALSE(map.has_value());
  EXPECT_EQ(map.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(map.error().message.find("0x8000001"), std::string::npos) << map.error().message;
}

TEST(X86MemoryMap, RejectsTooSmall) {
  auto map = x86_memory_map(8 * kMiB);
  ASSERT_FALSE(map.has_value());
  EXPECT_NE(map.error().message.find("minimum"), std::string::npos);
}

TEST(X86MemoryMap, RejectsTooLarge) {
  auto map = x86_memory_map(2ull << 40);
  ASSERT_FALSE(map.has_value());
  EXPECT_NE(map.error().message.find("maximum"), std::string::npos);
}

}  // namespace
}  // namespace boot
