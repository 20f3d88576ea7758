#include "devices/virtio/virtio_net.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "device_util.h"

namespace devices::virtio {

namespace {

// Copies `src` into the chain's writable buffers starting `offset` bytes in.
void copy_into(const Chain& chain, uint64_t offset, std::span<const std::byte> src) {
  detail::copy_to_buffers(chain.writable, offset, src);
}

}  // namespace

VirtioNet::Mac default_mac(uint32_t index) {
  return {0x52, 0x54, 0x00, 0x12, 0x34, static_cast<uint8_t>(0x56 + index)};
}

VirtioNet::VirtioNet(std::unique_ptr<NetBackend> backend, Mac mac) : mac_(mac), backend_(std::move(backend)) {
  std::memcpy(config_.data(), mac_.data(), mac_.size());
  const uint16_t status = kStatusLinkUp;
  const uint16_t pairs = 1;
  std::memcpy(config_.data() + 6, &status, 2);
  std::memcpy(config_.data() + 8, &pairs, 2);
  pending_.resize(kRxPending);
  parts_.reserve(kQueueSize + 1);
}

VirtioNet::~VirtioNet() {
  // Joins the backend's thread while everything it delivers into still exists.
  backend_.reset();
}

uint64_t VirtioNet::device_features() const {
  return kFVersion1 | kFIndirectDesc | kFEventIdx | kFMac | kFStatus | kFMrgRxbuf |
         (backend_->offload_features() & kOffloadMask);
}

void VirtioNet::read_config(uint32_t offset, std::span<std::byte> data) {
  detail::read_config_bytes(config_, offset, data);
}

bool VirtioNet::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 2, why)) return false;
  rx_ = activation.queues[kReceiveQueue];
  tx_ = activation.queues[kTransmitQueue];
  hooks_ = activation.hooks;
  features_ = activation.features;
  active_ = true;
  failed_ = false;
  backend_->set_offloads(features_ & backend_->offload_features() & kOffloadMask);
  return true;
}

void VirtioNet::start_threads() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  backend_->start(*this);
}

void VirtioNet::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  failed_ = false;
  features_ = 0;
  rx_ = tx_ = nullptr;
  hooks_ = nullptr;
  // What was waiting was meant for the old driver.
  pending_head_ = pending_count_ = 0;
}

VirtioNetStats VirtioNet::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

size_t VirtioNet::rx_pending() const {
  std::lock_guard lock(mutex_);
  return pending_count_;
}

void VirtioNet::fail(uint16_t queue, const std::string& error) {
  failed_ = true;
  hooks_->device_error(fmt::format("virtio-net: queue {}: {}", queue, error));
}

void VirtioNet::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_) return;
  if (queue == kReceiveQueue) drain_pending();
  if (queue == kTransmitQueue) transmit();
}

bool VirtioNet::header_ok(const VirtioNetHdr& hdr, uint64_t frame_len) const {
  if (hdr.flags & ~kHdrFNeedsCsum) return false;  // DATA_VALID and the rest are not the driver's to send
  if (hdr.flags & kHdrFNeedsCsum) {
    if (!(features_ & kFCsum)) return false;
    if (uint64_t{hdr.csum_start} + hdr.csum_offset + 2 > frame_len) return false;
  }
  const uint8_t gso = hdr.gso_type & static_cast<uint8_t>(~kGsoEcn);
  const bool ecn = (hdr.gso_type & kGsoEcn) != 0;
  if (gso == kGsoNone) return !ecn;
  if (ecn && !(features_ & kFHostEcn)) return false;
  // A segmentation request needs the checksum offload and a segment size.
  if (!(hdr.flags & kHdrFNeedsCsum) || hdr.gso_size == 0) return false;
  switch (gso) {
    case kGsoTcpv4: return (features_ & kFHostTso4) != 0;
    case kGsoTcpv6: return (features_ & kFHostTso6) != 0;
    case kGsoUdp: return (features_ & kFHostUfo) != 0;
    default: return false;
  }
}

void VirtioNet::transmit() {
  bool pushed = false;
  for (;;) {
    std::string error;
    if (!tx_->pop_into(tx_chain_, error)) {
      if (!error.empty()) fail(kTransmitQueue, error);
      break;
    }
    const Chain& chain = tx_chain_;
    const uint64_t total = chain.readable_bytes();
    VirtioNetHdr hdr;
    if (total < kHdrBytes + kEthHeaderBytes) {
      ++stats_.tx_too_short;
    } else if (total - kHdrBytes > kMaxFrameBytes) {
      ++stats_.tx_too_long;
    } else if (detail::copy_from_buffers(chain.readable, 0, std::as_writable_bytes(std::span(&hdr, 1))) != kHdrBytes ||
               !header_ok(hdr, total - kHdrBytes)) {
      ++stats_.tx_bad_header;
    } else {
      // The header sent is our checked copy: the guest may rewrite its own
      // after the check. num_buffers means nothing on transmit.
      hdr.num_buffers = 0;
      parts_.clear();
      if (backend_->vnet_header()) parts_.push_back(std::as_bytes(std::span(&hdr, 1)));
      uint64_t skip = kHdrBytes;
      for (const Buffer& b : chain.readable) {
        if (skip >= b.len) {
          skip -= b.len;
          continue;
        }
        parts_.push_back(std::span<const std::byte>(b.host).subspan(skip));
        skip = 0;
      }
      if (backend_->send(parts_)) {
        ++stats_.tx_frames;
        stats_.tx_bytes += total - kHdrBytes;
      } else {
        ++stats_.tx_backend_dropped;
      }
    }
    tx_->push_used(chain.head, 0);
    pushed = true;
  }
  if (pushed && tx_->needs_interrupt()) hooks_->signal_used(kTransmitQueue);
}

