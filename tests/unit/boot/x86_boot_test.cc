#include "boot/x86_boot.h"

#include <gtest/gtest.h>

#include "boot/layout_x86.h"
#include "unit/boot/guest_bytes.h"
#include "support/setup_header_builder.h"

namespace boot {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

loader::LoadedKernel elf_kernel() {
  loader::LoadedKernel k;
  k.format = loader::KernelFormat::kElf;
  k.load_address = loader::GuestAddress(0x1000000);
  k.load_size = 0x2000000;
  k.entry = loader::GuestAddress(0x1000000);
  k.pvh_entry = loader::GuestAddress(0x1000180);
  return k;
}

loader::LoadedKernel bzimage_kernel(const test_support::SetupHeaderSpec& spec = {}) {
  loader::LoadedKernel k;
  k.format = loader::KernelFormat::kBzImage;
  k.load_address = loader::GuestAddress(0x100000);
  k.load_size = 0x2000000;
  k.entry = loader::GuestAddress(0x100200);
  k.setup_header = test_support::build_setup_header(spec);
  return k;
}

class X86Boot : public ::testing::Test {
 protected:
  X86BootConfig config(loader::LoadedKernel k, X86BootProtocol p = X86BootProtocol::kLinux) {
    X86BootConfig c;
    c.kernel = std::move(k);
    c.protocol = p;
    c.memory_map = map_;
    c.cmdline = "console=ttyS0";
    return c;
  }
  MemoryMap map_;
  loader::GuestMemory mem_ = boot_test::x86_memory(256 * kMiB, &map_);
};

TEST_F(X86Boot, LinuxElfWritesEverythingAndReturnsLongModeState) {
  auto c = config(elf_kernel());
  c.cpus = 2;
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x8000000), 0x400000};
  auto setup = setup_x86_boot(mem_, c);
  ASSERT_TRUE(setup.has_value()) << setup.error().message;
  const auto& st = setup->entry;
  EXPECT_EQ(st.regs.rip, 0x1000000u);
  EXPECT_EQ(st.regs.rsi, 0x7000u);
  EXPECT_EQ(st.sregs.cr3, 0x9000u);
  EXPECT_EQ(st.sregs.efer & 0x500, 0x500u);
  // Fresh header in the zero page for the ELF kernel.
  EXPECT_EQ(boot_test::u16(mem_, 0x7000 + 0x1fe), 0xaa55);
  EXPECT_EQ(boot_test::u32(mem_, 0x7000 + 0x202), 0x53726448u);
  EXPECT_EQ(boot_test::u32(mem_, 0x7000 + 0x218), 0x8000000u);
  // GDT in memory matches the segments in the entry state.
  EXPECT_EQ(boot_test::u64(mem_, 0x500 + st.sregs.cs.selector), encode_descriptor(st.sregs.cs));
  EXPECT_EQ(boot_test::u64(mem_, 0x500 + st.sregs.ds.selector), encode_descriptor(st.sregs.ds));
  // EBDA pointer in the BIOS data area.
  EXPECT_EQ(boot_test::u16(mem_, 0x40e), 0x9fc0);
  // MP table found where the MP scan looks.
  EXPECT_EQ(boot_test::u32(mem_, 0xF0000), 0x5f504d5fu);  // "_MP_"
  // Layout: sorted, names present, nothing overlapping.
  const auto& layout = setup->layout;
  std::vector<std::string> names;
  for (size_t i = 0; i < layout.size(); ++i) {
    names.push_back(layout[i].name);
    if (i > 0) {
      EXPECT_LE(layout[i - 1].address, layout[i].address);
      EXPECT_LE(layout[i - 1].address + layout[i - 1].size, layout[i].address)
          << layout[i - 1].name << " overlaps " << layout[i].name;
    }
  }
  for (const char* want : {"GDT", "IDT", "TSS", "zero page", "page tables", "cmdline", "ACPI RSDP", "ACPI DSDT",
                           "ACPI APIC", "MP table", "kernel", "initrd", "EBDA"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST_F(X86Boot, LinuxBzImageUsesItsHeader) {
  test_support::SetupHeaderSpec spec;
  spec.cmdline_size = 511;
  auto setup = setup_x86_boot(mem_, config(bzimage_kernel(spec)));
  ASSERT_TRUE(setup.has_value()) << setup.error().message;
  EXPECT_EQ(setup->entry.regs.rip, 0x100200u);
  EXPECT_EQ(boot_test::u32(mem_, 0x7000 + 0x238), 511u);
  EXPECT_EQ(boot_test::u8(mem_, 0x7000 + 0x210), 0xff);
}

TEST_F(X86Boot, NoMptableWhenNotWanted) {
  auto c = config(elf_kernel());
  c.mptable = false;
  ASSERT_TRUE(setup_x86_boot(mem_, c).has_value());
  EXPECT_EQ(boot_test::u32(mem_, 0xF0000), 0u);
}

TEST_F(X86Boot, PvhWithoutEntryIsAnError) {
  auto k = elf_kernel();
  k.pvh_entry.reset();
  auto r = setup_x86_boot(mem_, config(k, X86BootProtocol::kPvh));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(r.error().message.find("PVH"), std::string::npos);
}

TEST_F(X86Boot, PvhEntryAbove4GiBIsAnError) {
  auto k = elf_kernel();
  k.pvh_entry = loader::GuestAddress(0x100000000ull);
  EXPECT_FALSE(setup_x86_boot(mem_, config(k, X86BootProtocol::kPvh)).has_value());
}

TEST_F(X86Boot, KernelOutsideMemoryIsAnError) {
  auto k = elf_kernel();
  k.load_size = 512 * kMiB;  // more than the 256 MiB of RAM
  auto r = setup_x86_boot(mem_, config(k));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_NE(r.error().message.find("kernel"), std::string::npos);
  EXPECT_NE(r.error().message.find("memory too small"), std::string::npos);
}

TEST_F(X86Boot, KernelSizeWrapIsAnError) {
  auto k = elf_kernel();
  k.load_size = ~0ull;
  auto r = setup_x86_boot(mem_, config(k));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverflow);
}

TEST_F(X86Boot, KernelInLowBootAreaIsAnError) {
  auto k = elf_kernel();
  k.load_address = loader::GuestAddress(0x8000);
  auto r = setup_x86_boot(mem_, config(k));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
}

TEST_F(X86Boot, InitrdAboveInitrdAddrMaxIsAnError) {
  test_support::SetupHeaderSpec spec;
  spec.initrd_addr_max = 0x07ffffff;  // 128 MiB
  auto c = config(bzimage_kernel(spec));
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x8000000), 0x1000};
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_NE(r.error().message.find("0x8000000"), std::string::npos) << r.error().message;
  auto limit = x86_initrd_end_limit(c.kernel, X86BootProtocol::kLinux);
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(*limit, 0x8000000u);
}

