// Everything an x86_64 kernel finds in guest memory and in its registers at
// its first instruction, in one call: the VMM calls it before KVM_RUN and
// `vmm --dry-run` calls it to print the layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/entry_state_x86.h"
#include "boot/error.h"
#include "boot/memory_map.h"
#include "boot/platform_description.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"
#include "loader/kernel.h"

namespace boot {

enum class X86BootProtocol { kLinux, kPvh };

struct X86BootConfig {
  loader::LoadedKernel kernel;  // already loaded by loader::load_kernel
  X86BootProtocol protocol = X86BootProtocol::kLinux;
  std::string cmdline;          // validated by loader::Cmdline; written NUL-terminated
  std::optional<loader::InitrdPlacement> initrd;  // already loaded by loader::load_initrd
  uint32_t cpus = 1;
  MemoryMap memory_map;         // from x86_memory_map(); must match mem
  bool mptable = true;          // also write the MP table (for MPPARSE kernels, acpi=off)
  PlatformDescription platform; // the devices' AML objects for the DSDT
};

// One line of the dry-run layout printout.
struct LayoutItem {
  std::string name;  // "zero page", "ACPI DSDT", "kernel", ...
  uint64_t address = 0;
  uint64_t size = 0;
};

struct X86BootSetup {
  X86EntryState entry;
  std::vector<LayoutItem> layout;  // sorted by address
  uint64_t rsdp_addr = 0;
};

// Where the VMM should place the initrd (exclusive end; pass it as
// loader::InitrdOptions::limit): below the kernel's initrd_addr_max + 1 from
// the bzImage header, 2 GiB for an ELF kernel booted the Linux way, and never
// above 4 GiB (DESIGN.md §4: the identity map covers 4 GiB, and kernels
// without XLF_CAN_BE_LOADED_ABOVE_4G cannot reach beyond). setup_x86_boot
// itself accepts an initrd above 4 GiB when the header allows it.
Result<uint64_t> x86_initrd_end_limit(const loader::LoadedKernel& kernel, X86BootProtocol protocol);

// Writes the boot data (zero page or start_info + memmap, ACPI, MP table,
// GDT/IDT/TSS, page tables, command line, EBDA pointer) and returns the entry
// state. Errors: memory too small or not matching the map, kernel/initrd
// overlapping boot data, initrd past the protocol's limit, cpus 0 or too many,
// e820 overflow, cmdline longer than cmdline_size, PVH without a PVH entry.
Result<X86BootSetup> setup_x86_boot(loader::GuestMemory& mem, const X86BootConfig& config);

}  // namespace boot
