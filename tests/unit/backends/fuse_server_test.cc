#include "backends/fuse_server.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace backends {
namespace {

namespace fs = std::filesystem;
using devices::virtio::Buffer;
using Bytes = std::vector<std::byte>;

constexpr uint64_t kRoot = FUSE_ROOT_ID;

template <class T>
void append(Bytes& b, const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}
void append_str(Bytes& b, std::string_view s, bool nul = true) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  b.insert(b.end(), p, p + s.size());
  if (nul) b.push_back(std::byte{0});
}

struct Reply {
  std::optional<uint32_t> written;
  fuse_out_header h{};
  Bytes payload;
  int error() const { return h.error; }
  template <class T>
  T as(size_t at = 0) const {
    T v{};
    EXPECT_GE(payload.size(), at + sizeof(T));
    if (payload.size() >= at + sizeof(T)) std::memcpy(&v, payload.data() + at, sizeof(T));
    return v;
  }
  std::string str() const { return std::string(reinterpret_cast<const char*>(payload.data()), payload.size()); }
};

class FuseServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minivmm-fuse-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    fs::create_directory(dir / "share");
    std::ofstream(dir / "secret") << "outside";
    open_server(false);
  }
  void TearDown() override {
    server.reset();
    fs::remove_all(dir);
  }
  void open_server(bool ro, FuseLimits limits = {}) {
    auto s = FuseServer::open((dir / "share").string(), ro, limits);
    ASSERT_TRUE(s) << s.error().message;
    server = std::move(*s);
  }
  fs::path share() const { return dir / "share"; }

  // Sends header + args (+ data), split across two readable buffers, and
  // collects the reply from two writable buffers.
  Reply raw(const Bytes& req, size_t out_size = 256 * 1024) {
    Bytes in = req;
    const size_t split = std::min<size_t>(in.size(), 7);
    std::vector<Buffer> ins;
    Bytes a(in.begin(), in.begin() + split), b(in.begin() + split, in.end());
    if (!a.empty()) ins.push_back(Buffer{0x1000, static_cast<uint32_t>(a.size()), std::span(a)});
    if (!b.empty()) ins.push_back(Buffer{0x2000, static_cast<uint32_t>(b.size()), std::span(b)});
    Bytes o1(std::min<size_t>(out_size, 5)), o2(out_size - o1.size());
    std::vector<Buffer> outs;
    if (!o1.empty()) outs.push_back(Buffer{0x10000, static_cast<uint32_t>(o1.size()), std::span(o1)});
    if (!o2.empty()) outs.push_back(Buffer{0x20000, static_cast<uint32_t>(o2.size()), std::span(o2)});
    Reply r;
    r.written = server->handle(ins, outs);
    Bytes all = o1;
    all.insert(all.end(), o2.begin(), o2.end());
    if (r.written && *r.written >= sizeof(fuse_out_header)) {
      std::memcpy(&r.h, all.data(), sizeof(r.h));
      EXPECT_EQ(r.h.len, *r.written);
      EXPECT_EQ(r.h.unique, unique_);
      r.payload.assign(all.begin() + sizeof(r.h), all.begin() + *r.written);
    }
    return r;
  }
  Bytes request(uint32_t opcode, uint64_t nodeid, const Bytes& args) {
    Bytes req;
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + args.size());
    h.opcode = opcode;
    h.unique = ++unique_;
    h.nodeid = nodeid;
    h.uid = 12345;  // ignored by policy
    h.gid = 12345;
    append(req, h);
    req.insert(req.end(), args.begin(), args.end());
    return req;
  }
  Reply call(uint32_t opcode, uint64_t nodeid, const Bytes& args = {}, size_t out_size = 256 * 1024) {
    return raw(request(opcode, nodeid, args), out_size);
  }
  Bytes name_arg(std::string_view n) {
    Bytes b;
    append_str(b, n);
    return b;
  }
  Reply lookup(uint64_t parent, std::string_view name) { return call(FUSE_LOOKUP, parent, name_arg(name)); }
  uint64_t lookup_id(uint64_t parent, std::string_view name) {
    Reply r = lookup(parent, name);
    EXPECT_EQ(r.error(), 0) << name;
    return r.error() ? 0 : r.as<fuse_entry_out>().nodeid;
  }
  // CREATE: (nodeid, fh).
  std::pair<uint64_t, uint64_t> create(uint64_t parent, std::string_view name, uint32_t mode = 0644,
                                       int* error = nullptr) {
    Bytes a;
    fuse_create_in in{};
    in.flags = O_RDWR;
    in.mode = S_IFREG | mode;
    append(a, in);
    append_str(a, name);
    Reply r = call(FUSE_CREATE, parent, a);
    if (error) *error = r.error();
    if (r.error()) return {0, 0};
    return {r.as<fuse_entry_out>().nodeid, r.as<fuse_open_out>(sizeof(fuse_entry_out)).fh};
  }
  Reply open(uint64_t node, uint32_t flags, bool dir = false) {
    Bytes a;
    fuse_open_in in{};
    in.flags = flags;
    append(a, in);
    return call(dir ? FUSE_OPENDIR : FUSE_OPEN, node, a);
  }
  Reply write(uint64_t node, uint64_t fh, uint64_t off, std::string_view data) {
    Bytes a;
    fuse_write_in in{};
    in.fh = fh;
    in.offset = off;
    in.size = static_cast<uint32_t>(data.size());
    append(a, in);
    append_str(a, data, false);
    return call(FUSE_WRITE, node, a);
  }
  Reply read(uint64_t node, uint64_t fh, uint64_t off, uint32_t size, uint32_t opcode = FUSE_READ) {
    Bytes a;
    fuse_read_in in{};
    in.fh = fh;
    in.offset = off;
    in.size = size;
    append(a, in);
    return call(opcode, node, a);
  }
  Reply getattr(uint64_t node) {
    Bytes a;
    append(a, fuse_getattr_in{});
    return call(FUSE_GETATTR, node, a);
  }
  Reply mkdir(uint64_t parent, std::string_view name, uint32_t mode = 0755) {
    Bytes a;
    fuse_mkdir_in in{};
    in.mode = mode;
    append(a, in);
    append_str(a, name);
    return call(FUSE_MKDIR, parent, a);
  }
  Reply mknod(uint64_t parent, std::string_view name, uint32_t mode, uint32_t rdev = 0) {
    Bytes a;
    fuse_mknod_in in{};
    in.mode = mode;
    in.rdev = rdev;
    append(a, in);
    append_str(a, name);
    return call(FUSE_MKNOD, parent, a);
  }
  Reply symlink(uint64_t parent, std::string_view name, std::string_view target) {
    Bytes a;
    append_str(a, name);
    append_str(a, target);
    return call(FUSE_SYMLINK, parent, a);
  }
  Reply rename2(uint64_t from, std::string_view a_name, uint64_t to, std::string_view b_name, uint32_t flags) {
    Bytes a;
    fuse_rename2_in in{};
    in.newdir = to;
    in.flags = flags;
    append(a, in);
    append_str(a, a_name);
    append_str(a, b_name);
    return call(FUSE_RENAME2, from, a);
  }
  Reply link(uint64_t old, uint64_t parent, std::string_view name) {
    Bytes a;
    fuse_link_in in{};
    in.oldnodeid = old;
    append(a, in);
    append_str(a, name);
    return call(FUSE_LINK, parent, a);
  }
  Reply setxattr(uint64_t node, std::string_view name, std::string_view value) {
    Bytes a;
    fuse_setxattr_in in{};
    in.size = static_cast<uint32_t>(value.size());
    a.resize(FUSE_COMPAT_SETXATTR_IN_SIZE);
    std::memcpy(a.data(), &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
    append_str(a, name);
    append_str(a, value, false);
    return call(FUSE_SETXATTR, node, a);
  }
  Reply setattr(uint64_t node, const fuse_setattr_in& in) {
    Bytes a;
    append(a, in);
    return call(FUSE_SETATTR, node, a);
  }
  std::string read_host(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir;
  std::unique_ptr<FuseServer> server;
  uint64_t unique_ = 0;
};

TEST_F(FuseServerTest, InitNegotiates) {
  Bytes a;
  fuse_init_in in{};
  in.major = 7;
  in.minor = 38;
  in.max_readahead = 65536;
  in.flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_POSIX_ACL | FUSE_WRITEBACK_CACHE;
  append(a, in);
  Reply r = call(FUSE_INIT, 0, a);
  ASSERT_EQ(r.error(), 0);
  auto o = r.as<fuse_init_out>();
  EXPECT_EQ(o.major, 7u);
  EXPECT_GE(o.minor, 31u);
  EXPECT_EQ(o.max_readahead, 65536u);
  EXPECT_EQ(o.max_write, 1u << 20);
  EXPECT_EQ(o.flags, uint32_t{FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES}) << "offers only what it implements";
  in.major = 6;
  Bytes old;
  append(old, in);
  EXPECT_EQ(call(FUSE_INIT, 0, old).error(), -EPROTO);
}

TEST_F(FuseServerTest, CreateWriteReadLookupGetattr) {
  auto [node, fh] = create(kRoot, "f");
  ASSERT_NE(node, 0u);
  Reply w = write(node, fh, 0, "hello world");
  ASSERT_EQ(w.error(), 0);
  EXPECT_EQ(w.as<fuse_write_out>().size, 11u);
  EXPECT_EQ(read_host(share() / "f"), "hello world");
  Reply rd = read(node, fh, 6, 100);
  ASSERT_EQ(rd.error(), 0);
  EXPECT_EQ(rd.str(), "world");
  Reply l = lookup(kRoot, "f");
  ASSERT_EQ(l.error(), 0);
  EXPECT_EQ(l.as<fuse_entry_out>().nodeid, node) << "one inode, one node";
  Reply g = getattr(node);
  ASSERT_EQ(g.error(), 0);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.size, 11u);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.uid, ::getuid()) << "the guest's uid is ignored";
  Bytes rel;
  fuse_release_in ri{};
  ri.fh = fh;
  append(rel, ri);
  EXPECT_EQ(call(FUSE_RELEASE, node, rel).error(), 0);
  EXPECT_EQ(server->handle_count(), 0u);
  EXPECT_EQ(read(node, fh, 0, 10).error(), -EBADF) << "a released fh is gone";
  Bytes fg;
  append(fg, fuse_forget_in{2});
  EXPECT_EQ(call(FUSE_FORGET, node, fg).written, 0u) << "FORGET has no reply";
  EXPECT_EQ(getattr(node).error(), -ESTALE);
}