TEST_F(X86Boot, InitrdOutsideMemoryIsAnError) {
  auto c = config(elf_kernel());
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0xff00000), 0x200000};
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("initrd"), std::string::npos);
}

TEST_F(X86Boot, InitrdOverlappingKernelIsAnError) {
  auto c = config(elf_kernel());
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x2000000), 0x1000};
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
}

TEST_F(X86Boot, TooManyCpusIsAnError) {
  auto c = config(elf_kernel());
  c.cpus = 255;
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("255"), std::string::npos);
  c.cpus = 0;
  EXPECT_FALSE(setup_x86_boot(mem_, c).has_value());
  c.cpus = 254;
  EXPECT_TRUE(setup_x86_boot(mem_, c).has_value());
}

TEST_F(X86Boot, CmdlineLongerThanCmdlineSizeIsAnError) {
  test_support::SetupHeaderSpec spec;
  spec.cmdline_size = 16;
  auto c = config(bzimage_kernel(spec));
  c.cmdline = std::string(17, 'a');
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(r.error().message.find("17"), std::string::npos);
  c.cmdline = std::string(16, 'a');
  EXPECT_TRUE(setup_x86_boot(mem_, c).has_value());
}

TEST_F(X86Boot, CmdlineWithNulIsAnError) {
  auto c = config(elf_kernel());
  c.cmdline = std::string("a\0b", 3);
  EXPECT_FALSE(setup_x86_boot(mem_, c).has_value());
}

