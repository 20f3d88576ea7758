// One entry point for the memory map of any guest architecture, with each
// architecture's limits on RAM size and vCPU count: the real boot and the
// dry run both go through here, so a dry run accepts exactly what a boot does.
#pragma once

#include <cstdint>

#include "boot/error.h"
#include "boot/memory_map.h"
#include "loader/kernel.h"

namespace boot {

// aarch64: RAM from 2 GiB, 64 MiB at least, 2 MiB multiples, inside KVM's
// default 40-bit IPA space. riscv64: RAM from 2 GiB, 64 MiB..256 GiB, 2 MiB multiples.
Result<MemoryMap> aarch64_memory_map(uint64_t ram_size);
Result<MemoryMap> riscv64_memory_map(uint64_t ram_size);
Result<MemoryMap> memory_map_for(loader::Arch arch, uint64_t ram_size);

// The most vCPUs a guest of `arch` can be described with (x86: 8-bit APIC
// ids; aarch64: the GICv3 redistributor window; riscv64: the memory map).
uint32_t max_cpus(loader::Arch arch);

}  // namespace boot