TEST_F(FuseServerTest, ReaddirOffsetsSurviveManyEntries) {
  fs::create_directory(share() / "big");
  for (int i = 0; i < 5000; ++i) std::ofstream(share() / "big" / ("entry_" + std::to_string(i)));
  uint64_t d = lookup_id(kRoot, "big");
  Reply o = open(d, O_RDONLY, true);
  ASSERT_EQ(o.error(), 0);
  const uint64_t fh = o.as<fuse_open_out>().fh;
  std::set<std::string> names;
  uint64_t off = 0;
  int calls = 0;
  for (;;) {
    Reply r = read(d, fh, off, 4096, FUSE_READDIR);
    ASSERT_EQ(r.error(), 0);
    if (r.payload.empty()) break;
    ++calls;
    for (size_t pos = 0; pos < r.payload.size();) {
      fuse_dirent de;
      std::memcpy(&de, r.payload.data() + pos, FUSE_NAME_OFFSET);
      ASSERT_LE(pos + FUSE_NAME_OFFSET + de.namelen, r.payload.size());
      std::string n(reinterpret_cast<const char*>(r.payload.data()) + pos + FUSE_NAME_OFFSET, de.namelen);
      EXPECT_TRUE(names.insert(n).second) << "duplicate " << n;
      off = de.off;
      pos += FUSE_DIRENT_SIZE(&de);
    }
  }
  EXPECT_EQ(names.size(), 5002u) << "every entry plus . and ..";
  EXPECT_GT(calls, 10);
  EXPECT_TRUE(names.count("entry_4999"));

  // READDIRPLUS: each real entry comes with a node (a lookup the guest forgets).
  Reply p = read(d, fh, 0, 4096, FUSE_READDIRPLUS);
  ASSERT_EQ(p.error(), 0);
  fuse_direntplus first;
  std::memcpy(&first, p.payload.data(), sizeof(first));
  size_t with_node = 0;
  for (size_t pos = 0; pos < p.payload.size();) {
    fuse_direntplus e;
    std::memcpy(&e, p.payload.data() + pos, sizeof(e));
    std::string n(reinterpret_cast<const char*>(p.payload.data()) + pos + FUSE_NAME_OFFSET_DIRENTPLUS,
                  e.dirent.namelen);
    if (n != "." && n != "..") {
      EXPECT_NE(e.entry_out.nodeid, 0u) << n;
      ++with_node;
    }
    pos += FUSE_DIRENTPLUS_SIZE(&e);
  }
  EXPECT_GT(with_node, 5u);
  EXPECT_EQ(server->node_count(), 2 + with_node);
}

