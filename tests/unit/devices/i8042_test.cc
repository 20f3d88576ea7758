#include "devices/i8042.h"

#include <gtest/gtest.h>

#include <vector>

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


// The rest follow what Linux's i8042 driver does at probe time
// (drivers/input/serio/i8042.c) and what atkbd sends the keyboard.
class I8042IrqTest : public ::testing::Test {
 protected:
  I8042IrqTest()
      : kbc([] {}, [this](bool l) { kbd.push_back(l); }, [this](bool l) { aux.push_back(l); }) {}
  uint8_t rd(uint64_t off) {
    std::byte b{};
    kbc.read(off, std::span(&b, 1));
    return std::to_integer<uint8_t>(b);
  }
  void wr(uint64_t off, uint8_t v) {
    std::byte b{v};
    kbc.write(off, std::span(&b, 1));
  }
  void command(uint8_t cmd) { wr(I8042::kCommandOffset, cmd); }
  void command(uint8_t cmd, uint8_t param) {
    wr(I8042::kCommandOffset, cmd);
    wr(I8042::kDataOffset, param);
  }
  uint8_t status() { return rd(I8042::kCommandOffset); }
  // Rising edges seen on a line.
  static int edges(const std::vector<bool>& line) {
    int n = 0;
    bool prev = false;
    for (bool l : line) {
      if (l && !prev) ++n;
      prev = l;
    }
    return n;
  }
  std::vector<bool> kbd, aux;
  I8042 kbc;
};

TEST_F(I8042IrqTest, AuxLoopbackReturnsTheByteAsAuxData) {
  command(I8042::kCmdWriteCommandByte, 0x47 & ~I8042::kCtrAuxInt);  // interrupts off, as during the check
  command(I8042::kCmdWriteAuxOutput, 0x5a);
  uint8_t s = status();
  EXPECT_EQ(s & I8042::kStatusOutputFull, I8042::kStatusOutputFull);
  EXPECT_EQ(s & I8042::kStatusAuxData, I8042::kStatusAuxData) << "Linux rejects a loopback byte without AUXDATA";
  EXPECT_EQ(rd(I8042::kDataOffset), 0x5a);
  EXPECT_EQ(status() & I8042::kStatusOutputFull, 0) << "nothing may be left behind for the next command";
}

TEST_F(I8042IrqTest, AuxLoopbackRaisesIrq12WhenTheCommandByteEnablesIt) {
  command(I8042::kCmdEnableAux);
  command(I8042::kCmdWriteCommandByte, 0x47);  // KBDINT | AUXINT | system | translate
  ASSERT_EQ(edges(aux), 0);
  command(I8042::kCmdWriteAuxOutput, 0xa5);
  EXPECT_EQ(edges(aux), 1) << "the driver's AUX IRQ test waits for IRQ12";
  EXPECT_EQ(edges(kbd), 0);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xa5);
  ASSERT_FALSE(aux.empty());
  EXPECT_FALSE(aux.back()) << "IRQ12 drops once the byte is read";
}

TEST_F(I8042IrqTest, NoIrq12WhenAuxInterruptIsDisabled) {
  command(I8042::kCmdWriteCommandByte, 0x45);
  command(I8042::kCmdWriteAuxOutput, 0xa5);
  EXPECT_EQ(edges(aux), 0);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xa5);
}

TEST_F(I8042IrqTest, KeyboardReplyRaisesIrq1) {
  command(I8042::kCmdWriteCommandByte, 0x45);  // KBDINT on
  wr(I8042::kDataOffset, 0xf2);                // get ID
  EXPECT_EQ(edges(kbd), 1);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xfa);
  EXPECT_EQ(edges(kbd), 2) << "every byte that reaches the front needs its own edge";
  EXPECT_EQ(rd(I8042::kDataOffset), 0xab);
  EXPECT_EQ(rd(I8042::kDataOffset), 0x83);
  EXPECT_EQ(edges(kbd), 3);
  ASSERT_FALSE(kbd.empty());
  EXPECT_FALSE(kbd.back());
  EXPECT_EQ(status() & I8042::kStatusAuxData, 0);
}

