#include "devices/serial_16550a.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace devices {
namespace {

class Serial16550aTest : public ::testing::Test {
 protected:
  Serial16550aTest()
      : uart([this](bool level) { irq_events.push_back(level); },
             [this](std::byte b) { out.push_back(static_cast<char>(b)); }, 32) {}

  uint8_t rd(uint64_t reg) {
    std::byte b{};
    uart.read(reg, std::span(&b, 1));
    return std::to_integer<uint8_t>(b);
  }
  void wr(uint64_t reg, uint8_t v) {
    std::byte b{v};
    uart.write(reg, std::span(&b, 1));
  }
  void input(std::string_view s) { uart.enqueue_input(std::as_bytes(std::span(s.data(), s.size()))); }

  std::vector<bool> irq_events;
  std::string out;
  Serial16550a uart;
};

using S = Serial16550a;

TEST_F(Serial16550aTest, ResetStateHasNoInterruptAndEmptyTransmitter) {
  EXPECT_EQ(rd(S::kIirFcr), 0x01);
  EXPECT_EQ(rd(S::kLsr), S::kLsrThre | S::kLsrTemt);
  EXPECT_EQ(rd(S::kIer), 0x00);
  EXPECT_EQ(rd(S::kLcr), 0x03);
  EXPECT_TRUE(irq_events.empty());
}

TEST_F(Serial16550aTest, ThrWritesGoToTheOutput) {
  wr(S::kRbrThr, 'h');
  wr(S::kRbrThr, 'i');
  EXPECT_EQ(out, "hi");
  EXPECT_EQ(rd(S::kLsr) & (S::kLsrThre | S::kLsrTemt), S::kLsrThre | S::kLsrTemt);
}

TEST_F(Serial16550aTest, DlabSwitchesOffsetsZeroAndOneToTheDivisorLatch) {
  wr(S::kIer, 0x05);
  wr(S::kLcr, 0x83);
  wr(S::kRbrThr, 0x01);  // DLL
  wr(S::kIer, 0x02);     // DLM
  EXPECT_EQ(rd(S::kRbrThr), 0x01);
  EXPECT_EQ(rd(S::kIer), 0x02);
  EXPECT_TRUE(out.empty()) << "a DLL write must not transmit";
  wr(S::kLcr, 0x03);
  EXPECT_EQ(rd(S::kIer), 0x05) << "IER must survive DLAB";
  wr(S::kLcr, 0x83);
  EXPECT_EQ(rd(S::kRbrThr), 0x01);
  EXPECT_EQ(rd(S::kIer), 0x02);
}

TEST_F(Serial16550aTest, EnablingThreInterruptRaisesItImmediately) {
  wr(S::kIer, S::kIerThre);
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirThre);
  ASSERT_EQ(irq_events, (std::vector<bool>{true, false})) << "IIR read acknowledges THRE and lowers the line";
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirNone);
  // Disable and re-enable: the 8250 driver's startup probe expects it again.
  wr(S::kIer, 0);
  wr(S::kIer, S::kIerThre);
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirThre);
}

TEST_F(Serial16550aTest, EveryTransmittedByteRaisesThreAgain) {
  wr(S::kIer, S::kIerThre);
  rd(S::kIirFcr);  // ack
  irq_events.clear();
  wr(S::kRbrThr, 'a');
  EXPECT_EQ(irq_events, (std::vector<bool>{true}));
  EXPECT_TRUE(uart.irq_level());
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirThre);
  EXPECT_FALSE(uart.irq_level());
}

TEST_F(Serial16550aTest, ThreWithInterruptDisabledDoesNotRaiseTheLine) {
  wr(S::kRbrThr, 'a');
  EXPECT_TRUE(irq_events.empty());
  EXPECT_EQ(rd(S::kIirFcr), 0x01);
}

TEST_F(Serial16550aTest, ReceivedDataSetsDataReadyAndRaisesRxInterrupt) {
  wr(S::kIer, S::kIerRxData);
  EXPECT_TRUE(irq_events.empty());
  input("ab");
  EXPECT_EQ(irq_events, (std::vector<bool>{true}));
  EXPECT_EQ(rd(S::kLsr) & S::kLsrDataReady, S::kLsrDataReady);
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirRxData);
  EXPECT_EQ(rd(S::kRbrThr), 'a');
  EXPECT_TRUE(uart.irq_level()) << "still one byte left";
  EXPECT_EQ(rd(S::kRbrThr), 'b');
  EXPECT_FALSE(uart.irq_level());
  EXPECT_EQ(irq_events, (std::vector<bool>{true, false}));
  EXPECT_EQ(rd(S::kLsr) & S::kLsrDataReady, 0);
  EXPECT_EQ(rd(S::kRbrThr), 0) << "empty RBR reads 0";
}

