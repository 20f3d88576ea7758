// The interface every device model implements, and the interrupt line it is
// handed. Accesses are sized by the span (1, 2, 4 or 8 bytes for PIO/MMIO);
// the offset is relative to the device's own register window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace devices {

// Drives one interrupt line: true = asserted. Level-triggered devices call it
// only when the level changes; an edge is a true followed by a false.
using IrqLine = std::function<void(bool level)>;

class Device {
 public:
  virtual ~Device() = default;
  // Fill `data` with the register contents at `offset`. Never fails: a
  // register the model lacks reads as the hardware would (usually all ones).
  virtual void read(uint64_t offset, std::span<std::byte> data) = 0;
  virtual void write(uint64_t offset, std::span<const std::byte> data) = 0;
};

}  // namespace devices
