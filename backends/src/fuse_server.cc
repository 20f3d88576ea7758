#include "backends/fuse_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
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

namespace backends {

using devices::virtio::Buffer;

namespace {

// Our protocol level: 7.31 has everything served here; the kernel picks
// min(its minor, ours).
constexpr uint32_t kMinor = 31;
// What INIT may offer (ANDed with what the kernel asks for).
constexpr uint32_t kOfferedFlags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                                   FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS;
// Arguments of any request but WRITE: the longest is SETXATTR (a name of up
// to 255 bytes and a value of up to XATTR_SIZE_MAX).
constexpr size_t kMaxXattrValue = 65536;
constexpr size_t kMaxArgBytes = kMaxXattrValue + 512;
// Replies the server composes (directory listings, xattr values, link targets).
constexpr size_t kMaxReplyBytes = 128 * 1024;
// Attribute/entry cache lifetime the guest may assume: short, since the host
// may change the directory underneath.
constexpr uint64_t kValidSeconds = 1;

uint64_t total_len(std::span<const Buffer> bufs) {
  uint64_t t = 0;
  for (const Buffer& b : bufs) t += b.len;
  return t;
}

// Copies out of the buffers starting `offset` bytes in; returns how many.
size_t gather(std::span<const Buffer> bufs, uint64_t offset, std::span<std::byte> dst) {
  size_t done = 0;
  for (const Buffer& b : bufs) {
    if (done == dst.size()) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const size_t n = std::min<uint64_t>(b.len - offset, dst.size() - done);
    std::memcpy(dst.data() + done, b.host.data() + offset, n);
    done += n;
    offset = 0;
  }
  return done;
}

size_t scatter(std::span<const Buffer> bufs, uint64_t offset, std::span<const std::byte> src) {
  size_t done = 0;
  for (const Buffer& b : bufs) {
    if (done == src.size()) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const size_t n = std::min<uint64_t>(b.len - offset, src.size() - done);
    std::memcpy(b.host.data() + offset, src.data() + done, n);
    done += n;
    offset = 0;
  }
  return done;
}

// iovecs over [offset, offset+len) of the buffers.
std::vector<iovec> slice(std::span<const Buffer> bufs, uint64_t offset, uint64_t len) {
  std::vector<iovec> v;
  for (const Buffer& b : bufs) {
    if (len == 0) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(b.len - offset, len);
    v.push_back(iovec{b.host.data() + offset, static_cast<size_t>(n)});
    len -= n;
    offset = 0;
  }
  return v;
}

// preadv/pwritev over any number of iovecs (IOV_MAX per call) until done, EOF
// or an error; returns bytes moved or -errno when nothing moved.
template <bool kWrite>
int64_t transfer(int fd, std::vector<iovec>& iov, uint64_t offset) {
  int64_t done = 0;
  size_t i = 0;
  while (i < iov.size()) {
    const int cnt = static_cast<int>(std::min<size_t>(iov.size() - i, IOV_MAX));
    ssize_t n = kWrite ? ::pwritev(fd, &iov[i], cnt, static_cast<off_t>(offset + done))
                       : ::preadv(fd, &iov[i], cnt, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? done : -errno;
    }
    if (n == 0) break;
    done += n;
    size_t left = static_cast<size_t>(n);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (left > 0) {
      iov[i].iov_base = static_cast<std::byte*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return done;
}

void fill_attr(const struct stat& st, fuse_attr& a) {
  a = {};
  a.ino = st.st_ino;
  a.size = static_cast<uint64_t>(st.st_size);
  a.blocks = static_cast<uint64_t>(st.st_blocks);
  a.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
  a.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
  a.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
  a.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  a.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  a.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  a.mode = st.st_mode;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.rdev = static_cast<uint32_t>(st.st_rdev);
  a.blksize = static_cast<uint32_t>(st.st_blksize);
}

int host(int rc) { return rc < 0 ? -errno : 0; }

bool reg_or_dir(const ShareNode& n) { return n.type == S_IFREG || n.type == S_IFDIR; }

}  // namespace

struct FuseServer::Request {
  std::span<const Buffer> in;
  std::span<const Buffer> out;
  fuse_in_header h{};
  std::span<const std::byte> args;  // the copied arguments after the header
  uint64_t out_room = 0;
  std::byte* reply = nullptr;  // composed payload (reply_ storage)
  size_t reply_cap = 0;
  size_t reply_len = 0;
  uint64_t direct_len = 0;  // READ: payload written straight into `out`
  bool no_reply = false;

  template <class T>
  int arg(T& v, size_t at = 0) const {
    if (args.size() < at || args.size() - at < sizeof(T)) return -EINVAL;
    std::memcpy(&v, args.data() + at, sizeof(T));
    return 0;
  }
  // A NUL-terminated string starting at `at`; `last` demands that its NUL
  // ends the arguments (nothing may follow a request's final name).
  int string_at(size_t at, std::string_view& s, size_t& next, bool last) const {
    if (at >= args.size()) return -EINVAL;
    const auto* p = reinterpret_cast<const char*>(args.data()) + at;
    const auto* nul = static_cast<const char*>(std::memchr(p, 0, args.size() - at));
    if (!nul) return -EINVAL;
    s = std::string_view(p, static_cast<size_t>(nul - p));
    next = at + s.size() + 1;
    if (last && next != args.size()) return -EINVAL;
    return 0;
  }
  int name_at(size_t at, std::string_view& s, size_t& next, bool last) const {
    if (int err = string_at(at, s, next, last)) return err;
    return check_name(s);
  }
  // Room left for a composed reply (bounded by the guest's buffers).
  size_t room() const {
    const uint64_t r = out_room > sizeof(fuse_out_header) ? out_room - sizeof(fuse_out_header) : 0;
    return static_cast<size_t>(std::min<uint64_t>(r, reply_cap));
  }
  template <class T>
  int put(const T& v) {
    if (reply_len + sizeof(T) > reply_cap) return -EIO;
    std::memcpy(reply + reply_len, &v, sizeof(T));
    reply_len += sizeof(T);
    return 0;
  }
};

devices::Result<std::unique_ptr<FuseServer>> FuseServer::open(const std::string& path, bool read_only,
                                                              FuseLimits limits) {
  auto share = ShareDir::open(path, read_only);
  if (!share) return std::unexpected(share.error());
  return std::unique_ptr<FuseServer>(new FuseServer(std::move(*share), limits));
}

FuseServer::FuseServer(std::unique_ptr<ShareDir> share, FuseLimits limits)
    : share_(std::move(share)),
      limits_(limits),
      nodes_(share_->dup_root(), limits.max_nodes),
      args_(kMaxArgBytes),
      reply_(kMaxReplyBytes) {}

FuseServer::~FuseServer() { drop_all(); }

void FuseServer::drop_all() {
  for (auto& [fh, h] : handles_) ::close(h.fd);
  handles_.clear();
}

size_t FuseServer::node_count() {
  std::lock_guard lock(mutex_);
  return nodes_.size();
}

size_t FuseServer::handle_count() {
  std::lock_guard lock(mutex_);
  return handles_.size();
}

std::optional<uint32_t> FuseServer::handle(std::span<const Buffer> in, std::span<const Buffer> out) {
  std::lock_guard lock(mutex_);
  Request r;
  r.in = in;
  r.out = out;
  r.out_room = total_len(out);
  r.reply = reply_.data();
  r.reply_cap = reply_.size();
  const uint64_t in_total = total_len(in);

  int err = 0;
  if (in_total < sizeof(fuse_in_header)) {
    // Not even a header: no unique to answer with, but the guest still gets
    // an error reply rather than silence (unique 0).
    err = -EINVAL;
  } else {
    gather(in, 0, std::as_writable_bytes(std::span(&r.h, 1)));
    if (r.h.len < sizeof(fuse_in_header) || r.h.len > in_total) {
      err = -EINVAL;
    } else {
      uint64_t arg_len = r.h.len - sizeof(fuse_in_header);
      // WRITE's data stays in the guest's buffers; only its fixed part is copied.
      if (r.h.opcode == FUSE_WRITE) arg_len = std::min<uint64_t>(arg_len, sizeof(fuse_write_in));
      if (arg_len > args_.size()) {
        err = -EINVAL;
      } else {
        gather(in, sizeof(fuse_in_header), std::span(args_).first(arg_len));
        r.args = std::span<const std::byte>(args_).first(arg_len);
        err = dispatch(r);
      }
    }
  }
  if (r.no_reply) return 0;
  if (r.out_room < sizeof(fuse_out_header)) return std::nullopt;
  fuse_out_header oh{};
  oh.unique = r.h.unique;
  if (err < 0) {
    oh.error = err;
    oh.len = sizeof(oh);
  } else {
    const uint64_t payload = r.direct_len ? r.direct_len : r.reply_len;
    // Composed replies were bounded by room(); this only guards that invariant.
    if (!r.direct_len && payload > r.out_room - sizeof(oh)) {
      oh.error = -EIO;
      oh.len = sizeof(oh);
    } else {
      oh.len = static_cast<uint32_t>(sizeof(oh) + payload);
      if (!r.direct_len) scatter(out, sizeof(oh), std::span<const std::byte>(r.reply, r.reply_len));
    }
  }
  scatter(out, 0, std::as_bytes(std::span(&oh, 1)));
  return oh.len;
}

int FuseServer::dispatch(Request& r) {
  switch (r.h.opcode) {
    case FUSE_INIT: return do_init(r);
    case FUSE_DESTROY:
      drop_all();
      return 0;
    case FUSE_LOOKUP: return do_lookup(r);
    case FUSE_FORGET: return do_forget(r);
    case FUSE_BATCH_FORGET: return do_batch_forget(r);
    case FUSE_INTERRUPT:
      // Requests are answered synchronously, so there is never one to interrupt.
      r.no_reply = true;
      return 0;
    case FUSE_GETATTR: return do_getattr(r);
    case FUSE_SETATTR: return do_setattr(r);
    case FUSE_READLINK: return do_readlink(r);
    case FUSE_SYMLINK: return do_symlink(r);
    case FUSE_MKNOD: return do_mknod(r);
    case FUSE_MKDIR: return do_mkdir(r);
    case FUSE_UNLINK: return do_remove(r, false);
    case FUSE_RMDIR: return do_remove(r, true);
    case FUSE_RENAME: return do_rename(r, false);
    case FUSE_RENAME2: return do_rename(r, true);
    case FUSE_LINK: return do_link(r);
    case FUSE_OPEN: return do_open(r, false);
    case FUSE_OPENDIR: return do_open(r, true);
    case FUSE_CREATE: return do_create(r);
    case FUSE_READ: return do_read(r);
    case FUSE_WRITE: return do_write(r);
    case FUSE_FLUSH: {
      fuse_flush_in in;
      if (int err = r.arg(in)) return err;
      return get_handle(in.fh, false) ? 0 : -EBADF;
    }
    case FUSE_RELEASE: return do_release(r, false);
    case FUSE_RELEASEDIR: return do_release(r, true);
    case FUSE_FSYNC: return do_fsync(r, false);
    case FUSE_FSYNCDIR: return do_fsync(r, true);
    case FUSE_READDIR: return do_readdir(r, false);
    case FUSE_READDIRPLUS: return do_readdir(r, true);
    case FUSE_STATFS: return do_statfs(r);
    case FUSE_ACCESS: return do_access(r);
    case FUSE_SETXATTR: return do_setxattr(r);
    case FUSE_GETXATTR: return do_getxattr(r, false);
    case FUSE_LISTXATTR: return do_getxattr(r, true);
    case FUSE_REMOVEXATTR: return do_removexattr(r);
    case FUSE_FALLOCATE: return do_fallocate(r);
    case FUSE_LSEEK: return do_lseek(r);
    default: return -ENOSYS;
  }
}

int FuseServer::do_init(Request& r) {
  // The first fields (major, minor, max_readahead, flags) are all older
  // kernels send; later ones read as zero.
  fuse_init_in in{};
  if (r.args.size() < 16) return -EINVAL;
  std::memcpy(&in, r.args.data(), std::min(r.args.size(), sizeof(in)));
  fuse_init_out o{};
  o.major = FUSE_KERNEL_VERSION;
  o.minor = kMinor;
  // A newer major: answer with ours only, the kernel then retries (or gives up).
  if (in.major > FUSE_KERNEL_VERSION) return r.put(o.major) ? -EIO : r.put(o.minor);
  if (in.major < FUSE_KERNEL_VERSION || in.minor < 27) return -EPROTO;
  o.max_readahead = in.max_readahead;
  o.flags = in.flags & kOfferedFlags;
  o.max_background = 64;
  o.congestion_threshold = 48;
  o.max_write = limits_.max_write;
  o.time_gran = 1;
  o.max_pages = static_cast<uint16_t>(std::min<uint32_t>(limits_.max_write / 4096, 256));
  return r.put(o);
}

int FuseServer::reply_entry(Request& r, uint64_t parent, std::string_view name) {
  ShareNode* node = nullptr;
  struct stat st;
  if (int err = nodes_.lookup(parent, name, node, st)) return err;
  fuse_entry_out e{};
  e.nodeid = node->id;
  e.entry_valid = e.attr_valid = kValidSeconds;
  fill_attr(st, e.attr);
  if (int err = r.put(e)) {
    nodes_.forget(node->id, 1);
    return err;
  }
  return 0;
}

int FuseServer::do_lookup(Request& r) {
  std::string_view name;
  size_t next;
  if (int err = r.name_at(0, name, next, true)) return err;
  if (!nodes_.get(r.h.nodeid)) return -ESTALE;
  return reply_entry(r, r.h.nodeid, name);
}

int FuseServer::do_forget(Request& r) {
  r.no_reply = true;
  fuse_forget_in in;
  if (r.arg(in) == 0) nodes_.forget(r.h.nodeid, in.nlookup);
  return 0;
}

int FuseServer::do_batch_forget(Request& r) {
  r.no_reply = true;
  fuse_batch_forget_in in;
  if (r.arg(in)) return 0;
  // Only the entries actually present are used, whatever count says.
  const size_t avail = (r.args.size() - sizeof(in)) / sizeof(fuse_forget_one);
  const size_t n = std::min<size_t>(in.count, avail);
  for (size_t i = 0; i < n; ++i) {
    fuse_forget_one one;
    std::memcpy(&one, r.args.data() + sizeof(in) + i * sizeof(one), sizeof(one));
    nodes_.forget(one.nodeid, one.nlookup);
  }
  return 0;
}

int FuseServer::do_getattr(Request& r) {
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  struct stat st;
  if (::fstat(n->fd, &st) != 0) return -errno;
  fuse_attr_out o{};
  o.attr_valid = kValidSeconds;
  fill_attr(st, o.attr);
  return r.put(o);
}

int FuseServer::do_setattr(Request& r) {
  fuse_setattr_in in;
  if (int err = r.arg(in)) return err;
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  Handle* h = nullptr;
  if (in.valid & FATTR_FH) {
    h = get_handle(in.fh, false);
    if (!h) return -EBADF;
  }
  const std::string path = proc_fd_path(n->fd);
  if (in.valid & FATTR_MODE) {
    if (!reg_or_dir(*n)) return -EOPNOTSUPP;
    if (::chmod(path.c_str(), sanitize_mode(in.mode)) != 0) return -errno;
  }
  // FATTR_UID/FATTR_GID: ignored on purpose (files belong to the VMM's user).
  if (in.valid & FATTR_SIZE) {
    if (in.size > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
    if (h) {
      if (::ftruncate(h->fd, static_cast<off_t>(in.size)) != 0) return -errno;
    } else {
      if (n->type == S_IFDIR) return -EISDIR;
      if (n->type != S_IFREG) return -EINVAL;
      if (::truncate(path.c_str(), static_cast<off_t>(in.size)) != 0) return -errno;
    }
  }
  if (in.valid & (FATTR_ATIME | FATTR_MTIME)) {
    timespec ts[2];
    ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
    ts[0].tv_sec = ts[1].tv_sec = 0;
    if (in.valid & FATTR_ATIME) {
      if (in.valid & FATTR_ATIME_NOW) {
        ts[0].tv_nsec = UTIME_NOW;
      } else {
        if (in.atimensec >= 1000000000u) return -EINVAL;
        ts[0].tv_sec = static_cast<time_t>(in.atime);
        ts[0].tv_nsec = in.atimensec;
      }
    }
    if (in.valid & FATTR_MTIME) {
      if (in.valid & FATTR_MTIME_NOW) {
        ts[1].tv_nsec = UTIME_NOW;
      } else {
        if (in.mtimensec >= 1000000000u) return -EINVAL;
        ts[1].tv_sec = static_cast<time_t>(in.mtime);
        ts[1].tv_nsec = in.mtimensec;
      }
    }
    int rc = reg_or_dir(*n) ? ::utimensat(AT_FDCWD, path.c_str(), ts, 0)
                            : ::utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return -errno;
  }
  struct stat st;
  if (::fstat(n->fd, &st) != 0) return -errno;
  fuse_attr_out o{};
  o.attr_valid = kValidSeconds;
  fill_attr(st, o.attr);
  return r.put(o);
}

int FuseServer::do_readlink(Request& r) {
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (n->type != S_IFLNK) return -EINVAL;
  const size_t cap = std::min<size_t>(r.room(), PATH_MAX);
  ssize_t len = ::readlinkat(n->fd, "", reinterpret_cast<char*>(r.reply), cap);
  if (len < 0) return -errno;
  r.reply_len = static_cast<size_t>(len);
  return 0;
}

int FuseServer::do_symlink(Request& r) {
  std::string_view name, target;
  size_t next;
  if (int err = r.name_at(0, name, next, false)) return err;
  if (int err = r.string_at(next, target, next, true)) return err;
  if (target.empty() || target.size() >= PATH_MAX) return -EINVAL;
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  // The target is stored, never followed on the host.
  if (::symlinkat(std::string(target).c_str(), p->fd, std::string(name).c_str()) != 0) return -errno;
  return reply_entry(r, p->id, name);
}

int FuseServer::do_mknod(Request& r) {
  fuse_mknod_in in;
  if (int err = r.arg(in)) return err;
  std::string_view name;
  size_t next;
  if (int err = r.name_at(sizeof(in), name, next, true)) return err;
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (int err = check_mknod_type(in.mode)) return err;
  const mode_t mode = sanitize_mode(in.mode);
  if ((in.mode & S_IFMT) == S_IFREG) {
    int fd = open_beneath(p->fd, name, O_CREAT | O_EXCL | O_WRONLY, mode);
    if (fd < 0) return fd;
    ::close(fd);
  } else if (::mknodat(p->fd, std::string(name).c_str(), (in.mode & S_IFMT) | mode, 0) != 0) {
    return -errno;
  }
  return reply_entry(r, p->id, name);
}

int FuseServer::do_mkdir(Request& r) {
  fuse_mkdir_in in;
  if (int err = r.arg(in)) return err;
  std::string_view name;
  size_t next;
  if (int err = r.name_at(sizeof(in), name, next, true)) return err;
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (::mkdirat(p->fd, std::string(name).c_str(), sanitize_mode(in.mode)) != 0) return -errno;
  return reply_entry(r, p->id, name);
}

int FuseServer::do_remove(Request& r, bool dir) {
  std::string_view name;
  size_t next;
  if (int err = r.name_at(0, name, next, true)) return err;
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  return host(::unlinkat(p->fd, std::string(name).c_str(), dir ? AT_REMOVEDIR : 0));
}

int FuseServer::do_rename(Request& r, bool two) {
  uint64_t newdir = 0;
  uint32_t flags = 0;
  size_t at = 0;
  if (two) {
    fuse_rename2_in in;
    if (int err = r.arg(in)) return err;
    newdir = in.newdir;
    flags = in.flags;
    at = sizeof(in);
  } else {
    fuse_rename_in in;
    if (int err = r.arg(in)) return err;
    newdir = in.newdir;
    at = sizeof(in);
  }
  std::string_view oldname, newname;
  size_t next;
  if (int err = r.name_at(at, oldname, next, false)) return err;
  if (int err = r.name_at(next, newname, next, true)) return err;
  // RENAME_WHITEOUT would leave a character device behind.
  if (flags & ~static_cast<uint32_t>(RENAME_NOREPLACE | RENAME_EXCHANGE)) return -EINVAL;
  ShareNode* from = nodes_.get(r.h.nodeid);
  ShareNode* to = nodes_.get(newdir);
  if (!from || !to) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  return host(::renameat2(from->fd, std::string(oldname).c_str(), to->fd, std::string(newname).c_str(), flags));
}

int FuseServer::do_link(Request& r) {
  fuse_link_in in;
  if (int err = r.arg(in)) return err;
  std::string_view name;
  size_t next;
  if (int err = r.name_at(sizeof(in), name, next, true)) return err;
  ShareNode* old = nodes_.get(in.oldnodeid);
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!old || !p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (old->type == S_IFDIR) return -EPERM;
  // Through the node's fd (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH):
  // the magic link names the inode itself, not a path that could have moved.
  const std::string path = proc_fd_path(old->fd);
  if (::linkat(AT_FDCWD, path.c_str(), p->fd, std::string(name).c_str(), AT_SYMLINK_FOLLOW) != 0) return -errno;
  return reply_entry(r, p->id, name);
}

int FuseServer::add_handle(int fd, bool dir, uint64_t& fh) {
  if (handles_.size() >= limits_.max_handles) {
    ::close(fd);
    return -ENFILE;
  }
  fh = next_fh_++;
  handles_[fh] = Handle{fd, dir};
  return 0;
}

FuseServer::Handle* FuseServer::get_handle(uint64_t fh, bool dir) {
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second.dir != dir) return nullptr;
  return &it->second;
}

int FuseServer::do_open(Request& r, bool dir) {
  fuse_open_in in;
  if (int err = r.arg(in)) return err;
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  int flags = static_cast<int>(in.flags);
  if (open_flags_write(flags)) {
    if (int err = share_->check_writable()) return err;
  }
  if (dir) {
    if (n->type != S_IFDIR) return -ENOTDIR;
    flags = O_RDONLY | O_DIRECTORY;
  } else if (n->type == S_IFDIR) {
    return -EISDIR;
  }
  // O_NOATIME is refused for files the VMM's user does not own; the guest
  // cannot expect it from a shared directory.
  flags &= ~O_NOATIME;
  int fd = reopen(n->fd, flags);
  if (fd < 0) return fd;
  fuse_open_out o{};
  if (int err = add_handle(fd, dir, o.fh)) return err;
  return r.put(o);
}

int FuseServer::do_create(Request& r) {
  fuse_create_in in;
  if (int err = r.arg(in)) return err;
  std::string_view name;
  size_t next;
  if (int err = r.name_at(sizeof(in), name, next, true)) return err;
  ShareNode* p = nodes_.get(r.h.nodeid);
  if (!p) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (handles_.size() >= limits_.max_handles) return -ENFILE;
  int flags = static_cast<int>(in.flags) & ~(O_NOATIME | O_DIRECTORY | O_PATH | O_TMPFILE);
  // O_NOFOLLOW (added by open_beneath) makes an existing symlink fail with
  // ELOOP instead of creating or opening its target.
  int fd = open_beneath(p->fd, name, flags | O_CREAT, sanitize_mode(in.mode));
  if (fd < 0) return fd;
  // The node comes from the opened file itself, not from a second lookup of
  // the name, which could meanwhile name something else.
  int path_fd = ::open(proc_fd_path(fd).c_str(), O_PATH | O_CLOEXEC);
  if (path_fd < 0) {
    int err = -errno;
    ::close(fd);
    return err;
  }
  ShareNode* node = nullptr;
  struct stat st;
  if (int err = nodes_.adopt(path_fd, node, st)) {
    ::close(fd);
    return err;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    nodes_.forget(node->id, 1);
    return -EISDIR;
  }
  fuse_entry_out e{};
  e.nodeid = node->id;
  e.entry_valid = e.attr_valid = kValidSeconds;
  fill_attr(st, e.attr);
  fuse_open_out o{};
  if (int err = add_handle(fd, false, o.fh)) {
    nodes_.forget(node->id, 1);
    return err;
  }
  if (r.put(e) || r.put(o)) {
    ::close(handles_[o.fh].fd);
    handles_.erase(o.fh);
    nodes_.forget(node->id, 1);
    return -EIO;
  }
  return 0;
}

int FuseServer::do_read(Request& r) {
  fuse_read_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, false);
  if (!h) return -EBADF;
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  if (r.out_room < sizeof(fuse_out_header)) return -EINVAL;
  const uint64_t want = std::min<uint64_t>({in.size, limits_.max_write, r.out_room - sizeof(fuse_out_header)});
  if (want == 0) return 0;
  auto iov = slice(r.out, sizeof(fuse_out_header), want);
  const int64_t n = transfer<false>(h->fd, iov, in.offset);
  if (n < 0) return static_cast<int>(n);
  r.direct_len = static_cast<uint64_t>(n);
  return 0;
}

int FuseServer::do_write(Request& r) {
  fuse_write_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, false);
  if (!h) return -EBADF;
  if (int err = share_->check_writable()) return err;
  const uint64_t data_at = sizeof(fuse_in_header) + sizeof(fuse_write_in);
  // The data must be exactly what the header's len covers beyond write_in.
  if (r.h.len < data_at || r.h.len - data_at != in.size) return -EINVAL;
  if (in.size > limits_.max_write) return -EINVAL;
  if (in.offset > static_cast<uint64_t>(INT64_MAX) || in.offset + in.size > static_cast<uint64_t>(INT64_MAX))
    return -EFBIG;
  auto iov = slice(r.in, data_at, in.size);
  const int64_t n = in.size ? transfer<true>(h->fd, iov, in.offset) : 0;
  if (n < 0) return static_cast<int>(n);
  fuse_write_out o{};
  o.size = static_cast<uint32_t>(n);
  return r.put(o);
}

int FuseServer::do_release(Request& r, bool dir) {
  fuse_release_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, dir);
  if (!h) return -EBADF;
  ::close(h->fd);
  handles_.erase(in.fh);
  return 0;
}

