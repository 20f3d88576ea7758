// The PCI host bridge as a PlatformDevice: it puts the bridge's ECAM, its
// configuration ports (x86), and its BAR windows on the buses, drives four
// level-triggered INTx lines, and describes itself to the guest:
//   device tree: a `pci-host-ecam-generic` node with ranges and an
//                interrupt-map over the bridge's INTx swizzle;
//   ACPI (x86):  \_SB.PCI0 (PNP0A08) with _CRS and _PRT, a PNP0C02 device
//                reserving the ECAM (Linux uses MMCONFIG only inside
//                reserved motherboard resources) and an MCFG table.
// Devices go in with add() before describe() and before any vCPU runs.
//
// MSI-X reaches the guest only where the VMM routes MSIs (KVM_SIGNAL_MSI or
// irqfd with an MSI route) through PciHostBridge::set_msi_sink; on the device
// tree the node then names the MSI controller in `msi-map` (requester ID =
// the controller's device ID), so the guest sets up a PCI MSI domain there.
// Without one (DtIrqContext::msi_parent 0) the guest stays on INTx.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "devices/pci/host_bridge.h"
#include "devices/platform_device.h"

namespace devices::pci {

struct PciRootPlacement {
  uint64_t ecam_base = 0;
  BridgeWindows windows;  // mmio32 required; mmio64 optional; io unused
  std::array<uint32_t, kNumIntxLines> intx_lines{};
  bool config_ports = false;  // CF8/CFC on the PIO bus (x86)
  bool acpi = false;          // describe through ACPI instead of the device tree
};

class PciRoot final : public PlatformDevice {
 public:
  explicit PciRoot(const PciRootPlacement& placement);

  // Puts `device` in the next free slot and assigns its BARs.
  Result<uint8_t> add(std::shared_ptr<PciDevice> device) { return bridge_.add_device(std::move(device)); }
  PciHostBridge& bridge() { return bridge_; }
  const PciRootPlacement& placement() const { return placement_; }

  std::string_view name() const override { return "pci"; }
  std::vector<devices::Window> windows() const override;
  std::vector<IrqRequest> irqs() const override;
  void connect_irqs(std::vector<IrqLine> lines) override;
  void describe(boot::PlatformDescription& platform) const override;

  // Every window has its own target; nothing reaches the root itself.
  void read(uint64_t, std::span<std::byte> data) override;
  void write(uint64_t, std::span<const std::byte>) override {}

  // "/pci@3f000000"
  std::string dt_node_path() const;

 private:
  void describe_dt(boot::PlatformDescription& platform) const;
  void describe_acpi(boot::PlatformDescription& platform) const;

  PciRootPlacement placement_;
  // Filled by connect_irqs before any vCPU runs; the bridge's lines call
  // through it because the bridge is built first.
  std::array<IrqLine, kNumIntxLines> lines_;
  PciHostBridge bridge_;
};

}  // namespace devices::pci
