#include "devices/virtio/virtio_blk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;
using ::testing::HasSubstr;

// In-memory disk that records what reached it.
class FakeBackend : public BlockBackend {
 public:
  // `reported` lets a test claim a huge disk without allocating it.
  FakeBackend(uint64_t size, bool ro, uint64_t reported = 0) : data(size), ro(ro), reported(reported) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(static_cast<uint8_t>(i * 7));
  }
  uint64_t size() const override { return reported ? reported : data.size(); }
  bool read_only() const override { return ro; }
  Result<void> read_at(uint64_t offset, std::span<const std::span<std::byte>> bufs) override {
    ++reads;
    if (fail) return std::unexpected(Error{ErrorCode::kIo, "fail"});
    for (auto b : bufs) {
      if (offset + b.size() > data.size()) return std::unexpected(Error{ErrorCode::kIo, "past end"});
      std::memcpy(b.data(), data.data() + offset, b.size());
      offset += b.size();
    }
    return {};
  }
  Result<void> write_at(uint64_t offset, std::span<const std::span<const std::byte>> bufs) override {
    ++writes;
    if (fail) return std::unexpected(Error{ErrorCode::kIo, "fail"});
    for (auto b : bufs) {
      if (offset + b.size() > data.size()) return std::unexpected(Error{ErrorCode::kIo, "past end"});
      std::memcpy(data.data() + offset, b.data(), b.size());
      offset += b.size();
    }
    return {};
  }
  Result<void> flush() override {
    ++flushes;
    if (fail) return std::unexpected(Error{ErrorCode::kIo, "fail"});
    return {};
  }
  Result<void> discard(uint64_t offset, uint64_t len) override {
    discards.emplace_back(offset, len);
    return {};
  }
  Result<void> write_zeroes(uint64_t offset, uint64_t len) override {
    zeroes.emplace_back(offset, len);
    std::memset(data.data() + offset, 0, len);
    return {};
  }
  std::vector<std::byte> data;
  bool ro;
  uint64_t reported;
  bool fail = false;
  int reads = 0, writes = 0, flushes = 0;
  std::vector<std::pair<uint64_t, uint64_t>> discards, zeroes;
};

constexpr uint64_t kHdr = DeviceHarness::kData;
constexpr uint64_t kBuf = DeviceHarness::kData + 0x1000;
constexpr uint64_t kStatusAddr = DeviceHarness::kData + 0x20000;
constexpr uint64_t kAllFeatures = kFVersion1 | kFIndirectDesc | VirtioBlk::kFDiscard | VirtioBlk::kFWriteZeroes |
                                  VirtioBlk::kFFlush;

class VirtioBlkTest : public ::testing::Test {
 protected:
  void make(uint64_t size = 64 * 1024, bool ro = false, uint64_t features = kAllFeatures, uint64_t reported = 0) {
    auto b = std::make_unique<FakeBackend>(size, ro, reported);
    backend = b.get();
    blk = std::make_unique<VirtioBlk>(std::move(b), "serial-123");
    std::string why;
    ASSERT_TRUE(h.activate(*blk, why, features)) << why;
  }
  test_support::DriverQueue& drv() { return h.drivers[0]; }
  void header(uint32_t type, uint64_t sector) {
    drv().put<uint32_t>(kHdr, type);
    drv().put<uint32_t>(kHdr + 4, 0);
    drv().put<uint64_t>(kHdr + 8, sector);
    drv().put<uint8_t>(kStatusAddr, 0xee);
  }
  // Submits one chain, runs the device and returns (status, used len).
  std::pair<uint8_t, uint32_t> run(const std::vector<test_support::DriverBuffer>& bufs) {
    uint16_t before = drv().used_idx();
    drv().add_chain(bufs);
    blk->notify(0);
    EXPECT_EQ(drv().used_idx(), before + 1);
    return {drv().get<uint8_t>(kStatusAddr), drv().used_elem(before).second};
  }
  std::pair<uint8_t, uint32_t> read_req(uint64_t sector, uint32_t len) {
    header(VirtioBlk::kTIn, sector);
    return run({{kHdr, 16, false}, {kBuf, len, true}, {kStatusAddr, 1, true}});
  }
  std::pair<uint8_t, uint32_t> write_req(uint64_t sector, uint32_t len) {
    header(VirtioBlk::kTOut, sector);
    return run({{kHdr, 16, false}, {kBuf, len, false}, {kStatusAddr, 1, true}});
  }
  std::pair<uint8_t, uint32_t> segment_req(uint32_t type, const std::vector<std::array<uint64_t, 3>>& segs) {
    header(type, 0);
    for (size_t i = 0; i < segs.size(); ++i) {
      drv().put<uint64_t>(kBuf + 16 * i, segs[i][0]);
      drv().put<uint32_t>(kBuf + 16 * i + 8, static_cast<uint32_t>(segs[i][1]));
      drv().put<uint32_t>(kBuf + 16 * i + 12, static_cast<uint32_t>(segs[i][2]));
    }
    return run({{kHdr, 16, false}, {kBuf, static_cast<uint32_t>(16 * segs.size()), false}, {kStatusAddr, 1, true}});
  }

