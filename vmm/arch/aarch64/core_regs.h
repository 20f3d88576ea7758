// KVM_{GET,SET}_ONE_REG ids of the arm64 core registers (struct kvm_regs,
// whose first member is user_pt_regs: x0..x30, sp, pc, pstate), computed as
// <asm/kvm.h>'s KVM_REG_ARM_CORE_REG does: the offset in 32-bit words.
// Written out so the arithmetic is unit-testable; core_regs.cc checks it
// against the kernel's macros at compile time.
#pragma once

#include <cstdint>

namespace vmm::aarch64 {

inline constexpr uint64_t kRegArm64 = 0x6000000000000000ull;    // KVM_REG_ARM64
inline constexpr uint64_t kRegSizeU64 = 0x0030000000000000ull;  // KVM_REG_SIZE_U64
inline constexpr uint64_t kRegArmCore = 0x0010ull << 16;        // KVM_REG_ARM_CORE

constexpr uint64_t core_reg_id(uint64_t byte_offset) { return kRegArm64 | kRegSizeU64 | kRegArmCore | (byte_offset / 4); }

// x0..x30.
constexpr uint64_t xreg_id(unsigned n) { return core_reg_id(static_cast<uint64_t>(n) * 8); }
inline constexpr uint64_t kSpId = core_reg_id(31 * 8);
inline constexpr uint64_t kPcId = core_reg_id(32 * 8);
inline constexpr uint64_t kPstateId = core_reg_id(33 * 8);

// PSCI function ids a guest uses (SMCCC fast calls, 32-bit ids).
inline constexpr uint32_t kPsciSystemOff = 0x84000008;
inline constexpr uint32_t kPsciSystemReset = 0x84000009;

}  // namespace vmm::aarch64
