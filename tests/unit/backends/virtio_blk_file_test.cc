// virtio-blk over a real image file: the device model and the file backend
// together, as the VMM will wire them.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
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

// Every test runs on both I/O paths: synchronous and io_uring.
class VirtioBlkFileTest : public ::testing::TestWithParam<IoEngine> {
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
    auto b = FileBlockBackend::open(image, {.read_only = ro, .engine = GetParam()});
    ASSERT_TRUE(b) << b.error().message;
    ASSERT_EQ((*b)->async_io() != nullptr, GetParam() == IoEngine::kUring);
    blk = std::make_unique<VirtioBlk>(std::move(*b), "file");
    std::string why;
    ASSERT_TRUE(h.activate(*blk, why)) << why;
  }
  uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool data_in) {
    auto& q = h.drivers[0];
    q.put<uint32_t>(kHdr, type);
    q.put<uint64_t>(kHdr + 8, sector);
    q.add_chain({{kHdr, 16, false}, {kBuf, len, data_in}, {kStatus, 1, true}});
    const uint16_t before = q.used_idx();
    blk->notify(0);
    wait_used(static_cast<uint16_t>(before + 1));
    return q.get<uint8_t>(kStatus);
  }
  // What the I/O thread does: wait for the completion eventfd, then let the
  // device reap. The poll bound only turns a hang into a failure.
  void wait_used(uint16_t idx) {
    auto& q = h.drivers[0];
    while (q.used_idx() != idx && blk->backend_event_fd() >= 0) {
      pollfd p{blk->backend_event_fd(), POLLIN, 0};
      ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no completion";
      uint64_t count;
      (void)::read(p.fd, &count, sizeof count);
      blk->backend_event();
    }
    ASSERT_EQ(q.used_idx(), idx);
  }

  fs::path dir, image;
  DeviceHarness h{1, 64};
  std::unique_ptr<VirtioBlk> blk;
};

TEST_P(VirtioBlkFileTest, WriteThenReadBack) {
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

TEST_P(VirtioBlkFileTest, ReadOnlyImageStaysUnchanged) {
  start(true);
  EXPECT_TRUE(blk->device_features() & VirtioBlk::kFRo);
  auto& q = h.drivers[0];
  for (int i = 0; i < 512; ++i) q.put<uint8_t>(kBuf + i, 0xff);
  EXPECT_EQ(request(VirtioBlk::kTOut, 0, 512, false), VirtioBlk::kSIoErr);
  std::ifstream in(image, std::ios::binary);
  EXPECT_EQ(in.get(), 0);
  EXPECT_EQ(in.get(), 1);
}

TEST_P(VirtioBlkFileTest, SixteenRequestsInFlightFromOneNotify) {
  // A bigger image: 64 sectors, sector s filled with byte s.
  {
    std::ofstream out(image, std::ios::binary | std::ios::trunc);
    for (int s = 0; s < 64; ++s)
      for (int i = 0; i < 512; ++i) out.put(static_cast<char>(s));
  }
  start(false);
  auto& q = h.drivers[0];
  std::vector<uint16_t> heads;
  // 12 reads of scattered sectors and 4 writes, one doorbell.
  for (int i = 0; i < 16; ++i) {
    const uint64_t hdr = kHdr + 16 * i, buf = kBuf + 512 * i, status = kStatus + i;
    const bool write = i % 4 == 3;
    const uint64_t sector = write ? 40 + i : (i * 7) % 32;
    q.put<uint32_t>(hdr, write ? VirtioBlk::kTOut : VirtioBlk::kTIn);
    q.put<uint64_t>(hdr + 8, sector);
    q.put<uint8_t>(status, 0xee);
    for (int k = 0; k < 512; ++k) q.put<uint8_t>(buf + k, write ? 0xd0 + i : 0xff);
    heads.push_back(q.add_chain({{hdr, 16, false}, {buf, 512, !write}, {status, 1, true}}));
  }
  blk->notify(0);
  wait_used(16);
  for (int u = 0; u < 16; ++u) {
    auto [id, len] = q.used_elem(static_cast<uint16_t>(u));
    const int i = static_cast<int>(std::find(heads.begin(), heads.end(), id) - heads.begin());
    ASSERT_LT(i, 16) << "unknown head " << id;
    EXPECT_EQ(len, i % 4 == 3 ? 1u : 513u) << i;
  }
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(q.get<uint8_t>(kStatus + i), VirtioBlk::kSOk) << i;
    if (i % 4 == 3) continue;
    EXPECT_EQ(q.get<uint8_t>(kBuf + 512 * i), (i * 7) % 32) << i;
    EXPECT_EQ(q.get<uint8_t>(kBuf + 512 * i + 511), (i * 7) % 32) << i;
  }
  std::ifstream in(image, std::ios::binary);
  in.seekg((40 + 7) * 512 + 5);
  EXPECT_EQ(in.get(), 0xd0 + 7);
}

TEST_P(VirtioBlkFileTest, ShrunkImageFailsTheReadWithIoErr) {
  start(false);
  fs::resize_file(image, 512);  // sector 2 is now past the end of the file
  EXPECT_EQ(request(VirtioBlk::kTIn, 2, 512, true), VirtioBlk::kSIoErr);
  EXPECT_EQ(request(VirtioBlk::kTIn, 0, 512, true), VirtioBlk::kSOk);
}

TEST_P(VirtioBlkFileTest, ResetWithRequestsInFlightWaitsForThem) {
  start(false);
  auto& q = h.drivers[0];
  for (int i = 0; i < 4; ++i) {
    const uint64_t hdr = kHdr + 16 * i, buf = kBuf + 512 * i;
    q.put<uint32_t>(hdr, VirtioBlk::kTIn);
    q.put<uint64_t>(hdr + 8, i);
    for (int k = 0; k < 512; ++k) q.put<uint8_t>(buf + k, 0xff);
    q.add_chain({{hdr, 16, false}, {buf, 512, true}, {kStatus + i, 1, true}});
  }
  blk->notify(0);
  blk->reset();
  if (auto* io = blk->backend().async_io()) {
    EXPECT_EQ(io->in_flight(), 0u);
  }
  // Every read finished before reset returned: its buffer holds the image.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.get<uint8_t>(kBuf + 512 * i + 1), (512 * i + 1) % 13) << i;
}

#if MINIVMM_TEST_IO_URING
INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkFileTest, ::testing::Values(IoEngine::kSync, IoEngine::kUring),
#else
INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkFileTest, ::testing::Values(IoEngine::kSync),
#endif
                         [](const auto& info) { return info.param == IoEngine::kSync ? "Sync" : "IoUring"; });

}  // namespace
}  // namespace backends
