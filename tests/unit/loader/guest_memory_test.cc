#include "loader/guest_memory.h"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace loader {
namespace {

constexpr uint64_t kMiB = 1 << 20;

// The VmFlags of the mapping that holds addr, from /proc/self/smaps ("" if none).
std::string vm_flags_at(const void* addr) {
  auto a = reinterpret_cast<uintptr_t>(addr);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long start = 0, end = 0;
    // Only a mapping's header line starts with "start-end" in hex.
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2) {
      inside = a >= start && a < end;
      continue;
    }
    if (inside && line.starts_with("VmFlags:")) return line.substr(8) + " ";
  }
  return "";
}

TEST(GuestMemory, EveryRegionIsLeftOutOfCoreDumps) {
  std::array specs{RegionSpec{GuestAddress(0), 2 * kMiB}, RegionSpec{GuestAddress(4 * kMiB), kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem) << mem.error().message;
  ASSERT_EQ(mem->regions().size(), 2u);
  for (const auto& region : mem->regions()) {
    for (uint64_t offset : {uint64_t{0}, region.size() - 1}) {
      std::string flags = vm_flags_at(region.host() + offset);
      ASSERT_NE(flags, "") << "no mapping found for region " << std::hex << region.base().value();
      EXPECT_NE(flags.find(" dd "), std::string::npos) << "region " << std::hex << region.base().value() << " VmFlags:" << flags;
    }
  }
}

TEST(GuestMemory, AFileMappedIntoARegionIsLeftOutOfCoreDumpsToo) {
  char path[] = "/tmp/minivmm_map_file_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  std::vector<char> bytes(3 * 4096 + 100, 'k');
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  std::array specs{RegionSpec{GuestAddress(0), 2 * kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem) << mem.error().message;
  auto r = mem->map_file(GuestAddress(kMiB), fd, 0, bytes.size());
  close(fd);
  ASSERT_TRUE(r) << r.error().message;
  std::string flags = vm_flags_at(mem->regions()[0].host() + kMiB);
  EXPECT_NE(flags.find(" dd "), std::string::npos) << "VmFlags:" << flags;
}

TEST(GuestMemory, RejectsOverlappingRegions) {
  std::array specs{RegionSpec{GuestAddress(0), 2 * kMiB}, RegionSpec{GuestAddress(kMiB), 2 * kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_FALSE(mem);
  EXPECT_EQ(mem.error().code, ErrorCode::kOverlap);
}

TEST(GuestMemory, RejectsUnalignedAndEmptyAndWrappingRegions) {
  std::array unaligned{RegionSpec{GuestAddress(0x10), kMiB}};
  EXPECT_EQ(GuestMemory::create(unaligned).error().code, ErrorCode::kInvalidArgument);
  std::array empty{RegionSpec{GuestAddress(0), 0}};
  EXPECT_EQ(GuestMemory::create(empty).error().code, ErrorCode::kInvalidArgument);
  std::array wrapping{RegionSpec{GuestAddress(~0ull - 0xfff), 0x2000}};
  EXPECT_EQ(GuestMemory::create(wrapping).error().code, ErrorCode::kOverflow);
  EXPECT_EQ(GuestMemory::create({}).error().code, ErrorCode::kInvalidArgument);
}

TEST(GuestMemory, ReadsBackWhatWasWrittenInEachRegion) {
  std::array specs{RegionSpec{GuestAddress(0), kMiB}, RegionSpec{GuestAddress(4 * kMiB), kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem) << mem.error().message;
  EXPECT_EQ(mem->total_size(), 2 * kMiB);
  ASSERT_TRUE(mem->write_obj<uint64_t>(GuestAddress(kMiB - 8), 0x1122334455667788ull));
  ASSERT_TRUE(mem->write_obj<uint32_t>(GuestAddress(4 * kMiB), 0xdeadbeef));
  EXPECT_EQ(*mem->read_obj<uint64_t>(GuestAddress(kMiB - 8)), 0x1122334455667788ull);
  EXPECT_EQ(*mem->read_obj<uint32_t>(GuestAddress(4 * kMiB)), 0xdeadbeefu);
}

TEST(GuestMemory, RefusesAccessOutsideOrAcrossRegions) {
  std::array specs{RegionSpec{GuestAddress(0), kMiB}, RegionSpec{GuestAddress(kMiB), kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem);
  // Straddles the boundary of two adjacent regions: each region is its own mapping.
  auto r = mem->write_obj<uint64_t>(GuestAddress(kMiB - 4), 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_FALSE(mem->read_obj<uint8_t>(GuestAddress(2 * kMiB)));
  EXPECT_FALSE(mem->host_span(GuestAddress(~0ull - 2), 8));
  EXPECT_FALSE(mem->fill(GuestAddress(0), 3 * kMiB, std::byte{0}));
  EXPECT_TRUE(mem->contains(GuestAddress(kMiB), kMiB));
  EXPECT_FALSE(mem->contains(GuestAddress(kMiB), kMiB + 1));
}

TEST(GuestMemory, FillSetsEveryByte) {
  std::array specs{RegionSpec{GuestAddress(0x1000), 0x2000}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem);
  ASSERT_TRUE(mem->fill(GuestAddress(0x1800), 0x100, std::byte{0xab}));
  std::vector<std::byte> out(0x102);
  ASSERT_TRUE(mem->read(GuestAddress(0x17ff), out));
  EXPECT_EQ(out.front(), std::byte{0});
  EXPECT_EQ(out[1], std::byte{0xab});
  EXPECT_EQ(out[0x100], std::byte{0xab});
  EXPECT_EQ(out.back(), std::byte{0});
}

TEST(GuestMemory, MoveTransfersOwnership) {
  std::array specs{RegionSpec{GuestAddress(0), 0x1000}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem);
  GuestMemory moved = std::move(*mem);
  EXPECT_EQ(moved.regions().size(), 1u);
  EXPECT_TRUE(mem->regions().empty());
}

}  // namespace
}  // namespace loader

namespace loader {
namespace {

// THP only helps where the host address is 2 MiB aligned like the guest's.
TEST(GuestMemoryHugePages, TransparentRegionsAre2MiBAlignedOnTheHost) {
  std::array specs{RegionSpec{GuestAddress(0), 6ull << 20}, RegionSpec{GuestAddress(1ull << 32), 2ull << 20},
                   RegionSpec{GuestAddress(8ull << 32), 4096}};
  MemoryOptions options;
  options.huge_pages = HugePages::kTransparent;
  auto mem = GuestMemory::create(specs, options);
  ASSERT_TRUE(mem.has_value()) << mem.error().message;
  ASSERT_EQ(mem->regions().size(), 3u);
  for (const auto& r : mem->regions()) {
    if (r.size() < (2ull << 20)) continue;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r.host()) % (2ull << 20), 0u) << r.base().value();
    // The whole region is usable: first and last byte.
    r.host()[0] = std::byte{1};
    r.host()[r.size() - 1] = std::byte{2};
  }
}

}  // namespace
}  // namespace loader
