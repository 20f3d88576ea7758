#include "devices/virtio/virtio_mmio.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_rng.h"
#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using M = VirtioMmio;
using ::testing::HasSubstr;

class NullBackend : public BlockBackend {
 public:
  uint64_t size() const override { return 1000 * 512 + 7; }
  bool read_only() const override { return false; }
  Result<void> read_at(uint64_t, std::span<const std::span<std::byte>>) override { return {}; }
  Result<void> write_at(uint64_t, std::span<const std::span<const std::byte>>) override { return {}; }
  Result<void> flush() override { return {}; }
  Result<void> discard(uint64_t, uint64_t) override { return {}; }
  Result<void> write_zeroes(uint64_t, uint64_t) override { return {}; }
};

class VirtioMmioTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kDesc = 0x10000, kAvail = 0x11000, kUsed = 0x12000, kData = 0x100000;

  VirtioMmioTest()
      : mem(test_util::make_guest_memory()),
        rng([](std::span<std::byte> s) {
          std::memset(s.data(), 0xab, s.size());
          return s.size();
        }),
        mmio(rng, mem, [this](bool level) { irq_levels.push_back(level); },
             [this](std::string_view line) { logs.emplace_back(line); }),
        drv(mem, 8, kDesc, kAvail, kUsed) {}

  uint32_t rd(uint64_t off) { return rd_on(mmio, off); }
  void wr(uint64_t off, uint32_t v) { wr_on(mmio, off, v); }
  static uint32_t rd_on(M& m, uint64_t off) {
    std::array<std::byte, 4> b{};
    m.read(off, b);
    uint32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
  }
  static void wr_on(M& m, uint64_t off, uint32_t v) {
    std::array<std::byte, 4> b;
    std::memcpy(b.data(), &v, 4);
    m.write(off, b);
  }

  void negotiate(uint64_t features = kFVersion1) {
    wr(M::kStatus, kStatusAcknowledge);
    wr(M::kStatus, kStatusAcknowledge | kStatusDriver);
    wr(M::kDriverFeaturesSel, 0);
    wr(M::kDriverFeatures, static_cast<uint32_t>(features));
    wr(M::kDriverFeaturesSel, 1);
    wr(M::kDriverFeatures, static_cast<uint32_t>(features >> 32));
    wr(M::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  }
  void setup_queue(uint32_t num = 8) {
    wr(M::kQueueSel, 0);
    wr(M::kQueueNum, num);
    wr(M::kQueueDescLow, kDesc);
    wr(M::kQueueDescHigh, 0);
    wr(M::kQueueDriverLow, kAvail);
    wr(M::kQueueDeviceLow, kUsed);
    wr(M::kQueueReady, 1);
  }
  void driver_ok() { wr(M::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk); }
  void bring_up() {
    negotiate();
    setup_queue();
    driver_ok();
  }

  loader::GuestMemory mem;
  VirtioRng rng;
  std::vector<bool> irq_levels;
  std::vector<std::string> logs;
  VirtioMmio mmio;
  test_support::DriverQueue drv;
};

TEST_F(VirtioMmioTest, IdentityRegisters) {
  EXPECT_EQ(rd(M::kMagicValue), 0x74726976u);
  EXPECT_EQ(rd(M::kVersionReg), 2u);
  EXPECT_EQ(rd(M::kDeviceId), 4u);
  EXPECT_EQ(rd(M::kVendorIdReg), M::kVendorId);
  EXPECT_EQ(rd(M::kStatus), 0u);
  EXPECT_EQ(rd(M::kShmLenLow), 0xffffffffu) << "no shared memory region";
}

