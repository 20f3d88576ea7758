#include "backends/share_dir.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace backends {

int check_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return -EINVAL;
  if (name.size() > kMaxNameLength) return -ENAMETOOLONG;
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) return -EINVAL;
  return 0;
}

mode_t sanitize_mode(mode_t mode) { return mode & (S_ISVTX | 0777); }

int check_mknod_type(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
      return 0;
    case S_IFCHR:
    case S_IFBLK:
      return -EPERM;
    default:
      return -EINVAL;
  }
}

bool open_flags_write(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT)) != 0;
}

namespace {

// Once openat2 reports ENOSYS (a pre-5.6 kernel or a seccomp filter), use
// openat: for one checked component with O_NOFOLLOW it resolves the same.
std::atomic<bool> have_openat2{true};

}  // namespace

int open_beneath(int dirfd, std::string_view name, int flags, mode_t mode) {
  if (int err = check_name(name)) return err;
  const std::string n(name);
  flags |= O_NOFOLLOW | O_CLOEXEC;
  if (have_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags));
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (;;) {
      long fd = ::syscall(SYS_openat2, dirfd, n.c_str(), &how, sizeof(how));
      if (fd >= 0) return static_cast<int>(fd);
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno != ENOSYS) return -errno;
      have_openat2.store(false, std::memory_order_relaxed);
      break;
    }
  }
  for (;;) {
    int fd = ::openat(dirfd, n.c_str(), flags, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

std::string proc_fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

uint64_t raise_open_file_limit(uint64_t wanted) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur >= wanted) return r.rlim_cur;
  if (r.rlim_max < wanted) {
    // Raising the hard limit needs CAP_SYS_RESOURCE; the kernel caps it at fs.nr_open.
    uint64_t nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    rlimit more{};
    more.rlim_cur = more.rlim_max = nr_open > 0 ? std::min<uint64_t>(wanted, nr_open) : wanted;
    if (more.rlim_max > r.rlim_max && ::setrlimit(RLIMIT_NOFILE, &more) == 0) return more.rlim_cur;
  }
  r.rlim_cur = std::min<uint64_t>(wanted, r.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &r) != 0) ::getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

int reopen(int path_fd, int flags) {
  struct stat st;
  if (::fstat(path_fd, &st) != 0) return -errno;
  if (S_ISLNK(st.st_mode)) return -ELOOP;
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return -EACCES;
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_PATH | O_NOFOLLOW | O_TMPFILE);
  if (S_ISDIR(st.st_mode)) flags |= O_DIRECTORY;
  flags |= O_CLOEXEC;
  const std::string path = proc_fd_path(path_fd);
  for (;;) {
    int fd = ::open(path.c_str(), flags);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

NodeTable::NodeTable(int root_fd, size_t max_nodes) : max_nodes_(max_nodes) {
  auto root = std::make_unique<ShareNode>();
  root->id = kRootId;
  root->fd = root_fd;
  root->refs = 1;
  struct stat st;
  if (root_fd >= 0 && ::fstat(root_fd, &st) == 0) {
    root->dev = st.st_dev;
    root->ino = st.st_ino;
    root->type = st.st_mode & S_IFMT;
    by_inode_[Key{st.st_dev, st.st_ino}] = kRootId;
  }
  by_id_[kRootId] = std::move(root);
}

NodeTable::~NodeTable() {
  for (auto& [id, node] : by_id_)
    if (node->fd >= 0) ::close(node->fd);
}

ShareNode* NodeTable::get(uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

int NodeTable::lookup(uint64_t parent, std::string_view name, ShareNode*& node, struct stat& st) {
  ShareNode* p = get(parent);
  if (!p) return -ENOENT;
  if (p->type != S_IFDIR) return -ENOTDIR;
  int fd = open_beneath(p->fd, name, O_PATH);
  if (fd < 0) return fd;
  return adopt(fd, node, st);
}

int NodeTable::adopt(int fd, ShareNode*& node, struct stat& st) {
  if (::fstat(fd, &st) != 0) {
    int err = -errno;
    ::close(fd);
    return err;
  }
  auto it = by_inode_.find(Key{st.st_dev, st.st_ino});
  if (it != by_inode_.end()) {
    ::close(fd);
    node = by_id_.at(it->second).get();
    ++node->refs;
    return 0;
  }
  if (by_id_.size() >= max_nodes_) {
    ::close(fd);
    return -ENFILE;
  }
  auto n = std::make_unique<ShareNode>();
  n->id = next_id_++;
  n->fd = fd;
  n->dev = st.st_dev;
  n->ino = st.st_ino;
  n->type = st.st_mode & S_IFMT;
  n->refs = 1;
  node = n.get();
  by_inode_[Key{st.st_dev, st.st_ino}] = n->id;
  by_id_[n->id] = std::move(n);
  return 0;
}

void NodeTable::forget(uint64_t id, uint64_t count) {
  if (id == kRootId) return;
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  ShareNode& n = *it->second;
  if (count < n.refs) {
    n.refs -= count;
    return;
  }
  ::close(n.fd);
  by_inode_.erase(Key{n.dev, n.ino});
  by_id_.erase(it);
}

devices::Result<std::unique_ptr<ShareDir>> ShareDir::open(const std::string& path, bool read_only) {
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOTDIR)
      return devices::fail(devices::ErrorCode::kInvalidArgument, "--share {}: not a directory", path);
    return devices::fail(devices::ErrorCode::kIo, "--share {}: {}", path, std::strerror(err));
  }
  return std::unique_ptr<ShareDir>(new ShareDir(fd, path, read_only));
}

ShareDir::~ShareDir() { ::close(fd_); }

int ShareDir::dup_root() const { return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0); }

int ShareDir::check_writable() const { return read_only_ ? -EROFS : 0; }

}  // namespace backends
