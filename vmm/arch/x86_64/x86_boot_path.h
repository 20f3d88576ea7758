// Loading a kernel through one of the four x86_64 boot paths and writing the
// boot data for it (see BootPath in vmm/run.h for the rules).
#pragma once

#include <string>
#include <vector>

#include "boot/entry_state_x86.h"
#include "boot/memory_map.h"
#include "boot/x86_boot.h"
#include "loader/guest_memory.h"
#include "vmm/run.h"

namespace vmm::x86 {

struct PreparedBoot {
  boot::X86EntryState entry;
  std::string description;  // e.g. "pvh (bzImage payload → vmlinux)"
  std::vector<boot::LayoutItem> layout;  // what setup_x86_boot wrote where, for --dry-run
};

loader::Result<PreparedBoot> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap& map,
                                          const RunConfig& config);

}  // namespace vmm::x86
