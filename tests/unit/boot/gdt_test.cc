#include "boot/gdt.h"

#include <gtest/gtest.h>

#include "unit/boot/guest_bytes.h"

namespace boot {
namespace {

// Descriptor values as the Intel SDM's bit layout gives them for flat segments.
TEST(Gdt, FlatDescriptorsEncodeToTheKnownValues) {
  EXPECT_EQ(encode_descriptor(code64_segment()), 0x00af9b000000ffffull);
  EXPECT_EQ(encode_descriptor(code32_segment()), 0x00cf9b000000ffffull);
  EXPECT_EQ(encode_descriptor(data_segment()), 0x00cf93000000ffffull);
  EXPECT_EQ(encode_descriptor(tss_segment(0x580, 0x67)), 0x00008b0005800067ull);
}

TEST(Gdt, DecodeInvertsEncode) {
  for (const Segment& s : {code64_segment(), code32_segment(), data_segment(), tss_segment(0x12345678, 0x67)}) {
    Segment d = decode_descriptor(encode_descriptor(s));
    EXPECT_EQ(d.base, s.base);
    EXPECT_EQ(d.limit, s.limit);
    EXPECT_EQ(d.type, s.type);
    EXPECT_EQ(d.present, s.present);
    EXPECT_EQ(d.dpl, s.dpl);
    EXPECT_EQ(d.db, s.db);
    EXPECT_EQ(d.s, s.s);
    EXPECT_EQ(d.l, s.l);
    EXPECT_EQ(d.g, s.g);
    EXPECT_EQ(d.avl, s.avl);
  }
}

TEST(Gdt, SelectorsIndexTheirDescriptors) {
  auto gdt = build_gdt(0x580, 0x67);
  EXPECT_EQ(gdt[0], 0u);
  EXPECT_EQ(gdt[kGdtCode32Selector / 8], encode_descriptor(code32_segment()));
  EXPECT_EQ(gdt[kGdtCode64Selector / 8], encode_descriptor(code64_segment()));
  EXPECT_EQ(gdt[kGdtDataSelector / 8], encode_descriptor(data_segment()));
  EXPECT_EQ(gdt[kGdtTssSelector / 8], encode_descriptor(tss_segment(0x580, 0x67)));
  EXPECT_EQ(kGdtCode64Selector, 0x10);  // boot.rst: __BOOT_CS
  EXPECT_EQ(kGdtDataSelector, 0x18);    // boot.rst: __BOOT_DS
}

TEST(Gdt, HighTssBaseGoesToTheSecondSlot) {
  auto gdt = build_gdt(0x123456789000ull, 0x67);
  EXPECT_EQ(gdt[kGdtTssSelector / 8 + 1], 0x1234u);
  EXPECT_EQ(decode_descriptor(gdt[kGdtTssSelector / 8]).base, 0x56789000u);
}

TEST(Gdt, WrittenToGuestMemory) {
  auto mem = boot_test::x86_memory(16ull << 20);
  ASSERT_TRUE(write_gdt(mem, 0x500, 0x540, 0x580, 0x68).has_value());
  EXPECT_EQ(boot_test::u64(mem, 0x500 + 0x10), 0x00af9b000000ffffull);
  EXPECT_EQ(boot_test::u64(mem, 0x500 + 0x18), 0x00cf93000000ffffull);
  EXPECT_EQ(boot_test::u64(mem, 0x540), 0u);
}

TEST(Gdt, ZeroSizedTssIsAnError) {
  auto mem = boot_test::x86_memory(16ull << 20);
  EXPECT_FALSE(write_gdt(mem, 0x500, 0x540, 0x580, 0).has_value());
}

TEST(Gdt, OutsideMemoryIsAnError) {
  auto mem = boot_test::x86_memory(16ull << 20);
  auto r = write_gdt(mem, 0x2000000, 0x540, 0x580, 0x68);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("GDT"), std::string::npos);
}

}  // namespace
}  // namespace boot
