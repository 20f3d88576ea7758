#include "backends/file_block_backend.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace backends {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FileBlockBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-blk-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path make_image(const std::string& name, size_t size) {
    fs::path p = dir / name;
    std::ofstream out(p, std::ios::binary);
    for (size_t i = 0; i < size; ++i) out.put(static_cast<char>(i % 251));
    return p;
  }
  static std::vector<std::byte> file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(in)), {});
    std::vector<std::byte> out(c.size());
    std::memcpy(out.data(), c.data(), c.size());
    return out;
  }

  fs::path dir;
};

TEST_F(FileBlockBackendTest, OpensImageAndReportsSize) {
  auto p = make_image("disk.img", 8192 + 100);
  auto b = FileBlockBackend::open(p);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ((*b)->size(), 8292u);
  EXPECT_FALSE((*b)->read_only());
  EXPECT_FALSE((*b)->is_block_device());
  EXPECT_EQ((*b)->block_size(), 512u);
}

TEST_F(FileBlockBackendTest, ScatterReadAndGatherWrite) {
  auto p = make_image("disk.img", 8192);
  auto b = FileBlockBackend::open(p);
  ASSERT_TRUE(b) << b.error().message;
  std::vector<std::byte> a(100), c(412);
  std::vector<std::span<std::byte>> in{a, c};
  ASSERT_TRUE((*b)->read_at(1024, in));
  EXPECT_EQ(a[0], std::byte(1024 % 251));
  EXPECT_EQ(c[411], std::byte((1024 + 511) % 251));

  std::vector<std::byte> x(300, std::byte{0x11}), y(212, std::byte{0x22});
  std::vector<std::span<const std::byte>> out{x, y};
  ASSERT_TRUE((*b)->write_at(512, out));
  auto bytes = file_bytes(p);
  EXPECT_EQ(bytes[511], std::byte(511 % 251));
  EXPECT_EQ(bytes[512], std::byte{0x11});
  EXPECT_EQ(bytes[811], std::byte{0x11});
  EXPECT_EQ(bytes[812], std::byte{0x22});
  EXPECT_EQ(bytes[1023], std::byte{0x22});
  EXPECT_EQ(bytes[1024], std::byte(1024 % 251));
  EXPECT_TRUE((*b)->flush());
}

TEST_F(FileBlockBackendTest, RefusesIoPastTheEnd) {
  auto p = make_image("disk.img", 4096);
  auto b = FileBlockBackend::open(p);
  ASSERT_TRUE(b);
  std::vector<std::byte> buf(512);
  std::vector<std::span<std::byte>> in{buf};
  auto r = (*b)->read_at(4096 - 256, in);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("past the end"));
  EXPECT_FALSE((*b)->read_at(~0ull - 10, in));
  EXPECT_FALSE((*b)->discard(4096, 512));
  EXPECT_FALSE((*b)->write_zeroes(0, 8192));
}

TEST_F(FileBlockBackendTest, DiscardAndWriteZeroesReadBackZero) {
  auto p = make_image("disk.img", 64 * 1024);
  auto b = FileBlockBackend::open(p);
  ASSERT_TRUE(b);
  ASSERT_TRUE((*b)->write_zeroes(4096, 8192));
  ASSERT_TRUE((*b)->discard(32768, 8192));
  auto bytes = file_bytes(p);
  EXPECT_EQ(bytes.size(), 64u * 1024) << "KEEP_SIZE";
  EXPECT_EQ(bytes[4095], std::byte(4095 % 251));
  for (size_t i = 4096; i < 12288; ++i) ASSERT_EQ(bytes[i], std::byte{0}) << i;
  EXPECT_EQ(bytes[12288], std::byte(12288 % 251));
  // ext4/tmpfs punch holes: a discarded range reads back as zeroes there.
  EXPECT_EQ(bytes[32768], std::byte{0});
  EXPECT_EQ(bytes[40960], std::byte(40960 % 251));
}

TEST_F(FileBlockBackendTest, ReadOnlyRefusesWrites) {
  auto p = make_image("disk.img", 4096);
  auto b = FileBlockBackend::open(p, {.read_only = true});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE((*b)->read_only());
  std::vector<std::byte> x(512);
  std::vector<std::span<const std::byte>> out{x};
  auto r = (*b)->write_at(0, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, devices::ErrorCode::kUnsupported);
  EXPECT_FALSE((*b)->discard(0, 512));
  EXPECT_FALSE((*b)->write_zeroes(0, 512));
  EXPECT_EQ(file_bytes(p)[0], std::byte{0});
  EXPECT_EQ(file_bytes(p)[1], std::byte{1});
}

