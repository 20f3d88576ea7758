#include "devices/virtio/virtio_pci.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "devices/pci/host_bridge.h"
#include "unit/devices/pci/pci_test_helpers.h"

namespace devices::virtio {
namespace {

using pci::testing::dev_read;
using pci::testing::dev_write;
using pci::testing::ecam_read;
using pci::testing::ecam_write;

constexpr uint64_t kFeatureA = 1ull << 0;

class FakeDevice final : public VirtioDevice {
 public:
  DeviceType type() const override { return DeviceType::kEntropy; }
  std::string_view name() const override { return "virtio-fake"; }
  uint64_t device_features() const override { return kFVersion1 | kFEventIdx | kFeatureA; }
  uint16_t num_queues() const override { return 2; }
  uint16_t max_queue_size(uint16_t queue) const override { return queue == 0 ? 128 : 64; }
  uint32_t config_size() const override { return static_cast<uint32_t>(config.size()); }
  void read_config(uint32_t offset, std::span<std::byte> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < config.size() ? config[offset + i] : std::byte{0};
  }
  void write_config(uint32_t offset, std::span<const std::byte> data) override {
    for (size_t i = 0; i < data.size(); ++i) {
      if (offset + i < config.size()) config[offset + i] = data[i];
    }
  }
  bool activate(const Activation& a, std::string& why) override {
    activations.push_back(a);
    if (!accept) why = "queue 0 is too small";
    return accept;
  }
  void notify(uint16_t queue) override { notified.push_back(queue); }
  void reset() override { ++resets; }

