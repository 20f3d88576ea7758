#include "boot/fdt_layout.h"

#include <algorithm>

#include "boot/fdt_writer.h"

namespace boot {

using loader::Error;
using loader::ErrorCode;
using loader::Result;

using loader::fail;

namespace {

constexpr uint64_t kPageSize = 4096;

}  // namespace

loader::Result<FdtBootLayout> plan_fdt_layout(loader::Arch arch, RamRange ram, GuestAddress kernel_start,
                                              uint64_t kernel_size) {
  if (arch == loader::Arch::kX86_64)
    return fail(ErrorCode::kWrongArch, "device tree layout: x86_64 boots without a device tree");
  auto ram_end = ram.base.checked_add(ram.size);
  if (!ram_end) return fail(ErrorCode::kOverflow, "device tree layout: RAM {} + {:#x} wraps", ram.base, ram.size);
  auto kernel_end = kernel_start.checked_add(kernel_size);
  if (!kernel_end)
    return fail(ErrorCode::kOverflow, "device tree layout: kernel {} + {:#x} wraps", kernel_start, kernel_size);
  if (kernel_start < ram.base || *kernel_end > *ram_end)
    return fail(ErrorCode::kOutOfBounds, "device tree layout: kernel [{}, {}) is outside RAM [{}, {})", kernel_start,
                *kernel_end, ram.base, *ram_end);
  if (ram.size < kFdtMaxSize)
    return fail(ErrorCode::kOutOfBounds, "device tree layout: RAM of {:#x} bytes cannot hold the {:#x}-byte DTB slot",
                ram.size, kFdtMaxSize);
  GuestAddress slot = GuestAddress(ram_end->value() - kFdtMaxSize).align_down(kFdtSlotAlignment);
  GuestAddress lowest = kernel_end->align_up(kPageSize);
  if (slot < ram.base || slot < lowest)
    return fail(ErrorCode::kOutOfBounds, "device tree layout: RAM [{}, {}) is too small: the kernel ends at {} but the "
                "2 MiB DTB slot would start at {}", ram.base, *ram_end, *kernel_end, slot);

  GuestAddress limit = slot;
  if (arch == loader::Arch::kAarch64) {
    GuestAddress window = kernel_start.align_down(kArm64InitrdWindowAlignment);
    if (auto window_end = window.checked_add(kArm64InitrdWindowSize)) limit = std::min(limit, *window_end);
  }
  return FdtBootLayout{ram, slot, lowest, limit};
}

loader::Result<FdtBootLayout> plan_fdt_layout(loader::Arch arch, const loader::GuestMemory& mem,
                                              const loader::LoadedKernel& kernel) {
  if (kernel.arch != arch)
    return fail(ErrorCode::kWrongArch, "{} boot: the kernel is built for {}", loader::to_string(arch),
                loader::to_string(kernel.arch));
  auto ram = ram_containing(mem, kernel.load_address);
  if (!ram) return std::unexpected(loader::with_context(ram.error(), "kernel load address"));
  return plan_fdt_layout(arch, *ram, kernel.load_address, kernel.load_size);
}

void sort_by_address(std::vector<PlacedRange>& layout) {
  std::stable_sort(layout.begin(), layout.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
}

loader::InitrdOptions initrd_options(const FdtBootLayout& layout) {
  loader::InitrdOptions options;
  options.limit = layout.initrd_limit;
  options.lowest = layout.initrd_lowest;
  options.alignment = kPageSize;
  return options;
}

loader::Result<void> check_initrd_placement(const FdtBootLayout& layout, const loader::InitrdPlacement& initrd) {
  auto end = initrd.address.checked_add(initrd.size);
  if (!end) return fail(ErrorCode::kOverflow, "initrd: {} + {:#x} wraps", initrd.address, initrd.size);
  if (initrd.address < layout.initrd_lowest || *end > layout.initrd_limit)
    return fail(ErrorCode::kOutOfBounds, "initrd: [{}, {}) is outside the window [{}, {}) between the kernel and the "
                "device tree (or the arm64 32 GiB window around the kernel)", initrd.address, *end,
                layout.initrd_lowest, layout.initrd_limit);
  return {};
}

loader::Result<void> write_dtb(loader::GuestMemory& mem, GuestAddress address, std::span<const std::byte> dtb) {
  if (dtb.size() > kFdtMaxSize)
    return fail(ErrorCode::kTooLarge, "device tree: {:#x} bytes exceed the {:#x}-byte limit", dtb.size(), kFdtMaxSize);
  if (!address.is_aligned(8)) return fail(ErrorCode::kInvalidArgument, "device tree: address {} is not 8-byte aligned",
                                          address);
  auto end = address.checked_add(dtb.size());
  if (!end) return fail(ErrorCode::kOverflow, "device tree: {} + {:#x} wraps", address, dtb.size());
  if (!dtb.empty() && address.align_down(kFdtSlotAlignment) != GuestAddress(end->value() - 1).align_down(
                                                                     kFdtSlotAlignment))
    return fail(ErrorCode::kInvalidArgument, "device tree: [{}, {}) crosses a 2 MiB boundary", address, *end);
  if (!mem.contains(address, dtb.size()))
    return fail(ErrorCode::kOutOfBounds, "device tree: [{}, {}) is outside guest memory", address, *end);
  return mem.write(address, dtb);
}

loader::Result<RamRange> ram_containing(const loader::GuestMemory& mem, GuestAddress addr) {
  const loader::GuestRegion* region = mem.find_region(addr);
  if (!region) return fail(ErrorCode::kOutOfBounds, "guest memory: no RAM region contains {}", addr);
  return RamRange{region->base(), region->size()};
}

}  // namespace boot
