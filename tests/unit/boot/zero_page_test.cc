#include "boot/zero_page.h"

#include <gtest/gtest.h>

#include <cstddef>

#include "boot/layout_x86.h"
#include "boot/x86_boot.h"
#include "unit/boot/guest_bytes.h"
#include "support/setup_header_builder.h"

namespace boot {
namespace {

using boot_test::u16;
using boot_test::u32;
using boot_test::u64;
using boot_test::u8;
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kZp = 0x7000;

// Offsets from boot.rst / bootparam.h, spelled out independently of the struct.
static_assert(offsetof(BootParams, acpi_rsdp_addr) == 0x070);
static_assert(offsetof(BootParams, ext_ramdisk_image) == 0x0c0);
static_assert(offsetof(BootParams, ext_ramdisk_size) == 0x0c4);
static_assert(offsetof(BootParams, ext_cmd_line_ptr) == 0x0c8);
static_assert(offsetof(BootParams, e820_entries) == 0x1e8);
static_assert(offsetof(BootParams, sentinel) == 0x1ef);
static_assert(offsetof(BootParams, hdr) == 0x1f1);
static_assert(offsetof(BootParams, e820_table) == 0x2d0);
static_assert(offsetof(BootParams, eddbuf) == 0xd00);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, type_of_loader) == 0x210);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, cmd_line_ptr) == 0x228);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, cmdline_size) == 0x238);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, init_size) == 0x260);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, kernel_info_offset) == 0x268);

loader::LoadedKernel bzimage_kernel(const test_support::SetupHeaderSpec& spec = {}) {
  loader::LoadedKernel k;
  k.format = loader::KernelFormat::kBzImage;
  k.load_address = loader::GuestAddress(0x100000);
  k.load_size = 0x2000000;
  k.entry = loader::GuestAddress(0x100200);
  k.setup_header = test_support::build_setup_header(spec);
  return k;
}

class ZeroPageInMemory : public ::testing::Test {
 protected:
  void boot(X86BootConfig config) {
    config.kernel = config.kernel.setup_header.empty() ? bzimage_kernel() : config.kernel;
    config.memory_map = map_;
    auto setup = setup_x86_boot(mem_, config);
    ASSERT_TRUE(setup.has_value()) << setup.error().message;
    setup_ = *setup;
  }
  MemoryMap map_;
  loader::GuestMemory mem_ = boot_test::x86_memory(256 * kMiB, &map_);
  X86BootSetup setup_;
};

