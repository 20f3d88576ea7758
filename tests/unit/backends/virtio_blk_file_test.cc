// virtio-blk over a real image file: the device model and the file backend
// together, as the VMM will wire them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../devices/virtio/virtio_test_util.h"
#include "backends/file_block_backend.h"
#include "devices/virtio/virtio_blk.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using devices::virtio::VirtioBlk;
using devices::virtio::test_util::DeviceHarness;

class VirtioBlkFileTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kHdr = DeviceHarness::kData, kBuf = kHdr + 0x1000, kStatus = kHdr + 0x10000;

  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-blkfile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    image = dir / "disk.img";
    std::ofstream out(image, std::ios::binary);
    for (int i = 0; i < 4 * 512 + 200; ++i) out.put(static_cast<char>(i % 13));
  }
  void TearDown() override { fs::remove_all(dir); }

  void start(bool ro) {
    auto b = FileBlockBackend::open(image, {.read_only = ro});
    ASSERT_TRUE(b) << b.error().message;
    blk = std::make_unique<VirtioBlk>(std::move(*b), "file");
    std::string why;
    ASSERT_TRUE(h.activate(*blk, why)) << why;
  }
  uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool data_in) {
    auto& q = h.drivers[0];
    q.put<uint32_t>(kHdr, type);
    q.put<uint64_t>(kHdr + 8, sector);
    q.add_chain({{kHdr, 16, false}, {kBuf, len, data_in}, {kStatus, 1, true}});
    blk->notify(0);
    return q.get<uint8_t>(kStatus);
  }

  fs::path dir, image;
  DeviceHarness h{1};
  std::unique_ptr<VirtioBlk> blk;
};

TEST_F(VirtioBlkFileTest, WriteThenReadBack) {
  start(false);
  EXPECT_EQ(blk->capacity_sectors(), 4u) << "the 200-byte tail is unreachable";
  auto& q = h.drivers[0];
  for (int i = 0; i < 512; ++i) q.put<uint8_t>(kBuf + i, static_cast<uint8_t>(0xa0 + i % 7));
  EXPECT_EQ(request(VirtioBlk::kTOut, 3, 512, false), VirtioBlk::kSOk);
  for (int i = 0; i < 512; ++i) q.put<uint8_t>(kBuf + i, 0);
  EXPECT_EQ(request(VirtioBlk::kTIn, 3, 512, true), VirtioBlk::kSOk);
  EXPECT_EQ(q.get<uint8_t>(kBuf + 6), 0xa6);
  EXPECT_EQ(request(VirtioBlk::kTIn, 4, 512, true), VirtioBlk::kSIoErr);
  EXPECT_EQ(request(VirtioBlk::kTFlush, 0, 0, false), VirtioBlk::kSOk);
}

TEST_F(VirtioBlkFileTest, ReadOnlyImageStaysUnchanged) {
  start(true);
  EXPECT_TRUE(blk->device_features() & VirtioBlk::kFRo);
  auto& q = h.drivers[0];
  for (int i = 0; i < 512; ++i) q.put<uint8_t>(kBuf + i, 0xff);
  EXPECT_EQ(request(VirtioBlk::kTOut, 0, 512, false), VirtioBlk::kSIoErr);
  std::ifstream in(image, std::ios::binary);
  EXPECT_EQ(in.get(), 0);
  EXPECT_EQ(in.get(), 1);
}

}  // namespace
}  // namespace backends
