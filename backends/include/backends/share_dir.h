// Containment primitives for serving a host directory to a guest (--share),
// shared by the virtio-fs (FUSE) and 9p servers. Protocol-neutral: errors are
// negative errno values, which both protocols send back as they are.
//
// The guest names files only as (node, single component). Every node holds an
// O_PATH|O_NOFOLLOW fd of its inode, so a path is never re-resolved on the
// host: a directory renamed between lookup and use keeps referring to the
// same inode, and ".." or a '/' never reaches the kernel because
// check_name() refuses them. Components are opened with openat2
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS relative to the
// parent's fd (plain openat with O_NOFOLLOW where openat2 is missing, which
// is equivalent for one checked component). A symlink is never followed on
// the host: LOOKUP returns the link itself and reopen() refuses it (ELOOP).
// Only regular files and directories are ever reopened (through
// /proc/self/fd), so a FIFO or device node placed in the share by the host
// can neither block the VMM nor be opened through it.
//
// Policy (see DESIGN.md): files are created as the user running the VMM;
// the guest's uid/gid are ignored. setuid/setgid bits are stripped from every
// mode the guest sets; only regular files, FIFOs and sockets can be made with
// mknod (device nodes: EPERM). A read-only share refuses every modifying
// operation with EROFS, checked here on the host.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "devices/error.h"

namespace backends {

// The longest single name a guest may use (NAME_MAX).
inline constexpr size_t kMaxNameLength = 255;

// 0 when `name` is one usable component: not empty, not "." or "..", no '/'
// or NUL, at most kMaxNameLength bytes. Otherwise -EINVAL (-ENAMETOOLONG
// for a long name).
int check_name(std::string_view name);

// The mode bits the host will actually apply for a guest-supplied mode:
// permission bits and sticky only (setuid/setgid dropped).
mode_t sanitize_mode(mode_t mode);

// 0 when mknod of `mode`'s file type is allowed (regular, FIFO, socket);
// -EPERM for device nodes, -EINVAL for anything else.
int check_mknod_type(mode_t mode);

// Whether open flags would modify the file (write access, O_TRUNC, O_CREAT).
bool open_flags_write(int flags);

// openat2(dirfd, name, RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS) after
// check_name(); O_NOFOLLOW|O_CLOEXEC are always added. Returns an fd or -errno.
int open_beneath(int dirfd, std::string_view name, int flags, mode_t mode = 0);

// Opens the inode behind an O_PATH fd with real access `flags` through
// /proc/self/fd. Refuses symlinks (-ELOOP) and anything that is not a
// regular file or directory (-EACCES). O_CREAT/O_EXCL/O_NOCTTY/O_PATH/
// O_NOFOLLOW are dropped from `flags`; O_CLOEXEC is added.
int reopen(int path_fd, int flags);

// "/proc/self/fd/N" for a node's fd: the path the *at calls that cannot take
// an O_PATH fd (chmod, truncate, xattrs) use, only after the caller checked
// the node is a regular file or directory.
std::string proc_fd_path(int fd);

// Every node the guest holds keeps an O_PATH descriptor open (as virtiofsd's
// do: no CAP_DAC_READ_SEARCH for file handles), so a walk of a large tree
// needs more descriptors than the usual soft limit of 1024 (and a root-run
// vmm more than the kernel's default hard limit of 4096). Raises
// RLIMIT_NOFILE's soft limit to at least `wanted` where the hard limit
// allows, and the hard limit too (up to fs.nr_open) where the process may;
// returns the soft limit in force afterwards.
uint64_t raise_open_file_limit(uint64_t wanted);

// One host inode the guest holds a reference to.
struct ShareNode {
  uint64_t id = 0;
  int fd = -1;  // O_PATH|O_NOFOLLOW
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;     // S_IFMT bits when looked up (a node never changes type)
  uint64_t refs = 0;   // protocol references (FUSE lookup count, 9p fids)
};

// The nodes a guest has references to, keyed by id and by (st_dev, st_ino):
// looking one inode up twice yields one node with two references. Bounded:
// past max_nodes a new inode fails with -ENFILE, so a guest that never
// forgets cannot grow host memory or fds without bound. Not thread-safe.
class NodeTable {
 public:
  static constexpr uint64_t kRootId = 1;

  // Takes ownership of root_fd (an O_PATH fd of a directory) as node kRootId,
  // which is never forgotten.
  NodeTable(int root_fd, size_t max_nodes);
  ~NodeTable();
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // The node, or nullptr for an id the guest was never given (or forgot).
  ShareNode* get(uint64_t id);
  // Opens `name` under `parent` (O_PATH|O_NOFOLLOW, beneath it) and adds one
  // reference to its node. On success `st` is the inode's stat.
  // Errors: -ENOENT for an unknown parent, -ENOTDIR, check_name's, host
  // errors, -ENFILE past the limit.
  int lookup(uint64_t parent, std::string_view name, ShareNode*& node, struct stat& st);
  // Adds a reference to the inode open as `fd` (an O_PATH fd the caller
  // hands over, e.g. after mkdir+open_beneath); closes fd when a node for
  // it already exists.
  int adopt(int fd, ShareNode*& node, struct stat& st);
  // Drops `count` references; the node goes when none remain. Unknown ids
  // and the root are ignored (FORGET has no reply to fail).
  void forget(uint64_t id, uint64_t count);
  size_t size() const { return by_id_.size(); }
  size_t max_nodes() const { return max_nodes_; }

 private:
  struct Key {
    dev_t dev;
    ino_t ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.ino * 31 + k.dev); }
  };
  std::unordered_map<uint64_t, std::unique_ptr<ShareNode>> by_id_;
  std::unordered_map<Key, uint64_t, KeyHash> by_inode_;
  size_t max_nodes_;
  uint64_t next_id_ = kRootId + 1;
};

// A host directory opened for sharing.
class ShareDir {
 public:
  // Errors start with "--share" and name the path: it must exist and be a directory.
  static devices::Result<std::unique_ptr<ShareDir>> open(const std::string& path, bool read_only);
  ~ShareDir();
  ShareDir(const ShareDir&) = delete;
  ShareDir& operator=(const ShareDir&) = delete;

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  // A fresh O_PATH fd of the root (each server's NodeTable owns one).
  int dup_root() const;
  // 0, or -EROFS on a read-only share: every modifying operation asks first.
  int check_writable() const;

 private:
  ShareDir(int fd, std::string path, bool read_only) : fd_(fd), path_(std::move(path)), read_only_(read_only) {}
  int fd_;
  std::string path_;
  bool read_only_;
};

}  // namespace backends