int FuseServer::do_fsync(Request& r, bool dir) {
  fuse_fsync_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, dir);
  if (!h) return -EBADF;
  return host((in.fsync_flags & 1) ? ::fdatasync(h->fd) : ::fsync(h->fd));
}

int FuseServer::do_readdir(Request& r, bool plus) {
  fuse_read_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, true);
  if (!h) return -EBADF;
  ShareNode* dir = nodes_.get(r.h.nodeid);
  if (plus && !dir) return -ESTALE;
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  const size_t cap = std::min<size_t>(r.room(), in.size);
  // The offsets the guest gets back are the host's d_off cookies, so any
  // later READDIR resumes exactly after the last entry it received.
  if (::lseek(h->fd, static_cast<off_t>(in.offset), SEEK_SET) < 0) return -errno;
  alignas(8) std::byte raw[8192];
  for (;;) {
    const long got = ::syscall(SYS_getdents64, h->fd, raw, sizeof(raw));
    if (got < 0) return r.reply_len ? 0 : -errno;
    if (got == 0) return 0;
    for (long pos = 0; pos < got;) {
      auto* d = reinterpret_cast<struct dirent64*>(raw + pos);
      pos += d->d_reclen;
      const std::string_view name(d->d_name);
      const size_t base = plus ? offsetof(fuse_direntplus, dirent) : 0;
      const size_t entsize = base + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + name.size());
      if (r.reply_len + entsize > cap) return r.reply_len ? 0 : -EINVAL;
      fuse_entry_out entry{};
      if (plus && check_name(name) == 0) {
        // Each listed entry is a lookup the guest will FORGET; an entry that
        // cannot be looked up (gone, node limit) is listed without one.
        ShareNode* node = nullptr;
        struct stat st;
        if (nodes_.lookup(dir->id, name, node, st) == 0) {
          entry.nodeid = node->id;
          entry.entry_valid = entry.attr_valid = kValidSeconds;
          fill_attr(st, entry.attr);
        }
      }
      std::byte* dst = r.reply + r.reply_len;
      std::memset(dst, 0, entsize);
      if (plus) std::memcpy(dst, &entry, sizeof(entry));
      fuse_dirent de{};
      de.ino = d->d_ino;
      de.off = static_cast<uint64_t>(d->d_off);
      de.namelen = static_cast<uint32_t>(name.size());
      de.type = d->d_type;
      std::memcpy(dst + base, &de, FUSE_NAME_OFFSET);
      std::memcpy(dst + base + FUSE_NAME_OFFSET, name.data(), name.size());
      r.reply_len += entsize;
    }
  }
}

