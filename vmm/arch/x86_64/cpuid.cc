#include "arch/x86_64/cpuid.h"

#include <fstream>
#include <sstream>
#include <string>

namespace vmm::x86 {

namespace {

// Bits needed to number `count` items (0 for 1).
uint32_t order(uint32_t count) {
  uint32_t bits = 0;
  while ((1u << bits) < count) ++bits;
  return bits;
}

}  // namespace

bool host_has_nested_paging() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0 && line.rfind("vmx flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w == "npt" || w == "ept") return true;
    }
  }
  return false;
}

std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported, uint32_t cpu_index,
                                             uint32_t cpu_count, CpuidQuirks quirks) {
  std::vector<kvm_cpuid_entry2> out = supported;
  const uint32_t apic_id = cpu_index;
  const uint32_t core_shift = order(cpu_count);
  for (auto& e : out) {
    switch (e.function) {
      case 0x1:
        // EBX: [31:24] initial APIC id, [23:16] logical processors per package,
        // [15:8] CLFLUSH line size in 8-byte units (64 bytes).
        e.ebx = (apic_id << 24) | ((cpu_count & 0xff) << 16) | (8u << 8) | (e.ebx & 0xff);
        e.ecx |= kCpuidHypervisorBit;
        if (quirks.hide_cx16) e.ecx &= ~kCpuidCx16Bit;
        if (quirks.tsc_deadline) e.ecx |= kCpuidTscDeadlineBit;
        if (cpu_count > 1) {
          e.edx |= kCpuidHttBit;
        } else {
          e.edx &= ~kCpuidHttBit;
        }
        break;
      case 0x4: {
        // Deterministic cache parameters (Intel): [31:26] cores per package - 1,
        // [25:14] logical processors sharing this cache - 1 (L3 is shared by all).
        uint32_t level = (e.eax >> 5) & 0x7;
        uint32_t sharing = level >= 3 ? cpu_count - 1 : 0;
        e.eax = (e.eax & 0x3fff) | ((sharing & 0xfff) << 14) | (((cpu_count - 1) & 0x3f) << 26);
        break;
      }
      case 0xb:
      case 0x1f:
        // Extended topology: level 0 = SMT (1 thread per core), level 1 =
        // core (cpu_count cores); EDX holds the x2APIC id at every level.
        if (e.index == 0) {
          e.eax = 0;                 // shift to the next level: no SMT bits
          e.ebx = 1;                 // logical processors at this level
          e.ecx = (1u << 8) | 0;     // type SMT, level number 0
        } else if (e.index == 1) {
          e.eax = core_shift;
          e.ebx = cpu_count;
          e.ecx = (2u << 8) | 1;     // type core, level number 1
        } else {
          e.eax = 0;
          e.ebx = 0;
          e.ecx = e.index & 0xff;    // type invalid: end of the enumeration
        }
        e.edx = apic_id;
        break;
      case 0x80000008:
        // AMD: ECX[7:0] cores per package - 1, [15:12] APIC id size.
        e.ecx = (e.ecx & ~0xf0ffu) | (core_shift << 12) | ((cpu_count - 1) & 0xff);
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace vmm::x86