  std::array<std::byte, 8> config{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  bool accept = true;
  std::vector<Activation> activations;
  std::vector<uint16_t> notified;
  int resets = 0;
};

// Common configuration offsets, as a driver would spell them.
constexpr uint64_t kDfSelect = 0x00, kDf = 0x04, kGfSelect = 0x08, kGf = 0x0c, kMsixConfig = 0x10,
                   kNumQueues = 0x12, kStatus = 0x14, kGeneration = 0x15, kQSelect = 0x16, kQSize = 0x18,
                   kQMsix = 0x1a, kQEnable = 0x1c, kQNotifyOff = 0x1e, kQDesc = 0x20, kQDriver = 0x28,
                   kQDevice = 0x30;

struct Sent {
  uint64_t address;
  uint32_t data;
  bool operator==(const Sent&) const = default;
};

class VirtioPciTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), 1 << 20}};
    auto m = loader::GuestMemory::create(specs);
    ASSERT_TRUE(m);
    memory = std::make_unique<loader::GuestMemory>(std::move(*m));
    std::array<IrqLine, 4> lines;
    for (size_t i = 0; i < 4; ++i) lines[i] = [this, i](bool level) { line_history[i].push_back(level); };
    bridge = std::make_unique<pci::PciHostBridge>(pci::testing::test_windows(), lines);
    bridge->set_msi_sink([this](const pci::Msi& m) {
      msis.push_back({m.message.address, m.message.data});
      sources.emplace_back(m.vector, m.requester_id);
    });
    auto t = VirtioPci::create(fake, *memory, [this](std::string_view l) { log.emplace_back(l); });
    ASSERT_TRUE(t);
    transport = *t;
    auto s = bridge->add_device(transport);
    ASSERT_TRUE(s);
    slot = *s;
    line = pci::PciHostBridge::intx_line(slot, 1);
    bar = transport->bar_mapping(VirtioPci::kBar).address;
  }

  uint64_t r(uint64_t off, size_t size) { return dev_read(*bridge->mmio_window(), bar + off, size); }
  void w(uint64_t off, size_t size, uint64_t v) { dev_write(*bridge->mmio_window(), bar + off, size, v); }
  uint8_t status() { return static_cast<uint8_t>(r(kStatus, 1)); }

  // The driver side of §3.1.1 up to FEATURES_OK; returns the status read back.
  uint8_t negotiate(uint64_t features) {
    w(kStatus, 1, 0);
    w(kStatus, 1, kStatusAcknowledge);
    w(kStatus, 1, kStatusAcknowledge | kStatusDriver);
    w(kGfSelect, 4, 0);
    w(kGf, 4, static_cast<uint32_t>(features));
    w(kGfSelect, 4, 1);
    w(kGf, 4, static_cast<uint32_t>(features >> 32));
    w(kStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    return status();
  }
  void setup_queue(uint16_t q, uint16_t size, uint64_t desc) {
    w(kQSelect, 2, q);
    w(kQSize, 2, size);
    w(kQDesc, 4, static_cast<uint32_t>(desc));
    w(kQDesc + 4, 4, static_cast<uint32_t>(desc >> 32));
    w(kQDriver, 8, desc + 0x1000);
    w(kQDevice, 8, desc + 0x2000);
    w(kQEnable, 2, 1);
  }
  void driver_ok() {
    ASSERT_NE(negotiate(kFVersion1 | kFeatureA) & kStatusFeaturesOk, 0);
    setup_queue(0, 64, 0x10000);
    w(kStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  }
  // Walks the capability list as Linux's pci_find_capability / virtio_pci_find_capability do.
  std::map<uint8_t, uint8_t> capabilities() {
    std::map<uint8_t, uint8_t> found;  // vendor cfg_type (or 0x100 + id) -> offset
    uint8_t pos = ecam_read(*bridge, slot, pci::kCapabilitiesPointer, 1) & ~3;
    for (int guard = 0; pos >= 0x40 && guard < 48; ++guard) {
      const uint8_t id = static_cast<uint8_t>(ecam_read(*bridge, slot, pos, 1));
      if (id == pci::kCapIdVendor) {
        found.emplace(static_cast<uint8_t>(ecam_read(*bridge, slot, pos + 3u, 1)), pos);
      } else if (id == pci::kCapIdMsix) {
        found.emplace(0xff, pos);
      }
      pos = ecam_read(*bridge, slot, pos + 1u, 1) & ~3;
    }
    return found;
  }
  void enable_msix() {
    const uint8_t cap = capabilities().at(0xff);
    ecam_write(*bridge, slot, cap + 2u, 2, pci::kMsixEnable);
    for (uint16_t v = 0; v < 3; ++v) {
      const uint64_t e = VirtioPci::kMsixTableOffset + v * 16u;
      w(e, 8, 0xfee0'0000u + v * 0x100);
      w(e + 8, 4, 0x50u + v);
      w(e + 12, 4, 0);
    }
  }

  std::shared_ptr<FakeDevice> fake = std::make_shared<FakeDevice>();
  std::unique_ptr<loader::GuestMemory> memory;
  std::unique_ptr<pci::PciHostBridge> bridge;
  std::shared_ptr<VirtioPci> transport;
  std::array<std::vector<bool>, 4> line_history;
  std::vector<Sent> msis;
  std::vector<std::pair<uint16_t, uint16_t>> sources;  // vector, requester ID of each MSI
  std::vector<std::string> log;
  uint8_t slot = 0;
  uint8_t line = 0;
  uint64_t bar = 0;
};

TEST_F(VirtioPciTest, IdentifiesAsAModernDevice) {
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kVendorId), 0x1044'1af4u);  // 0x1040 + entropy (4)
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kRevisionId, 1), 1u);
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kSubsystemVendorId), 0x1100'1af4u);
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kInterruptPin, 1), 1u);
  // BAR 4: 64-bit prefetchable memory, sized like the layout needs.
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kBar0 + 16) & 0xf, 0xcu);
  const uint32_t saved = ecam_read(*bridge, slot, pci::kBar0 + 16);
  ecam_write(*bridge, slot, pci::kBar0 + 16, 4, 0xffffffff);
  EXPECT_EQ(ecam_read(*bridge, slot, pci::kBar0 + 16) & ~0xfu, static_cast<uint32_t>(~(transport->bar_size() - 1)));
  ecam_write(*bridge, slot, pci::kBar0 + 16, 4, saved);
  EXPECT_GE(transport->bar_size(), 0x4000u);
  EXPECT_EQ(r(kNumQueues, 2), 2u);
}

