// x86_64 hooks between the generic VMM and KVM (kvmtool's kvm__arch_init /
// kvm_cpu__arch_init seam): VM-wide set-up before the vCPUs exist, and the
// per-vCPU state.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "arch/x86_64/cpuid.h"
#include "boot/entry_state_x86.h"
#include "vmm/kvm.h"

namespace vmm::x86 {

// KVM on Intel needs three pages for a real-mode TSS and one for an identity
// page table (used while the guest runs unpaged protected mode on hosts
// without unrestricted guest). They must be guest-physical addresses outside
// RAM: we put them at the top of the 32-bit MMIO gap, above the local APIC
// (0xfee00000) and below 4 GiB, where a PC has its BIOS ROM and nothing of
// ours lives — the same place Firecracker uses.
inline constexpr uint64_t kIdentityMapAddr = 0xfffbc000;  // 1 page
inline constexpr uint64_t kTssAddr = 0xfffbd000;          // 3 pages: 0xfffbd000..0xfffc0000

// Checks the capabilities the x86 backend relies on, naming the missing one.
Result<void> check_capabilities(const Kvm& kvm);
// TSS + identity map, in-kernel PIC/IOAPIC/LAPIC, in-kernel PIT (with the
// dummy speaker port 0x61, which Linux's PIT calibration reads).
Result<void> setup_vm(Vm& vm);
// CPUID (with fix-ups), MSRs, FPU, LAPIC LINTs; and for the boot vCPU the
// entry registers. Application processors get no entry state: they wait for
// the guest's INIT/SIPI in the in-kernel LAPIC.
Result<void> setup_vcpu(Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& supported_cpuid, uint32_t cpu_count,
                        const std::optional<boot::X86EntryState>& entry, CpuidQuirks quirks = {});

}  // namespace vmm::x86
