#include "arch/x86_64/vcpu_state.h"

#include <cstring>

namespace vmm::x86 {

kvm_segment to_kvm_segment(const boot::Segment& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = s.type;
  k.present = s.present;
  k.dpl = s.dpl;
  k.db = s.db;
  k.s = s.s;
  k.l = s.l;
  k.g = s.g;
  k.avl = s.avl;
  k.unusable = s.unusable;
  return k;
}

kvm_sregs to_kvm_sregs(const boot::SpecialRegs& s, const kvm_sregs& base) {
  kvm_sregs k = base;
  k.cs = to_kvm_segment(s.cs);
  k.ds = to_kvm_segment(s.ds);
  k.es = to_kvm_segment(s.es);
  k.fs = to_kvm_segment(s.fs);
  k.gs = to_kvm_segment(s.gs);
  k.ss = to_kvm_segment(s.ss);
  k.tr = to_kvm_segment(s.tr);
  k.ldt = to_kvm_segment(s.ldt);
  k.gdt.base = s.gdt.base;
  k.gdt.limit = s.gdt.limit;
  k.idt.base = s.idt.base;
  k.idt.limit = s.idt.limit;
  k.cr0 = s.cr0;
  k.cr2 = s.cr2;
  k.cr3 = s.cr3;
  k.cr4 = s.cr4;
  k.cr8 = s.cr8;
  k.efer = s.efer;
  return k;
}

kvm_regs to_kvm_regs(const boot::GeneralRegs& r) {
  kvm_regs k{};
  k.rax = r.rax;
  k.rbx = r.rbx;
  k.rcx = r.rcx;
  k.rdx = r.rdx;
  k.rsi = r.rsi;
  k.rdi = r.rdi;
  k.rsp = r.rsp;
  k.rbp = r.rbp;
  k.r8 = r.r8;
  k.r9 = r.r9;
  k.r10 = r.r10;
  k.r11 = r.r11;
  k.r12 = r.r12;
  k.r13 = r.r13;
  k.r14 = r.r14;
  k.r15 = r.r15;
  k.rip = r.rip;
  k.rflags = r.rflags;
  return k;
}

std::vector<kvm_msr_entry> boot_msrs() {
  auto msr = [](uint32_t index, uint64_t value) {
    kvm_msr_entry e{};
    e.index = index;
    e.data = value;
    return e;
  };
  // The state firmware would leave: no SYSENTER/SYSCALL targets yet, fast
  // string operations on (the kernel warns when firmware left them off),
  // MTRRs enabled with write-back as the default memory type (otherwise the
  // guest runs everything uncached).
  return {
      msr(kMsrIa32SysenterCs, 0), msr(kMsrIa32SysenterEsp, 0), msr(kMsrIa32SysenterEip, 0),
      msr(kMsrStar, 0),           msr(kMsrLstar, 0),           msr(kMsrCstar, 0),
      msr(kMsrSyscallMask, 0),    msr(kMsrKernelGsBase, 0),    msr(kMsrIa32MiscEnable, kMiscEnableFastStrings),
      msr(kMsrMtrrDefType, kMtrrEnableWriteBack),
  };
}

kvm_fpu boot_fpu() {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;     // x87 reset value: all exceptions masked, 64-bit precision
  fpu.mxcsr = 0x1f80;  // SSE reset value: all exceptions masked
  return fpu;
}

uint32_t lapic_register(const kvm_lapic_state& lapic, size_t offset) {
  uint32_t v;
  std::memcpy(&v, lapic.regs + offset, sizeof v);
  return v;
}

namespace {
void set_delivery_mode(kvm_lapic_state& lapic, size_t offset, uint32_t mode) {
  uint32_t v = lapic_register(lapic, offset);
  v = (v & ~0x700u) | (mode << 8);
  std::memcpy(lapic.regs + offset, &v, sizeof v);
}
}  // namespace

void wire_lapic_lints(kvm_lapic_state& lapic) {
  set_delivery_mode(lapic, kApicLvtLint0, kApicDeliveryExtInt);
  set_delivery_mode(lapic, kApicLvtLint1, kApicDeliveryNmi);
}

}  // namespace vmm::x86