TEST_F(VirtioPciTest, CapabilityWalkFindsEveryStructureInsideTheBar) {
  EXPECT_NE(ecam_read(*bridge, slot, pci::kStatus, 2) & pci::kStatusCapabilities, 0u);
  const auto caps = capabilities();
  for (uint8_t type : {kPciCapCommonCfg, kPciCapNotifyCfg, kPciCapIsrCfg, kPciCapDeviceCfg}) {
    ASSERT_TRUE(caps.contains(type)) << int(type);
    const uint8_t pos = caps.at(type);
    EXPECT_EQ(ecam_read(*bridge, slot, pos + 4u, 1), VirtioPci::kBar);
    const uint32_t offset = ecam_read(*bridge, slot, pos + 8u);
    const uint32_t length = ecam_read(*bridge, slot, pos + 12u);
    EXPECT_GT(length, 0u);
    EXPECT_LE(uint64_t{offset} + length, transport->bar_size()) << int(type);
  }
  EXPECT_GE(ecam_read(*bridge, slot, caps.at(kPciCapCommonCfg) + 12u), 0x38u);
  EXPECT_EQ(ecam_read(*bridge, slot, caps.at(kPciCapNotifyCfg) + 2u, 1), 20u);  // cap_len
  EXPECT_EQ(ecam_read(*bridge, slot, caps.at(kPciCapNotifyCfg) + 16u), VirtioPci::kNotifyOffMultiplier);

  ASSERT_TRUE(caps.contains(0xff));
  const uint8_t msix = caps.at(0xff);
  EXPECT_EQ((ecam_read(*bridge, slot, msix + 2u, 2) & 0x7ff) + 1, 3u);  // num_queues + 1 vectors
  const uint32_t table = ecam_read(*bridge, slot, msix + 4u);
  const uint32_t pba = ecam_read(*bridge, slot, msix + 8u);
  EXPECT_EQ(table & 7, VirtioPci::kBar);
  EXPECT_EQ(pba & 7, VirtioPci::kBar);
  EXPECT_LE((table & ~7u) + 3 * 16u, transport->bar_size());
  EXPECT_LE((pba & ~7u) + 8u, transport->bar_size());
}

