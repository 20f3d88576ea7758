// What the devices of a VM add to the platform description a kernel reads:
// device-tree nodes (aarch64, riscv64), AML objects for the DSDT (x86_64),
// the node /chosen/stdout-path names, and default command-line words. The
// boot data builders take it as plain data and callbacks, so boot/ never
// depends on the device models; each device fills in its own part
// (devices::PlatformDevice::describe).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace boot {

class FdtWriter;

enum class IrqTrigger { kEdge, kLevel };

// What a device-tree builder tells device nodes about the interrupt
// controller they hang off.
struct DtIrqContext {
  uint32_t interrupt_parent = 0;  // phandle of the controller device interrupts go to
  // The controller's #address-cells: the zero cells of the parent unit
  // address in an interrupt-map entry (0 for the GIC and PLIC/APLIC nodes here).
  uint32_t interrupt_parent_address_cells = 0;
  // The 'interrupts' cells for one line in the platform's numbering
  // (aarch64: SPI number; riscv64: PLIC/APLIC source).
  std::function<std::vector<uint32_t>(uint32_t line, IrqTrigger trigger)> cells;
  // riscv64: each hart's local interrupt controller phandle, in hart order
  // (what a PLIC's interrupts-extended points at).
  std::vector<uint32_t> cpu_intc_phandles;
  uint32_t cpus = 1;
  // Phandle of the controller PCI MSIs go to (aarch64: the GICv3 ITS); 0:
  // none, PCI devices use INTx.
  uint32_t msi_parent = 0;
};

// Writes one complete node (begin_node .. end_node) under the root.
using DtNodeWriter = std::function<void(FdtWriter& writer, const DtIrqContext& irq)>;

struct MpPciInterrupt {
  uint8_t device = 0;       // slot on bus 0
  uint8_t pin = 0;          // 0 = INTA .. 3 = INTD
  uint8_t ioapic_pin = 0;   // GSI
};

struct PlatformDescription {
  std::vector<DtNodeWriter> dt_nodes;
  std::string stdout_path;                        // "/serial@9000000"; empty: none
  std::vector<std::vector<uint8_t>> dsdt_root;    // AML objects at the DSDT's root (\_S5_)
  std::vector<std::vector<uint8_t>> dsdt_sb;      // AML Device() objects inside \_SB
  std::vector<std::string> default_cmdline;       // words used when the user gives no command line
  // x86_64: complete ACPI tables (checksummed) the XSDT lists besides the
  // fixed ones, e.g. the PCI host bridge's MCFG.
  std::vector<std::vector<uint8_t>> acpi_tables;
  // x86_64: PCI bus 0's INTx routing for the MP table (kernels with acpi=off
  // find no _PRT): each device/pin and the IOAPIC pin it is wired to.
  std::vector<MpPciInterrupt> mp_pci_interrupts;
};

}  // namespace boot
