#include "loader/initrd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

namespace loader {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kKiB = 1 << 10;
constexpr uint64_t kMiB = 1 << 20;

std::vector<std::byte> pattern(size_t size) {
  std::vector<std::byte> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<std::byte>((i * 7 + 3) & 0xff);
  return v;
}

GuestMemory make_memory(std::initializer_list<RegionSpec> specs) {
  std::vector<RegionSpec> v(specs);
  auto mem = GuestMemory::create(v);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

std::vector<std::byte> read_back(const GuestMemory& mem, GuestAddress addr, size_t size) {
  std::vector<std::byte> out(size);
  auto r = mem.read(addr, out);
  EXPECT_TRUE(r) << r.error().message;
  return out;
}

TEST(LoadInitrd, PlacesAtHighestPageAlignedFitInMemory) {
  auto mem = make_memory({{GuestAddress(0), 16 * kMiB}});
  auto bytes = pattern(10000);
  SpanImageSource src(bytes, "initrd.img");
  auto placed = load_initrd(src, mem, {});
  ASSERT_TRUE(placed) << placed.error().message;
  // 16 MiB - 10000 = 0xffd8f0, rounded down to 4 KiB.
  EXPECT_EQ(placed->address, GuestAddress(0xffd000));
  EXPECT_EQ(placed->size, 10000u);
  EXPECT_EQ(read_back(mem, placed->address, bytes.size()), bytes);
}

TEST(LoadInitrd, StaysBelowTheLimit) {
  auto mem = make_memory({{GuestAddress(0), 16 * kMiB}});
  auto bytes = pattern(4096);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.limit = GuestAddress(8 * kMiB + 100);
  auto placed = load_initrd(src, mem, options);
  ASSERT_TRUE(placed) << placed.error().message;
  // The initrd ends at or before the (exclusive) limit.
  EXPECT_EQ(placed->address, GuestAddress(8 * kMiB - 4096));
}

TEST(LoadInitrd, HonoursAlignment) {
  auto mem = make_memory({{GuestAddress(0), 16 * kMiB}});
  auto bytes = pattern(100);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.alignment = 2 * kMiB;
  auto placed = load_initrd(src, mem, options);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->address, GuestAddress(14 * kMiB));
}

TEST(LoadInitrd, RejectsAlignmentNotPowerOfTwo) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  auto bytes = pattern(100);
  SpanImageSource src(bytes, "rd");
  InitrdOptions options;
  options.alignment = 3000;
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("0xbb8"));
  options.alignment = 0;
  EXPECT_EQ(load_initrd(src, mem, options).error().code, ErrorCode::kInvalidArgument);
}

TEST(LoadInitrd, SkipsTheX86GapAndUsesTheRegionBelowTheLimit) {
  // RAM below 3 GiB and above 4 GiB (sizes kept small: MAP_NORESERVE costs nothing).
  constexpr uint64_t kGiB = 1ull << 30;
  auto mem = make_memory({{GuestAddress(0), 3 * kGiB}, {GuestAddress(4 * kGiB), kGiB}});
  auto bytes = pattern(3 * 4096);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.limit = GuestAddress(4 * kGiB);  // e.g. initrd_addr_max + 1 for a 32-bit-only kernel
  auto placed = load_initrd(src, mem, options);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->address, GuestAddress(3 * kGiB - 3 * 4096));
  EXPECT_EQ(read_back(mem, placed->address, bytes.size()), bytes);

  // Without a limit it goes to the top of high memory.
  auto high = load_initrd(src, mem, {});
  ASSERT_TRUE(high) << high.error().message;
  EXPECT_EQ(high->address, GuestAddress(5 * kGiB - 3 * 4096));
}

TEST(LoadInitrd, FallsBackToALowerRegionWhenTheTopOneIsTooSmall) {
  auto mem = make_memory({{GuestAddress(0), 4 * kMiB}, {GuestAddress(8 * kMiB), 64 * kKiB}});
  auto bytes = pattern(100 * kKiB);
  SpanImageSource src(bytes);
  auto placed = load_initrd(src, mem, {});
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->address, GuestAddress(4 * kMiB - 100 * kKiB));
}

TEST(LoadInitrd, RespectsLowest) {
  auto mem = make_memory({{GuestAddress(0), 4 * kMiB}});
  auto bytes = pattern(2 * kMiB);
  SpanImageSource src(bytes, "big.cpio");
  InitrdOptions options;
  options.lowest = GuestAddress(2 * kMiB);
  auto fits = load_initrd(src, mem, options);
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->address, GuestAddress(2 * kMiB));
  options.lowest = GuestAddress(2 * kMiB + 4096);
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
}

TEST(LoadInitrd, NothingFitsNamesSizeAndLimit) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  auto bytes = pattern(kMiB + 1);
  SpanImageSource src(bytes, "huge.cpio");
  InitrdOptions options;
  options.limit = GuestAddress(0x80000);
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(r.error().message, HasSubstr("huge.cpio"));
  EXPECT_THAT(r.error().message, HasSubstr("0x100001 bytes"));
  EXPECT_THAT(r.error().message, HasSubstr("below 0x80000"));
}