TEST_F(I8042IrqTest, EnablingKbdInterruptWithDataWaitingRaisesIrq1) {
  command(I8042::kCmdWriteCommandByte, 0x44);  // no interrupts
  wr(I8042::kDataOffset, 0xf4);
  EXPECT_EQ(edges(kbd), 0);
  command(I8042::kCmdWriteCommandByte, 0x45);
  EXPECT_EQ(edges(kbd), 1);
}

TEST_F(I8042IrqTest, KeyboardCommandParametersAreAcknowledged) {
  wr(I8042::kDataOffset, 0xed);  // set LEDs
  EXPECT_EQ(rd(I8042::kDataOffset), 0xfa);
  wr(I8042::kDataOffset, 0x00);  // the LED bits, not a command
  EXPECT_EQ(rd(I8042::kDataOffset), 0xfa);
  EXPECT_EQ(status() & I8042::kStatusOutputFull, 0);
  wr(I8042::kDataOffset, 0xee);  // echo
  EXPECT_EQ(rd(I8042::kDataOffset), 0xee);
}

TEST_F(I8042IrqTest, WriteToAuxDeviceTimesOutWithNothingPluggedIn) {
  command(I8042::kCmdWriteCommandByte, 0x47);
  command(I8042::kCmdWriteAux, 0xf2);  // psmouse: get ID
  uint8_t s = status();
  EXPECT_EQ(s & I8042::kStatusAuxData, I8042::kStatusAuxData);
  EXPECT_EQ(s & I8042::kStatusTimeout, I8042::kStatusTimeout);
  EXPECT_EQ(edges(aux), 1);
  EXPECT_EQ(rd(I8042::kDataOffset), I8042::kNoDevice);
  EXPECT_EQ(status() & I8042::kStatusTimeout, 0);
}

TEST_F(I8042IrqTest, AuxEnableDisableShowInTheCommandByte) {
  command(I8042::kCmdDisableAux);
  command(I8042::kCmdReadCommandByte);
  EXPECT_EQ(rd(I8042::kDataOffset) & I8042::kCtrAuxDisable, I8042::kCtrAuxDisable);
  command(I8042::kCmdEnableAux);
  command(I8042::kCmdReadCommandByte);
  EXPECT_EQ(rd(I8042::kDataOffset) & I8042::kCtrAuxDisable, 0);
}

// Linux's i8042_check_aux, step by step, must find a working AUX port with
// nothing stale in the output buffer between commands.
TEST_F(I8042IrqTest, LinuxCheckAuxSequence) {
  command(I8042::kCmdWriteCommandByte, 0x45 | I8042::kCtrKbdDisable);
  command(I8042::kCmdWriteAuxOutput, 0x5a);
  ASSERT_EQ(status() & (I8042::kStatusOutputFull | I8042::kStatusAuxData),
            I8042::kStatusOutputFull | I8042::kStatusAuxData);
  ASSERT_EQ(rd(I8042::kDataOffset), 0x5a);
  command(I8042::kCmdDisableAux);
  command(I8042::kCmdReadCommandByte);
  ASSERT_NE(rd(I8042::kDataOffset) & I8042::kCtrAuxDisable, 0);
  command(I8042::kCmdEnableAux);
  command(I8042::kCmdReadCommandByte);
  uint8_t ctr = rd(I8042::kDataOffset);
  ASSERT_EQ(ctr & I8042::kCtrAuxDisable, 0);
  EXPECT_EQ(status() & I8042::kStatusOutputFull, 0);
  // i8042_enable_aux_port, then the IRQ delivery test.
  command(I8042::kCmdWriteCommandByte, static_cast<uint8_t>(ctr | I8042::kCtrAuxInt));
  int before = edges(aux);
  command(I8042::kCmdWriteAuxOutput, 0xa5);
  EXPECT_EQ(edges(aux), before + 1);
  EXPECT_EQ(rd(I8042::kDataOffset), 0xa5);
}

}  // namespace
}  // namespace devices
