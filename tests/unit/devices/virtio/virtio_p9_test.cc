// The virtio-9p device model over a fake FsServer: identity, config space,
// chains handed to the server, used lengths, and broken chains.
#include "devices/virtio/virtio_p9.h"

#include <gtest/gtest.h>

#include <cstring>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;

// Echoes the request's bytes back reversed and records what it saw.
struct EchoServer : FsServer {
  std::optional<uint32_t> handle(std::span<const Buffer> in, std::span<const Buffer> out) override {
    ++calls;
    in_buffers = in.size();
    std::vector<std::byte> req;
    for (const auto& b : in) req.insert(req.end(), b.host.begin(), b.host.end());
    uint64_t room = 0;
    for (const auto& b : out) room += b.len;
    if (room < min_reply) return std::nullopt;
    std::reverse(req.begin(), req.end());
    uint32_t written = 0;
    for (const auto& b : out) {
      const size_t n = std::min<size_t>(b.len, req.size() - written);
      std::memcpy(b.host.data(), req.data() + written, n);
      written += static_cast<uint32_t>(n);
    }
    return written;
  }
  int calls = 0;
  size_t in_buffers = 0;
  uint64_t min_reply = 11;
};

class VirtioP9Test : public ::testing::Test {
 protected:
  VirtioP9Test() : h(1) {
    auto s = std::make_unique<EchoServer>();
    server = s.get();
    dev = std::make_unique<VirtioP9>(std::move(s), "hostshare");
  }
  test_support::DriverQueue& drv() { return h.drivers[0]; }
  DeviceHarness h;
  EchoServer* server;
  std::unique_ptr<VirtioP9> dev;
};

TEST_F(VirtioP9Test, IdentityAndMountTagConfig) {
  EXPECT_EQ(dev->type(), DeviceType::k9p);
  EXPECT_EQ(dev->num_queues(), 1);
  EXPECT_TRUE(dev->device_features() & VirtioP9::kFMountTag);
  EXPECT_TRUE(dev->device_features() & kFVersion1);
  ASSERT_EQ(dev->config_size(), 2u + 9u);
  std::array<std::byte, 16> cfg{};
  cfg.fill(std::byte{0xaa});
  dev->read_config(0, cfg);
  EXPECT_EQ(cfg[0], std::byte{9});
  EXPECT_EQ(cfg[1], std::byte{0});
  EXPECT_EQ(std::memcmp(cfg.data() + 2, "hostshare", 9), 0);
  EXPECT_EQ(cfg[11], std::byte{0}) << "past the end reads as zero";
  std::array<std::byte, 2> tail{};
  dev->read_config(10, tail);
  EXPECT_EQ(tail[0], std::byte{'e'});
}

TEST_F(VirtioP9Test, LongTagsAreCut) {
  VirtioP9 d(std::make_unique<EchoServer>(), std::string(200, 't'));
  EXPECT_EQ(d.tag().size(), VirtioP9::kMaxTagLength);
  EXPECT_EQ(d.config_size(), 2 + VirtioP9::kMaxTagLength);
}

TEST_F(VirtioP9Test, RequestGoesToServerAndReplyLengthToUsedRing) {
  std::string why;
  ASSERT_TRUE(h.activate(*dev, why)) << why;
  ASSERT_TRUE(h.mem.write_obj(loader::GuestAddress(DeviceHarness::kData), uint64_t{0x0102030405060708}));
  const uint16_t head = drv().add_chain({{DeviceHarness::kData, 5, false},
                                         {DeviceHarness::kData + 5, 3, false},
                                         {DeviceHarness::kData + 0x1000, 4, true},
                                         {DeviceHarness::kData + 0x2000, 100, true}});
  dev->notify(0);
  EXPECT_EQ(server->calls, 1);
  EXPECT_EQ(server->in_buffers, 2u);
  EXPECT_EQ(drv().used_idx(), 1);
  EXPECT_EQ(drv().used_elem(0), (std::pair<uint32_t, uint32_t>{head, 8}));
  auto first = h.mem.read_obj<uint32_t>(loader::GuestAddress(DeviceHarness::kData + 0x1000));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 0x04030201u);  // the request 08 07 .. 01 reversed
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{0});
  EXPECT_TRUE(h.hooks.errors.empty());
}

TEST_F(VirtioP9Test, ChainWithoutRoomForAReplyIsADeviceError) {
  std::string why;
  ASSERT_TRUE(h.activate(*dev, why)) << why;
  drv().add_chain({{DeviceHarness::kData, 8, false}, {DeviceHarness::kData + 0x1000, 4, true}});
  drv().add_chain({{DeviceHarness::kData, 8, false}, {DeviceHarness::kData + 0x1000, 64, true}});
  dev->notify(0);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_NE(h.hooks.errors[0].find("no room"), std::string::npos);
  EXPECT_EQ(drv().used_idx(), 0);
  dev->notify(0);  // a failed device stays quiet until reset
  EXPECT_EQ(server->calls, 1);
  dev->reset();
  ASSERT_TRUE(h.activate(*dev, why));
}

TEST_F(VirtioP9Test, MalformedRingIsADeviceError) {
  std::string why;
  ASSERT_TRUE(h.activate(*dev, why)) << why;
  drv().write_desc(0, 0xfffff0000ull, 16, 0, 0);  // outside guest memory
  drv().publish(0);
  dev->notify(0);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_EQ(server->calls, 0);
}

TEST_F(VirtioP9Test, NotifyBeforeActivationDoesNothing) {
  drv().add_chain({{DeviceHarness::kData, 8, false}, {DeviceHarness::kData + 0x1000, 64, true}});
  dev->notify(0);
  EXPECT_EQ(server->calls, 0);
  EXPECT_EQ(drv().used_idx(), 0);
}

}  // namespace
}  // namespace devices::virtio
