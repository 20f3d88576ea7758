// The 9P2000.L server against a temporary directory, one hand-built message
// at a time.
#include "backends/p9_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "p9_test_util.h"

namespace backends {
namespace {

namespace fs = std::filesystem;
using p9_test::Msg;
using p9_test::Reply;
using p9_test::send;
using p9_test::send_raw;
using p9::Type;

constexpr uint32_t kRoot = 1;
constexpr uint32_t kLRdonly = 0, kLWronly = 1, kLRdwr = 2, kLTrunc = 01000;

class P9ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/p9_server_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    dir_ = base_ / "share";
    fs::create_directory(dir_);
  }
  void TearDown() override { fs::remove_all(base_); }

  void start(bool read_only = false, uint32_t max_fids = 4096) {
    auto s = P9Server::open({dir_.string(), read_only, 512 * 1024, max_fids});
    ASSERT_TRUE(s.has_value()) << s.error().message;
    server_ = std::move(*s);
    Reply v = send(*server_, Type::kTversion, Msg().u32(64 * 1024).str("9P2000.L"), p9::kNoTag);
    ASSERT_EQ(v.type, 101);
    Reply a = send(*server_, Type::kTattach, Msg().u32(kRoot).u32(p9::kNoFid).str("u").str("").u32(0));
    ASSERT_EQ(a.type, uint8_t(Type::kTattach) + 1) << a.ecode();
  }

  Reply rpc(Type t, const Msg& m) { return send(*server_, t, m); }
  // Rlerror's errno, or 0 for the expected R-message.
  uint32_t err(const Reply& r, Type t) {
    if (r.is_error()) return r.ecode();
    EXPECT_EQ(r.type, uint8_t(t) + 1);
    EXPECT_EQ(r.size, r.written);
    return 0;
  }
  uint32_t walk(uint32_t fid, uint32_t newfid, std::vector<std::string> names, Reply* out = nullptr) {
    Msg m;
    m.u32(fid).u32(newfid).u16(uint16_t(names.size()));
    for (auto& n : names) m.str(n);
    Reply r = rpc(Type::kTwalk, m);
    if (out) *out = r;
    return err(r, Type::kTwalk);
  }
  uint32_t lopen(uint32_t fid, uint32_t flags) { return err(rpc(Type::kTlopen, Msg().u32(fid).u32(flags)), Type::kTlopen); }
  uint32_t clunk(uint32_t fid) { return err(rpc(Type::kTclunk, Msg().u32(fid)), Type::kTclunk); }
  uint32_t lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode) {
    return err(rpc(Type::kTlcreate, Msg().u32(fid).str(name).u32(flags).u32(mode).u32(0)), Type::kTlcreate);
  }
  std::string read(uint32_t fid, uint64_t offset, uint32_t count, uint32_t* e = nullptr) {
    Reply r = rpc(Type::kTread, Msg().u32(fid).u64(offset).u32(count));
    uint32_t code = err(r, Type::kTread);
    if (e) *e = code;
    if (code) return {};
    uint32_t n = r.u32(7);
    EXPECT_EQ(r.size, 11 + n);
    return std::string(reinterpret_cast<const char*>(r.bytes.data()) + 11, n);
  }
  uint32_t write(uint32_t fid, uint64_t offset, const std::string& data, uint32_t* count = nullptr) {
    Reply r = rpc(Type::kTwrite, Msg().u32(fid).u64(offset).u32(uint32_t(data.size())).raw(data.data(), data.size()));
    uint32_t e = err(r, Type::kTwrite);
    if (!e && count) *count = r.u32(7);
    return e;
  }
  // Tgetattr's size field.
  uint64_t getattr_size(uint32_t fid, uint32_t* e = nullptr, uint32_t* mode = nullptr) {
    Reply r = rpc(Type::kTgetattr, Msg().u32(fid).u64(0x7ff));
    uint32_t code = err(r, Type::kTgetattr);
    if (e) *e = code;
    if (code) return 0;
    if (mode) *mode = r.u32(7 + 8 + 13);
    return r.u64(7 + 8 + 13 + 4 + 4 + 4 + 8 + 8);
  }
  void put(const std::string& rel, const std::string& data) { std::ofstream(dir_ / rel) << data; }

  fs::path base_, dir_;
  std::unique_ptr<P9Server> server_;
};

