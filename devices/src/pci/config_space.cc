#include "devices/pci/config_space.h"

#include <bit>

namespace devices::pci {

namespace {

bool fits(uint32_t offset, uint32_t size) {
  return (size == 1 || size == 2 || size == 4) && offset < kConfigSpaceSize && size <= kConfigSpaceSize - offset;
}

uint32_t bar_offset(uint32_t index) { return kBar0 + 4 * index; }

}  // namespace

ConfigSpace::ConfigSpace() {
  // Everything not named here is read-only: the IDs, class, header type
  // (type 0, single function), the capability pointer and the pin.
  set_writable(kCommand, 2, kCommandIo | kCommandMemory | kCommandBusMaster | kCommandIntxDisable);
  set_write_one_to_clear(kStatus, 2, kStatusErrorBits);
  set_writable(kCacheLineSize, 1, 0xff);
  set_writable(kInterruptLine, 1, 0xff);
  set_identity(Identity{});
}

uint32_t ConfigSpace::read(uint32_t offset, uint32_t size) const {
  if (!fits(offset, size)) return 0xffffffffu;
  uint32_t value = 0;
  for (uint32_t i = 0; i < size; ++i) value |= uint32_t{data_[offset + i]} << (8 * i);
  return value;
}

void ConfigSpace::write(uint32_t offset, uint32_t size, uint32_t value) {
  if (!fits(offset, size)) return;
  for (uint32_t i = 0; i < size; ++i) {
    const uint8_t v = static_cast<uint8_t>(value >> (8 * i));
    uint8_t& b = data_[offset + i];
    b = static_cast<uint8_t>((b & ~writable_[offset + i]) | (v & writable_[offset + i]));
    b = static_cast<uint8_t>(b & ~(v & w1c_[offset + i]));
  }
}

uint8_t ConfigSpace::get8(uint32_t offset) const { return offset < kConfigSpaceSize ? data_[offset] : 0; }
uint16_t ConfigSpace::get16(uint32_t offset) const {
  return static_cast<uint16_t>(get8(offset) | get8(offset + 1) << 8);
}
uint32_t ConfigSpace::get32(uint32_t offset) const {
  return uint32_t{get16(offset)} | uint32_t{get16(offset + 2)} << 16;
}
void ConfigSpace::set8(uint32_t offset, uint8_t value) {
  if (offset < kConfigSpaceSize) data_[offset] = value;
}
void ConfigSpace::set16(uint32_t offset, uint16_t value) {
  set8(offset, static_cast<uint8_t>(value));
  set8(offset + 1, static_cast<uint8_t>(value >> 8));
}
void ConfigSpace::set32(uint32_t offset, uint32_t value) {
  set16(offset, static_cast<uint16_t>(value));
  set16(offset + 2, static_cast<uint16_t>(value >> 16));
}

void ConfigSpace::set_writable(uint32_t offset, uint32_t size, uint32_t mask) {
  for (uint32_t i = 0; i < size && offset + i < kConfigSpaceSize; ++i) {
    writable_[offset + i] = static_cast<uint8_t>(mask >> (8 * i));
  }
}

void ConfigSpace::set_write_one_to_clear(uint32_t offset, uint32_t size, uint32_t mask) {
  for (uint32_t i = 0; i < size && offset + i < kConfigSpaceSize; ++i) {
    w1c_[offset + i] = static_cast<uint8_t>(mask >> (8 * i));
  }
}

void ConfigSpace::set_identity(const Identity& id) {
  set16(kVendorId, id.vendor_id);
  set16(kDeviceId, id.device_id);
  set16(kSubsystemVendorId, id.subsystem_vendor_id);
  set16(kSubsystemId, id.subsystem_id);
  set8(kRevisionId, id.revision);
  set8(kClassCode, static_cast<uint8_t>(id.class_code));
  set8(kClassCode + 1, static_cast<uint8_t>(id.class_code >> 8));
  set8(kClassCode + 2, static_cast<uint8_t>(id.class_code >> 16));
}

void ConfigSpace::set_interrupt_pin(uint8_t pin) { set8(kInterruptPin, pin <= 4 ? pin : 0); }

Result<void> ConfigSpace::set_bar(uint32_t index, const BarSpec& spec) {
  const bool wide = spec.kind == BarKind::kMemory64;
  if (index >= kNumBars || (wide && index + 1 >= kNumBars)) {
    return fail(ErrorCode::kInvalidArgument, "pci: BAR {} does not exist{}", index, wide ? " for a 64-bit BAR" : "");
  }
  for (uint32_t i = index; i <= index + (wide ? 1 : 0); ++i) {
    if (bars_[i] || upper_half_[i]) return fail(ErrorCode::kOverlap, "pci: BAR {} is already declared", i);
  }
  if (!std::has_single_bit(spec.size)) {
    return fail(ErrorCode::kInvalidArgument, "pci: BAR {} size {:#x} is not a power of two", index, spec.size);
  }
  const bool io = spec.kind == BarKind::kIo;
  if (io && (spec.size < 4 || spec.size > 256 || spec.prefetchable)) {
    return fail(ErrorCode::kInvalidArgument, "pci: IO BAR {} size {:#x} outside 4..256 or prefetchable", index,
                spec.size);
  }
  if (!io && (spec.size < 16 || (!wide && spec.size > (1ull << 31)) || spec.size > (1ull << 63))) {
    return fail(ErrorCode::kInvalidArgument, "pci: memory BAR {} size {:#x} out of range", index, spec.size);
  }
  bars_[index] = spec;
  const uint64_t mask = ~(spec.size - 1);
  const uint32_t offset = bar_offset(index);
  if (io) {
    set32(offset, 0x1);
    set_writable(offset, 4, static_cast<uint32_t>(mask) & ~0x3u);
    return {};
  }
  set32(offset, (wide ? 0x4u : 0x0u) | (spec.prefetchable ? 0x8u : 0x0u));
  set_writable(offset, 4, static_cast<uint32_t>(mask) & ~0xfu);
  if (wide) {
    upper_half_[index + 1] = true;
    set32(offset + 4, 0);
    set_writable(offset + 4, 4, static_cast<uint32_t>(mask >> 32));
  }
  return {};
}

std::optional<BarSpec> ConfigSpace::bar(uint32_t index) const {
  return index < kNumBars ? bars_[index] : std::nullopt;
}

uint64_t ConfigSpace::bar_address(uint32_t index) const {
  const auto spec = bar(index);
  if (!spec) return 0;
  const uint32_t offset = bar_offset(index);
  switch (spec->kind) {
    case BarKind::kIo: return get32(offset) & ~0x3u;
    case BarKind::kMemory32: return get32(offset) & ~0xfu;
    case BarKind::kMemory64: return (get32(offset) & ~0xfull) | uint64_t{get32(offset + 4)} << 32;
  }
  return 0;
}

void ConfigSpace::set_bar_address(uint32_t index, uint64_t address) {
  const auto spec = bar(index);
  if (!spec) return;
  const uint32_t offset = bar_offset(index);
  const uint64_t aligned = address & ~(spec->size - 1);
  const uint32_t flags = get32(offset) & (spec->kind == BarKind::kIo ? 0x3u : 0xfu);
  set32(offset, static_cast<uint32_t>(aligned) | flags);
  if (spec->kind == BarKind::kMemory64) set32(offset + 4, static_cast<uint32_t>(aligned >> 32));
}

Result<uint8_t> ConfigSpace::add_capability(uint8_t id, uint8_t length) {
  const uint32_t offset = next_cap_;
  if (length < 2 || offset + length > kConventionalConfigSize) {
    return fail(ErrorCode::kInvalidArgument, "pci: capability {:#x} of {} bytes does not fit at {:#x}", id, length,
                offset);
  }
  set8(offset, id);
  set8(offset + 1, 0);
  if (last_cap_ == 0) {
    set8(kCapabilitiesPointer, static_cast<uint8_t>(offset));
    set_status_bits(kStatusCapabilities, true);
  } else {
    set8(last_cap_ + 1, static_cast<uint8_t>(offset));
  }
  last_cap_ = offset;
  next_cap_ = (offset + length + 3) & ~3u;
  return static_cast<uint8_t>(offset);
}

void ConfigSpace::set_status_bits(uint16_t bits, bool on) {
  const uint16_t s = status();
  set16(kStatus, on ? (s | bits) : (s & ~bits));
}

}  // namespace devices::pci
