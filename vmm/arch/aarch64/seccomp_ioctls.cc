// The KVM ioctls aarch64 issues after set-up (arch.h, runtime_ioctls).
#include <linux/kvm.h>

#include "vmm/arch.h"

namespace vmm::arch {

RuntimeIoctls runtime_ioctls() {
  return {
      // irq_line: GIC SPIs (no MSI sink: the vGIC has no ITS here, guests use INTx).
      {{KVM_IRQ_LINE, "KVM_IRQ_LINE"}},
      // describe_vcpu: pc and pstate.
      {{KVM_GET_ONE_REG, "KVM_GET_ONE_REG"}},
  };
}

}  // namespace vmm::arch
