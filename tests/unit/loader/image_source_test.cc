#include "loader/image_source.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace loader {
namespace {

using ::testing::HasSubstr;

class FileImageSourceOpen : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "minivmm_source_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
  }

  // Refused with a kIo error that names the path and what it is.
  void expect_refused(const std::string& path, const std::string& what) {
    auto src = FileImageSource::open(path);
    ASSERT_FALSE(src) << path << " was accepted";
    EXPECT_EQ(src.error().code, ErrorCode::kIo);
    EXPECT_THAT(src.error().message, HasSubstr(path + ": is " + what));
    EXPECT_THAT(src.error().message, HasSubstr("not a regular file or block device"));
  }

  std::filesystem::path tmp_;
};

TEST_F(FileImageSourceOpen, AFifoWithNoWriterIsRefusedWithoutBlocking) {
  // Before the check, open() waited here for a writer that never comes.
  std::string fifo = (tmp_ / "kernel.fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  expect_refused(fifo, "a FIFO (named pipe)");
}

TEST_F(FileImageSourceOpen, ADirectoryIsRefused) { expect_refused(tmp_.string(), "a directory"); }

TEST_F(FileImageSourceOpen, ACharacterDeviceIsRefused) { expect_refused("/dev/null", "a character device"); }

TEST_F(FileImageSourceOpen, AUnixSocketIsRefused) {
  std::string path = (tmp_ / "kernel.sock").string();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  expect_refused(path, "a socket");
  close(fd);
}

TEST_F(FileImageSourceOpen, ARegularFileIsReadAndItsDescriptorBlocks) {
  std::string path = (tmp_ / "kernel").string();
  std::ofstream(path, std::ios::binary) << "0123456789";
  auto src = FileImageSource::open(path);
  ASSERT_TRUE(src) << src.error().message;
  EXPECT_EQ(src->size(), 10u);
  std::array<std::byte, 4> buf{};
  ASSERT_TRUE(src->read_at(3, buf));
  EXPECT_EQ(buf[0], std::byte{'3'});
  int flags = fcntl(src->fd(), F_GETFL);
  EXPECT_EQ(flags & O_NONBLOCK, 0) << "O_NONBLOCK is only for the open";
  EXPECT_NE(fcntl(src->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

// open_at reads the file in the directory it was given, even after another
// directory is renamed to that directory's path, and names it as told.
TEST_F(FileImageSourceOpen, OpenAtReadsThroughTheDirectoryDescriptor) {
  std::filesystem::create_directories(tmp_ / "a");
  std::ofstream(tmp_ / "a" / "k", std::ios::binary) << "first";
  int dir = ::open((tmp_ / "a").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  std::filesystem::rename(tmp_ / "a", tmp_ / "old");
  std::filesystem::create_directories(tmp_ / "a");
  std::ofstream(tmp_ / "a" / "k", std::ios::binary) << "second";
  auto src = FileImageSource::open_at(dir, "k", "the entry");
  auto missing = FileImageSource::open_at(dir, "nothing", "the other entry");
  ::close(dir);
  ASSERT_TRUE(src) << src.error().message;
  EXPECT_EQ(src->size(), 5u);
  EXPECT_EQ(src->name(), "the entry");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("the other entry: cannot open"));
}

TEST_F(FileImageSourceOpen, ABlockDeviceIsAcceptedWithItsSize) {
  // Any block device this process may read (loop devices as root).
  for (const auto& entry : std::filesystem::directory_iterator("/dev")) {
    struct stat st{};
    if (stat(entry.path().c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) continue;
    int fd = open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    off_t end = lseek(fd, 0, SEEK_END);
    close(fd);
    auto src = FileImageSource::open(entry.path().string());
    ASSERT_TRUE(src) << src.error().message;
    EXPECT_EQ(src->size(), static_cast<uint64_t>(end)) << entry.path();
    return;
  }
  GTEST_SKIP() << "no readable block device";
}

}  // namespace
}  // namespace loader
