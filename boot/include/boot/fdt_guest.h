// What aarch64 and riscv64 guests share before their device trees differ:
// the Image loaded at the 2 MiB aligned RAM base + text_offset (a kernel for
// another arch refused by name), the command line checked against the arch's
// capacity, and the initrd placed in the window below the DTB slot. The real
// boot and `--dry-run` both go through here, so they place things alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "loader/error.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"
#include "loader/kernel.h"

namespace boot {

struct FdtGuest {
  loader::LoadedKernel kernel;
  loader::Compression compression = loader::Compression::kNone;  // how the Image file was wrapped
  std::string cmdline;
  std::optional<loader::InitrdPlacement> initrd;
};

// arch must be kAarch64 or kRiscv64.
loader::Result<FdtGuest> load_fdt_guest(loader::GuestMemory& mem, loader::Arch arch, const std::string& kernel_path,
                                        const std::optional<std::string>& initrd_path, std::string_view cmdline);

}  // namespace boot
