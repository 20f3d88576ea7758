// The KVM ioctls riscv64 issues after set-up (arch.h, runtime_ioctls).
#include <linux/kvm.h>

#include "vmm/arch.h"

namespace vmm::arch {

RuntimeIoctls runtime_ioctls() {
  return {
      // The userspace PLIC drives each hart's external interrupt with
      // KVM_INTERRUPT on the vCPU fd, from whichever thread changed a source.
      {{KVM_INTERRUPT, "KVM_INTERRUPT"}},
      // describe_vcpu: pc and ra.
      {{KVM_GET_ONE_REG, "KVM_GET_ONE_REG"}},
  };
}

}  // namespace vmm::arch
