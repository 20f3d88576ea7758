#include "boot/pvh.h"

#include <gtest/gtest.h>

#include "boot/x86_boot.h"
#include "unit/boot/guest_bytes.h"

namespace boot {
namespace {

using boot_test::u32;
using boot_test::u64;
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

static_assert(offsetof(HvmStartInfo, modlist_paddr) == 0x10);
static_assert(offsetof(HvmStartInfo, rsdp_paddr) == 0x20);
static_assert(offsetof(HvmStartInfo, memmap_paddr) == 0x28);
static_assert(offsetof(HvmStartInfo, memmap_entries) == 0x30);

loader::LoadedKernel pvh_kernel() {
  loader::LoadedKernel k;
  k.format = loader::KernelFormat::kElf;
  k.load_address = loader::GuestAddress(0x1000000);
  k.load_size = 0x2000000;
  k.entry = loader::GuestAddress(0x1000000);
  k.pvh_entry = loader::GuestAddress(0x1000180);
  return k;
}

TEST(Pvh, StartInfoAndMemmapBytes) {
  MemoryMap map;
  auto mem = boot_test::x86_memory(5 * kGiB, &map);
  X86BootConfig c;
  c.kernel = pvh_kernel();
  c.protocol = X86BootProtocol::kPvh;
  c.cmdline = "console=ttyS0";
  c.initrd = loader::InitrdPlacement{loader::GuestAddress(0x8000000), 0x123000};
  c.memory_map = map;
  auto setup = setup_x86_boot(mem, c);
  ASSERT_TRUE(setup.has_value()) << setup.error().message;

  const uint64_t si = 0x6000;
  EXPECT_EQ(u32(mem, si + 0x00), 0x336ec578u);  // magic
  EXPECT_EQ(u32(mem, si + 0x04), 1u);           // version
  EXPECT_EQ(u32(mem, si + 0x08), 0u);           // flags
  EXPECT_EQ(u32(mem, si + 0x0c), 1u);           // nr_modules
  const uint64_t modlist = u64(mem, si + 0x10);
  EXPECT_EQ(u64(mem, si + 0x18), 0x20000u);     // cmdline_paddr
  EXPECT_EQ(u64(mem, si + 0x20), setup->rsdp_addr);
  EXPECT_NE(setup->rsdp_addr, 0u);
  const uint64_t memmap = u64(mem, si + 0x28);
  ASSERT_EQ(u32(mem, si + 0x30), 4u);           // memmap_entries for 5 GiB

  EXPECT_EQ(u64(mem, modlist + 0x00), 0x8000000u);  // paddr
  EXPECT_EQ(u64(mem, modlist + 0x08), 0x123000u);   // size
  EXPECT_EQ(u64(mem, modlist + 0x10), 0u);          // cmdline_paddr

  struct E { uint64_t addr, size; uint32_t type; };
  const E want[] = {{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, 0xC0000000 - 0x100000, 1},
                    {0x100000000, 0x80000000, 1}};
  for (size_t i = 0; i < 4; ++i) {
    uint64_t e = memmap + 24 * i;
    EXPECT_EQ(u64(mem, e), want[i].addr) << i;
    EXPECT_EQ(u64(mem, e + 8), want[i].size) << i;
    EXPECT_EQ(u32(mem, e + 16), want[i].type) << i;
    EXPECT_EQ(u32(mem, e + 20), 0u) << i;
  }
  // Entry state points at start_info.
  EXPECT_EQ(setup->entry.regs.rbx, si);
  EXPECT_EQ(setup->entry.regs.rip, 0x1000180u);
}

TEST(Pvh, NoInitrdMeansNoModules) {
  MemoryMap map;
  auto mem = boot_test::x86_memory(128 * kMiB, &map);
  X86BootConfig c;
  c.kernel = pvh_kernel();
  c.protocol = X86BootProtocol::kPvh;
  c.memory_map = map;
  ASSERT_TRUE(setup_x86_boot(mem, c).has_value());
  EXPECT_EQ(u32(mem, 0x600c), 0u);
  EXPECT_EQ(u64(mem, 0x6010), 0u);
}

TEST(Pvh, MemmapLargerThanItsRoomIsAnError) {
  auto mem = boot_test::x86_memory(128 * kMiB);
  std::vector<E820Entry> e820(5, E820Entry{0, 0x1000, 1});
  PvhConfig pc;
  pc.start_info_addr = 0x6000;
  pc.memmap_addr = 0x6080;
  pc.memmap_capacity = 4;
  pc.e820 = e820;
  auto r = write_pvh_start_info(mem, pc);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(r.error().message.find("0x6080"), std::string::npos);
}

TEST(Pvh, StartInfoOutsideGuestMemoryIsAnError) {
  auto mem = boot_test::x86_memory(128 * kMiB);
  PvhConfig pc;
  pc.start_info_addr = 0x10000000;  // 256 MiB: past the 128 MiB of RAM
  auto r = write_pvh_start_info(mem, pc);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("start_info"), std::string::npos);
}

}  // namespace
}  // namespace boot

namespace boot {
namespace {

TEST(Pvh, MemmapAddressWrapIsAnError) {
  auto mem = boot_test::x86_memory(16ull << 20);
  std::vector<E820Entry> e820(2, E820Entry{0, 0x1000, 1});
  PvhConfig pc;
  pc.start_info_addr = 0x6000;
  pc.memmap_addr = ~0ull - 8;
  pc.memmap_capacity = 128;
  pc.e820 = e820;
  auto r = write_pvh_start_info(mem, pc);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOverflow);
}

}  // namespace
}  // namespace boot
