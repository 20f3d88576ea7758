#include "devices/virtio/virtio_pci.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace devices::virtio {

namespace {

using pci::BarKind;
using pci::BarSpec;

// struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3). The 64-bit queue
// addresses are handled as two 32-bit halves, the way drivers write them.
enum Field : uint32_t {
  kDeviceFeatureSelect = 0x00,
  kDeviceFeature = 0x04,
  kDriverFeatureSelect = 0x08,
  kDriverFeature = 0x0c,
  kConfigMsixVector = 0x10,
  kNumQueues = 0x12,
  kDeviceStatus = 0x14,
  kConfigGeneration = 0x15,
  kQueueSelect = 0x16,
  kQueueSize = 0x18,
  kQueueMsixVector = 0x1a,
  kQueueEnable = 0x1c,
  kQueueNotifyOff = 0x1e,
  kQueueDescLo = 0x20,
  kQueueDescHi = 0x24,
  kQueueDriverLo = 0x28,
  kQueueDriverHi = 0x2c,
  kQueueDeviceLo = 0x30,
  kQueueDeviceHi = 0x34,
  kQueueNotifyData = 0x38,
  kQueueReset = 0x3a,
};

struct FieldLayout {
  uint32_t offset;
  uint32_t size;
};

constexpr std::array kFields{
    FieldLayout{kDeviceFeatureSelect, 4}, FieldLayout{kDeviceFeature, 4}, FieldLayout{kDriverFeatureSelect, 4},
    FieldLayout{kDriverFeature, 4},       FieldLayout{kConfigMsixVector, 2}, FieldLayout{kNumQueues, 2},
    FieldLayout{kDeviceStatus, 1},        FieldLayout{kConfigGeneration, 1}, FieldLayout{kQueueSelect, 2},
    FieldLayout{kQueueSize, 2},           FieldLayout{kQueueMsixVector, 2}, FieldLayout{kQueueEnable, 2},
    FieldLayout{kQueueNotifyOff, 2},      FieldLayout{kQueueDescLo, 4},     FieldLayout{kQueueDescHi, 4},
    FieldLayout{kQueueDriverLo, 4},       FieldLayout{kQueueDriverHi, 4},   FieldLayout{kQueueDeviceLo, 4},
    FieldLayout{kQueueDeviceHi, 4},       FieldLayout{kQueueNotifyData, 2}, FieldLayout{kQueueReset, 2},
};

using CommonImage = std::array<uint8_t, VirtioPci::kCommonCfgSize>;

void put(CommonImage& image, uint32_t offset, uint32_t size, uint64_t value) {
  for (uint32_t i = 0; i < size; ++i) image[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t get(const CommonImage& image, uint32_t offset, uint32_t size) {
  uint32_t v = 0;
  for (uint32_t i = 0; i < size; ++i) v |= uint32_t{image[offset + i]} << (8 * i);
  return v;
}

uint64_t set_half(uint64_t old, bool high, uint32_t value) {
  return high ? (old & 0xffffffffull) | uint64_t{value} << 32 : (old & ~0xffffffffull) | value;
}

uint32_t class_code(DeviceType type) {
  switch (type) {
    case DeviceType::kNet: return 0x020000;      // network controller
    case DeviceType::kBlock: return 0x010000;    // mass storage
    case DeviceType::kConsole: return 0x078000;  // communication, other
    default: return 0xff0000;                    // unclassified
  }
}

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

}  // namespace

Result<std::shared_ptr<VirtioPci>> VirtioPci::create(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory,
                                                     Logger log) {
  if (!device) return fail(ErrorCode::kInvalidArgument, "virtio-pci: null device");
  if (device->num_queues() == 0 || device->num_queues() > kMaxQueues) {
    return fail(ErrorCode::kInvalidArgument, "virtio-pci: {} has {} queues (1..{})", device->name(),
                device->num_queues(), kMaxQueues);
  }
  if (device->config_size() > kRegionSize) {
    return fail(ErrorCode::kInvalidArgument, "virtio-pci: {} config space of {} bytes exceeds {}", device->name(),
                device->config_size(), kRegionSize);
  }
  std::shared_ptr<VirtioPci> transport(new VirtioPci(std::move(device), memory, std::move(log)));
  if (auto r = transport->init(); !r) return std::unexpected(r.error());
  return transport;
}

VirtioPci::VirtioPci(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory, Logger log)
    : device_(std::move(device)), memory_(memory), log_(std::move(log)) {}

Result<void> VirtioPci::init() {
  // A modern device is VERSION_1 by definition; a model that forgot to say so still is one.
  offered_ = device_->device_features() | kFVersion1;
  num_queues_ = device_->num_queues();
  num_vectors_ = static_cast<uint16_t>(num_queues_ + 1);
  config_size_ = device_->config_size();
  const pci::MsixTable sizing(num_vectors_);
  pba_offset_ = kMsixTableOffset + round_up(sizing.table_bytes(), kRegionSize);
  bar_size_ = std::bit_ceil(pba_offset_ + round_up(sizing.pba_bytes(), kRegionSize));

  for (uint16_t q = 0; q < num_queues_; ++q) {
    const uint16_t max = std::clamp<uint16_t>(device_->max_queue_size(q), 1, Virtqueue::kMaxSize);
    QueueState state;
    state.queue = std::make_unique<Virtqueue>(max);
    state.queue->set_size(max);
    queues_.push_back(std::move(state));
  }

  if (auto r = declare_bar(kBar, BarSpec{BarKind::kMemory64, bar_size_, true}); !r) return r;
  {
    std::lock_guard lock(mutex_);
    pci::Identity id;
    id.vendor_id = kVendorId;
    id.device_id = static_cast<uint16_t>(kDeviceIdBase + static_cast<uint32_t>(device_->type()));
    id.subsystem_vendor_id = kVendorId;
    id.subsystem_id = kSubsystemId;
    id.revision = 1;  // modern-only devices have revision >= 1
    id.class_code = class_code(device_->type());
    config_.set_identity(id);
    config_.set_interrupt_pin(1);

    struct Cap {
      uint8_t type;
      uint64_t offset;
      uint32_t length;
    };
    std::vector<Cap> caps{{kPciCapCommonCfg, kCommonOffset, kCommonCfgSize},
                          {kPciCapNotifyCfg, kNotifyOffset, uint32_t{num_queues_} * kNotifyOffMultiplier},
                          {kPciCapIsrCfg, kIsrOffset, 1}};
    if (config_size_ > 0) caps.push_back({kPciCapDeviceCfg, kDeviceConfigOffset, config_size_});
    for (const Cap& c : caps) {
      const bool notify = c.type == kPciCapNotifyCfg;
      const uint8_t length = notify ? 20 : 16;
      auto at = config_.add_capability(pci::kCapIdVendor, length);
      if (!at) return std::unexpected(at.error());
      config_.set8(*at + 2, length);
      config_.set8(*at + 3, c.type);
      config_.set8(*at + 4, kBar);
      config_.set32(*at + 8, static_cast<uint32_t>(c.offset));
      config_.set32(*at + 12, c.length);
      if (notify) config_.set32(*at + 16, kNotifyOffMultiplier);
    }
  }
  return add_msix(num_vectors_, kBar, kMsixTableOffset, static_cast<uint32_t>(pba_offset_));
}

std::string_view VirtioPci::name() const { return device_->name(); }

void VirtioPci::bar_read(uint32_t bar, uint64_t offset, std::span<std::byte> data) {
  if (bar != kBar) return (void)std::memset(data.data(), 0xff, data.size());
  std::memset(data.data(), 0, data.size());
  if (offset >= kDeviceConfigOffset && offset - kDeviceConfigOffset < kRegionSize) {
    // The device locks its own config; holding ours here would order the
    // two mutexes against a device that signals with its own held.
    device_->read_config(static_cast<uint32_t>(offset - kDeviceConfigOffset), data);
    return;
  }
  std::lock_guard lock(mutex_);
  if (msix_read_locked(bar, offset, data)) return;
  if (offset < kCommonOffset + kRegionSize) {
    common_read_locked(offset - kCommonOffset, data);
  } else if (offset == kIsrOffset && !data.empty()) {
    data[0] = std::byte{read_isr_locked()};
  }
}

void VirtioPci::bar_write(uint32_t bar, uint64_t offset, std::span<const std::byte> data) {
  if (bar != kBar) return;
  if (offset >= kDeviceConfigOffset && offset - kDeviceConfigOffset < kRegionSize) {
    device_->write_config(static_cast<uint32_t>(offset - kDeviceConfigOffset), data);
    return;
  }
  if (offset >= kNotifyOffset && offset - kNotifyOffset < kRegionSize) {
    // The address names the queue; the value (the queue index) adds nothing.
    const uint64_t slot = (offset - kNotifyOffset) / kNotifyOffMultiplier;
    if (slot >= num_queues_) return;
    if (notify_dispatch_) {
      notify_dispatch_(static_cast<uint16_t>(slot));
    } else {
      notify(static_cast<uint16_t>(slot));
    }
    return;
  }
  Action action = Action::kNone;
  {
    std::lock_guard lock(mutex_);
    if (msix_write_locked(bar, offset, data)) return;
    if (offset < kCommonOffset + kRegionSize) action = common_write_locked(offset - kCommonOffset, data);
  }
  run(action);
}

VirtioPci::QueueState* VirtioPci::selected_locked() {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}

const VirtioPci::QueueState* VirtioPci::selected_locked() const {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}

void VirtioPci::common_read_locked(uint64_t offset, std::span<std::byte> data) const {
  CommonImage image{};
  put(image, kDeviceFeatureSelect, 4, device_feature_select_);
  put(image, kDeviceFeature, 4, device_feature_select_ < 2 ? offered_ >> (32 * device_feature_select_) : 0);
  put(image, kDriverFeatureSelect, 4, driver_feature_select_);
  put(image, kDriverFeature, 4, driver_feature_select_ < 2 ? driver_features_ >> (32 * driver_feature_select_) : 0);
  put(image, kConfigMsixVector, 2, config_vector_);
  put(image, kNumQueues, 2, num_queues_);
  put(image, kDeviceStatus, 1, status_);
  put(image, kConfigGeneration, 1, config_generation_);
  put(image, kQueueSelect, 2, queue_select_);
  // A queue that does not exist reads size 0: that is how drivers count queues.
  if (const QueueState* q = selected_locked()) {
    put(image, kQueueSize, 2, q->queue->size());
    put(image, kQueueMsixVector, 2, q->msix_vector);
    put(image, kQueueEnable, 2, q->queue->ready() ? 1 : 0);
    put(image, kQueueNotifyOff, 2, queue_select_);
    put(image, kQueueDescLo, 8, q->queue->desc_addr());
    put(image, kQueueDriverLo, 8, q->queue->avail_addr());
    put(image, kQueueDeviceLo, 8, q->queue->used_addr());
  } else {
    put(image, kQueueMsixVector, 2, kMsiNoVector);
  }
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i < image.size()) data[i] = std::byte{image[offset + i]};
  }
}

