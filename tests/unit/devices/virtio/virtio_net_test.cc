#include "devices/virtio/virtio_net.h"

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;

// Records what the device sends; the test plays the backend's thread by
// calling VirtioNet::inject.
struct FakeBackend : NetBackend {
  explicit FakeBackend(bool vnet = false, uint64_t offloads = 0) : vnet(vnet), offloads(offloads) {}
  std::string describe() const override { return "fake"; }
  bool vnet_header() const override { return vnet; }
  uint64_t offload_features() const override { return offloads; }
  void set_offloads(uint64_t negotiated) override { set = negotiated; }
  void start(NetReceiver& r) override {
    receiver = &r;
    ++starts;
  }
  bool send(std::span<const std::span<const std::byte>> parts) override {
    std::vector<std::byte> frame;
    for (const auto& p : parts) frame.insert(frame.end(), p.begin(), p.end());
    sent.push_back(std::move(frame));
    return accept;
  }
  bool vnet;
  uint64_t offloads;
  uint64_t set = ~0ull;
  bool accept = true;
  int starts = 0;
  NetReceiver* receiver = nullptr;
  std::vector<std::vector<std::byte>> sent;
};

std::vector<std::byte> frame_of(size_t n, uint8_t seed = 1) {
  std::vector<std::byte> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = std::byte(static_cast<uint8_t>(seed + i * 7));
  return f;
}

constexpr uint64_t kBase = kFVersion1 | kFIndirectDesc;

class VirtioNetTest : public ::testing::Test {
 protected:
  void make(bool vnet = false, uint64_t offloads = 0) {
    auto b = std::make_unique<FakeBackend>(vnet, offloads);
    backend = b.get();
    net = std::make_unique<VirtioNet>(std::move(b), default_mac(0));
  }
  void activate(uint64_t features = kBase | VirtioNet::kFMrgRxbuf) {
    std::string why;
    ASSERT_TRUE(h.activate(*net, why, features)) << why;
  }
  test_support::DriverQueue& rx() { return h.drivers[VirtioNet::kReceiveQueue]; }
  test_support::DriverQueue& tx() { return h.drivers[VirtioNet::kTransmitQueue]; }
  void put_bytes(test_support::DriverQueue& q, uint64_t addr, std::span<const std::byte> bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) q.put(addr + i, bytes[i]);
  }
  std::vector<std::byte> get_bytes(uint64_t addr, size_t n) {
    std::vector<std::byte> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = rx().get<std::byte>(addr + i);
    return out;
  }
  VirtioNetHdr get_hdr(uint64_t addr) {
    VirtioNetHdr hdr;
    auto b = get_bytes(addr, sizeof hdr);
    std::memcpy(&hdr, b.data(), sizeof hdr);
    return hdr;
  }
  // One tx chain: header (12 bytes at kData) and the frame at kData + 0x100.
  uint16_t send_frame(const VirtioNetHdr& hdr, std::span<const std::byte> frame, uint64_t slot = 0) {
    const uint64_t at = DeviceHarness::kData + slot * 0x10000;
    put_bytes(tx(), at, std::as_bytes(std::span(&hdr, 1)));
    put_bytes(tx(), at + 0x100, frame);
    return tx().add_chain({{at, 12, false}, {at + 0x100, static_cast<uint32_t>(frame.size()), false}});
  }

  DeviceHarness h{2, 16};
  FakeBackend* backend = nullptr;
  std::unique_ptr<VirtioNet> net;
};

TEST_F(VirtioNetTest, IdentityConfigAndFeatures) {
  make();
  EXPECT_EQ(net->type(), DeviceType::kNet);
  EXPECT_EQ(net->num_queues(), 2);
  const uint64_t f = net->device_features();
  EXPECT_TRUE(f & VirtioNet::kFMac);
  EXPECT_TRUE(f & VirtioNet::kFStatus);
  EXPECT_TRUE(f & VirtioNet::kFMrgRxbuf);
  EXPECT_FALSE(f & VirtioNet::kOffloadMask) << "a backend without offloads gets none offered";
  std::array<std::byte, 10> cfg{};
  net->read_config(0, cfg);
  const std::array<uint8_t, 6> mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  EXPECT_EQ(std::memcmp(cfg.data(), mac.data(), 6), 0);
  EXPECT_EQ(cfg[6], std::byte{1}) << "link up";
  EXPECT_EQ(cfg[7], std::byte{0});
  EXPECT_EQ(cfg[8], std::byte{1}) << "one queue pair";
  EXPECT_EQ(default_mac(2)[5], 0x58);
}

