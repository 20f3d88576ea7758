// The CPUID a vCPU sees: what KVM supports, with the per-vCPU fix-ups a VMM
// owes the guest (KVM leaves them to userspace): its APIC id in the places
// the kernel reads it from, the topology of an N-CPU single-socket machine,
// and the hypervisor bit. Pure functions over kvm_cpuid_entry2, unit tested.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm::x86 {

inline constexpr uint32_t kCpuidHypervisorBit = 1u << 31;  // leaf 1 ECX
inline constexpr uint32_t kCpuidHttBit = 1u << 28;         // leaf 1 EDX
inline constexpr uint32_t kCpuidCx16Bit = 1u << 13;        // leaf 1 ECX: CMPXCHG16B
inline constexpr uint32_t kCpuidTscDeadlineBit = 1u << 24;  // leaf 1 ECX: TSC-deadline LAPIC timer

struct CpuidQuirks {
  // Hide CMPXCHG16B. Needed where KVM runs the guest on shadow page tables
  // (a host CPU without NPT/EPT, e.g. KVM nested without nested paging):
  // guest writes to pages KVM write-protects go through KVM's instruction
  // emulator, which cannot emulate CMPXCHG16B, and the guest dies with an
  // emulation failure as soon as SLUB uses it. Linux falls back to locks.
  bool hide_cx16 = false;
  // Offer the TSC-deadline LAPIC timer. KVM emulates it whenever
  // KVM_CAP_TSC_DEADLINE_TIMER is present, but KVM_GET_SUPPORTED_CPUID only
  // reports it since Linux 6.14, so userspace has to add the bit. Without it
  // Linux calibrates the LAPIC timer against the PIT, which fails under
  // nested emulation ("APIC timer disabled due to verification failure") and
  // leaves an idle guest with no timer to wake it (sleeps never return).
  bool tsc_deadline = false;
};

// True when the host CPU advertises hardware nested paging (npt or ept in
// /proc/cpuinfo); false also when that cannot be read.
bool host_has_nested_paging();

// Returns the supported CPUID rewritten for vCPU `cpu_index` of `cpu_count`
// (APIC id = cpu_index; one socket, one thread per core, cpu_count cores).
std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported, uint32_t cpu_index,
                                             uint32_t cpu_count, CpuidQuirks quirks = {});

}  // namespace vmm::x86
