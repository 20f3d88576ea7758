// The KVM ioctls x86_64 issues after set-up (arch.h, runtime_ioctls).
#include <linux/kvm.h>

#include "vmm/arch.h"

namespace vmm::arch {

RuntimeIoctls runtime_ioctls() {
  return {
      // irq_line: IOAPIC/PIC GSIs (the edge lines, and level lines without irqfd resample);
      // msi_sink: virtio-pci MSI-X into the in-kernel local APICs.
      {{KVM_IRQ_LINE, "KVM_IRQ_LINE"}, {KVM_SIGNAL_MSI, "KVM_SIGNAL_MSI"}},
      // describe_vcpu: rip, cs and the control registers.
      {{KVM_GET_REGS, "KVM_GET_REGS"}, {KVM_GET_SREGS, "KVM_GET_SREGS"}},
  };
}

}  // namespace vmm::arch