TEST_F(FuseServerTest, ReadsPastFourGiB) {
  {
    int fd = ::open((share() / "huge").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "far", 3, 5ll << 30), 3);
    ::close(fd);
  }
  uint64_t n = lookup_id(kRoot, "huge");
  EXPECT_EQ(getattr(n).as<fuse_attr_out>().attr.size, (5ull << 30) + 3);
  Reply o = open(n, O_RDWR);
  ASSERT_EQ(o.error(), 0);
  const uint64_t fh = o.as<fuse_open_out>().fh;
  Reply r = read(n, fh, 5ull << 30, 16);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.str(), "far");
  ASSERT_EQ(write(n, fh, (6ull << 30), "beyond").error(), 0);
  EXPECT_EQ(read(n, fh, 6ull << 30, 6).str(), "beyond");
  EXPECT_EQ(fs::file_size(share() / "huge"), (6ull << 30) + 6);
}

TEST_F(FuseServerTest, OpenUnlinkFstat) {
  auto [node, fh] = create(kRoot, "tmp");
  ASSERT_EQ(write(node, fh, 0, "data").error(), 0);
  Bytes a;
  append_str(a, "tmp");
  ASSERT_EQ(call(FUSE_UNLINK, kRoot, a).error(), 0);
  EXPECT_FALSE(fs::exists(share() / "tmp"));
  Reply g = getattr(node);
  ASSERT_EQ(g.error(), 0);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.nlink, 0u);
  EXPECT_EQ(g.as<fuse_attr_out>().attr.size, 4u);
  EXPECT_EQ(read(node, fh, 0, 10).str(), "data");
  EXPECT_EQ(lookup(kRoot, "tmp").error(), -ENOENT);
}

