// The rest of a vCPU's initial x86 state, as pure functions so it can be
// unit tested without KVM: boot/'s entry state mapped onto kvm_sregs /
// kvm_regs, the MSRs, the FPU, and the local APIC's LINT0/LINT1 wiring.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "boot/entry_state_x86.h"

namespace vmm::x86 {

// MSR numbers.
inline constexpr uint32_t kMsrIa32SysenterCs = 0x174, kMsrIa32SysenterEsp = 0x175, kMsrIa32SysenterEip = 0x176;
inline constexpr uint32_t kMsrIa32MiscEnable = 0x1a0;
inline constexpr uint32_t kMsrMtrrDefType = 0x2ff;
inline constexpr uint32_t kMsrStar = 0xc0000081, kMsrLstar = 0xc0000082, kMsrCstar = 0xc0000083,
                          kMsrSyscallMask = 0xc0000084, kMsrKernelGsBase = 0xc0000102;
inline constexpr uint64_t kMiscEnableFastStrings = 1;
inline constexpr uint64_t kMtrrEnableWriteBack = (1u << 11) | 6;  // MTRRs on, default type WB

// Local APIC register offsets and delivery modes (bits 10:8 of an LVT entry).
inline constexpr size_t kApicLvtLint0 = 0x350, kApicLvtLint1 = 0x360;
inline constexpr uint32_t kApicDeliveryExtInt = 7, kApicDeliveryNmi = 4;

kvm_segment to_kvm_segment(const boot::Segment& s);
// Fills every field boot's entry state defines, starting from `base` (what
// KVM_GET_SREGS returned) so fields boot/ does not own (APIC base, the
// interrupt bitmap) keep KVM's values.
kvm_sregs to_kvm_sregs(const boot::SpecialRegs& s, const kvm_sregs& base);
kvm_regs to_kvm_regs(const boot::GeneralRegs& r);

std::vector<kvm_msr_entry> boot_msrs();
kvm_fpu boot_fpu();
// LINT0 = ExtINT (the 8259 PIC's output reaches the BSP through it), LINT1 = NMI.
void wire_lapic_lints(kvm_lapic_state& lapic);
uint32_t lapic_register(const kvm_lapic_state& lapic, size_t offset);

}  // namespace vmm::x86