VirtioPci::Action VirtioPci::common_write_locked(uint64_t offset, std::span<const std::byte> data) {
  if (offset >= kCommonCfgSize) return Action::kNone;
  // Merge the written bytes over the current image, then apply every field
  // the write touched with its merged value: any size or alignment a driver
  // (or a fuzzer) uses lands on whole fields.
  CommonImage image{};
  common_read_locked(0, std::as_writable_bytes(std::span(image)));
  const uint64_t end = std::min<uint64_t>(offset + data.size(), kCommonCfgSize);
  for (uint64_t i = offset; i < end; ++i) image[i] = std::to_integer<uint8_t>(data[i - offset]);
  Action action = Action::kNone;
  for (const FieldLayout& f : kFields) {
    if (f.offset + f.size <= offset || f.offset >= end) continue;
    const Action a = write_field_locked(f.offset, get(image, f.offset, f.size));
    if (a != Action::kNone) action = a;
  }
  return action;
}

VirtioPci::Action VirtioPci::write_field_locked(uint32_t field, uint32_t value) {
  QueueState* q = selected_locked();
  // The driver sets a queue up before enabling it and the device owns it
  // from then on: later writes to its layout are ignored.
  const bool queue_writable = q && !q->queue->ready() && !(status_ & kStatusDriverOk);
  switch (field) {
    case kDeviceFeatureSelect: device_feature_select_ = value; break;
    case kDriverFeatureSelect: driver_feature_select_ = value; break;
    case kDriverFeature:
      if (driver_feature_select_ < 2 && !(status_ & kStatusFeaturesOk)) {
        driver_features_ = set_half(driver_features_, driver_feature_select_ == 1, value);
      }
      break;
    case kConfigMsixVector:
      config_vector_ = value < num_vectors_ ? static_cast<uint16_t>(value) : kMsiNoVector;
      break;
    case kDeviceStatus: return write_status_locked(static_cast<uint8_t>(value));
    case kQueueSelect: queue_select_ = static_cast<uint16_t>(value); break;
    case kQueueSize:
      // Split rings need a power of two no bigger than the device's maximum.
      if (queue_writable && std::has_single_bit(value) && value <= q->queue->max_size()) {
        q->queue->set_size(static_cast<uint16_t>(value));
      }
      break;
    case kQueueMsixVector:
      if (q) q->msix_vector = value < num_vectors_ ? static_cast<uint16_t>(value) : kMsiNoVector;
      break;
    case kQueueEnable:
      if (queue_writable && value == 1) q->queue->set_ready(true);
      break;
    case kQueueDescLo:
    case kQueueDescHi:
      if (queue_writable) q->queue->set_desc_addr(set_half(q->queue->desc_addr(), field == kQueueDescHi, value));
      break;
    case kQueueDriverLo:
    case kQueueDriverHi:
      if (queue_writable) q->queue->set_avail_addr(set_half(q->queue->avail_addr(), field == kQueueDriverHi, value));
      break;
    case kQueueDeviceLo:
    case kQueueDeviceHi:
      if (queue_writable) q->queue->set_used_addr(set_half(q->queue->used_addr(), field == kQueueDeviceHi, value));
      break;
    default: break;  // read-only, or queue_reset (VIRTIO_F_RING_RESET is never offered)
  }
  return Action::kNone;
}

