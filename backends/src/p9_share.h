// Containment primitives for serving a host directory to a guest: every
// lookup is one validated name relative to a directory fd, opened O_PATH
// without following symlinks and (with openat2) RESOLVE_BENEATH, so no name
// the guest sends and no symlink on the host can lead outside the share, and
// a node renamed between lookup and open is still the node that was looked
// up (the fd follows the inode, never a path).
//
// Written for the 9p server because the protocol-neutral share_dir
// primitives of the virtio-fs branch did not exist yet; they are meant to be
// replaced by share_dir once it lands.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace backends::p9_share {

// One path component: non-empty, at most NAME_MAX bytes, no '/', no NUL,
// not "." or "..".
bool valid_name(std::string_view name);

// O_PATH|O_NOFOLLOW fd of `name` inside `dir_fd`; -errno on failure.
int open_child(int dir_fd, std::string_view name);

// A real open of the node behind an O_PATH fd. Only regular files and
// directories: a symlink (ELOOP), a FIFO (would block the I/O thread), a
// socket or a device node (EACCES) is refused. `flags` are host open flags;
// O_CREAT/O_EXCL/O_NOCTTY are dropped, O_CLOEXEC added. -errno on failure.
int reopen(int path_fd, int flags);

// Modes the guest may ask for: permission bits only for files (never setuid,
// setgid or sticky on the host), plus the sticky bit for directories.
mode_t file_mode(uint32_t guest_mode);
mode_t dir_mode(uint32_t guest_mode);

// "/proc/self/fd/N": lets path-only syscalls (chmod, truncate, xattrs, link)
// act on the inode an O_PATH fd holds without a path lookup by name.
struct FdPath {
  explicit FdPath(int fd);
  const char* c_str() const { return buf; }
  char buf[32];
};

}  // namespace backends::p9_share
