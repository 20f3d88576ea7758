// One virtio device on the virtio-mmio transport, as a PlatformDevice: a
// 0x200-byte window and one level-triggered interrupt line, described to the
// guest as a device-tree `virtio,mmio` node (aarch64, riscv64) or, on x86
// where Linux has no virtio_mmio.device= in distribution kernels, as an ACPI
// `LNRO0005` device in the DSDT.
//
// Notifications: the VMM puts an ioeventfd on notify_address() with the
// queue index as datamatch (vmm/virtio_io.h), so a QueueNotify write costs
// one light exit and the device runs on its I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/platform_device.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtio_mmio.h"

namespace devices::virtio {

struct MmioPlacement {
  uint64_t base = 0;
  uint32_t line = 0;    // platform numbering (IOAPIC pin, SPI, PLIC source)
  uint32_t index = 0;   // slot: names the window and the DSDT device (VR00..), _UID
  bool acpi = false;    // describe through the DSDT instead of the device tree
};

class VirtioMmioDevice final : public PlatformDevice {
 public:
  VirtioMmioDevice(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory, const MmioPlacement& placement,
                   VirtioMmio::Logger logger = {});

  std::string_view name() const override { return name_; }
  std::vector<Window> windows() const override;
  std::vector<IrqRequest> irqs() const override;
  void connect_irqs(std::vector<IrqLine> lines) override;
  void describe(boot::PlatformDescription& platform) const override;

  void read(uint64_t offset, std::span<std::byte> data) override { transport_.read(offset, data); }
  void write(uint64_t offset, std::span<const std::byte> data) override { transport_.write(offset, data); }

  const MmioPlacement& placement() const { return placement_; }
  // The QueueNotify register: a 32-bit write of the queue index.
  uint64_t notify_address() const { return placement_.base + VirtioMmio::kQueueNotify; }
  VirtioMmio& transport() { return transport_; }
  VirtioDevice& device() { return *device_; }
  // "/virtio_mmio@a000000"
  std::string dt_node_path() const;

 private:
  std::shared_ptr<VirtioDevice> device_;
  MmioPlacement placement_;
  std::string name_;
  // Set once by connect_irqs before any vCPU runs; the transport reaches it
  // through a closure because it is built first.
  IrqLine irq_;
  VirtioMmio transport_;
};

}  // namespace devices::virtio
