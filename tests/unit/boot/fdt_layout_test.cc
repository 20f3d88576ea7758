#include "boot/fdt_layout.h"

#include <gtest/gtest.h>

#include "boot/fdt_writer.h"

namespace boot {
namespace {

using loader::Arch;
using loader::ErrorCode;
using loader::GuestAddress;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

TEST(FdtLayout, TopTwoMegabyteBlockAndInitrdWindow) {
  RamRange ram{GuestAddress(0x8000'0000), 128 * kMiB};
  auto l = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x8020'0000), 0x200'0000);
  ASSERT_TRUE(l.has_value()) << l.error().message;
  EXPECT_EQ(l->dtb_slot.value(), 0x87e0'0000u);
  EXPECT_EQ(l->initrd_lowest.value(), 0x8220'0000u);
  EXPECT_EQ(l->initrd_limit.value(), 0x87e0'0000u);
}

TEST(FdtLayout, RamEndNotTwoMegabyteAligned) {
  // 129 MiB: the last whole 2 MiB block below the end starts at +126 MiB.
  RamRange ram{GuestAddress(0x8000'0000), 129 * kMiB};
  auto l = plan_fdt_layout(Arch::kRiscv64, ram, GuestAddress(0x8020'0000), kMiB);
  ASSERT_TRUE(l.has_value()) << l.error().message;
  EXPECT_EQ(l->dtb_slot.value(), 0x87e0'0000u);
  EXPECT_LE(l->dtb_slot.value() + kFdtMaxSize, 0x8000'0000u + 129 * kMiB);
}

TEST(FdtLayout, KernelEndRoundsUpToPage) {
  RamRange ram{GuestAddress(0x8000'0000), 64 * kMiB};
  auto l = plan_fdt_layout(Arch::kRiscv64, ram, GuestAddress(0x8020'0000), 0x1234);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->initrd_lowest.value(), 0x8020'2000u);
}

TEST(FdtLayout, Arm64InitrdStaysInThirtyTwoGigabyteWindow) {
  RamRange ram{GuestAddress(0x8000'0000), 64 * kGiB};
  auto arm = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x8020'0000), 0x200'0000);
  ASSERT_TRUE(arm.has_value());
  // Kernel at 2 GiB + 2 MiB: the 1 GiB-aligned window starts at 2 GiB, so
  // the initrd must end by 34 GiB although RAM runs to 66 GiB.
  EXPECT_EQ(arm->initrd_limit.value(), 34 * kGiB);
  EXPECT_EQ(arm->dtb_slot.value(), 0x8000'0000u + 64 * kGiB - 2 * kMiB);
  auto rv = plan_fdt_layout(Arch::kRiscv64, ram, GuestAddress(0x8020'0000), 0x200'0000);
  ASSERT_TRUE(rv.has_value());
  EXPECT_EQ(rv->initrd_limit, rv->dtb_slot);
}

TEST(FdtLayout, RejectsRamSmallerThanSlot) {
  auto l = plan_fdt_layout(Arch::kAarch64, {GuestAddress(0x8000'0000), kMiB}, GuestAddress(0x8000'0000), 0);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code, ErrorCode::kOutOfBounds);
}

TEST(FdtLayout, RejectsKernelReachingIntoSlot) {
  RamRange ram{GuestAddress(0x8000'0000), 32 * kMiB};
  auto ok = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x8020'0000), 28 * kMiB);
  EXPECT_TRUE(ok.has_value());
  auto l = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x8020'0000), 28 * kMiB + 1);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code, ErrorCode::kOutOfBounds);
  EXPECT_NE(l.error().message.find("too small"), std::string::npos) << l.error().message;
}

TEST(FdtLayout, RejectsKernelOutsideRam) {
  RamRange ram{GuestAddress(0x8000'0000), 64 * kMiB};
  auto below = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x4000'0000), kMiB);
  ASSERT_FALSE(below.has_value());
  EXPECT_EQ(below.error().code, ErrorCode::kOutOfBounds);
  auto above = plan_fdt_layout(Arch::kAarch64, ram, GuestAddress(0x83ff'f000), 0x2000);
  ASSERT_FALSE(above.has_value());
  EXPECT_EQ(above.error().code, ErrorCode::kOutOfBounds);
}

TEST(FdtLayout, RejectsWrapping) {
  auto ram_wraps = plan_fdt_layout(Arch::kAarch64, {GuestAddress(~0ull - 0xfff), 0x2000}, GuestAddress(0), 0);
  ASSERT_FALSE(ram_wraps.has_value());
  EXPECT_EQ(ram_wraps.error().code, ErrorCode::kOverflow);
  auto kernel_wraps =
      plan_fdt_layout(Arch::kAarch64, {GuestAddress(0x8000'0000), 64 * kMiB}, GuestAddress(0x8000'0000), ~0ull);
  ASSERT_FALSE(kernel_wraps.has_value());
  EXPECT_EQ(kernel_wraps.error().code, ErrorCode::kOverflow);
}

TEST(FdtLayout, RejectsX86) {
  auto l = plan_fdt_layout(Arch::kX86_64, {GuestAddress(0), 64 * kMiB}, GuestAddress(0x100000), kMiB);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code, ErrorCode::kWrongArch);
}

TEST(FdtLayout, InitrdOptionsAndCheck) {
  auto l = plan_fdt_layout(Arch::kAarch64, {GuestAddress(0x8000'0000), 128 * kMiB}, GuestAddress(0x8020'0000),
                           0x200'0000);
  ASSERT_TRUE(l.has_value());
  auto o = initrd_options(*l);
  EXPECT_FALSE(o.address.has_value());
  EXPECT_EQ(o.limit.value(), 0x87e0'0000u);
  EXPECT_EQ(o.lowest.value(), 0x8220'0000u);
  EXPECT_EQ(o.alignment, 4096u);

  EXPECT_TRUE(check_initrd_placement(*l, {GuestAddress(0x87d0'0000), 0x10'0000}).has_value());
  EXPECT_TRUE(check_initrd_placement(*l, {GuestAddress(0x8220'0000), 0x1000}).has_value());
  auto over_slot = check_initrd_placement(*l, {GuestAddress(0x87d0'0000), 0x10'0001});
  ASSERT_FALSE(over_slot.has_value());
  EXPECT_EQ(over_slot.error().code, ErrorCode::kOutOfBounds);
  auto on_kernel = check_initrd_placement(*l, {GuestAddress(0x821f'f000), 0x1000});
  ASSERT_FALSE(on_kernel.has_value());
  EXPECT_EQ(on_kernel.error().code, ErrorCode::kOutOfBounds);
  auto wraps = check_initrd_placement(*l, {GuestAddress(~0ull - 0xfff), 0x2000});
  ASSERT_FALSE(wraps.has_value());
  EXPECT_EQ(wraps.error().code, ErrorCode::kOverflow);
}

class WriteDtb : public testing::Test {
 protected:
  void SetUp() override {
    std::vector<loader::RegionSpec> regions{{GuestAddress(0x8000'0000), 8 * kMiB}};
    auto m = loader::GuestMemory::create(regions);
    ASSERT_TRUE(m.has_value());
    mem_.emplace(std::move(*m));
  }
  std::optional<loader::GuestMemory> mem_;
};

TEST_F(WriteDtb, WritesBytes) {
  std::vector<std::byte> dtb(64, std::byte{0x42});
  ASSERT_TRUE(write_dtb(*mem_, GuestAddress(0x8060'0000), dtb).has_value());
  std::vector<std::byte> back(64);
  ASSERT_TRUE(mem_->read(GuestAddress(0x8060'0000), back).has_value());
  EXPECT_EQ(back, dtb);
}

TEST_F(WriteDtb, RejectsMisaligned) {
  std::vector<std::byte> dtb(64);
  auto r = write_dtb(*mem_, GuestAddress(0x8060'0004), dtb);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("8-byte"), std::string::npos);
}

TEST_F(WriteDtb, RejectsOverTwoMegabytes) {
  std::vector<std::byte> dtb(kFdtMaxSize + 8);
  auto r = write_dtb(*mem_, GuestAddress(0x8000'0000), dtb);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
}

TEST_F(WriteDtb, RejectsCrossingTwoMegabyteBoundary) {
  std::vector<std::byte> dtb(16);
  EXPECT_TRUE(write_dtb(*mem_, GuestAddress(0x801f'fff0), dtb).has_value());
  auto r = write_dtb(*mem_, GuestAddress(0x801f'fff8), dtb);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("crosses a 2 MiB boundary"), std::string::npos);
}

TEST_F(WriteDtb, RejectsOutsideMemory) {
  std::vector<std::byte> dtb(16);
  auto r = write_dtb(*mem_, GuestAddress(0x8080'0000), dtb);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
}

TEST(SortByAddress, OrdersAscending) {
  std::vector<PlacedRange> v{{"b", GuestAddress(0x2000), 1}, {"a", GuestAddress(0x1000), 1}, {"c", GuestAddress(0x3000), 1}};
  sort_by_address(v);
  EXPECT_EQ(v[0].name, "a");
  EXPECT_EQ(v[1].name, "b");
  EXPECT_EQ(v[2].name, "c");
}

}  // namespace
}  // namespace boot
