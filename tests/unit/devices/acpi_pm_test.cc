#include "devices/acpi_pm.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace devices {
namespace {

// Register values spelled out from the ACPI spec (PM1_CNT: SCI_EN bit 0,
// SLP_TYP bits 10..12, SLP_EN bit 13), not from the device's constants.
constexpr uint16_t kS5Typ = 5;
constexpr uint16_t kSlpTypS5 = kS5Typ << 10;  // 0x1400
constexpr uint16_t kSlpEnBit = 0x2000;

class AcpiPmTest : public ::testing::Test {
 protected:
  AcpiPmTest() : pm(kS5Typ, [this] { ++poweroffs; }) {}

  uint16_t rd16(uint64_t off) {
    std::array<std::byte, 2> b{};
    pm.read(off, b);
    return static_cast<uint16_t>(std::to_integer<uint16_t>(b[0]) | std::to_integer<uint16_t>(b[1]) << 8);
  }
  void wr16(uint64_t off, uint16_t v) {
    std::array<std::byte, 2> b{std::byte(v & 0xff), std::byte(v >> 8)};
    pm.write(off, b);
  }
  void wr8(uint64_t off, uint8_t v) {
    std::byte b{v};
    pm.write(off, std::span(&b, 1));
  }

  int poweroffs = 0;
  AcpiPm pm;
};

TEST_F(AcpiPmTest, WindowIsSixBytesAtTheFadtOffsets) {
  EXPECT_EQ(AcpiPm::kRegisterCount, 6u);  // PM1a_EVT_LEN 4 + PM1a_CNT_LEN 2
  EXPECT_EQ(AcpiPm::kStatusOffset, 0u);
  EXPECT_EQ(AcpiPm::kEnableOffset, 2u);
  EXPECT_EQ(AcpiPm::kControlOffset, 4u);  // 0x604 - 0x600
}

TEST_F(AcpiPmTest, ResetStateHasSciEnAndNothingPending) {
  EXPECT_EQ(rd16(0), 0u);
  EXPECT_EQ(rd16(2), 0u);
  EXPECT_EQ(rd16(4), 0x0001u) << "SCI_EN: always in ACPI mode (SMI_CMD is 0)";
}

TEST_F(AcpiPmTest, SlpEnWithS5TypeRequestsPoweroffOnce) {
  wr16(4, kSlpTypS5 | kSlpEnBit);
  EXPECT_EQ(poweroffs, 1);
  EXPECT_EQ(pm.poweroff_requests(), 1u);
  // SLP_EN is write-only and self-clearing; SLP_TYP is kept; SCI_EN stays.
  EXPECT_EQ(rd16(4), kSlpTypS5 | 0x0001);
}

TEST_F(AcpiPmTest, AcpicaSequenceTypeFirstThenEnable) {
  // ACPICA's acpi_hw_legacy_sleep writes SLP_TYP alone, then SLP_TYP | SLP_EN.
  wr16(4, kSlpTypS5 | 0x0001);
  EXPECT_EQ(poweroffs, 0) << "SLP_TYP without SLP_EN must not power off";
  wr16(4, kSlpTypS5 | kSlpEnBit | 0x0001);
  EXPECT_EQ(poweroffs, 1);
}

TEST_F(AcpiPmTest, SlpEnWithAnotherSleepTypeIsIgnored) {
  wr16(4, static_cast<uint16_t>((3 << 10) | kSlpEnBit));  // S3
  wr16(4, kSlpEnBit);                                     // SLP_TYP 0 (S0)
  EXPECT_EQ(poweroffs, 0);
  EXPECT_EQ(pm.poweroff_requests(), 0u);
  EXPECT_EQ(pm.ignored_sleep_requests(), 2u);
}

TEST_F(AcpiPmTest, HighByteWriteAloneCarriesTypeAndEnable) {
  wr8(5, static_cast<uint8_t>((kSlpTypS5 | kSlpEnBit) >> 8));  // 0x34
  EXPECT_EQ(poweroffs, 1);
}

TEST_F(AcpiPmTest, LowByteWriteKeepsHighByte) {
  wr8(5, static_cast<uint8_t>(kSlpTypS5 >> 8));
  wr8(4, 0x00);
  EXPECT_EQ(rd16(4), kSlpTypS5 | 0x0001) << "SCI_EN cannot be cleared, SLP_TYP survives a low-byte write";
  EXPECT_EQ(poweroffs, 0);
}

TEST_F(AcpiPmTest, DwordWriteSpanningEnableAndControl) {
  std::array<std::byte, 4> b{std::byte{0x20}, std::byte{0x01}, std::byte{0x00}, std::byte{0x34}};
  pm.write(2, b);
  EXPECT_EQ(rd16(2), 0x0120u);
  EXPECT_EQ(poweroffs, 1);
}

TEST_F(AcpiPmTest, EnableRegisterRoundTrips) {
  wr16(2, 0x0301);
  EXPECT_EQ(rd16(2), 0x0301u);
  EXPECT_EQ(rd16(0), 0u) << "enable must not leak into status";
  EXPECT_EQ(rd16(4), 0x0001u) << "enable must not leak into control";
}

TEST_F(AcpiPmTest, StatusIsWriteOneToClear) {
  wr16(0, 0xffff);  // clearing bits that are not set leaves them clear
  EXPECT_EQ(rd16(0), 0u);
  EXPECT_EQ(poweroffs, 0);
}

TEST_F(AcpiPmTest, AccessPastTheWindowReadsOnesAndIsDropped) {
  std::array<std::byte, 4> b{};
  pm.read(4, b);
  EXPECT_EQ(std::to_integer<int>(b[0]), 0x01);
  EXPECT_EQ(std::to_integer<int>(b[1]), 0x00);
  EXPECT_EQ(std::to_integer<int>(b[2]), 0xff);
  EXPECT_EQ(std::to_integer<int>(b[3]), 0xff);
  std::array<std::byte, 2> w{std::byte{0x00}, std::byte{0x34}};
  pm.write(6, w);
  pm.write(~uint64_t{0}, w);  // offset + 1 wraps: must not land on offset 0
  EXPECT_EQ(poweroffs, 0);
  EXPECT_EQ(rd16(0), 0u);
}

TEST(AcpiPm, SleepTypeComesFromTheConstructor) {
  int poweroffs = 0;
  AcpiPm pm(7, [&] { ++poweroffs; });
  std::array<std::byte, 2> s5{std::byte{0x00}, std::byte{0x34}};  // SLP_TYP 5 | SLP_EN
  pm.write(4, s5);
  EXPECT_EQ(poweroffs, 0);
  std::array<std::byte, 2> s7{std::byte{0x00}, std::byte{0x3c}};  // SLP_TYP 7 | SLP_EN
  pm.write(4, s7);
  EXPECT_EQ(poweroffs, 1);
}

TEST(AcpiPm, NoCallbackStillCounts) {
  AcpiPm pm(5, nullptr);
  std::array<std::byte, 2> s5{std::byte{0x00}, std::byte{0x34}};
  pm.write(4, s5);
  EXPECT_EQ(pm.poweroff_requests(), 1u);
}

}  // namespace
}  // namespace devices