TEST_F(VirtioNetTest, OffersOnlyTheBackendsOffloadsAndTellsItWhatWasTaken) {
  make(true, VirtioNet::kFCsum | VirtioNet::kFGuestCsum | VirtioNet::kFHostTso4);
  EXPECT_EQ(net->device_features() & VirtioNet::kOffloadMask,
            VirtioNet::kFCsum | VirtioNet::kFGuestCsum | VirtioNet::kFHostTso4);
  activate(kBase | VirtioNet::kFCsum);
  EXPECT_EQ(backend->set, VirtioNet::kFCsum);
  EXPECT_EQ(backend->starts, 0) << "activation runs on a vCPU, which may not start threads";
  net->start_threads();
  net->start_threads();
  net->reset();
  activate();
  EXPECT_EQ(backend->starts, 1) << "the backend starts once";
}

TEST_F(VirtioNetTest, TransmitWalksTheChainAndStripsTheHeader) {
  make();
  activate();
  const auto frame = frame_of(60);
  // The frame split over three descriptors, the header sharing the first.
  VirtioNetHdr hdr;
  put_bytes(tx(), DeviceHarness::kData, std::as_bytes(std::span(&hdr, 1)));
  put_bytes(tx(), DeviceHarness::kData + 12, std::span(frame).first(10));
  put_bytes(tx(), DeviceHarness::kData + 0x100, std::span(frame).subspan(10, 30));
  put_bytes(tx(), DeviceHarness::kData + 0x200, std::span(frame).subspan(40));
  const uint16_t head = tx().add_chain({{DeviceHarness::kData, 22, false},
                                        {DeviceHarness::kData + 0x100, 30, false},
                                        {DeviceHarness::kData + 0x200, 20, false}});
  net->notify(VirtioNet::kTransmitQueue);
  ASSERT_EQ(backend->sent.size(), 1u);
  EXPECT_EQ(backend->sent[0], frame);
  EXPECT_EQ(tx().used_elem(0), (std::pair<uint32_t, uint32_t>{head, 0}));
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{VirtioNet::kTransmitQueue});
  EXPECT_EQ(net->stats().tx_frames, 1u);
  EXPECT_EQ(net->stats().tx_bytes, 60u);
}

TEST_F(VirtioNetTest, TransmitKeepsTheCheckedHeaderForAVnetBackend) {
  make(true, VirtioNet::kFCsum);
  activate(kBase | VirtioNet::kFCsum);
  VirtioNetHdr hdr;
  hdr.flags = VirtioNet::kHdrFNeedsCsum;
  hdr.csum_start = 34;
  hdr.csum_offset = 16;
  hdr.num_buffers = 7;
  send_frame(hdr, frame_of(60));
  net->notify(VirtioNet::kTransmitQueue);
  ASSERT_EQ(backend->sent.size(), 1u);
  ASSERT_EQ(backend->sent[0].size(), 72u);
  VirtioNetHdr out;
  std::memcpy(&out, backend->sent[0].data(), sizeof out);
  EXPECT_EQ(out.flags, VirtioNet::kHdrFNeedsCsum);
  EXPECT_EQ(out.csum_start, 34);
  EXPECT_EQ(out.num_buffers, 0) << "num_buffers means nothing on transmit";
}

TEST_F(VirtioNetTest, BadFramesAreDroppedAndCountedAndTheDeviceCarriesOn) {
  make();
  activate();
  VirtioNetHdr ok;
  // Too short: a header and 13 bytes (less than an Ethernet header).
  send_frame(ok, frame_of(13), 0);
  // Too long: 64 KiB + 100 of frame.
  {
    const uint64_t at = DeviceHarness::kData + 0x10000;
    tx().add_chain({{at, 12, false}, {at + 0x100, VirtioNet::kMaxFrameBytes + 1, false}});
  }
  // Bad headers: a checksum request without CSUM negotiated; DATA_VALID from
  // the driver; a GSO type without TSO; an unknown flag.
  VirtioNetHdr csum;
  csum.flags = VirtioNet::kHdrFNeedsCsum;
  send_frame(csum, frame_of(60), 2);
  VirtioNetHdr valid;
  valid.flags = VirtioNet::kHdrFDataValid;
  send_frame(valid, frame_of(60), 3);
  VirtioNetHdr gso;
  gso.gso_type = VirtioNet::kGsoTcpv4;
  send_frame(gso, frame_of(60), 4);
  VirtioNetHdr junk;
  junk.flags = 0x80;
  send_frame(junk, frame_of(60), 5);
  // Just a header, no frame; then a header cut short (8 bytes).
  tx().add_chain({{DeviceHarness::kData + 6 * 0x10000, 12, false}});
  tx().add_chain({{DeviceHarness::kData + 7 * 0x10000, 8, false}});
  // And a good one after all that.
  send_frame(ok, frame_of(64), 8);
  net->notify(VirtioNet::kTransmitQueue);
  const VirtioNetStats s = net->stats();
  EXPECT_EQ(s.tx_too_short, 3u);
  EXPECT_EQ(s.tx_too_long, 1u);
  EXPECT_EQ(s.tx_bad_header, 4u);
  EXPECT_EQ(s.tx_frames, 1u);
  ASSERT_EQ(backend->sent.size(), 1u);
  EXPECT_EQ(backend->sent[0], frame_of(64));
  EXPECT_EQ(tx().used_idx(), 9) << "every chain goes back used";
  EXPECT_TRUE(h.hooks.errors.empty());
}