TEST_F(X86Boot, PvhCmdlineLimitIs2047) {
  auto c = config(elf_kernel(), X86BootProtocol::kPvh);
  c.cmdline = std::string(2048, 'a');
  EXPECT_FALSE(setup_x86_boot(mem_, c).has_value());
  c.cmdline = std::string(2047, 'a');
  EXPECT_TRUE(setup_x86_boot(mem_, c).has_value());
}

TEST_F(X86Boot, BzImageWithBrokenHeaderIsAnError) {
  test_support::SetupHeaderSpec spec;
  spec.boot_flag = 0;
  auto r = setup_x86_boot(mem_, config(bzimage_kernel(spec)));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("bzImage"), std::string::npos);
}

TEST_F(X86Boot, WrongArchIsAnError) {
  auto k = elf_kernel();
  k.arch = loader::Arch::kAarch64;
  auto r = setup_x86_boot(mem_, config(k));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kWrongArch);
}

TEST_F(X86Boot, MemoryMapNotMatchingMemoryIsAnError) {
  auto big = x86_memory_map(512 * kMiB);
  ASSERT_TRUE(big.has_value());
  auto c = config(elf_kernel());
  c.memory_map = *big;
  auto r = setup_x86_boot(mem_, c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("ram-low"), std::string::npos);
}

TEST(X86BootHighMemory, FiveGiBE820ReachesTheZeroPage) {
  MemoryMap map;
  auto mem = boot_test::x86_memory(5 * kGiB, &map);
  X86BootConfig c;
  c.kernel = elf_kernel();
  c.memory_map = map;
  ASSERT_TRUE(setup_x86_boot(mem, c).has_value());
  ASSERT_EQ(boot_test::u8(mem, 0x7000 + 0x1e8), 4);
  EXPECT_EQ(boot_test::u64(mem, 0x7000 + 0x2d0 + 3 * 20), 0x100000000u);
  EXPECT_EQ(boot_test::u64(mem, 0x7000 + 0x2d0 + 3 * 20 + 8), 0x80000000u);
}

TEST(X86BootLimits, InitrdLimitPerProtocol) {
  auto pvh = x86_initrd_end_limit(elf_kernel(), X86BootProtocol::kPvh);
  ASSERT_TRUE(pvh.has_value());
  EXPECT_EQ(*pvh, 4 * kGiB);
  auto elf = x86_initrd_end_limit(elf_kernel(), X86BootProtocol::kLinux);
  ASSERT_TRUE(elf.has_value());
  EXPECT_EQ(*elf, 0x80000000u);
  test_support::SetupHeaderSpec spec;
  spec.xloadflags = 0x3;  // XLF_CAN_BE_LOADED_ABOVE_4G: placement still stays below 4 GiB
  auto above = x86_initrd_end_limit(bzimage_kernel(spec), X86BootProtocol::kLinux);
  ASSERT_TRUE(above.has_value());
  EXPECT_EQ(*above, 4 * kGiB);
}

TEST(X86BootHighMemory, InitrdAbove4GiBAcceptedWhenTheHeaderAllows) {
  MemoryMap map;
  auto mem = boot_test::x86_memory(5 * kGiB, &map);
  test_support::SetupHeaderSpec spec;
  spec.xloadflags = 0x3;
  X86BootConfig c;
  c.kernel = bzimage_kernel(spec);
  c.memory_map = map;
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x140000000ull), 0x100000};
  auto r = setup_x86_boot(mem, c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(boot_test::u32(mem, 0x7000 + 0x218), 0x40000000u);
  EXPECT_EQ(boot_test::u32(mem, 0x7000 + 0x0c0), 1u);
  spec.xloadflags = 0x1;  // without the flag, the same placement is refused
  c.kernel = bzimage_kernel(spec);
  EXPECT_FALSE(setup_x86_boot(mem, c).has_value());
}

}  // namespace
}  // namespace boot