TEST_F(P9ServerTest, VersionNegotiatesMsizeAndRefusesOtherDialects) {
  auto s = P9Server::open({dir_.string(), false, 512 * 1024, 16});
  ASSERT_TRUE(s.has_value());
  Reply big = send(**s, Type::kTversion, Msg().u32(8u << 20).str("9P2000.L"), p9::kNoTag);
  ASSERT_EQ(big.type, 101);
  EXPECT_EQ(big.tag, p9::kNoTag);
  EXPECT_EQ(big.u32(7), 512u * 1024);
  EXPECT_EQ(big.str(11), "9P2000.L");
  Reply small = send(**s, Type::kTversion, Msg().u32(8192).str("9P2000.L"));
  EXPECT_EQ(small.u32(7), 8192u);
  Reply u = send(**s, Type::kTversion, Msg().u32(8192).str("9P2000.u"));
  ASSERT_EQ(u.type, 101);
  EXPECT_EQ(u.str(11), "unknown");
  // Without a known version nothing else is served.
  Reply a = send(**s, Type::kTattach, Msg().u32(1).u32(p9::kNoFid).str("").str("").u32(0));
  EXPECT_TRUE(a.is_error());
}

TEST_F(P9ServerTest, AuthAndUnknownTypesAreRefused) {
  start();
  EXPECT_EQ(err(rpc(Type::kTauth, Msg().u32(5).str("u").str("").u32(0)), Type::kTauth), uint32_t(EOPNOTSUPP));
  EXPECT_EQ(err(rpc(Type(200), Msg().u32(0)), Type(200)), uint32_t(EOPNOTSUPP));
  // A second attach on a fid in use.
  EXPECT_EQ(err(rpc(Type::kTattach, Msg().u32(kRoot).u32(p9::kNoFid).str("").str("").u32(0)), Type::kTattach),
            uint32_t(EBADF));
}

TEST_F(P9ServerTest, WalkOpenReadWriteRoundTrip) {
  start();
  fs::create_directory(dir_ / "d");
  put("d/f", "hello world");
  Reply w;
  ASSERT_EQ(walk(kRoot, 2, {"d", "f"}, &w), 0u);
  EXPECT_EQ(w.u16(7), 2);
  EXPECT_EQ(w.u8(9), p9::kQidDir);
  EXPECT_EQ(w.u8(9 + 13), p9::kQidFile);
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "d/f").c_str(), &st), 0);
  EXPECT_EQ(w.u64(9 + 13 + 5), p9::qid_path(st.st_dev, st.st_ino));
  ASSERT_EQ(lopen(2, kLRdwr), 0u);
  EXPECT_EQ(read(2, 6, 100), "world");
  uint32_t n = 0;
  ASSERT_EQ(write(2, 11, "!!", &n), 0u);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(read(2, 0, 4), "hell");
  EXPECT_EQ(getattr_size(2), 13u);
  std::ifstream in(dir_ / "d/f");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello world!!");
  ASSERT_EQ(clunk(2), 0u);
  EXPECT_EQ(clunk(2), uint32_t(EBADF));
}

// /proc and /sys are separate file systems whose roots both have inode 1 on
// Linux: the guest keys inodes by qid.path, so theirs must differ.
TEST_F(P9ServerTest, MountPointsInsideTheShareGetDistinctQids) {
  dir_ = "/";
  start(true);
  Reply proc, sys;
  ASSERT_EQ(walk(kRoot, 2, {"proc"}, &proc), 0u);
  ASSERT_EQ(walk(kRoot, 3, {"sys"}, &sys), 0u);
  struct stat p {}, y {};
  ASSERT_EQ(::stat("/proc", &p), 0);
  ASSERT_EQ(::stat("/sys", &y), 0);
  ASSERT_NE(p.st_dev, y.st_dev);
  EXPECT_EQ(proc.u64(9 + 5), p9::qid_path(p.st_dev, p.st_ino));
  EXPECT_EQ(sys.u64(9 + 5), p9::qid_path(y.st_dev, y.st_ino));
  EXPECT_NE(proc.u64(9 + 5), sys.u64(9 + 5));
  EXPECT_EQ(p9::qid_path(p.st_dev, 12345) & 0xffffffffffffull, 12345u);
}

