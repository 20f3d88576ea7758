// The setup header of the real Debian amd64 kernels, read straight from the
// file (bytes 0x1f1 .. 0x202 + byte[0x201]), through parse_setup_header and
// into a zero page.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "boot/e820.h"
#include "boot/memory_map_x86.h"
#include "boot/zero_page.h"
#include "support/test_env.h"

namespace boot {
namespace {

std::vector<std::byte> read_header_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(0x300);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  size_t end = 0x202 + static_cast<uint8_t>(buf[0x201]);
  std::vector<std::byte> out;
  for (size_t i = 0x1f1; i < end && i < buf.size(); ++i) out.push_back(static_cast<std::byte>(buf[i]));
  return out;
}

class RealKernelHeader : public ::testing::TestWithParam<const char*> {};

TEST_P(RealKernelHeader, ParsesAndFillsAZeroPage) {
  auto path = std::filesystem::path(test_support::kernel_cache_dir()) / GetParam() / "vmlinuz";
  if (!std::filesystem::exists(path)) {
    if (test_support::kernels_required()) FAIL() << path << " missing (scripts/fetch_kernels.sh)";
    GTEST_SKIP() << path << " not fetched";
  }
  auto hdr = parse_setup_header(read_header_bytes(path));
  ASSERT_TRUE(hdr.has_value()) << hdr.error().message;
  EXPECT_GE(hdr->version, 0x020c);
  EXPECT_NE(hdr->xloadflags & kXlfKernel64, 0);
  EXPECT_NE(hdr->loadflags & kLoadedHigh, 0);
  EXPECT_GE(hdr->cmdline_size, 255u);
  auto map = x86_memory_map(512ull << 20);
  ASSERT_TRUE(map.has_value());
  auto e820 = build_e820(*map);
  ASSERT_TRUE(e820.has_value());
  ZeroPageConfig zc;
  zc.header = *hdr;
  zc.cmdline_addr = 0x20000;
  zc.cmdline_length = 20;
  zc.initrd = loader::InitrdPlacement{loader::GuestAddress(0x10000000), 0x1000000};
  zc.e820 = *e820;
  auto bp = build_zero_page(zc);
  ASSERT_TRUE(bp.has_value()) << bp.error().message;
  EXPECT_EQ(bp->hdr.type_of_loader, 0xff);
  EXPECT_EQ(bp->hdr.init_size, hdr->init_size);
  EXPECT_EQ(bp->e820_entries, 3);
}

INSTANTIATE_TEST_SUITE_P(Debian, RealKernelHeader, ::testing::Values("amd64", "cloud-amd64"));

}  // namespace
}  // namespace boot
