#include "devices/virtio/virtio_mmio_device.h"

#include <fmt/format.h>

#include "boot/acpi/aml.h"
#include "boot/fdt_writer.h"

namespace devices::virtio {

VirtioMmioDevice::VirtioMmioDevice(std::shared_ptr<VirtioDevice> device, loader::GuestMemory& memory,
                                   const MmioPlacement& placement, VirtioMmio::Logger logger)
    : device_(std::move(device)),
      placement_(placement),
      name_(fmt::format("virtio-mmio{} {}", placement.index, device_->name())),
      transport_(*device_, memory, [this](bool level) {
        if (irq_) irq_(level);
      }, std::move(logger)) {}

std::vector<Window> VirtioMmioDevice::windows() const {
  return {Window{BusKind::kMmio, placement_.base, VirtioMmio::kWindowSize, 0, name_, nullptr}};
}

std::vector<IrqRequest> VirtioMmioDevice::irqs() const {
  return {IrqRequest{placement_.line, boot::IrqTrigger::kLevel}};
}

void VirtioMmioDevice::connect_irqs(std::vector<IrqLine> lines) {
  if (!lines.empty()) irq_ = std::move(lines.front());
}

std::string VirtioMmioDevice::dt_node_path() const { return fmt::format("/virtio_mmio@{:x}", placement_.base); }

void VirtioMmioDevice::describe(boot::PlatformDescription& platform) const {
  if (placement_.acpi) {
    namespace aml = boot::aml;
    // The ids Linux's virtio_mmio driver matches in ACPI (drivers/virtio/virtio_mmio.c).
    platform.dsdt_sb.push_back(aml::device(fmt::format("VR{:02}", placement_.index), {
        aml::name("_HID", aml::string("LNRO0005")),
        aml::name("_UID", aml::integer(placement_.index)),
        aml::name("_CCA", aml::integer(1)),
        aml::name("_CRS", aml::resource_template({
            aml::memory32_fixed(static_cast<uint32_t>(placement_.base), static_cast<uint32_t>(VirtioMmio::kWindowSize)),
            aml::extended_interrupt(placement_.line, true),
        })),
    }));
    return;
  }
  platform.dt_nodes.push_back([p = placement_, path = dt_node_path()](boot::FdtWriter& w, const boot::DtIrqContext& irq) {
    w.begin_node(path.substr(1));
    w.property_string("compatible", "virtio,mmio");
    w.property_u64s("reg", {p.base, VirtioMmio::kWindowSize});
    w.property_u32("interrupt-parent", irq.interrupt_parent);
    w.property_cells("interrupts", irq.cells(p.line, boot::IrqTrigger::kLevel));
    // Guest RAM is ordinary cacheable host memory: no cache maintenance for DMA.
    w.property_empty("dma-coherent");
    w.end_node();
  });
}

}  // namespace devices::virtio
