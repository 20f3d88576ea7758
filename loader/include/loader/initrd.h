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
};

Result<InitrdPlacement> load_initrd(const ImageSource& src, GuestMemory& mem, const InitrdOptions& options);

}  // namespace loader
