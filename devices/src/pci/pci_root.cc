#include "devices/pci/pci_root.h"

#include <cstring>

#include <fmt/format.h>

#include "boot/acpi/acpi_tables.h"
#include "boot/acpi/aml.h"
#include "boot/fdt_writer.h"

namespace devices::pci {
namespace {

// The phys.hi cell of a PCI unit address (IEEE 1275 PCI binding): space code
// in bits 24..25, prefetchable bit 30, 64-bit memory = space 3.
constexpr uint32_t kDtMem32 = 0x0200'0000;
constexpr uint32_t kDtMem64Prefetchable = 0x4300'0000;

std::array<IrqLine, kNumIntxLines> forwarding_lines(std::array<IrqLine, kNumIntxLines>& lines) {
  std::array<IrqLine, kNumIntxLines> out;
  for (size_t i = 0; i < kNumIntxLines; ++i) {
    out[i] = [&lines, i](bool level) {
      if (lines[i]) lines[i](level);
    };
  }
  return out;
}

uint32_t hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
uint32_t lo(uint64_t v) { return static_cast<uint32_t>(v); }

}  // namespace

PciRoot::PciRoot(const PciRootPlacement& placement)
    : placement_(placement), bridge_(placement.windows, forwarding_lines(lines_)) {}

std::vector<devices::Window> PciRoot::windows() const {
  const BridgeWindows& w = placement_.windows;
  std::vector<devices::Window> out;
  out.push_back(devices::Window{BusKind::kMmio, placement_.ecam_base, kEcamBusSize, 0, "pci ecam", bridge_.ecam()});
  if (placement_.config_ports) {
    // Two windows onto the one mechanism-#1 device: the address latch only
    // selects what a later 0xCFC access reaches (and reading it back exits,
    // which delivers queued writes first), so its writes may be queued and
    // a configuration access costs the guest one exit instead of two. The
    // data port's writes have effects and must not be.
    devices::Window latch{BusKind::kPio, kCf8Base, kCf8LatchSize, 0, "pci cf8 latch", bridge_.cf8()};
    latch.writes_may_queue = true;
    out.push_back(std::move(latch));
    out.push_back(devices::Window{BusKind::kPio, kCf8Base + kCf8LatchSize, kCf8Size - kCf8LatchSize, kCf8LatchSize,
                                  "pci cfc data", bridge_.cf8()});
  }
  // The BAR windows see guest physical addresses (device_offset = base).
  out.push_back(devices::Window{BusKind::kMmio, w.mmio32.base, w.mmio32.size, w.mmio32.base, "pci mmio32", bridge_.mmio_window()});
  if (w.mmio64.size)
    out.push_back(devices::Window{BusKind::kMmio, w.mmio64.base, w.mmio64.size, w.mmio64.base, "pci mmio64", bridge_.mmio_window()});
  return out;
}

std::vector<IrqRequest> PciRoot::irqs() const {
  std::vector<IrqRequest> out;
  for (uint32_t line : placement_.intx_lines) out.push_back(IrqRequest{line, boot::IrqTrigger::kLevel});
  return out;
}

void PciRoot::connect_irqs(std::vector<IrqLine> lines) {
  for (size_t i = 0; i < lines.size() && i < kNumIntxLines; ++i) lines_[i] = std::move(lines[i]);
}

void PciRoot::read(uint64_t, std::span<std::byte> data) { std::memset(data.data(), 0xff, data.size()); }

std::string PciRoot::dt_node_path() const { return fmt::format("/pci@{:x}", placement_.ecam_base); }

void PciRoot::describe(boot::PlatformDescription& platform) const {
  if (placement_.acpi) {
    describe_acpi(platform);
  } else {
    describe_dt(platform);
  }
}

void PciRoot::describe_dt(boot::PlatformDescription& platform) const {
  std::vector<uint32_t> ranges;
  auto range = [&](uint32_t space, const pci::Window& win) {
    for (uint32_t cell : {space, hi(win.base), lo(win.base), hi(win.base), lo(win.base), hi(win.size), lo(win.size)})
      ranges.push_back(cell);
  };
  range(kDtMem32, placement_.windows.mmio32);
  if (placement_.windows.mmio64.size) range(kDtMem64Prefetchable, placement_.windows.mmio64);

  // interrupt-map-mask keeps only the low two bits of the device number and
  // the pin: the swizzle repeats every four slots, so 4 x 4 entries cover the bus.
  std::vector<IntxRoute> routes;
  for (const auto& r : PciHostBridge::all_intx_routes())
    if (r.device < kNumIntxLines) routes.push_back(r);

  platform.dt_nodes.push_back([p = placement_, ranges, routes, path = dt_node_path()](boot::FdtWriter& w,
                                                                                     const boot::DtIrqContext& irq) {
    std::vector<uint32_t> map;
    for (const auto& r : routes) {
      for (uint32_t cell : {r.dt_phys_hi(), 0u, 0u, uint32_t{r.pin}, irq.interrupt_parent}) map.push_back(cell);
      for (uint32_t i = 0; i < irq.interrupt_parent_address_cells; ++i) map.push_back(0);
      for (uint32_t cell : irq.cells(p.intx_lines[r.line], boot::IrqTrigger::kLevel)) map.push_back(cell);
    }
    w.begin_node(path.substr(1));
    w.property_string("compatible", "pci-host-ecam-generic");
    w.property_string("device_type", "pci");
    w.property_u32("#address-cells", 3);
    w.property_u32("#size-cells", 2);
    w.property_u32("#interrupt-cells", 1);
    w.property_cells("bus-range", {0, 0});
    w.property_u64s("reg", {p.ecam_base, kEcamBusSize});
    w.property_cells("ranges", ranges);
    w.property_cells("interrupt-map-mask", {0x1800, 0, 0, 7});
    w.property_cells("interrupt-map", map);
    // Every requester ID of the bus (bus << 8 | devfn, 16 bits) is the same
    // device ID at the controller.
    if (irq.msi_parent) w.property_cells("msi-map", {0, irq.msi_parent, 0, 0x10000});
    w.property_empty("dma-coherent");
    w.end_node();
  });
}

void PciRoot::describe_acpi(boot::PlatformDescription& platform) const {
  namespace aml = boot::aml;
  const BridgeWindows& w = placement_.windows;
  std::vector<aml::Bytes> crs{aml::word_bus_number(0, 0)};
  if (placement_.config_ports)
    crs.push_back(aml::io_port(static_cast<uint16_t>(kCf8Base), static_cast<uint16_t>(kCf8Base), 1, kCf8Size));
  crs.push_back(aml::dword_memory(static_cast<uint32_t>(w.mmio32.base), static_cast<uint32_t>(w.mmio32.size), false));
  if (w.mmio64.size) crs.push_back(aml::qword_memory(w.mmio64.base, w.mmio64.size, true));

  // _PRT: the GSI directly (source Zero, index = GSI), no link devices. The
  // MP table gets the same routing for kernels booted with acpi=off.
  std::vector<aml::Bytes> prt;
  for (const auto& e : bridge_.prt_entries()) {
    prt.push_back(aml::package({aml::integer(e.address), aml::integer(e.pin), aml::integer(0),
                                aml::integer(placement_.intx_lines[e.line])}));
    platform.mp_pci_interrupts.push_back({static_cast<uint8_t>(e.address >> 16), e.pin,
                                          static_cast<uint8_t>(placement_.intx_lines[e.line])});
  }

  platform.dsdt_sb.push_back(aml::device("PCI0", {
      aml::name("_HID", aml::eisa_id("PNP0A08")),
      aml::name("_CID", aml::eisa_id("PNP0A03")),
      aml::name("_SEG", aml::integer(0)),
      aml::name("_BBN", aml::integer(0)),
      aml::name("_UID", aml::integer(0)),
      aml::name("_CRS", aml::resource_template(crs)),
      aml::name("_PRT", aml::package(prt)),
  }));
  platform.dsdt_sb.push_back(aml::device("MRES", {
      aml::name("_HID", aml::eisa_id("PNP0C02")),
      aml::name("_UID", aml::integer(0)),
      aml::name("_CRS", aml::resource_template({aml::memory32_fixed(static_cast<uint32_t>(placement_.ecam_base),
                                                                    static_cast<uint32_t>(kEcamBusSize))})),
  }));
  platform.acpi_tables.push_back(boot::acpi::build_mcfg(placement_.ecam_base, 0, 0, 0));
}

}  // namespace devices::pci