TEST_F(VirtioMmioTest, DeviceFeatureWords) {
  const uint64_t f = rng.device_features();
  wr(M::kDeviceFeaturesSel, 0);
  EXPECT_EQ(rd(M::kDeviceFeatures), static_cast<uint32_t>(f));
  wr(M::kDeviceFeaturesSel, 1);
  EXPECT_EQ(rd(M::kDeviceFeatures), static_cast<uint32_t>(f >> 32));
  EXPECT_EQ(rd(M::kDeviceFeatures) & 1, 1u) << "VERSION_1 is bit 32";
  wr(M::kDeviceFeaturesSel, 2);
  EXPECT_EQ(rd(M::kDeviceFeatures), 0u);
}

TEST_F(VirtioMmioTest, QueueNumMax) {
  wr(M::kQueueSel, 0);
  EXPECT_EQ(rd(M::kQueueNumMax), 256u);
  wr(M::kQueueSel, 1);
  EXPECT_EQ(rd(M::kQueueNumMax), 0u) << "rng has one queue";
}

TEST_F(VirtioMmioTest, AcceptsVersion1AndRunsARequest) {
  negotiate();
  EXPECT_EQ(rd(M::kStatus) & kStatusFeaturesOk, kStatusFeaturesOk);
  EXPECT_EQ(mmio.driver_features(), kFVersion1);
  setup_queue();
  EXPECT_EQ(rd(M::kQueueReady), 1u);
  driver_ok();
  EXPECT_EQ(rd(M::kStatus), uint32_t{kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk});

  uint16_t head = drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(drv.used_idx(), 1);
  EXPECT_EQ(drv.used_elem(0), (std::pair<uint32_t, uint32_t>{head, 4}));
  EXPECT_EQ(drv.get<uint32_t>(kData), 0xababababu);
  EXPECT_EQ(rd(M::kInterruptStatus), M::kInterruptUsedBuffer);
  EXPECT_EQ(irq_levels, std::vector<bool>{true});
  wr(M::kInterruptAck, M::kInterruptUsedBuffer);
  EXPECT_EQ(rd(M::kInterruptStatus), 0u);
  EXPECT_EQ(irq_levels, (std::vector<bool>{true, false}));
  EXPECT_TRUE(logs.empty());
}

TEST_F(VirtioMmioTest, LevelStaysHighUntilEveryBitIsAcked) {
  bring_up();
  mmio.signal_used(0);
  mmio.signal_config();
  EXPECT_EQ(rd(M::kInterruptStatus), 3u);
  wr(M::kInterruptAck, 1);
  EXPECT_EQ(irq_levels, std::vector<bool>{true});
  wr(M::kInterruptAck, 2);
  EXPECT_EQ(irq_levels, (std::vector<bool>{true, false}));
}

TEST_F(VirtioMmioTest, SignalConfigBumpsGeneration) {
  uint32_t g = rd(M::kConfigGeneration);
  mmio.signal_config();
  EXPECT_EQ(rd(M::kConfigGeneration), g + 1);
  EXPECT_EQ(rd(M::kInterruptStatus), M::kInterruptConfigChange);
}