TEST_F(FuseServerTest, RenameLinkSymlinkReadlink) {
  auto [node, fh] = create(kRoot, "a");
  ASSERT_EQ(write(node, fh, 0, "A").error(), 0);
  ASSERT_EQ(create(kRoot, "b").first != 0, true);
  EXPECT_EQ(rename2(kRoot, "a", kRoot, "b", RENAME_NOREPLACE).error(), -EEXIST);
  ASSERT_EQ(rename2(kRoot, "a", kRoot, "b", RENAME_EXCHANGE).error(), 0);
  EXPECT_EQ(read_host(share() / "b"), "A");
  EXPECT_EQ(rename2(kRoot, "a", kRoot, "c", RENAME_WHITEOUT).error(), -EINVAL) << "whiteouts are device nodes";
  Bytes ra;
  fuse_rename_in ri{};
  ri.newdir = kRoot;
  append(ra, ri);
  append_str(ra, "b");
  append_str(ra, "c");
  ASSERT_EQ(call(FUSE_RENAME, kRoot, ra).error(), 0);
  EXPECT_EQ(read_host(share() / "c"), "A");

  Reply l = link(node, kRoot, "hard");
  ASSERT_EQ(l.error(), 0);
  EXPECT_EQ(l.as<fuse_entry_out>().nodeid, node);
  EXPECT_EQ(l.as<fuse_entry_out>().attr.nlink, 2u);
  EXPECT_EQ(read_host(share() / "hard"), "A");

  Reply s = symlink(kRoot, "sl", "c");
  ASSERT_EQ(s.error(), 0);
  EXPECT_TRUE(S_ISLNK(s.as<fuse_entry_out>().attr.mode));
  Reply rl = call(FUSE_READLINK, s.as<fuse_entry_out>().nodeid);
  ASSERT_EQ(rl.error(), 0);
  EXPECT_EQ(rl.str(), "c");
  EXPECT_EQ(fs::read_symlink(share() / "sl"), "c");
  EXPECT_EQ(call(FUSE_READLINK, node).error(), -EINVAL) << "not a link";

  ASSERT_EQ(mkdir(kRoot, "d").error(), 0);
  Bytes rd;
  append_str(rd, "d");
  EXPECT_EQ(call(FUSE_RMDIR, kRoot, rd).error(), 0);
  EXPECT_FALSE(fs::exists(share() / "d"));
}

