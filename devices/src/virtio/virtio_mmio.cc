#include "devices/virtio/virtio_mmio.h"

#include <cstring>

#include <fmt/format.h>

namespace devices::virtio {

namespace {

uint64_t set_low(uint64_t v, uint32_t low) { return (v & ~0xffff'ffffull) | low; }
uint64_t set_high(uint64_t v, uint32_t high) { return (v & 0xffff'ffffull) | (uint64_t{high} << 32); }

}  // namespace

VirtioMmio::VirtioMmio(VirtioDevice& device, loader::GuestMemory& memory, IrqLine irq, Logger logger)
    : device_(device),
      memory_(memory),
      irq_(std::move(irq)),
      logger_(std::move(logger)),
      device_features_(device.device_features()) {
  queues_.reserve(device.num_queues());
  for (uint16_t i = 0; i < device.num_queues(); ++i) queues_.emplace_back(device.max_queue_size(i));
}

void VirtioMmio::read(uint64_t offset, std::span<std::byte> data) {
  if (offset >= kConfig) {
    // The device's config space takes any size; it zero-fills past its end.
    const uint64_t rel = offset - kConfig;
    if (rel < kWindowSize - kConfig && data.size() <= kWindowSize - offset) {
      device_.read_config(static_cast<uint32_t>(rel), data);
      return;
    }
    std::memset(data.data(), 0, data.size());
    return;
  }
  uint32_t value = 0;
  if (data.size() == 4 && offset % 4 == 0) value = read_register(offset);
  if (data.size() == 4) {
    std::memcpy(data.data(), &value, 4);
  } else {
    std::memset(data.data(), 0, data.size());
  }
}

void VirtioMmio::write(uint64_t offset, std::span<const std::byte> data) {
  if (offset >= kConfig) {
    const uint64_t rel = offset - kConfig;
    if (rel < kWindowSize - kConfig && data.size() <= kWindowSize - offset) {
      device_.write_config(static_cast<uint32_t>(rel), data);
    }
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value = 0;
  std::memcpy(&value, data.data(), 4);
  if (offset == kStatus) {
    write_status(value);
    return;
  }
  if (offset == kQueueNotify) {
    if (value >= queues_.size()) return;
    if (notify_dispatch_) {
      notify_dispatch_(static_cast<uint16_t>(value));
    } else {
      notify_queue(static_cast<uint16_t>(value));
    }
    return;
  }
  write_register(offset, value);
}

uint32_t VirtioMmio::read_register(uint64_t offset) {
  std::lock_guard lock(mutex_);
  Virtqueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  switch (offset) {
    case kMagicValue:
      return kMagic;
    case kVersionReg:
      return kVersion;
    case kDeviceId:
      return static_cast<uint32_t>(device_.type());
    case kVendorIdReg:
      return kVendorId;
    case kDeviceFeatures:
      if (device_features_sel_ == 0) return static_cast<uint32_t>(device_features_);
      if (device_features_sel_ == 1) return static_cast<uint32_t>(device_features_ >> 32);
      return 0;
    case kQueueNumMax:
      return q ? q->max_size() : 0;
    case kQueueReady:
      return q && q->ready() ? 1 : 0;
    case kInterruptStatus:
      return interrupt_status_;
    case kStatus:
      return status_;
    case kShmLenLow:
    case kShmLenHigh:
    case kShmBaseLow:
    case kShmBaseHigh:
      return 0xffff'ffff;  // no shared memory regions: length -1 (§4.2.2)
    case kConfigGeneration:
      return config_generation_;
    default:
      return 0;  // write-only and reserved registers
  }
}

void VirtioMmio::write_register(uint64_t offset, uint32_t value) {
  std::lock_guard lock(mutex_);
  switch (offset) {
    case kDeviceFeaturesSel:
      device_features_sel_ = value;
      return;
    case kDriverFeaturesSel:
      driver_features_sel_ = value;
      return;
    case kDriverFeatures:
      // Frozen once FEATURES_OK is set: what was checked is what stays.
      if (status_ & kStatusFeaturesOk) return;
      if (driver_features_sel_ == 0) driver_features_ = set_low(driver_features_, value);
      if (driver_features_sel_ == 1) driver_features_ = set_high(driver_features_, value);
      return;
    case kQueueSel:
      queue_sel_ = value;
      return;
    case kInterruptAck:
      interrupt_status_ &= ~value;
      update_irq();
      return;
    default:
      break;
  }
  // Queue registers: only before DRIVER_OK, and (but for QueueReady) only
  // while the queue is disabled, so the device never sees a ring move under it.
  if (queue_sel_ >= queues_.size() || (status_ & kStatusDriverOk)) return;
  Virtqueue& q = queues_[queue_sel_];
  if (offset == kQueueReady) {
    q.set_ready(value == 1);
    return;
  }
  if (q.ready()) return;
  switch (offset) {
    case kQueueNum:
      q.set_size(static_cast<uint16_t>(value > 0xffff ? 0 : value));  // validated at activation
      return;
    case kQueueDescLow:
      q.set_desc_addr(set_low(q.desc_addr(), value));
      return;
    case kQueueDescHigh:
      q.set_desc_addr(set_high(q.desc_addr(), value));
      return;
    case kQueueDriverLow:
      q.set_avail_addr(set_low(q.avail_addr(), value));
      return;
    case kQueueDriverHigh:
      q.set_avail_addr(set_high(q.avail_addr(), value));
      return;
    case kQueueDeviceLow:
      q.set_used_addr(set_low(q.used_addr(), value));
      return;
    case kQueueDeviceHigh:
      q.set_used_addr(set_high(q.used_addr(), value));
      return;
    default:
      return;
  }
}

void VirtioMmio::write_status(uint32_t value) {
  std::lock_guard control(control_mutex_);
  if (value == 0) {
    reset();
    return;
  }
  Activation activation;
  {
    std::lock_guard lock(mutex_);
    const uint32_t old = status_;
    // Only a reset clears bits: a driver cannot un-set DRIVER_OK to activate twice.
    uint32_t next = old | (value & 0xff & ~kStatusNeedsReset);
    if ((next & kStatusFeaturesOk) && !(old & kStatusFeaturesOk)) {
      const bool version_1 = (driver_features_ & kFVersion1) != 0;
      const uint64_t extra = driver_features_ & ~device_features_;
      if (!version_1 || extra != 0) {
        next &= ~kStatusFeaturesOk;
        // Once per device: a guest retrying in a loop must not grow the host's log.
        if (!refusal_logged_) {
          refusal_logged_ = true;
          log(fmt::format("virtio-mmio {}: FEATURES_OK refused: driver features {:#x} ({}) (later refusals are not "
                          "logged)",
                          device_.name(), driver_features_,
                          !version_1 ? "VERSION_1 not accepted" : "not offered by the device"));
        }
      }
    }
    bool activate = false;
    if ((next & kStatusDriverOk) && !(old & kStatusDriverOk)) {
      if (!(next & kStatusFeaturesOk) || (old & kStatusNeedsReset)) {
        next &= ~kStatusDriverOk;
      } else {
        activate = true;
      }
    }
    status_ = next;
    if (!activate) return;
    activation.memory = &memory_;
    activation.features = driver_features_;
    activation.hooks = this;
    for (Virtqueue& q : queues_) activation.queues.push_back(q.ready() ? &q : nullptr);
  }
  std::string why;
  if (!device_.activate(activation, why)) device_error(fmt::format("activation refused: {}", why));
}

void VirtioMmio::reset() {
  // The device first: it returns only once no request touches the queues.
  device_.reset();
  std::lock_guard lock(mutex_);
  status_ = 0;
  device_features_sel_ = driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  for (Virtqueue& q : queues_) q.reset();
  interrupt_status_ = 0;
  update_irq();
}

void VirtioMmio::notify_queue(uint16_t queue) {
  {
    std::lock_guard lock(mutex_);
    if (!(status_ & kStatusDriverOk) || (status_ & kStatusNeedsReset) || queue >= queues_.size()) return;
  }
  // No register lock here: the device may signal back from inside notify.
  std::lock_guard notify_lock(notify_mutex_);
  device_.notify(queue);
}

void VirtioMmio::signal_used(uint16_t /*queue*/) {
  std::lock_guard lock(mutex_);
  raise(kInterruptUsedBuffer);
}

void VirtioMmio::signal_config() {
  std::lock_guard lock(mutex_);
  ++config_generation_;
  raise(kInterruptConfigChange);
}

void VirtioMmio::device_error(std::string_view why) {
  std::lock_guard lock(mutex_);
  status_ |= kStatusNeedsReset;
  if (!error_logged_) {
    error_logged_ = true;
    log(fmt::format("virtio-mmio {}: device needs reset: {} (later errors of this device are not logged)",
                   device_.name(), why));
  }
  raise(kInterruptConfigChange);
}

void VirtioMmio::raise(uint32_t bits) {
  interrupt_status_ |= bits;
  update_irq();
}

void VirtioMmio::update_irq() {
  const bool level = interrupt_status_ != 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_(level);
}

void VirtioMmio::log(std::string_view message) {
  if (logger_) logger_(message);
}

uint32_t VirtioMmio::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

uint32_t VirtioMmio::interrupt_status() const {
  std::lock_guard lock(mutex_);
  return interrupt_status_;
}

uint64_t VirtioMmio::driver_features() const {
  std::lock_guard lock(mutex_);
  return driver_features_;
}

}  // namespace devices::virtio
