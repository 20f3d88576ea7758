// Register state at the kernel's first instruction on aarch64 and riscv64,
// as plain data; vmm/ turns it into KVM_SET_ONE_REG calls.
//
// aarch64 (Documentation/arch/arm64/booting.rst): EL1 with SP_EL1 (EL1h), all
// of DAIF masked, MMU and caches off (KVM's vCPU reset state), x0 = DTB,
// x1..x3 = 0. Only the boot vCPU starts here; the others are created powered
// off and come up through PSCI CPU_ON, which sets their PC and x0 itself.
//
// riscv64 (Documentation/arch/riscv/boot.rst): S-mode, a0 = hart id, a1 = DTB,
// satp = 0. Secondary harts are started by SBI HSM inside KVM.
#pragma once

#include <cstdint>

#include "loader/guest_address.h"

namespace boot {

inline constexpr uint64_t kPstateModeEl1h = 0x5;
inline constexpr uint64_t kPstateDaifMask = 0x3c0;  // D, A, I, F at bits 9..6

struct Aarch64EntryState {
  uint64_t pc = 0;
  uint64_t pstate = 0;
  uint64_t x0 = 0;  // DTB address
  uint64_t x1 = 0;
  uint64_t x2 = 0;
  uint64_t x3 = 0;
};

struct Riscv64EntryState {
  uint64_t pc = 0;
  uint64_t a0 = 0;  // hart id
  uint64_t a1 = 0;  // DTB address
  uint64_t satp = 0;
};

Aarch64EntryState aarch64_entry_state(loader::GuestAddress entry, loader::GuestAddress dtb);
Riscv64EntryState riscv64_entry_state(loader::GuestAddress entry, uint64_t hart_id, loader::GuestAddress dtb);

// The MPIDR_EL1 affinity KVM gives vCPU index i by default (arch/arm64/kvm
// reset_mpidr: 16 CPUs per cluster): Aff0 = i & 0xf, Aff1 = (i >> 4) & 0xff,
// Aff2 = (i >> 12) & 0xff. The device tree's cpu reg must match it, and PSCI
// CPU_ON targets it. Below 16 vCPUs it equals i.
uint64_t aarch64_mpidr_for_vcpu(uint32_t index);

}  // namespace boot
