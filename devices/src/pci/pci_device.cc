#include "devices/pci/pci_device.h"

#include <cstring>

namespace devices::pci {

PciDevice::PciDevice() {
  for (auto& base : decode_base_) base.store(kNotDecoding, std::memory_order_relaxed);
}

uint32_t PciDevice::config_read(uint32_t offset, uint32_t size) {
  std::lock_guard lock(mutex_);
  return config_.read(offset, size);
}

void PciDevice::config_write(uint32_t offset, uint32_t size, uint32_t value) {
  std::vector<BarMapping> changed;
  {
    std::lock_guard lock(mutex_);
    config_.write(offset, size, value);
    // INTx-disable may have flipped; an unmasked function may owe messages.
    update_intx_line_locked();
    deliver_pending_locked();
    changed = refresh_decode_locked();
    on_config_write_locked(offset, size);
  }
  notify_observer(changed);
}

void PciDevice::connect_intx(IrqLine line) {
  std::lock_guard lock(mutex_);
  intx_ = std::move(line);
  intx_line_level_ = false;
  update_intx_line_locked();
}

void PciDevice::set_msi_sink(MsiSink sink) {
  std::lock_guard lock(mutex_);
  msi_sink_ = std::move(sink);
}

void PciDevice::set_requester_id(uint16_t requester_id) {
  std::lock_guard lock(mutex_);
  requester_id_ = requester_id;
}

uint16_t PciDevice::requester_id() const {
  std::lock_guard lock(mutex_);
  return requester_id_;
}

void PciDevice::set_bar_observer(BarObserver observer) {
  std::lock_guard lock(observer_mutex_);
  observer_ = std::move(observer);
}

uint8_t PciDevice::interrupt_pin() const {
  std::lock_guard lock(mutex_);
  return config_.interrupt_pin();
}

std::optional<BarSpec> PciDevice::bar_spec(uint32_t index) const {
  std::lock_guard lock(mutex_);
  return config_.bar(index);
}

BarMapping PciDevice::bar_mapping(uint32_t index) const {
  std::lock_guard lock(mutex_);
  return mapping_locked(index);
}

void PciDevice::assign_bar(uint32_t index, uint64_t address) {
  std::vector<BarMapping> changed;
  {
    std::lock_guard lock(mutex_);
    const auto spec = config_.bar(index);
    if (!spec) return;
    config_.set_bar_address(index, address);
    const uint16_t enable = spec->kind == BarKind::kIo ? kCommandIo : kCommandMemory;
    config_.set16(kCommand, config_.command() | enable);
    changed = refresh_decode_locked();
  }
  notify_observer(changed);
}

std::optional<BarHit> PciDevice::decode(AddressSpace space, uint64_t address, uint64_t len) const {
  for (uint32_t i = 0; i < kNumBars; ++i) {
    if (bar_size_[i] == 0 || bar_space_[i] != space) continue;
    const uint64_t base = decode_base_[i].load(std::memory_order_acquire);
    if (base == kNotDecoding || address < base) continue;
    const uint64_t offset = address - base;
    if (offset < bar_size_[i] && len <= bar_size_[i] - offset) return BarHit{i, offset};
  }
  return std::nullopt;
}

bool PciDevice::intx_level() const {
  std::lock_guard lock(mutex_);
  return intx_line_level_;
}

Result<void> PciDevice::declare_bar(uint32_t index, const BarSpec& spec) {
  std::lock_guard lock(mutex_);
  if (auto r = config_.set_bar(index, spec); !r) return r;
  bar_size_[index] = spec.size;
  bar_space_[index] = spec.kind == BarKind::kIo ? AddressSpace::kIo : AddressSpace::kMemory;
  return {};
}

Result<void> PciDevice::add_msix(uint16_t vectors, uint32_t bar, uint32_t table_offset, uint32_t pba_offset) {
  std::lock_guard lock(mutex_);
  if (msix_) return fail(ErrorCode::kInvalidArgument, "pci: MSI-X declared twice");
  if (vectors == 0 || vectors > kMsixMaxVectors) {
    return fail(ErrorCode::kInvalidArgument, "pci: {} MSI-X vectors (1..{})", vectors, kMsixMaxVectors);
  }
  const auto spec = config_.bar(bar);
  if (!spec || spec->kind == BarKind::kIo) {
    return fail(ErrorCode::kInvalidArgument, "pci: MSI-X needs a memory BAR, BAR {} is not one", bar);
  }
  MsixTable table(vectors);
  const uint64_t table_end = uint64_t{table_offset} + table.table_bytes();
  const uint64_t pba_end = uint64_t{pba_offset} + table.pba_bytes();
  if (table_offset % 8 || pba_offset % 8 || table_end > spec->size || pba_end > spec->size ||
      (table_offset < pba_end && pba_offset < table_end)) {
    return fail(ErrorCode::kInvalidArgument, "pci: MSI-X table {:#x} / PBA {:#x} misplaced in BAR {} of {:#x} bytes",
                table_offset, pba_offset, bar, spec->size);
  }
  auto cap = config_.add_capability(kCapIdMsix, 12);
  if (!cap) return std::unexpected(cap.error());
  msix_cap_ = *cap;
  config_.set16(msix_cap_ + 2, static_cast<uint16_t>(vectors - 1));
  config_.set_writable(msix_cap_ + 2, 2, kMsixEnable | kMsixFunctionMask);
  config_.set32(msix_cap_ + 4, table_offset | bar);
  config_.set32(msix_cap_ + 8, pba_offset | bar);
  msix_.emplace(std::move(table));
  msix_bar_ = bar;
  msix_table_offset_ = table_offset;
  msix_pba_offset_ = pba_offset;
  return {};
}

void PciDevice::set_intx_locked(bool asserted) {
  intx_asserted_ = asserted;
  config_.set_status_bits(kStatusIntx, asserted);
  update_intx_line_locked();
}

void PciDevice::update_intx_line_locked() {
  const bool level = intx_asserted_ && !(config_.command() & kCommandIntxDisable);
  if (level == intx_line_level_) return;
  intx_line_level_ = level;
  if (intx_) intx_(level);
}

bool PciDevice::msix_enabled_locked() const {
  return msix_ && (config_.get16(msix_cap_ + 2) & kMsixEnable) != 0;
}

void PciDevice::msix_signal_locked(uint16_t vector) {
  if (!msix_enabled_locked() || vector >= msix_->vectors()) return;
  const bool function_masked = (config_.get16(msix_cap_ + 2) & kMsixFunctionMask) != 0;
  if (function_masked || msix_->masked(vector)) {
    msix_->set_pending(vector, true);
    return;
  }
  send_msi_locked(vector);
}

void PciDevice::send_msi_locked(uint16_t vector) {
  if (msi_sink_) msi_sink_(Msi{msix_->message(vector), vector, requester_id_});
}

void PciDevice::deliver_pending_locked() {
  if (!msix_enabled_locked() || (config_.get16(msix_cap_ + 2) & kMsixFunctionMask)) return;
  for (uint16_t v = 0; v < msix_->vectors(); ++v) {
    if (!msix_->pending(v) || msix_->masked(v)) continue;
    msix_->set_pending(v, false);
    send_msi_locked(v);
  }
}

bool PciDevice::msix_read_locked(uint32_t bar, uint64_t offset, std::span<std::byte> data) const {
  if (!msix_ || bar != msix_bar_) return false;
  if (offset >= msix_table_offset_ && offset - msix_table_offset_ < msix_->table_bytes()) {
    msix_->read_table(offset - msix_table_offset_, data);
    return true;
  }
  if (offset >= msix_pba_offset_ && offset - msix_pba_offset_ < msix_->pba_bytes()) {
    msix_->read_pba(offset - msix_pba_offset_, data);
    return true;
  }
  return false;
}

bool PciDevice::msix_write_locked(uint32_t bar, uint64_t offset, std::span<const std::byte> data) {
  if (!msix_ || bar != msix_bar_) return false;
  if (offset >= msix_table_offset_ && offset - msix_table_offset_ < msix_->table_bytes()) {
    msix_->write_table(offset - msix_table_offset_, data);
    // Unmasking a vector with its pending bit set sends the message now.
    deliver_pending_locked();
    return true;
  }
  // The PBA ignores writes but they are still its accesses.
  return offset >= msix_pba_offset_ && offset - msix_pba_offset_ < msix_->pba_bytes();
}

void PciDevice::msix_reset_locked() {
  if (msix_) msix_->reset();
}

BarMapping PciDevice::mapping_locked(uint32_t index) const {
  BarMapping m;
  m.index = index;
  const auto spec = config_.bar(index);
  if (!spec) return m;
  m.kind = spec->kind;
  m.size = spec->size;
  m.address = config_.bar_address(index);
  const uint16_t enable = spec->kind == BarKind::kIo ? kCommandIo : kCommandMemory;
  m.decoding = (config_.command() & enable) != 0;
  return m;
}

std::vector<BarMapping> PciDevice::refresh_decode_locked() {
  std::vector<BarMapping> changed;
  for (uint32_t i = 0; i < kNumBars; ++i) {
    if (bar_size_[i] == 0) continue;
    const BarMapping m = mapping_locked(i);
    const uint64_t base = m.decoding ? m.address : kNotDecoding;
    if (decode_base_[i].exchange(base, std::memory_order_acq_rel) != base) changed.push_back(m);
  }
  return changed;
}

void PciDevice::notify_observer(const std::vector<BarMapping>& changed) {
  if (changed.empty()) return;
  std::lock_guard lock(observer_mutex_);
  if (!observer_) return;
  for (const auto& m : changed) observer_(m);
}

}  // namespace devices::pci
