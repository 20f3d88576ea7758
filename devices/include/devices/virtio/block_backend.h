// The host side of a virtio-blk device: a disk image the device model reads
// and writes at byte offsets. The synchronous calls are the baseline every
// backend has; a backend that can keep many reads and writes in flight
// (io_uring) also offers an AsyncBlockIo, and the device then submits every
// read and write of one notification together instead of one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "devices/error.h"

namespace devices::virtio {

// Reads and writes in flight at once. Single-threaded by contract: the
// device calls every method under its own lock, so an implementation needs
// no locking of its own. Buffers point into guest memory and must stay
// valid until the request completes (the device keeps the chain and never
// lets reset() return while one is in flight).
class AsyncBlockIo {
 public:
  virtual ~AsyncBlockIo() = default;

  // Requests in flight at most; tags are 0 .. capacity()-1.
  virtual uint32_t capacity() const = 0;
  // Queues a transfer under `tag` (below capacity(), not in flight). An
  // error means nothing was queued: the request failed (or could not be
  // started) and will never be reported by reap().
  virtual Result<void> queue_read(uint64_t offset, std::span<const std::span<std::byte>> buffers, uint32_t tag) = 0;
  virtual Result<void> queue_write(uint64_t offset, std::span<const std::span<const std::byte>> buffers,
                                   uint32_t tag) = 0;
  // Hands everything queued since the last call to the host in one go.
  virtual void submit() = 0;
  // Reports finished requests: done(tag, ok). `wait`: blocks until nothing
  // is in flight (a barrier, and reset's guarantee that guest memory is no
  // longer touched). Returns how many it reported.
  virtual size_t reap(bool wait, const std::function<void(uint32_t tag, bool ok)>& done) = 0;
  virtual uint32_t in_flight() const = 0;
  // A file descriptor that becomes readable (an eventfd) when reap() has
  // something to report: whoever runs the device's thread watches it.
  virtual int completion_fd() const = 0;
};

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

  // The asynchronous path for reads and writes, or nullptr: only the
  // synchronous calls above (the default, and the fallback when the host
  // refuses io_uring).
  virtual AsyncBlockIo* async_io() { return nullptr; }
};

}  // namespace devices::virtio
