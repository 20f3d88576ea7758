// A BlockBackend over a raw disk image file or a host block device, with
// synchronous pread/pwritev/fdatasync/fallocate. Errors name the path.
//
// open() never blocks and refuses what is not a disk: directories, FIFOs,
// sockets and character devices (it opens with O_NONBLOCK, then fstat()s).
// It takes an open-file-description lock on the whole image (F_OFD_SETLK:
// a write lock read-write, a read lock read-only) so two minivmm processes
// cannot both write one image, nor one write what another reads.
//
// cache=none opens with O_DIRECT: the page cache is bypassed; guest buffers
// that do not meet the alignment go through an aligned bounce buffer, and
// block_size() reports that alignment so the guest uses it as its logical
// block size.
//
// Reads and writes run on io_uring when the host allows it (IoEngine::kAuto):
// the device then keeps up to the queue size of them in flight (see
// AsyncBlockIo). When io_uring_queue_init is refused (an old kernel, a
// seccomp filter, io_uring_disabled) the backend stays synchronous and
// io_engine() says why; everything else (flush, discard, write-zeroes) is
// synchronous either way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "devices/virtio/block_backend.h"

namespace backends {

enum class CacheMode {
  kWriteback,  // the host page cache (the default)
  kNone,       // O_DIRECT
};

enum class IoEngine {
  kAuto,   // io_uring when available, else synchronous
  kSync,   // synchronous pread/pwritev only
  kUring,  // io_uring or open() fails
};

struct FileBlockOptions {
  bool read_only = false;
  CacheMode cache = CacheMode::kWriteback;
  IoEngine engine = IoEngine::kAuto;
  // Requests in flight on io_uring at most (the virtqueue size).
  uint32_t queue_depth = 256;
};


class FileBlockBackend final : public devices::virtio::BlockBackend {
 public:
  static devices::Result<std::unique_ptr<FileBlockBackend>> open(const std::string& path,
                                                                 FileBlockOptions options = {});
  ~FileBlockBackend() override;
  FileBlockBackend(const FileBlockBackend&) = delete;
  FileBlockBackend& operator=(const FileBlockBackend&) = delete;

  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  uint32_t block_size() const override { return block_size_; }
  const std::string& path() const { return path_; }
  bool is_block_device() const { return block_device_; }
  bool direct() const { return direct_; }
  // "io_uring", or "sync" with the reason io_uring was not used.
  const std::string& io_engine() const { return engine_; }
  devices::virtio::AsyncBlockIo* async_io() override;
  // Whether O_DIRECT can use this buffer as it is.
  bool aligned_for_direct(const void* p, size_t len) const { return aligned(p, len); }

  devices::Result<void> read_at(uint64_t offset, std::span<const std::span<std::byte>> buffers) override;
  devices::Result<void> write_at(uint64_t offset, std::span<const std::span<const std::byte>> buffers) override;
  devices::Result<void> flush() override;
  devices::Result<void> discard(uint64_t offset, uint64_t len) override;
  devices::Result<void> write_zeroes(uint64_t offset, uint64_t len) override;

 private:
  // discard and write-zeroes: refused on a read-only image or past its end.
  devices::Result<void> check_writable_range(std::string_view what, uint64_t offset, uint64_t len) const;
  FileBlockBackend(int fd, std::string path, uint64_t size, bool read_only, bool direct, uint32_t block_size,
                   bool block_device);
  bool aligned(const void* p, size_t len) const;
  devices::Result<void> write_zero_bytes(uint64_t offset, uint64_t len);

  int fd_;
  std::string path_;
  uint64_t size_;
  bool read_only_;
  bool direct_;
  uint32_t block_size_;
  bool block_device_;
  std::string engine_ = "sync";
  std::unique_ptr<devices::virtio::AsyncBlockIo> uring_;  // a UringBlockIo when io_uring is used
};

}  // namespace backends
