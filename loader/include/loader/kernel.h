// What every kernel format has in common: the facts a VMM needs about a
// kernel (KernelInfo, from the headers alone) and where it ended up in guest
// memory (LoadedKernel). Format-specific details live in each format's header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/error.h"
#include "loader/guest_address.h"

namespace loader {

enum class Arch { kX86_64, kAarch64, kRiscv64 };
enum class KernelFormat { kElf, kBzImage, kArm64Image, kRiscvImage };
enum class Compression { kNone, kGzip, kBzip2, kXz, kLzma, kLzo, kLz4Legacy, kLz4Frame, kZstd };

std::string_view to_string(Arch arch);
std::string_view to_string(KernelFormat format);
std::string_view to_string(Compression compression);
// "x86_64" / "aarch64" (also "arm64") / "riscv64"; nullopt for anything else.
std::optional<Arch> parse_arch(std::string_view name);

// A header field as a VMM author wants to see it in `vmm inspect`.
struct HeaderField {
  std::string name;   // e.g. "kernel_alignment"
  uint64_t offset;    // file offset of the field
  uint64_t value;
  std::string note;   // optional decoded meaning, e.g. "LOADED_HIGH|CAN_USE_HEAP"
};

struct KernelInfo {
  KernelFormat format = KernelFormat::kElf;
  Arch arch = Arch::kX86_64;
  // How the file itself is wrapped (a compressed Image.gz, an EFI zboot
  // image) — not the bzImage's internal payload, which is payload_compression.
  Compression compression = Compression::kNone;
  bool efi_zboot = false;
  bool pe_stub = false;                 // begins with an "MZ" EFI stub
  std::string version;                  // "Linux version ..." if found
  std::string protocol_version;         // bzImage "2.15"; Image header version
  uint64_t preferred_load_address = 0;  // physical address the kernel prefers
  uint64_t load_size = 0;               // memory the kernel needs from there (bss/init_size included)
  uint64_t entry = 0;                   // 64-bit entry (x86) or entry offset/address (arm64/riscv)
  std::optional<uint64_t> pvh_entry;    // XEN_ELFNOTE_PHYS32_ENTRY, x86 only
  bool relocatable = false;
  uint64_t alignment = 0;               // required load alignment, 0 if none
  Compression payload_compression = Compression::kNone;  // bzImage payload
  std::vector<HeaderField> fields;      // format header fields, in file order
};

struct LoadedKernel {
  KernelFormat format = KernelFormat::kElf;
  Arch arch = Arch::kX86_64;
  GuestAddress load_address;           // lowest guest address the kernel occupies
  uint64_t load_size = 0;              // bytes reserved from load_address (incl. bss / init_size)
  GuestAddress entry;                  // where the first vCPU starts (x86: 64-bit entry)
  std::optional<GuestAddress> pvh_entry;
  // bzImage only: the setup header bytes from file offset 0x1f1 to its end,
  // as the boot protocol wants them copied into the zero page (with the
  // loader's own fields still to be filled by boot/).
  std::vector<std::byte> setup_header;
};

}  // namespace loader