TEST_F(VirtioPciTest, NegotiationActivatesTheDeviceWithReadyQueues) {
  w(kDfSelect, 4, 0);
  EXPECT_EQ(r(kDf, 4), static_cast<uint32_t>(kFEventIdx | kFeatureA));
  w(kDfSelect, 4, 1);
  EXPECT_EQ(r(kDf, 4), 1u);  // VERSION_1 is bit 32
  w(kDfSelect, 4, 2);
  EXPECT_EQ(r(kDf, 4), 0u);

  EXPECT_EQ(negotiate(kFVersion1 | kFeatureA), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  w(kQSelect, 2, 0);
  EXPECT_EQ(r(kQSize, 2), 128u);
  setup_queue(0, 64, 0x1'2345'0000);
  w(kStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  EXPECT_EQ(status(), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);

  ASSERT_EQ(fake->activations.size(), 1u);
  const Activation& a = fake->activations[0];
  EXPECT_EQ(a.features, kFVersion1 | kFeatureA);
  EXPECT_EQ(a.memory, memory.get());
  EXPECT_EQ(a.hooks, transport.get());
  ASSERT_EQ(a.queues.size(), 2u);
  ASSERT_NE(a.queues[0], nullptr);
  EXPECT_EQ(a.queues[1], nullptr);  // never enabled
  EXPECT_EQ(a.queues[0]->size(), 64u);
  EXPECT_EQ(a.queues[0]->desc_addr(), 0x1'2345'0000u);
  EXPECT_EQ(a.queues[0]->avail_addr(), 0x1'2345'1000u);
  EXPECT_EQ(a.queues[0]->used_addr(), 0x1'2345'2000u);
  EXPECT_TRUE(a.queues[0]->ready());
  // Features are frozen once FEATURES_OK is set.
  w(kGfSelect, 4, 0);
  w(kGf, 4, 0);
  EXPECT_EQ(transport->driver_features(), kFVersion1 | kFeatureA);
}

TEST_F(VirtioPciTest, FeaturesOkIsRefusedWithoutVersion1OrWithUnofferedBits) {
  EXPECT_EQ(negotiate(kFeatureA) & kStatusFeaturesOk, 0);
  EXPECT_EQ(negotiate(kFVersion1 | kFIndirectDesc) & kStatusFeaturesOk, 0);
  // DRIVER_OK without FEATURES_OK does not activate anything.
  w(kStatus, 1, kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_EQ(status() & kStatusDriverOk, 0);
  EXPECT_TRUE(fake->activations.empty());
  EXPECT_NE(negotiate(kFVersion1) & kStatusFeaturesOk, 0);
}

TEST_F(VirtioPciTest, StatusZeroResetsDeviceAndQueues) {
  driver_ok();
  w(kMsixConfig, 2, 0);
  w(kQSelect, 2, 0);
  w(kQMsix, 2, 1);
  w(kStatus, 1, 0);
  EXPECT_EQ(fake->resets, 2);  // negotiate() began with a reset too
  EXPECT_EQ(status(), 0);
  EXPECT_EQ(transport->driver_features(), 0u);
  EXPECT_EQ(r(kMsixConfig, 2), kMsiNoVector);
  w(kQSelect, 2, 0);
  EXPECT_EQ(r(kQSize, 2), 128u);
  EXPECT_EQ(r(kQEnable, 2), 0u);
  EXPECT_EQ(r(kQDesc, 8), 0u);
  EXPECT_EQ(r(kQMsix, 2), kMsiNoVector);
  // And it can be brought up again.
  driver_ok();
  EXPECT_EQ(fake->activations.size(), 2u);
}

TEST_F(VirtioPciTest, QueueRegistersValidateAndFreezeOnceEnabled) {
  w(kQSelect, 2, 2);  // no queue 2: size 0 tells the driver
  EXPECT_EQ(r(kQSize, 2), 0u);
  w(kQSize, 2, 16);
  EXPECT_EQ(r(kQSize, 2), 0u);
  w(kQSelect, 2, 1);
  EXPECT_EQ(r(kQNotifyOff, 2), 1u);
  w(kQSize, 2, 48);  // not a power of two
  EXPECT_EQ(r(kQSize, 2), 64u);
  w(kQSize, 2, 128);  // above the maximum
  EXPECT_EQ(r(kQSize, 2), 64u);
  w(kQSize, 2, 32);
  EXPECT_EQ(r(kQSize, 2), 32u);
  w(kQDriver, 8, 0xabcd'0000);
  w(kQEnable, 2, 1);
  w(kQSize, 2, 16);
  w(kQDriver, 4, 0);
  EXPECT_EQ(r(kQSize, 2), 32u);
  EXPECT_EQ(r(kQDriver, 8), 0xabcd'0000u);
  EXPECT_EQ(r(kQEnable, 2), 1u);
  w(kQMsix, 2, 3);  // only vectors 0..2 exist
  EXPECT_EQ(r(kQMsix, 2), kMsiNoVector);
  w(kQMsix, 2, 2);
  EXPECT_EQ(r(kQMsix, 2), 2u);
}

TEST_F(VirtioPciTest, IsrReadClearsAndIntxIsLevel) {
  transport->signal_used(0);  // before DRIVER_OK: nothing
  EXPECT_EQ(transport->isr_peek(), 0);
  driver_ok();
  transport->signal_used(0);
  EXPECT_TRUE(bridge->line_level(line));
  transport->signal_config();
  EXPECT_EQ(line_history[line], (std::vector<bool>{true}));
  EXPECT_EQ(r(VirtioPci::kIsrOffset, 1), 3u);
  EXPECT_FALSE(bridge->line_level(line));
  EXPECT_EQ(r(VirtioPci::kIsrOffset, 1), 0u);
  EXPECT_EQ(line_history[line], (std::vector<bool>{true, false}));
  EXPECT_TRUE(msis.empty());
}

TEST_F(VirtioPciTest, MsixDeliversPerQueueVectorsAndHonoursMasks) {
  driver_ok();
  enable_msix();
  w(kMsixConfig, 2, 0);
  EXPECT_EQ(r(kMsixConfig, 2), 0u);
  w(kQSelect, 2, 0);
  w(kQMsix, 2, 1);
  transport->signal_used(0);
  transport->signal_config();
  EXPECT_EQ(msis, (std::vector<Sent>{{0xfee0'0100, 0x51}, {0xfee0'0000, 0x50}}));
  // An ITS tells functions apart by requester ID: bus 0, the slot, function 0.
  const uint16_t rid = static_cast<uint16_t>(slot << 3);
  EXPECT_EQ(sources, (std::vector<std::pair<uint16_t, uint16_t>>{{1, rid}, {0, rid}}));
  EXPECT_EQ(transport->isr_peek(), 0);  // MSI-X replaces ISR and INTx
  EXPECT_TRUE(line_history[line].empty());

  // Mask vector 1: the message waits in the PBA until unmasked.
  const uint64_t entry1 = VirtioPci::kMsixTableOffset + 16;
  w(entry1 + 12, 4, 1);
  transport->signal_used(0);
  EXPECT_EQ(msis.size(), 2u);
  const uint64_t pba_offset = ecam_read(*bridge, slot, capabilities().at(0xff) + 8u) & ~7u;
  EXPECT_EQ(r(pba_offset, 8), 0b10u);
  w(entry1 + 12, 4, 0);
  EXPECT_EQ(msis.size(), 3u);
  EXPECT_EQ(r(pba_offset, 8), 0u);

  // NO_VECTOR: no interrupt at all.
  w(kQSelect, 2, 1);
  w(kQMsix, 2, kMsiNoVector);
  transport->signal_used(1);
  EXPECT_EQ(msis.size(), 3u);
  EXPECT_EQ(transport->isr_peek(), 0);
}

TEST_F(VirtioPciTest, DeviceErrorSetsNeedsResetInterruptsAndLogsOnce) {
  driver_ok();
  transport->device_error("descriptor loop");
  transport->device_error("again");
  EXPECT_NE(status() & kStatusNeedsReset, 0);
  EXPECT_EQ(transport->isr_peek(), 2);  // config change
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("descriptor loop"), std::string::npos);
  EXPECT_NE(log[0].find("virtio-fake"), std::string::npos);
  // The driver cannot clear it except by resetting.
  w(kStatus, 1, kStatusAcknowledge);
  EXPECT_NE(status() & kStatusNeedsReset, 0);
  w(kStatus, 1, 0);
  EXPECT_EQ(status(), 0);
}

// A guest that breaks the device, resets it and breaks it again, round after
// round (tests/guests/hostile/hostile_core.c does), gets one log line in all: the
// host's log must not grow with the guest's loop.
TEST_F(VirtioPciTest, DeviceErrorAfterResetIsNotLoggedAgain) {
  driver_ok();
  transport->device_error("descriptor loop");
  ASSERT_EQ(log.size(), 1u);
  for (int round = 0; round < 3; ++round) {
    w(kStatus, 1, 0);
    EXPECT_EQ(status(), 0);
    driver_ok();
    EXPECT_EQ(status() & kStatusNeedsReset, 0);
    transport->device_error("descriptor loop again");
    EXPECT_NE(status() & kStatusNeedsReset, 0);  // the guest still sees every error
  }
  EXPECT_EQ(log.size(), 1u);
}

TEST_F(VirtioPciTest, FailedActivationNeedsReset) {
  fake->accept = false;
  driver_ok();
  EXPECT_NE(status() & kStatusNeedsReset, 0);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("queue 0 is too small"), std::string::npos);
  w(VirtioPci::kNotifyOffset, 2, 0);
  EXPECT_TRUE(fake->notified.empty());
}

TEST_F(VirtioPciTest, NotifyReachesTheDeviceAndItsAddressFollowsTheBar) {
  EXPECT_EQ(transport->notify_address(0), bar + VirtioPci::kNotifyOffset);
  EXPECT_EQ(transport->notify_address(1), bar + VirtioPci::kNotifyOffset + 4);
  EXPECT_FALSE(transport->notify_address(2));
  w(VirtioPci::kNotifyOffset + 4, 2, 1);  // before DRIVER_OK: dropped
  EXPECT_TRUE(fake->notified.empty());
  driver_ok();
  w(VirtioPci::kNotifyOffset + 4, 2, 1);
  w(VirtioPci::kNotifyOffset, 2, 0);
  w(VirtioPci::kNotifyOffset + 8, 2, 2);  // no queue 2
  EXPECT_EQ(fake->notified, (std::vector<uint16_t>{1, 0}));

  std::vector<pci::BarMapping> moves;
  transport->set_bar_observer([&](const pci::BarMapping& m) { moves.push_back(m); });
  const uint32_t cmd = ecam_read(*bridge, slot, pci::kCommand, 2);
  ecam_write(*bridge, slot, pci::kCommand, 2, cmd & ~pci::kCommandMemory);
  EXPECT_FALSE(transport->notify_address(0));
  const uint64_t moved = bar + 0x10'0000;
  ecam_write(*bridge, slot, pci::kBar0 + 16, 4, static_cast<uint32_t>(moved));
  ecam_write(*bridge, slot, pci::kBar0 + 20, 4, static_cast<uint32_t>(moved >> 32));
  ecam_write(*bridge, slot, pci::kCommand, 2, cmd);
  EXPECT_EQ(transport->notify_address(1), moved + VirtioPci::kNotifyOffset + 4);
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[1].address, moved);
  EXPECT_TRUE(moves[1].decoding);
  dev_write(*bridge->mmio_window(), moved + VirtioPci::kNotifyOffset, 2, 0);
  EXPECT_EQ(fake->notified.size(), 3u);
}

TEST_F(VirtioPciTest, DeviceConfigPassesThroughAndGenerationCounts) {
  EXPECT_EQ(r(VirtioPci::kDeviceConfigOffset, 4), 0x04030201u);
  EXPECT_EQ(r(VirtioPci::kDeviceConfigOffset + 6, 4), 0u);  // past the end reads zero
  w(VirtioPci::kDeviceConfigOffset + 4, 2, 0xbbaa);
  EXPECT_EQ(fake->config[4], std::byte{0xaa});
  const uint64_t gen = r(kGeneration, 1);
  transport->signal_config();
  EXPECT_EQ(r(kGeneration, 1), (gen + 1) & 0xff);
}

// An I/O thread signalling while a vCPU thread reads ISR, notifies and
// resets: no deadlock, and the line ends up matching ISR. (Under the asan
// preset this also checks the paths for memory errors.)
TEST_F(VirtioPciTest, SignalsFromAnotherThreadRaceRegisterAccessesSafely) {
  driver_ok();
  std::atomic<bool> stop{false};
  std::thread io([&] {
    for (int i = 0; !stop; ++i) {
      transport->signal_used(static_cast<uint16_t>(i % 2));
      if (i % 7 == 0) transport->signal_config();
    }
  });
  for (int i = 0; i < 2000; ++i) {
    r(VirtioPci::kIsrOffset, 1);
    w(VirtioPci::kNotifyOffset, 2, 0);
    if (i % 500 == 0) driver_ok();
  }
  stop = true;
  io.join();
  EXPECT_EQ(bridge->line_level(line), transport->isr_peek() != 0);
  EXPECT_GT(fake->notified.size(), 0u);
  EXPECT_EQ(fake->resets, 5);  // one per driver_ok()
}

TEST_F(VirtioPciTest, CreateRejectsUnusableDevices) {
  class NoQueues final : public VirtioDevice {
   public:
    DeviceType type() const override { return DeviceType::kBlock; }
    std::string_view name() const override { return "none"; }
    uint64_t device_features() const override { return kFVersion1; }
    uint16_t num_queues() const override { return 0; }
    uint32_t config_size() const override { return 0; }
    void read_config(uint32_t, std::span<std::byte>) override {}
    bool activate(const Activation&, std::string&) override { return true; }
    void notify(uint16_t) override {}
    void reset() override {}
  };
  EXPECT_FALSE(VirtioPci::create(std::make_shared<NoQueues>(), *memory));
  EXPECT_FALSE(VirtioPci::create(nullptr, *memory));
}

}  // namespace
}  // namespace devices::virtio
