#include "loader/image_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

Result<FileImageSource> FileImageSource::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return fail(ErrorCode::kIo, "{}: cannot open: {}", path, std::strerror(err));
  }
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return fail(ErrorCode::kIo, "{}: cannot stat: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::kIo, "{}: not a regular file", path);
  }
  return FileImageSource(fd, static_cast<uint64_t>(st.st_size), path);
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
