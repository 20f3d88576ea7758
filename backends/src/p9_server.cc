#include "backends/p9_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "backends/p9_codec.h"
#include "backends/share_dir.h"

namespace backends {

using devices::ErrorCode;
using devices::fail;
using devices::Result;
using p9::Qid;
using p9::Reader;
using p9::Type;
using p9::Writer;

// A node of the share: an O_PATH fd plus how the guest reached it (parent
// and name), which answers ".." and names the node for Tremove/Trename.
struct P9Server::Node {
  Node(int f, std::shared_ptr<Node> p, std::string n) : fd(f), parent(std::move(p)), name(std::move(n)) {}
  ~Node() { ::close(fd); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  int fd;
  std::shared_ptr<Node> parent;  // null for the root
  std::string name;
};

struct P9Server::Fid {
  enum class Kind { kNode, kXattrRead, kXattrWrite };
  explicit Fid(std::shared_ptr<Node> n) : node(std::move(n)) {}
  ~Fid() {
    if (open_fd >= 0) ::close(open_fd);
  }
  Fid(const Fid&) = delete;
  Fid& operator=(const Fid&) = delete;
  std::shared_ptr<Node> node;
  int open_fd = -1;
  bool open_dir = false;
  Kind kind = Kind::kNode;
  std::vector<std::byte> xattr;  // read: the value/list; write: what arrived so far
  std::string xattr_name;
  uint64_t xattr_size = 0;  // write: the size announced by Txattrcreate
  int xattr_flags = 0;
};

namespace {

constexpr uint32_t kMinMsize = 512;
constexpr uint16_t kMaxWalkNames = 16;  // MAXWELEM
constexpr uint64_t kMaxXattrSize = 64 * 1024;  // XATTR_SIZE_MAX
constexpr size_t kMaxXattrFids = 64;

// 9P2000.L open flags (the Linux x86 values, whatever the host's are).
constexpr uint32_t kLAccMode = 03;
constexpr uint32_t kLTrunc = 01000;
constexpr uint32_t kLAppend = 02000;
constexpr uint32_t kLDsync = 010000;
constexpr uint32_t kLDirectory = 0200000;
constexpr uint32_t kLSync = 04000000;

// Tsetattr valid bits.
constexpr uint32_t kSetMode = 1, kSetSize = 8, kSetAtime = 16, kSetMtime = 32, kSetAtimeSet = 128,
                   kSetMtimeSet = 256;
constexpr uint64_t kGetattrBasic = 0x7ff;
constexpr uint32_t kAtRemoveDir = 0x200;

Qid qid_of(const struct stat& st) {
  Qid q;
  if (S_ISDIR(st.st_mode)) q.type = p9::kQidDir;
  else if (S_ISLNK(st.st_mode)) q.type = p9::kQidSymlink;
  q.path = p9::qid_path(st.st_dev, st.st_ino);
  return q;
}

int stat_fd(int fd, struct stat& st) { return ::fstat(fd, &st) == 0 ? 0 : errno; }

// Host open flags from 9P2000.L ones; EINVAL for an impossible access mode.
int host_flags(uint32_t l, int& out) {
  const uint32_t acc = l & kLAccMode;
  if (acc == 3) return EINVAL;
  out = acc == 0 ? O_RDONLY : acc == 1 ? O_WRONLY : O_RDWR;
  if (l & kLTrunc) out |= O_TRUNC;
  if (l & kLAppend) out |= O_APPEND;
  if (l & kLDsync) out |= O_DSYNC;
  if (l & kLSync) out |= O_SYNC;
  if (l & kLDirectory) out |= O_DIRECTORY;
  // O_DIRECT (alignment), O_NOATIME (ownership), O_NONBLOCK and O_ASYNC are
  // host policy, not the guest's to choose.
  return 0;
}

bool modifies(Type t) {
  switch (t) {
    case Type::kTlcreate:
    case Type::kTsymlink:
    case Type::kTmknod:
    case Type::kTrename:
    case Type::kTsetattr:
    case Type::kTxattrcreate:
    case Type::kTlink:
    case Type::kTmkdir:
    case Type::kTrenameat:
    case Type::kTunlinkat:
    case Type::kTwrite:
      return true;
    default:
      return false;
  }
}

bool valid_xattr_name(const std::string& name) {
  return !name.empty() && name.size() <= XATTR_NAME_MAX && name.find('\0') == std::string::npos;
}

// Names the guest may set or remove: its own namespace and POSIX ACLs. Not
// security.* (file capabilities are setuid by another name) nor trusted.*.
bool settable_xattr(const std::string& name) {
  return name.starts_with("user.") || name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

template <class Span>
std::vector<iovec> to_iovecs(const std::vector<Span>& spans) {
  std::vector<iovec> iov;
  iov.reserve(spans.size());
  for (const auto& s : spans) iov.push_back({const_cast<std::byte*>(s.data()), s.size()});
  return iov;
}

// preadv/pwritev over any number of iovecs (IOV_MAX at a time); stops at a
// short transfer. Returns bytes done or -errno when nothing was done.
int64_t transfer(bool write, int fd, std::vector<iovec> iov, uint64_t offset) {
  uint64_t done = 0;
  size_t i = 0;
  while (i < iov.size()) {
    const int n = static_cast<int>(std::min<size_t>(iov.size() - i, IOV_MAX));
    uint64_t want = 0;
    for (int k = 0; k < n; ++k) want += iov[i + k].iov_len;
    const ssize_t r = write ? ::pwritev(fd, &iov[i], n, static_cast<off_t>(offset + done))
                            : ::preadv(fd, &iov[i], n, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? static_cast<int64_t>(done) : -errno;
    }
    done += static_cast<uint64_t>(r);
    if (static_cast<uint64_t>(r) < want) break;
    i += n;
  }
  return static_cast<int64_t>(done);
}

}  // namespace

class P9Server::Session {
 public:
  Session(const P9ServerOptions& options, std::unique_ptr<ShareDir> share, int root_fd)
      : options_(options), share_(std::move(share)), root_(std::make_shared<Node>(root_fd, nullptr, std::string())) {
    options_.max_msize = std::max(options_.max_msize, kMinMsize);
  }