TEST_F(P9ServerTest, ReadSplitAcrossRequestAndReplyBuffers) {
  start();
  put("f", "abcdefghij");
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(lopen(2, kLRdonly), 0u);
  auto msg = Msg().u32(2).u64(1).u32(8).build(Type::kTread);
  Reply r = send_raw(*server_, msg, {3, 5, 1}, {5, 4, 3, 100});
  ASSERT_EQ(r.type, uint8_t(Type::kTread) + 1) << r.ecode();
  EXPECT_EQ(r.u32(7), 8u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.bytes.data()) + 11, 8), "bcdefghi");
}

TEST_F(P9ServerTest, PartialWalkAndCloneSemantics) {
  start();
  fs::create_directories(dir_ / "a/b");
  Reply r;
  ASSERT_EQ(walk(kRoot, 2, {"a", "nope", "b"}, &r), 0u);
  EXPECT_EQ(r.u16(7), 1);  // stopped after "a"
  EXPECT_EQ(clunk(2), uint32_t(EBADF));  // newfid was not created
  EXPECT_EQ(walk(kRoot, 2, {"nope"}), uint32_t(ENOENT));
  ASSERT_EQ(walk(kRoot, 3, {}), 0u);  // a clone
  ASSERT_EQ(walk(3, 3, {"a", "b"}), 0u);  // newfid == fid moves it
  ASSERT_EQ(walk(3, 4, {"..", ".."}), 0u);
  uint32_t mode = 0;
  getattr_size(4, nullptr, &mode);
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  Reply g = rpc(Type::kTgetattr, Msg().u32(4).u64(0x7ff));
  EXPECT_EQ(g.u64(7 + 8 + 5), p9::qid_path(st.st_dev, st.st_ino));
  EXPECT_EQ(walk(kRoot, 5, {"a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a"}),
            uint32_t(EINVAL));  // 17 names
  EXPECT_EQ(walk(77, 5, {"a"}), uint32_t(EBADF));
  EXPECT_EQ(walk(kRoot, 3, {"a"}), uint32_t(EBADF));  // newfid in use
}

TEST_F(P9ServerTest, DotDotAtTheRootStaysAtTheRoot) {
  start();
  put("marker", "x");
  ASSERT_EQ(walk(kRoot, 2, {"..", "..", "..", "marker"}), 0u);
  ASSERT_EQ(lopen(2, kLRdonly), 0u);
  EXPECT_EQ(read(2, 0, 10), "x");
}

TEST_F(P9ServerTest, NamesWithSlashNulOrDotsAreRefused) {
  start();
  fs::create_directories(dir_ / "a/b");
  EXPECT_EQ(walk(kRoot, 2, {"a/b"}), uint32_t(EINVAL));
  EXPECT_EQ(walk(kRoot, 2, {std::string("a\0b", 3)}), uint32_t(EINVAL));
  EXPECT_EQ(walk(kRoot, 2, {"."}), uint32_t(EINVAL));
  EXPECT_EQ(walk(kRoot, 2, {""}), uint32_t(EINVAL));
  EXPECT_EQ(walk(kRoot, 2, {"/etc"}), uint32_t(EINVAL));
  EXPECT_EQ(lcreate(kRoot, "../escape", kLRdwr, 0644), uint32_t(EINVAL));
  EXPECT_FALSE(fs::exists(base_ / "escape"));
  EXPECT_EQ(server_->fid_count(), 1u);
}

TEST_F(P9ServerTest, SymlinksAreNodesNeverFollowed) {
  start();
  fs::create_symlink("/etc", dir_ / "abs");
  fs::create_symlink("../../../../etc/passwd", dir_ / "rel");
  Reply r;
  ASSERT_EQ(walk(kRoot, 2, {"abs"}, &r), 0u);
  EXPECT_EQ(r.u8(9), p9::kQidSymlink);
  EXPECT_EQ(lopen(2, kLRdonly), uint32_t(ELOOP));
  // Through the symlink: a partial walk that stops at the link.
  ASSERT_EQ(walk(kRoot, 3, {"abs", "passwd"}, &r), 0u);
  EXPECT_EQ(r.u16(7), 1);
  EXPECT_EQ(clunk(3), uint32_t(EBADF));
  ASSERT_EQ(walk(kRoot, 4, {"rel"}), 0u);
  EXPECT_EQ(lopen(4, kLRdonly), uint32_t(ELOOP));
  Reply l = rpc(Type::kTreadlink, Msg().u32(4));
  ASSERT_EQ(err(l, Type::kTreadlink), 0u);
  EXPECT_EQ(l.str(7), "../../../../etc/passwd");
  // Creating through a symlinked directory name does not follow it either.
  EXPECT_NE(lcreate(2, "x", kLRdwr, 0644), 0u);
  EXPECT_EQ(err(rpc(Type::kTmkdir, Msg().u32(2).str("y").u32(0755).u32(0)), Type::kTmkdir), uint32_t(ENOTDIR));
}

