#include "boot/fdt_writer.h"

#include <gtest/gtest.h>

#include "fdt_test_util.h"

namespace boot {
namespace {

using loader::ErrorCode;

TEST(FdtWriter, WritesReadableTree) {
  FdtWriter w;
  ASSERT_TRUE(w.begin_node("").has_value());
  ASSERT_TRUE(w.property_u32("#address-cells", 2).has_value());
  ASSERT_TRUE(w.property_u64("big", 0x0102030405060708ull).has_value());
  ASSERT_TRUE(w.property_strings("list", {"a", "bc"}).has_value());
  ASSERT_TRUE(w.property_empty("flag").has_value());
  ASSERT_TRUE(w.begin_node("child@10").has_value());
  ASSERT_TRUE(w.property_u64s("reg", {0x10, 0x20}).has_value());
  ASSERT_TRUE(w.end_node().has_value());
  ASSERT_TRUE(w.end_node().has_value());
  auto dtb = w.finish();
  ASSERT_TRUE(dtb.has_value()) << dtb.error().message;
  EXPECT_EQ(fdt_check_full(dtb->data(), dtb->size()), 0);
  EXPECT_EQ(fdt_totalsize(dtb->data()), dtb->size());
  EXPECT_EQ(*fdt_test::prop(*dtb, "/", "#address-cells"), (std::vector<uint8_t>{0, 0, 0, 2}));
  EXPECT_EQ(*fdt_test::prop(*dtb, "/", "big"), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(*fdt_test::prop(*dtb, "/", "list"), (std::vector<uint8_t>{'a', 0, 'b', 'c', 0}));
  EXPECT_EQ(fdt_test::prop(*dtb, "/", "flag")->size(), 0u);
  EXPECT_EQ(fdt_test::prop_cells(*dtb, "/child@10", "reg"), (std::vector<uint32_t>{0, 0x10, 0, 0x20}));
}

TEST(FdtWriter, GrowsPastInitialBuffer) {
  FdtWriter w;
  w.begin_node("");
  std::vector<std::byte> big(100'000, std::byte{0xab});
  ASSERT_TRUE(w.property_bytes("blob", big).has_value());
  for (int i = 0; i < 200; ++i) w.property_u32(std::string("p").append(std::to_string(i)), static_cast<uint32_t>(i));
  w.end_node();
  auto dtb = w.finish();
  ASSERT_TRUE(dtb.has_value()) << dtb.error().message;
  EXPECT_GT(dtb->size(), 100'000u);
  EXPECT_EQ(fdt_check_full(dtb->data(), dtb->size()), 0);
  EXPECT_EQ(fdt_test::prop(*dtb, "/", "blob")->size(), 100'000u);
  EXPECT_EQ(fdt_test::prop_cells(*dtb, "/", "p199"), (std::vector<uint32_t>{199}));
}

TEST(FdtWriter, LimitIsTooLargeAndSticky) {
  FdtWriter w(64 * 1024);
  w.begin_node("");
  std::vector<std::byte> big(70'000);
  auto r = w.property_bytes("blob", big);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(r.error().message.find("blob"), std::string::npos);
  // Everything after the first failure reports the same error.
  auto later = w.property_u32("small", 1);
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().message, r.error().message);
  w.end_node();
  auto dtb = w.finish();
  ASSERT_FALSE(dtb.has_value());
  EXPECT_EQ(dtb.error().code, ErrorCode::kTooLarge);
}

TEST(FdtWriter, ManySmallPropertiesHitTheLimitToo) {
  FdtWriter w(8 * 1024);
  w.begin_node("");
  loader::Result<void> r;
  for (int i = 0; i < 2000 && r; ++i) r = w.property_u32(std::string("p").append(std::to_string(i)), 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
}

TEST(FdtWriter, FinishWithOpenNodeFails) {
  FdtWriter w;
  w.begin_node("");
  auto dtb = w.finish();
  ASSERT_FALSE(dtb.has_value());
  EXPECT_EQ(dtb.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(dtb.error().message.find("1 node(s) still open"), std::string::npos);
}

TEST(FdtWriter, EndNodeWithoutBeginFails) {
  FdtWriter w;
  auto r = w.end_node();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(FdtWriter, PropertyOutsideNodeFails) {
  FdtWriter w;
  auto r = w.property_u32("x", 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("outside any node"), std::string::npos);
}

TEST(FdtWriter, NulInNamesOrStringsFails) {
  {
    FdtWriter w;
    auto r = w.begin_node(std::string_view("a\0b", 3));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  {
    FdtWriter w;
    w.begin_node("");
    auto r = w.property_string("s", std::string_view("x\0y", 3));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("\"s\""), std::string::npos);
  }
  {
    FdtWriter w;
    w.begin_node("");
    auto r = w.property_u32(std::string_view("p\0q", 3), 1);
    ASSERT_FALSE(r.has_value());
  }
}

TEST(FdtWriter, WriteAfterFinishFails) {
  FdtWriter w;
  w.begin_node("");
  w.end_node();
  ASSERT_TRUE(w.finish().has_value());
  auto r = w.begin_node("late");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("after finish"), std::string::npos);
}

// The dtc check in the DTB tests is only worth something if dtc does report
// problems in a blob: a node with reg but no unit address must warn.
TEST(FdtWriter, DtcReportsWarningsForABadTree) {
  FdtWriter w;
  w.begin_node("");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  w.begin_node("serial");
  w.property_u64s("reg", {0x1000, 0x100});
  w.end_node();
  w.end_node();
  auto dtb = w.finish();
  ASSERT_TRUE(dtb.has_value());
  auto run = fdt_test::run_dtc(*dtb);
  ASSERT_TRUE(run.found) << "dtc (device-tree-compiler) is not installed; run scripts/setup.sh";
  EXPECT_NE(run.stderr_text.find("unit_address_vs_reg"), std::string::npos) << run.stderr_text;
}

}  // namespace
}  // namespace boot
