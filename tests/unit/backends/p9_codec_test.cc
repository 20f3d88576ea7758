#include "backends/p9_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace backends::p9 {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

TEST(P9Reader, DecodesLittleEndianAcrossBufferBoundaries) {
  auto a = bytes({0x01, 0x02, 0x03});
  auto b = bytes({0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f});
  std::vector<std::span<const std::byte>> bufs{a, std::span<const std::byte>(), b};
  Reader r(bufs, 100);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16(), 0x0302);
  EXPECT_EQ(r.u32(), 0x07060504u);
  EXPECT_EQ(r.u64(), 0x0f0e0d0c0b0a0908ull);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.u8(), 0);
  EXPECT_FALSE(r.ok());
}

TEST(P9Reader, LimitStopsBeforeTheBuffersEnd) {
  auto a = bytes({1, 2, 3, 4, 5, 6});
  std::vector<std::span<const std::byte>> bufs{a};
  Reader r(bufs, 3);
  EXPECT_EQ(r.u16(), 0x0201);
  EXPECT_EQ(r.u16(), 0);  // would need byte 4, past the limit
  EXPECT_FALSE(r.ok());
}

TEST(P9Reader, StringLengthPastTheEndFails) {
  auto a = bytes({5, 0, 'a', 'b'});
  std::vector<std::span<const std::byte>> bufs{a};
  Reader r(bufs, 100);
  EXPECT_EQ(r.str(), "");
  EXPECT_FALSE(r.ok());
}

TEST(P9Reader, StringSplitAcrossBuffers) {
  auto a = bytes({3, 0, 'x'});
  auto b = bytes({'y', 'z', 9});
  std::vector<std::span<const std::byte>> bufs{a, b};
  Reader r(bufs, 100);
  EXPECT_EQ(r.str(), "xyz");
  EXPECT_EQ(r.u8(), 9);
  EXPECT_TRUE(r.ok());
}

TEST(P9Reader, TakeReturnsTheGuestSpansWithoutCopying) {
  auto a = bytes({1, 2, 3});
  auto b = bytes({4, 5, 6});
  std::vector<std::span<const std::byte>> bufs{a, b};
  Reader r(bufs, 100);
  r.u16();
  auto spans = r.take(3);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].data(), a.data() + 2);
  EXPECT_EQ(spans[0].size(), 1u);
  EXPECT_EQ(spans[1].data(), b.data());
  EXPECT_EQ(spans[1].size(), 2u);
  EXPECT_EQ(r.u8(), 6);
  EXPECT_TRUE(r.take(1).empty());
  EXPECT_FALSE(r.ok());
}

TEST(P9Writer, EncodesAcrossBuffersAndPatches) {
  std::array<std::byte, 3> a{};
  std::array<std::byte, 20> b{};
  std::vector<std::span<std::byte>> bufs{a, b};
  Writer w(bufs, 100);
  w.u32(0);
  w.u16(0xbeef);
  w.qid({kQidDir, 7, 0x1122334455667788ull});
  w.patch_u32(0, 0xa1b2c3d4);
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.position(), 19u);
  EXPECT_EQ(a[0], std::byte{0xd4});
  EXPECT_EQ(a[2], std::byte{0xb2});
  EXPECT_EQ(b[0], std::byte{0xa1});
  EXPECT_EQ(b[1], std::byte{0xef});
  EXPECT_EQ(b[3], std::byte{kQidDir});
  EXPECT_EQ(b[8], std::byte{0x88});
  EXPECT_EQ(b[15], std::byte{0x11});
}

TEST(P9Writer, NeverWritesPastLimitOrBuffers) {
  std::array<std::byte, 8> a{};
  a.fill(std::byte{0xee});
  std::vector<std::span<std::byte>> bufs{std::span(a).first(6)};
  Writer w(bufs, 5);
  w.u32(1);
  w.u16(2);  // one byte over the limit
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(a[4], std::byte{0xee});
  Writer w2(bufs, 100);  // the buffers are smaller than the limit
  EXPECT_EQ(w2.limit(), 6u);
  w2.u64(3);
  EXPECT_FALSE(w2.ok());
  EXPECT_EQ(a[6], std::byte{0xee});
}

TEST(P9Writer, ReserveAndUnwind) {
  std::array<std::byte, 4> a{};
  std::array<std::byte, 8> b{};
  std::vector<std::span<std::byte>> bufs{a, b};
  Writer w(bufs, 100);
  w.u16(1);
  auto spans = w.reserve(6);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].data(), a.data() + 2);
  EXPECT_EQ(spans[1].size(), 4u);
  w.unwind(2);
  EXPECT_EQ(w.position(), 6u);
  w.u8(9);
  EXPECT_EQ(b[2], std::byte{9});
  EXPECT_TRUE(w.reserve(100).empty());
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace backends::p9
