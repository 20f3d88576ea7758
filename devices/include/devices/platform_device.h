// A device that describes itself: where it sits (bus windows), which
// interrupt lines it drives, and what it adds to the platform description
// the kernel reads (a device-tree node, AML for the DSDT, command-line
// words). The VMM registers a device with one line; the dry run lists and
// describes the very same objects without KVM. Models: kvmtool's per-file
// dev_init, Fuchsia Machina's PlatformDevice::ConfigureDtb.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boot/platform_description.h"
#include "devices/bus.h"
#include "devices/device.h"

namespace devices {

struct Window {
  BusKind bus = BusKind::kMmio;
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t device_offset = 0;  // the offset the device sees at base
  std::string name;            // for errors and the dry run ("serial0", "i8042 data")
  // The bus device behind this window; empty: the PlatformDevice itself. Lets
  // one platform device (a PCI root: ECAM, CF8, BAR windows) put several
  // different bus devices on the buses.
  std::shared_ptr<Device> target = nullptr;
  // Writes here may reach the device late: the VMM may queue them (KVM's
  // coalesced MMIO/PIO ring: no exit for the write) and deliver them, in
  // order, before it handles the next access that does exit, from any vCPU
  // and to any window. Only for registers whose writes have no effect the
  // guest can see until it touches the device again, like a latch that
  // only selects what a later data access reaches.
  bool writes_may_queue = false;
};

// One interrupt line in the platform's numbering: x86 GSI (IOAPIC pin),
// aarch64 SPI, riscv64 PLIC source.
struct IrqRequest {
  uint32_t line = 0;
  boot::IrqTrigger trigger = boot::IrqTrigger::kLevel;
};

// How the guest ended the machine through a device.
enum class MachineRequest { kPowerOff, kReset };
using MachineControl = std::function<void(MachineRequest request, std::string_view how)>;

class PlatformDevice : public Device {
 public:
  virtual std::string_view name() const = 0;
  virtual std::vector<Window> windows() const = 0;
  virtual std::vector<IrqRequest> irqs() const { return {}; }
  // The lines for irqs(), in the same order, once the VM has them.
  virtual void connect_irqs(std::vector<IrqLine> lines) { (void)lines; }
  virtual void describe(boot::PlatformDescription& platform) const { (void)platform; }
};

// Adds every window of `device` to the bus it names.
Result<void> map_windows(const std::shared_ptr<PlatformDevice>& device, Bus& pio, Bus& mmio);

}  // namespace devices
