// FileBlockBackend's io_uring path against real files: many requests in
// flight, their completions matched by tag, short and failed transfers, the
// O_DIRECT bounce pool, and the fallback when the host refuses io_uring.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "../../../backends/src/uring_block_io.h"
#include "backends/file_block_backend.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Byte i of every test image.
uint8_t pattern(uint64_t i) { return static_cast<uint8_t>((i * 31 + i / 4096) & 0xff); }

class UringBlockIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-uring-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    image = dir / "disk.img";
    std::ofstream out(image, std::ios::binary);
    for (uint64_t i = 0; i < kSize; ++i) out.put(static_cast<char>(pattern(i)));
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<FileBlockBackend> open(FileBlockOptions o = {}) {
    o.engine = IoEngine::kUring;
    auto b = FileBlockBackend::open(image, o);
    EXPECT_TRUE(b) << b.error().message;
    return b ? std::move(*b) : nullptr;
  }
  // Waits (bounded, not timed) until the completion eventfd fires, then reaps.
  static std::map<uint32_t, bool> wait_for(devices::virtio::AsyncBlockIo& io, size_t n) {
    std::map<uint32_t, bool> done;
    while (done.size() < n) {
      pollfd p{io.completion_fd(), POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) break;  // a hang fails below instead of blocking the suite
      uint64_t count;
      (void)::read(io.completion_fd(), &count, sizeof count);
      io.reap(false, [&](uint32_t tag, bool ok) { EXPECT_TRUE(done.emplace(tag, ok).second) << "tag twice: " << tag; });
    }
    return done;
  }

  static constexpr uint64_t kSize = 1 << 20;
  fs::path dir, image;
};

TEST_F(UringBlockIoTest, SixteenReadsInFlightLandInTheirOwnBuffers) {
  auto b = open();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->io_engine(), "io_uring");
  auto* io = b->async_io();
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->capacity(), 256u);
  // Two iovecs per request, scattered offsets, queued before one submit.
  std::vector<std::vector<std::byte>> bufs(32, std::vector<std::byte>(2048));
  std::vector<uint64_t> offsets;
  for (uint32_t t = 0; t < 16; ++t) {
    offsets.push_back(((t * 37) % 250) * 4096 + 512);
    std::span<std::byte> parts[2] = {bufs[2 * t], bufs[2 * t + 1]};
    ASSERT_TRUE(io->queue_read(offsets[t], parts, t));
  }
  EXPECT_EQ(io->in_flight(), 16u);
  io->submit();
  auto done = wait_for(*io, 16);
  ASSERT_EQ(done.size(), 16u);
  EXPECT_EQ(io->in_flight(), 0u);
  for (uint32_t t = 0; t < 16; ++t) {
    EXPECT_TRUE(done[t]) << t;
    for (size_t k : {size_t{0}, size_t{2047}, size_t{2048}, size_t{4095}}) {
      const std::byte got = k < 2048 ? bufs[2 * t][k] : bufs[2 * t + 1][k - 2048];
      EXPECT_EQ(static_cast<uint8_t>(got), pattern(offsets[t] + k)) << "tag " << t << " byte " << k;
    }
  }
}

TEST_F(UringBlockIoTest, WritesReachTheFile) {
  auto b = open();
  ASSERT_TRUE(b);
  auto* io = b->async_io();
  std::vector<std::byte> data(4096, std::byte{0x5a});
  std::span<const std::byte> part[1] = {data};
  ASSERT_TRUE(io->queue_write(8192, part, 7));
  io->submit();
  auto done = wait_for(*io, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[7]);
  std::ifstream in(image, std::ios::binary);
  in.seekg(8192 + 100);
  EXPECT_EQ(in.get(), 0x5a);
}

TEST_F(UringBlockIoTest, PastTheEndIsRefusedBeforeTheKernel) {
  auto b = open();
  ASSERT_TRUE(b);
  std::vector<std::byte> buf(4096);
  std::span<std::byte> part[1] = {buf};
  auto r = b->async_io()->queue_read(kSize - 2048, part, 0);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("past the end"));
  EXPECT_EQ(b->async_io()->in_flight(), 0u);
}

TEST_F(UringBlockIoTest, ReadHittingEndOfFileFails) {
  auto b = open();
  ASSERT_TRUE(b);
  // The image shrinks under the backend: the kernel reads 0 bytes at EOF.
  fs::resize_file(image, kSize / 2);
  std::vector<std::byte> buf(4096), tail(4096);
  std::span<std::byte> past[1] = {buf};
  std::span<std::byte> straddle[1] = {tail};
  ASSERT_TRUE(b->async_io()->queue_read(kSize / 2 + 4096, past, 0));
  ASSERT_TRUE(b->async_io()->queue_read(kSize / 2 - 2048, straddle, 1));  // short, then EOF
  b->async_io()->submit();
  auto done = wait_for(*b->async_io(), 2);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_FALSE(done[0]);
  EXPECT_FALSE(done[1]);
  EXPECT_EQ(static_cast<uint8_t>(tail[0]), pattern(kSize / 2 - 2048)) << "the part before EOF was read";
}

TEST_F(UringBlockIoTest, KernelErrorFailsTheRequest) {
  auto b = open({.cache = CacheMode::kNone});
  ASSERT_TRUE(b);
  ASSERT_EQ(b->block_size(), 4096u);
  // An O_DIRECT read at an offset no device can do (not sector aligned): EINVAL from the kernel.
  void* raw = std::aligned_alloc(4096, 4096);
  std::span<std::byte> part[1] = {std::span(static_cast<std::byte*>(raw), 4096)};
  ASSERT_TRUE(b->async_io()->queue_read(100, part, 3));
  b->async_io()->submit();
  auto done = wait_for(*b->async_io(), 1);
  std::free(raw);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[3]);
}

