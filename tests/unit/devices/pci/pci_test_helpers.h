// Shared by the pci and virtio-pci tests: a configurable PciDevice that
// records its BAR accesses, and guest-side accessors that go through the
// host bridge's ECAM / BAR window devices the way a vCPU exit would.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "devices/pci/host_bridge.h"
#include "devices/pci/pci_device.h"

namespace devices::pci::testing {

struct BarAccess {
  uint32_t bar;
  uint64_t offset;
  size_t size;
  bool write;
  uint64_t value;
};

class TestDevice final : public PciDevice {
 public:
  explicit TestDevice(uint16_t device_id = 0x0001, uint8_t pin = 1) {
    Identity id;
    id.vendor_id = 0x1234;
    id.device_id = device_id;
    id.class_code = 0xff0000;
    std::lock_guard lock(mutex_);
    config_.set_identity(id);
    config_.set_interrupt_pin(pin);
  }
  Result<void> bar(uint32_t index, BarSpec spec) { return declare_bar(index, spec); }
  Result<void> msix(uint16_t vectors, uint32_t bar, uint32_t table, uint32_t pba) {
    return add_msix(vectors, bar, table, pba);
  }
  void raise_intx(bool level) {
    std::lock_guard lock(mutex_);
    set_intx_locked(level);
  }
  void raise_msix(uint16_t vector) {
    std::lock_guard lock(mutex_);
    msix_signal_locked(vector);
  }

  std::string_view name() const override { return "test-device"; }
  void bar_read(uint32_t bar, uint64_t offset, std::span<std::byte> data) override {
    std::lock_guard lock(mutex_);
    if (msix_read_locked(bar, offset, data)) return;
    // Reads return a recognisable pattern: bar in the top byte, the offset below.
    const uint64_t v = uint64_t{bar} << 56 | offset;
    std::memcpy(data.data(), &v, std::min(data.size(), sizeof v));
    accesses.push_back({bar, offset, data.size(), false, v});
  }
  void bar_write(uint32_t bar, uint64_t offset, std::span<const std::byte> data) override {
    std::lock_guard lock(mutex_);
    if (msix_write_locked(bar, offset, data)) return;
    uint64_t v = 0;
    std::memcpy(&v, data.data(), std::min(data.size(), sizeof v));
    accesses.push_back({bar, offset, data.size(), true, v});
  }

  std::vector<BarAccess> accesses;
};

inline uint64_t ecam_offset(uint8_t dev, uint32_t reg) { return uint64_t{dev} << 15 | reg; }

// Guest-side accesses through a devices::Device (little-endian, 1..8 bytes).
inline uint64_t dev_read(Device& d, uint64_t offset, size_t size) {
  std::byte buf[8]{};
  d.read(offset, std::span(buf, size));
  uint64_t v = 0;
  std::memcpy(&v, buf, size);
  return v;
}

inline void dev_write(Device& d, uint64_t offset, size_t size, uint64_t value) {
  std::byte buf[8]{};
  std::memcpy(buf, &value, size);
  d.write(offset, std::span<const std::byte>(buf, size));
}

inline uint32_t ecam_read(PciHostBridge& bridge, uint8_t dev, uint32_t reg, size_t size = 4) {
  return static_cast<uint32_t>(dev_read(*bridge.ecam(), ecam_offset(dev, reg), size));
}

inline void ecam_write(PciHostBridge& bridge, uint8_t dev, uint32_t reg, size_t size, uint32_t value) {
  dev_write(*bridge.ecam(), ecam_offset(dev, reg), size, value);
}

inline BridgeWindows test_windows() {
  BridgeWindows w;
  w.mmio32 = {0xc000'0000, 0x1000'0000};
  w.mmio64 = {0x80'0000'0000, 0x10'0000'0000};
  w.io = {0xc000, 0x4000};
  return w;
}

}  // namespace devices::pci::testing
