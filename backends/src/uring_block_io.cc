#include "uring_block_io.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "backends/file_block_backend.h"

namespace backends {

using devices::ErrorCode;
using devices::fail;
using devices::Result;

void UringBlockIo::AlignedFree::operator()(std::byte* p) const { std::free(p); }

int setup_restricted_ring(io_uring& ring, unsigned entries, int event_fd) {
  io_uring_params params{};
  params.flags = IORING_SETUP_R_DISABLED;  // restrictions can only be set before the ring runs
  if (int r = io_uring_queue_init_params(entries, &ring, &params); r < 0) return r;
  io_uring_restriction allowed[2]{};
  allowed[0].opcode = IORING_RESTRICTION_SQE_OP;
  allowed[0].sqe_op = IORING_OP_READV;
  allowed[1].opcode = IORING_RESTRICTION_SQE_OP;
  allowed[1].sqe_op = IORING_OP_WRITEV;
  int r = io_uring_register_eventfd(&ring, event_fd);
  // Straight io_uring_register(2): bookworm's liburing 2.3 declares
  // io_uring_register_restrictions/io_uring_enable_rings but does not export them.
  auto reg = [&](unsigned op, void* arg, unsigned n) {
    return ::syscall(__NR_io_uring_register, ring.ring_fd, op, arg, n) < 0 ? -errno : 0;
  };
  if (r == 0) r = reg(IORING_REGISTER_RESTRICTIONS, allowed, 2);
  if (r == 0) r = reg(IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  if (r < 0) io_uring_queue_exit(&ring);
  return r;
}

Result<std::unique_ptr<UringBlockIo>> UringBlockIo::create(FileBlockBackend& file, int fd, uint32_t capacity) {
  int event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) return fail(ErrorCode::kIo, "eventfd: {}", std::strerror(errno));
  std::unique_ptr<UringBlockIo> io(new UringBlockIo(file, fd, capacity, event_fd));
  // One SQE per request in flight (a resubmitted short transfer reuses its
  // request's place), so the ring never runs out of SQEs.
  if (int r = setup_restricted_ring(io->ring_, capacity, event_fd); r < 0) {
    io->ring_.ring_fd = -1;
    return fail(ErrorCode::kUnsupported, "io_uring (restricted to reads and writes): {}",
                std::strerror(-r));
  }
  return io;
}

UringBlockIo::UringBlockIo(FileBlockBackend& file, int fd, uint32_t capacity, int event_fd)
    : file_(file), fd_(fd), event_fd_(event_fd), slots_(capacity), bounce_(kBouncePool) {
  ring_.ring_fd = -1;
  for (int i = kBouncePool; i-- > 0;) free_bounce_.push_back(i);
  inline_done_.reserve(capacity);
}

UringBlockIo::~UringBlockIo() {
  if (ring_.ring_fd >= 0) {
    // The kernel may still write into guest memory until each request
    // completes; closing the ring does not wait for that.
    if (in_flight_ > 0) reap(true, [](uint32_t, bool) {});
    io_uring_queue_exit(&ring_);
  }
  ::close(event_fd_);
}

namespace {

// The guest's buffers as the slot's iovecs; returns their total size and
// whether every one suits O_DIRECT. The kernel only reads through iov_base
// for a write, hence the const_cast for write buffers.
template <class Byte>
uint64_t gather(std::vector<iovec>& iov, std::span<const std::span<Byte>> buffers, const FileBlockBackend& file,
                bool& aligned) {
  iov.clear();
  uint64_t total = 0;
  aligned = true;
  for (auto b : buffers) {
    total += b.size();
    aligned = aligned && file.aligned_for_direct(b.data(), b.size());
    iov.push_back({const_cast<std::byte*>(b.data()), b.size()});
  }
  return total;
}

}  // namespace

Result<void> UringBlockIo::queue_read(uint64_t offset, std::span<const std::span<std::byte>> buffers, uint32_t tag) {
  if (tag >= slots_.size() || slots_[tag].busy) return fail(ErrorCode::kInvalidArgument, "tag {} not free", tag);
  Slot& s = slots_[tag];
  s.write = false;
  s.copy_back.clear();
  bool aligned = true;
  const uint64_t total = gather(s.iov, buffers, file_, aligned);
  if (file_.direct() && !aligned) s.copy_back.assign(buffers.begin(), buffers.end());
  return start(tag, offset, total, aligned);
}

Result<void> UringBlockIo::queue_write(uint64_t offset, std::span<const std::span<const std::byte>> buffers,
                                       uint32_t tag) {
  if (tag >= slots_.size() || slots_[tag].busy) return fail(ErrorCode::kInvalidArgument, "tag {} not free", tag);
  if (file_.read_only()) return fail(ErrorCode::kUnsupported, "{}: opened read-only", file_.path());
  Slot& s = slots_[tag];
  s.write = true;
  s.copy_back.clear();
  bool aligned = true;
  const uint64_t total = gather(s.iov, buffers, file_, aligned);
  return start(tag, offset, total, aligned);
}

Result<void> UringBlockIo::start(uint32_t tag, uint64_t offset, uint64_t total, bool aligned) {
  Slot& s = slots_[tag];
  const uint64_t size = file_.size();
  if (offset > size || total > size - offset) {
    return fail(ErrorCode::kInvalidArgument, "{}: {} [{:#x}, +{:#x}) is past the end ({:#x})", file_.path(),
                s.write ? "write" : "read", offset, total, size);
  }
  const bool bounce = file_.direct() && !aligned;
  if ((bounce && (total > kBounceBytes || free_bounce_.empty())) || s.iov.size() > IOV_MAX) {
    // Too big for a pooled bounce buffer, none free, or more iovecs than
    // one readv takes: the synchronous path handles it (it splits and
    // bounces on its own), reported like any completion.
    Result<void> r;
    if (s.write) {
      std::vector<std::span<const std::byte>> spans;
      for (const iovec& v : s.iov) spans.emplace_back(static_cast<const std::byte*>(v.iov_base), v.iov_len);
      r = file_.write_at(offset, spans);
    } else {
      std::vector<std::span<std::byte>> spans;
      for (const iovec& v : s.iov) spans.emplace_back(static_cast<std::byte*>(v.iov_base), v.iov_len);
      r = file_.read_at(offset, spans);
    }
    s.busy = true;
    finish_inline(tag, r.has_value());
    return {};
  }
  s.busy = true;
  s.offset = offset;
  s.next = 0;
  s.bounce = -1;
  if (bounce) {
    s.bounce = free_bounce_.back();
    free_bounce_.pop_back();
    auto& buf = bounce_[s.bounce];
    if (!buf) {
      buf.reset(static_cast<std::byte*>(std::aligned_alloc(std::max<size_t>(file_.block_size(), 4096), kBounceBytes)));
      if (!buf) std::abort();
    }
    if (s.write) {
      uint64_t at = 0;
      for (const iovec& v : s.iov) {
        std::memcpy(buf.get() + at, v.iov_base, v.iov_len);
        at += v.iov_len;
      }
    }
    s.iov.assign(1, iovec{buf.get(), total});
  }
  // Skip empty iovecs: a zero-length transfer would read as end of file.
  while (s.next < s.iov.size() && s.iov[s.next].iov_len == 0) ++s.next;
  ++in_flight_;
  if (s.next == s.iov.size()) {
    --in_flight_;
    finish_inline(tag, true);
    return {};
  }
  prep(tag);
  return {};
}

void UringBlockIo::prep(uint32_t tag) {
  Slot& s = slots_[tag];
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // Cannot happen with one SQE per slot, but never lose a request.
    io_uring_submit(&ring_);
    unsubmitted_ = 0;
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) std::abort();
  }
  const auto count = static_cast<unsigned>(s.iov.size() - s.next);
  if (s.write) {
    io_uring_prep_writev(sqe, fd_, &s.iov[s.next], count, s.offset);
  } else {
    io_uring_prep_readv(sqe, fd_, &s.iov[s.next], count, s.offset);
  }
  io_uring_sqe_set_data64(sqe, tag);
  ++unsubmitted_;
}