TEST_F(Serial16550aTest, IirPriorityRxDataBeatsThreAndLineStatusBeatsBoth) {
  wr(S::kIer, S::kIerRxData | S::kIerThre | S::kIerLineStatus);
  input("x");
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirRxData) << "RX data outranks THRE";
  EXPECT_EQ(rd(S::kRbrThr), 'x');
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirThre) << "THRE shows once RX is drained";
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirNone);
  // Overrun: fill beyond capacity (32).
  std::string big(40, 'z');
  input(big);
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirLineStatus);
  EXPECT_EQ(rd(S::kLsr) & S::kLsrOverrun, S::kLsrOverrun);
  EXPECT_EQ(rd(S::kLsr) & S::kLsrOverrun, 0) << "OE clears on LSR read";
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirRxData);
}

TEST_F(Serial16550aTest, ModemStatusInterruptIsLowestPriority) {
  wr(S::kIer, S::kIerModemStatus | S::kIerThre);
  wr(S::kMcr, S::kMcrLoop);         // outputs low: CTS/DSR/DCD drop
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirThre);
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirModemStatus);
  uint8_t msr = rd(S::kMsr);
  EXPECT_NE(msr & 0x0f, 0) << "delta bits report the change";
  EXPECT_EQ(rd(S::kMsr) & 0x0f, 0) << "delta bits clear on read";
  EXPECT_EQ(rd(S::kIirFcr) & 0x0f, S::kIirNone);
}

TEST_F(Serial16550aTest, FifoEnableShowsInIirAndFcrClearsReceiveFifo) {
  wr(S::kIirFcr, 0x01);
  EXPECT_EQ(rd(S::kIirFcr), 0xc1);
  input("abc");
  wr(S::kIirFcr, 0x03);  // enable + clear RX
  EXPECT_EQ(rd(S::kLsr) & S::kLsrDataReady, 0);
  wr(S::kIirFcr, 0x00);
  EXPECT_EQ(rd(S::kIirFcr), 0x01);
}

TEST_F(Serial16550aTest, ReceiveFifoHoldsMoreThanSixteenBytesInOrder) {
  std::string s = "0123456789abcdefghijklmnopqrstu";  // 31 bytes < capacity 32
  input(s);
  std::string got;
  while (rd(S::kLsr) & S::kLsrDataReady) got.push_back(static_cast<char>(rd(S::kRbrThr)));
  EXPECT_EQ(got, s);
}

TEST_F(Serial16550aTest, EnqueueReportsHowManyBytesFit) {
  std::string s(40, 'q');
  EXPECT_EQ(uart.enqueue_input(std::as_bytes(std::span(s.data(), s.size()))), 32u);
  EXPECT_EQ(uart.rx_room(), 0u);
}

TEST_F(Serial16550aTest, LoopbackFeedsTransmitterToReceiverAndWiresModemLines) {
  wr(S::kMcr, S::kMcrLoop | S::kMcrRts | S::kMcrOut2);  // what Linux's probe writes (0x1a)
  EXPECT_EQ(rd(S::kMsr) & 0xf0, S::kMsrCts | S::kMsrDcd);
  wr(S::kMcr, S::kMcrLoop | S::kMcrDtr | S::kMcrOut1);
  EXPECT_EQ(rd(S::kMsr) & 0xf0, S::kMsrDsr | S::kMsrRi);
  wr(S::kRbrThr, 'L');
  EXPECT_TRUE(out.empty()) << "loopback must not reach the line";
  EXPECT_EQ(rd(S::kLsr) & S::kLsrDataReady, S::kLsrDataReady);
  EXPECT_EQ(rd(S::kRbrThr), 'L');
  input("host");
  EXPECT_EQ(rd(S::kLsr) & S::kLsrDataReady, 0) << "line input is cut off in loopback";
  wr(S::kMcr, S::kMcrOut2);
  EXPECT_EQ(rd(S::kMsr) & 0xf0, S::kMsrCts | S::kMsrDsr | S::kMsrDcd);
}

TEST_F(Serial16550aTest, ScratchAndLineControlHoldValues) {
  wr(S::kScr, 0xa5);
  EXPECT_EQ(rd(S::kScr), 0xa5);
  wr(S::kLcr, 0x1b);
  EXPECT_EQ(rd(S::kLcr), 0x1b);
  wr(S::kMcr, 0xff);
  EXPECT_EQ(rd(S::kMcr), 0x1f) << "MCR bits 7:5 read as zero";
}

TEST_F(Serial16550aTest, OutOfRangeOffsetsReadOnesAndIgnoreWrites) {
  EXPECT_EQ(rd(8), 0xff);
  wr(8, 'x');
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace devices
