#include "boot/mptable.h"

#include <gtest/gtest.h>

#include "unit/boot/guest_bytes.h"

namespace boot {
namespace {

using boot_test::u16;
using boot_test::u32;
using boot_test::u8;
constexpr uint64_t kMiB = 1ull << 20;

class MptableCpus : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MptableCpus, ChecksumsAndEntries) {
  const uint32_t cpus = GetParam();
  auto mem = boot_test::x86_memory(64 * kMiB);
  auto layout = write_mptable(mem, 0xF0000, 0x10000, cpus);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;

  // Floating pointer: "_MP_", 16 bytes, spec 1.4, bytes sum to 0.
  auto fp = boot_test::bytes_at(mem, 0xF0000, 16);
  EXPECT_EQ(std::string(fp.begin(), fp.begin() + 4), "_MP_");
  EXPECT_EQ(fp[8], 1);
  EXPECT_EQ(fp[9], 4);
  EXPECT_EQ(boot_test::byte_sum(fp, 16), 0);
  const uint32_t config = u32(mem, 0xF0004);
  EXPECT_EQ(config, 0xF0010u);

  // Configuration table: "PCMP", base length, checksum over base length.
  const uint16_t length = u16(mem, config + 4);
  auto table = boot_test::bytes_at(mem, config, length);
  EXPECT_EQ(std::string(table.begin(), table.begin() + 4), "PCMP");
  EXPECT_EQ(table[6], 4);
  EXPECT_EQ(boot_test::byte_sum(table, length), 0);
  EXPECT_EQ(u32(mem, config + 36), 0xFEE00000u);

  // Walk the entries and count them by type.
  const uint16_t count = u16(mem, config + 34);
  uint32_t processors = 0, buses = 0, ioapics = 0, io_ints = 0, local_ints = 0;
  uint64_t p = config + 44;
  for (uint16_t i = 0; i < count; ++i) {
    uint8_t type = u8(mem, p);
    ASSERT_LE(type, 4) << "entry " << i;
    switch (type) {
      case 0:
        EXPECT_EQ(u8(mem, p + 1), processors) << "APIC id";
        EXPECT_EQ(u8(mem, p + 3), processors == 0 ? 0x03 : 0x01) << "EN/BP flags";
        ++processors;
        p += 20;
        break;
      case 1:
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(table.data() + (p - config) + 2), 6), "ISA   ");
        ++buses;
        p += 8;
        break;
      case 2:
        EXPECT_EQ(u8(mem, p + 1), cpus) << "IOAPIC id after the CPUs";
        EXPECT_EQ(u8(mem, p + 3) & 1, 1);
        EXPECT_EQ(u32(mem, p + 4), 0xFEC00000u);
        ++ioapics;
        p += 8;
        break;
      case 3:
        if (u8(mem, p + 1) == 0 && u8(mem, p + 5) == 0) {
          EXPECT_EQ(u8(mem, p + 7), 2) << "IRQ0 -> pin 2";
        }
        ++io_ints;
        p += 8;
        break;
      case 4:
        EXPECT_EQ(u8(mem, p + 7), u8(mem, p + 1) == 3 ? 0 : 1) << "ExtINT on LINT0, NMI on LINT1";
        ++local_ints;
        p += 8;
        break;
    }
  }
  EXPECT_EQ(p, config + length);
  EXPECT_EQ(processors, cpus);
  EXPECT_EQ(buses, 1u);
  EXPECT_EQ(ioapics, 1u);
  EXPECT_EQ(io_ints, 16u);  // ExtINT on pin 0 + ISA IRQs 0..15 without the cascade IRQ2
  EXPECT_EQ(local_ints, 2u);
  EXPECT_EQ(layout->entry_count, count);
  EXPECT_EQ(layout->size, 16u + length);
}

INSTANTIATE_TEST_SUITE_P(Cpus, MptableCpus, ::testing::Values(1u, 2u, 8u, 254u));

