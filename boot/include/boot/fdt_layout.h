// Where the device tree and the initrd go on the device-tree architectures
// (aarch64, riscv64), and a printable description of what lies where.
//
// The DTB gets the topmost 2 MiB-aligned 2 MiB block of RAM (the "slot") and
// sits at its start. That satisfies arm64 booting.rst (8-byte aligned, at
// most 2 MiB) and also keeps the blob inside one 2 MiB block, which the
// kernel maps as a cacheable block early on; the riscv boot doc has no
// stricter rule. Reserving the whole block up front makes the initrd limit
// independent of the DTB's final size, so the initrd can be loaded before the
// tree (which must name its address) is built. Linux only reserves the DTB's
// own bytes, so the rest of the slot is ordinary RAM to the guest.
//
// The initrd goes at the highest page-aligned address below the slot and
// above the kernel. arm64 also demands that it lie inside a 1 GiB-aligned
// window of at most 32 GiB that covers the kernel Image.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loader/error.h"
#include "loader/guest_address.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"
#include "loader/kernel.h"

namespace boot {

using loader::GuestAddress;

// One line of a dry-run layout printout: what lies where.
struct PlacedRange {
  std::string name;
  GuestAddress address;
  uint64_t size = 0;
};

struct RamRange {
  GuestAddress base;
  uint64_t size = 0;
};

struct FdtBootLayout {
  RamRange ram;
  GuestAddress dtb_slot;       // 2 MiB aligned; kFdtMaxSize bytes, all inside RAM
  GuestAddress initrd_lowest;  // first page after the kernel
  GuestAddress initrd_limit;   // exclusive upper bound for the initrd's end
};

inline constexpr uint64_t kFdtSlotAlignment = 2ull << 20;
inline constexpr uint64_t kArm64InitrdWindowAlignment = 1ull << 30;
inline constexpr uint64_t kArm64InitrdWindowSize = 32ull << 30;

// Plans the slots for a kernel occupying [kernel_start, kernel_start +
// kernel_size) of ram. Fails (kOutOfBounds) when RAM cannot hold the kernel
// and the DTB slot above it, (kOverflow) on wrapping ranges, and
// (kWrongArch) for x86_64.
loader::Result<FdtBootLayout> plan_fdt_layout(loader::Arch arch, RamRange ram, GuestAddress kernel_start,
                                              uint64_t kernel_size);

// The same for a kernel already loaded into mem: checks that it was built for
// arch (kWrongArch) and plans within the RAM region holding it.
loader::Result<FdtBootLayout> plan_fdt_layout(loader::Arch arch, const loader::GuestMemory& mem,
                                              const loader::LoadedKernel& kernel);

// Options that make loader::load_initrd pick the highest fit in the window.
loader::InitrdOptions initrd_options(const FdtBootLayout& layout);

// Checks that an initrd someone else placed lies inside the planned window.
loader::Result<void> check_initrd_placement(const FdtBootLayout& layout, const loader::InitrdPlacement& initrd);

// Writes a finished DTB at address: 8-byte aligned, at most kFdtMaxSize, not
// crossing a 2 MiB boundary, inside guest memory.
loader::Result<void> write_dtb(loader::GuestMemory& mem, GuestAddress address, std::span<const std::byte> dtb);

// Orders a layout printout by address (stable for equal addresses).
void sort_by_address(std::vector<PlacedRange>& layout);

// The RAM region of mem that contains addr.
loader::Result<RamRange> ram_containing(const loader::GuestMemory& mem, GuestAddress addr);

}  // namespace boot
