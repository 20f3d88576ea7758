#include "p9_share.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>

namespace backends::p9_share {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > NAME_MAX) return false;
  if (name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

int open_child(int dir_fd, std::string_view name) {
  if (!valid_name(name)) return -EINVAL;
  const std::string n(name);
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  // valid_name already rules out every escape; RESOLVE_BENEATH is the
  // kernel's second opinion, and NO_MAGICLINKS keeps /proc-style links out.
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dir_fd, n.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno != ENOSYS) return -errno;
    break;
  }
  // Before Linux 5.6: a single validated component with O_NOFOLLOW cannot
  // resolve outside dir_fd either.
  const int fd = ::openat(dir_fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

int reopen(int path_fd, int flags) {
  struct stat st;
  if (::fstat(path_fd, &st) != 0) return -errno;
  if (S_ISLNK(st.st_mode)) return -ELOOP;
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return -EACCES;
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_PATH);
  if (S_ISDIR(st.st_mode) && (flags & O_ACCMODE) != O_RDONLY) return -EISDIR;
  const FdPath path(path_fd);
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  return fd >= 0 ? fd : -errno;
}

mode_t file_mode(uint32_t guest_mode) { return static_cast<mode_t>(guest_mode & 0777); }
mode_t dir_mode(uint32_t guest_mode) { return static_cast<mode_t>(guest_mode & 01777); }

FdPath::FdPath(int fd) { std::snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd); }

}  // namespace backends::p9_share