TEST_F(VirtioNetTest, ChecksumOutsideTheFrameIsABadHeader) {
  make(true, VirtioNet::kFCsum);
  activate(kBase | VirtioNet::kFCsum);
  VirtioNetHdr hdr;
  hdr.flags = VirtioNet::kHdrFNeedsCsum;
  hdr.csum_start = 50;
  hdr.csum_offset = 9;  // 50 + 9 + 2 > 60
  send_frame(hdr, frame_of(60));
  net->notify(VirtioNet::kTransmitQueue);
  EXPECT_EQ(net->stats().tx_bad_header, 1u);
  EXPECT_TRUE(backend->sent.empty());
}

TEST_F(VirtioNetTest, BackendRefusalIsCounted) {
  make();
  activate();
  backend->accept = false;
  send_frame(VirtioNetHdr{}, frame_of(60));
  net->notify(VirtioNet::kTransmitQueue);
  EXPECT_EQ(net->stats().tx_backend_dropped, 1u);
  EXPECT_EQ(net->stats().tx_frames, 0u);
  EXPECT_EQ(tx().used_idx(), 1);
}

TEST_F(VirtioNetTest, ReceiveIntoOneBuffer) {
  make();
  activate();
  const uint16_t head = rx().add_chain({{DeviceHarness::kData, 2048, true}});
  const auto frame = frame_of(100, 3);
  net->inject(frame);
  ASSERT_EQ(rx().used_idx(), 1);
  EXPECT_EQ(rx().used_elem(0), (std::pair<uint32_t, uint32_t>{head, 112}));
  EXPECT_EQ(get_hdr(DeviceHarness::kData).num_buffers, 1);
  EXPECT_EQ(get_bytes(DeviceHarness::kData + 12, 100), frame);
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{VirtioNet::kReceiveQueue});
  EXPECT_EQ(net->stats().rx_frames, 1u);
}

TEST_F(VirtioNetTest, ReceiveSpreadsOverMergeableBuffers) {
  make();
  activate();
  // Three 512-byte buffers for a 1200-byte frame: 1212 bytes -> 512 + 512 + 188.
  const uint16_t a = rx().add_chain({{DeviceHarness::kData, 512, true}});
  const uint16_t b = rx().add_chain({{DeviceHarness::kData + 0x1000, 512, true}});
  const uint16_t c = rx().add_chain({{DeviceHarness::kData + 0x2000, 512, true}});
  rx().add_chain({{DeviceHarness::kData + 0x3000, 512, true}});
  const auto frame = frame_of(1200, 9);
  net->inject(frame);
  ASSERT_EQ(rx().used_idx(), 3) << "published together";
  EXPECT_EQ(rx().used_elem(0), (std::pair<uint32_t, uint32_t>{a, 512}));
  EXPECT_EQ(rx().used_elem(1), (std::pair<uint32_t, uint32_t>{b, 512}));
  EXPECT_EQ(rx().used_elem(2), (std::pair<uint32_t, uint32_t>{c, 188}));
  EXPECT_EQ(get_hdr(DeviceHarness::kData).num_buffers, 3);
  std::vector<std::byte> got = get_bytes(DeviceHarness::kData + 12, 500);
  auto more = get_bytes(DeviceHarness::kData + 0x1000, 512);
  got.insert(got.end(), more.begin(), more.end());
  more = get_bytes(DeviceHarness::kData + 0x2000, 188);
  got.insert(got.end(), more.begin(), more.end());
  EXPECT_EQ(got, frame);
  // The fourth buffer is still there for the next frame.
  net->inject(frame_of(60));
  EXPECT_EQ(rx().used_idx(), 4);
  EXPECT_EQ(h.hooks.used.size(), 2u);
}