TEST_F(ZeroPageInMemory, LoaderFieldsAtBootRstOffsets) {
  X86BootConfig c;
  c.cmdline = "console=ttyS0 panic=-1";
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x7f00000), 0x80000};
  boot(c);
  EXPECT_EQ(u8(mem_, kZp + 0x210), 0xff);                    // type_of_loader
  EXPECT_EQ(u8(mem_, kZp + 0x211) & 0x01, 0x01);             // LOADED_HIGH kept
  EXPECT_EQ(u8(mem_, kZp + 0x211) & 0x80, 0x80);             // CAN_USE_HEAP
  EXPECT_EQ(u16(mem_, kZp + 0x224), 0xfe00);                 // heap_end_ptr
  EXPECT_EQ(u16(mem_, kZp + 0x1fa), 0xffff);                 // vid_mode
  EXPECT_EQ(u32(mem_, kZp + 0x228), 0x20000u);               // cmd_line_ptr
  EXPECT_EQ(u32(mem_, kZp + 0x0c8), 0u);                     // ext_cmd_line_ptr
  EXPECT_EQ(u32(mem_, kZp + 0x218), 0x7f00000u);             // ramdisk_image
  EXPECT_EQ(u32(mem_, kZp + 0x21c), 0x80000u);               // ramdisk_size
  EXPECT_EQ(u32(mem_, kZp + 0x0c0), 0u);                     // ext_ramdisk_image
  EXPECT_EQ(u32(mem_, kZp + 0x0c4), 0u);                     // ext_ramdisk_size
  EXPECT_EQ(u64(mem_, kZp + 0x070), setup_.rsdp_addr);       // acpi_rsdp_addr
  EXPECT_GE(setup_.rsdp_addr, 0xE0000u);
  EXPECT_EQ(u8(mem_, kZp + 0x1ef), 0);                       // sentinel
  // The kernel's own fields come through from its header.
  EXPECT_EQ(u16(mem_, kZp + 0x1fe), 0xaa55);
  EXPECT_EQ(u32(mem_, kZp + 0x202), 0x53726448u);
  EXPECT_EQ(u16(mem_, kZp + 0x206), 0x020f);
  EXPECT_EQ(u32(mem_, kZp + 0x230), 0x200000u);              // kernel_alignment
  EXPECT_EQ(u32(mem_, kZp + 0x238), 2047u);                  // cmdline_size
  EXPECT_EQ(u32(mem_, kZp + 0x260), 0x2000000u);             // init_size
  // e820: 3 entries for 256 MiB.
  ASSERT_EQ(u8(mem_, kZp + 0x1e8), 3);
  EXPECT_EQ(u64(mem_, kZp + 0x2d0), 0u);
  EXPECT_EQ(u64(mem_, kZp + 0x2d0 + 8), 0x9fc00u);
  EXPECT_EQ(u32(mem_, kZp + 0x2d0 + 16), 1u);
  EXPECT_EQ(u64(mem_, kZp + 0x2d0 + 20), 0x9fc00u);
  EXPECT_EQ(u32(mem_, kZp + 0x2d0 + 36), 2u);
  EXPECT_EQ(u64(mem_, kZp + 0x2d0 + 40), 0x100000u);
  EXPECT_EQ(u64(mem_, kZp + 0x2d0 + 48), 256 * kMiB - 0x100000);
  EXPECT_EQ(u32(mem_, kZp + 0x2d0 + 56), 1u);
  // The command line, NUL-terminated, at cmd_line_ptr.
  auto text = boot_test::bytes_at(mem_, 0x20000, c.cmdline.size() + 1);
  EXPECT_EQ(std::string(text.begin(), text.end() - 1), c.cmdline);
  EXPECT_EQ(text.back(), 0);
}

TEST_F(ZeroPageInMemory, NoInitrdLeavesRamdiskFieldsZero) {
  boot({});
  EXPECT_EQ(u32(mem_, kZp + 0x218), 0u);
  EXPECT_EQ(u32(mem_, kZp + 0x21c), 0u);
  EXPECT_EQ(u8(mem_, 0x20000), 0);  // empty command line is just the NUL
}

TEST(ZeroPage, InitrdAbove4GiBUsesExtFieldsWhenTheKernelAllows) {
  test_support::SetupHeaderSpec spec;
  spec.xloadflags = 0x3;  // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_TRUE(hdr.has_value());
  ZeroPageConfig zc;
  zc.header = *hdr;
  zc.initrd = loader::InitrdPlacement{loader::GuestAddress(0x123456000ull), 0x100000};
  auto bp = build_zero_page(zc);
  ASSERT_TRUE(bp.has_value()) << bp.error().message;
  EXPECT_EQ(bp->hdr.ramdisk_image, 0x23456000u);
  EXPECT_EQ(bp->ext_ramdisk_image, 0x1u);
  EXPECT_EQ(bp->hdr.ramdisk_size, 0x100000u);
  EXPECT_EQ(bp->ext_ramdisk_size, 0u);
}

TEST(ZeroPage, InitrdAboveInitrdAddrMaxIsAnError) {
  test_support::SetupHeaderSpec spec;
  spec.initrd_addr_max = 0x37ffffff;
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_TRUE(hdr.has_value());
  ZeroPageConfig zc;
  zc.header = *hdr;
  zc.initrd = loader::InitrdPlacement{loader::GuestAddress(0x37ff0000), 0x20000};
  auto bp = build_zero_page(zc);
  ASSERT_FALSE(bp.has_value());
  EXPECT_EQ(bp.error().code, ErrorCode::kOutOfBounds);
  EXPECT_NE(bp.error().message.find("0x37ffffff"), std::string::npos) << bp.error().message;
  zc.initrd = loader::InitrdPlacement{loader::GuestAddress(0x37ff0000), 0x10000};  // ends exactly at the limit
  EXPECT_TRUE(build_zero_page(zc).has_value());
}

