// The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), over one
// VirtioDevice: a 0x200-byte register window with the device's configuration
// space at 0x100.
//
// Registers are 32-bit and 4-byte aligned; other accesses below 0x100 read 0
// and are ignored. Configuration space takes any access size.
//
// Feature negotiation: FEATURES_OK is refused (it reads back clear) unless the
// driver accepted VERSION_1 and nothing the device did not offer. DRIVER_OK
// activates the device with the queues the driver made ready; a refused
// activation, like any TransportHooks::device_error, sets
// DEVICE_NEEDS_RESET and raises the configuration-change interrupt. Writing 0
// to Status resets the device and every queue.
//
// The interrupt is level-triggered: the line is high while InterruptStatus
// is non-zero and drops when the driver acknowledges the last bit.
//
// Thread safety: registers are accessed from vCPU threads, signal_* and
// device_error come from the device on an I/O thread. One mutex guards the
// register state; it is never held while calling into the device, so the
// device may call the hooks from inside notify, activate or reset. The VMM
// puts an ioeventfd on QueueNotify and calls notify_queue from an I/O
// thread; a write that still reaches the register goes to the notify
// dispatch (or, without one, runs the device on the vCPU thread). Either
// way notify is serialised so the device never runs it twice at once.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include "devices/device.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

class VirtioMmio final : public Device, public TransportHooks {
 public:
  using Logger = std::function<void(std::string_view)>;

  static constexpr uint64_t kWindowSize = 0x200;
  static constexpr uint32_t kMagic = 0x74726976;     // "virt"
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kVendorId = 0x4d4d564d;  // "MVMM"
  static constexpr uint32_t kInterruptUsedBuffer = 1;
  static constexpr uint32_t kInterruptConfigChange = 2;

  // Register offsets (§4.2.2).
  enum : uint64_t {
    kMagicValue = 0x000,
    kVersionReg = 0x004,
    kDeviceId = 0x008,
    kVendorIdReg = 0x00c,
    kDeviceFeatures = 0x010,
    kDeviceFeaturesSel = 0x014,
    kDriverFeatures = 0x020,
    kDriverFeaturesSel = 0x024,
    kQueueSel = 0x030,
    kQueueNumMax = 0x034,
    kQueueNum = 0x038,
    kQueueReady = 0x044,
    kQueueNotify = 0x050,
    kInterruptStatus = 0x060,
    kInterruptAck = 0x064,
    kStatus = 0x070,
    kQueueDescLow = 0x080,
    kQueueDescHigh = 0x084,
    kQueueDriverLow = 0x090,
    kQueueDriverHigh = 0x094,
    kQueueDeviceLow = 0x0a0,
    kQueueDeviceHigh = 0x0a4,
    kShmSel = 0x0ac,
    kShmLenLow = 0x0b0,
    kShmLenHigh = 0x0b4,
    kShmBaseLow = 0x0b8,
    kShmBaseHigh = 0x0bc,
    kConfigGeneration = 0x0fc,
    kConfig = 0x100,
  };

  VirtioMmio(VirtioDevice& device, loader::GuestMemory& memory, IrqLine irq, Logger logger = {});

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  void signal_used(uint16_t queue) override;
  void signal_config() override;
  void device_error(std::string_view why) override;

  VirtioDevice& device() { return device_; }
  uint16_t num_queues() const { return static_cast<uint16_t>(queues_.size()); }

  // The driver notified `queue`: runs the device's notify (on the caller's
  // thread, an I/O thread). Ignored unless the device is live.
  void notify_queue(uint16_t queue);
  // Where a QueueNotify write that reached the VMM (no ioeventfd matched it)
  // goes; unset, the device runs on the writing vCPU thread. Set before any
  // vCPU runs.
  void set_notify_dispatch(std::function<void(uint16_t queue)> dispatch) { notify_dispatch_ = std::move(dispatch); }
  uint32_t status() const;
  uint32_t interrupt_status() const;
  uint64_t driver_features() const;

 private:
  uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  void write_status(uint32_t value);
  void reset();
  void raise(uint32_t bits);  // mutex_ held
  void update_irq();          // mutex_ held
  void log(std::string_view message);

  VirtioDevice& device_;
  loader::GuestMemory& memory_;
  IrqLine irq_;
  Logger logger_;
  const uint64_t device_features_;

  // Serialises status changes (activate/reset) and QueueNotify calls into the
  // device; taken before mutex_, never while the device calls us.
  std::mutex control_mutex_;
  std::mutex notify_mutex_;
  mutable std::mutex mutex_;
  std::vector<Virtqueue> queues_;
  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  bool irq_level_ = false;
  // Once per device, not per reset: a guest that breaks the device, resets
  // it and breaks it again in a loop must not grow the host's log.
  bool error_logged_ = false;
  bool refusal_logged_ = false;  // FEATURES_OK refused: also once per device
  std::function<void(uint16_t)> notify_dispatch_;
};

}  // namespace devices::virtio
