#include "devices/virtio/virtio_blk.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "devices/virtio/virtqueue.h"
#include "device_util.h"

namespace devices::virtio {

namespace {

constexpr uint64_t kHeaderBytes = 16;
constexpr uint64_t kSegmentBytes = 16;
constexpr uint32_t kDiscardFlagsKnown = VirtioBlk::kWriteZeroesFUnmap;

template <class T>
void put_le(std::span<std::byte> config, uint32_t offset, T value) {
  std::memcpy(config.data() + offset, &value, sizeof value);
}

template <class T>
T get_le(std::span<const std::byte> bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

}  // namespace

VirtioBlk::VirtioBlk(std::unique_ptr<BlockBackend> backend, std::string serial)
    : backend_(std::move(backend)), capacity_(backend_->size() / kSectorSize) {
  std::memcpy(id_.data(), serial.data(), std::min<size_t>(serial.size(), kIdBytes));
  const uint32_t block = std::max(backend_->block_size(), kSectorSize);
  const uint32_t block_sectors = block / kSectorSize;
  put_le<uint64_t>(config_, 0, capacity_);
  // Linux needs two descriptors of every chain for the header and the status.
  put_le<uint32_t>(config_, 12, kQueueSize - 2);  // seg_max
  put_le<uint32_t>(config_, 20, block);           // blk_size
  put_le<uint16_t>(config_, 34, 1);               // num_queues
  put_le<uint32_t>(config_, 36, kMaxDiscardSectors);
  put_le<uint32_t>(config_, 40, kMaxDiscardSegments);
  put_le<uint32_t>(config_, 44, block_sectors);  // discard_sector_alignment
  put_le<uint32_t>(config_, 48, kMaxWriteZeroesSectors);
  put_le<uint32_t>(config_, 52, kMaxWriteZeroesSegments);
  put_le<uint8_t>(config_, 56, 0);  // write_zeroes_may_unmap: we never promise deallocation
  async_ = backend_->async_io();
  if (async_) {
    // Tags are allocated once: no allocation per request in steady state.
    in_flight_.resize(async_->capacity());
    for (uint32_t t = async_->capacity(); t-- > 0;) free_tags_.push_back(t);
  }
}

uint64_t VirtioBlk::device_features() const {
  uint64_t f = kFVersion1 | kFIndirectDesc | kFEventIdx | kFSegMax | kFBlkSize | kFFlush | kFDiscard |
               kFWriteZeroes;
  if (backend_->read_only()) f |= kFRo;
  return f;
}

void VirtioBlk::read_config(uint32_t offset, std::span<std::byte> data) {
  detail::read_config_bytes(config_, offset, data);
}

bool VirtioBlk::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 1, why)) return false;
  queue_ = activation.queues[0];
  hooks_ = activation.hooks;
  features_ = activation.features;
  active_ = true;
  failed_ = false;
  return true;
}

void VirtioBlk::reset() {
  std::lock_guard lock(mutex_);
  // The driver may hand the buffers of in-flight requests to someone else as
  // soon as the reset returns: wait for them. Their results go nowhere (the
  // rings are being forgotten), but each tag comes back.
  if (async_ && async_->in_flight() > 0) {
    async_->submit();
    async_->reap(true, [this](uint32_t tag, bool) { free_tags_.push_back(tag); });
  }
  pushed_ = false;
  active_ = false;
  failed_ = false;
  features_ = 0;
  queue_ = nullptr;
  hooks_ = nullptr;
}

bool VirtioBlk::range_ok(uint64_t sector, uint64_t bytes) const {
  // Written so that neither sector * 512 nor sector + count can wrap.
  return sector <= capacity_ && bytes / kSectorSize <= capacity_ - sector;
}

int VirtioBlk::backend_event_fd() const { return async_ ? async_->completion_fd() : -1; }

void VirtioBlk::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_ || queue != 0) return;
  process();
  maybe_interrupt();
}

void VirtioBlk::backend_event() {
  std::lock_guard lock(mutex_);
  // Nothing is in flight while inactive (reset() drains): a late wake-up
  // finds nothing to reap.
  if (!async_ || !active_) return;
  async_->reap(false, [this](uint32_t tag, bool ok) { complete(tag, ok); });
  // Tags came back: serve what waited in the avail ring while all were busy.
  if (!failed_) process();
  maybe_interrupt();
}

void VirtioBlk::maybe_interrupt() {
  if (pushed_ && queue_->needs_interrupt()) hooks_->signal_used(0);
  pushed_ = false;
}

void VirtioBlk::process() {
  for (;;) {
    // Every tag busy: leave the rest in the ring (a guest may even offer
    // one head twice); backend_event() resumes once a request completes.
    if (async_ && free_tags_.empty()) break;
    std::string error;
    auto chain = queue_->pop(error);
    if (!chain) {
      if (!error.empty()) {
        failed_ = true;
        hooks_->device_error(fmt::format("virtio-blk: queue 0: {}", error));
      }
      break;
    }
    if (chain->writable.empty()) {
      failed_ = true;
      hooks_->device_error(fmt::format("virtio-blk: request at descriptor {} has no status byte", chain->head));
      break;
    }
    bool queued = false;
    Outcome out = handle(*chain, queued);
    if (queued) continue;
    const Buffer& last = chain->writable.back();
    last.host[last.len - 1] = std::byte{out.status};
    queue_->push_used(chain->head, out.written + 1);
    pushed_ = true;
  }
  // One submission for the whole notification.
  if (async_) async_->submit();
}