int FuseServer::do_statfs(Request& r) {
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  struct statfs s;
  if (::fstatfs(n->fd, &s) != 0) return -errno;
  fuse_statfs_out o{};
  o.st.blocks = s.f_blocks;
  o.st.bfree = s.f_bfree;
  o.st.bavail = s.f_bavail;
  o.st.files = s.f_files;
  o.st.ffree = s.f_ffree;
  o.st.bsize = static_cast<uint32_t>(s.f_bsize);
  o.st.namelen = static_cast<uint32_t>(std::min<long>(s.f_namelen, kMaxNameLength));
  o.st.frsize = static_cast<uint32_t>(s.f_frsize);
  return r.put(o);
}

int FuseServer::do_access(Request& r) {
  fuse_access_in in;
  if (int err = r.arg(in)) return err;
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (in.mask & W_OK) {
    if (int err = share_->check_writable()) return err;
  }
  if (!reg_or_dir(*n)) return 0;
  return host(::faccessat(AT_FDCWD, proc_fd_path(n->fd).c_str(), static_cast<int>(in.mask & 7), AT_EACCESS));
}

namespace {

int check_xattr_name(std::string_view name) {
  if (name.empty()) return -EINVAL;
  if (name.size() > XATTR_NAME_MAX) return -ERANGE;
  return 0;
}

}  // namespace