TEST_F(P9ServerTest, DirectoryReplacedBySymlinkAfterWalkStaysTheWalkedDirectory) {
  start();
  fs::create_directory(dir_ / "d");
  put("d/inside", "in");
  fs::create_directory(base_ / "outside");
  std::ofstream(base_ / "outside/inside") << "OUT";
  ASSERT_EQ(walk(kRoot, 2, {"d"}), 0u);
  // Between walk and use, the name is swapped for a symlink leading out.
  fs::rename(dir_ / "d", dir_ / "moved");
  fs::create_directory_symlink(base_ / "outside", dir_ / "d");
  ASSERT_EQ(walk(2, 3, {"inside"}), 0u);
  ASSERT_EQ(lopen(3, kLRdonly), 0u);
  EXPECT_EQ(read(3, 0, 10), "in");
  // And a fresh walk by name sees the symlink as a symlink.
  Reply r;
  ASSERT_EQ(walk(kRoot, 4, {"d", "inside"}, &r), 0u);
  EXPECT_EQ(r.u16(7), 1);
  EXPECT_EQ(r.u8(9), p9::kQidSymlink);
}

TEST_F(P9ServerTest, LcreateMakesPlainFilesWithoutSetuid) {
  start();
  ASSERT_EQ(walk(kRoot, 2, {}), 0u);
  ASSERT_EQ(lcreate(2, "new", kLRdwr, 04755 | 02000), 0u);
  uint32_t n = 0;
  ASSERT_EQ(write(2, 0, "data", &n), 0u);
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_uid, ::getuid());
  EXPECT_EQ(st.st_size, 4);
  EXPECT_EQ(lcreate(kRoot, "new", kLRdwr, 0644), uint32_t(EEXIST));
}

TEST_F(P9ServerTest, SetattrCannotSetSetuid) {
  start();
  put("f", "");
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  Reply r = rpc(Type::kTsetattr, Msg().u32(2).u32(1).u32(04777).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0));
  ASSERT_EQ(err(r, Type::kTsetattr), 0u);
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  // Size and explicit times.
  r = rpc(Type::kTsetattr, Msg().u32(2).u32(8 | 32 | 256).u32(0).u32(0).u32(0).u64(12345).u64(0).u64(0).u64(1000000).u64(0));
  ASSERT_EQ(err(r, Type::kTsetattr), 0u);
  ASSERT_EQ(::stat((dir_ / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 12345);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000);
}