VirtioPci::Action VirtioPci::write_status_locked(uint8_t value) {
  if (value == 0) return Action::kReset;
  // Drivers only ever add bits (§2.1.2); NEEDS_RESET stays until the reset.
  const uint8_t old = status_;
  uint8_t next = static_cast<uint8_t>(old | (value & ~kStatusNeedsReset));
  if ((next & kStatusFeaturesOk) && !(old & kStatusFeaturesOk)) {
    const bool subset = (driver_features_ & ~offered_) == 0;
    if (!subset || !(driver_features_ & kFVersion1)) next &= static_cast<uint8_t>(~kStatusFeaturesOk);
  }
  Action action = Action::kNone;
  if ((next & kStatusDriverOk) && !(old & kStatusDriverOk)) {
    if (next & kStatusFeaturesOk) {
      action = Action::kActivate;
    } else {
      next &= static_cast<uint8_t>(~kStatusDriverOk);
    }
  }
  status_ = next;
  return action;
}

void VirtioPci::reset_registers_locked() {
  device_feature_select_ = 0;
  driver_feature_select_ = 0;
  driver_features_ = 0;
  config_vector_ = kMsiNoVector;
  status_ = 0;
  queue_select_ = 0;
  for (QueueState& q : queues_) {
    q.queue->reset();
    // Set explicitly what the driver must find after a reset, whatever
    // Virtqueue::reset leaves in the transport-side fields.
    q.queue->set_size(q.queue->max_size());
    q.queue->set_ready(false);
    q.queue->set_desc_addr(0);
    q.queue->set_avail_addr(0);
    q.queue->set_used_addr(0);
    q.msix_vector = kMsiNoVector;
  }
  isr_ = 0;
  set_intx_locked(false);
}