  DeviceHarness h{1};
  FakeBackend* backend = nullptr;
  std::unique_ptr<VirtioBlk> blk;
};

TEST_F(VirtioBlkTest, FeaturesAndConfig) {
  make(10 * 512 + 100);
  uint64_t f = blk->device_features();
  for (uint64_t bit : {kFVersion1, kFIndirectDesc, kFEventIdx, VirtioBlk::kFSegMax, VirtioBlk::kFBlkSize,
                       VirtioBlk::kFFlush, VirtioBlk::kFDiscard, VirtioBlk::kFWriteZeroes}) {
    EXPECT_TRUE(f & bit) << std::hex << bit;
  }
  EXPECT_FALSE(f & VirtioBlk::kFRo);
  std::array<std::byte, VirtioBlk::kConfigSize> cfg{};
  blk->read_config(0, cfg);
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, cfg.data() + off, 4);
    return v;
  };
  uint64_t capacity;
  std::memcpy(&capacity, cfg.data(), 8);
  EXPECT_EQ(capacity, 10u) << "a partial last sector is not exposed";
  EXPECT_EQ(u32(12), VirtioBlk::kQueueSize - 2u);
  EXPECT_EQ(u32(20), 512u);
  EXPECT_EQ(u32(36), VirtioBlk::kMaxDiscardSectors);
  EXPECT_EQ(u32(40), VirtioBlk::kMaxDiscardSegments);
  EXPECT_EQ(u32(48), VirtioBlk::kMaxWriteZeroesSectors);
  EXPECT_EQ(u32(52), VirtioBlk::kMaxWriteZeroesSegments);
  // Past the end reads zero.
  std::array<std::byte, 8> past{std::byte{1}};
  blk->read_config(VirtioBlk::kConfigSize - 2, past);
  EXPECT_EQ(past[7], std::byte{0});
}

TEST_F(VirtioBlkTest, ReadOnlyOffersRo) {
  make(4096, true);
  EXPECT_TRUE(blk->device_features() & VirtioBlk::kFRo);
}

TEST_F(VirtioBlkTest, ReadSectors) {
  make();
  auto [status, len] = read_req(2, 1024);
  EXPECT_EQ(status, VirtioBlk::kSOk);
  EXPECT_EQ(len, 1025u);
  EXPECT_EQ(drv().get<uint8_t>(kBuf), static_cast<uint8_t>(1024 * 7));
  EXPECT_EQ(drv().get<uint8_t>(kBuf + 1023), static_cast<uint8_t>((1024 + 1023) * 7));
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{0});
}

TEST_F(VirtioBlkTest, ReadWithStatusInTheDataBuffer) {
  make();
  // Data and status share one writable descriptor: the status is its last byte.
  header(VirtioBlk::kTIn, 0);
  drv().add_chain({{kHdr, 16, false}, {kBuf, 513, true}});
  blk->notify(0);
  EXPECT_EQ(drv().get<uint8_t>(kBuf + 512), VirtioBlk::kSOk);
  EXPECT_EQ(drv().get<uint8_t>(kBuf + 1), 7);
  EXPECT_EQ(drv().used_elem(0).second, 513u);
}

