// virtio-9p (the transport of Linux's 9p "trans=virtio"): device type 9,
// one request queue, a mount tag in config space (le16 length + bytes,
// VIRTIO_9P_MOUNT_TAG). Each chain carries one 9P message in its readable
// buffers and room for the reply in its writable ones; the 9P server behind
// the FsServer seam (shared with virtio-fs; backends::P9Server) does the
// rest, so the model stays free of host I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/virtio/fs_server.h"
#include "devices/virtio/virtio_device.h"

namespace devices::virtio {

class VirtioP9 final : public VirtioDevice {
 public:
  static constexpr uint64_t kFMountTag = 1ull << 0;
  static constexpr uint16_t kQueueSize = 128;
  // Linux refuses longer tags; the config space stays small.
  static constexpr size_t kMaxTagLength = 64;

  // `tag` is cut to kMaxTagLength bytes.
  VirtioP9(std::unique_ptr<FsServer> server, std::string tag);

  DeviceType type() const override { return DeviceType::k9p; }
  std::string_view name() const override { return "virtio-9p"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 1; }
  uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
  uint32_t config_size() const override { return static_cast<uint32_t>(config_.size()); }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void notify(uint16_t queue) override;
  void reset() override;

  const std::string& tag() const { return tag_; }

 private:
  std::unique_ptr<FsServer> server_;
  std::string tag_;
  std::vector<std::byte> config_;
  std::mutex mutex_;
  bool active_ = false;
  bool failed_ = false;
  Virtqueue* queue_ = nullptr;
  TransportHooks* hooks_ = nullptr;
};

}  // namespace devices::virtio