  uint32_t handle(std::span<const std::span<const std::byte>> request, std::span<const std::span<std::byte>> reply);
  void reset() {
    fids_.clear();
    versioned_ = false;
    msize_ = options_.max_msize;
  }
  size_t fid_count() const { return fids_.size(); }

 private:
  int dispatch(Type type, Reader& r, Writer& w);
  int op_version(Reader& r, Writer& w);
  int op_attach(Reader& r, Writer& w);
  int op_walk(Reader& r, Writer& w);
  int op_lopen(Reader& r, Writer& w);
  int op_lcreate(Reader& r, Writer& w);
  int op_read(Reader& r, Writer& w);
  int op_write(Reader& r, Writer& w);
  int op_clunk(Reader& r, Writer& w);
  int op_remove(Reader& r, Writer& w);
  int op_getattr(Reader& r, Writer& w);
  int op_setattr(Reader& r, Writer& w);
  int op_readdir(Reader& r, Writer& w);
  int op_statfs(Reader& r, Writer& w);
  int op_mkdir(Reader& r, Writer& w);
  int op_symlink(Reader& r, Writer& w);
  int op_mknod(Reader& r, Writer& w);
  int op_link(Reader& r, Writer& w);
  int op_readlink(Reader& r, Writer& w);
  int op_rename(Reader& r, Writer& w);
  int op_renameat(Reader& r, Writer& w);
  int op_unlinkat(Reader& r, Writer& w);
  int op_fsync(Reader& r, Writer& w);
  int op_xattrwalk(Reader& r, Writer& w);
  int op_xattrcreate(Reader& r, Writer& w);
  int op_lock(Reader& r, Writer& w);
  int op_getlock(Reader& r, Writer& w);

  Fid* find(uint32_t fid) {
    auto it = fids_.find(fid);
    return it == fids_.end() ? nullptr : it->second.get();
  }
  // A fid naming a node (not an xattr fid).
  Fid* node_fid(uint32_t fid) {
    Fid* f = find(fid);
    return f && f->kind == Fid::Kind::kNode ? f : nullptr;
  }
  // Room for one more fid under `id` (which must be free unless `replacing`).
  int can_add(uint32_t id, bool replacing) {
    if (id == p9::kNoFid) return EINVAL;
    if (fids_.contains(id)) return replacing ? 0 : EBADF;
    return fids_.size() >= options_.max_fids ? ENFILE : 0;
  }
  size_t xattr_fids() const {
    return static_cast<size_t>(std::count_if(fids_.begin(), fids_.end(),
                                             [](const auto& kv) { return kv.second->kind != Fid::Kind::kNode; }));
  }
  int qid_at(int dir_fd, const std::string& name, Qid& q) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    q = qid_of(st);
    return 0;
  }

