#include "devices/virtio/virtio_rng.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;
using ::testing::HasSubstr;

// A source that counts up, so every filled byte is checkable.
struct CountingSource {
  size_t operator()(std::span<std::byte> out) {
    for (auto& b : out) b = std::byte(static_cast<uint8_t>(next++));
    calls++;
    return out.size();
  }
  uint8_t next = 1;
  int calls = 0;
};

class VirtioRngTest : public ::testing::Test {
 protected:
  VirtioRngTest() : h(1), rng([this](std::span<std::byte> s) { return source(s); }) {}
  void activate(uint64_t features = kFVersion1 | kFIndirectDesc) {
    std::string why;
    ASSERT_TRUE(h.activate(rng, why, features)) << why;
  }
  test_support::DriverQueue& drv() { return h.drivers[0]; }

  DeviceHarness h;
  CountingSource source;
  VirtioRng rng;
};

TEST_F(VirtioRngTest, Identity) {
  EXPECT_EQ(rng.type(), DeviceType::kEntropy);
  EXPECT_EQ(rng.num_queues(), 1);
  EXPECT_EQ(rng.config_size(), 0u);
  EXPECT_TRUE(rng.device_features() & kFVersion1);
}

TEST_F(VirtioRngTest, FillsWritableBuffersAndInterrupts) {
  activate();
  uint16_t head = drv().add_chain({{DeviceHarness::kData, 4, true}, {DeviceHarness::kData + 0x100, 3, true}});
  rng.notify(0);
  EXPECT_EQ(drv().used_idx(), 1);
  EXPECT_EQ(drv().used_elem(0), (std::pair<uint32_t, uint32_t>{head, 7}));
  EXPECT_EQ(drv().get<uint32_t>(DeviceHarness::kData), 0x04030201u);
  EXPECT_EQ(drv().get<uint8_t>(DeviceHarness::kData + 0x102), 7);
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{0});
}

TEST_F(VirtioRngTest, IgnoresReadableBuffers) {
  activate();
  drv().put<uint32_t>(DeviceHarness::kData, 0xaaaaaaaa);
  drv().add_chain({{DeviceHarness::kData, 4, false}, {DeviceHarness::kData + 0x100, 2, true}});
  rng.notify(0);
  EXPECT_EQ(drv().used_elem(0).second, 2u);
  EXPECT_EQ(drv().get<uint32_t>(DeviceHarness::kData), 0xaaaaaaaau);
}

TEST_F(VirtioRngTest, CapsBytesPerChain) {
  activate();
  drv().add_chain({{DeviceHarness::kData, 0x18000, true}});
  rng.notify(0);
  EXPECT_EQ(drv().used_elem(0).second, VirtioRng::kMaxBytesPerChain);
}

TEST_F(VirtioRngTest, ShortSourceReportsWhatItGot) {
  VirtioRng dry([](std::span<std::byte> s) { return s.size() / 2; });
  std::string why;
  ASSERT_TRUE(h.activate(dry, why)) << why;
  drv().add_chain({{DeviceHarness::kData, 10, true}, {DeviceHarness::kData + 0x100, 10, true}});
  dry.notify(0);
  EXPECT_EQ(drv().used_elem(0).second, 5u) << "stops at the first short fill";
}

TEST_F(VirtioRngTest, BoundsChainsPerNotify) {
  // A guest that refills the ring while the device works (here: from inside
  // the entropy source) cannot keep one notify going forever.
  VirtioRng greedy([this](std::span<std::byte> s) {
    drv().add_chain({{DeviceHarness::kData, 1, true}});
    return s.size();
  });
  std::string why;
  ASSERT_TRUE(h.activate(greedy, why)) << why;
  drv().add_chain({{DeviceHarness::kData, 1, true}});
  greedy.notify(0);
  EXPECT_EQ(drv().used_idx(), DeviceHarness::kQueueSize);
}

TEST_F(VirtioRngTest, MalformedChainIsADeviceError) {
  activate();
  drv().publish(99);
  rng.notify(0);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("virtio-rng: queue 0"));
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("descriptor index 99"));
  // Stopped until reset: no second report, no processing.
  drv().add_chain({{DeviceHarness::kData, 4, true}});
  rng.notify(0);
  EXPECT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_EQ(drv().used_idx(), 0);
}

TEST_F(VirtioRngTest, NotifyBeforeActivationAndAfterResetDoesNothing) {
  drv().add_chain({{DeviceHarness::kData, 4, true}});
  rng.notify(0);
  EXPECT_EQ(drv().used_idx(), 0);
  activate();
  rng.reset();
  rng.notify(0);
  EXPECT_EQ(drv().used_idx(), 0);
  EXPECT_EQ(source.calls, 0);
}

TEST_F(VirtioRngTest, ActivationNeedsTheQueue) {
  Activation a;
  a.memory = &h.mem;
  a.hooks = &h.hooks;
  a.queues = {nullptr};
  std::string why;
  EXPECT_FALSE(rng.activate(a, why));
  EXPECT_THAT(why, HasSubstr("queue 0 was not enabled"));
  h.vqs[0]->set_size(3);
  EXPECT_FALSE(h.activate(rng, why));
  EXPECT_THAT(why, HasSubstr("queue 0: queue size 3"));
}

TEST_F(VirtioRngTest, DefaultSourceIsGetrandom) {
  std::array<std::byte, 64> buf{};
  EXPECT_EQ(VirtioRng::getrandom_source(buf), buf.size());
  int nonzero = 0;
  for (auto b : buf) nonzero += b != std::byte{0};
  EXPECT_GT(nonzero, 32);
}

TEST_F(VirtioRngTest, SuppressedInterruptIsNotSignalled) {
  activate();
  drv().set_avail_flags(1);  // VRING_AVAIL_F_NO_INTERRUPT
  drv().add_chain({{DeviceHarness::kData, 4, true}});
  rng.notify(0);
  EXPECT_EQ(drv().used_idx(), 1);
  EXPECT_TRUE(h.hooks.used.empty());
}

}  // namespace
}  // namespace devices::virtio