TEST_F(VirtioNetTest, WithoutMergeableOneChainMustHoldTheFrame) {
  make();
  activate(kBase);
  rx().add_chain({{DeviceHarness::kData, 100, true}});
  net->inject(frame_of(200));
  EXPECT_EQ(rx().used_idx(), 0) << "a too-small chain is not consumed";
  EXPECT_EQ(net->stats().rx_dropped_bad, 1u);
  rx().add_chain({{DeviceHarness::kData + 0x1000, 1600, true}});
  net->inject(frame_of(60));
  EXPECT_EQ(rx().used_idx(), 1);
  EXPECT_EQ(get_hdr(DeviceHarness::kData).num_buffers, 1) << "the small chain took the 60-byte frame";
}

TEST_F(VirtioNetTest, FramesWaitForBuffersInABoundedQueue) {
  make();
  activate();
  for (size_t i = 0; i < VirtioNet::kRxPending + 10; ++i) net->inject(frame_of(60, static_cast<uint8_t>(i)));
  EXPECT_EQ(net->rx_pending(), VirtioNet::kRxPending);
  EXPECT_EQ(net->stats().rx_dropped_full, 10u) << "a flood is dropped, not buffered without bound";
  EXPECT_EQ(rx().used_idx(), 0);
  // Buffers arrive: the oldest frames go first, in order.
  for (int i = 0; i < 4; ++i) rx().add_chain({{DeviceHarness::kData + 0x1000ull * i, 2048, true}});
  net->notify(VirtioNet::kReceiveQueue);
  EXPECT_EQ(rx().used_idx(), 4);
  EXPECT_EQ(net->rx_pending(), VirtioNet::kRxPending - 4);
  EXPECT_EQ(get_bytes(DeviceHarness::kData + 12, 60), frame_of(60, 0));
  EXPECT_EQ(get_bytes(DeviceHarness::kData + 0x3000 + 12, 60), frame_of(60, 3));
  // A new frame queues behind the waiting ones instead of overtaking them.
  rx().add_chain({{DeviceHarness::kData + 0x8000, 2048, true}});
  net->inject(frame_of(60, 200));
  EXPECT_EQ(get_bytes(DeviceHarness::kData + 0x8000 + 12, 60), frame_of(60, 4));
}

TEST_F(VirtioNetTest, MalformedFramesFromTheBackendAreDropped) {
  make(true);
  activate();
  rx().add_chain({{DeviceHarness::kData, 2048, true}});
  net->inject(frame_of(8));        // shorter than the vnet header
  net->inject(frame_of(12 + 10));  // header + less than an Ethernet header
  EXPECT_EQ(net->stats().rx_dropped_bad, 2u);
  EXPECT_EQ(rx().used_idx(), 0);
  // A good one keeps the backend's header (flags) and gets num_buffers.
  VirtioNetHdr hdr;
  hdr.flags = VirtioNet::kHdrFDataValid;
  std::vector<std::byte> raw(12);
  std::memcpy(raw.data(), &hdr, 12);
  auto f = frame_of(60);
  raw.insert(raw.end(), f.begin(), f.end());
  net->inject(raw);
  ASSERT_EQ(rx().used_idx(), 1);
  EXPECT_EQ(get_hdr(DeviceHarness::kData).flags, VirtioNet::kHdrFDataValid);
  EXPECT_EQ(get_hdr(DeviceHarness::kData).num_buffers, 1);
}

TEST_F(VirtioNetTest, NothingIsDeliveredBeforeActivationOrAfterReset) {
  make();
  net->inject(frame_of(60));
  EXPECT_EQ(net->stats().rx_dropped_full, 1u);
  activate();
  net->inject(frame_of(60));
  EXPECT_EQ(net->rx_pending(), 1u);
  net->reset();
  EXPECT_EQ(net->rx_pending(), 0u) << "reset forgets what the old driver never took";
}

TEST_F(VirtioNetTest, BrokenRingStopsTheDevice) {
  make();
  activate();
  tx().write_desc(0, DeviceHarness::kData, 100, test_support::kVirtqDescNext, 0);  // loops to itself
  tx().publish(0);
  net->notify(VirtioNet::kTransmitQueue);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], ::testing::HasSubstr("virtio-net: queue 1"));
  send_frame(VirtioNetHdr{}, frame_of(60), 1);
  net->notify(VirtioNet::kTransmitQueue);
  EXPECT_TRUE(backend->sent.empty());
}

}  // namespace
}  // namespace devices::virtio