void UringBlockIo::finish_inline(uint32_t tag, bool ok) {
  ++in_flight_;
  inline_done_.emplace_back(tag, ok);
  // Wake the I/O thread as a kernel completion would.
  (void)::eventfd_write(event_fd_, 1);
}

void UringBlockIo::submit() {
  if (unsubmitted_ == 0) return;
  // EINTR / EAGAIN / EBUSY leave the SQEs queued: try again (EBUSY clears as
  // completions are reaped, and the reap paths submit too).
  int r;
  do r = io_uring_submit(&ring_);
  while (r == -EINTR || r == -EAGAIN);
  if (r >= 0) unsubmitted_ = 0;
}

void UringBlockIo::release(Slot& slot) {
  if (slot.bounce >= 0) free_bounce_.push_back(slot.bounce);
  slot.bounce = -1;
  slot.busy = false;
}

bool UringBlockIo::on_cqe(uint32_t tag, int res, bool& ok) {
  Slot& s = slots_[tag];
  if (res == -EINTR || res == -EAGAIN) {
    prep(tag);
    return false;
  }
  if (res <= 0) {  // an error, or end of file (the image shrank under us)
    ok = false;
    return true;
  }
  // A short transfer: move past what was done and ask for the rest.
  s.offset += static_cast<uint64_t>(res);
  size_t left = static_cast<size_t>(res);
  while (s.next < s.iov.size() && left >= s.iov[s.next].iov_len) left -= s.iov[s.next++].iov_len;
  if (left > 0) {
    s.iov[s.next].iov_base = static_cast<char*>(s.iov[s.next].iov_base) + left;
    s.iov[s.next].iov_len -= left;
  }
  while (s.next < s.iov.size() && s.iov[s.next].iov_len == 0) ++s.next;
  if (s.next < s.iov.size()) {
    prep(tag);
    return false;
  }
  ok = true;
  if (s.bounce >= 0 && !s.write) {
    const std::byte* from = bounce_[s.bounce].get();
    for (auto b : s.copy_back) {
      std::memcpy(b.data(), from, b.size());
      from += b.size();
    }
  }
  return true;
}

