// The configuration space of one PCI function with a type-0 header: 256
// bytes of conventional space plus the PCIe extended space up to 4 KiB, so
// ECAM reaches every offset it can address. Behaviour is data, not code:
// every byte has a writable mask and a write-1-to-clear mask, and a guest
// write merges through them. That alone gives BARs their sizing semantics
// (the low address bits and the type flags are read-only, so writing all
// ones reads back the size mask and the flags) and makes the IDs, class,
// header type and interrupt pin read-only.
//
// Not thread-safe: the PciDevice that owns it locks around every access.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "devices/error.h"

namespace devices::pci {

inline constexpr uint32_t kConventionalConfigSize = 256;
inline constexpr uint32_t kConfigSpaceSize = 4096;

// Header offsets (PCI Local Bus 3.0 §6.1).
inline constexpr uint32_t kVendorId = 0x00;
inline constexpr uint32_t kDeviceId = 0x02;
inline constexpr uint32_t kCommand = 0x04;
inline constexpr uint32_t kStatus = 0x06;
inline constexpr uint32_t kRevisionId = 0x08;
inline constexpr uint32_t kClassCode = 0x09;  // 3 bytes: prog-if, subclass, class
inline constexpr uint32_t kCacheLineSize = 0x0c;
inline constexpr uint32_t kHeaderType = 0x0e;
inline constexpr uint32_t kBar0 = 0x10;
inline constexpr uint32_t kSubsystemVendorId = 0x2c;
inline constexpr uint32_t kSubsystemId = 0x2e;
inline constexpr uint32_t kExpansionRom = 0x30;
inline constexpr uint32_t kCapabilitiesPointer = 0x34;
inline constexpr uint32_t kInterruptLine = 0x3c;
inline constexpr uint32_t kInterruptPin = 0x3d;

inline constexpr uint16_t kCommandIo = 1 << 0;
inline constexpr uint16_t kCommandMemory = 1 << 1;
inline constexpr uint16_t kCommandBusMaster = 1 << 2;
inline constexpr uint16_t kCommandIntxDisable = 1 << 10;

inline constexpr uint16_t kStatusIntx = 1 << 3;
inline constexpr uint16_t kStatusCapabilities = 1 << 4;
// The error bits software clears by writing 1 (parity, SERR, aborts).
inline constexpr uint16_t kStatusErrorBits = 0xf900;

inline constexpr uint8_t kCapIdMsix = 0x11;
inline constexpr uint8_t kCapIdVendor = 0x09;

inline constexpr uint32_t kNumBars = 6;

enum class BarKind : uint8_t { kIo, kMemory32, kMemory64 };

struct BarSpec {
  BarKind kind = BarKind::kMemory32;
  uint64_t size = 0;  // power of two: memory >= 16 bytes (32-bit: <= 2 GiB), IO 4..256 bytes
  bool prefetchable = false;  // memory BARs only
};

struct Identity {
  uint16_t vendor_id = 0xffff;
  uint16_t device_id = 0xffff;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
  uint8_t revision = 0;
  uint32_t class_code = 0;  // class << 16 | subclass << 8 | prog-if
};

class ConfigSpace {
 public:
  ConfigSpace();

  // Guest accesses: size 1, 2 or 4 at any offset (little-endian, unaligned
  // allowed). An access that does not fit in the space, or another size,
  // reads all ones and writes nothing.
  uint32_t read(uint32_t offset, uint32_t size) const;
  void write(uint32_t offset, uint32_t size, uint32_t value);

  // Device side: raw bytes, ignoring the masks. Out-of-range is ignored / 0.
  uint8_t get8(uint32_t offset) const;
  uint16_t get16(uint32_t offset) const;
  uint32_t get32(uint32_t offset) const;
  void set8(uint32_t offset, uint8_t value);
  void set16(uint32_t offset, uint16_t value);
  void set32(uint32_t offset, uint32_t value);
  // Which bits of [offset, offset+size) the guest may write / clear with a 1.
  void set_writable(uint32_t offset, uint32_t size, uint32_t mask);
  void set_write_one_to_clear(uint32_t offset, uint32_t size, uint32_t mask);

  void set_identity(const Identity& id);
  // INTA..INTD = 1..4; 0 means no INTx.
  void set_interrupt_pin(uint8_t pin);
  uint8_t interrupt_pin() const { return get8(kInterruptPin); }

  // Declares a BAR (a 64-bit one also takes index+1). Invalid sizes, kinds,
  // indices or overlap with a declared BAR are errors.
  Result<void> set_bar(uint32_t index, const BarSpec& spec);
  // The declared BAR at index (nullopt for none, and for the upper half of a 64-bit BAR).
  std::optional<BarSpec> bar(uint32_t index) const;
  // The address the guest (or firmware) programmed, flag bits stripped.
  uint64_t bar_address(uint32_t index) const;
  // Firmware-style assignment; the address is masked to the BAR's alignment.
  void set_bar_address(uint32_t index, uint64_t address);

  // Appends a capability of `length` bytes (id and next pointer included)
  // to the list in the conventional space, 4-byte aligned from 0x40, and
  // returns its offset. The body is zero and read-only until the device
  // fills it in and opens bits with set_writable. Fails when it does not fit.
  Result<uint8_t> add_capability(uint8_t id, uint8_t length);

  uint16_t command() const { return get16(kCommand); }
  uint16_t status() const { return get16(kStatus); }
  void set_status_bits(uint16_t bits, bool on);

 private:
  std::array<uint8_t, kConfigSpaceSize> data_{};
  std::array<uint8_t, kConfigSpaceSize> writable_{};
  std::array<uint8_t, kConfigSpaceSize> w1c_{};
  std::array<std::optional<BarSpec>, kNumBars> bars_{};
  std::array<bool, kNumBars> upper_half_{};
  uint32_t next_cap_ = 0x40;
  uint32_t last_cap_ = 0;
};

}  // namespace devices::pci
