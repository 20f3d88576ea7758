#include "devices/pci/msix.h"

#include <algorithm>
#include <cstring>

namespace devices::pci {

MsixTable::MsixTable(uint16_t vectors)
    : vectors_(std::clamp<uint16_t>(vectors, 1, kMsixMaxVectors)),
      table_(table_bytes()),
      pba_((vectors_ + 63) / 64) {
  reset();
}

void MsixTable::reset() {
  std::fill(table_.begin(), table_.end(), std::byte{0});
  for (uint16_t v = 0; v < vectors_; ++v) table_[v * kMsixEntrySize + 12] = std::byte{1};
  std::fill(pba_.begin(), pba_.end(), 0);
}

void MsixTable::read_table(uint64_t offset, std::span<std::byte> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    data[i] = at >= offset && at < table_.size() ? table_[at] : std::byte{0};
  }
}

void MsixTable::write_table(uint64_t offset, std::span<const std::byte> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    if (at < offset || at >= table_.size()) continue;
    // Only bit 0 of the vector control word is defined; the rest reads 0.
    const uint64_t in_entry = at % kMsixEntrySize;
    if (in_entry == 12) {
      table_[at] = data[i] & std::byte{1};
    } else if (in_entry < 12) {
      table_[at] = data[i];
    }
  }
}

void MsixTable::read_pba(uint64_t offset, std::span<std::byte> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    data[i] = at >= offset && at / 8 < pba_.size() ? std::byte(pba_[at / 8] >> (8 * (at % 8))) : std::byte{0};
  }
}

bool MsixTable::masked(uint16_t vector) const {
  return vector >= vectors_ || (std::to_integer<uint8_t>(table_[vector * kMsixEntrySize + 12]) & 1) != 0;
}

bool MsixTable::pending(uint16_t vector) const {
  return vector < vectors_ && (pba_[vector / 64] >> (vector % 64) & 1) != 0;
}

void MsixTable::set_pending(uint16_t vector, bool pending) {
  if (vector >= vectors_) return;
  const uint64_t bit = 1ull << (vector % 64);
  pba_[vector / 64] = pending ? (pba_[vector / 64] | bit) : (pba_[vector / 64] & ~bit);
}

MsiMessage MsixTable::message(uint16_t vector) const {
  MsiMessage m;
  if (vector >= vectors_) return m;
  uint32_t lo = 0, hi = 0;
  const std::byte* e = table_.data() + vector * kMsixEntrySize;
  std::memcpy(&lo, e, 4);
  std::memcpy(&hi, e + 4, 4);
  std::memcpy(&m.data, e + 8, 4);
  m.address = uint64_t{hi} << 32 | lo;
  return m;
}

}  // namespace devices::pci