TEST(Mptable, ZeroCpusIsAnError) {
  auto r = build_mptable(0xF0000, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(Mptable, TooManyCpusIsAnError) {
  auto r = build_mptable(0xF0000, 255);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("255"), std::string::npos);
}

TEST(Mptable, TableLargerThanTheAreaIsAnError) {
  auto mem = boot_test::x86_memory(64 * kMiB);
  auto r = write_mptable(mem, 0xF0000, 0x100, 8);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
}

TEST(Mptable, UnalignedOrHighAddressIsAnError) {
  EXPECT_FALSE(build_mptable(0xF0008, 1).has_value());
  EXPECT_FALSE(build_mptable(0xFFFFFFF0, 1).has_value());
  EXPECT_FALSE(build_mptable(0xFFFFFFFFFFFFFFF0ull, 1).has_value());
}

TEST(Mptable, OutsideGuestMemoryIsAnError) {
  auto mem = boot_test::x86_memory(16 * kMiB);
  auto r = write_mptable(mem, 0x2000000, 0x10000, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("MP table"), std::string::npos);
}

}  // namespace
}  // namespace boot

namespace boot {
namespace {

// acpi=off kernels route PCI INTx from the MP table: a PCI bus entry (MP
// bus 0) before the ISA bus and one level/active-low entry per device and pin.
TEST(MptablePci, BusAndInterruptEntriesForEachDevicePin) {
  auto mem = boot_test::x86_memory(64 * kMiB);
  std::vector<MpPciInterrupt> pci{{1, 0, 17}, {3, 0, 19}, {3, 1, 16}};
  auto layout = write_mptable(mem, 0xF0000, 0x10000, 2, pci);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;
  const uint32_t config = boot_test::u32(mem, 0xF0004);
  const uint16_t length = boot_test::u16(mem, config + 4);
  auto table = boot_test::bytes_at(mem, config, length);
  EXPECT_EQ(boot_test::byte_sum(table, length), 0);

  std::vector<std::string> buses;
  std::vector<std::array<uint8_t, 8>> pci_ints;
  uint64_t p = config + 44;
  for (uint16_t i = 0; i < layout->entry_count; ++i) {
    const uint8_t type = boot_test::u8(mem, p);
    if (type == 0) { p += 20; continue; }
    if (type == 1) {
      buses.emplace_back(reinterpret_cast<const char*>(table.data() + (p - config) + 2), 6);
      EXPECT_EQ(boot_test::u8(mem, p + 1), buses.size() - 1) << "bus ids 0 (PCI: Linux matches PCI bus numbers), 1 (ISA)";
    }
    if (type == 3 && boot_test::u8(mem, p + 4) == 0) {
      std::array<uint8_t, 8> e{};
      for (int b = 0; b < 8; ++b) e[b] = boot_test::u8(mem, p + b);
      pci_ints.push_back(e);
    }
    p += 8;
  }
  ASSERT_EQ(buses, (std::vector<std::string>{"PCI   ", "ISA   "}));
  ASSERT_EQ(pci_ints.size(), 3u);
  EXPECT_EQ(pci_ints[0][2], 0x0f) << "level, active low";
  EXPECT_EQ(pci_ints[0][5], 1 << 2 | 0) << "device 1, INTA";
  EXPECT_EQ(pci_ints[0][6], 2) << "the IOAPIC's id follows the 2 CPUs";
  EXPECT_EQ(pci_ints[0][7], 17);
  EXPECT_EQ(pci_ints[2][5], 3 << 2 | 1) << "device 3, INTB";
  EXPECT_EQ(pci_ints[2][7], 16);
}

TEST(MptablePci, NoPciBusWithoutPciInterrupts) {
  auto bytes = build_mptable(0xF0000, 1);
  ASSERT_TRUE(bytes.has_value());
  std::string text(bytes->begin(), bytes->end());
  EXPECT_EQ(text.find("PCI   "), std::string::npos);
}

TEST(MptablePci, RefusesImpossibleDevicesAndPins) {
  std::vector<MpPciInterrupt> bad_device{{32, 0, 16}};
  EXPECT_FALSE(build_mptable(0xF0000, 1, bad_device).has_value());
  std::vector<MpPciInterrupt> bad_pin{{1, 4, 16}};
  auto r = build_mptable(0xF0000, 1, bad_pin);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("pin 4"), std::string::npos);
}

}  // namespace
}  // namespace boot
