#include "devices/virtio/virtio_fs.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "device_util.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

VirtioFs::VirtioFs(std::string tag, std::shared_ptr<FsServer> server)
    : tag_(std::move(tag)), server_(std::move(server)) {
  if (tag_.size() > kTagSize) tag_.resize(kTagSize);
  std::memcpy(config_.data(), tag_.data(), tag_.size());
  const uint32_t num_request_queues = 1;  // little-endian on every host we run on
  std::memcpy(config_.data() + kTagSize, &num_request_queues, 4);
}

uint64_t VirtioFs::device_features() const { return kFVersion1 | kFIndirectDesc | kFEventIdx; }

void VirtioFs::read_config(uint32_t offset, std::span<std::byte> data) {
  detail::read_config_bytes(config_, offset, data);
}

bool VirtioFs::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 2, why)) return false;
  queues_[0] = activation.queues[0];
  queues_[1] = activation.queues[1];
  hooks_ = activation.hooks;
  active_ = true;
  failed_ = false;
  return true;
}

void VirtioFs::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_ || queue > kRequestQueue) return;
  Virtqueue* q = queues_[queue];
  const bool ok = detail::serve_queue(
      *q, queue, *hooks_, "virtio-fs", q->size(), [this, queue](const Chain& chain) -> detail::ChainOutcome {
        if (const auto written = server_->handle(chain.readable, chain.writable)) return *written;
        return std::unexpected(fmt::format("queue {}: request chain has no room for a reply header", queue));
      });
  if (!ok) failed_ = true;
}

void VirtioFs::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  failed_ = false;
  queues_[0] = queues_[1] = nullptr;
  hooks_ = nullptr;
}

}  // namespace devices::virtio
