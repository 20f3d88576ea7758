// virtio-rng (virtio 1.2 §5.4): one request queue; the driver posts
// device-writable buffers and the device fills them from an entropy source.
//
// Work per notify is bounded: at most one ring's worth of chains and
// kMaxBytesPerChain bytes each (the driver learns from used.len how much it
// got), so a guest cannot make one notify generate unbounded entropy.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/virtio_device.h"

namespace devices::virtio {

class VirtioRng final : public VirtioDevice {
 public:
  // Fills as much of the span as it can; returns the number of bytes filled.
  using EntropySource = std::function<size_t(std::span<std::byte>)>;
  static constexpr uint32_t kMaxBytesPerChain = 64 * 1024;

  // An empty source means getrandom(2) without blocking.
  explicit VirtioRng(EntropySource source = {});
  static size_t getrandom_source(std::span<std::byte> out);

  DeviceType type() const override { return DeviceType::kEntropy; }
  std::string_view name() const override { return "virtio-rng"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 1; }
  uint32_t config_size() const override { return 0; }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void notify(uint16_t queue) override;
  void reset() override;

 private:
  EntropySource source_;
  std::mutex mutex_;
  bool active_ = false;
  bool failed_ = false;
  Virtqueue* queue_ = nullptr;
  TransportHooks* hooks_ = nullptr;
};

}  // namespace devices::virtio