TEST_F(VirtioBlkTest, HeaderSplitAcrossDescriptors) {
  make();
  header(VirtioBlk::kTIn, 1);
  auto r = run({{kHdr, 8, false}, {kHdr + 8, 8, false}, {kBuf, 512, true}, {kStatusAddr, 1, true}});
  EXPECT_EQ(r.first, VirtioBlk::kSOk);
  EXPECT_EQ(drv().get<uint8_t>(kBuf), static_cast<uint8_t>(512 * 7));
}

TEST_F(VirtioBlkTest, WriteSectors) {
  make();
  for (int i = 0; i < 512; ++i) drv().put<uint8_t>(kBuf + i, 0x42);
  auto [status, len] = write_req(3, 512);
  EXPECT_EQ(status, VirtioBlk::kSOk);
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(backend->data[3 * 512], std::byte{0x42});
  EXPECT_EQ(backend->data[4 * 512 - 1], std::byte{0x42});
  EXPECT_NE(backend->data[4 * 512], std::byte{0x42});
}

TEST_F(VirtioBlkTest, WriteOnReadOnlyNeverReachesBackend) {
  make(64 * 1024, true);
  EXPECT_EQ(write_req(0, 512).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(backend->writes, 0);
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, 1, 0}}).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(segment_req(VirtioBlk::kTWriteZeroes, {{0, 1, 0}}).first, VirtioBlk::kSIoErr);
  EXPECT_TRUE(backend->discards.empty());
  EXPECT_TRUE(backend->zeroes.empty());
  EXPECT_EQ(read_req(0, 512).first, VirtioBlk::kSOk) << "reads still work";
}