TEST(LoadInitrd, LimitBelowSizeDoesNotWrap) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  auto bytes = pattern(8192);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.limit = GuestAddress(4096);
  EXPECT_EQ(load_initrd(src, mem, options).error().code, ErrorCode::kOutOfBounds);
}

TEST(LoadInitrd, RefusesEmptyFile) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  SpanImageSource src({}, "empty.img");
  auto r = load_initrd(src, mem, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("empty.img"));
  EXPECT_THAT(r.error().message, HasSubstr("empty"));
}

TEST(LoadInitrd, ExactAddressLoadsThere) {
  auto mem = make_memory({{GuestAddress(0), 4 * kMiB}});
  auto bytes = pattern(5000);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.address = GuestAddress(0x123456);  // exact means exact, aligned or not
  auto placed = load_initrd(src, mem, options);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->address, GuestAddress(0x123456));
  EXPECT_EQ(read_back(mem, GuestAddress(0x123456), bytes.size()), bytes);
}

TEST(LoadInitrd, ExactAddressOutsideMemoryIsRefused) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  auto bytes = pattern(5000);
  SpanImageSource src(bytes, "rd");
  InitrdOptions options;
  options.address = GuestAddress(kMiB - 4096);
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(r.error().message, HasSubstr("0xff000"));
  EXPECT_THAT(r.error().message, HasSubstr("0x1388 bytes"));
}

TEST(LoadInitrd, ExactAddressAboveTheLimitIsRefused) {
  auto mem = make_memory({{GuestAddress(0), 4 * kMiB}});
  auto bytes = pattern(8192);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.address = GuestAddress(2 * kMiB);
  options.limit = GuestAddress(2 * kMiB + 4096);
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(r.error().message, HasSubstr("allowed range"));
}

TEST(LoadInitrd, ExactAddressThatWrapsIsRefused) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  auto bytes = pattern(8192);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.address = GuestAddress(~0ull - 4095);
  EXPECT_EQ(load_initrd(src, mem, options).error().code, ErrorCode::kOverflow);
}

TEST(LoadInitrd, ExactAddressAcrossTwoRegionsIsRefused) {
  auto mem = make_memory({{GuestAddress(0), kMiB}, {GuestAddress(kMiB), kMiB}});
  auto bytes = pattern(8192);
  SpanImageSource src(bytes);
  InitrdOptions options;
  options.address = GuestAddress(kMiB - 4096);
  auto r = load_initrd(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("one guest memory region"));
}

TEST(LoadInitrd, ReadsAFileStraightIntoGuestMemory) {
  char path[] = "/tmp/minivmm_initrd_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  auto bytes = pattern(3 * 4096 + 17);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  auto src = FileImageSource::open(path);
  unlink(path);
  ASSERT_TRUE(src) << src.error().message;
  auto mem = make_memory({{GuestAddress(0), 2 * kMiB}});
  auto placed = load_initrd(*src, mem, {});
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->address, GuestAddress(2 * kMiB - 4 * 4096));
  EXPECT_EQ(read_back(mem, placed->address, bytes.size()), bytes);
}

}  // namespace
}  // namespace loader

namespace loader {
namespace {

// Zero-copy: the initrd is mapped from its file, reads back byte for byte,
// and a guest write changes guest memory only, never the file.
TEST(LoadInitrd, ZeroCopyMapsTheFileCopyOnWrite) {
  char path[] = "/tmp/minivmm_initrd_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const auto data = pattern(3 * 4096 + 100);  // a partial last page
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  auto src = FileImageSource::open(path);
  ASSERT_TRUE(src) << src.error().message;
  auto mem = make_memory({RegionSpec{GuestAddress(0), 4 * kMiB}});
  InitrdOptions options;
  options.zero_copy = true;
  auto placed = load_initrd(*src, mem, options);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(placed->size, data.size());
  EXPECT_EQ(read_back(mem, placed->address, data.size()), data);
  // The rest of the last page reads as zero.
  auto tail = read_back(mem, placed->address.unchecked_add(data.size()), 4096 - 100);
  EXPECT_TRUE(std::all_of(tail.begin(), tail.end(), [](std::byte b) { return b == std::byte{0}; }));

  std::array<std::byte, 4> scribble{std::byte{0xde}, std::byte{0xad}, std::byte{0xbe}, std::byte{0xef}};
  ASSERT_TRUE(mem.write(placed->address, scribble));
  EXPECT_EQ(read_back(mem, placed->address, 4), std::vector<std::byte>(scribble.begin(), scribble.end()));
  auto again = FileImageSource::open(path);
  ASSERT_TRUE(again);
  std::vector<std::byte> head(4);
  ASSERT_TRUE(again->read_at(0, head));
  EXPECT_EQ(head, std::vector<std::byte>(data.begin(), data.begin() + 4)) << "the file must not change";
  ::unlink(path);
}

}  // namespace
}  // namespace loader
