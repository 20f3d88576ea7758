// What the device-tree architectures (aarch64, riscv64) do alike before
// their own boot set-up: refuse PVH, load the Image, initrd and command line
// (boot::load_fdt_guest), and fill the common fields of their boot config
// with the platform's description. The real boot (vmm/arch/<arch>/) and the
// dry run (boot_plan.cc) both go through here.
#pragma once

#include <string>

#include "boot/fdt_guest.h"
#include "loader/error.h"
#include "loader/guest_memory.h"
#include "vmm/cli.h"
#include "vmm/platform.h"

namespace vmm {

// Config is boot::Aarch64BootConfig or boot::Riscv64BootConfig.
template <class Config>
loader::Result<void> load_fdt_boot(loader::GuestMemory& mem, const Options& options, const Platform& platform,
                                   Config& config, std::string& description) {
  const std::string_view arch = loader::to_string(options.arch);
  if (options.boot == BootMode::kPvh) {
    return loader::fail(loader::ErrorCode::kInvalidArgument,
                        "--boot pvh: PVH is an x86_64 boot protocol; {} boots an Image", arch);
  }
  auto guest = boot::load_fdt_guest(mem, options.arch, options.kernel, options.initrd, platform.cmdline(options));
  if (!guest) return std::unexpected(guest.error());
  config.kernel = guest->kernel;
  config.cpus = options.cpus;
  config.cmdline = guest->cmdline;
  config.initrd = guest->initrd;
  config.platform = platform.describe();
  description = fmt::format("{} Image{} + device tree", options.arch == loader::Arch::kAarch64 ? "arm64" : arch,
                            guest->compression != loader::Compression::kNone
                                ? fmt::format(" ({}-compressed)", loader::to_string(guest->compression))
                                : "");
  return {};
}

}  // namespace vmm
