// The io_uring side of FileBlockBackend (private to backends/): reads and
// writes of one notification go to the kernel in one io_uring_submit, and the
// ring's eventfd tells the device's I/O thread when completions wait.
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/block_backend.h"

namespace backends {

class FileBlockBackend;

// Sets up `ring` so that it can do nothing but READV and WRITEV, with
// completions signalled on `event_fd`. io_uring requests run in the
// kernel's own workers, out of reach of the submitting thread's seccomp
// filter, so the ring carries its own allow-list
// (IORING_REGISTER_RESTRICTIONS): no open, connect or anything else a
// compromised I/O thread could queue. (Not a fixed file: a registered file
// outlives the ring's teardown, and with it the image's OFD lock, so a
// reopen right after a close would be refused.) Returns 0 or -errno; on
// failure the ring is torn down.
int setup_restricted_ring(io_uring& ring, unsigned entries, int event_fd);

class UringBlockIo final : public devices::virtio::AsyncBlockIo {
 public:
  // Unaligned O_DIRECT transfers up to this size use a pooled bounce buffer;
  // larger ones (rare: Linux splits requests well below it) run synchronously.
  static constexpr size_t kBounceBytes = 1 << 20;
  static constexpr size_t kBouncePool = 16;

  // Fails (with the reason, for the fallback's log line) when the host
  // refuses io_uring: an old kernel, seccomp, io_uring_disabled.
  static devices::Result<std::unique_ptr<UringBlockIo>> create(FileBlockBackend& file, int fd, uint32_t capacity);
  ~UringBlockIo() override;  // waits for everything in flight
  UringBlockIo(const UringBlockIo&) = delete;
  UringBlockIo& operator=(const UringBlockIo&) = delete;

  uint32_t capacity() const override { return static_cast<uint32_t>(slots_.size()); }
  devices::Result<void> queue_read(uint64_t offset, std::span<const std::span<std::byte>> buffers,
                                   uint32_t tag) override;
  devices::Result<void> queue_write(uint64_t offset, std::span<const std::span<const std::byte>> buffers,
                                    uint32_t tag) override;
  void submit() override;
  size_t reap(bool wait, const std::function<void(uint32_t tag, bool ok)>& done) override;
  uint32_t in_flight() const override { return in_flight_; }
  int completion_fd() const override { return event_fd_; }

 private:
  struct Slot {
    bool write = false;
    bool busy = false;
    uint64_t offset = 0;              // where the part not yet transferred goes
    std::vector<iovec> iov;           // capacity kept across requests
    size_t next = 0;                  // first iovec not yet transferred
    int bounce = -1;                  // pool index, or -1
    std::vector<std::span<std::byte>> copy_back;  // a bounced read's guest buffers
  };
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };

  UringBlockIo(FileBlockBackend& file, int fd, uint32_t capacity, int event_fd);
  // Common part of queue_read / queue_write once `slot.iov` holds the guest buffers.
  devices::Result<void> start(uint32_t tag, uint64_t offset, uint64_t total, bool aligned);
  void prep(uint32_t tag);
  // Completed outside the ring: reported by the next reap().
  void finish_inline(uint32_t tag, bool ok);
  // One completion; returns true when the request is finished (false: resubmitted).
  bool on_cqe(uint32_t tag, int res, bool& ok);
  void release(Slot& slot);

  FileBlockBackend& file_;
  int fd_;
  io_uring ring_{};
  int event_fd_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<std::byte, AlignedFree>> bounce_;  // lazily allocated
  std::vector<int> free_bounce_;
  std::vector<std::pair<uint32_t, bool>> inline_done_;
  uint32_t in_flight_ = 0;  // queued, submitted or finished inline, not yet reaped
  uint32_t unsubmitted_ = 0;
};

}  // namespace backends