TEST_F(FuseServerTest, Xattrs) {
  auto [node, fh] = create(kRoot, "x");
  Reply s = setxattr(node, "user.test", "value");
  if (s.error() == -EOPNOTSUPP || s.error() == -ENOTSUP) GTEST_SKIP() << "host fs has no user xattrs";
  ASSERT_EQ(s.error(), 0);
  char buf[16] = {};
  EXPECT_EQ(::getxattr((share() / "x").c_str(), "user.test", buf, sizeof buf), 5);
  Bytes g;
  fuse_getxattr_in gi{};
  gi.size = 0;
  append(g, gi);
  append_str(g, "user.test");
  Reply size = call(FUSE_GETXATTR, node, g);
  ASSERT_EQ(size.error(), 0);
  EXPECT_EQ(size.as<fuse_getxattr_out>().size, 5u);
  Bytes g2;
  gi.size = 64;
  append(g2, gi);
  append_str(g2, "user.test");
  EXPECT_EQ(call(FUSE_GETXATTR, node, g2).str(), "value");
  Bytes li;
  append(li, gi);
  Reply list = call(FUSE_LISTXATTR, node, li);
  ASSERT_EQ(list.error(), 0);
  EXPECT_NE(list.str().find("user.test"), std::string::npos);
  EXPECT_EQ(setxattr(node, "security.capability", "x").error(), -EOPNOTSUPP) << "only user.* is settable";
  EXPECT_EQ(call(FUSE_REMOVEXATTR, node, name_arg("user.test")).error(), 0);
  EXPECT_EQ(call(FUSE_GETXATTR, node, g2).error(), -ENODATA);
}

TEST_F(FuseServerTest, StatfsFsyncSetattrAccess) {
  Reply st = call(FUSE_STATFS, kRoot);
  ASSERT_EQ(st.error(), 0);
  EXPECT_GT(st.as<fuse_statfs_out>().st.bsize, 0u);
  EXPECT_GT(st.as<fuse_statfs_out>().st.blocks, 0u);
  auto [node, fh] = create(kRoot, "s");
  ASSERT_EQ(write(node, fh, 0, "0123456789").error(), 0);
  Bytes fa;
  fuse_fsync_in fi{};
  fi.fh = fh;
  append(fa, fi);
  EXPECT_EQ(call(FUSE_FSYNC, node, fa).error(), 0);
  fi.fh = 999;
  Bytes bad;
  append(bad, fi);
  EXPECT_EQ(call(FUSE_FSYNC, node, bad).error(), -EBADF);

  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE | FATTR_MTIME | FATTR_MODE | FATTR_UID;
  sa.size = 4;
  sa.mtime = 1000000;
  sa.mode = S_IFREG | 04711;
  sa.uid = 0;
  Reply r = setattr(node, sa);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_attr_out>().attr.size, 4u);
  EXPECT_EQ(r.as<fuse_attr_out>().attr.mtime, 1000000u);
  struct stat hs;
  ASSERT_EQ(::stat((share() / "s").c_str(), &hs), 0);
  EXPECT_EQ(hs.st_mode & 07777, 0711u) << "chmod cannot set setuid";
  EXPECT_EQ(hs.st_size, 4);
  EXPECT_EQ(hs.st_uid, ::getuid());
  sa.valid = FATTR_MTIME | FATTR_MTIME_NOW;
  EXPECT_GT(setattr(node, sa).as<fuse_attr_out>().attr.mtime, 1000000u);

  Bytes ac;
  fuse_access_in ai{};
  ai.mask = R_OK | W_OK;
  append(ac, ai);
  EXPECT_EQ(call(FUSE_ACCESS, node, ac).error(), 0);

  Bytes fl;
  fuse_fallocate_in fal{};
  fal.fh = fh;
  fal.length = 8192;
  append(fl, fal);
  EXPECT_EQ(call(FUSE_FALLOCATE, node, fl).error(), 0);
  EXPECT_EQ(fs::file_size(share() / "s"), 8192u);
  Bytes ls;
  fuse_lseek_in lsi{};
  lsi.fh = fh;
  lsi.whence = SEEK_DATA;
  append(ls, lsi);
  EXPECT_EQ(call(FUSE_LSEEK, node, ls).error(), 0);
}