TEST_F(FileBlockBackendTest, WriterExcludesSecondWriterAndReaders) {
  auto p = make_image("disk.img", 4096);
  auto first = FileBlockBackend::open(p);
  ASSERT_TRUE(first);
  auto second = FileBlockBackend::open(p);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, devices::ErrorCode::kBusy);
  EXPECT_THAT(second.error().message, HasSubstr(p.string()));
  EXPECT_THAT(second.error().message, HasSubstr("locked by another process"));
  EXPECT_FALSE(FileBlockBackend::open(p, {.read_only = true}));
  first->reset();
  EXPECT_TRUE(FileBlockBackend::open(p)) << "closing drops the lock";
}

TEST_F(FileBlockBackendTest, ReadersShare) {
  auto p = make_image("disk.img", 4096);
  auto a = FileBlockBackend::open(p, {.read_only = true});
  auto b = FileBlockBackend::open(p, {.read_only = true});
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(FileBlockBackend::open(p)) << "no writer while someone reads";
}

TEST_F(FileBlockBackendTest, RefusesDirectory) {
  auto r = FileBlockBackend::open(dir.string());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr(dir.string()));
  EXPECT_THAT(r.error().message, HasSubstr("directory"));
  r = FileBlockBackend::open(dir.string(), {.read_only = true});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("is a directory"));
}

TEST_F(FileBlockBackendTest, RefusesFifoWithoutBlocking) {
  auto p = dir / "fifo";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  // No writer exists: a blocking open would hang this test forever.
  auto r = FileBlockBackend::open(p.string(), {.read_only = true});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("a FIFO"));
  EXPECT_THAT(r.error().message, HasSubstr(p.string()));
}

TEST_F(FileBlockBackendTest, RefusesCharacterDevice) {
  auto r = FileBlockBackend::open("/dev/null");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("/dev/null: is a character device"));
}

TEST_F(FileBlockBackendTest, MissingFileNamesThePath) {
  auto r = FileBlockBackend::open((dir / "nope.img").string());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("nope.img"));
  EXPECT_THAT(r.error().message, HasSubstr("No such file"));
}

TEST_F(FileBlockBackendTest, UnreadableFileNamesThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads mode-000 files";
  auto p = make_image("secret.img", 4096);
  fs::permissions(p, fs::perms::none);
  auto r = FileBlockBackend::open(p.string(), {.read_only = true});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("secret.img"));
  EXPECT_THAT(r.error().message, HasSubstr("Permission denied"));
}

TEST_F(FileBlockBackendTest, OpenFailureNamesThePathAndReason) {
  // Root-proof stand-in for an unreadable file: a path through a regular file.
  auto p = make_image("disk.img", 4096);
  auto r = FileBlockBackend::open((p / "inner").string(), {.read_only = true});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("disk.img/inner: cannot open read-only: Not a directory"));
}

TEST_F(FileBlockBackendTest, DirectIoWithUnalignedGuestBuffers) {
  auto p = make_image("direct.img", 64 * 1024);
  auto b = FileBlockBackend::open(p, {.cache = CacheMode::kNone});
  if (!b && b.error().code == devices::ErrorCode::kUnsupported) GTEST_SKIP() << b.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ((*b)->block_size(), 4096u);
  // Guest buffers are wherever the guest put them: misaligned in host memory.
  std::vector<std::byte> storage(8192 + 1);
  std::span<std::byte> odd(storage.data() + 1, 8192);
  std::vector<std::span<std::byte>> in{odd.first(4096), odd.subspan(4096)};
  ASSERT_TRUE((*b)->read_at(8192, in)) << "bounced";
  EXPECT_EQ(odd[0], std::byte(8192 % 251));
  EXPECT_EQ(odd[8191], std::byte((8192 + 8191) % 251));
  std::fill(odd.begin(), odd.end(), std::byte{0x77});
  std::vector<std::span<const std::byte>> out{odd};
  ASSERT_TRUE((*b)->write_at(0, out));
  ASSERT_TRUE((*b)->flush());
  auto bytes = file_bytes(p);
  EXPECT_EQ(bytes[0], std::byte{0x77});
  EXPECT_EQ(bytes[8191], std::byte{0x77});
  EXPECT_EQ(bytes[8192], std::byte(8192 % 251));
  ASSERT_TRUE((*b)->write_zeroes(0, 4096));
  EXPECT_EQ(file_bytes(p)[100], std::byte{0});
}

TEST_F(FileBlockBackendTest, ManyIovecsBeyondIovMax) {
  auto p = make_image("disk.img", 2048 * 512);
  auto b = FileBlockBackend::open(p);
  ASSERT_TRUE(b);
  std::vector<std::byte> storage(2048 * 512);
  std::vector<std::span<std::byte>> in;
  for (size_t i = 0; i < 2048; ++i) in.push_back(std::span(storage).subspan(i * 512, 512));
  ASSERT_TRUE((*b)->read_at(0, in));
  EXPECT_EQ(storage[2047 * 512 + 5], std::byte((2047 * 512 + 5) % 251));
}

}  // namespace
}  // namespace backends