TEST_F(VirtioBlkTest, OutOfRangeIsIoErr) {
  make(8 * 512);
  EXPECT_EQ(read_req(7, 512).first, VirtioBlk::kSOk);
  EXPECT_EQ(read_req(7, 1024).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(read_req(8, 512).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(read_req(9, 0).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(write_req(8, 512).first, VirtioBlk::kSIoErr);
  // sector * 512 would wrap to a small offset.
  EXPECT_EQ(read_req(0x0080'0000'0000'0000ull, 512).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(read_req(~0ull, 512).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(backend->reads, 1);
  EXPECT_EQ(backend->writes, 0);
}

TEST_F(VirtioBlkTest, UnreachableTailOfOddSizedImage) {
  make(4 * 512 + 300);
  EXPECT_EQ(blk->capacity_sectors(), 4u);
  EXPECT_EQ(read_req(4, 512).first, VirtioBlk::kSIoErr);
}

TEST_F(VirtioBlkTest, OddDataLengthsAreIoErr) {
  make();
  EXPECT_EQ(read_req(0, 100).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(read_req(0, 513).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(write_req(0, 511).first, VirtioBlk::kSIoErr);
  EXPECT_EQ(backend->reads + backend->writes, 0);
}

TEST_F(VirtioBlkTest, ShortHeaderIsIoErr) {
  make();
  header(VirtioBlk::kTIn, 0);
  auto r = run({{kHdr, 15, false}, {kBuf, 512, true}, {kStatusAddr, 1, true}});
  EXPECT_EQ(r.first, VirtioBlk::kSIoErr);
  EXPECT_EQ(r.second, 1u);
  r = run({{kBuf, 512, true}, {kStatusAddr, 1, true}});
  EXPECT_EQ(r.first, VirtioBlk::kSIoErr);
}

TEST_F(VirtioBlkTest, MissingStatusByteIsADeviceError) {
  make();
  header(VirtioBlk::kTOut, 0);
  drv().add_chain({{kHdr, 16, false}, {kBuf, 512, false}});
  blk->notify(0);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("no status byte"));
  EXPECT_EQ(backend->writes, 0);
}

TEST_F(VirtioBlkTest, BackendFailureIsIoErr) {
  make();
  backend->fail = true;
  EXPECT_EQ(read_req(0, 512), (std::pair<uint8_t, uint32_t>{VirtioBlk::kSIoErr, 1}));
  EXPECT_EQ(write_req(0, 512).first, VirtioBlk::kSIoErr);
  header(VirtioBlk::kTFlush, 0);
  EXPECT_EQ(run({{kHdr, 16, false}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSIoErr);
}

TEST_F(VirtioBlkTest, Flush) {
  make();
  header(VirtioBlk::kTFlush, 0);
  EXPECT_EQ(run({{kHdr, 16, false}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSOk);
  EXPECT_EQ(backend->flushes, 1);
}

TEST_F(VirtioBlkTest, GetId) {
  make();
  header(VirtioBlk::kTGetId, 0);
  for (int i = 0; i < 20; ++i) drv().put<uint8_t>(kBuf + i, 0xff);
  auto [status, len] = run({{kHdr, 16, false}, {kBuf, 20, true}, {kStatusAddr, 1, true}});
  EXPECT_EQ(status, VirtioBlk::kSOk);
  EXPECT_EQ(len, 21u);
  std::array<char, 20> id{};
  for (int i = 0; i < 20; ++i) id[i] = static_cast<char>(drv().get<uint8_t>(kBuf + i));
  EXPECT_EQ(std::string(id.data(), 10), "serial-123");
  EXPECT_EQ(id[10], '\0');
  EXPECT_EQ(id[19], '\0');
}

TEST_F(VirtioBlkTest, UnknownTypeIsUnsupp) {
  make();
  header(99, 0);
  EXPECT_EQ(run({{kHdr, 16, false}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSUnsupp);
  header(10, 0);  // GET_LIFETIME: not offered
  EXPECT_EQ(run({{kHdr, 16, false}, {kBuf, 16, true}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSUnsupp);
}

TEST_F(VirtioBlkTest, Discard) {
  make();
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{2, 4, 0}, {10, 1, 0}}).first, VirtioBlk::kSOk);
  EXPECT_EQ(backend->discards, (std::vector<std::pair<uint64_t, uint64_t>>{{1024, 2048}, {5120, 512}}));
}

TEST_F(VirtioBlkTest, DiscardRefusals) {
  make(64 * 1024);
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, 1, 1}}).first, VirtioBlk::kSUnsupp) << "unmap on discard";
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, 1, 4}}).first, VirtioBlk::kSUnsupp) << "unknown flag";
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{127, 2, 0}}).first, VirtioBlk::kSIoErr) << "past the end";
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{~0ull, 1, 0}}).first, VirtioBlk::kSIoErr) << "wrapping";
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, 1, 0}, {0, 200, 0}}).first, VirtioBlk::kSIoErr)
      << "one bad segment fails the whole request";
  std::vector<std::array<uint64_t, 3>> many(VirtioBlk::kMaxDiscardSegments + 1, {0, 1, 0});
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, many).first, VirtioBlk::kSIoErr) << "too many segments";
  // A segment payload that is not a multiple of 16 bytes.
  header(VirtioBlk::kTDiscard, 0);
  EXPECT_EQ(run({{kHdr, 16, false}, {kBuf, 24, false}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSIoErr);
  header(VirtioBlk::kTDiscard, 0);
  EXPECT_EQ(run({{kHdr, 16, false}, {kStatusAddr, 1, true}}).first, VirtioBlk::kSIoErr) << "no segments";
  EXPECT_TRUE(backend->discards.empty());
}

TEST_F(VirtioBlkTest, DiscardTooManySectors) {
  make(4096, false, kAllFeatures, 4ull << 30);  // discard never touches the fake's bytes
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, VirtioBlk::kMaxDiscardSectors + 1ull, 0}}).first,
            VirtioBlk::kSIoErr);
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, VirtioBlk::kMaxDiscardSectors, 0}}).first, VirtioBlk::kSOk);
}

TEST_F(VirtioBlkTest, WriteZeroes) {
  make();
  EXPECT_EQ(segment_req(VirtioBlk::kTWriteZeroes, {{1, 2, VirtioBlk::kWriteZeroesFUnmap}}).first, VirtioBlk::kSOk);
  EXPECT_EQ(backend->zeroes, (std::vector<std::pair<uint64_t, uint64_t>>{{512, 1024}}));
  EXPECT_EQ(backend->data[512], std::byte{0});
  EXPECT_EQ(segment_req(VirtioBlk::kTWriteZeroes, {{1, 2, 2}}).first, VirtioBlk::kSUnsupp);
}