TEST_F(FuseServerTest, NamesAreSingleComponents) {
  std::ofstream(share() / "in") << "x";
  EXPECT_EQ(lookup(kRoot, "..").error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, ".").error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, "a/b").error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, "../secret").error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, "/etc").error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, "").error(), -EINVAL);
  Bytes nul;
  append_str(nul, std::string_view("in\0x", 4));
  EXPECT_EQ(call(FUSE_LOOKUP, kRoot, nul).error(), -EINVAL) << "a NUL inside the name";
  Bytes unterminated;
  append_str(unterminated, "in", false);
  EXPECT_EQ(call(FUSE_LOOKUP, kRoot, unterminated).error(), -EINVAL);
  EXPECT_EQ(lookup(kRoot, std::string(256, 'n')).error(), -ENAMETOOLONG);
  EXPECT_EQ(lookup(kRoot, "in").error(), 0);
  int err = 0;
  create(kRoot, "../escape", 0644, &err);
  EXPECT_EQ(err, -EINVAL);
  EXPECT_FALSE(fs::exists(dir / "escape"));
}

TEST_F(FuseServerTest, SymlinksAreNeverFollowed) {
  fs::create_directory_symlink("/etc", share() / "etc");
  fs::create_directory_symlink("../../", share() / "up");
  fs::create_symlink("../secret", share() / "sec");
  for (const char* name : {"etc", "up", "sec"}) {
    Reply l = lookup(kRoot, name);
    ASSERT_EQ(l.error(), 0) << name;
    auto e = l.as<fuse_entry_out>();
    EXPECT_TRUE(S_ISLNK(e.attr.mode)) << name << ": the link itself, not its target";
    EXPECT_EQ(open(e.nodeid, O_RDONLY).error(), -ELOOP) << name;
    EXPECT_EQ(open(e.nodeid, O_RDONLY, true).error(), -ENOTDIR) << name;
    EXPECT_EQ(lookup(e.nodeid, "passwd").error(), -ENOTDIR) << name;
  }
  int err = 0;
  create(kRoot, "sec", 0644, &err);
  EXPECT_EQ(err, -ELOOP) << "O_CREAT through a link";
  EXPECT_EQ(read_host(dir / "secret"), "outside");
  uint64_t sec = lookup_id(kRoot, "sec");
  EXPECT_EQ(setxattr(sec, "user.x", "y").error(), -EPERM);
  fuse_setattr_in sa{};
  sa.valid = FATTR_MODE;
  sa.mode = 0777;
  EXPECT_EQ(setattr(sec, sa).error(), -EOPNOTSUPP);
  struct stat hs;
  ASSERT_EQ(::stat((dir / "secret").c_str(), &hs), 0);
  EXPECT_NE(hs.st_mode & 0777, 0777u);
}

TEST_F(FuseServerTest, DirectoryReplacedAfterLookupCannotLeadOutside) {
  fs::create_directory(share() / "d");
  std::ofstream(share() / "d" / "inner") << "in";
  const uint64_t d = lookup_id(kRoot, "d");
  // Between the guest's lookup and its next use, "d" moves away and a link
  // to outside the share takes its name.
  fs::rename(share() / "d", share() / "moved");
  fs::create_directory_symlink(dir, share() / "d");
  EXPECT_EQ(lookup(d, "secret").error(), -ENOENT) << "the node is still the old directory";
  EXPECT_EQ(lookup(d, "inner").error(), 0);
  const uint64_t fresh = lookup_id(kRoot, "d");
  EXPECT_NE(fresh, d);
  EXPECT_EQ(lookup(fresh, "secret").error(), -ENOTDIR);
  EXPECT_EQ(open(fresh, O_RDONLY, true).error(), -ENOTDIR);
}

