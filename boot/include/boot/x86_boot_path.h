// Loading a kernel through one of the four x86_64 boot paths and writing the
// boot data for it. No KVM: the real boot and the dry run call the same code.
//
// How the kernel is entered:
//   linux: the Linux 64-bit boot protocol (zero page, long mode). A bzImage
//          is loaded as is; an ELF vmlinux is loaded at its p_paddr and
//          entered at e_entry with a zero page the VMM builds.
//   pvh:   the PVH boot protocol (start_info, 32-bit protected mode) at the
//          XEN_ELFNOTE_PHYS32_ENTRY of an ELF vmlinux; for a bzImage the
//          compressed payload is first decompressed to its vmlinux ELF.
//   auto:  pvh when the kernel offers a PVH entry: an ELF vmlinux with the
//          PVH note, or a bzImage whose payload decompresses to one (the
//          payload is decompressed to find out, and what was decompressed is
//          what boots: in the nested L1 that reaches user space sooner than
//          the guest's own decompressor); linux otherwise, including a
//          bzImage whose payload does not decompress.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boot/entry_state_x86.h"
#include "boot/memory_map.h"
#include "boot/x86_boot.h"
#include "boot/platform_description.h"
#include "loader/guest_memory.h"
#include "loader/image_source.h"

namespace boot {

enum class X86EntryChoice { kAuto, kLinux, kPvh };

// Turns a bzImage into the vmlinux ELF its payload holds. The default is
// loader::extract_bzimage_vmlinux; a VMM may hand in its own (vmm/ keeps
// decompressed kernels in a cache), which is why this is a parameter and
// boot/ itself never touches any file but the kernel and initrd.
using PayloadDecompressor =
    std::function<loader::Result<std::unique_ptr<loader::ImageSource>>(const loader::ImageSource& bzimage)>;

struct X86BootRequest {
  std::string kernel;                 // path
  std::optional<std::string> initrd;  // path
  std::string cmdline;
  uint32_t cpus = 1;
  X86EntryChoice entry = X86EntryChoice::kAuto;
  PlatformDescription platform;       // the devices' AML
  // Linux entry of a bzImage: decompress the payload and check it is a
  // loadable vmlinux first (loader::verify_bzimage_payload). The Linux path
  // itself never reads the payload; without this a damaged one shows only
  // as the guest dying in its own decompressor.
  bool verify_bzimage_payload = false;
  // How the pvh and auto paths get a bzImage's vmlinux; empty: loader::extract_bzimage_vmlinux.
  PayloadDecompressor decompress_payload;
};

struct PreparedX86Boot {
  X86EntryState entry;
  std::string description;  // e.g. "pvh (bzImage payload → vmlinux)"
  std::vector<LayoutItem> layout;  // what setup_x86_boot wrote where, for --dry-run
};

loader::Result<PreparedX86Boot> prepare_x86_boot(loader::GuestMemory& mem, const MemoryMap& map,
                                                 const X86BootRequest& request);

}  // namespace boot