TEST_F(VirtioBlkTest, DiscardWithoutNegotiationIsUnsupp) {
  make(64 * 1024, false, kFVersion1);
  EXPECT_EQ(segment_req(VirtioBlk::kTDiscard, {{0, 1, 0}}).first, VirtioBlk::kSUnsupp);
  EXPECT_EQ(segment_req(VirtioBlk::kTWriteZeroes, {{0, 1, 0}}).first, VirtioBlk::kSUnsupp);
}

TEST_F(VirtioBlkTest, IndirectRequest) {
  make();
  header(VirtioBlk::kTIn, 0);
  drv().add_indirect_chain(DeviceHarness::kData + 0x30000,
                           {{kHdr, 16, false}, {kBuf, 512, true}, {kBuf + 512, 512, true}, {kStatusAddr, 1, true}});
  blk->notify(0);
  EXPECT_EQ(drv().get<uint8_t>(kStatusAddr), VirtioBlk::kSOk);
  EXPECT_EQ(drv().used_elem(0).second, 1025u);
  EXPECT_EQ(drv().get<uint8_t>(kBuf + 512), static_cast<uint8_t>(512 * 7));
}

TEST_F(VirtioBlkTest, ManyRequestsOneNotify) {
  make();
  for (int i = 0; i < 5; ++i) {
    header(VirtioBlk::kTFlush, 0);
    drv().add_chain({{kHdr, 16, false}, {kStatusAddr, 1, true}});
  }
  blk->notify(0);
  EXPECT_EQ(drv().used_idx(), 5);
  EXPECT_EQ(backend->flushes, 5);
  EXPECT_EQ(h.hooks.used.size(), 1u) << "one interrupt for the batch";
}

TEST_F(VirtioBlkTest, MalformedRingIsADeviceError) {
  make();
  drv().set_avail_idx(100);
  blk->notify(0);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("virtio-blk: queue 0: available index 100"));
}

// The asynchronous seam without a kernel: requests wait until the test
// completes them, in whatever order it picks, so out-of-order completion,
// the in-flight bound and the reset barrier are deterministic.
class FakeAsync : public AsyncBlockIo {
 public:
  FakeAsync(FakeBackend& disk, uint32_t capacity) : disk(disk), cap(capacity) {}
  struct Request {
    uint32_t tag;
    bool write;
    uint64_t offset;
    std::vector<std::span<std::byte>> buffers;
    bool submitted = false;
  };
  uint32_t capacity() const override { return cap; }
  Result<void> queue_read(uint64_t offset, std::span<const std::span<std::byte>> b, uint32_t tag) override {
    EXPECT_LT(tag, cap);
    if (refuse) return std::unexpected(Error{ErrorCode::kIo, "refused"});
    pending.push_back({tag, false, offset, {b.begin(), b.end()}});
    return {};
  }
  Result<void> queue_write(uint64_t offset, std::span<const std::span<const std::byte>> b, uint32_t tag) override {
    EXPECT_LT(tag, cap);
    std::vector<std::span<std::byte>> w;
    // The fake copies from them only; the cast just shares one Request type.
    for (auto x : b) w.emplace_back(const_cast<std::byte*>(x.data()), x.size());
    pending.push_back({tag, true, offset, std::move(w)});
    return {};
  }
  void submit() override {
    ++submits;
    for (auto& r : pending) r.submitted = true;
  }
  // Completes submitted requests newest first (the reverse of submission).
  size_t reap(bool wait, const std::function<void(uint32_t, bool)>& done) override {
    if (wait) ++waits;
    size_t n = 0;
    while (!pending.empty() && pending.back().submitted) {
      Request r = pending.back();
      pending.pop_back();
      bool ok = r.offset != fail_offset;
      uint64_t at = r.offset;
      for (auto b : r.buffers) {
        if (!ok) break;
        if (r.write) std::memcpy(disk.data.data() + at, b.data(), b.size());
        else std::memcpy(b.data(), disk.data.data() + at, b.size());
        at += b.size();
      }
      done(r.tag, ok);
      ++n;
    }
    return n;
  }
  uint32_t in_flight() const override { return static_cast<uint32_t>(pending.size()); }
  int completion_fd() const override { return 1000; }