TEST_F(FuseServerTest, ReadOnlyShareRefusesEveryChange) {
  std::ofstream(share() / "f") << "keep";
  fs::create_directory(share() / "sub");
  open_server(true);
  const uint64_t f = lookup_id(kRoot, "f");
  int err = 0;
  create(kRoot, "new", 0644, &err);
  EXPECT_EQ(err, -EROFS);
  EXPECT_EQ(open(f, O_RDWR).error(), -EROFS);
  EXPECT_EQ(open(f, O_RDONLY | O_TRUNC).error(), -EROFS);
  Reply ro = open(f, O_RDONLY);
  ASSERT_EQ(ro.error(), 0);
  const uint64_t fh = ro.as<fuse_open_out>().fh;
  EXPECT_EQ(write(f, fh, 0, "x").error(), -EROFS);
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE;
  EXPECT_EQ(setattr(f, sa).error(), -EROFS);
  EXPECT_EQ(call(FUSE_UNLINK, kRoot, name_arg("f")).error(), -EROFS);
  EXPECT_EQ(call(FUSE_RMDIR, kRoot, name_arg("sub")).error(), -EROFS);
  EXPECT_EQ(mkdir(kRoot, "d").error(), -EROFS);
  EXPECT_EQ(mknod(kRoot, "n", S_IFREG | 0644).error(), -EROFS);
  EXPECT_EQ(symlink(kRoot, "l", "f").error(), -EROFS);
  EXPECT_EQ(link(f, kRoot, "h").error(), -EROFS);
  EXPECT_EQ(rename2(kRoot, "f", kRoot, "g", 0).error(), -EROFS);
  EXPECT_EQ(setxattr(f, "user.a", "b").error(), -EROFS);
  Bytes fl;
  fuse_fallocate_in fal{};
  fal.fh = fh;
  fal.length = 10;
  append(fl, fal);
  EXPECT_EQ(call(FUSE_FALLOCATE, f, fl).error(), -EROFS);
  EXPECT_EQ(read(f, fh, 0, 10).str(), "keep");
  EXPECT_EQ(read_host(share() / "f"), "keep");
  EXPECT_EQ(fs::directory_iterator(share()) == fs::directory_iterator(), false);
  EXPECT_FALSE(fs::exists(share() / "new"));
  EXPECT_FALSE(fs::exists(share() / "d"));
}

TEST_F(FuseServerTest, NoDevicesOrSetuidFiles) {
  EXPECT_EQ(mknod(kRoot, "null", S_IFCHR | 0666, makedev(1, 3)).error(), -EPERM);
  EXPECT_EQ(mknod(kRoot, "blk", S_IFBLK | 0666, makedev(8, 0)).error(), -EPERM);
  EXPECT_FALSE(fs::exists(share() / "null"));
  Reply fifo = mknod(kRoot, "fifo", S_IFIFO | 0644);
  ASSERT_EQ(fifo.error(), 0);
  EXPECT_TRUE(fs::is_fifo(share() / "fifo"));
  EXPECT_EQ(open(fifo.as<fuse_entry_out>().nodeid, O_RDONLY).error(), -EACCES) << "a FIFO would block the VMM";
  ASSERT_EQ(mknod(kRoot, "plain", S_IFREG | 06755).error(), 0);
  auto [node, fh] = create(kRoot, "suid", 04755);
  ASSERT_NE(node, 0u);
  ASSERT_EQ(mkdir(kRoot, "sgid", 02755).error(), 0);
  for (const char* n : {"suid", "plain", "sgid"}) {
    struct stat hs;
    ASSERT_EQ(::stat((share() / n).c_str(), &hs), 0);
    EXPECT_EQ(hs.st_mode & (S_ISUID | S_ISGID), 0u) << n;
    EXPECT_EQ(hs.st_uid, ::getuid()) << n;
  }
}

