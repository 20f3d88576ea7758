#include "boot/x86_boot_path.h"

#include "boot/layout_x86.h"
#include "boot/x86_boot.h"
#include "loader/bzimage.h"
#include "loader/cmdline.h"
#include "loader/elf.h"
#include "loader/initrd.h"
#include "loader/kernel_loader.h"

namespace boot {

using loader::fail;
using loader::ErrorCode;

loader::Result<PreparedX86Boot> prepare_x86_boot(loader::GuestMemory& mem, const MemoryMap& map,
                                                 const X86BootRequest& config) {
  auto file = loader::FileImageSource::open(config.kernel);
  if (!file) return std::unexpected(file.error());
  auto info = loader::inspect_kernel(*file);
  if (!info) return std::unexpected(info.error());
  if (info->arch != loader::Arch::kX86_64) {
    return fail(ErrorCode::kWrongArch, "{}: a {} kernel, this VMM runs x86_64 guests", config.kernel,
                loader::to_string(info->arch));
  }
  const bool is_bzimage = info->format == loader::KernelFormat::kBzImage;
  const bool is_elf = info->format == loader::KernelFormat::kElf;
  if (!is_bzimage && !is_elf) {
    return fail(ErrorCode::kUnsupported, "{}: {} kernels do not boot on x86_64", config.kernel,
                loader::to_string(info->format));
  }

  X86BootProtocol protocol = X86BootProtocol::kLinux;
  if (config.entry == X86EntryChoice::kPvh) protocol = X86BootProtocol::kPvh;
  if (config.entry == X86EntryChoice::kAuto && is_elf && info->pvh_entry) protocol = X86BootProtocol::kPvh;
  auto decompress = [&config](const loader::ImageSource& bzimage) {
    return config.decompress_payload ? config.decompress_payload(bzimage) : loader::extract_bzimage_vmlinux(bzimage);
  };
  // auto with a bzImage: the payload is decompressed here and entered through
  // PVH when it has the entry. Measured in the nested L1 that boots sooner
  // than the guest's own decompressor (which also moves the compressed kernel
  // out of its way and relocates itself first). A payload that does not
  // decompress, or has no PVH entry, boots the Linux way as before; the dry
  // run's payload check below then still says what is wrong with it.
  std::unique_ptr<loader::ImageSource> vmlinux;
  if (config.entry == X86EntryChoice::kAuto && is_bzimage) {
    if (auto payload = decompress(*file)) {
      auto payload_info = loader::inspect_elf(**payload);
      if (payload_info && payload_info->pvh_entry) {
        vmlinux = std::move(*payload);
        protocol = X86BootProtocol::kPvh;
      }
    }
  }

  loader::LoadOptions options;
  options.arch = loader::Arch::kX86_64;
  options.highmem_start = loader::GuestAddress(x86::kHighMemStart);

  PreparedX86Boot prepared;
  loader::Result<loader::LoadedKernel> kernel = fail(ErrorCode::kInvalidArgument, "no kernel");
  if (protocol == X86BootProtocol::kPvh && is_bzimage) {
    if (!vmlinux) {
      auto payload = decompress(*file);
      if (!payload) return std::unexpected(loader::with_context(payload.error(), "bzImage payload for PVH"));
      vmlinux = std::move(*payload);
    }
    kernel = loader::load_elf(*vmlinux, mem, options);
    prepared.description = "pvh (bzImage payload decompressed to vmlinux)";
  } else if (is_bzimage) {
    if (config.verify_bzimage_payload) {
      if (auto r = loader::verify_bzimage_payload(*file); !r) return std::unexpected(r.error());
    }
    options.load_address = loader::GuestAddress(x86::kBzImageLoadAddr);
    kernel = loader::load_bzimage(*file, mem, options);
    prepared.description = "linux 64-bit (bzImage)";
  } else {
    kernel = loader::load_elf(*file, mem, options);
    prepared.description = protocol == X86BootProtocol::kPvh ? "pvh (ELF vmlinux)" : "linux 64-bit (ELF vmlinux)";
  }
  if (!kernel) return std::unexpected(kernel.error());
  if (protocol == X86BootProtocol::kPvh && !kernel->pvh_entry) {
    return fail(ErrorCode::kUnsupported,
                "{}: --boot pvh, but the kernel has no PVH entry (Xen ELF note type 18, "
                "XEN_ELFNOTE_PHYS32_ENTRY; the kernel needs CONFIG_PVH)", config.kernel);
  }

  loader::Cmdline cmdline(2048);
  if (auto r = cmdline.append(config.cmdline); !r) return std::unexpected(loader::with_context(r.error(), "--cmdline"));

  X86BootConfig boot_config;
  boot_config.kernel = *kernel;
  boot_config.protocol = protocol;
  boot_config.cmdline = cmdline.str();
  boot_config.cpus = config.cpus;
  boot_config.memory_map = map;
  boot_config.platform = config.platform;
  if (config.initrd) {
    auto initrd_file = loader::FileImageSource::open(*config.initrd);
    if (!initrd_file) return std::unexpected(initrd_file.error());
    auto limit = x86_initrd_end_limit(*kernel, protocol);
    if (!limit) return std::unexpected(limit.error());
    loader::InitrdOptions initrd_options;
    initrd_options.limit = loader::GuestAddress(*limit);
    auto kernel_end = kernel->load_address.checked_add(kernel->load_size);
    if (!kernel_end) return fail(ErrorCode::kOverflow, "kernel end overflows");
    initrd_options.lowest = *kernel_end;
    auto placed = loader::load_initrd(*initrd_file, mem, initrd_options);
    if (!placed) return std::unexpected(placed.error());
    boot_config.initrd = *placed;
  }
  auto setup = setup_x86_boot(mem, boot_config);
  if (!setup) return std::unexpected(setup.error());
  prepared.entry = setup->entry;
  prepared.layout = std::move(setup->layout);
  return prepared;
}

}  // namespace boot