void VirtioPci::run(Action action) {
  if (action == Action::kNone) return;
  std::lock_guard lifecycle(lifecycle_mutex_);
  if (action == Action::kReset) {
    {
      std::lock_guard serial(notify_mutex_);
      active_ = false;
      device_->reset();
    }
    std::lock_guard lock(mutex_);
    reset_registers_locked();
    return;
  }
  Activation activation;
  {
    std::lock_guard lock(mutex_);
    // Another vCPU may have reset the device since the status write.
    if (!(status_ & kStatusDriverOk) || (status_ & kStatusNeedsReset) || active_) return;
    activation.memory = &memory_;
    activation.features = driver_features_;
    activation.hooks = this;
    for (QueueState& q : queues_) activation.queues.push_back(q.queue->ready() ? q.queue.get() : nullptr);
  }
  std::string why;
  if (device_->activate(activation, why)) {
    active_ = true;
  } else {
    device_error(fmt::format("activation failed: {}", why));
  }
}

void VirtioPci::notify(uint16_t queue) {
  {
    std::lock_guard lock(mutex_);
    if (!(status_ & kStatusDriverOk) || (status_ & kStatusNeedsReset)) return;
  }
  std::lock_guard serial(notify_mutex_);
  if (active_) device_->notify(queue);
}