  FakeBackend& disk;
  uint32_t cap;
  std::vector<Request> pending;
  uint64_t fail_offset = ~0ull;
  bool refuse = false;
  int submits = 0, waits = 0;
};

class AsyncBackend : public FakeBackend {
 public:
  AsyncBackend(uint64_t size, uint32_t capacity) : FakeBackend(size, false), io(*this, capacity) {}
  AsyncBlockIo* async_io() override { return &io; }
  FakeAsync io;
};

class VirtioBlkAsyncTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kStatusBase = DeviceHarness::kData + 0x30000;
  void make(uint32_t capacity) {
    auto b = std::make_unique<AsyncBackend>(64 * 1024, capacity);
    backend = b.get();
    blk = std::make_unique<VirtioBlk>(std::move(b));
    std::string why;
    ASSERT_TRUE(h.activate(*blk, why, kAllFeatures | kFEventIdx)) << why;
  }
  test_support::DriverQueue& drv() { return h.drivers[0]; }
  // Request i: its header, 512-byte buffer and status byte at their own addresses.
  uint16_t add(uint32_t type, uint64_t sector, int i) {
    const uint64_t hdr = kHdr + 16ull * i, buf = kBuf + 512ull * i, status = kStatusBase + i;
    drv().put<uint32_t>(hdr, type);
    drv().put<uint64_t>(hdr + 8, sector);
    drv().put<uint8_t>(status, 0xee);
    const uint32_t len = type == VirtioBlk::kTFlush ? 0 : 512;
    if (len == 0) return drv().add_chain({{hdr, 16, false}, {status, 1, true}});
    return drv().add_chain({{hdr, 16, false}, {buf, len, type == VirtioBlk::kTIn}, {status, 1, true}});
  }
  uint8_t status(int i) { return drv().get<uint8_t>(kStatusBase + i); }

  DeviceHarness h{1, 64};
  AsyncBackend* backend = nullptr;
  std::unique_ptr<VirtioBlk> blk;
};

TEST_F(VirtioBlkAsyncTest, OneNotifySubmitsAllAndOutOfOrderCompletionsLandInTheirChains) {
  make(16);
  EXPECT_EQ(blk->backend_event_fd(), 1000);
  std::vector<uint16_t> heads;
  for (int i = 0; i < 8; ++i) heads.push_back(add(VirtioBlk::kTIn, 8 + i, i));
  blk->notify(0);
  EXPECT_EQ(backend->io.pending.size(), 8u);
  EXPECT_EQ(backend->io.submits, 1) << "one submission for the whole notification";
  EXPECT_EQ(drv().used_idx(), 0) << "nothing completes before the backend says so";
  EXPECT_EQ(status(0), 0xee);
  blk->backend_event();  // completes them newest first
  ASSERT_EQ(drv().used_idx(), 8);
  for (int u = 0; u < 8; ++u) {
    auto [id, len] = drv().used_elem(static_cast<uint16_t>(u));
    EXPECT_EQ(id, heads[7 - u]) << "reverse order";
    EXPECT_EQ(len, 513u);
  }
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(status(i), VirtioBlk::kSOk);
    // Request i read sector 8 + i: byte k of the disk is k * 7.
    const uint64_t first = (8ull + i) * 512;
    EXPECT_EQ(drv().get<uint8_t>(kBuf + 512ull * i), static_cast<uint8_t>(first * 7)) << i;
    EXPECT_EQ(drv().get<uint8_t>(kBuf + 512ull * i + 3), static_cast<uint8_t>((first + 3) * 7)) << i;
  }
  EXPECT_FALSE(h.hooks.used.empty()) << "the completions interrupt";
}