bool VirtioBlk::queue_async(const Chain& chain, bool write, uint64_t offset, uint64_t bytes) {
  const uint32_t tag = free_tags_.back();
  Result<void> r;
  if (write) {
    auto spans = detail::slice_buffers(chain.readable, kHeaderBytes, bytes);
    std::vector<std::span<const std::byte>> cspans(spans.begin(), spans.end());
    r = async_->queue_write(offset, cspans, tag);
  } else {
    r = async_->queue_read(offset, detail::slice_buffers(chain.writable, 0, bytes), tag);
  }
  if (!r) return false;
  free_tags_.pop_back();
  const Buffer& last = chain.writable.back();
  in_flight_[tag] = {chain.head, write ? 0 : static_cast<uint32_t>(bytes), last.host.data() + last.len - 1};
  return true;
}

void VirtioBlk::complete(uint32_t tag, bool ok) {
  InFlight& f = in_flight_[tag];
  *f.status = std::byte{ok ? kSOk : kSIoErr};
  queue_->push_used(f.head, (ok ? f.written : 0) + 1);
  pushed_ = true;
  free_tags_.push_back(tag);
}

void VirtioBlk::drain() {
  if (!async_ || async_->in_flight() == 0) return;
  async_->submit();
  async_->reap(true, [this](uint32_t tag, bool ok) { complete(tag, ok); });
}

VirtioBlk::Outcome VirtioBlk::handle(const Chain& chain, bool& queued) {
  std::array<std::byte, kHeaderBytes> header{};
  if (detail::copy_from_buffers(chain.readable, 0, header) != kHeaderBytes) return {kSIoErr, 0};
  const auto type = get_le<uint32_t>(header, 0);
  const auto sector = get_le<uint64_t>(header, 8);
  // Everything writable but the final status byte.
  const uint64_t in_bytes = chain.writable_bytes() - 1;
  const uint64_t out_bytes = chain.readable_bytes() - kHeaderBytes;

  switch (type) {
    case kTIn: {
      if (in_bytes % kSectorSize != 0 || !range_ok(sector, in_bytes)) return {kSIoErr, 0};
      if (in_bytes == 0) return {kSOk, 0};
      // Checked above like the synchronous path; a refused queue fails the request.
      if (async_) {
        queued = queue_async(chain, false, sector * kSectorSize, in_bytes);
        return {kSIoErr, 0};
      }
      auto spans = detail::slice_buffers(chain.writable, 0, in_bytes);
      if (!backend_->read_at(sector * kSectorSize, spans)) return {kSIoErr, 0};
      return {kSOk, static_cast<uint32_t>(in_bytes)};
    }
    case kTOut: {
      if (backend_->read_only()) return {kSIoErr, 0};
      if (out_bytes % kSectorSize != 0 || !range_ok(sector, out_bytes)) return {kSIoErr, 0};
      if (out_bytes == 0) return {kSOk, 0};
      if (async_) {
        queued = queue_async(chain, true, sector * kSectorSize, out_bytes);
        return {kSIoErr, 0};
      }
      auto spans = detail::slice_buffers(chain.readable, kHeaderBytes, out_bytes);
      std::vector<std::span<const std::byte>> cspans(spans.begin(), spans.end());
      if (!backend_->write_at(sector * kSectorSize, cspans)) return {kSIoErr, 0};
      return {kSOk, 0};
    }
    case kTFlush:
      drain();
      return {backend_->flush() ? kSOk : kSIoErr, 0};
    case kTGetId: {
      // The ID is NUL padded to 20 bytes; a shorter buffer gets what fits.
      const uint64_t n = detail::copy_to_buffers(chain.writable, 0,
                                                 std::span<const std::byte>(id_).first(std::min<uint64_t>(in_bytes, kIdBytes)));
      return {kSOk, static_cast<uint32_t>(n)};
    }
    case kTDiscard:
    case kTWriteZeroes:
      return {handle_segments(type, chain), 0};
    default:
      return {kSUnsupp, 0};
  }
}

uint8_t VirtioBlk::handle_segments(uint32_t type, const Chain& chain) {
  const bool discard = type == kTDiscard;
  if (!(features_ & (discard ? kFDiscard : kFWriteZeroes))) return kSUnsupp;
  if (backend_->read_only()) return kSIoErr;
  const uint64_t bytes = chain.readable_bytes() - kHeaderBytes;
  const uint32_t max_segments = discard ? kMaxDiscardSegments : kMaxWriteZeroesSegments;
  const uint32_t max_sectors = discard ? kMaxDiscardSectors : kMaxWriteZeroesSectors;
  if (bytes == 0 || bytes % kSegmentBytes != 0 || bytes / kSegmentBytes > max_segments) return kSIoErr;
  drain();  // the changes must not race writes in flight to the same sectors

  struct Segment {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
  };
  std::vector<Segment> segments(bytes / kSegmentBytes);
  detail::copy_from_buffers(chain.readable, kHeaderBytes, std::as_writable_bytes(std::span(segments)));
  // Validate all first, so a bad segment fails the request before any change.
  for (const Segment& s : segments) {
    if (s.flags & ~kDiscardFlagsKnown) return kSUnsupp;
    // §5.2.6.2: the unmap flag is meaningful for write-zeroes only.
    if (discard && (s.flags & kWriteZeroesFUnmap)) return kSUnsupp;
    if (s.num_sectors > max_sectors || !range_ok(s.sector, uint64_t{s.num_sectors} * kSectorSize)) return kSIoErr;
  }
  for (const Segment& s : segments) {
    const uint64_t offset = s.sector * kSectorSize;
    const uint64_t len = uint64_t{s.num_sectors} * kSectorSize;
    if (len == 0) continue;
    auto r = discard ? backend_->discard(offset, len) : backend_->write_zeroes(offset, len);
    if (!r) return kSIoErr;
  }
  return kSOk;
}

}  // namespace devices::virtio
