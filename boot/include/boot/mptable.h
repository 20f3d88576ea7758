// Intel MultiProcessor Specification 1.4 tables: the floating pointer
// ("_MP_") and the configuration table ("PCMP") with one processor entry per
// vCPU, the ISA bus, the IOAPIC and the interrupt assignments. For kernels
// built with CONFIG_X86_MPPARSE and for `acpi=off`.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "boot/error.h"
#include "boot/platform_description.h"
#include "loader/guest_memory.h"

namespace boot {

// APIC ids 0..254 (255 is broadcast), and the IOAPIC takes the id after the CPUs.
inline constexpr uint32_t kMptableMaxCpus = 254;

struct MptableLayout {
  uint64_t floating_pointer_addr = 0;
  uint64_t config_table_addr = 0;
  uint64_t size = 0;  // floating pointer + configuration table
  uint16_t entry_count = 0;
};

// Builds the floating pointer followed by the configuration table (the
// floating pointer's physaddr points at it) for `cpus` processors. With
// `pci` entries, a PCI bus (MP bus 0, which Linux takes for PCI bus 0)
// precedes the ISA bus (then MP bus 1) and each entry becomes an I/O
// interrupt entry (level, active low) from device/pin to its IOAPIC pin.
Result<std::vector<uint8_t>> build_mptable(uint64_t addr, uint32_t cpus, std::span<const MpPciInterrupt> pci = {});

// Writes build_mptable at addr. Errors: cpus 0 or > kMptableMaxCpus, the
// table larger than area_size, the area outside guest memory.
Result<MptableLayout> write_mptable(loader::GuestMemory& mem, uint64_t addr, uint64_t area_size, uint32_t cpus,
                                    std::span<const MpPciInterrupt> pci = {});

}  // namespace boot
