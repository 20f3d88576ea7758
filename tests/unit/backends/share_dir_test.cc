#include "backends/share_dir.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

namespace backends {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ShareDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-share-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    fs::create_directory(dir / "sub");
    std::ofstream(dir / "sub" / "f") << "hello";
    fs::create_directory_symlink("/etc", dir / "etc_link");
    fs::create_directory_symlink("../../", dir / "up_link");
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST(CheckName, RefusesEverythingButOneComponent) {
  EXPECT_EQ(check_name("ok"), 0);
  EXPECT_EQ(check_name(""), -EINVAL);
  EXPECT_EQ(check_name("."), -EINVAL);
  EXPECT_EQ(check_name(".."), -EINVAL);
  EXPECT_EQ(check_name("a/b"), -EINVAL);
  EXPECT_EQ(check_name("/etc"), -EINVAL);
  EXPECT_EQ(check_name(std::string_view("a\0b", 3)), -EINVAL);
  EXPECT_EQ(check_name(std::string(256, 'x')), -ENAMETOOLONG);
  EXPECT_EQ(check_name(std::string(255, 'x')), 0);
  EXPECT_EQ(check_name("..."), 0);
}

TEST(ShareModes, StripsSetIdAndRefusesDevices) {
  EXPECT_EQ(sanitize_mode(04755), 0755u);
  EXPECT_EQ(sanitize_mode(02755), 0755u);
  EXPECT_EQ(sanitize_mode(01777), 01777u);
  EXPECT_EQ(check_mknod_type(S_IFREG | 0644), 0);
  EXPECT_EQ(check_mknod_type(S_IFIFO | 0644), 0);
  EXPECT_EQ(check_mknod_type(S_IFCHR | 0644), -EPERM);
  EXPECT_EQ(check_mknod_type(S_IFBLK | 0644), -EPERM);
  EXPECT_EQ(check_mknod_type(S_IFDIR | 0755), -EINVAL);
  EXPECT_TRUE(open_flags_write(O_WRONLY));
  EXPECT_TRUE(open_flags_write(O_RDONLY | O_TRUNC));
  EXPECT_FALSE(open_flags_write(O_RDONLY));
}

TEST_F(ShareDirTest, OpenRefusesMissingAndNonDirectory) {
  auto missing = ShareDir::open((dir / "nope").string(), false);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("--share"));
  auto file = ShareDir::open((dir / "sub" / "f").string(), false);
  ASSERT_FALSE(file);
  EXPECT_THAT(file.error().message, HasSubstr("not a directory"));
  auto ok = ShareDir::open(dir.string(), true);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->check_writable(), -EROFS);
}

TEST_F(ShareDirTest, LookupSharesNodesAndSymlinksStayLinks) {
  auto share = ShareDir::open(dir.string(), false);
  ASSERT_TRUE(share);
  NodeTable table((*share)->dup_root(), 8);
  ShareNode* a = nullptr;
  ShareNode* b = nullptr;
  struct stat st;
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "sub", a, st), 0);
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "sub", b, st), 0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->refs, 2u);
  ShareNode* link = nullptr;
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "etc_link", link, st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(reopen(link->fd, O_RDONLY), -ELOOP);
  ShareNode* up = nullptr;
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "up_link", up, st), 0);
  EXPECT_EQ(table.lookup(up->id, "etc", b, st), -ENOTDIR) << "a link is no directory to look under";
  EXPECT_EQ(table.lookup(NodeTable::kRootId, "..", b, st), -EINVAL);
  EXPECT_EQ(table.lookup(999, "sub", b, st), -ENOENT);
  const uint64_t id = a->id;
  table.forget(id, 1);
  EXPECT_NE(table.get(id), nullptr);
  table.forget(id, 1);
  EXPECT_EQ(table.get(id), nullptr);
  table.forget(NodeTable::kRootId, 100);
  EXPECT_NE(table.get(NodeTable::kRootId), nullptr);
}

TEST_F(ShareDirTest, NodeLimitRefusesNewInodes) {
  for (int i = 0; i < 5; ++i) std::ofstream(dir / ("n" + std::to_string(i))) << i;
  auto share = ShareDir::open(dir.string(), false);
  ASSERT_TRUE(share);
  NodeTable table((*share)->dup_root(), 3);
  ShareNode* n = nullptr;
  struct stat st;
  EXPECT_EQ(table.lookup(NodeTable::kRootId, "n0", n, st), 0);
  EXPECT_EQ(table.lookup(NodeTable::kRootId, "n1", n, st), 0);
  EXPECT_EQ(table.lookup(NodeTable::kRootId, "n2", n, st), -ENFILE);
  EXPECT_EQ(table.lookup(NodeTable::kRootId, "n1", n, st), 0) << "a known inode needs no new node";
  EXPECT_EQ(table.size(), 3u);
}

TEST_F(ShareDirTest, ReopenRefusesFifo) {
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  auto share = ShareDir::open(dir.string(), false);
  ASSERT_TRUE(share);
  NodeTable table((*share)->dup_root(), 8);
  ShareNode* n = nullptr;
  struct stat st;
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "fifo", n, st), 0);
  EXPECT_EQ(reopen(n->fd, O_RDONLY), -EACCES);
  ShareNode* f = nullptr;
  ASSERT_EQ(table.lookup(NodeTable::kRootId, "sub", f, st), 0);
  ASSERT_EQ(table.lookup(f->id, "f", f, st), 0);
  int fd = reopen(f->fd, O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[8] = {};
  EXPECT_EQ(::read(fd, buf, sizeof buf), 5);
  ::close(fd);
}

}  // namespace
}  // namespace backends

namespace backends {
namespace {

// A share's nodes each hold a descriptor: the soft limit is raised (in a
// child, so the test process keeps its own) as far as the hard limit lets it.
TEST(OpenFileLimit, SoftLimitIsRaisedTowardsWhatSharesNeed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        rlimit r{};
        if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_max < 256) std::_Exit(2);
        rlimit low = r;
        low.rlim_cur = 64;
        if (::setrlimit(RLIMIT_NOFILE, &low) != 0) std::_Exit(3);
        const uint64_t got = raise_open_file_limit(200);
        rlimit now{};
        ::getrlimit(RLIMIT_NOFILE, &now);
        if (got != 200 || now.rlim_cur != 200) std::_Exit(4);
        // Already enough: left alone.
        if (raise_open_file_limit(100) != 200) std::_Exit(5);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace backends
