#include "devices/virtio/virtio_fs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;
using ::testing::HasSubstr;

// Records what the device handed over and answers like a FUSE server:
// 16 bytes of reply, or nothing for a request marked "no reply" (first
// readable byte 0xff), or "no room" when the writable part is too small.
struct FakeServer : FsServer {
  std::optional<uint32_t> handle(std::span<const Buffer> in, std::span<const Buffer> out) override {
    ++calls;
    in_sizes.clear();
    for (const Buffer& b : in) in_sizes.push_back(b.len);
    out_count = out.size();
    if (!in.empty() && in[0].len > 0 && in[0].host[0] == std::byte{0xff}) return 0;
    uint64_t room = 0;
    for (const Buffer& b : out) room += b.len;
    if (room < 16) return std::nullopt;
    for (size_t i = 0; i < 16 && i < out[0].host.size(); ++i) out[0].host[i] = std::byte(0xa0 + i);
    return 16;
  }
  int calls = 0;
  std::vector<uint32_t> in_sizes;
  size_t out_count = 0;
};

class VirtioFsTest : public ::testing::Test {
 protected:
  VirtioFsTest() : h(2), server(std::make_shared<FakeServer>()), fs("rootfs", server) {}
  void activate() {
    std::string why;
    ASSERT_TRUE(h.activate(fs, why)) << why;
  }
  DeviceHarness h;
  std::shared_ptr<FakeServer> server;
  VirtioFs fs;
};

TEST_F(VirtioFsTest, IdentityAndConfig) {
  EXPECT_EQ(fs.type(), DeviceType::kFs);
  EXPECT_EQ(fs.num_queues(), 2);
  EXPECT_EQ(fs.config_size(), 40u);
  std::array<std::byte, 44> cfg;
  fs.read_config(0, cfg);
  EXPECT_EQ(std::memcmp(cfg.data(), "rootfs\0\0", 8), 0);
  uint32_t queues;
  std::memcpy(&queues, cfg.data() + 36, 4);
  EXPECT_EQ(queues, 1u);
  EXPECT_EQ(cfg[40], std::byte{0}) << "past the end reads as zero";
  VirtioFs long_tag(std::string(50, 't'), server);
  EXPECT_EQ(long_tag.tag().size(), VirtioFs::kTagSize);
}

TEST_F(VirtioFsTest, RequestQueueHandsChainsToServer) {
  activate();
  auto& drv = h.drivers[1];
  const uint16_t head = drv.add_chain({{DeviceHarness::kData, 40, false},
                                       {DeviceHarness::kData + 0x100, 24, false},
                                       {DeviceHarness::kData + 0x1000, 4096, true}});
  fs.notify(1);
  EXPECT_EQ(server->calls, 1);
  EXPECT_EQ(server->in_sizes, (std::vector<uint32_t>{40, 24}));
  EXPECT_EQ(server->out_count, 1u);
  EXPECT_EQ(drv.used_idx(), 1);
  EXPECT_EQ(drv.used_elem(0), (std::pair<uint32_t, uint32_t>{head, 16}));
  EXPECT_EQ(drv.get<uint8_t>(DeviceHarness::kData + 0x1000), 0xa0);
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{1});
}

TEST_F(VirtioFsTest, HiprioRequestsWithoutReply) {
  activate();
  auto& drv = h.drivers[0];
  drv.put<uint8_t>(DeviceHarness::kData, 0xff);
  const uint16_t head = drv.add_chain({{DeviceHarness::kData, 48, false}});
  fs.notify(0);
  EXPECT_EQ(drv.used_elem(0), (std::pair<uint32_t, uint32_t>{head, 0}));
  EXPECT_TRUE(h.hooks.errors.empty());
}

TEST_F(VirtioFsTest, NoRoomForReplyHeaderIsDeviceError) {
  activate();
  auto& drv = h.drivers[1];
  drv.add_chain({{DeviceHarness::kData, 40, false}, {DeviceHarness::kData + 0x1000, 8, true}});
  fs.notify(1);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("no room for a reply header"));
  drv.add_chain({{DeviceHarness::kData, 40, false}, {DeviceHarness::kData + 0x1000, 64, true}});
  fs.notify(1);
  EXPECT_EQ(server->calls, 1) << "a failed device stops";
  fs.reset();
  fs.notify(1);
  EXPECT_EQ(server->calls, 1) << "and does nothing after a reset until activated";
}

TEST_F(VirtioFsTest, BrokenRingIsDeviceError) {
  activate();
  h.drivers[1].set_avail_idx(100);
  fs.notify(1);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("virtio-fs: queue 1"));
  EXPECT_EQ(server->calls, 0);
}

TEST_F(VirtioFsTest, IgnoresUnknownQueue) {
  activate();
  fs.notify(7);
  EXPECT_EQ(server->calls, 0);
  EXPECT_TRUE(h.hooks.errors.empty());
}

}  // namespace
}  // namespace devices::virtio