VirtioNet::Put VirtioNet::put_frame(const VirtioNetHdr& in_hdr, std::span<const std::byte> frame) {
  const uint64_t total = kHdrBytes + frame.size();
  const bool mergeable = (features_ & kFMrgRxbuf) != 0;
  uint16_t n = 0;
  uint64_t room = 0;
  while (room < total) {
    if (n == rx_->size()) {
      // The whole ring cannot hold it.
      rx_->unpop(n);
      return Put::kTooBig;
    }
    if (n == rx_chains_.size()) rx_chains_.emplace_back();
    std::string error;
    if (!rx_->pop_into(rx_chains_[n], error)) {
      rx_->unpop(n);
      if (!error.empty()) {
        fail(kReceiveQueue, error);
        return Put::kBroken;
      }
      return Put::kNoRoom;
    }
    const uint64_t w = rx_chains_[n].writable_bytes();
    ++n;
    // Every buffer must at least hold the header (§5.1.6.3.1); one chain
    // must hold the whole packet without MRG_RXBUF.
    if ((n == 1 && w < kHdrBytes) || (!mergeable && w < total)) {
      rx_->unpop(n);
      return Put::kTooBig;
    }
    room += w;
  }
  VirtioNetHdr hdr = in_hdr;
  hdr.num_buffers = mergeable ? n : 1;
  uint64_t at = 0;  // bytes of [header][frame] placed so far
  for (uint16_t i = 0; i < n; ++i) {
    const Chain& c = rx_chains_[i];
    const uint64_t len = std::min<uint64_t>(c.writable_bytes(), total - at);
    uint64_t offset = 0;
    if (i == 0) {
      copy_into(c, 0, std::as_bytes(std::span(&hdr, 1)));
      offset = kHdrBytes;
    }
    copy_into(c, offset, frame.subspan(at + offset - kHdrBytes, len - offset));
    at += len;
    rx_->push_used(c.head, static_cast<uint32_t>(len), /*publish=*/false);
  }
  rx_->publish_used();
  ++stats_.rx_frames;
  stats_.rx_bytes += frame.size();
  return Put::kDelivered;
}

// One frame as the backend gave it: the header first when it has one.
namespace {
bool split(bool vnet, std::span<const std::byte> raw, VirtioNetHdr& hdr, std::span<const std::byte>& frame) {
  hdr = {};
  if (vnet) {
    if (raw.size() < sizeof hdr) return false;
    std::memcpy(&hdr, raw.data(), sizeof hdr);
    raw = raw.subspan(sizeof hdr);
  }
  frame = raw;
  return frame.size() >= VirtioNet::kEthHeaderBytes && frame.size() <= VirtioNet::kMaxFrameBytes;
}
}  // namespace

void VirtioNet::drain_pending() {
  bool delivered = false;
  const bool vnet = backend_->vnet_header();
  while (pending_count_ > 0 && !failed_) {
    Pending& p = pending_[pending_head_];
    VirtioNetHdr hdr;
    std::span<const std::byte> frame;
    split(vnet, std::span<const std::byte>(p.bytes.data(), p.len), hdr, frame);  // checked when queued
    const Put r = put_frame(hdr, frame);
    if (r == Put::kNoRoom || r == Put::kBroken) break;
    if (r == Put::kTooBig) ++stats_.rx_dropped_bad;
    delivered = delivered || r == Put::kDelivered;
    pending_head_ = (pending_head_ + 1) % kRxPending;
    --pending_count_;
  }
  if (delivered && rx_->needs_interrupt()) hooks_->signal_used(kReceiveQueue);
}

void VirtioNet::receive(std::span<const std::byte> raw) {
  std::lock_guard lock(mutex_);
  VirtioNetHdr hdr;
  std::span<const std::byte> frame;
  if (!split(backend_->vnet_header(), raw, hdr, frame)) {
    ++stats_.rx_dropped_bad;
    return;
  }
  if (!active_ || failed_) {
    // No driver to take it.
    ++stats_.rx_dropped_full;
    return;
  }
  // Older frames first: buffers the driver added without a notify yet go to them.
  if (pending_count_ > 0) drain_pending();
  if (pending_count_ == 0 && !failed_) {
    const Put r = put_frame(hdr, frame);
    if (r == Put::kDelivered) {
      if (rx_->needs_interrupt()) hooks_->signal_used(kReceiveQueue);
      return;
    }
    if (r == Put::kTooBig) ++stats_.rx_dropped_bad;
    if (r != Put::kNoRoom) return;
  }
  if (pending_count_ == kRxPending) {
    ++stats_.rx_dropped_full;
    return;
  }
  Pending& p = pending_[(pending_head_ + pending_count_) % kRxPending];
  if (p.bytes.size() < raw.size()) p.bytes.resize(raw.size());
  std::memcpy(p.bytes.data(), raw.data(), raw.size());
  p.len = raw.size();
  ++pending_count_;
}

}  // namespace devices::virtio
