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
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    data[i] = at < config_.size() ? config_[at] : std::byte{0};
  }
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
  bool pushed = false;
  for (uint32_t budget = q->size(); budget > 0; --budget) {
    std::string error;
    auto chain = q->pop(error);
    if (!chain) {
      if (!error.empty()) {
        failed_ = true;
        hooks_->device_error(fmt::format("virtio-fs: queue {}: {}", queue, error));
      }
      break;
    }
    auto written = server_->handle(chain->readable, chain->writable);
    if (!written) {
      failed_ = true;
      hooks_->device_error(fmt::format("virtio-fs: queue {}: request chain has no room for a reply header", queue));
      break;
    }
    q->push_used(chain->head, *written);
    pushed = true;
  }
  if (pushed && q->needs_interrupt()) hooks_->signal_used(queue);
}

void VirtioFs::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  failed_ = false;
  queues_[0] = queues_[1] = nullptr;
  hooks_ = nullptr;
}

}  // namespace devices::virtio
