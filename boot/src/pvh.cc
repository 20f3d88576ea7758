#include "boot/pvh.h"

namespace boot {

Result<HvmStartInfo> write_pvh_start_info(loader::GuestMemory& mem, const PvhConfig& config) {
  using loader::GuestAddress;
  if (config.e820.size() > config.memmap_capacity)
    return fail(ErrorCode::kTooLarge, "PVH: {} memory map entries exceed the {} that fit at memmap_paddr {:#x}",
                config.e820.size(), config.memmap_capacity, config.memmap_addr);
  uint64_t memmap_bytes = 0;
  if (__builtin_mul_overflow(config.e820.size(), sizeof(HvmMemmapEntry), &memmap_bytes) ||
      !GuestAddress(config.memmap_addr).checked_add(memmap_bytes))
    return fail(ErrorCode::kOverflow, "PVH: memmap at {:#x} with {} entries wraps", config.memmap_addr,
                config.e820.size());
  HvmStartInfo info{};
  info.magic = kHvmStartMagic;
  info.version = kHvmStartInfoVersion;
  info.cmdline_paddr = config.cmdline_addr;
  info.rsdp_paddr = config.rsdp_addr;
  info.memmap_paddr = config.memmap_addr;
  info.memmap_entries = static_cast<uint32_t>(config.e820.size());

  if (config.initrd && config.initrd->size > 0) {
    HvmModlistEntry module{};
    module.paddr = config.initrd->address.value();
    module.size = config.initrd->size;
    if (auto r = mem.write_obj(GuestAddress(config.modlist_addr), module); !r)
      return std::unexpected(with_context(r.error(), "PVH module list"));
    info.nr_modules = 1;
    info.modlist_paddr = config.modlist_addr;
  }
  for (size_t i = 0; i < config.e820.size(); ++i) {
    const auto& e = config.e820[i];
    HvmMemmapEntry entry{e.addr, e.size, e.type, 0};
    if (auto r = mem.write_obj(GuestAddress(config.memmap_addr + i * sizeof(HvmMemmapEntry)), entry); !r)
      return std::unexpected(with_context(r.error(), "PVH memmap"));
  }
  if (auto r = mem.write_obj(GuestAddress(config.start_info_addr), info); !r)
    return std::unexpected(with_context(r.error(), "PVH start_info"));
  return info;
}

}  // namespace boot