TEST_F(VirtioMmioTest, RefusesFeaturesOkWithoutVersion1) {
  negotiate(kFIndirectDesc);
  EXPECT_EQ(rd(M::kStatus) & kStatusFeaturesOk, 0u);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_THAT(logs[0], HasSubstr("VERSION_1 not accepted"));
  // DRIVER_OK without FEATURES_OK does not activate anything.
  setup_queue();
  wr(M::kStatus, kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_EQ(rd(M::kStatus) & kStatusDriverOk, 0u);
  drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(drv.used_idx(), 0);
}

// A guest retrying features the device never offered, reset after reset,
// gets one log line in all.
TEST_F(VirtioMmioTest, FeaturesRefusalLoggedOncePerDevice) {
  for (int round = 0; round < 3; ++round) {
    wr(M::kStatus, 0);
    negotiate(kFVersion1 | (1ull << 40));
    EXPECT_EQ(rd(M::kStatus) & kStatusFeaturesOk, 0u);  // refused every time
  }
  EXPECT_EQ(logs.size(), 1u);
}

TEST_F(VirtioMmioTest, RefusesFeaturesNotOffered) {
  negotiate(kFVersion1 | (1ull << 40));
  EXPECT_EQ(rd(M::kStatus) & kStatusFeaturesOk, 0u);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_THAT(logs[0], HasSubstr("not offered"));
  // A second try with a valid set is accepted.
  negotiate(kFVersion1 | kFEventIdx);
  EXPECT_EQ(rd(M::kStatus) & kStatusFeaturesOk, kStatusFeaturesOk);
}

TEST_F(VirtioMmioTest, DriverFeaturesFrozenAfterFeaturesOk) {
  negotiate();
  wr(M::kDriverFeaturesSel, 0);
  wr(M::kDriverFeatures, static_cast<uint32_t>(kFEventIdx));
  EXPECT_EQ(mmio.driver_features(), kFVersion1);
}

TEST_F(VirtioMmioTest, ResetClearsDeviceAndQueues) {
  bring_up();
  drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  ASSERT_EQ(rd(M::kInterruptStatus), 1u);
  wr(M::kStatus, 0);
  EXPECT_EQ(rd(M::kStatus), 0u);
  EXPECT_EQ(rd(M::kInterruptStatus), 0u);
  EXPECT_EQ(irq_levels.back(), false);
  wr(M::kQueueSel, 0);
  EXPECT_EQ(rd(M::kQueueReady), 0u);
  EXPECT_EQ(mmio.driver_features(), 0u);
  // The device is inactive: a notify does nothing.
  drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(drv.used_idx(), 1);
  // And it comes back up on fresh rings.
  drv = test_support::DriverQueue(mem, 8, kDesc, kAvail, kUsed);
  mem.fill(loader::GuestAddress(kAvail), 0x2000 + 0x1000, std::byte{0}).value();
  bring_up();
  drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(drv.used_idx(), 1);
}

TEST_F(VirtioMmioTest, MalformedQueueSetsNeedsResetAndLogsOnce) {
  bring_up();
  drv.publish(50);  // head outside the 8-entry queue
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(rd(M::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
  EXPECT_EQ(rd(M::kInterruptStatus), M::kInterruptConfigChange);
  EXPECT_EQ(irq_levels, std::vector<bool>{true});
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_THAT(logs[0], HasSubstr("virtio-rng"));
  EXPECT_THAT(logs[0], HasSubstr("descriptor index 50"));
  mmio.device_error("again");
  EXPECT_EQ(logs.size(), 1u);
  // Reset recovers.
  wr(M::kStatus, 0);
  EXPECT_EQ(rd(M::kStatus), 0u);
}

// Breaking, resetting and breaking the device again in a loop (the hostile
// guest's rounds) logs once in all, not once per reset.
TEST_F(VirtioMmioTest, MalformedQueueAfterResetIsNotLoggedAgain) {
  bring_up();
  drv.publish(50);
  wr(M::kQueueNotify, 0);
  ASSERT_EQ(logs.size(), 1u);
  for (int round = 0; round < 3; ++round) {
    wr(M::kStatus, 0);
    EXPECT_EQ(rd(M::kStatus), 0u);
    mmio.device_error("broken again");
    EXPECT_EQ(rd(M::kStatus) & kStatusNeedsReset, kStatusNeedsReset);  // the guest still sees every error
  }
  EXPECT_EQ(logs.size(), 1u);
}

TEST_F(VirtioMmioTest, RefusedActivationSetsNeedsReset) {
  negotiate();
  setup_queue(3);  // not a power of two
  driver_ok();
  EXPECT_EQ(rd(M::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_THAT(logs[0], HasSubstr("queue size 3"));
}

TEST_F(VirtioMmioTest, QueueLeftDisabledRefusesActivation) {
  negotiate();
  driver_ok();
  EXPECT_EQ(rd(M::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
  EXPECT_THAT(logs.at(0), HasSubstr("queue 0 was not enabled"));
}

TEST_F(VirtioMmioTest, QueueRegistersIgnoredAfterDriverOkOrWhileReady) {
  negotiate();
  setup_queue();
  wr(M::kQueueDescLow, 0x50000);  // ready: ignored
  driver_ok();
  wr(M::kQueueReady, 0);  // after DRIVER_OK: ignored
  EXPECT_EQ(rd(M::kQueueReady), 1u);
  drv.add_chain({{kData, 4, true}});
  wr(M::kQueueNotify, 0);
  EXPECT_EQ(drv.used_idx(), 1) << "the rings stayed where they were";
}

TEST_F(VirtioMmioTest, NotifyOutOfRangeQueueIsIgnored) {
  bring_up();
  wr(M::kQueueNotify, 7);
  EXPECT_EQ(rd(M::kStatus) & kStatusNeedsReset, 0u);
}

TEST_F(VirtioMmioTest, BadAccessSizesAndOffsets) {
  std::array<std::byte, 2> two{std::byte{0xff}, std::byte{0xff}};
  mmio.read(M::kMagicValue, two);
  EXPECT_EQ(two, (std::array<std::byte, 2>{}));
  std::array<std::byte, 4> four{};
  four.fill(std::byte{0xff});
  mmio.read(M::kMagicValue + 2, four);
  EXPECT_EQ(four, (std::array<std::byte, 4>{}));
  std::array<std::byte, 8> eight{};
  eight.fill(std::byte{0xff});
  mmio.read(M::kMagicValue, eight);
  EXPECT_EQ(eight, (std::array<std::byte, 8>{}));
  // Writes of the wrong size are dropped: status stays 0.
  std::array<std::byte, 1> one{std::byte{kStatusAcknowledge}};
  mmio.write(M::kStatus, one);
  EXPECT_EQ(rd(M::kStatus), 0u);
  mmio.write(M::kStatus + 1, four);
  EXPECT_EQ(rd(M::kStatus), 0u);
  // Past the window.
  EXPECT_EQ(rd(0x1000), 0u);
  EXPECT_EQ(rd(0x1fe), 0u);
}

TEST_F(VirtioMmioTest, ConfigSpaceAnySize) {
  VirtioBlk blk(std::make_unique<NullBackend>());
  VirtioMmio m(blk, mem, {});
  EXPECT_EQ(rd_on(m, M::kDeviceId), 2u);
  std::array<std::byte, 8> cap{};
  m.read(M::kConfig, cap);
  uint64_t v;
  std::memcpy(&v, cap.data(), 8);
  EXPECT_EQ(v, 1000u);
  std::array<std::byte, 1> b{};
  m.read(M::kConfig + 1, b);
  EXPECT_EQ(b[0], std::byte{3});  // 1000 = 0x3e8
  std::array<std::byte, 2> w{std::byte{0xff}, std::byte{0xff}};
  m.read(M::kConfig + VirtioBlk::kConfigSize, w);
  EXPECT_EQ(w, (std::array<std::byte, 2>{})) << "past the device's config";
  m.read(M::kWindowSize - 1, w);
  EXPECT_EQ(w, (std::array<std::byte, 2>{})) << "straddling the window end";
}

TEST_F(VirtioMmioTest, ConcurrentSignalsAndAcks) {
  bring_up();
  std::thread io([&] {
    for (int i = 0; i < 2000; ++i) mmio.signal_used(0);
  });
  for (int i = 0; i < 2000; ++i) wr(M::kInterruptAck, rd(M::kInterruptStatus));
  io.join();
  wr(M::kInterruptAck, rd(M::kInterruptStatus));
  EXPECT_EQ(rd(M::kInterruptStatus), 0u);
  ASSERT_FALSE(irq_levels.empty());
  EXPECT_FALSE(irq_levels.back());
  for (size_t i = 1; i < irq_levels.size(); ++i) EXPECT_NE(irq_levels[i], irq_levels[i - 1]) << "only changes";
}

}  // namespace
}  // namespace devices::virtio