TEST(ZeroPage, CmdlineLongerThanCmdlineSizeIsAnError) {
  test_support::SetupHeaderSpec spec;
  spec.cmdline_size = 255;
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_TRUE(hdr.has_value());
  ZeroPageConfig zc;
  zc.header = *hdr;
  zc.cmdline_addr = 0x20000;
  zc.cmdline_length = 256;
  auto bp = build_zero_page(zc);
  ASSERT_FALSE(bp.has_value());
  EXPECT_EQ(bp.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(bp.error().message.find("255"), std::string::npos);
  zc.cmdline_length = 255;
  EXPECT_TRUE(build_zero_page(zc).has_value());
}

TEST(ZeroPage, MoreThan128E820EntriesIsAnError) {
  std::vector<E820Entry> e820(129, E820Entry{0, 0x1000, 1});
  ZeroPageConfig zc;
  zc.header = fresh_setup_header();
  zc.e820 = e820;
  auto bp = build_zero_page(zc);
  ASSERT_FALSE(bp.has_value());
  EXPECT_NE(bp.error().message.find("129"), std::string::npos);
  zc.e820 = std::span(e820).first(128);
  auto ok = build_zero_page(zc);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->e820_entries, 128);
}

TEST(ZeroPage, FreshHeaderForElfKernels) {
  SetupHeader h = fresh_setup_header();
  EXPECT_EQ(h.boot_flag, 0xaa55);
  EXPECT_EQ(h.header, 0x53726448u);
  EXPECT_GE(h.version, 0x020c);
  EXPECT_EQ(h.loadflags & kLoadedHigh, kLoadedHigh);
  EXPECT_EQ(h.cmdline_size, 2047u);
  EXPECT_EQ(h.kernel_alignment, 0x200000u);
  EXPECT_EQ(initrd_end_limit(h), 0x80000000u);
}

TEST(ZeroPage, ParseRejectsBadBootFlag) {
  test_support::SetupHeaderSpec spec;
  spec.boot_flag = 0x1234;
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_FALSE(hdr.has_value());
  EXPECT_EQ(hdr.error().code, ErrorCode::kBadMagic);
  EXPECT_NE(hdr.error().message.find("0x1234"), std::string::npos);
}

TEST(ZeroPage, ParseRejectsBadHdrS) {
  test_support::SetupHeaderSpec spec;
  spec.header_magic = 0x11223344;
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_FALSE(hdr.has_value());
  EXPECT_NE(hdr.error().message.find("0x11223344"), std::string::npos);
}

TEST(ZeroPage, ParseRejectsOldProtocol) {
  test_support::SetupHeaderSpec spec;
  spec.version = 0x0205;
  auto hdr = parse_setup_header(test_support::build_setup_header(spec));
  ASSERT_FALSE(hdr.has_value());
  EXPECT_EQ(hdr.error().code, ErrorCode::kUnsupported);
}

TEST(ZeroPage, ParseRejectsTruncatedHeader) {
  auto bytes = test_support::build_setup_header();
  bytes.resize(0x10);
  auto hdr = parse_setup_header(bytes);
  ASSERT_FALSE(hdr.has_value());
  EXPECT_EQ(hdr.error().code, ErrorCode::kTruncated);
}

TEST(ZeroPage, ParseZeroesBytesPastAShorterHeader) {
  auto bytes = test_support::build_setup_header();
  // Claim the header ends at 0x264 (protocol 2.10 length); bytes after belong to setup code.
  bytes[0x201 - 0x1f1] = std::byte{0x264 - 0x202};
  bytes[0x264 - 0x1f1] = std::byte{0xcc};
  auto hdr = parse_setup_header(bytes);
  ASSERT_TRUE(hdr.has_value());
  EXPECT_EQ(hdr->handover_offset, 0u);
  EXPECT_EQ(hdr->init_size, 0x2000000u);
}

}  // namespace
}  // namespace boot
