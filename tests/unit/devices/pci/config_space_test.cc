#include "devices/pci/config_space.h"

#include <gtest/gtest.h>

namespace devices::pci {
namespace {

ConfigSpace with_identity() {
  ConfigSpace cs;
  Identity id;
  id.vendor_id = 0x1234;
  id.device_id = 0xabcd;
  id.subsystem_vendor_id = 0x1af4;
  id.subsystem_id = 0x1100;
  id.revision = 7;
  id.class_code = 0x020000;
  cs.set_identity(id);
  return cs;
}

TEST(ConfigSpace, Memory32BarReadsBackItsSizeMaskAndFlags) {
  ConfigSpace cs;
  ASSERT_TRUE(cs.set_bar(0, BarSpec{BarKind::kMemory32, 0x4000, true}));
  EXPECT_EQ(cs.read(kBar0, 4), 0x8u);  // prefetchable, 32-bit, address 0
  cs.write(kBar0, 4, 0xffffffff);
  EXPECT_EQ(cs.read(kBar0, 4), 0xffffc008u);
  cs.write(kBar0, 4, 0xfebc1234);
  EXPECT_EQ(cs.read(kBar0, 4), 0xfebc0008u);
  EXPECT_EQ(cs.bar_address(0), 0xfebc0000u);
}

TEST(ConfigSpace, Memory64BarSizesAcrossBothDwords) {
  ConfigSpace cs;
  ASSERT_TRUE(cs.set_bar(2, BarSpec{BarKind::kMemory64, 8ull << 30, true}));
  cs.write(kBar0 + 8, 4, 0xffffffff);
  cs.write(kBar0 + 12, 4, 0xffffffff);
  EXPECT_EQ(cs.read(kBar0 + 8, 4), 0x0000000cu);  // 64-bit + prefetchable, no low address bits
  EXPECT_EQ(cs.read(kBar0 + 12, 4), 0xfffffffeu);
  // Linux's size computation: ~(mask & ~0xf) + 1 over the 64-bit value.
  const uint64_t mask = uint64_t{cs.read(kBar0 + 12, 4)} << 32 | (cs.read(kBar0 + 8, 4) & ~0xfu);
  EXPECT_EQ(~mask + 1, 8ull << 30);
  cs.write(kBar0 + 8, 4, 0);
  cs.write(kBar0 + 12, 4, 0x00000012);
  EXPECT_EQ(cs.bar_address(2), 0x12'0000'0000ull);
  EXPECT_FALSE(cs.bar(3).has_value());  // the upper half is not a BAR of its own
}

TEST(ConfigSpace, IoBarSizesAndKeepsItsSpaceBit) {
  ConfigSpace cs;
  ASSERT_TRUE(cs.set_bar(1, BarSpec{BarKind::kIo, 0x20, false}));
  cs.write(kBar0 + 4, 4, 0xffffffff);
  EXPECT_EQ(cs.read(kBar0 + 4, 4), 0xffffffe1u);
  cs.write(kBar0 + 4, 4, 0xc040);
  EXPECT_EQ(cs.bar_address(1), 0xc040u);
}

TEST(ConfigSpace, UndeclaredBarsAndRomReadZeroAfterSizing) {
  ConfigSpace cs;
  ASSERT_TRUE(cs.set_bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
  for (uint32_t off : {kBar0 + 4, kBar0 + 20, kExpansionRom}) {
    cs.write(off, 4, 0xffffffff);
    EXPECT_EQ(cs.read(off, 4), 0u) << off;
  }
}

TEST(ConfigSpace, RejectsImpossibleBars) {
  ConfigSpace cs;
  EXPECT_FALSE(cs.set_bar(0, BarSpec{BarKind::kMemory32, 0x3000, false}));    // not a power of two
  EXPECT_FALSE(cs.set_bar(0, BarSpec{BarKind::kMemory32, 8, false}));         // below 16 bytes
  EXPECT_FALSE(cs.set_bar(0, BarSpec{BarKind::kIo, 0x1000, false}));          // IO above 256
  EXPECT_FALSE(cs.set_bar(5, BarSpec{BarKind::kMemory64, 0x1000, false}));    // no upper half
  EXPECT_FALSE(cs.set_bar(6, BarSpec{BarKind::kMemory32, 0x1000, false}));
  ASSERT_TRUE(cs.set_bar(0, BarSpec{BarKind::kMemory64, 0x1000, false}));
  EXPECT_FALSE(cs.set_bar(1, BarSpec{BarKind::kMemory32, 0x1000, false}));    // upper half of BAR 0
  EXPECT_FALSE(cs.set_bar(0, BarSpec{BarKind::kMemory32, 0x1000, false}));
}

TEST(ConfigSpace, IdentityIsReadOnly) {
  ConfigSpace cs = with_identity();
  cs.write(kVendorId, 4, 0);
  cs.write(kRevisionId, 4, 0);
  cs.write(kSubsystemVendorId, 4, 0);
  cs.write(kHeaderType, 1, 0x80);
  EXPECT_EQ(cs.read(kVendorId, 4), 0xabcd1234u);
  EXPECT_EQ(cs.read(kRevisionId, 4), 0x02000007u);
  EXPECT_EQ(cs.read(kSubsystemVendorId, 4), 0x11001af4u);
  EXPECT_EQ(cs.read(kHeaderType, 1), 0u);
}

TEST(ConfigSpace, CommandKeepsOnlyItsDefinedBits) {
  ConfigSpace cs;
  cs.write(kCommand, 2, 0xffff);
  EXPECT_EQ(cs.read(kCommand, 2), kCommandIo | kCommandMemory | kCommandBusMaster | kCommandIntxDisable);
  cs.write(kCommand, 2, kCommandMemory);
  EXPECT_EQ(cs.command(), kCommandMemory);
}

TEST(ConfigSpace, StatusErrorBitsAreWriteOneToClear) {
  ConfigSpace cs;
  cs.set_status_bits(0x8000 | kStatusIntx, true);
  cs.write(kStatus, 2, 0);  // writing 0 clears nothing
  EXPECT_EQ(cs.status(), 0x8000 | kStatusIntx);
  cs.write(kStatus, 2, 0xffff);  // INTx status is read-only
  EXPECT_EQ(cs.status(), kStatusIntx);
}

TEST(ConfigSpace, InterruptLineIsWritablePinIsNot) {
  ConfigSpace cs;
  cs.set_interrupt_pin(2);
  cs.write(kInterruptLine, 2, 0x0b0a);
  EXPECT_EQ(cs.read(kInterruptLine, 1), 0x0au);
  EXPECT_EQ(cs.read(kInterruptPin, 1), 2u);
}

TEST(ConfigSpace, UnalignedAccessesAssembleLittleEndianBytes) {
  ConfigSpace cs = with_identity();
  EXPECT_EQ(cs.read(1, 2), 0xcd12u);
  EXPECT_EQ(cs.read(3, 1), 0xabu);
  EXPECT_EQ(cs.read(1, 4), 0x00abcd12u);  // runs into the command register
  // A dword write at 0x3b spans the line (writable) and pin (read-only).
  cs.set_interrupt_pin(1);
  cs.write(0x3b, 4, 0xffff2200);
  EXPECT_EQ(cs.read(kInterruptLine, 2), 0x0122u);
}

TEST(ConfigSpace, OutOfRangeAndOddSizesReadAllOnesAndWriteNothing) {
  ConfigSpace cs;
  EXPECT_EQ(cs.read(kConfigSpaceSize - 2, 4), 0xffffffffu);
  EXPECT_EQ(cs.read(kConfigSpaceSize, 1), 0xffffffffu);
  EXPECT_EQ(cs.read(0, 3), 0xffffffffu);
  EXPECT_EQ(cs.read(0, 8), 0xffffffffu);
  EXPECT_EQ(cs.read(kConfigSpaceSize - 4, 4), 0u);  // the last dword of the extended space exists
  cs.write(kInterruptLine, 3, 0x55);
  EXPECT_EQ(cs.read(kInterruptLine, 1), 0u);
  cs.write(0xffffffffu, 4, 0x55);  // offset + size wraps
  EXPECT_EQ(cs.read(0x100, 4), 0u);  // no extended capabilities
}

TEST(ConfigSpace, CapabilitiesChainFromThePointer) {
  ConfigSpace cs;
  EXPECT_EQ(cs.status() & kStatusCapabilities, 0);
  auto a = cs.add_capability(kCapIdVendor, 16);
  auto b = cs.add_capability(kCapIdMsix, 12);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, 0x40);
  EXPECT_EQ(*b, 0x50);
  EXPECT_NE(cs.status() & kStatusCapabilities, 0);
  EXPECT_EQ(cs.read(kCapabilitiesPointer, 1), 0x40u);
  EXPECT_EQ(cs.read(0x40, 2), 0x5009u);  // id, next
  EXPECT_EQ(cs.read(0x50, 2), 0x0011u);
  // Capability bytes are read-only unless the device opens them.
  cs.write(0x41, 1, 0);
  EXPECT_EQ(cs.read(0x41, 1), 0x50u);
  // The list lives in the first 256 bytes.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cs.add_capability(kCapIdVendor, 16));
  EXPECT_FALSE(cs.add_capability(kCapIdVendor, 16));
}

}  // namespace
}  // namespace devices::pci
