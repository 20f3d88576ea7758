// The vCPU register state at a kernel's first instruction, as plain structs:
// boot/ computes it, vmm/ maps it onto kvm_sregs / kvm_regs.
#pragma once

#include <cstdint>

#include "boot/gdt.h"

namespace boot {

inline constexpr uint64_t kCr0Pe = 1ull << 0;
inline constexpr uint64_t kCr0Et = 1ull << 4;
inline constexpr uint64_t kCr0Pg = 1ull << 31;
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kEferLme = 1ull << 8;
inline constexpr uint64_t kEferLma = 1ull << 10;
inline constexpr uint64_t kRflagsReserved = 0x2;  // bit 1 always reads 1

struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0;
};

struct SpecialRegs {
  Segment cs, ds, es, fs, gs, ss, tr, ldt;
  DescriptorTable gdt, idt;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
  uint64_t efer = 0;
};

struct GeneralRegs {
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0, rbp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0, rflags = kRflagsReserved;
};

struct X86EntryState {
  SpecialRegs sregs;
  GeneralRegs regs;
};

// Linux 64-bit boot protocol: long mode, paging on with CR3 = pml4_addr,
// CS __BOOT_CS, DS/ES/SS __BOOT_DS, RIP = entry, RSI = zero page.
X86EntryState linux64_entry_state(uint64_t entry, uint64_t zero_page, uint64_t pml4_addr, uint64_t stack_top,
                                  uint64_t gdt_addr, uint64_t idt_addr, uint64_t tss_addr);

// PVH: 32-bit protected mode, paging off, flat CS/DS/ES/SS, a TSS,
// EIP = PVH entry, EBX = start_info.
X86EntryState pvh_entry_state(uint64_t entry, uint64_t start_info, uint64_t gdt_addr, uint64_t idt_addr,
                              uint64_t tss_addr);

}  // namespace boot
