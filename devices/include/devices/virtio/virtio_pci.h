// The modern (non-transitional) virtio-pci transport, virtio 1.2 §4.1: a
// PciDevice (1af4:1040+type, revision 1) whose BAR 4 (64-bit,
// prefetchable) holds
//
//   0x0000  common configuration (struct virtio_pci_common_cfg)
//   0x1000  ISR status (read clears: bit 0 queue, bit 1 config)
//   0x2000  device-specific configuration (VirtioDevice::read/write_config)
//   0x3000  notifications: queue q at 0x3000 + 4*q (notify_off = q, multiplier 4)
//   0x4000  MSI-X table (num_queues + 1 vectors), then the PBA on the next page
//
// described by vendor capabilities (cfg_type 1..4) and an MSI-X capability.
//
// Interrupts: with MSI-X enabled, the queue's / config vector (nothing when
// it is VIRTIO_MSI_NO_VECTOR); otherwise the ISR bit and INTx, which is
// level: asserted while ISR != 0, deasserted when the driver reads ISR.
//
// Threading: register accesses come from vCPU threads, TransportHooks calls
// from the device's I/O threads. One mutex (PciDevice::mutex_) guards the
// registers; it is never held while calling into the VirtioDevice (notify,
// activate, reset, config access), so a device may call the hooks from
// inside those. Status writes (activate / reset) are serialised by a second
// mutex, and notify() never runs concurrently with reset().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/error.h"
#include "devices/pci/pci_device.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"
#include "loader/guest_memory.h"

namespace devices::virtio {

// One log line, e.g. why a device needs a reset.
using Logger = std::function<void(std::string_view line)>;

inline constexpr uint16_t kMsiNoVector = 0xffff;

// Vendor capability cfg_type values (virtio 1.2 §4.1.4).
inline constexpr uint8_t kPciCapCommonCfg = 1;
inline constexpr uint8_t kPciCapNotifyCfg = 2;
inline constexpr uint8_t kPciCapIsrCfg = 3;
inline constexpr uint8_t kPciCapDeviceCfg = 4;
inline constexpr uint8_t kPciCapPciCfg = 5;

class VirtioPci final : public pci::PciDevice, public TransportHooks {
 public:
  static constexpr uint16_t kVendorId = 0x1af4;
  static constexpr uint16_t kDeviceIdBase = 0x1040;
  static constexpr uint16_t kSubsystemId = 0x1100;
  static constexpr uint32_t kBar = 4;
  static constexpr uint64_t kCommonOffset = 0x0000;
  static constexpr uint64_t kIsrOffset = 0x1000;
  static constexpr uint64_t kDeviceConfigOffset = 0x2000;
  static constexpr uint64_t kNotifyOffset = 0x3000;
  static constexpr uint64_t kMsixTableOffset = 0x4000;
  static constexpr uint64_t kRegionSize = 0x1000;
  static constexpr uint32_t kNotifyOffMultiplier = 4;
  static constexpr uint32_t kCommonCfgSize = 0x3c;
  static constexpr uint16_t kMaxQueues = kRegionSize / kNotifyOffMultiplier;

  // Fails for a device with no queues or more than kMaxQueues, or whose
  // configuration space does not fit its region.
  static Result<std::shared_ptr<VirtioPci>> create(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory,
                                                   Logger log = {});

  std::string_view name() const override;
  void bar_read(uint32_t bar, uint64_t offset, std::span<std::byte> data) override;
  void bar_write(uint32_t bar, uint64_t offset, std::span<const std::byte> data) override;

  void signal_used(uint16_t queue) override;
  void signal_config() override;
  void device_error(std::string_view why) override;

  // Guest physical address of queue's notification register while BAR 4
  // decodes (register an ioeventfd there; the bar observer says when it
  // moves); nullopt otherwise or for a queue that does not exist.
  std::optional<uint64_t> notify_address(uint16_t queue) const;
  uint16_t num_queues() const { return num_queues_; }

  // The driver notified `queue`: runs the device's notify (on the caller's
  // thread, an I/O thread). Ignored unless the device is live.
  void notify_queue(uint16_t queue) { notify(queue); }
  // Where a notification that reached the VMM as a register write (no
  // ioeventfd matched it) goes; unset, the device runs on the writing vCPU
  // thread. Set before any vCPU runs.
  void set_notify_dispatch(std::function<void(uint16_t queue)> dispatch) { notify_dispatch_ = std::move(dispatch); }
  uint64_t bar_size() const { return bar_size_; }

  uint8_t device_status() const;
  // ISR without the read side effect (for tests and dumps).
  uint8_t isr_peek() const;
  uint64_t driver_features() const;
  VirtioDevice& device() const { return *device_; }

 private:
  struct QueueState {
    std::unique_ptr<Virtqueue> queue;
    uint16_t msix_vector = kMsiNoVector;
  };
  enum class Action { kNone, kReset, kActivate };

  VirtioPci(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory, Logger log);
  Result<void> init();

  void common_read_locked(uint64_t offset, std::span<std::byte> data) const;
  Action common_write_locked(uint64_t offset, std::span<const std::byte> data);
  Action write_field_locked(uint32_t field, uint32_t value);
  Action write_status_locked(uint8_t value);
  void reset_registers_locked();
  uint8_t read_isr_locked();
  void raise_locked(uint8_t isr_bit, uint16_t vector);
  void run(Action action);
  void notify(uint16_t queue);
  QueueState* selected_locked();
  const QueueState* selected_locked() const;

  std::shared_ptr<VirtioDevice> device_;
  loader::GuestMemory& memory_;
  Logger log_;
  uint64_t offered_ = 0;
  uint16_t num_queues_ = 0;
  uint16_t num_vectors_ = 0;
  uint64_t bar_size_ = 0;
  uint64_t pba_offset_ = 0;
  uint32_t config_size_ = 0;

  // Guarded by mutex_.
  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;
  uint16_t config_vector_ = kMsiNoVector;
  uint8_t status_ = 0;
  // Once per device, not per reset: a guest that breaks the device, resets
  // it and breaks it again in a loop must not grow the host's log.
  bool error_logged_ = false;
  uint8_t config_generation_ = 0;
  uint16_t queue_select_ = 0;
  uint8_t isr_ = 0;
  std::vector<QueueState> queues_;

  // Serialises status transitions (activate/reset) without holding mutex_.
  std::mutex lifecycle_mutex_;
  // Held around device_->notify and device_->reset so they never overlap.
  std::mutex notify_mutex_;
  std::atomic<bool> active_{false};
  std::function<void(uint16_t)> notify_dispatch_;
};

}  // namespace devices::virtio
