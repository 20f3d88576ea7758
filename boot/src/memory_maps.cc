#include "boot/memory_maps.h"

#include "boot/acpi/acpi_tables.h"
#include "boot/dtb_aarch64.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/memory_map_x86.h"

namespace boot {
namespace {

using loader::ErrorCode;
using loader::fail;

// The least a Linux kernel plus initramfs can use on the DT architectures;
// also keeps the DTB slot and the kernel apart.
constexpr uint64_t kMinFdtMemory = 64ull << 20;
constexpr uint64_t kFdtRamAlign = 2ull << 20;
// KVM's default IPA space (KVM_CREATE_VM type 0) is 40 bits.
constexpr uint64_t kAarch64IpaLimit = 1ull << 40;
// Sv39 reaches 256 GiB of physical addresses above the RAM base without trouble; more is not a micro-VM.
constexpr uint64_t kRiscv64MaxMemory = 256ull << 30;

Result<void> check_fdt_ram(std::string_view arch, uint64_t size) {
  if (size < kMinFdtMemory)
    return fail(ErrorCode::kInvalidArgument, "{:#x} bytes: {} guests need at least 64 MiB", size, arch);
  if (size % kFdtRamAlign != 0)
    return fail(ErrorCode::kInvalidArgument, "{:#x} bytes: not a multiple of 2 MiB", size);
  return {};
}

}  // namespace

Result<MemoryMap> aarch64_memory_map(uint64_t size) {
  if (auto r = check_fdt_ram("aarch64", size); !r) return std::unexpected(r.error());
  if (size > kAarch64IpaLimit - aarch64::kRamBase)
    return fail(ErrorCode::kOutOfBounds, "{:#x} bytes: RAM from {:#x} would end beyond the 40-bit IPA space", size,
                aarch64::kRamBase);
  MemoryMap map;
  map.arch = loader::Arch::kAarch64;
  map.ram.push_back({"ram", aarch64::kRamBase, size, RangeKind::kRam});
  map.devices.push_back({"gic-dist", aarch64::kGicDistBase, aarch64::kGicV3DistSize, RangeKind::kMmio});
  map.devices.push_back(
      {"gic-redist", aarch64::kGicRedistBase, aarch64::kGicRedistLimit - aarch64::kGicRedistBase, RangeKind::kMmio});
  return map;
}

Result<MemoryMap> riscv64_memory_map(uint64_t size) {
  if (auto r = check_fdt_ram("riscv64", size); !r) return std::unexpected(r.error());
  if (size > kRiscv64MaxMemory)
    return fail(ErrorCode::kOutOfBounds, "{:#x} bytes: more than the 256 GiB this VMM maps for riscv64", size);
  MemoryMap map;
  map.arch = loader::Arch::kRiscv64;
  map.ram.push_back({"ram", riscv64::kRamBase, size, RangeKind::kRam});
  return map;
}

Result<MemoryMap> memory_map_for(loader::Arch arch, uint64_t size) {
  switch (arch) {
    case loader::Arch::kX86_64: return x86_memory_map(size);
    case loader::Arch::kAarch64: return aarch64_memory_map(size);
    case loader::Arch::kRiscv64: return riscv64_memory_map(size);
  }
  return fail(ErrorCode::kInvalidArgument, "unknown architecture");
}

uint32_t max_cpus(loader::Arch arch) {
  switch (arch) {
    case loader::Arch::kX86_64: return acpi::kMaxCpus;
    case loader::Arch::kAarch64: return aarch64_max_cpus(GicVersion::kV3);
    case loader::Arch::kRiscv64: return riscv64::kMaxHarts;
  }
  return 1;
}

}  // namespace boot