uint8_t VirtioPci::read_isr_locked() {
  const uint8_t value = isr_;
  isr_ = 0;
  set_intx_locked(false);
  return value;
}

void VirtioPci::raise_locked(uint8_t isr_bit, uint16_t vector) {
  // With MSI-X on, NO_VECTOR means the driver wants no interrupt at all (§4.1.5.1.2).
  if (msix_enabled_locked()) {
    if (vector != kMsiNoVector) msix_signal_locked(vector);
    return;
  }
  isr_ |= isr_bit;
  set_intx_locked(true);
}

void VirtioPci::signal_used(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!(status_ & kStatusDriverOk) || queue >= num_queues_) return;
  raise_locked(1, queues_[queue].msix_vector);
}

void VirtioPci::signal_config() {
  std::lock_guard lock(mutex_);
  ++config_generation_;
  if (status_ & kStatusDriverOk) raise_locked(2, config_vector_);
}

void VirtioPci::device_error(std::string_view why) {
  bool log_it = false;
  {
    std::lock_guard lock(mutex_);
    const bool first = !(status_ & kStatusNeedsReset);
    status_ |= kStatusNeedsReset;
    if (first && (status_ & kStatusDriverOk)) raise_locked(2, config_vector_);
    log_it = !error_logged_;
    error_logged_ = true;
  }
  if (log_it && log_) {
    log_(fmt::format("{}: device needs reset: {} (later errors of this device are not logged)", device_->name(), why));
  }
}

std::optional<uint64_t> VirtioPci::notify_address(uint16_t queue) const {
  if (queue >= num_queues_) return std::nullopt;
  const pci::BarMapping m = bar_mapping(kBar);
  if (!m.decoding) return std::nullopt;
  return m.address + kNotifyOffset + uint64_t{queue} * kNotifyOffMultiplier;
}

uint8_t VirtioPci::device_status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

uint8_t VirtioPci::isr_peek() const {
  std::lock_guard lock(mutex_);
  return isr_;
}

uint64_t VirtioPci::driver_features() const {
  std::lock_guard lock(mutex_);
  return driver_features_;
}

}  // namespace devices::virtio
