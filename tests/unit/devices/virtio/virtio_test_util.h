// Shared by the virtio device tests: guest memory, a recording TransportHooks
// and a driver that sets up every queue of a device and activates it.
#pragma once

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"
#include "support/virtio_driver.h"

namespace devices::virtio::test_util {

inline loader::GuestMemory make_guest_memory(uint64_t size = 0x200000) {
  std::array specs{loader::RegionSpec{loader::GuestAddress(0), size}};
  auto m = loader::GuestMemory::create(specs);
  if (!m) std::abort();
  return std::move(*m);
}

struct RecordingHooks : TransportHooks {
  void signal_used(uint16_t queue) override { used.push_back(queue); }
  void signal_config() override { ++config; }
  void device_error(std::string_view why) override { errors.emplace_back(why); }
  std::vector<uint16_t> used;
  int config = 0;
  std::vector<std::string> errors;
};

// Queue i's rings live at 0x10000 * (i + 1); data buffers go from 0x100000 up.
class DeviceHarness {
 public:
  static constexpr uint16_t kQueueSize = 16;
  static constexpr uint64_t kData = 0x100000;

  explicit DeviceHarness(uint16_t queues, uint16_t size = kQueueSize) : mem(make_guest_memory()) {
    for (uint16_t i = 0; i < queues; ++i) {
      const uint64_t base = 0x10000ull * (i + 1);
      drivers.emplace_back(mem, size, base, base + 0x1000, base + 0x2000);
      vqs.push_back(std::make_unique<Virtqueue>(256));
      Virtqueue& q = *vqs.back();
      q.set_size(size);
      q.set_desc_addr(base);
      q.set_avail_addr(base + 0x1000);
      q.set_used_addr(base + 0x2000);
      q.set_ready(true);
    }
  }

  bool activate(VirtioDevice& device, std::string& why, uint64_t features = kFVersion1 | kFIndirectDesc) {
    Activation a;
    a.memory = &mem;
    a.features = features;
    a.hooks = &hooks;
    for (auto& q : vqs) a.queues.push_back(q.get());
    return device.activate(a, why);
  }

  loader::GuestMemory mem;
  std::vector<test_support::DriverQueue> drivers;
  std::vector<std::unique_ptr<Virtqueue>> vqs;
  RecordingHooks hooks;
};

}  // namespace devices::virtio::test_util
