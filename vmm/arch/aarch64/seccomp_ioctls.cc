// The KVM ioctls aarch64 issues after set-up (arch.h, runtime_ioctls).
#include <linux/kvm.h>

#include "vmm/arch.h"

namespace vmm::arch {

RuntimeIoctls runtime_ioctls() {
  return {
      // irq_line: GIC SPIs. msi_sink: an MSI whose vector the guest
      // reprogrammed rewrites the GSI routes first (the MSI itself is an
      // eventfd write).
      {{KVM_IRQ_LINE, "KVM_IRQ_LINE"}, {KVM_SET_GSI_ROUTING, "KVM_SET_GSI_ROUTING"}},
      // describe_vcpu: pc and pstate.
      {{KVM_GET_ONE_REG, "KVM_GET_ONE_REG"}},
  };
}

}  // namespace vmm::arch
