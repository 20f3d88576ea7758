#include "arch/x86_64/irq_routing.h"

namespace vmm::x86 {

namespace {
constexpr uint32_t kIoapicPins = 24;
constexpr uint32_t kIsaIrqs = 16;

kvm_irq_routing_entry irqchip_entry(uint32_t gsi, uint32_t chip, uint32_t pin) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_IRQCHIP;
  e.u.irqchip.irqchip = chip;
  e.u.irqchip.pin = pin;
  return e;
}
}  // namespace

std::vector<kvm_irq_routing_entry> legacy_gsi_routing() {
  std::vector<kvm_irq_routing_entry> table;
  for (uint32_t irq = 0; irq < kIsaIrqs; ++irq) {
    if (irq == 2) continue;
    table.push_back(irqchip_entry(irq, irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, irq % 8));
  }
  for (uint32_t gsi = 0; gsi < kIoapicPins; ++gsi) {
    if (gsi == 2) continue;
    table.push_back(irqchip_entry(gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi));
  }
  return table;
}

}  // namespace vmm::x86
