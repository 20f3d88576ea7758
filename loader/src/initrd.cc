#include "loader/initrd.h"

#include <algorithm>

namespace loader {
namespace {

// Highest aligned start in [max(region base, lowest), min(region end, limit) - size].
std::optional<GuestAddress> fit_in_region(const GuestRegion& region, uint64_t size, const InitrdOptions& options) {
  uint64_t top = std::min(region.end().value(), options.limit.value());
  uint64_t bottom = std::max(region.base().value(), options.lowest.value());
  if (top < size) return std::nullopt;
  GuestAddress start = GuestAddress(top - size).align_down(options.alignment);
  if (start.value() < bottom) return std::nullopt;
  return start;
}

}  // namespace

Result<InitrdPlacement> load_initrd(const ImageSource& src, GuestMemory& mem, const InitrdOptions& options) {
  uint64_t size = src.size();
  // An empty initrd is almost always a wrong path or a failed build; the
  // kernel would silently boot without one.
  if (size == 0) return fail(ErrorCode::kInvalidArgument, "initrd {}: the file is empty", src.name());
  if (options.alignment == 0 || (options.alignment & (options.alignment - 1)) != 0)
    return fail(ErrorCode::kInvalidArgument, "initrd {}: alignment {:#x} is not a power of two", src.name(),
                options.alignment);

  GuestAddress address;
  if (options.address) {
    address = *options.address;
    auto end = address.checked_add(size);
    if (!end)
      return fail(ErrorCode::kOverflow, "initrd {} ({:#x} bytes) at {}: the end wraps the address space", src.name(),
                  size, address);
    if (address < options.lowest || *end > options.limit)
      return fail(ErrorCode::kOutOfBounds, "initrd {} ({:#x} bytes) at {}: outside the allowed range [{}, {})",
                  src.name(), size, address, options.lowest, options.limit);
    if (!mem.contains(address, size))
      return fail(ErrorCode::kOutOfBounds, "initrd {} ({:#x} bytes) at {}: not inside one guest memory region",
                  src.name(), size, address);
  } else {
    // From the top down: guest memory may have holes (the x86 MMIO gap), so
    // each region is tried on its own.
    std::optional<GuestAddress> found;
    const auto& regions = mem.regions();
    for (auto it = regions.rbegin(); it != regions.rend() && !found; ++it) found = fit_in_region(*it, size, options);
    if (!found)
      return fail(ErrorCode::kOutOfBounds,
                  "initrd {} ({:#x} bytes) does not fit in guest memory below {} and at or above {} "
                  "({:#x}-aligned); guest memory is {:#x} bytes",
                  src.name(), size, options.limit, options.lowest, options.alignment, mem.total_size());
    address = *found;
  }

  if (options.zero_copy && src.fd() >= 0 && address.is_aligned(4096)) {
    if (auto r = mem.map_file(address, src.fd(), 0, size); r) return InitrdPlacement{address, size};
    // Not mappable (a pipe-like file, an odd file system): copy instead.
  }
  if (auto r = load_into_memory(src, 0, size, mem, address); !r)
    return std::unexpected(with_context(r.error(), fmt::format("initrd at {}", address)));
  return InitrdPlacement{address, size};
}

}  // namespace loader
