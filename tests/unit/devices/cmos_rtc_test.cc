#include "devices/cmos_rtc.h"

#include <gtest/gtest.h>

namespace devices {
namespace {

bool is_bcd(uint8_t v) { return (v & 0x0f) <= 9 && (v >> 4) <= 9; }
unsigned bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0x0f); }

class CmosRtcTest : public ::testing::Test {
 protected:
  // 2024-02-29 23:59:58 UTC, a Thursday: 1709251198 (from `date -u -d ... +%s`).
  std::time_t t = 1709251198;
  CmosRtc rtc{[this] { return t; }};

  uint8_t reg(uint8_t index) {
    std::byte i{index};
    rtc.write(0, std::span(&i, 1));
    std::byte v{};
    rtc.read(1, std::span(&v, 1));
    return std::to_integer<uint8_t>(v);
  }
  void set(uint8_t index, uint8_t value) {
    std::byte i{index}, v{value};
    rtc.write(0, std::span(&i, 1));
    rtc.write(1, std::span(&v, 1));
  }
};

TEST_F(CmosRtcTest, TimeAndDateAreValidBcdOfTheHostClock) {
  for (uint8_t r : {CmosRtc::kSeconds, CmosRtc::kMinutes, CmosRtc::kHours, CmosRtc::kWeekday,
                    CmosRtc::kDayOfMonth, CmosRtc::kMonth, CmosRtc::kYear, CmosRtc::kCentury}) {
    EXPECT_TRUE(is_bcd(reg(r))) << "register " << int(r) << " = " << int(reg(r));
  }
  EXPECT_EQ(bcd(reg(CmosRtc::kSeconds)), 58u);
  EXPECT_EQ(bcd(reg(CmosRtc::kMinutes)), 59u);
  EXPECT_EQ(bcd(reg(CmosRtc::kHours)), 23u);
  EXPECT_EQ(bcd(reg(CmosRtc::kDayOfMonth)), 29u);
  EXPECT_EQ(bcd(reg(CmosRtc::kMonth)), 2u);
  EXPECT_EQ(bcd(reg(CmosRtc::kYear)), 24u);
  EXPECT_EQ(bcd(reg(CmosRtc::kCentury)), 20u);
  EXPECT_EQ(bcd(reg(CmosRtc::kWeekday)), 5u) << "Thursday is day 5 (Sunday = 1)";
}

TEST_F(CmosRtcTest, StatusRegistersDescribeAnIdleHealthyClock) {
  EXPECT_EQ(reg(CmosRtc::kStatusA) & CmosRtc::kStatusAUpdateInProgress, 0);
  EXPECT_EQ(reg(CmosRtc::kStatusA), 0x26);
  uint8_t b = reg(CmosRtc::kStatusB);
  EXPECT_EQ(b & CmosRtc::kStatusB24Hour, CmosRtc::kStatusB24Hour);
  EXPECT_EQ(b & CmosRtc::kStatusBBinary, 0) << "BCD, as the values read";
  EXPECT_EQ(reg(CmosRtc::kStatusC), 0);
  EXPECT_EQ(reg(CmosRtc::kStatusD), CmosRtc::kStatusDValidRam);
}

TEST_F(CmosRtcTest, BinaryModeChangesEncoding) {
  set(CmosRtc::kStatusB, CmosRtc::kStatusB24Hour | CmosRtc::kStatusBBinary);
  EXPECT_EQ(reg(CmosRtc::kSeconds), 58);
  EXPECT_EQ(reg(CmosRtc::kHours), 23);
}

TEST_F(CmosRtcTest, TwelveHourModeSetsPmBit) {
  set(CmosRtc::kStatusB, 0);  // 12-hour, BCD
  EXPECT_EQ(reg(CmosRtc::kHours), 0x80 | 0x11);
}

TEST_F(CmosRtcTest, TimeFollowsTheClock) {
  t += 3;  // 2024-03-01 00:00:01
  EXPECT_EQ(reg(CmosRtc::kDayOfMonth), 0x01);
  EXPECT_EQ(reg(CmosRtc::kMonth), 0x03);
  EXPECT_EQ(reg(CmosRtc::kSeconds), 0x01);
}

TEST_F(CmosRtcTest, GuestSetTimeBecomesAnOffset) {
  set(CmosRtc::kStatusB, CmosRtc::kStatusB24Hour | CmosRtc::kStatusBSet);
  set(CmosRtc::kHours, 0x10);
  EXPECT_EQ(reg(CmosRtc::kHours), 0x10) << "SET shows the written value";
  set(CmosRtc::kStatusB, CmosRtc::kStatusB24Hour);
  EXPECT_EQ(reg(CmosRtc::kHours), 0x10);
  EXPECT_EQ(reg(CmosRtc::kMinutes), 0x59);
  t += 60;
  EXPECT_EQ(reg(CmosRtc::kHours), 0x11);
}

TEST_F(CmosRtcTest, CmosRamHoldsValuesAndStatusCDAreReadOnly) {
  set(0x40, 0x12);
  EXPECT_EQ(reg(0x40), 0x12);
  set(CmosRtc::kStatusD, 0x00);
  EXPECT_EQ(reg(CmosRtc::kStatusD), CmosRtc::kStatusDValidRam);
}

TEST_F(CmosRtcTest, IndexBitSevenIsTheNmiMask) {
  std::byte i{0x80 | CmosRtc::kStatusD};
  rtc.write(0, std::span(&i, 1));
  EXPECT_TRUE(rtc.nmi_disabled());
  std::byte v{};
  rtc.read(1, std::span(&v, 1));
  EXPECT_EQ(v, std::byte{CmosRtc::kStatusDValidRam});
  std::byte idx{};
  rtc.read(0, std::span(&idx, 1));
  EXPECT_EQ(idx, std::byte{0xff}) << "index port is write-only";
}

}  // namespace
}  // namespace devices
