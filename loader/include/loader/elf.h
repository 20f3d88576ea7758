// x86_64 ELF64 vmlinux: parse and load, including the PVH entry note.
#pragma once

#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel.h"
#include "loader/load_options.h"

namespace loader {

// Headers only; no guest memory. format kElf, arch from e_machine.
Result<KernelInfo> inspect_elf(const ImageSource& src);
// Loads every PT_LOAD at p_paddr, zeroes p_filesz..p_memsz, checks everything
// listed in DESIGN.md §3 and issue 2.
Result<LoadedKernel> load_elf(const ImageSource& src, GuestMemory& mem, const LoadOptions& options);

}  // namespace loader
