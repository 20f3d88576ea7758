// What a riscv64 guest is told about its harts, derived from what KVM offers
// on this host: the "riscv,isa" string, the "riscv,isa-extensions" list and
// the MMU type. Pure functions of the register values, so they are tested
// without KVM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boot/dtb_riscv64.h"

namespace vmm::riscv64 {

struct HartIsa {
  std::string isa;                      // "rv64imafdc_zicsr_..."
  std::vector<std::string> extensions;  // "i", "m", ..., "zicsr", ...
};

// `letters`: the config isa register (bit n = letter 'a' + n).
// `multi_letter`: KVM ISA-extension ids whose register read 1.
// Letters come in the canonical order of the ISA manual; unknown ids are
// skipped (the guest cannot be told about what we cannot name).
HartIsa describe_isa(uint64_t letters, const std::vector<uint32_t>& multi_letter);

// The MMU type for a satp_mode register value; sv39 (which every riscv64
// host with the H extension implements) for unknown values.
boot::RiscvMmuType mmu_type(uint64_t satp_mode);

}  // namespace vmm::riscv64
