// setup_aarch64_boot / setup_riscv64_boot end to end on real GuestMemory.
#include <gtest/gtest.h>

#include "boot/setup_aarch64.h"
#include "boot/setup_riscv64.h"
#include "fdt_test_util.h"

namespace boot {
namespace {

using loader::Arch;
using loader::ErrorCode;
using loader::GuestAddress;

constexpr uint64_t kMiB = 1ull << 20;

loader::GuestMemory make_memory(uint64_t size) {
  std::vector<loader::RegionSpec> regions{{GuestAddress(0x8000'0000), size}};
  auto mem = loader::GuestMemory::create(regions);
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

loader::LoadedKernel kernel(Arch arch) {
  loader::LoadedKernel k;
  k.format = arch == Arch::kAarch64 ? loader::KernelFormat::kArm64Image : loader::KernelFormat::kRiscvImage;
  k.arch = arch;
  k.load_address = GuestAddress(0x8020'0000);
  k.load_size = 0x180'0000;
  k.entry = GuestAddress(0x8020'0000);
  return k;
}

const PlacedRange* find(const std::vector<PlacedRange>& layout, const std::string& name) {
  for (const auto& r : layout)
    if (r.name == name) return &r;
  return nullptr;
}

TEST(SetupAarch64, WritesDtbAndReturnsEntryAndLayout) {
  auto mem = make_memory(128 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.cpus = 2;
  c.cmdline = "console=ttyS0";
  auto plan = plan_aarch64_layout(mem, c.kernel);
  ASSERT_TRUE(plan.has_value());
  c.initrd = loader::InitrdPlacement{GuestAddress(plan->initrd_limit.value() - 0x10'0000), 0x10'0000};

  auto s = setup_aarch64_boot(mem, c);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->dtb_address.value(), 0x87e0'0000u);
  EXPECT_EQ(s->entry.pc, 0x8020'0000u);
  EXPECT_EQ(s->entry.x0, 0x87e0'0000u);
  EXPECT_EQ(s->entry.pstate, 0x3c5u);

  std::vector<std::byte> in_guest(s->dtb.size());
  ASSERT_TRUE(mem.read(s->dtb_address, in_guest).has_value());
  EXPECT_EQ(in_guest, s->dtb);
  EXPECT_EQ(fdt_check_full(in_guest.data(), in_guest.size()), 0);
  EXPECT_EQ(fdt_test::prop_cells(in_guest, "/chosen", "linux,initrd-start"),
            (std::vector<uint32_t>{0, 0x87d0'0000}));
  EXPECT_EQ(fdt_test::prop_cells(in_guest, "/chosen", "linux,initrd-end"), (std::vector<uint32_t>{0, 0x87e0'0000}));
  EXPECT_EQ(fdt_test::prop_cells(in_guest, "/memory@80000000", "reg"),
            (std::vector<uint32_t>{0, 0x8000'0000, 0, 128 * kMiB}));
  EXPECT_EQ(fdt_test::subnodes(in_guest, "/cpus").size(), 2u);

  const PlacedRange* k = find(s->layout, "kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->address.value(), 0x8020'0000u);
  EXPECT_EQ(k->size, 0x180'0000u);
  const PlacedRange* d = find(s->layout, "device tree");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->address.value(), 0x87e0'0000u);
  EXPECT_EQ(d->size, s->dtb.size());
  ASSERT_NE(find(s->layout, "initrd"), nullptr);
  ASSERT_NE(find(s->layout, "GICv3 redistributors"), nullptr);
  EXPECT_EQ(find(s->layout, "GICv3 redistributors")->size, 0x4'0000u);
  for (size_t i = 1; i < s->layout.size(); ++i) EXPECT_LE(s->layout[i - 1].address, s->layout[i].address);
}

TEST(SetupAarch64, GicV2LayoutNamesCpuInterface) {
  auto mem = make_memory(64 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.gic = GicVersion::kV2;
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_NE(find(s->layout, "GICv2 CPU interface"), nullptr);
  EXPECT_EQ(find(s->layout, "GICv2 CPU interface")->address.value(), 0x0801'0000u);
}

TEST(SetupAarch64, RejectsWrongArchKernel) {
  auto mem = make_memory(64 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kRiscv64);
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kWrongArch);
}

TEST(SetupAarch64, RejectsInitrdOverlappingDtbSlot) {
  auto mem = make_memory(64 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.initrd = loader::InitrdPlacement{GuestAddress(0x83e0'0000), 0x1000};  // inside the top 2 MiB
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kOutOfBounds);
}

TEST(SetupAarch64, RejectsMemoryTooSmallForKernelAndDtb) {
  auto mem = make_memory(16 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.kernel.load_size = 14 * kMiB;  // 0x8020_0000 + 14 MiB reaches into the slot at +14 MiB
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kOutOfBounds);
}

TEST(SetupAarch64, RejectsKernelOutsideGuestMemory) {
  auto mem = make_memory(16 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.kernel.load_address = GuestAddress(0x4000'0000);
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kOutOfBounds);
}

TEST(SetupAarch64, PassesDtbErrorsThrough) {
  auto mem = make_memory(64 * kMiB);
  Aarch64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  c.cpus = 0;
  auto s = setup_aarch64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST(SetupRiscv64, WritesDtbAndReturnsEntryAndLayout) {
  auto mem = make_memory(256 * kMiB);
  Riscv64BootConfig c;
  c.kernel = kernel(Arch::kRiscv64);
  c.cpus = 4;
  c.cmdline = "console=ttyS0";
  c.initrd = loader::InitrdPlacement{GuestAddress(0x8f00'0000), 0x2000};
  auto s = setup_riscv64_boot(mem, c);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->dtb_address.value(), 0x8fe0'0000u);
  EXPECT_EQ(s->entry.pc, 0x8020'0000u);
  EXPECT_EQ(s->entry.a0, 0u);
  EXPECT_EQ(s->entry.a1, 0x8fe0'0000u);
  EXPECT_EQ(s->entry.satp, 0u);
  std::vector<std::byte> in_guest(s->dtb.size());
  ASSERT_TRUE(mem.read(s->dtb_address, in_guest).has_value());
  EXPECT_EQ(in_guest, s->dtb);
  EXPECT_EQ(fdt_test::subnodes(in_guest, "/cpus").size(), 4u);
  EXPECT_EQ(fdt_test::prop_cells(in_guest, "/chosen", "linux,initrd-end"), (std::vector<uint32_t>{0, 0x8f00'2000}));
  EXPECT_EQ(find(s->layout, "PLIC"), nullptr) << "the PLIC is a platform device, listed by the VMM";
  ASSERT_NE(find(s->layout, "initrd"), nullptr);
  for (size_t i = 1; i < s->layout.size(); ++i) EXPECT_LE(s->layout[i - 1].address, s->layout[i].address);
}

TEST(SetupRiscv64, AiaLayout) {
  auto mem = make_memory(64 * kMiB);
  Riscv64BootConfig c;
  c.kernel = kernel(Arch::kRiscv64);
  c.cpus = 2;
  c.irqchip = RiscvInterruptController::kAia;
  auto s = setup_riscv64_boot(mem, c);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  ASSERT_NE(find(s->layout, "IMSIC (S-level)"), nullptr);
  EXPECT_EQ(find(s->layout, "IMSIC (S-level)")->size, 0x2000u);
  EXPECT_EQ(find(s->layout, "PLIC"), nullptr);
}

TEST(SetupRiscv64, RejectsWrongArchAndBadInitrd) {
  auto mem = make_memory(64 * kMiB);
  Riscv64BootConfig c;
  c.kernel = kernel(Arch::kAarch64);
  auto wrong = setup_riscv64_boot(mem, c);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::kWrongArch);
  c.kernel = kernel(Arch::kRiscv64);
  c.initrd = loader::InitrdPlacement{GuestAddress(0x8030'0000), 0x1000};  // on top of the kernel
  auto overlap = setup_riscv64_boot(mem, c);
  ASSERT_FALSE(overlap.has_value());
  EXPECT_EQ(overlap.error().code, ErrorCode::kOutOfBounds);
}

TEST(SetupRiscv64, RejectsLongCmdline) {
  auto mem = make_memory(64 * kMiB);
  Riscv64BootConfig c;
  c.kernel = kernel(Arch::kRiscv64);
  c.cmdline.assign(1024, 'z');
  auto s = setup_riscv64_boot(mem, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace boot
