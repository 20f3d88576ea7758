#include "backends/file_block_backend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#if MINIVMM_HAVE_IO_URING
#include "uring_block_io.h"
#endif

namespace backends {

using devices::ErrorCode;
using devices::fail;
using devices::Result;

namespace {

// O_DIRECT on a regular file: 4 KiB satisfies every Linux file system's
// direct-I/O alignment without asking each one (statx DIOALIGN is too new).
constexpr uint32_t kFileDirectAlign = 4096;
constexpr uint64_t kZeroChunk = 1 << 20;

std::string errno_text(int err) { return std::strerror(err); }

struct AlignedBuffer {
  explicit AlignedBuffer(size_t align, size_t size)
      // aligned_alloc wants a size that is a multiple of the alignment.
      : data(static_cast<std::byte*>(std::aligned_alloc(align, (std::max(size, align) + align - 1) / align * align))),
        size(size) {
    if (data == nullptr) std::abort();
  }
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  std::byte* data;
  size_t size;
};

// preadv/pwritev until every iovec is done: a short transfer is normal for
// large vectors (and IOV_MAX caps one call), a zero-byte one means EOF.
Result<void> transfer(int fd, bool write, uint64_t offset, std::vector<iovec> iov, const std::string& path) {
  size_t idx = 0;
  while (idx < iov.size() && iov[idx].iov_len == 0) ++idx;
  while (idx < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - idx, IOV_MAX));
    ssize_t n = write ? ::pwritev(fd, &iov[idx], count, static_cast<off_t>(offset))
                      : ::preadv(fd, &iov[idx], count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::kIo, "{}: {} at offset {:#x}: {}", path, write ? "pwritev" : "preadv", offset,
                  errno_text(errno));
    }
    if (n == 0) return fail(ErrorCode::kIo, "{}: unexpected end of file at offset {:#x}", path, offset);
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (idx < iov.size() && left >= iov[idx].iov_len) left -= iov[idx++].iov_len;
    if (left > 0) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
    while (idx < iov.size() && iov[idx].iov_len == 0) ++idx;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<FileBlockBackend>> FileBlockBackend::open(const std::string& path, FileBlockOptions options) {
  const bool direct = options.cache == CacheMode::kNone;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | (direct ? O_DIRECT : 0);
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == EISDIR) return fail(ErrorCode::kInvalidArgument, "{}: is a directory, not a disk image", path);
    if (err == EINVAL && direct) {
      return fail(ErrorCode::kUnsupported, "{}: the file system does not support O_DIRECT (cache=none)", path);
    }
    return fail(ErrorCode::kIo, "{}: cannot open {}: {}", path, options.read_only ? "read-only" : "read-write",
                errno_text(err));
  }
  auto close_fd = [fd] { ::close(fd); };
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    close_fd();
    return fail(ErrorCode::kIo, "{}: fstat: {}", path, errno_text(err));
  }
  uint64_t size = 0;
  uint32_t block = 512;
  const bool block_device = S_ISBLK(st.st_mode);
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
    if (direct) block = kFileDirectAlign;
  } else if (block_device) {
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      const int err = errno;
      close_fd();
      return fail(ErrorCode::kIo, "{}: BLKGETSIZE64: {}", path, errno_text(err));
    }
    int logical = 0;
    if (direct && ::ioctl(fd, BLKSSZGET, &logical) == 0 && logical > 512) block = static_cast<uint32_t>(logical);
  } else {
    close_fd();
    const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                                              : "not a regular file";
    return fail(ErrorCode::kInvalidArgument, "{}: is {}, not a disk image or block device", path, what);
  }
  // Blocking from here on: the file is a disk, and O_NONBLOCK is meaningless
  // for it anyway, but leave no surprise for a later reader of the flags.
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int err = errno;
    close_fd();
    return fail(ErrorCode::kIo, "{}: fcntl(F_SETFL): {}", path, errno_text(err));
  }
  struct flock lock{};
  lock.l_type = options.read_only ? F_RDLCK : F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // the whole file, however it grows
  if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    const int err = errno;
    close_fd();
    if (err == EAGAIN || err == EACCES) {
      return fail(ErrorCode::kBusy, "{}: locked by another process (is another VM using this image{}?)", path,
                  options.read_only ? " read-write" : "");
    }
    return fail(ErrorCode::kIo, "{}: cannot lock (F_OFD_SETLK): {}", path, errno_text(err));
  }
  std::unique_ptr<FileBlockBackend> backend(
      new FileBlockBackend(fd, path, size, options.read_only, direct, block, block_device));
  if (options.engine == IoEngine::kSync) {
    backend->engine_ = "sync (asked for)";
#if MINIVMM_HAVE_IO_URING
  } else if (auto io = UringBlockIo::create(*backend, fd, std::max<uint32_t>(options.queue_depth, 1))) {
    backend->uring_ = std::move(*io);
    backend->engine_ = "io_uring";
  } else if (options.engine == IoEngine::kUring) {
    return fail(ErrorCode::kUnsupported, "{}: {}", path, io.error().message);
  } else {
    backend->engine_ = fmt::format("sync ({})", io.error().message);
  }
#else
  } else if (options.engine == IoEngine::kUring) {
    return fail(ErrorCode::kUnsupported, "{}: io_uring: this build has none (MINIVMM_IO_URING=OFF)", path);
  } else {
    backend->engine_ = "sync (this build has no io_uring)";
  }
#endif
  return backend;
}