TEST_F(UringBlockIoTest, DirectIoBouncesUnalignedGuestBuffers) {
  auto b = open({.cache = CacheMode::kNone});
  ASSERT_TRUE(b);
  auto* io = b->async_io();
  // 4 KiB split over buffers that are not 4 KiB aligned.
  std::vector<std::byte> backing(8192 + 64);
  std::span<std::byte> parts[2] = {std::span(backing).subspan(1, 1000), std::span(backing).subspan(2000, 3096)};
  for (uint32_t round = 0; round < 3; ++round) {  // the pool's buffers are reused
    ASSERT_TRUE(io->queue_read(4096 * (round + 1), parts, round));
    io->submit();
    auto done = wait_for(*io, 1);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(done[round]);
    EXPECT_EQ(static_cast<uint8_t>(parts[0][0]), pattern(4096 * (round + 1)));
    EXPECT_EQ(static_cast<uint8_t>(parts[1][3095]), pattern(4096 * (round + 1) + 4095));
  }
  for (auto& x : backing) x = std::byte{0xc3};
  std::span<const std::byte> wparts[2] = {parts[0], parts[1]};
  ASSERT_TRUE(io->queue_write(0, wparts, 9));
  io->submit();
  auto done = wait_for(*io, 1);
  EXPECT_TRUE(done[9]);
  std::ifstream in(image, std::ios::binary);
  in.seekg(4095);
  EXPECT_EQ(in.get(), 0xc3);
}

TEST_F(UringBlockIoTest, WaitingReapDrainsEverything) {
  auto b = open();
  ASSERT_TRUE(b);
  auto* io = b->async_io();
  std::vector<std::vector<std::byte>> bufs(8, std::vector<std::byte>(4096));
  for (uint32_t t = 0; t < 8; ++t) {
    std::span<std::byte> part[1] = {bufs[t]};
    ASSERT_TRUE(io->queue_read(t * 4096, part, t));
  }
  // No submit(): the waiting reap must still see them through.
  size_t n = io->reap(true, [](uint32_t, bool ok) { EXPECT_TRUE(ok); });
  EXPECT_EQ(n, 8u);
  EXPECT_EQ(io->in_flight(), 0u);
  EXPECT_EQ(static_cast<uint8_t>(bufs[5][1]), pattern(5 * 4096 + 1));
}

TEST_F(UringBlockIoTest, SyncEngineHasNoAsyncPath) {
  auto b = FileBlockBackend::open(image, {.engine = IoEngine::kSync});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ((*b)->async_io(), nullptr);
  EXPECT_THAT((*b)->io_engine(), StartsWith("sync"));
}

// A seccomp filter that makes io_uring_setup fail with ENOSYS, as in a
// container whose profile does not know io_uring.
void refuse_io_uring() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) std::_Exit(10);
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) std::_Exit(11);
}

TEST_F(UringBlockIoTest, FallsBackToSynchronousWhenIoUringIsRefused) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        refuse_io_uring();
        auto b = FileBlockBackend::open(image);
        if (!b) std::_Exit(2);
        if ((*b)->async_io() != nullptr) std::_Exit(3);
        if ((*b)->io_engine().find("io_uring (restricted to reads and writes)") == std::string::npos) std::_Exit(4);
        std::vector<std::byte> buf(512);
        std::span<std::byte> part[1] = {buf};
        if (!(*b)->read_at(4096, part) || static_cast<uint8_t>(buf[7]) != pattern(4096 + 7)) std::_Exit(5);
        b->reset();  // its OFD write lock would refuse the next open
        // Asking for io_uring outright fails the open, with the reason.
        auto strict = FileBlockBackend::open(image, {.read_only = true, .engine = IoEngine::kUring});
        if (strict || strict.error().message.find("Function not implemented") == std::string::npos) std::_Exit(6);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// The ring reads and writes and does nothing else: an SQE that is not
// READV/WRITEV completes with -EACCES without the kernel doing it.
TEST_F(UringBlockIoTest, RingMayOnlyReadAndWrite) {
  int disk = ::open(image.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(disk, 0);
  int event_fd = ::eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(event_fd, 0);
  io_uring ring{};
  ASSERT_EQ(setup_restricted_ring(ring, 8, event_fd), 0);
  std::vector<std::byte> buf(4096);
  iovec iov{buf.data(), buf.size()};
  auto run = [&](auto prep) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    prep(sqe);
    EXPECT_EQ(io_uring_submit(&ring), 1);
    io_uring_cqe* cqe = nullptr;
    EXPECT_EQ(io_uring_wait_cqe(&ring, &cqe), 0);
    int res = cqe ? cqe->res : -9999;
    if (cqe) io_uring_cqe_seen(&ring, cqe);
    return res;
  };
  EXPECT_EQ(run([&](io_uring_sqe* sqe) { io_uring_prep_readv(sqe, disk, &iov, 1, 8192); }), 4096);
  EXPECT_EQ(static_cast<uint8_t>(buf[5]), pattern(8192 + 5));
  EXPECT_EQ(run([&](io_uring_sqe* sqe) { io_uring_prep_writev(sqe, disk, &iov, 1, 0); }), 4096);
  EXPECT_EQ(run([&](io_uring_sqe* sqe) {
              io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
            }),
            -EACCES)
      << "an operation other than READV/WRITEV";
  EXPECT_EQ(run([&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, disk, buf.data(), 512, 0); }), -EACCES)
      << "READ is not on the list either";
  EXPECT_EQ(run([&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, disk, 0); }), -EACCES) << "nor FSYNC";
  io_uring_queue_exit(&ring);
  ::close(event_fd);
  ::close(disk);
}

}  // namespace
}  // namespace backends
