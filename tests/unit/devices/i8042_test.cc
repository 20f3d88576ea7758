#include "devices/i8042.h"

#include <gtest/gtest.h>

namespace devices {
namespace {

class I8042Test : public ::testing::Test {
 protected:
  I8042Test() : kbc([this] { ++resets; }) {}
  uint8_t rd(uint64_t off) {
    std::byte b{};
    kbc.read(off, std::span(&b, 1));
    return std::to_integer<uint8_t>(b);
  }
  void wr(uint64_t off, uint8_t v) {
    std::byte b{v};
    kbc.write(off, std::span(&b, 1));
  }
  int resets = 0;
  I8042 kbc;
};

TEST_F(I8042Test, StatusIsIdleWithSystemFlag) {
  uint8_t s = rd(I8042::kCommandOffset);
  EXPECT_EQ(s & I8042::kStatusOutputFull, 0);
  EXPECT_EQ(s & I8042::kStatusInputFull, 0) << "drivers spin while IBF is set";
  EXPECT_EQ(s & I8042::kStatusSystem, I8042::kStatusSystem);
}

TEST_F(I8042Test, PulseResetCommandRequestsReset) {
  wr(I8042::kCommandOffset, 0xfe);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(kbc.reset_requests(), 1u);
}

TEST_F(I8042Test, OutputPortWriteWithResetBitLowRequestsReset) {
  wr(I8042::kCommandOffset, I8042::kCmdWriteOutputPort);
  wr(I8042::kDataOffset, 0x01);
  EXPECT_EQ(resets, 0);
  wr(I8042::kCommandOffset, I8042::kCmdWriteOutputPort);
  wr(I8042::kDataOffset, 0xfe);
  EXPECT_EQ(resets, 1);
}

TEST_F(I8042Test, PulseWithoutResetBitDoesNothing) {
  wr(I8042::kCommandOffset, 0xff);
  EXPECT_EQ(resets, 0);
}

TEST_F(I8042Test, SelfTestAnswers0x55ThroughTheOutputBuffer) {
  wr(I8042::kCommandOffset, I8042::kCmdSelfTest);
  EXPECT_EQ(rd(I8042::kCommandOffset) & I8042::kStatusOutputFull, I8042::kStatusOutputFull);
  EXPECT_EQ(rd(I8042::kDataOffset), 0x55);
  EXPECT_EQ(rd(I8042::kCommandOffset) & I8042::kStatusOutputFull, 0);
}

TEST_F(I8042Test, CommandByteRoundTrips) {
  wr(I8042::kCommandOffset, I8042::kCmdWriteCommandByte);
  wr(I8042::kDataOffset, 0x61);
  wr(I8042::kCommandOffset, I8042::kCmdReadCommandByte);
  EXPECT_EQ(rd(I8042::kDataOffset), 0x61);
  EXPECT_EQ(resets, 0);
}

TEST_F(I8042Test, KeyboardResetIsAcknowledged) {
  wr(I8042::kDataOffset, 0xff);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xfa);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xaa);
}

}  // namespace
}  // namespace devices