int FuseServer::do_setxattr(Request& r) {
  // Without FUSE_SETXATTR_EXT the kernel sends the short (size, flags) form.
  fuse_setxattr_in in{};
  if (r.args.size() < FUSE_COMPAT_SETXATTR_IN_SIZE) return -EINVAL;
  std::memcpy(&in, r.args.data(), FUSE_COMPAT_SETXATTR_IN_SIZE);
  std::string_view name;
  size_t next;
  if (int err = r.string_at(FUSE_COMPAT_SETXATTR_IN_SIZE, name, next, false)) return err;
  if (int err = check_xattr_name(name)) return err;
  if (in.size > kMaxXattrValue || r.args.size() - next != in.size) return -EINVAL;
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (!name.starts_with("user.")) return -EOPNOTSUPP;
  if (!reg_or_dir(*n)) return -EPERM;
  return host(::setxattr(proc_fd_path(n->fd).c_str(), std::string(name).c_str(), r.args.data() + next, in.size,
                         static_cast<int>(in.flags)));
}

int FuseServer::do_getxattr(Request& r, bool list) {
  fuse_getxattr_in in;
  if (int err = r.arg(in)) return err;
  std::string name;
  if (!list) {
    std::string_view n;
    size_t next;
    if (int err = r.string_at(sizeof(in), n, next, true)) return err;
    if (int err = check_xattr_name(n)) return err;
    name = n;
  }
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (!reg_or_dir(*n)) return list ? 0 : -ENODATA;
  const std::string path = proc_fd_path(n->fd);
  const size_t cap = std::min<size_t>({in.size, kMaxXattrValue, r.room()});
  ssize_t len;
  if (in.size == 0) {
    len = list ? ::listxattr(path.c_str(), nullptr, 0) : ::getxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (len < 0) return -errno;
    fuse_getxattr_out o{};
    o.size = static_cast<uint32_t>(len);
    return r.put(o);
  }
  auto* buf = reinterpret_cast<char*>(r.reply);
  len = list ? ::listxattr(path.c_str(), buf, cap) : ::getxattr(path.c_str(), name.c_str(), buf, cap);
  if (len < 0) return -errno;
  r.reply_len = static_cast<size_t>(len);
  return 0;
}

