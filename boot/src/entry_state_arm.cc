#include "boot/entry_state_arm.h"

namespace boot {

Aarch64EntryState aarch64_entry_state(loader::GuestAddress entry, loader::GuestAddress dtb) {
  Aarch64EntryState s;
  s.pc = entry.value();
  s.pstate = kPstateModeEl1h | kPstateDaifMask;
  s.x0 = dtb.value();
  return s;
}

Riscv64EntryState riscv64_entry_state(loader::GuestAddress entry, uint64_t hart_id, loader::GuestAddress dtb) {
  Riscv64EntryState s;
  s.pc = entry.value();
  s.a0 = hart_id;
  s.a1 = dtb.value();
  s.satp = 0;
  return s;
}

uint64_t aarch64_mpidr_for_vcpu(uint32_t index) {
  uint64_t aff0 = index & 0xf;
  uint64_t aff1 = (index >> 4) & 0xff;
  uint64_t aff2 = (index >> 12) & 0xff;
  return aff0 | (aff1 << 8) | (aff2 << 16);
}

}  // namespace boot
