#include "arch/aarch64/core_regs.h"

#include <linux/kvm.h>

#include <cstddef>

namespace vmm::aarch64 {

static_assert(kRegArm64 == KVM_REG_ARM64);
static_assert(kRegSizeU64 == KVM_REG_SIZE_U64);
static_assert(kRegArmCore == KVM_REG_ARM_CORE);
static_assert(xreg_id(0) == (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.regs[0])));
static_assert(xreg_id(3) == (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.regs[3])));
static_assert(kSpId == (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.sp)));
static_assert(kPcId == (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc)));
static_assert(kPstateId == (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pstate)));

}  // namespace vmm::aarch64