FileBlockBackend::FileBlockBackend(int fd, std::string path, uint64_t size, bool read_only, bool direct,
                                   uint32_t block_size, bool block_device)
    : fd_(fd),
      path_(std::move(path)),
      size_(size),
      read_only_(read_only),
      direct_(direct),
      block_size_(block_size),
      block_device_(block_device) {}

FileBlockBackend::~FileBlockBackend() {
  uring_.reset();  // waits for requests in flight, before their fd closes
  ::close(fd_);    // drops the OFD lock too
}

devices::virtio::AsyncBlockIo* FileBlockBackend::async_io() { return uring_.get(); }

bool FileBlockBackend::aligned(const void* p, size_t len) const {
  return reinterpret_cast<uintptr_t>(p) % block_size_ == 0 && len % block_size_ == 0;
}

Result<void> FileBlockBackend::read_at(uint64_t offset, std::span<const std::span<std::byte>> buffers) {
  uint64_t total = 0;
  bool all_aligned = true;
  std::vector<iovec> iov;
  iov.reserve(buffers.size());
  for (auto b : buffers) {
    total += b.size();
    all_aligned = all_aligned && aligned(b.data(), b.size());
    iov.push_back({b.data(), b.size()});
  }
  if (offset > size_ || total > size_ - offset) {
    return fail(ErrorCode::kInvalidArgument, "{}: read [{:#x}, +{:#x}) is past the end ({:#x})", path_, offset,
                total, size_);
  }
  if (!direct_ || all_aligned) return transfer(fd_, false, offset, std::move(iov), path_);
  // O_DIRECT with a guest buffer that is not aligned: go through one that is.
  AlignedBuffer bounce(block_size_, total);
  if (auto r = transfer(fd_, false, offset, {{bounce.data, total}}, path_); !r) return r;
  uint64_t at = 0;
  for (auto b : buffers) {
    std::memcpy(b.data(), bounce.data + at, b.size());
    at += b.size();
  }
  return {};
}

Result<void> FileBlockBackend::write_at(uint64_t offset, std::span<const std::span<const std::byte>> buffers) {
  if (read_only_) return fail(ErrorCode::kUnsupported, "{}: opened read-only", path_);
  uint64_t total = 0;
  bool all_aligned = true;
  std::vector<iovec> iov;
  iov.reserve(buffers.size());
  for (auto b : buffers) {
    total += b.size();
    all_aligned = all_aligned && aligned(b.data(), b.size());
    // pwritev does not write through iov_base; the cast only satisfies its type.
    iov.push_back({const_cast<std::byte*>(b.data()), b.size()});
  }
  if (offset > size_ || total > size_ - offset) {
    return fail(ErrorCode::kInvalidArgument, "{}: write [{:#x}, +{:#x}) is past the end ({:#x})", path_, offset,
                total, size_);
  }
  if (!direct_ || all_aligned) return transfer(fd_, true, offset, std::move(iov), path_);
  AlignedBuffer bounce(block_size_, total);
  uint64_t at = 0;
  for (auto b : buffers) {
    std::memcpy(bounce.data + at, b.data(), b.size());
    at += b.size();
  }
  return transfer(fd_, true, offset, {{bounce.data, total}}, path_);
}

Result<void> FileBlockBackend::flush() {
  while (::fdatasync(fd_) != 0) {
    if (errno == EINTR) continue;
    return fail(ErrorCode::kIo, "{}: fdatasync: {}", path_, errno_text(errno));
  }
  return {};
}

Result<void> FileBlockBackend::check_writable_range(std::string_view what, uint64_t offset, uint64_t len) const {
  if (read_only_) return fail(ErrorCode::kUnsupported, "{}: opened read-only", path_);
  if (offset > size_ || len > size_ - offset) {
    return fail(ErrorCode::kInvalidArgument, "{}: {} [{:#x}, +{:#x}) is past the end", path_, what, offset, len);
  }
  return {};
}

Result<void> FileBlockBackend::discard(uint64_t offset, uint64_t len) {
  if (auto r = check_writable_range("discard", offset, len); !r) return r;
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(len)) != 0) {
    // Discard is a hint: a file system that cannot punch holes just keeps the data.
    if (errno == EOPNOTSUPP) return {};
    return fail(ErrorCode::kIo, "{}: punch hole [{:#x}, +{:#x}): {}", path_, offset, len, errno_text(errno));
  }
  return {};
}

Result<void> FileBlockBackend::write_zeroes(uint64_t offset, uint64_t len) {
  if (auto r = check_writable_range("write-zeroes", offset, len); !r) return r;
  if (::fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(len)) == 0) {
    return {};
  }
  if (errno != EOPNOTSUPP && errno != EINVAL) {
    return fail(ErrorCode::kIo, "{}: zero range [{:#x}, +{:#x}): {}", path_, offset, len, errno_text(errno));
  }
  return write_zero_bytes(offset, len);
}

Result<void> FileBlockBackend::write_zero_bytes(uint64_t offset, uint64_t len) {
  AlignedBuffer zeros(std::max<size_t>(block_size_, 4096), std::min(len, kZeroChunk));
  std::memset(zeros.data, 0, zeros.size);
  while (len > 0) {
    const uint64_t n = std::min<uint64_t>(len, zeros.size);
    if (auto r = transfer(fd_, true, offset, {{zeros.data, n}}, path_); !r) return r;
    offset += n;
    len -= n;
  }
  return {};
}

}  // namespace backends
