#include "loader/cmdline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

namespace loader {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

// The error of a call that must fail.
Error expect_error(const Result<void>& r) {
  EXPECT_FALSE(r);
  return r ? Error{} : r.error();
}

TEST(Cmdline, CapacityConstantsFollowTheKernel) {
  EXPECT_EQ(kCmdlineCapacityDefault, 1024u);
  EXPECT_EQ(kCmdlineCapacityAarch64, 2048u);
  EXPECT_EQ(kCmdlineCapacityRiscv64, 1024u);
  EXPECT_EQ(x86_cmdline_capacity(2047), 2048u);
  EXPECT_EQ(x86_cmdline_capacity(0xffffffffu), 0x100000000ull);
  EXPECT_EQ(Cmdline().capacity(), 1024u);
}

TEST(Cmdline, AppendJoinsWithOneSpaceAndTrims) {
  Cmdline c;
  ASSERT_TRUE(c.append("console=ttyS0"));
  ASSERT_TRUE(c.append("  reboot=t  panic=-1 "));
  ASSERT_TRUE(c.append(""));
  ASSERT_TRUE(c.append("   "));
  EXPECT_EQ(c.str(), "console=ttyS0 reboot=t  panic=-1");
}

TEST(Cmdline, AppendAcceptsBalancedQuotes) {
  Cmdline c;
  ASSERT_TRUE(c.append("dyndbg=\"file foo.c +p\" quiet"));
  EXPECT_EQ(c.str(), "dyndbg=\"file foo.c +p\" quiet");
}

TEST(Cmdline, AppendRejectsUnbalancedQuoteNamingPosition) {
  Cmdline c;
  ASSERT_TRUE(c.append("quiet"));
  auto e = expect_error(c.append("a=\"b c"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("\"a=\\\"b c\""));
  EXPECT_THAT(e.message, HasSubstr("never closed at position 2"));
  EXPECT_THAT(e.message, HasSubstr("capacity 1024"));
  EXPECT_EQ(c.str(), "quiet");
}

TEST(Cmdline, AppendRejectsNul) {
  Cmdline c;
  std::string text("ab\0cd", 5);
  auto e = expect_error(c.append(text));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("0x00"));
  EXPECT_THAT(e.message, HasSubstr("position 2"));
  EXPECT_THAT(e.message, HasSubstr("\"ab\\x00cd\""));
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, AppendRejectsNewlineTabAndHighBytes) {
  Cmdline c;
  auto nl = expect_error(c.append("a\nb"));
  EXPECT_EQ(nl.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(nl.message, HasSubstr("0x0a is not printable ASCII"));
  EXPECT_THAT(nl.message, HasSubstr("position 1"));
  auto tab = expect_error(c.append("x\ty"));
  EXPECT_THAT(tab.message, HasSubstr("0x09"));
  auto del = expect_error(c.append("abc\x7f"));
  EXPECT_THAT(del.message, HasSubstr("0x7f"));
  EXPECT_THAT(del.message, HasSubstr("position 3"));
  auto high = expect_error(c.append("\xc3\xa9"));
  EXPECT_THAT(high.message, HasSubstr("0xc3"));
  EXPECT_THAT(high.message, HasSubstr("position 0"));
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, AppendAcceptsTheWholePrintableRange) {
  std::string all;
  for (int ch = 0x20; ch <= 0x7e; ++ch)
    if (ch != '"') all += static_cast<char>(ch);
  Cmdline c;
  ASSERT_TRUE(c.append("x" + all)) << c.str();
  EXPECT_EQ(c.str(), "x" + all);
}

TEST(Cmdline, AppendRejectsEmptyKey) {
  Cmdline c;
  auto e = expect_error(c.append("quiet =value"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("empty key at position 6"));
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, InsertFormatsKeyValue) {
  Cmdline c;
  ASSERT_TRUE(c.insert("console", "ttyS0"));
  ASSERT_TRUE(c.insert("root", ""));
  EXPECT_EQ(c.str(), "console=ttyS0 root=");
}

TEST(Cmdline, InsertQuotesValuesWithSpaces) {
  Cmdline c;
  ASSERT_TRUE(c.insert("dyndbg", "file foo.c +p"));
  EXPECT_EQ(c.str(), "dyndbg=\"file foo.c +p\"");
}

TEST(Cmdline, InsertRejectsEmptyKey) {
  Cmdline c;
  auto e = expect_error(c.insert("", "x"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("key is empty"));
}

TEST(Cmdline, InsertRejectsKeyWithSpace) {
  Cmdline c;
  auto e = expect_error(c.insert("bad key", "x"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("\"bad key\""));
  EXPECT_THAT(e.message, HasSubstr("space at position 3"));
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, InsertRejectsKeyWithEquals) {
  Cmdline c;
  auto e = expect_error(c.insert("a=b", "x"));
  EXPECT_THAT(e.message, HasSubstr("'=' at position 1"));
}

TEST(Cmdline, InsertRejectsKeyWithQuote) {
  Cmdline c;
  auto e = expect_error(c.insert("a\"b", "x"));
  EXPECT_THAT(e.message, HasSubstr("double quote at position 1"));
}

TEST(Cmdline, InsertRejectsNonPrintableKey) {
  Cmdline c;
  auto e = expect_error(c.insert(std::string("k\0", 2), "x"));
  EXPECT_THAT(e.message, HasSubstr("0x00"));
  EXPECT_THAT(e.message, HasSubstr("position 1"));
}

TEST(Cmdline, InsertRejectsSeparatorAsKey) {
  Cmdline c;
  auto e = expect_error(c.insert("--", "x"));
  EXPECT_THAT(e.message, HasSubstr("separator"));
}

TEST(Cmdline, InsertRejectsQuoteInValue) {
  Cmdline c;
  auto e = expect_error(c.insert("k", "a\"b"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("value of k"));
  EXPECT_THAT(e.message, HasSubstr("position 1"));
}

TEST(Cmdline, InsertRejectsNonPrintableValue) {
  Cmdline c;
  auto e = expect_error(c.insert("k", "ab\r"));
  EXPECT_THAT(e.message, HasSubstr("0x0d"));
  EXPECT_THAT(e.message, HasSubstr("position 2"));
}

TEST(Cmdline, CapacityCountsTheNul) {
  Cmdline c(8);
  ASSERT_TRUE(c.append("1234567"));  // 7 bytes + NUL = 8
  EXPECT_EQ(c.str(), "1234567");
  auto e = expect_error(c.append("8"));
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_THAT(e.message, HasSubstr("\"8\""));
  EXPECT_THAT(e.message, HasSubstr("position 8"));
  EXPECT_THAT(e.message, HasSubstr("9 bytes plus NUL"));
  EXPECT_THAT(e.message, HasSubstr("capacity of 8 bytes"));
  EXPECT_EQ(c.str(), "1234567");
}

TEST(Cmdline, OneOverCapacityIsRefused) {
  Cmdline c(8);
  auto e = expect_error(c.append("12345678"));
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, ZeroCapacityHoldsNothing) {
  Cmdline c(0);
  EXPECT_EQ(expect_error(c.append("a")).code, ErrorCode::kTooLarge);
  EXPECT_EQ(expect_error(c.insert("a", "b")).code, ErrorCode::kTooLarge);
}

TEST(Cmdline, InsertTooLargeLeavesLineUnchanged) {
  Cmdline c(16);
  ASSERT_TRUE(c.insert("console", "ttyS0"));
  auto e = expect_error(c.insert("root", "/dev/vda"));
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_THAT(e.message, HasSubstr("\"root=/dev/vda\""));
  EXPECT_THAT(e.message, HasSubstr("position 14"));
  EXPECT_EQ(c.str(), "console=ttyS0");
}

TEST(Cmdline, InitArgsGoAfterSeparator) {
  Cmdline c;
  ASSERT_TRUE(c.insert_init_args("-s single"));
  EXPECT_EQ(c.str(), "-- -s single");
  ASSERT_TRUE(c.append("console=ttyS0"));
  EXPECT_EQ(c.str(), "console=ttyS0 -- -s single");
}

TEST(Cmdline, InitArgsStayAtTheEndWhenParamsAreAddedLater) {
  Cmdline c;
  ASSERT_TRUE(c.append("quiet"));
  ASSERT_TRUE(c.insert_init_args("foo"));
  ASSERT_TRUE(c.insert("console", "ttyS0"));
  ASSERT_TRUE(c.add_virtio_mmio_device(4096, 0xd0000000, 5));
  ASSERT_TRUE(c.insert_init_args("bar"));
  EXPECT_EQ(c.str(), "quiet console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 -- foo bar");
}

TEST(Cmdline, AppendedSeparatorRoutesTheRestToInit) {
  Cmdline c;
  ASSERT_TRUE(c.append("console=ttyS0 -- init1 x=y"));
  ASSERT_TRUE(c.append("quiet -- init2"));
  EXPECT_EQ(c.str(), "console=ttyS0 quiet -- init1 x=y init2");
}

TEST(Cmdline, SeparatorInsideQuotesIsNotASeparator) {
  Cmdline c;
  ASSERT_TRUE(c.append("a=\"x -- y\" b"));
  EXPECT_EQ(c.str(), "a=\"x -- y\" b");
  ASSERT_TRUE(c.append("c--d"));
  EXPECT_EQ(c.str(), "a=\"x -- y\" b c--d");
}

TEST(Cmdline, InitArgsRejectUnbalancedQuotesAndControlBytes) {
  Cmdline c;
  auto q = expect_error(c.insert_init_args("a \"b"));
  EXPECT_EQ(q.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(q.message, HasSubstr("init arguments"));
  EXPECT_THAT(q.message, HasSubstr("position 2"));
  auto nl = expect_error(c.insert_init_args("a\n"));
  EXPECT_THAT(nl.message, HasSubstr("0x0a"));
  EXPECT_EQ(c.str(), "");
}

TEST(Cmdline, InitArgsCountTowardsCapacity) {
  Cmdline c(12);
  ASSERT_TRUE(c.append("quiet"));
  ASSERT_TRUE(c.insert_init_args("ab"));  // "quiet -- ab" = 11 + NUL
  auto e = expect_error(c.insert_init_args("c"));
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_THAT(e.message, HasSubstr("position 11"));
  EXPECT_EQ(c.str(), "quiet -- ab");
}

TEST(Cmdline, VirtioMmioDeviceUsesSizeSuffixes) {
  Cmdline c;
  ASSERT_TRUE(c.add_virtio_mmio_device(0x1000, 0xd0000000, 5));
  ASSERT_TRUE(c.add_virtio_mmio_device(2 * kMiB, 0x10001000, 33, 2));
  ASSERT_TRUE(c.add_virtio_mmio_device(1ull << 30, 0x100000000, 0));
  ASSERT_TRUE(c.add_virtio_mmio_device(0x200, 0xfeb00000, 12));
  EXPECT_EQ(c.str(),
            "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=2M@0x10001000:33:2 "
            "virtio_mmio.device=1G@0x100000000:0 virtio_mmio.device=512@0xfeb00000:12");
}

TEST(Cmdline, VirtioMmioDeviceRejectsZeroSize) {
  Cmdline c;
  auto e = expect_error(c.add_virtio_mmio_device(0, 0xd0000000, 5));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("size is 0"));
  EXPECT_THAT(e.message, HasSubstr("0xd0000000"));
}

TEST(Cmdline, VirtioMmioDeviceRejectsWrappingRange) {
  Cmdline c;
  auto e = expect_error(c.add_virtio_mmio_device(0x2000, ~0ull - 0xfff, 5));
  EXPECT_THAT(e.message, HasSubstr("wraps"));
  EXPECT_TRUE(c.add_virtio_mmio_device(0x1000, ~0ull - 0xfff, 5));
}

TEST(Cmdline, VirtioMmioDeviceRejectsIdBeyondInt) {
  Cmdline c;
  auto e = expect_error(c.add_virtio_mmio_device(0x1000, 0xd0000000, 5, 0x80000000u));
  EXPECT_THAT(e.message, HasSubstr("2147483648"));
  EXPECT_TRUE(c.add_virtio_mmio_device(0x1000, 0xd0000000, 5, 0x7fffffffu));
}

TEST(Cmdline, ErrorQuotesLongTextBriefly) {
  Cmdline c;
  std::string text(5000, 'a');
  text += '\x01';
  auto e = expect_error(c.append(text));
  EXPECT_THAT(e.message, HasSubstr("(5001 bytes)"));
  EXPECT_THAT(e.message, HasSubstr("position 5000"));
  EXPECT_LT(e.message.size(), 400u);
}

GuestMemory make_memory(std::initializer_list<RegionSpec> specs) {
  std::vector<RegionSpec> v(specs);
  auto mem = GuestMemory::create(v);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

TEST(LoadCmdline, WritesTextAndNul) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  ASSERT_TRUE(mem.fill(GuestAddress(0x20000), 64, std::byte{0xaa}));
  Cmdline c;
  ASSERT_TRUE(c.append("console=ttyS0"));
  ASSERT_TRUE(load_cmdline(mem, GuestAddress(0x20000), c));
  std::array<char, 15> out{};
  ASSERT_TRUE(mem.read(GuestAddress(0x20000), std::as_writable_bytes(std::span(out))));
  EXPECT_EQ(std::string(out.data(), 13), "console=ttyS0");
  EXPECT_EQ(out[13], '\0');
  EXPECT_EQ(static_cast<unsigned char>(out[14]), 0xaa);  // nothing past the NUL
}

TEST(LoadCmdline, EmptyLineIsOneNul) {
  auto mem = make_memory({{GuestAddress(0), kMiB}});
  ASSERT_TRUE(mem.fill(GuestAddress(0x100), 1, std::byte{0xaa}));
  ASSERT_TRUE(load_cmdline(mem, GuestAddress(0x100), Cmdline()));
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(0x100)), 0);
}

TEST(LoadCmdline, RefusesWhenTheNulWouldFallOutsideMemory) {
  auto mem = make_memory({{GuestAddress(0), 0x1000}});
  Cmdline c;
  ASSERT_TRUE(c.append("abcd"));
  ASSERT_TRUE(load_cmdline(mem, GuestAddress(0x1000 - 5), c));
  auto r = load_cmdline(mem, GuestAddress(0x1000 - 4), c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(r.error().message, HasSubstr("0xffc"));
  EXPECT_THAT(r.error().message, HasSubstr("5 bytes with NUL"));
}

TEST(LoadCmdline, RefusesAddressInAGap) {
  auto mem = make_memory({{GuestAddress(0), 0x1000}, {GuestAddress(0x3000), 0x1000}});
  Cmdline c;
  ASSERT_TRUE(c.append("x"));
  EXPECT_EQ(load_cmdline(mem, GuestAddress(0x2000), c).error().code, ErrorCode::kOutOfBounds);
  // Spanning two regions is refused too, even when they touch.
  auto adjacent = make_memory({{GuestAddress(0), 0x1000}, {GuestAddress(0x1000), 0x1000}});
  EXPECT_EQ(load_cmdline(adjacent, GuestAddress(0xfff), c).error().code, ErrorCode::kOutOfBounds);
}

}  // namespace
}  // namespace loader
