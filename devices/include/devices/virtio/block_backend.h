// The host side of a virtio-blk device: a disk image the device model reads
// and writes at byte offsets. Synchronous on purpose: the device calls it on
// an I/O thread, and an io_uring implementation can replace the file one
// behind this interface without the model changing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "devices/error.h"

namespace devices::virtio {

class BlockBackend {
 public:
  virtual ~BlockBackend() = default;

  // Image size in bytes (the device exposes size / 512 sectors).
  virtual uint64_t size() const = 0;
  virtual bool read_only() const = 0;
  // The logical block size the guest should use (512 unless O_DIRECT needs more).
  virtual uint32_t block_size() const { return 512; }

  // Scatter/gather I/O at a byte offset; a short transfer is an error.
  virtual Result<void> read_at(uint64_t offset, std::span<const std::span<std::byte>> buffers) = 0;
  virtual Result<void> write_at(uint64_t offset, std::span<const std::span<const std::byte>> buffers) = 0;
  // Makes completed writes durable.
  virtual Result<void> flush() = 0;
  // A hint: the range's contents become unspecified and may be deallocated.
  virtual Result<void> discard(uint64_t offset, uint64_t len) = 0;
  // The range reads back as zeroes afterwards.
  virtual Result<void> write_zeroes(uint64_t offset, uint64_t len) = 0;
};

}  // namespace devices::virtio
