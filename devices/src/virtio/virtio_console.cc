#include "devices/virtio/virtio_console.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "devices/virtio/virtqueue.h"
#include "device_util.h"

namespace devices::virtio {

VirtioConsole::VirtioConsole(Output output, size_t input_capacity)
    : output_(std::move(output)), input_capacity_(input_capacity) {}

uint64_t VirtioConsole::device_features() const { return kFVersion1 | kFIndirectDesc | kFEventIdx; }

void VirtioConsole::read_config(uint32_t /*offset*/, std::span<std::byte> data) {
  // cols, rows: 0 (no F_SIZE); max_nr_ports and emerg_wr are only meaningful
  // with MULTIPORT / EMERG_WRITE, which we do not offer.
  std::fill(data.begin(), data.end(), std::byte{0});
}

bool VirtioConsole::activate(const Activation& activation, std::string& why) {
  std::lock_guard lock(mutex_);
  if (!detail::activate_queues(activation, 2, why)) return false;
  rx_ = activation.queues[kReceiveQueue];
  tx_ = activation.queues[kTransmitQueue];
  hooks_ = activation.hooks;
  active_ = true;
  failed_ = false;
  return true;
}

void VirtioConsole::reset() {
  std::lock_guard lock(mutex_);
  // Input already taken from the host stays buffered for the next driver.
  active_ = false;
  failed_ = false;
  rx_ = tx_ = nullptr;
  hooks_ = nullptr;
}

void VirtioConsole::notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!active_ || failed_) return;
  if (queue == kReceiveQueue) deliver_input();
  if (queue == kTransmitQueue) transmit();
}

size_t VirtioConsole::enqueue_input(std::span<const std::byte> bytes) {
  std::lock_guard lock(mutex_);
  const size_t take = std::min(bytes.size(), input_capacity_ - input_.size());
  input_.insert(input_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
  if (active_ && !failed_) deliver_input();
  return take;
}

size_t VirtioConsole::input_room() const {
  std::lock_guard lock(mutex_);
  return input_capacity_ > input_.size() ? input_capacity_ - input_.size() : 0;
}

size_t VirtioConsole::pending_input() const {
  std::lock_guard lock(mutex_);
  return input_.size();
}

void VirtioConsole::fail(uint16_t queue, const std::string& error) {
  failed_ = true;
  hooks_->device_error(fmt::format("virtio-console: queue {}: {}", queue, error));
}

void VirtioConsole::deliver_input() {
  bool pushed = false;
  std::vector<std::byte> chunk;
  // Only pop when there is something to give: an idle receive buffer stays
  // with the device until input arrives.
  while (!input_.empty() && rx_->has_available()) {
    std::string error;
    auto chain = rx_->pop(error);
    if (!chain) {
      if (!error.empty()) fail(kReceiveQueue, error);
      break;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chain->writable_bytes(), input_.size()));
    chunk.assign(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
    detail::copy_to_buffers(chain->writable, 0, chunk);
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
    rx_->push_used(chain->head, static_cast<uint32_t>(n));
    pushed = true;
  }
  if (pushed && rx_->needs_interrupt()) hooks_->signal_used(kReceiveQueue);
}

void VirtioConsole::transmit() {
  bool pushed = false;
  for (;;) {
    std::string error;
    auto chain = tx_->pop(error);
    if (!chain) {
      if (!error.empty()) fail(kTransmitQueue, error);
      break;
    }
    for (const Buffer& b : chain->readable) {
      if (output_) output_(b.host);
    }
    tx_->push_used(chain->head, 0);
    pushed = true;
  }
  if (pushed && tx_->needs_interrupt()) hooks_->signal_used(kTransmitQueue);
}

}  // namespace devices::virtio