size_t UringBlockIo::reap(bool wait, const std::function<void(uint32_t tag, bool ok)>& done) {
  size_t reported = 0;
  for (;;) {
    for (auto [tag, ok] : inline_done_) {
      release(slots_[tag]);
      --in_flight_;
      ++reported;
      done(tag, ok);
    }
    inline_done_.clear();
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const auto tag = static_cast<uint32_t>(io_uring_cqe_get_data64(cqe));
      bool ok = false;
      if (tag >= slots_.size() || !slots_[tag].busy) continue;
      if (!on_cqe(tag, cqe->res, ok)) continue;
      release(slots_[tag]);
      --in_flight_;
      ++reported;
      done(tag, ok);
    }
    io_uring_cq_advance(&ring_, seen);
    submit();  // resubmitted short transfers
    if (!wait || in_flight_ == 0) return reported;
    if (!inline_done_.empty()) continue;
    // Submits anything still queued too, so waiting cannot wait for a
    // request the kernel never saw.
    int r = io_uring_submit_and_wait(&ring_, 1);
    if (r >= 0) unsubmitted_ = 0;
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -ETIME && r != -EBUSY) {
      // The ring itself failed: nothing more will complete, and guest memory
      // may still be written. There is no safe way on.
      std::abort();
    }
  }
}

}  // namespace backends