TEST_F(P9ServerTest, MknodRefusesDevicesAndMakesFifos) {
  start();
  const uint32_t chr = S_IFCHR | 0666, blk = S_IFBLK | 0666;
  EXPECT_EQ(err(rpc(Type::kTmknod, Msg().u32(kRoot).str("null").u32(chr).u32(1).u32(3).u32(0)), Type::kTmknod),
            uint32_t(EPERM));
  EXPECT_EQ(err(rpc(Type::kTmknod, Msg().u32(kRoot).str("sda").u32(blk).u32(8).u32(0).u32(0)), Type::kTmknod),
            uint32_t(EPERM));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ / "null")));
  ASSERT_EQ(err(rpc(Type::kTmknod, Msg().u32(kRoot).str("fifo").u32(S_IFIFO | 04644).u32(0).u32(0).u32(0)),
                Type::kTmknod),
            0u);
  struct stat st;
  ASSERT_EQ(::lstat((dir_ / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & S_ISUID, 0u);
  // A FIFO is never opened (it would block the I/O thread).
  ASSERT_EQ(walk(kRoot, 2, {"fifo"}), 0u);
  EXPECT_EQ(lopen(2, kLRdonly), uint32_t(EACCES));
}

TEST_F(P9ServerTest, ReaddirOfFiveThousandEntriesAcrossManyCalls) {
  for (int i = 0; i < 5000; ++i) std::ofstream(dir_ / ("file_with_a_longish_name_" + std::to_string(i)));
  start();
  ASSERT_EQ(walk(kRoot, 2, {}), 0u);
  ASSERT_EQ(lopen(2, kLRdonly), 0u);
  std::set<std::string> names;
  uint64_t offset = 0;
  int calls = 0;
  for (;;) {
    Reply r = rpc(Type::kTreaddir, Msg().u32(2).u64(offset).u32(4096));
    ASSERT_EQ(err(r, Type::kTreaddir), 0u);
    const uint32_t count = r.u32(7);
    ASSERT_LE(count, 4096u);
    if (count == 0) break;
    ++calls;
    size_t at = 11;
    while (at < 11 + count) {
      const uint64_t next = r.u64(at + 13);
      const std::string name = r.str(at + 22);
      EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
      offset = next;
      at += 24 + name.size();
    }
    ASSERT_EQ(at, 11 + count);
    ASSERT_LT(calls, 1000);
  }
  EXPECT_EQ(names.size(), 5002u);  // with "." and ".."
  EXPECT_TRUE(names.contains("file_with_a_longish_name_4999"));
  EXPECT_GT(calls, 50);
}

TEST_F(P9ServerTest, ReadAtFiveGibInASparseFile) {
  const uint64_t five = 5ull << 30;
  {
    const int fd = ::open((dir_ / "big").c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "tail", 4, static_cast<off_t>(five)), 4);
    ::close(fd);
  }
  start();
  ASSERT_EQ(walk(kRoot, 2, {"big"}), 0u);
  ASSERT_EQ(lopen(2, kLRdwr), 0u);
  EXPECT_EQ(getattr_size(2), five + 4);
  EXPECT_EQ(read(2, five, 100), "tail");
  EXPECT_EQ(read(2, five - 2, 3), std::string("\0\0t", 3));
  ASSERT_EQ(write(2, five + 4, "more"), 0u);
  EXPECT_EQ(getattr_size(2), five + 8);
  uint32_t e = 0;
  read(2, ~0ull, 10, &e);
  EXPECT_EQ(e, uint32_t(EINVAL));
}

TEST_F(P9ServerTest, OpenUnlinkGetattrKeepsTheFid) {
  start();
  put("f", "12345");
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(lopen(2, kLRdwr), 0u);
  ASSERT_EQ(err(rpc(Type::kTunlinkat, Msg().u32(kRoot).str("f").u32(0)), Type::kTunlinkat), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "f"));
  uint32_t e = 1;
  EXPECT_EQ(getattr_size(2, &e), 5u);
  EXPECT_EQ(e, 0u);
  ASSERT_EQ(write(2, 5, "6"), 0u);
  EXPECT_EQ(read(2, 0, 10), "123456");
}