int FuseServer::do_removexattr(Request& r) {
  std::string_view name;
  size_t next;
  if (int err = r.string_at(0, name, next, true)) return err;
  if (int err = check_xattr_name(name)) return err;
  ShareNode* n = nodes_.get(r.h.nodeid);
  if (!n) return -ESTALE;
  if (int err = share_->check_writable()) return err;
  if (!name.starts_with("user.")) return -EOPNOTSUPP;
  if (!reg_or_dir(*n)) return -EPERM;
  return host(::removexattr(proc_fd_path(n->fd).c_str(), std::string(name).c_str()));
}

int FuseServer::do_fallocate(Request& r) {
  fuse_fallocate_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, false);
  if (!h) return -EBADF;
  if (int err = share_->check_writable()) return err;
  if (in.offset > static_cast<uint64_t>(INT64_MAX) || in.length > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  return host(::fallocate(h->fd, static_cast<int>(in.mode), static_cast<off_t>(in.offset),
                          static_cast<off_t>(in.length)));
}

int FuseServer::do_lseek(Request& r) {
  fuse_lseek_in in;
  if (int err = r.arg(in)) return err;
  Handle* h = get_handle(in.fh, false);
  if (!h) return -EBADF;
  if (in.whence != SEEK_DATA && in.whence != SEEK_HOLE) return -EINVAL;
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  const off_t off = ::lseek(h->fd, static_cast<off_t>(in.offset), static_cast<int>(in.whence));
  if (off < 0) return -errno;
  fuse_lseek_out o{};
  o.offset = static_cast<uint64_t>(off);
  return r.put(o);
}

}  // namespace backends
