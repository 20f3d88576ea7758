// A PCIe host bridge with one bus (bus 0) of up to 32 single-function
// devices. Device 0 is the bridge itself (1b36:0008, class 0x060000, like
// QEMU's generic "gpex" host, so guests bind no driver to it).
//
// Three guest-facing devices::Device objects, which the VMM registers on its
// buses:
//   ecam()        MMIO, 1 MiB: offset = dev << 15 | fn << 12 | reg (bus 0 only)
//   cf8()         PIO, 8 bytes at 0xCF8: configuration mechanism #1 (x86)
//   mmio_window() MMIO over the BAR windows; register it with
//   io_window()   PIO over the IO window; register both with device_offset =
//                 the range base, so they see guest physical addresses.
// The last two route each access to the BAR that currently decodes it (the
// guest may move BARs and turn decoding off); unclaimed reads are all ones.
//
// BARs are pre-assigned when a device is added, firmware-style: naturally
// aligned, biggest first, 64-bit prefetchable BARs in the 64-bit window
// (the 32-bit window when there is none or it is full), all other memory
// BARs in the 32-bit window, IO BARs in the IO window; decoding is enabled.
//
// INTx: device d's pin p (1 = INTA) drives line (d + p - 1) % 4. The four
// lines are wire-ORed here (several devices share one) and handed to the
// VMM as four IrqLines it maps to IOAPIC pins, GIC SPIs or PLIC sources.
//
// Devices are added before the vCPUs start and never removed, so lookups
// take no lock.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/pci/pci_device.h"

namespace devices::pci {

inline constexpr uint32_t kMaxDevices = 32;
inline constexpr uint32_t kNumIntxLines = 4;
inline constexpr uint64_t kEcamBusSize = 1ull << 20;
inline constexpr uint64_t kCf8Base = 0xcf8;
inline constexpr uint64_t kCf8Size = 8;
inline constexpr uint64_t kCf8LatchSize = 4;  // 0xCF8..0xCFB; the data port follows

struct Window {
  uint64_t base = 0;
  uint64_t size = 0;
};

struct BridgeWindows {
  Window mmio32;  // below 4 GiB, non-prefetchable
  Window mmio64;  // optional (size 0): for 64-bit prefetchable BARs
  Window io;      // optional (size 0): for IO BARs
};

// One legacy interrupt route: what a DT interrupt-map entry or an ACPI _PRT
// package says.
struct IntxRoute {
  uint8_t device = 0;
  uint8_t function = 0;
  uint8_t pin = 1;   // 1 = INTA .. 4 = INTD (DT interrupt-map uses this numbering)
  uint8_t line = 0;  // 0..3: which of the bridge's four lines
  uint32_t devfn() const { return uint32_t{device} << 3 | function; }
  // DT: the phys.hi cell of the child unit address (bus 0).
  uint32_t dt_phys_hi() const { return devfn() << 8; }
};

// One ACPI _PRT package: Package { address, pin, 0, gsi-of-line }.
struct PrtEntry {
  uint32_t address = 0;  // device << 16 | 0xffff (any function)
  uint8_t pin = 0;       // 0 = INTA .. 3 = INTD (_PRT numbering)
  uint8_t line = 0;
};

class PciHostBridge {
 public:
  static constexpr uint16_t kVendorId = 0x1b36;
  static constexpr uint16_t kDeviceId = 0x0008;
  static constexpr uint32_t kClassCode = 0x060000;

  // `lines` may hold empty functions when the platform wires no INTx.
  explicit PciHostBridge(const BridgeWindows& windows, std::array<IrqLine, kNumIntxLines> lines = {});
  PciHostBridge(const PciHostBridge&) = delete;
  PciHostBridge& operator=(const PciHostBridge&) = delete;

  // Puts `device` in the first free slot (or `slot`), connects its INTx pin
  // and MSI sink and assigns its BARs. Returns the device number. Fails for
  // a taken or invalid slot, a full bus, or BARs that do not fit the windows.
  Result<uint8_t> add_device(std::shared_ptr<PciDevice> device, std::optional<uint8_t> slot = std::nullopt);
  // The sink for every device's MSI-X messages (now and added later).
  void set_msi_sink(MsiSink sink);

  std::shared_ptr<PciDevice> device(uint8_t slot) const;
  const BridgeWindows& windows() const { return windows_; }

  // Config space of bus 0 by (device, function, register); absent: all ones.
  uint32_t config_read(uint8_t device, uint8_t function, uint32_t reg, uint32_t size);
  void config_write(uint8_t device, uint8_t function, uint32_t reg, uint32_t size, uint32_t value);

  std::shared_ptr<Device> ecam() const { return ecam_; }
  std::shared_ptr<Device> cf8() const { return cf8_; }
  std::shared_ptr<Device> mmio_window() const { return mmio_window_; }
  std::shared_ptr<Device> io_window() const { return io_window_; }

  static uint8_t intx_line(uint8_t device, uint8_t pin) {
    return static_cast<uint8_t>((device + pin - 1) % kNumIntxLines);
  }
  // Routes of the devices present (those with a pin).
  std::vector<IntxRoute> intx_routes() const;
  // Every slot and pin of the bus: a DT interrupt-map covering the bus.
  static std::vector<IntxRoute> all_intx_routes();
  // _PRT entries of the devices present.
  std::vector<PrtEntry> prt_entries() const;

  // Current level of one of the four lines (for tests and dumps).
  bool line_level(uint8_t line) const;

 private:
  // What the guest-facing devices and the INTx closures share; they hold it
  // (the closures weakly) so registering them on a bus keeps it alive.
  struct Bus0;
  class HostFunction;
  class Ecam;
  class Cf8;
  class BarWindow;

  Result<void> assign_bars(PciDevice& device);

  BridgeWindows windows_;
  std::shared_ptr<Bus0> bus_;
  uint64_t next_mmio32_;
  uint64_t next_mmio64_;
  uint64_t next_io_;
  MsiSink msi_sink_;

  std::shared_ptr<Device> ecam_;
  std::shared_ptr<Device> cf8_;
  std::shared_ptr<Device> mmio_window_;
  std::shared_ptr<Device> io_window_;
};

}  // namespace devices::pci
