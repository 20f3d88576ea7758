// The MSI-X table and pending-bit array of one function (PCI Local Bus 3.0
// §6.8.2). Entries are 16 bytes: message address (low, high), data, vector
// control (bit 0 = masked). The enable and function-mask bits live in the
// capability's message control word in config space; PciDevice ties the two
// together. Not thread-safe: PciDevice locks around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace devices::pci {

inline constexpr uint32_t kMsixEntrySize = 16;
inline constexpr uint16_t kMsixMaxVectors = 2048;
// Message control bits.
inline constexpr uint16_t kMsixEnable = 1 << 15;
inline constexpr uint16_t kMsixFunctionMask = 1 << 14;

struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
};

class MsixTable {
 public:
  // 1..2048 vectors; every vector starts masked, as after reset.
  explicit MsixTable(uint16_t vectors);

  uint16_t vectors() const { return vectors_; }
  uint32_t table_bytes() const { return uint32_t{vectors_} * kMsixEntrySize; }
  uint32_t pba_bytes() const { return (uint32_t{vectors_} + 63) / 64 * 8; }

  // Offsets relative to the table / the PBA. Any size; bytes outside read 0.
  void read_table(uint64_t offset, std::span<std::byte> data) const;
  void write_table(uint64_t offset, std::span<const std::byte> data);
  // The PBA is read-only to software.
  void read_pba(uint64_t offset, std::span<std::byte> data) const;

  bool masked(uint16_t vector) const;
  bool pending(uint16_t vector) const;
  void set_pending(uint16_t vector, bool pending);
  MsiMessage message(uint16_t vector) const;
  // Back to the reset state: all masked, nothing pending, zero messages.
  void reset();

 private:
  uint16_t vectors_;
  std::vector<std::byte> table_;
  std::vector<uint64_t> pba_;
};

}  // namespace devices::pci