TEST_F(P9ServerTest, RenameRenameatLinkSymlinkReadlink) {
  start();
  put("a", "A");
  fs::create_directory(dir_ / "sub");
  ASSERT_EQ(err(rpc(Type::kTrenameat, Msg().u32(kRoot).str("a").u32(kRoot).str("b")), Type::kTrenameat), 0u);
  EXPECT_TRUE(fs::exists(dir_ / "b"));
  ASSERT_EQ(walk(kRoot, 2, {"b"}), 0u);
  ASSERT_EQ(walk(kRoot, 3, {"sub"}), 0u);
  ASSERT_EQ(err(rpc(Type::kTrename, Msg().u32(2).u32(3).str("c")), Type::kTrename), 0u);
  EXPECT_TRUE(fs::exists(dir_ / "sub/c"));
  EXPECT_FALSE(fs::exists(dir_ / "b"));
  ASSERT_EQ(err(rpc(Type::kTlink, Msg().u32(kRoot).u32(2).str("hard")), Type::kTlink), 0u);
  EXPECT_EQ(fs::hard_link_count(dir_ / "hard"), 2u);
  Reply s = rpc(Type::kTsymlink, Msg().u32(3).str("ln").str("../hard").u32(0));
  ASSERT_EQ(err(s, Type::kTsymlink), 0u);
  EXPECT_EQ(s.u8(7), p9::kQidSymlink);
  EXPECT_EQ(fs::read_symlink(dir_ / "sub/ln"), "../hard");
  ASSERT_EQ(walk(3, 4, {"ln"}), 0u);
  Reply l = rpc(Type::kTreadlink, Msg().u32(4));
  ASSERT_EQ(err(l, Type::kTreadlink), 0u);
  EXPECT_EQ(l.str(7), "../hard");
  // The renamed fid removes the file under its new name.
  ASSERT_EQ(err(rpc(Type::kTremove, Msg().u32(2)), Type::kTremove), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "sub/c"));
  Reply m = rpc(Type::kTmkdir, Msg().u32(kRoot).str("newdir").u32(0755).u32(0));
  ASSERT_EQ(err(m, Type::kTmkdir), 0u);
  EXPECT_EQ(m.u8(7), p9::kQidDir);
  ASSERT_EQ(err(rpc(Type::kTunlinkat, Msg().u32(kRoot).str("newdir").u32(0x200)), Type::kTunlinkat), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "newdir"));
  EXPECT_EQ(err(rpc(Type::kTremove, Msg().u32(kRoot)), Type::kTremove), uint32_t(EBUSY));
}

