#include "loader/image_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace loader {
namespace {

Result<void> check_range(const ImageSource& src, uint64_t offset, uint64_t len) {
  if (offset > src.size() || len > src.size() - offset)
    return fail(ErrorCode::kTruncated, "{}: need {:#x} bytes at offset {:#x}, but the file is {:#x} bytes",
                src.name(), len, offset, src.size());
  return {};
}

Result<void> copy_span(const ImageSource& src, std::span<const std::byte> data, uint64_t offset,
                       std::span<std::byte> out) {
  if (auto r = check_range(src, offset, out.size()); !r) return r;
  if (!out.empty()) std::memcpy(out.data(), data.data() + offset, out.size());
  return {};
}

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "of an unknown file type";
}

// Closes the descriptor on every refusal; release() hands it on.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

Result<FileImageSource> FileImageSource::open(const std::string& path) { return open_at(AT_FDCWD, path, path); }

Result<FileImageSource> FileImageSource::open_at(int dir_fd, const std::string& relative, std::string path) {
  // O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, so
  // the type can only be checked on a descriptor opened without waiting.
  // O_NOCTTY: a terminal given by mistake must not become ours.
  int fd = ::openat(dir_fd, relative.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    struct stat st{};
    // open() of a Unix socket fails with ENXIO, which names no file type.
    if (err == ENXIO && ::fstatat(dir_fd, relative.c_str(), &st, 0) == 0 && S_ISSOCK(st.st_mode))
      return fail(ErrorCode::kIo, "{}: is a socket, not a regular file or block device", path);
    return fail(ErrorCode::kIo, "{}: cannot open: {}", path, std::strerror(err));
  }
  FdGuard guard(fd);
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    return fail(ErrorCode::kIo, "{}: cannot stat: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return fail(ErrorCode::kIo, "{}: is {}, not a regular file or block device", path, kind_of(st.st_mode));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    // st_size is 0 for a block device: its size is where it ends.
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
      int err = errno;
      return fail(ErrorCode::kIo, "{}: cannot find the size of the block device: {}", path, std::strerror(err));
    }
    size = static_cast<uint64_t>(end);
  }
  // Reads are pread()s that must wait for the disk, never fail with EAGAIN.
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    int err = errno;
    return fail(ErrorCode::kIo, "{}: cannot clear O_NONBLOCK: {}", path, std::strerror(err));
  }
  return FileImageSource(guard.release(), size, std::move(path));
}

FileImageSource::FileImageSource(FileImageSource&& other) noexcept
    : fd_(other.fd_), size_(other.size_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

FileImageSource::~FileImageSource() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> FileImageSource::read_at(uint64_t offset, std::span<std::byte> out) const {
  if (auto r = check_range(*this, offset, out.size()); !r) return r;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return fail(ErrorCode::kIo, "{}: read of {:#x} bytes at offset {:#x} failed: {}", path_, out.size(),
                  offset, std::strerror(err));
    }
    if (n == 0)
      return fail(ErrorCode::kTruncated, "{}: file ended at offset {:#x} (was it changed while loading?)", path_,
                  offset + done);
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> SpanImageSource::read_at(uint64_t offset, std::span<std::byte> out) const {
  return copy_span(*this, data_, offset, out);
}

Result<void> BufferImageSource::read_at(uint64_t offset, std::span<std::byte> out) const {
  return copy_span(*this, data_, offset, out);
}

Result<void> load_into_memory(const ImageSource& src, uint64_t offset, uint64_t len, GuestMemory& mem,
                              GuestAddress addr) {
  auto dst = mem.host_span(addr, len);
  if (!dst) return std::unexpected(dst.error());
  return src.read_at(offset, *dst);
}

}  // namespace loader
