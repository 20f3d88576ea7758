#include "loader/version_string.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loader {
namespace {

std::vector<std::byte> bytes_with(uint64_t size, uint64_t at, std::string_view text) {
  std::vector<std::byte> out(size, std::byte{0});
  for (size_t i = 0; i < text.size(); ++i) out[at + i] = static_cast<std::byte>(text[i]);
  return out;
}

constexpr std::string_view kBanner = "Linux version 6.1.0-18-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP";

TEST(FindLinuxVersion, FindsBannerUpToEndOfLine) {
  std::string text = std::string(kBanner) + "\nnext line";
  auto data = bytes_with(4096, 100, text);
  SpanImageSource src(data);
  auto v = find_linux_version(src, 0, data.size());
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_TRUE(*v);
  EXPECT_EQ(**v, kBanner);
}

TEST(FindLinuxVersion, StopsAtNonPrintableByte) {
  std::string text = "Linux version 5.10.0\x01garbage";
  auto data = bytes_with(256, 0, text);
  SpanImageSource src(data);
  auto v = find_linux_version(src, 0, data.size());
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, "Linux version 5.10.0");
}

TEST(FindLinuxVersion, SkipsFormatStringsAndReportsAbsence) {
  auto data = bytes_with(1024, 10, std::string("Linux version %s (%s)\n") + '\0');
  SpanImageSource src(data);
  auto v = find_linux_version(src, 0, data.size());
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  // A real banner after the format string is still found.
  auto data2 = data;
  std::string_view real = "Linux version 6.12.1";
  for (size_t i = 0; i < real.size(); ++i) data2[500 + i] = static_cast<std::byte>(real[i]);
  SpanImageSource src2(data2);
  auto v2 = find_linux_version(src2, 0, data2.size());
  ASSERT_TRUE(v2 && *v2);
  EXPECT_EQ(**v2, real);
}

TEST(FindLinuxVersion, CutsLongLinesAtTheLimit) {
  std::string text = "Linux version 6." + std::string(2000, 'x');
  auto data = bytes_with(4096, 0, text);
  SpanImageSource src(data);
  auto v = find_linux_version(src, 0, data.size());
  ASSERT_TRUE(v && *v);
  EXPECT_EQ((*v)->size(), kMaxVersionLength);
  EXPECT_EQ(**v, text.substr(0, kMaxVersionLength));
}

TEST(FindLinuxVersion, FindsBannerStraddlingEveryChunkBoundaryPosition) {
  const uint64_t size = 3 * kVersionSearchChunk;
  // Around the first chunk's end and the second chunk's overlap start.
  for (uint64_t at : {kVersionSearchChunk - kMaxVersionLength - 1, kVersionSearchChunk - kMaxVersionLength,
                      kVersionSearchChunk - kBanner.size() / 2, kVersionSearchChunk - 5, kVersionSearchChunk - 1,
                      kVersionSearchChunk, 2 * kVersionSearchChunk - kMaxVersionLength - 3,
                      2 * kVersionSearchChunk - 7, size - kBanner.size()}) {
    // The last position has the banner end the file, with no newline.
    const bool ends_file = at + kBanner.size() == size;
    auto data = bytes_with(size, at, ends_file ? std::string(kBanner) : std::string(kBanner) + "\n");
    SpanImageSource src(data);
    auto v = find_linux_version(src, 0, data.size());
    ASSERT_TRUE(v) << v.error().message;
    ASSERT_TRUE(*v) << "banner at " << at;
    EXPECT_EQ(**v, kBanner) << "banner at " << at;
  }
}

TEST(FindLinuxVersion, SearchesOnlyTheGivenRange) {
  auto data = bytes_with(8192, 4000, kBanner);
  SpanImageSource src(data);
  auto before = find_linux_version(src, 0, 4000 + 5);
  ASSERT_TRUE(before);
  EXPECT_FALSE(*before);
  auto inside = find_linux_version(src, 3000, 2000);
  ASSERT_TRUE(inside && *inside);
  EXPECT_EQ(**inside, kBanner);
}

TEST(FindLinuxVersion, RangeOutsideFileIsAnError) {
  auto data = bytes_with(100, 0, "");
  SpanImageSource src(data, "short-file");
  auto v = find_linux_version(src, 50, 51);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kTruncated);
  EXPECT_NE(v.error().message.find("short-file"), std::string::npos);
  EXPECT_FALSE(find_linux_version(src, ~0ull, 2));
}

}  // namespace
}  // namespace loader