  P9ServerOptions options_;
  std::unique_ptr<ShareDir> share_;
  std::shared_ptr<Node> root_;
  std::unordered_map<uint32_t, std::unique_ptr<Fid>> fids_;
  bool versioned_ = false;
  uint32_t msize_ = 0;
};

uint32_t P9Server::Session::handle(std::span<const std::span<const std::byte>> request,
                                   std::span<const std::span<std::byte>> reply) {
  const uint32_t limit = versioned_ ? msize_ : options_.max_msize;
  // Without room for an Rlerror the guest gets nothing, not half a reply.
  if (Writer(reply, limit).limit() < P9Server::kMinReply) return 0;
  Reader header(request, UINT64_MAX);
  const uint32_t size = header.u32();
  const uint8_t type = header.u8();
  const uint16_t tag = header.ok() ? header.u16() : p9::kNoTag;
  int err = 0;
  uint32_t written = 0;
  if (!header.ok() || size < p9::kHeaderSize || size > header.position() + header.remaining()) {
    err = EPROTO;  // a frame that is not there
  } else if (size > limit) {
    err = EMSGSIZE;
  } else if (!versioned_ && type != static_cast<uint8_t>(Type::kTversion)) {
    err = EPROTO;
  } else {
    Reader body(request, size);
    body.skip(p9::kHeaderSize);
    Writer w(reply, limit);
    w.u32(0);
    w.u8(static_cast<uint8_t>(type + 1));
    w.u16(tag);
    err = dispatch(static_cast<Type>(type), body, w);
    // A reply that does not fit the guest's buffers (or msize) is an error
    // the guest can see, not a truncated message.
    if (err == 0 && !w.ok()) err = ERANGE;
    if (err == 0) {
      w.patch_u32(0, static_cast<uint32_t>(w.position()));
      written = static_cast<uint32_t>(w.position());
    }
  }
  if (err != 0) {
    Writer e(reply, limit);
    e.u32(p9::kHeaderSize + 4);
    e.u8(static_cast<uint8_t>(Type::kRlerror));
    e.u16(tag);
    e.u32(static_cast<uint32_t>(err));
    written = e.ok() ? static_cast<uint32_t>(e.position()) : 0;
  }
  return written;
}

int P9Server::Session::dispatch(Type type, Reader& r, Writer& w) {
  // Before any decoding: a read-only share never lets a modifying request
  // near the host, whatever its fields say.
  if (modifies(type)) {
    if (int e = share_->check_writable()) return -e;
  }
  switch (type) {
    case Type::kTversion: return op_version(r, w);
    case Type::kTauth: return EOPNOTSUPP;
    case Type::kTattach: return op_attach(r, w);
    case Type::kTflush: r.u16(); return r.ok() ? 0 : EPROTO;  // requests finish before the next is read
    case Type::kTwalk: return op_walk(r, w);
    case Type::kTlopen: return op_lopen(r, w);
    case Type::kTlcreate: return op_lcreate(r, w);
    case Type::kTread: return op_read(r, w);
    case Type::kTwrite: return op_write(r, w);
    case Type::kTclunk: return op_clunk(r, w);
    case Type::kTremove: return op_remove(r, w);
    case Type::kTgetattr: return op_getattr(r, w);
    case Type::kTsetattr: return op_setattr(r, w);
    case Type::kTreaddir: return op_readdir(r, w);
    case Type::kTstatfs: return op_statfs(r, w);
    case Type::kTmkdir: return op_mkdir(r, w);
    case Type::kTsymlink: return op_symlink(r, w);
    case Type::kTmknod: return op_mknod(r, w);
    case Type::kTlink: return op_link(r, w);
    case Type::kTreadlink: return op_readlink(r, w);
    case Type::kTrename: return op_rename(r, w);
    case Type::kTrenameat: return op_renameat(r, w);
    case Type::kTunlinkat: return op_unlinkat(r, w);
    case Type::kTfsync: return op_fsync(r, w);
    case Type::kTxattrwalk: return op_xattrwalk(r, w);
    case Type::kTxattrcreate: return op_xattrcreate(r, w);
    case Type::kTlock: return op_lock(r, w);
    case Type::kTgetlock: return op_getlock(r, w);
    default: return EOPNOTSUPP;
  }
}

int P9Server::Session::op_version(Reader& r, Writer& w) {
  const uint32_t msize = r.u32();
  const std::string version = r.str();
  if (!r.ok()) return EPROTO;
  if (msize < kMinMsize) return EINVAL;
  // Tversion starts a new session: every fid of the old one is gone.
  fids_.clear();
  const bool known = version == "9P2000.L";
  versioned_ = known;
  msize_ = std::min(msize, options_.max_msize);
  w.u32(msize_);
  w.str(known ? "9P2000.L" : "unknown");
  return 0;
}

int P9Server::Session::op_attach(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint32_t afid = r.u32();
  r.str();  // uname: files belong to whoever runs minivmm
  r.str();  // aname: there is one attach root
  r.u32();  // n_uname
  if (!r.ok()) return EPROTO;
  if (afid != p9::kNoFid) return EINVAL;  // no Tauth, so no afid
  if (int e = can_add(fid, false)) return e;
  struct stat st;
  if (int e = stat_fd(root_->fd, st)) return e;
  fids_[fid] = std::make_unique<Fid>(root_);
  w.qid(qid_of(st));
  return 0;
}

int P9Server::Session::op_walk(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint32_t newfid = r.u32();
  const uint16_t count = r.u16();
  if (!r.ok()) return EPROTO;
  if (count > kMaxWalkNames) return EINVAL;
  std::vector<std::string> names(count);
  for (auto& n : names) n = r.str();
  if (!r.ok()) return EPROTO;
  for (const auto& n : names) {
    if (n != ".." && check_name(n) != 0) return EINVAL;
  }
  Fid* from = node_fid(fid);
  if (!from) return EBADF;
  if (int e = can_add(newfid, newfid == fid)) return e;
  std::shared_ptr<Node> node = from->node;
  std::vector<Qid> qids;
  int err = 0;
  for (const auto& n : names) {
    std::shared_ptr<Node> next;
    if (n == "..") {
      next = node->parent ? node->parent : node;  // the root is its own parent
    } else {
      const int fd = open_beneath(node->fd, n, O_PATH);
      if (fd < 0) {
        err = -fd;
        break;
      }
      next = std::make_shared<Node>(fd, node, n);
    }
    struct stat st;
    if (int e = stat_fd(next->fd, st)) {
      err = e;
      break;
    }
    qids.push_back(qid_of(st));
    node = std::move(next);
  }
  // The first name failing is an error; a later one a partial walk that
  // leaves newfid unused.
  if (!names.empty() && qids.empty()) return err;
  w.u16(static_cast<uint16_t>(qids.size()));
  for (const auto& q : qids) w.qid(q);
  if (qids.size() == names.size()) fids_[newfid] = std::make_unique<Fid>(std::move(node));
  return 0;
}

int P9Server::Session::op_lopen(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint32_t lflags = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  if (f->open_fd >= 0) return EINVAL;
  int flags = 0;
  if (int e = host_flags(lflags, flags)) return e;
  if (open_flags_write(flags)) {
    if (int e = share_->check_writable()) return -e;
  }
  const int fd = reopen(f->node->fd, flags);
  if (fd < 0) return -fd;
  struct stat st;
  if (int e = stat_fd(fd, st)) {
    ::close(fd);
    return e;
  }
  f->open_fd = fd;
  f->open_dir = S_ISDIR(st.st_mode);
  w.qid(qid_of(st));
  w.u32(0);  // iounit: the client derives it from msize
  return 0;
}

int P9Server::Session::op_lcreate(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const std::string name = r.str();
  const uint32_t lflags = r.u32();
  const uint32_t mode = r.u32();
  r.u32();  // gid: ignored
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  if (f->open_fd >= 0) return EINVAL;
  int flags = 0;
  if (int e = host_flags(lflags, flags)) return e;
  flags &= ~O_DIRECTORY;
  // O_EXCL (open_beneath adds O_NOFOLLOW): a name that exists, a symlink
  // included, is never opened through; Linux only sends Tlcreate for a new name.
  const int fd = open_beneath(f->node->fd, name, flags | O_CREAT | O_EXCL, sanitize_mode(mode));
  if (fd < 0) return -fd;
  // The node is the inode just created, whatever happens to the name.
  const int path_fd = ::open(proc_fd_path(fd).c_str(), O_PATH | O_CLOEXEC);
  struct stat st;
  if (path_fd < 0 || ::fstat(fd, &st) != 0) {
    const int e = errno;
    if (path_fd >= 0) ::close(path_fd);
    ::close(fd);
    return e;
  }
  f->node = std::make_shared<Node>(path_fd, f->node, name);
  f->open_fd = fd;
  f->open_dir = false;
  w.qid(qid_of(st));
  w.u32(0);
  return 0;
}

int P9Server::Session::op_read(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint64_t offset = r.u64();
  const uint32_t count = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = find(fid);
  if (!f) return EBADF;
  const uint64_t room = w.room() >= 4 ? w.room() - 4 : 0;
  const uint64_t want = std::min<uint64_t>(count, room);
  const uint64_t count_at = w.position();
  w.u32(0);
  if (f->kind == Fid::Kind::kXattrRead) {
    const uint64_t n = offset >= f->xattr.size() ? 0 : std::min<uint64_t>(want, f->xattr.size() - offset);
    w.bytes(std::span(f->xattr).subspan(offset >= f->xattr.size() ? 0 : offset, n));
    w.patch_u32(count_at, static_cast<uint32_t>(n));
    return 0;
  }
  if (f->kind != Fid::Kind::kNode || f->open_fd < 0) return EBADF;
  if (f->open_dir) return EISDIR;
  if (offset > static_cast<uint64_t>(INT64_MAX) - want) return EINVAL;
  auto spans = w.reserve(want);
  const int64_t n = transfer(false, f->open_fd, to_iovecs(spans), offset);
  if (n < 0) return static_cast<int>(-n);
  w.unwind(want - static_cast<uint64_t>(n));
  w.patch_u32(count_at, static_cast<uint32_t>(n));
  return 0;
}

int P9Server::Session::op_write(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint64_t offset = r.u64();
  const uint32_t count = r.u32();
  if (!r.ok()) return EPROTO;
  auto data = r.take(count);
  if (!r.ok()) return EPROTO;  // count past the end of the message
  Fid* f = find(fid);
  if (!f) return EBADF;
  if (f->kind == Fid::Kind::kXattrWrite) {
    if (offset != f->xattr.size() || count > f->xattr_size - f->xattr.size()) return EINVAL;
    for (auto s : data) f->xattr.insert(f->xattr.end(), s.begin(), s.end());
    w.u32(count);
    return 0;
  }
  if (f->kind != Fid::Kind::kNode || f->open_fd < 0) return EBADF;
  if (offset > static_cast<uint64_t>(INT64_MAX) - count) return EINVAL;
  const int64_t n = transfer(true, f->open_fd, to_iovecs(data), offset);
  if (n < 0) return static_cast<int>(-n);
  w.u32(static_cast<uint32_t>(n));
  return 0;
}

int P9Server::Session::op_clunk(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  if (!r.ok()) return EPROTO;
  auto it = fids_.find(fid);
  if (it == fids_.end()) return EBADF;
  std::unique_ptr<Fid> f = std::move(it->second);
  fids_.erase(it);
  if (f->kind != Fid::Kind::kXattrWrite) return 0;
  // Clunk commits an xattr that Txattrcreate announced and Twrite filled.
  if (f->xattr.size() != f->xattr_size) return EINVAL;
  const std::string path = proc_fd_path(f->node->fd);
  const int rc = f->xattr_size == 0 && (f->xattr_flags & XATTR_REPLACE)
                     ? ::removexattr(path.c_str(), f->xattr_name.c_str())
                     : ::setxattr(path.c_str(), f->xattr_name.c_str(), f->xattr.data(), f->xattr.size(),
                                  f->xattr_flags);
  return rc == 0 ? 0 : errno;
}

int P9Server::Session::op_remove(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  if (!r.ok()) return EPROTO;
  auto it = fids_.find(fid);
  if (it == fids_.end()) return EBADF;
  // Tremove clunks the fid whether or not the remove works.
  std::unique_ptr<Fid> f = std::move(it->second);
  fids_.erase(it);
  if (int e = share_->check_writable()) return -e;
  const auto& node = f->node;
  if (!node->parent) return EBUSY;  // the root
  struct stat st;
  if (int e = stat_fd(node->fd, st)) return e;
  const int rc = ::unlinkat(node->parent->fd, node->name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
  return rc == 0 ? 0 : errno;
}

int P9Server::Session::op_getattr(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  r.u64();  // request_mask: everything basic is always returned
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  struct stat st;
  // The O_PATH fd answers even after the file's last name is gone.
  if (int e = stat_fd(f->node->fd, st)) return e;
  w.u64(kGetattrBasic);
  w.qid(qid_of(st));
  w.u32(st.st_mode);
  w.u32(st.st_uid);
  w.u32(st.st_gid);
  w.u64(st.st_nlink);
  w.u64(st.st_rdev);
  w.u64(static_cast<uint64_t>(st.st_size));
  w.u64(static_cast<uint64_t>(st.st_blksize));
  w.u64(static_cast<uint64_t>(st.st_blocks));
  w.u64(static_cast<uint64_t>(st.st_atim.tv_sec));
  w.u64(static_cast<uint64_t>(st.st_atim.tv_nsec));
  w.u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
  w.u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  w.u64(static_cast<uint64_t>(st.st_ctim.tv_sec));
  w.u64(static_cast<uint64_t>(st.st_ctim.tv_nsec));
  w.u64(0);  // btime, gen, data_version: not asked for by basic
  w.u64(0);
  w.u64(0);
  w.u64(0);
  return 0;
}

int P9Server::Session::op_setattr(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  const uint32_t valid = r.u32();
  const uint32_t mode = r.u32();
  r.u32();  // uid and gid: the host owner stays whoever runs minivmm
  r.u32();
  const uint64_t size = r.u64();
  const uint64_t atime_sec = r.u64();
  const uint64_t atime_nsec = r.u64();
  const uint64_t mtime_sec = r.u64();
  const uint64_t mtime_nsec = r.u64();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  struct stat st;
  if (int e = stat_fd(f->node->fd, st)) return e;
  // A symlink's mode and times are not the guest's to change through its
  // O_PATH fd (chmod would follow it); Linux ignores a symlink's mode anyway.
  if (S_ISLNK(st.st_mode)) return 0;
  const std::string path = proc_fd_path(f->node->fd);
  if (valid & kSetMode) {
    const mode_t m = sanitize_mode(mode);
    if (::chmod(path.c_str(), m) != 0) return errno;
  }
  if (valid & kSetSize) {
    if (!S_ISREG(st.st_mode)) return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    if (size > static_cast<uint64_t>(INT64_MAX)) return EFBIG;
    const int rc = f->open_fd >= 0 && !f->open_dir ? ::ftruncate(f->open_fd, static_cast<off_t>(size)) : -1;
    if (rc != 0 && ::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return errno;
  }
  if (valid & (kSetAtime | kSetMtime)) {
    timespec ts[2];
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = ts[0];
    if (valid & kSetAtime) {
      if (valid & kSetAtimeSet) {
        ts[0].tv_sec = static_cast<time_t>(atime_sec);
        ts[0].tv_nsec = static_cast<long>(atime_nsec);
      } else {
        ts[0].tv_nsec = UTIME_NOW;
      }
    }
    if (valid & kSetMtime) {
      if (valid & kSetMtimeSet) {
        ts[1].tv_sec = static_cast<time_t>(mtime_sec);
        ts[1].tv_nsec = static_cast<long>(mtime_nsec);
      } else {
        ts[1].tv_nsec = UTIME_NOW;
      }
    }
    if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0) return errno;
  }
  return 0;
}

int P9Server::Session::op_readdir(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint64_t offset = r.u64();
  const uint32_t count = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f || f->open_fd < 0) return EBADF;
  if (!f->open_dir) return ENOTDIR;
  if (offset > static_cast<uint64_t>(INT64_MAX)) return EINVAL;
  // The offsets handed out are the file system's own d_off cookies, so a
  // listing resumes where it stopped however large the directory is.
  if (::lseek(f->open_fd, static_cast<off_t>(offset), SEEK_SET) < 0) return errno;
  struct stat dir_st {};
  if (::fstat(f->open_fd, &dir_st) != 0) return errno;
  const uint64_t budget = std::min<uint64_t>(count, w.room() >= 4 ? w.room() - 4 : 0);
  const uint64_t count_at = w.position();
  w.u32(0);
  uint64_t used = 0;
  std::vector<char> buf(std::clamp<uint64_t>(budget + 512, 1024, 64 * 1024));
  bool full = false;
  while (!full) {
    const long n = ::syscall(SYS_getdents64, f->open_fd, buf.data(), buf.size());
    if (n < 0) {
      if (used > 0) break;
      return errno;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      auto* d = reinterpret_cast<const dirent64*>(buf.data() + at);
      const std::string_view name(d->d_name);
      const uint64_t entry = p9::kQidSize + 8 + 1 + 2 + name.size();
      if (entry > budget - used) {
        full = true;
        break;
      }
      Qid q;
      q.type = d->d_type == DT_DIR ? p9::kQidDir : d->d_type == DT_LNK ? p9::kQidSymlink : p9::kQidFile;
      q.path = p9::qid_path(dir_st.st_dev, d->d_ino);  // a mount point's entry carries its own device's in walk
      w.qid(q);
      w.u64(static_cast<uint64_t>(d->d_off));
      w.u8(d->d_type);
      w.str(name);
      used += entry;
      at += d->d_reclen;
    }
  }
  w.patch_u32(count_at, static_cast<uint32_t>(used));
  return 0;
}

int P9Server::Session::op_statfs(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  struct statfs s;
  if (::fstatfs(f->node->fd, &s) != 0) return errno;
  w.u32(static_cast<uint32_t>(s.f_type));
  w.u32(static_cast<uint32_t>(s.f_bsize));
  w.u64(s.f_blocks);
  w.u64(s.f_bfree);
  w.u64(s.f_bavail);
  w.u64(s.f_files);
  w.u64(s.f_ffree);
  uint64_t fsid = 0;
  std::memcpy(&fsid, &s.f_fsid, std::min(sizeof fsid, sizeof s.f_fsid));
  w.u64(fsid);
  w.u32(static_cast<uint32_t>(s.f_namelen));
  return 0;
}

int P9Server::Session::op_mkdir(Reader& r, Writer& w) {
  const uint32_t dfid = r.u32();
  const std::string name = r.str();
  const uint32_t mode = r.u32();
  r.u32();  // gid
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  Fid* d = node_fid(dfid);
  if (!d) return EBADF;
  if (::mkdirat(d->node->fd, name.c_str(), sanitize_mode(mode)) != 0) return errno;
  Qid q;
  if (int e = qid_at(d->node->fd, name, q)) return e;
  w.qid(q);
  return 0;
}

int P9Server::Session::op_symlink(Reader& r, Writer& w) {
  const uint32_t dfid = r.u32();
  const std::string name = r.str();
  const std::string target = r.str();
  r.u32();  // gid
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  // The target is only text to the host: it is never followed here.
  if (target.empty() || target.size() >= PATH_MAX || target.find('\0') != std::string::npos) return EINVAL;
  Fid* d = node_fid(dfid);
  if (!d) return EBADF;
  if (::symlinkat(target.c_str(), d->node->fd, name.c_str()) != 0) return errno;
  Qid q;
  if (int e = qid_at(d->node->fd, name, q)) return e;
  w.qid(q);
  return 0;
}

int P9Server::Session::op_mknod(Reader& r, Writer& w) {
  const uint32_t dfid = r.u32();
  const std::string name = r.str();
  const uint32_t mode = r.u32();
  r.u32();  // major, minor: no device nodes, so never used
  r.u32();
  r.u32();  // gid
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  Fid* d = node_fid(dfid);
  if (!d) return EBADF;
  if (int e = check_mknod_type(mode)) return -e;
  if (::mknodat(d->node->fd, name.c_str(), (mode & S_IFMT) | sanitize_mode(mode), 0) != 0) return errno;
  Qid q;
  if (int e = qid_at(d->node->fd, name, q)) return e;
  w.qid(q);
  return 0;
}

int P9Server::Session::op_link(Reader& r, Writer&) {
  const uint32_t dfid = r.u32();
  const uint32_t fid = r.u32();
  const std::string name = r.str();
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  Fid* d = node_fid(dfid);
  Fid* f = node_fid(fid);
  if (!d || !f) return EBADF;
  struct stat st;
  if (int e = stat_fd(f->node->fd, st)) return e;
  int rc;
  if (S_ISLNK(st.st_mode)) {
    // Through /proc the link could be followed; by parent and name (flags
    // 0: never following) it cannot, and the parent is inside the share.
    if (!f->node->parent) return EPERM;
    rc = ::linkat(f->node->parent->fd, f->node->name.c_str(), d->node->fd, name.c_str(), 0);
  } else {
    rc = ::linkat(AT_FDCWD, proc_fd_path(f->node->fd).c_str(), d->node->fd, name.c_str(), AT_SYMLINK_FOLLOW);
  }
  return rc == 0 ? 0 : errno;
}

int P9Server::Session::op_readlink(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  std::vector<char> buf(PATH_MAX);
  const ssize_t n = ::readlinkat(f->node->fd, "", buf.data(), buf.size());
  if (n < 0) return errno;
  w.str(std::string_view(buf.data(), static_cast<size_t>(n)));
  return 0;
}

int P9Server::Session::op_rename(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  const uint32_t dfid = r.u32();
  const std::string name = r.str();
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  Fid* f = node_fid(fid);
  Fid* d = node_fid(dfid);
  if (!f || !d) return EBADF;
  if (!f->node->parent) return EBUSY;
  if (::renameat(f->node->parent->fd, f->node->name.c_str(), d->node->fd, name.c_str()) != 0) return errno;
  f->node->parent = d->node;
  f->node->name = name;
  return 0;
}

int P9Server::Session::op_renameat(Reader& r, Writer&) {
  const uint32_t olddir = r.u32();
  const std::string oldname = r.str();
  const uint32_t newdir = r.u32();
  const std::string newname = r.str();
  if (!r.ok()) return EPROTO;
  if (check_name(oldname) != 0 || check_name(newname) != 0) return EINVAL;
  Fid* o = node_fid(olddir);
  Fid* n = node_fid(newdir);
  if (!o || !n) return EBADF;
  return ::renameat(o->node->fd, oldname.c_str(), n->node->fd, newname.c_str()) == 0 ? 0 : errno;
}

int P9Server::Session::op_unlinkat(Reader& r, Writer&) {
  const uint32_t dfid = r.u32();
  const std::string name = r.str();
  const uint32_t flags = r.u32();
  if (!r.ok()) return EPROTO;
  if (int e = check_name(name)) return -e;
  if (flags & ~kAtRemoveDir) return EINVAL;
  Fid* d = node_fid(dfid);
  if (!d) return EBADF;
  const int rc = ::unlinkat(d->node->fd, name.c_str(), (flags & kAtRemoveDir) ? AT_REMOVEDIR : 0);
  return rc == 0 ? 0 : errno;
}

int P9Server::Session::op_fsync(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  const uint32_t datasync = r.u32();
  if (!r.ok()) return EPROTO;
  Fid* f = node_fid(fid);
  if (!f || f->open_fd < 0) return EBADF;
  const int rc = datasync ? ::fdatasync(f->open_fd) : ::fsync(f->open_fd);
  return rc == 0 ? 0 : errno;
}

int P9Server::Session::op_xattrwalk(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  const uint32_t newfid = r.u32();
  const std::string name = r.str();
  if (!r.ok()) return EPROTO;
  if (!name.empty() && !valid_xattr_name(name)) return EINVAL;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  if (int e = can_add(newfid, false)) return e;
  if (xattr_fids() >= kMaxXattrFids) return ENFILE;
  struct stat st;
  if (int e = stat_fd(f->node->fd, st)) return e;
  // Through /proc a symlink would be followed: its xattrs are not served.
  if (S_ISLNK(st.st_mode)) return name.empty() ? 0 : ENODATA;
  const std::string path = proc_fd_path(f->node->fd);
  std::vector<std::byte> value(kMaxXattrSize);
  const ssize_t n = name.empty() ? ::listxattr(path.c_str(), reinterpret_cast<char*>(value.data()), value.size())
                                 : ::getxattr(path.c_str(), name.c_str(), value.data(), value.size());
  if (n < 0) return errno;
  value.resize(static_cast<size_t>(n));
  auto x = std::make_unique<Fid>(f->node);
  x->kind = Fid::Kind::kXattrRead;
  x->xattr = std::move(value);
  w.u64(x->xattr.size());
  fids_[newfid] = std::move(x);
  return 0;
}

int P9Server::Session::op_xattrcreate(Reader& r, Writer&) {
  const uint32_t fid = r.u32();
  const std::string name = r.str();
  const uint64_t size = r.u64();
  const uint32_t flags = r.u32();
  if (!r.ok()) return EPROTO;
  if (!valid_xattr_name(name)) return EINVAL;
  if (flags & ~static_cast<uint32_t>(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  if (size > kMaxXattrSize) return E2BIG;
  if (!settable_xattr(name)) return EOPNOTSUPP;
  Fid* f = node_fid(fid);
  if (!f) return EBADF;
  if (f->open_fd >= 0) return EINVAL;
  if (xattr_fids() >= kMaxXattrFids) return ENFILE;
  struct stat st;
  if (int e = stat_fd(f->node->fd, st)) return e;
  if (S_ISLNK(st.st_mode)) return EPERM;
  f->kind = Fid::Kind::kXattrWrite;
  f->xattr_name = name;
  f->xattr_size = size;
  f->xattr_flags = static_cast<int>(flags);
  f->xattr.reserve(size);
  return 0;
}

int P9Server::Session::op_lock(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  r.u8();   // type
  r.u32();  // flags
  r.u64();  // start
  r.u64();  // length
  r.u32();  // proc_id
  r.str();  // client_id
  if (!r.ok()) return EPROTO;
  if (!find(fid)) return EBADF;
  w.u8(0);  // P9_LOCK_SUCCESS: see p9_server.h
  return 0;
}

int P9Server::Session::op_getlock(Reader& r, Writer& w) {
  const uint32_t fid = r.u32();
  r.u8();
  const uint64_t start = r.u64();
  const uint64_t length = r.u64();
  const uint32_t proc_id = r.u32();
  const std::string client = r.str();
  if (!r.ok()) return EPROTO;
  if (!find(fid)) return EBADF;
  w.u8(2);  // P9_LOCK_TYPE_UNLCK
  w.u64(start);
  w.u64(length);
  w.u32(proc_id);
  w.str(client);
  return 0;
}

P9Server::P9Server(const P9ServerOptions& options, std::unique_ptr<ShareDir> share, int root_fd)
    : session_(std::make_unique<Session>(options, std::move(share), root_fd)) {
  session_->reset();
}

P9Server::~P9Server() = default;

Result<std::unique_ptr<P9Server>> P9Server::open(const P9ServerOptions& options) {
  auto share = ShareDir::open(options.root, options.read_only);
  if (!share) return std::unexpected(share.error());
  const int fd = (*share)->dup_root();
  if (fd < 0) return fail(ErrorCode::kIo, "--share {}: {}", options.root, std::strerror(errno));
  return std::unique_ptr<P9Server>(new P9Server(options, std::move(*share), fd));
}

std::optional<uint32_t> P9Server::handle(std::span<const devices::virtio::Buffer> in,
                                         std::span<const devices::virtio::Buffer> out) {
  std::vector<std::span<const std::byte>> request;
  std::vector<std::span<std::byte>> reply;
  uint64_t room = 0;
  for (const auto& b : in) request.emplace_back(b.host);
  for (const auto& b : out) {
    reply.emplace_back(b.host);
    room += b.host.size();
  }
  // Not even an Rlerror fits: a broken chain, not a bad message.
  if (room < kMinReply) return std::nullopt;
  return handle(request, reply);
}

uint32_t P9Server::handle(std::span<const std::span<const std::byte>> request,
                          std::span<const std::span<std::byte>> reply) {
  std::lock_guard lock(mutex_);
  return session_->handle(request, reply);
}

void P9Server::reset() {
  std::lock_guard lock(mutex_);
  session_->reset();
}

size_t P9Server::fid_count() const {
  std::lock_guard lock(mutex_);
  return session_->fid_count();
}

}  // namespace backends