TEST_F(P9ServerTest, Xattrs) {
  put("f", "");
  if (::setxattr((dir_ / "f").c_str(), "user.probe", "1", 1, 0) != 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
    GTEST_SKIP() << "the temp file system has no user xattrs";
  start();
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(err(rpc(Type::kTxattrcreate, Msg().u32(2).str("user.k").u64(5).u32(0)), Type::kTxattrcreate), 0u);
  ASSERT_EQ(write(2, 0, "val"), 0u);
  ASSERT_EQ(write(2, 3, "ue"), 0u);
  ASSERT_EQ(clunk(2), 0u);
  char buf[16] = {};
  ASSERT_EQ(::getxattr((dir_ / "f").c_str(), "user.k", buf, sizeof buf), 5);
  EXPECT_STREQ(buf, "value");
  ASSERT_EQ(walk(kRoot, 3, {"f"}), 0u);
  Reply xw = rpc(Type::kTxattrwalk, Msg().u32(3).u32(4).str("user.k"));
  ASSERT_EQ(err(xw, Type::kTxattrwalk), 0u);
  EXPECT_EQ(xw.u64(7), 5u);
  EXPECT_EQ(read(4, 0, 100), "value");
  Reply list = rpc(Type::kTxattrwalk, Msg().u32(3).u32(5).str(""));
  ASSERT_EQ(err(list, Type::kTxattrwalk), 0u);
  EXPECT_NE(read(5, 0, 1000).find("user.k"), std::string::npos);
  EXPECT_EQ(err(rpc(Type::kTxattrwalk, Msg().u32(3).u32(6).str("user.none")), Type::kTxattrwalk), uint32_t(ENODATA));
  // Capabilities are setuid by another name.
  EXPECT_EQ(err(rpc(Type::kTxattrcreate, Msg().u32(3).str("security.capability").u64(4).u32(0)), Type::kTxattrcreate),
            uint32_t(EOPNOTSUPP));
  // A short value is not committed.
  ASSERT_EQ(err(rpc(Type::kTxattrcreate, Msg().u32(3).str("user.short").u64(9).u32(0)), Type::kTxattrcreate), 0u);
  ASSERT_EQ(write(3, 0, "abc"), 0u);
  EXPECT_EQ(clunk(3), uint32_t(EINVAL));
  EXPECT_LT(::getxattr((dir_ / "f").c_str(), "user.short", buf, sizeof buf), 0);
}

TEST_F(P9ServerTest, StatfsFsyncLock) {
  start();
  Reply s = rpc(Type::kTstatfs, Msg().u32(kRoot));
  ASSERT_EQ(err(s, Type::kTstatfs), 0u);
  struct statvfs v;
  ASSERT_EQ(::statvfs(dir_.c_str(), &v), 0);
  EXPECT_EQ(s.u32(11), v.f_bsize);
  EXPECT_EQ(s.u64(15), v.f_blocks);
  ASSERT_EQ(walk(kRoot, 2, {}), 0u);
  ASSERT_EQ(lcreate(2, "f", kLWronly, 0644), 0u);
  EXPECT_EQ(err(rpc(Type::kTfsync, Msg().u32(2).u32(0)), Type::kTfsync), 0u);
  EXPECT_EQ(err(rpc(Type::kTfsync, Msg().u32(2).u32(1)), Type::kTfsync), 0u);
  EXPECT_EQ(err(rpc(Type::kTfsync, Msg().u32(kRoot).u32(0)), Type::kTfsync), uint32_t(EBADF));  // not open
  Reply l = rpc(Type::kTlock, Msg().u32(2).u8(1).u32(0).u64(0).u64(0).u32(42).str("c"));
  ASSERT_EQ(err(l, Type::kTlock), 0u);
  EXPECT_EQ(l.u8(7), 0);
  Reply g = rpc(Type::kTgetlock, Msg().u32(2).u8(1).u64(10).u64(20).u32(42).str("client"));
  ASSERT_EQ(err(g, Type::kTgetlock), 0u);
  EXPECT_EQ(g.u8(7), 2);  // unlocked
  EXPECT_EQ(g.u64(8), 10u);
  EXPECT_EQ(g.str(7 + 1 + 8 + 8 + 4), "client");
  EXPECT_EQ(err(rpc(Type::kTflush, Msg().u16(3)), Type::kTflush), 0u);
}

TEST_F(P9ServerTest, ReadOnlyShareRefusesEveryModification) {
  put("f", "keep");
  fs::create_directory(dir_ / "d");
  start(true);
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(walk(kRoot, 3, {"d"}), 0u);
  const uint32_t rofs = EROFS;
  EXPECT_EQ(lopen(2, kLWronly), rofs);
  EXPECT_EQ(lopen(2, kLRdonly | kLTrunc), rofs);
  EXPECT_EQ(lcreate(3, "n", kLRdwr, 0644), rofs);
  EXPECT_EQ(err(rpc(Type::kTmkdir, Msg().u32(kRoot).str("m").u32(0755).u32(0)), Type::kTmkdir), rofs);
  EXPECT_EQ(err(rpc(Type::kTsymlink, Msg().u32(kRoot).str("s").str("f").u32(0)), Type::kTsymlink), rofs);
  EXPECT_EQ(err(rpc(Type::kTmknod, Msg().u32(kRoot).str("p").u32(S_IFIFO | 0644).u32(0).u32(0).u32(0)), Type::kTmknod), rofs);
  EXPECT_EQ(err(rpc(Type::kTlink, Msg().u32(kRoot).u32(2).str("l")), Type::kTlink), rofs);
  EXPECT_EQ(err(rpc(Type::kTrenameat, Msg().u32(kRoot).str("f").u32(kRoot).str("g")), Type::kTrenameat), rofs);
  EXPECT_EQ(err(rpc(Type::kTrename, Msg().u32(2).u32(kRoot).str("g")), Type::kTrename), rofs);
  EXPECT_EQ(err(rpc(Type::kTunlinkat, Msg().u32(kRoot).str("f").u32(0)), Type::kTunlinkat), rofs);
  EXPECT_EQ(err(rpc(Type::kTsetattr, Msg().u32(2).u32(8).u32(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0)),
                Type::kTsetattr),
            rofs);
  EXPECT_EQ(err(rpc(Type::kTxattrcreate, Msg().u32(2).str("user.x").u64(1).u32(0)), Type::kTxattrcreate), rofs);
  ASSERT_EQ(lopen(2, kLRdonly), 0u);
  EXPECT_EQ(write(2, 0, "x"), rofs);
  EXPECT_EQ(err(rpc(Type::kTremove, Msg().u32(2)), Type::kTremove), rofs);
  std::ifstream in(dir_ / "f");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "keep");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(P9ServerTest, MalformedMessagesGetRlerror) {
  start();
  auto good = Msg().u32(kRoot).u64(0x7ff).build(Type::kTgetattr, 9);
  // Size field bigger than the buffers.
  auto big = good;
  big[0] = std::byte(good.size() + 10);
  Reply r = send_raw(*server_, big);
  EXPECT_TRUE(r.is_error());
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  EXPECT_EQ(r.tag, 9);
  // Size smaller than a header.
  auto tiny = good;
  tiny[0] = std::byte(5);
  r = send_raw(*server_, tiny);
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  // Fewer bytes than a header at all.
  r = send_raw(*server_, std::vector<std::byte>(3, std::byte{0}));
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  EXPECT_EQ(r.tag, p9::kNoTag);
  // A string length past the end of the message.
  Msg m;
  m.u32(kRoot).u32(2).u16(1).u16(200).raw("ab", 2);
  r = send(*server_, Type::kTwalk, m);
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  // A message cut short inside a field.
  r = send(*server_, Type::kTread, Msg().u32(kRoot).u32(0));
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  // Unknown fid.
  r = send(*server_, Type::kTgetattr, Msg().u32(999).u64(0));
  EXPECT_EQ(r.ecode(), uint32_t(EBADF));
  // Twrite whose count runs past the message.
  put("f", "");
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(lopen(2, kLRdwr), 0u);
  r = send(*server_, Type::kTwrite, Msg().u32(2).u64(0).u32(1000).raw("abc", 3));
  EXPECT_EQ(r.ecode(), uint32_t(EPROTO));
  EXPECT_EQ(fs::file_size(dir_ / "f"), 0u);
  // A message larger than msize (64 KiB here).
  std::string huge(70 * 1024, 'x');
  r = send(*server_, Type::kTwrite, Msg().u32(2).u64(0).u32(uint32_t(huge.size())).raw(huge.data(), huge.size()));
  EXPECT_EQ(r.ecode(), uint32_t(EMSGSIZE));
  EXPECT_EQ(fs::file_size(dir_ / "f"), 0u);
  // Tread count > msize: clipped to what fits in msize, never more.
  std::ofstream(dir_ / "f") << std::string(200 * 1024, 'y');
  r = send(*server_, Type::kTread, Msg().u32(2).u64(0).u32(1u << 30));
  ASSERT_EQ(r.type, uint8_t(Type::kTread) + 1);
  EXPECT_EQ(r.size, 64u * 1024);
  EXPECT_EQ(r.u32(7), 64u * 1024 - 11);
}

TEST_F(P9ServerTest, ReplyBuffersTooSmall) {
  start();
  put("f", std::string(100, 'z'));
  ASSERT_EQ(walk(kRoot, 2, {"f"}), 0u);
  ASSERT_EQ(lopen(2, kLRdonly), 0u);
  auto msg = Msg().u32(2).u64(0).u32(100).build(Type::kTread);
  // The read is clipped to the reply room.
  Reply r = send_raw(*server_, msg, {}, {20});
  ASSERT_EQ(r.type, uint8_t(Type::kTread) + 1);
  EXPECT_EQ(r.u32(7), 9u);
  EXPECT_EQ(r.written, 20u);
  // No room for any reply: nothing is written.
  r = send_raw(*server_, msg, {}, {10});
  EXPECT_EQ(r.written, 0u);
  for (auto b : r.bytes) EXPECT_EQ(b, std::byte{0xcc});
  // A getattr reply does not fit in 40 bytes: an error instead of a cut reply.
  r = send_raw(*server_, Msg().u32(2).u64(0x7ff).build(Type::kTgetattr), {}, {40});
  EXPECT_EQ(r.ecode(), uint32_t(ERANGE));
  EXPECT_EQ(r.written, 11u);
}

TEST_F(P9ServerTest, FidsAreBounded) {
  start(false, 8);
  uint32_t e = 0;
  int made = 0;
  for (uint32_t fid = 10; fid < 100; ++fid) {
    e = walk(kRoot, fid, {});
    if (e) break;
    ++made;
  }
  EXPECT_EQ(made, 7);  // plus the root fid
  EXPECT_EQ(e, uint32_t(ENFILE));
  ASSERT_EQ(clunk(10), 0u);
  EXPECT_EQ(walk(kRoot, 200, {}), 0u);
  // Tversion forgets every fid.
  Reply v = send(*server_, Type::kTversion, Msg().u32(8192).str("9P2000.L"));
  ASSERT_EQ(v.type, 101);
  EXPECT_EQ(server_->fid_count(), 0u);
}

}  // namespace
}  // namespace backends
