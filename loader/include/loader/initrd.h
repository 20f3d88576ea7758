// Placing the initial ramdisk in guest memory.
#pragma once

#include <cstdint>
#include <optional>

#include "loader/guest_memory.h"
#include "loader/image_source.h"

namespace loader {

struct InitrdPlacement {
  GuestAddress address;
  uint64_t size = 0;
};

struct InitrdOptions {
  // Put it exactly here (bounds-checked) ...
  std::optional<GuestAddress> address;
  // ... or at the highest page-aligned address where it fits entirely below
  // this limit (exclusive) and at or above `lowest`.
  GuestAddress limit{~0ull};
  GuestAddress lowest{0};
  uint64_t alignment = 4096;
  // Map the file privately (copy-on-write) instead of copying it, when it
  // has a file descriptor and the address is page aligned: the boot then
  // costs no copy and no page faults until the guest reads the initrd, and
  // VMs share the page cache. The file must not change while the VM runs.
  bool zero_copy = false;
};

Result<InitrdPlacement> load_initrd(const ImageSource& src, GuestMemory& mem, const InitrdOptions& options);

}  // namespace loader
