// load_fdt_guest: the shared first half of an aarch64/riscv64 boot (and of
// its dry run), on files written from the test builders.
#include "boot/fdt_guest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "boot/memory_map_aarch64.h"
#include "support/bzimage_builder.h"
#include "support/image_builder.h"

namespace boot {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class FdtGuestTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& p : files_) std::remove(p.c_str());
  }
  std::string write(const std::string& name, const std::vector<std::byte>& bytes) {
    std::string path = ::testing::TempDir() + "fdt_guest_" + name + "_" + std::to_string(getpid());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    files_.push_back(path);
    return path;
  }
  static loader::GuestMemory memory(uint64_t size = 64 * kMiB) {
    std::array ram{loader::RegionSpec{loader::GuestAddress(aarch64::kRamBase), size}};
    return std::move(*loader::GuestMemory::create(ram));
  }
  std::vector<std::string> files_;
};

TEST_F(FdtGuestTest, LoadsTheImageAndPlacesTheInitrdBelowTheDtbSlot) {
  auto kernel = write("Image", test_support::build_arm64_image());
  auto initrd = write("initrd", std::vector<std::byte>(10000, std::byte{0x5a}));
  auto mem = memory();
  auto guest = load_fdt_guest(mem, loader::Arch::kAarch64, kernel, initrd, "console=ttyS0");
  ASSERT_TRUE(guest) << guest.error().message;
  EXPECT_EQ(guest->kernel.load_address, loader::GuestAddress(aarch64::kRamBase));
  EXPECT_EQ(guest->cmdline, "console=ttyS0");
  ASSERT_TRUE(guest->initrd);
  EXPECT_EQ(guest->initrd->size, 10000u);
  EXPECT_GE(guest->initrd->address.value(), guest->kernel.load_address.value() + guest->kernel.load_size);
  // The DTB slot is the top 2 MiB block of RAM.
  EXPECT_LE(guest->initrd->address.value() + guest->initrd->size, aarch64::kRamBase + 64 * kMiB - 2 * kMiB);
  EXPECT_EQ(*mem.read_obj<uint8_t>(guest->initrd->address), 0x5au);
}

TEST_F(FdtGuestTest, RefusesAKernelForAnotherArchByName) {
  auto kernel = write("bzImage", test_support::build_bzimage().bytes);
  auto mem = memory();
  auto guest = load_fdt_guest(mem, loader::Arch::kRiscv64, kernel, std::nullopt, "");
  ASSERT_FALSE(guest);
  EXPECT_EQ(guest.error().code, loader::ErrorCode::kWrongArch);
  EXPECT_NE(guest.error().message.find("x86_64 kernel, but a riscv64 VM was requested"), std::string::npos)
      << guest.error().message;
}

TEST_F(FdtGuestTest, ChecksTheCommandLineAgainstTheArchCapacity) {
  auto kernel = write("Image", test_support::build_arm64_image());
  auto mem = memory();
  const std::string long_line(aarch64::kCmdlineCapacity, 'x');
  auto guest = load_fdt_guest(mem, loader::Arch::kAarch64, kernel, std::nullopt, long_line);
  ASSERT_FALSE(guest);
  EXPECT_NE(guest.error().message.find("--cmdline"), std::string::npos) << guest.error().message;
  EXPECT_TRUE(load_fdt_guest(mem, loader::Arch::kAarch64, kernel, std::nullopt, long_line.substr(1)));
}

TEST_F(FdtGuestTest, MissingInitrdIsNamed) {
  auto kernel = write("Image", test_support::build_arm64_image());
  auto mem = memory();
  auto guest = load_fdt_guest(mem, loader::Arch::kAarch64, kernel, std::string("/nonexistent/initrd.cpio"), "");
  ASSERT_FALSE(guest);
  EXPECT_NE(guest.error().message.find("/nonexistent/initrd.cpio"), std::string::npos) << guest.error().message;
}

TEST_F(FdtGuestTest, X86HasNoDeviceTreeBoot) {
  auto mem = memory();
  auto guest = load_fdt_guest(mem, loader::Arch::kX86_64, "/dev/null", std::nullopt, "");
  ASSERT_FALSE(guest);
  EXPECT_EQ(guest.error().code, loader::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace boot