TEST_F(FuseServerTest, MalformedRequestsGetErrors) {
  auto [node, fh] = create(kRoot, "m");
  // len larger than the buffers.
  Bytes big = request(FUSE_GETATTR, kRoot, Bytes(16));
  reinterpret_cast<fuse_in_header*>(big.data())->len = 4096;
  EXPECT_EQ(raw(big).error(), -EINVAL);
  // len smaller than the header.
  Bytes small = request(FUSE_GETATTR, kRoot, Bytes(16));
  reinterpret_cast<fuse_in_header*>(small.data())->len = 8;
  EXPECT_EQ(raw(small).error(), -EINVAL);
  EXPECT_EQ(call(9999, kRoot).error(), -ENOSYS);
  EXPECT_EQ(getattr(424242).error(), -ESTALE) << "a nodeid never handed out";
  EXPECT_EQ(lookup(424242, "m").error(), -ESTALE);
  EXPECT_EQ(read(node, 777, 0, 10).error(), -EBADF) << "an fh never opened";
  EXPECT_EQ(write(node, 777, 0, "x").error(), -EBADF);
  // An argument struct cut short.
  EXPECT_EQ(call(FUSE_READ, node, Bytes(8)).error(), -EINVAL);
  EXPECT_EQ(call(FUSE_MKDIR, kRoot, Bytes(4)).error(), -EINVAL);
  // WRITE whose size disagrees with the data the header covers.
  Bytes w;
  fuse_write_in wi{};
  wi.fh = fh;
  wi.size = 100;
  append(w, wi);
  append_str(w, "short", false);
  EXPECT_EQ(call(FUSE_WRITE, node, w).error(), -EINVAL);
  // A directory fh used as a file fh and the reverse.
  Reply od = open(kRoot, O_RDONLY, true);
  ASSERT_EQ(od.error(), 0);
  EXPECT_EQ(read(node, od.as<fuse_open_out>().fh, 0, 10).error(), -EBADF);
  EXPECT_EQ(read(kRoot, fh, 0, 4096, FUSE_READDIR).error(), -EBADF);
  // No room for a reply header: the chain is broken, not the request.
  EXPECT_FALSE(call(FUSE_GETATTR, kRoot, Bytes(16), 8).written.has_value());
  // Requests without replies need no room.
  Bytes fg;
  append(fg, fuse_forget_in{1});
  EXPECT_EQ(call(FUSE_FORGET, node, fg, 0).written, 0u);
  EXPECT_EQ(call(FUSE_INTERRUPT, 0, Bytes(8), 0).written, 0u);
  Bytes bf;
  fuse_batch_forget_in bfi{};
  bfi.count = 1000000;  // far more than present
  append(bf, bfi);
  append(bf, fuse_forget_one{node, 1});
  EXPECT_EQ(call(FUSE_BATCH_FORGET, 0, bf, 0).written, 0u);
  EXPECT_EQ(getattr(node).error(), -ESTALE) << "the one present entry was applied";
}

TEST_F(FuseServerTest, ShortInputStillGetsAnErrorReply) {
  Bytes four(4);
  Reply r = raw(four);
  ASSERT_TRUE(r.written.has_value());
  EXPECT_EQ(r.h.error, -EINVAL);
}

TEST_F(FuseServerTest, HandlesAndNodesAreBounded) {
  FuseLimits limits;
  limits.max_handles = 3;
  limits.max_nodes = 4;
  open_server(false, limits);
  for (int i = 0; i < 6; ++i) std::ofstream(share() / ("f" + std::to_string(i))) << i;
  uint64_t f0 = lookup_id(kRoot, "f0");
  EXPECT_EQ(open(f0, O_RDONLY).error(), 0);
  EXPECT_EQ(open(f0, O_RDONLY).error(), 0);
  EXPECT_EQ(open(f0, O_RDONLY).error(), 0);
  EXPECT_EQ(open(f0, O_RDONLY).error(), -ENFILE);
  EXPECT_EQ(server->handle_count(), 3u);
  lookup_id(kRoot, "f1");
  lookup_id(kRoot, "f2");
  EXPECT_EQ(lookup(kRoot, "f3").error(), -ENFILE);
  EXPECT_EQ(server->node_count(), 4u);
}

}  // namespace
}  // namespace backends
