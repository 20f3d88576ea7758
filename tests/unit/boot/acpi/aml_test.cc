#include "boot/acpi/aml.h"

#include <gtest/gtest.h>

namespace boot::aml {
namespace {

TEST(Aml, IntegersUseTheSmallestEncoding) {
  EXPECT_EQ(integer(0), (Bytes{0x00}));
  EXPECT_EQ(integer(1), (Bytes{0x01}));
  EXPECT_EQ(integer(0x0f), (Bytes{0x0a, 0x0f}));
  EXPECT_EQ(integer(0x3f8), (Bytes{0x0b, 0xf8, 0x03}));
  EXPECT_EQ(integer(0x12345678), (Bytes{0x0c, 0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(integer(0x100000000ull), (Bytes{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(Aml, EisaIdPnp0501) {
  // PNP0501 compresses to 0x0105D041 (ACPI spec, EISAID macro).
  EXPECT_EQ(eisa_id("PNP0501"), (Bytes{0x0c, 0x41, 0xd0, 0x05, 0x01}));
  // PNP0303 -> 0x0303D041
  EXPECT_EQ(eisa_id("PNP0303"), (Bytes{0x0c, 0x41, 0xd0, 0x03, 0x03}));
}

TEST(Aml, PkgLengthEncodings) {
  EXPECT_EQ(pkg_length(0), (Bytes{0x01}));
  EXPECT_EQ(pkg_length(0x3e), (Bytes{0x3f}));
  // 0x3f bytes of body + 2 bytes of PkgLength = 0x41: lead 0x41 (1 extra byte, low nibble 1), then 0x04.
  EXPECT_EQ(pkg_length(0x3f), (Bytes{0x41, 0x04}));
  // 0xffd + 2 = 0xfff still fits one extra byte; 0x1000 + 3 = 0x1003 needs two.
  EXPECT_EQ(pkg_length(0xffd), (Bytes{0x40 | 0x0f, 0xff}));
  EXPECT_EQ(pkg_length(0x1000), (Bytes{0x80 | 0x03, 0x00, 0x01}));
}

TEST(Aml, NameAndStringAndSeg) {
  EXPECT_EQ(name_seg("_S5"), (Bytes{'_', 'S', '5', '_'}));
  EXPECT_EQ(string("ab"), (Bytes{0x0d, 'a', 'b', 0}));
  EXPECT_EQ(name("_UID", integer(1)), (Bytes{0x08, '_', 'U', 'I', 'D', 0x01}));
  EXPECT_EQ(name("\\_S5_", integer(0)), (Bytes{0x08, 0x5c, '_', 'S', '5', '_', 0x00}));
}

TEST(Aml, ResourceTemplateIoAndIrq) {
  Bytes rt = resource_template({io_port(0x3f8, 0x3f8, 8, 8), irq_no_flags(1u << 4)});
  // Buffer op, PkgLength, size (ByteConst 13), then the descriptors and the end tag.
  Bytes want{0x11, 0x10, 0x0a, 13, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x08, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00};
  EXPECT_EQ(rt, want);
}

TEST(Aml, Memory32FixedAndExtendedInterrupt) {
  EXPECT_EQ(memory32_fixed(0xd0000000, 0x200),
            (Bytes{0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00}));
  EXPECT_EQ(memory32_fixed(0x1000, 0x10, false)[3], 0x00) << "read-only";
  // Consumer, level, active high, exclusive; one GSI.
  EXPECT_EQ(extended_interrupt(21, true), (Bytes{0x89, 0x06, 0x00, 0x01, 0x01, 21, 0, 0, 0}));
  EXPECT_EQ(extended_interrupt(5, false)[3], 0x03) << "edge sets bit 1";
}

TEST(Aml, BridgeAddressSpaceDescriptors) {
  // WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1)
  EXPECT_EQ(word_bus_number(0, 0),
            (Bytes{0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  Bytes d = dword_memory(0xc0000000, 0x20000000, false);
  ASSERT_EQ(d.size(), 3u + 0x17u);
  EXPECT_EQ(d[0], 0x87);
  EXPECT_EQ(d[3], 0x00) << "memory range";
  EXPECT_EQ(d[5], 0x01) << "read-write, non-cacheable";
  auto le32 = [&](size_t at) { return uint32_t{d[at]} | uint32_t{d[at + 1]} << 8 | uint32_t{d[at + 2]} << 16 | uint32_t{d[at + 3]} << 24; };
  EXPECT_EQ(le32(10), 0xc0000000u) << "min";
  EXPECT_EQ(le32(14), 0xdfffffffu) << "max";
  EXPECT_EQ(le32(22), 0x20000000u) << "length";
  Bytes q = qword_memory(0x100000000ull, 0x400000000ull, true);
  ASSERT_EQ(q.size(), 3u + 0x2bu);
  EXPECT_EQ(q[0], 0x8a);
  EXPECT_EQ(q[5], 0x07) << "read-write, prefetchable";
  uint64_t max = 0;
  for (int i = 7; i >= 0; --i) max = max << 8 | q[22 + i];
  EXPECT_EQ(max, 0x4ffffffffull);
}

TEST(Aml, DeviceAndScopeWrapTheirBodies) {
  Bytes dev = device("COM1", {name("_UID", integer(1))});
  Bytes want{0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x01};
  EXPECT_EQ(dev, want);
  Bytes sc = scope("\\_SB_", {});
  EXPECT_EQ(sc, (Bytes{0x10, 0x06, 0x5c, '_', 'S', 'B', '_'}));
  Bytes pkg = package({integer(5), integer(0)});
  EXPECT_EQ(pkg, (Bytes{0x12, 0x05, 0x02, 0x0a, 0x05, 0x00}));
  Bytes m = method_return("_STA", integer(0x0f));
  EXPECT_EQ(m, (Bytes{0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f}));
}

}  // namespace
}  // namespace boot::aml
