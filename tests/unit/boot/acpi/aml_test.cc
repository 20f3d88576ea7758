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
