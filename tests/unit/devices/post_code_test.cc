#include "devices/post_code.h"

#include <gtest/gtest.h>

namespace devices {
namespace {

TEST(PostCode, RecordsCodesInOrderWithMonotonicTimestamps) {
  PostCode port(4);
  auto before = std::chrono::steady_clock::now();
  for (uint8_t c : {0x10, 0x20, 0x30}) {
    std::byte b{c};
    port.write(0, std::span(&b, 1));
  }
  auto e = port.entries();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].code, 0x10);
  EXPECT_EQ(e[2].code, 0x30);
  EXPECT_GE(e[0].when, before);
  EXPECT_LE(e[0].when, e[1].when);
  std::byte r{};
  port.read(0, std::span(&r, 1));
  EXPECT_EQ(r, std::byte{0x30});
}

TEST(PostCode, CapsTheRecordButCountsEveryWrite) {
  PostCode port(2);
  for (int i = 0; i < 5; ++i) {
    std::byte b{static_cast<uint8_t>(i)};
    port.write(0, std::span(&b, 1));
  }
  EXPECT_EQ(port.entries().size(), 2u);
  EXPECT_EQ(port.total_writes(), 5u);
}

}  // namespace
}  // namespace devices
