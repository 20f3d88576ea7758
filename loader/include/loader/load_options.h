// What a caller asks of a kernel load: where it may go and for which arch.
#pragma once

#include <cstdint>
#include <optional>

#include "loader/guest_address.h"
#include "loader/kernel.h"

namespace loader {

struct LoadOptions {
  // Refuse a kernel built for another architecture (kWrongArch, naming both).
  std::optional<Arch> arch;
  // ELF segments must lie at or above this address (x86: keep the kernel out
  // of the low boot-data area; 1 MiB is the usual value).
  GuestAddress highmem_start{0};
  // bzImage: where the protected-mode kernel goes (default 1 MiB, or
  // pref_address when relocation is impossible). arm64/riscv Image: the RAM
  // base the image is placed relative to (2 MiB aligned + text_offset); when
  // unset, the lowest RAM region's base.
  std::optional<GuestAddress> load_address;
  // Upper bound on a decompressed kernel, on top of "what fits in guest
  // memory": a decompression bomb stops here with kTooLarge.
  uint64_t max_decompressed_size = 1ull << 30;
  // ELF from a file: map page-aligned segments privately from the file
  // (copy-on-write) instead of copying them, so VMs share the page cache and
  // a load costs no page faults until the guest touches the pages.
  bool zero_copy = false;
};

}  // namespace loader
