// virtio-fs (virtio 1.2 §5.11): FUSE requests over virtqueues. Queue 0 is
// the high-priority queue (FORGET, INTERRUPT), queue 1 the one request
// queue. Each chain is one request: the device hands its readable buffers
// and writable buffers to an FsServer and pushes what it wrote. The config
// space is the mount tag (36 bytes, NUL-padded) and num_request_queues.
//
// Work per notify is bounded by one ring's worth of chains. A chain whose
// request needs a reply but whose writable part cannot hold a FUSE out
// header is a broken driver: device_error, and the device stops.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "devices/virtio/fs_server.h"
#include "devices/virtio/virtio_device.h"

namespace devices::virtio {

class VirtioFs final : public VirtioDevice {
 public:
  static constexpr size_t kTagSize = 36;
  static constexpr uint16_t kHiprioQueue = 0;
  static constexpr uint16_t kRequestQueue = 1;

  // `tag` must be 1..36 bytes (the caller validates user input; a longer one
  // is cut). The server is shared so the VMM can keep it past a reset.
  VirtioFs(std::string tag, std::shared_ptr<FsServer> server);

  DeviceType type() const override { return DeviceType::kFs; }
  std::string_view name() const override { return "virtio-fs"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 2; }
  uint32_t config_size() const override { return kTagSize + 4; }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void notify(uint16_t queue) override;
  void reset() override;
  const std::string& tag() const { return tag_; }

 private:
  std::string tag_;
  std::array<std::byte, kTagSize + 4> config_{};
  std::shared_ptr<FsServer> server_;
  std::mutex mutex_;
  bool active_ = false;
  bool failed_ = false;
  Virtqueue* queues_[2] = {nullptr, nullptr};
  TransportHooks* hooks_ = nullptr;
};

}  // namespace devices::virtio
