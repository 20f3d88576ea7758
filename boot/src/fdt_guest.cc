#include "boot/fdt_guest.h"

#include "boot/fdt_layout.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/setup_aarch64.h"
#include "boot/setup_riscv64.h"
#include "loader/cmdline.h"
#include "loader/image_source.h"
#include "loader/kernel_loader.h"

namespace boot {

loader::Result<FdtGuest> load_fdt_guest(loader::GuestMemory& mem, loader::Arch arch, const std::string& kernel_path,
                                        const std::optional<std::string>& initrd_path, std::string_view cmdline) {
  if (arch != loader::Arch::kAarch64 && arch != loader::Arch::kRiscv64)
    return loader::fail(loader::ErrorCode::kInvalidArgument, "{} guests have no device tree boot",
                        loader::to_string(arch));
  const bool arm = arch == loader::Arch::kAarch64;
  auto file = loader::FileImageSource::open(kernel_path);
  if (!file) return std::unexpected(file.error());
  auto info = loader::inspect_kernel(*file);
  if (!info) return std::unexpected(info.error());
  loader::LoadOptions options;
  options.arch = arch;  // load_kernel refuses another arch's kernel, naming both
  options.load_address = loader::GuestAddress(arm ? aarch64::kRamBase : riscv64::kRamBase);
  auto kernel = loader::load_kernel(*file, mem, options);
  if (!kernel) return std::unexpected(kernel.error());
  auto layout = arm ? plan_aarch64_layout(mem, *kernel) : plan_riscv64_layout(mem, *kernel);
  if (!layout) return std::unexpected(loader::with_context(layout.error(), kernel_path));

  loader::Cmdline line(arm ? aarch64::kCmdlineCapacity : riscv64::kCmdlineCapacity);
  if (auto r = line.append(cmdline); !r) return std::unexpected(loader::with_context(r.error(), "--cmdline"));

  FdtGuest guest;
  guest.kernel = *kernel;
  guest.compression = info->compression;
  guest.cmdline = line.str();
  if (initrd_path) {
    auto initrd_file = loader::FileImageSource::open(*initrd_path);
    if (!initrd_file) return std::unexpected(initrd_file.error());
    auto placed = loader::load_initrd(*initrd_file, mem, initrd_options(*layout));
    if (!placed) return std::unexpected(placed.error());
    guest.initrd = *placed;
  }
  return guest;
}

}  // namespace boot
