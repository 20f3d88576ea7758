#include "boot/entry_state_x86.h"

#include "boot/layout_x86.h"

namespace boot {
namespace {

SpecialRegs common_sregs(uint64_t gdt_addr, uint64_t idt_addr, uint64_t tss_addr) {
  SpecialRegs s;
  s.ds = s.es = s.fs = s.gs = s.ss = data_segment();
  s.tr = tss_segment(tss_addr, static_cast<uint32_t>(x86::kTssSize - 1));
  s.ldt.type = 2;  // LDT, marked unusable: the boot code never loads one
  s.ldt.unusable = 1;
  s.gdt = {gdt_addr, static_cast<uint16_t>(kGdtEntries * 8 - 1)};
  s.idt = {idt_addr, 0};  // an empty IDT: any exception before the kernel sets its own is a triple fault
  return s;
}

}  // namespace

X86EntryState linux64_entry_state(uint64_t entry, uint64_t zero_page, uint64_t pml4_addr, uint64_t stack_top,
                                  uint64_t gdt_addr, uint64_t idt_addr, uint64_t tss_addr) {
  X86EntryState st;
  st.sregs = common_sregs(gdt_addr, idt_addr, tss_addr);
  st.sregs.cs = code64_segment();
  st.sregs.cr0 = kCr0Pe | kCr0Et | kCr0Pg;
  st.sregs.cr3 = pml4_addr;
  st.sregs.cr4 = kCr4Pae;
  st.sregs.efer = kEferLme | kEferLma;
  st.regs.rip = entry;
  st.regs.rsi = zero_page;
  st.regs.rsp = stack_top;
  st.regs.rbp = stack_top;
  st.regs.rflags = kRflagsReserved;
  return st;
}

X86EntryState pvh_entry_state(uint64_t entry, uint64_t start_info, uint64_t gdt_addr, uint64_t idt_addr,
                              uint64_t tss_addr) {
  X86EntryState st;
  st.sregs = common_sregs(gdt_addr, idt_addr, tss_addr);
  st.sregs.cs = code32_segment();
  st.sregs.cr0 = kCr0Pe | kCr0Et;
  st.regs.rip = entry;
  st.regs.rbx = start_info;
  st.regs.rflags = kRflagsReserved;
  return st;
}

}  // namespace boot