TEST_F(VirtioBlkAsyncTest, FailedRequestCompletesWithIoErrOthersOk) {
  make(16);
  add(VirtioBlk::kTIn, 1, 0);
  add(VirtioBlk::kTOut, 2, 1);
  backend->io.fail_offset = 2 * 512;
  blk->notify(0);
  blk->backend_event();
  ASSERT_EQ(drv().used_idx(), 2);
  EXPECT_EQ(status(0), VirtioBlk::kSOk);
  EXPECT_EQ(status(1), VirtioBlk::kSIoErr);
  EXPECT_EQ(drv().used_elem(0).second, 1u) << "the failed write: only the status byte";
  EXPECT_EQ(drv().used_elem(1).second, 513u);
}

TEST_F(VirtioBlkAsyncTest, RefusedQueueFailsTheRequestAtOnce) {
  make(16);
  backend->io.refuse = true;
  add(VirtioBlk::kTIn, 1, 0);
  blk->notify(0);
  ASSERT_EQ(drv().used_idx(), 1);
  EXPECT_EQ(status(0), VirtioBlk::kSIoErr);
  EXPECT_EQ(blk->backend_event_fd(), 1000);
}

TEST_F(VirtioBlkAsyncTest, InFlightIsBoundedByCapacityAndResumesOnCompletion) {
  make(2);
  for (int i = 0; i < 5; ++i) add(VirtioBlk::kTIn, i, i);
  blk->notify(0);
  EXPECT_EQ(backend->io.pending.size(), 2u) << "the rest stays in the avail ring";
  blk->backend_event();  // 2 complete, 2 more start
  EXPECT_EQ(drv().used_idx(), 2);
  EXPECT_EQ(backend->io.pending.size(), 2u);
  blk->backend_event();
  blk->backend_event();
  EXPECT_EQ(drv().used_idx(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(status(i), VirtioBlk::kSOk) << i;
  EXPECT_TRUE(backend->io.pending.empty());
}

TEST_F(VirtioBlkAsyncTest, FlushWaitsForWritesInFlight) {
  make(16);
  add(VirtioBlk::kTOut, 3, 0);
  add(VirtioBlk::kTFlush, 0, 1);
  blk->notify(0);
  EXPECT_EQ(backend->io.waits, 1) << "the flush drained first";
  EXPECT_EQ(backend->flushes, 1);
  ASSERT_EQ(drv().used_idx(), 2);
  EXPECT_EQ(drv().used_elem(0).first, 0u) << "the write completed before the flush";
  EXPECT_EQ(status(0), VirtioBlk::kSOk);
  EXPECT_EQ(status(1), VirtioBlk::kSOk);
}

TEST_F(VirtioBlkAsyncTest, ResetWaitsForRequestsInFlightAndDropsThem) {
  make(16);
  for (int i = 0; i < 4; ++i) add(VirtioBlk::kTIn, i, i);
  blk->notify(0);
  ASSERT_EQ(backend->io.pending.size(), 4u);
  blk->reset();
  EXPECT_TRUE(backend->io.pending.empty()) << "reset returned with requests in flight";
  EXPECT_EQ(backend->io.waits, 1);
  EXPECT_EQ(drv().used_idx(), 0) << "a reset device pushes nothing";
  blk->backend_event();  // a late wake-up after the reset is harmless
  EXPECT_EQ(drv().used_idx(), 0);
  // Every tag came back: a re-activated device can fill the capacity again.
  h.vqs[0]->reset();
  h.vqs[0]->set_size(64);
  h.vqs[0]->set_desc_addr(0x10000);
  h.vqs[0]->set_avail_addr(0x11000);
  h.vqs[0]->set_used_addr(0x12000);
  h.vqs[0]->set_ready(true);
  drv().put<uint16_t>(0x11002, 0);
  drv().put<uint16_t>(0x12002, 0);
  std::string why;
  ASSERT_TRUE(h.activate(*blk, why)) << why;
  for (int i = 0; i < 20; ++i) add(VirtioBlk::kTIn, i, i);
  blk->notify(0);
  EXPECT_EQ(backend->io.pending.size(), 16u);
}

}  // namespace
}  // namespace devices::virtio
