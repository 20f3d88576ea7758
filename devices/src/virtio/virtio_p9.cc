#include "devices/virtio/virtio_p9.h"

#include <algorithm>

#include <fmt/format.h>

#include "devices/virtio/virtqueue.h"
#include "device_util.h"

namespace devices::virtio {

VirtioP9::VirtioP9(std::unique_ptr<FsServer> server, std::string tag)
    : server_(std::move(server)), tag_(std::move(tag)) {
  if (tag_.size() > kMaxTagLength) tag_.resize(kMaxTagLength);
  config_.resize(2 + tag_.size());
  config_[0] = std::byte(tag_.size() & 0xff);
  config_[1] = std::byte(tag_.size() >> 8);
  std::transform(tag_.begin(), tag_.end(), config_.begin() + 2, [](char c) { return std::byte(c); });
}

uint64_t VirtioP9::device_features() const { return kFVersion1 | kFIndirectDesc | kFEventIdx | kFMountTag; }

void VirtioP9::read_config(uint32_t offset, std::span<std::byte> data) {
  detail::read_config_bytes(config_, offset, data);
}

bool VirtioP9::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 1, why)) return false;
  queue_ = activation.queues[0];
  hooks_ = activation.hooks;
  active_ = true;
  failed_ = false;
  return true;
}

void VirtioP9::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_ || queue != 0) return;
  const bool ok = detail::serve_queue(
      *queue_, 0, *hooks_, "virtio-9p", queue_->size(), [this](const Chain& chain) -> detail::ChainOutcome {
        if (const auto written = server_->handle(chain.readable, chain.writable)) return *written;
        // No room for even an Rlerror: the driver broke the protocol, and
        // answering nothing would leave its request waiting forever.
        return std::unexpected(fmt::format("request at descriptor {} has no room for a reply", chain.head));
      });
  if (!ok) failed_ = true;
}

void VirtioP9::reset() {
  std::lock_guard lock(mutex_);
  active_ = false;
  failed_ = false;
  queue_ = nullptr;
  hooks_ = nullptr;
  // The fids outlive a reset harmlessly: the driver's first message after it
  // is Tversion, which forgets them.
}

}  // namespace devices::virtio
