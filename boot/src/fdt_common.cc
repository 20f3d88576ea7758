#include "fdt_common.h"

#include <string>

#include <fmt/format.h>

namespace boot::detail {

using loader::ErrorCode;
using loader::fail;

loader::Result<void> check_dt_ram(std::string_view what, const RamRange& ram) {
  if (ram.size == 0) return fail(ErrorCode::kInvalidArgument, "{}: ram size is 0", what);
  if (!ram.base.checked_add(ram.size))
    return fail(ErrorCode::kOverflow, "{}: ram {} + {:#x} wraps", what, ram.base, ram.size);
  return {};
}

loader::Result<void> check_dt_cmdline(std::string_view what, std::string_view cmdline, uint64_t capacity) {
  if (cmdline.size() + 1 > capacity)
    return fail(ErrorCode::kTooLarge, "{}: cmdline of {} bytes exceeds the {}-byte limit "
                "(COMMAND_LINE_SIZE, NUL included)", what, cmdline.size(), capacity);
  if (size_t nul = cmdline.find('\0'); nul != std::string_view::npos)
    return fail(ErrorCode::kInvalidArgument, "{}: cmdline holds a NUL byte at offset {}", what, nul);
  return {};
}

loader::Result<void> check_dt_initrd(std::string_view what, const RamRange& ram,
                                     const std::optional<loader::InitrdPlacement>& initrd) {
  if (!initrd) return {};
  auto end = initrd->address.checked_add(initrd->size);
  auto ram_end = ram.base.unchecked_add(ram.size);
  if (!end) return fail(ErrorCode::kOverflow, "{}: initrd {} + {:#x} wraps", what, initrd->address, initrd->size);
  if (initrd->address < ram.base || *end > ram_end)
    return fail(ErrorCode::kOutOfBounds, "{}: initrd [{}, {}) is outside RAM [{}, {})", what, initrd->address, *end,
                ram.base, ram_end);
  return {};
}

void write_memory_node(FdtWriter& w, const RamRange& ram) {
  w.begin_node(fmt::format("memory@{:x}", ram.base.value()));
  w.property_string("device_type", "memory");
  w.property_u64s("reg", {ram.base.value(), ram.size});
  w.end_node();
}

void write_chosen_node(FdtWriter& w, const ChosenNode& chosen) {
  w.begin_node("chosen");
  w.property_string("bootargs", chosen.bootargs);
  if (!chosen.stdout_path.empty()) w.property_string("stdout-path", chosen.stdout_path);
  if (chosen.initrd) {
    w.property_u64("linux,initrd-start", chosen.initrd->address.value());
    w.property_u64("linux,initrd-end", chosen.initrd->address.value() + chosen.initrd->size);
  }
  if (!chosen.rng_seed.empty()) w.property_bytes("rng-seed", chosen.rng_seed);
  if (chosen.kaslr_seed) w.property_u64("kaslr-seed", *chosen.kaslr_seed);
  w.end_node();
}

loader::Result<std::vector<std::byte>> finish_dt(FdtWriter& w, std::string_view what) {
  w.end_node();
  auto dtb = w.finish();
  if (!dtb) return std::unexpected(loader::with_context(dtb.error(), what));
  return dtb;
}

loader::Result<GuestAddress> place_dt(loader::GuestMemory& mem, loader::Arch arch, const RamRange& ram,
                                      const std::function<loader::Result<std::vector<std::byte>>()>& build) {
  auto layout = plan_fdt_layout(arch, ram, ram.base, 0);
  if (!layout) return std::unexpected(layout.error());
  auto dtb = build();
  if (!dtb) return std::unexpected(dtb.error());
  if (auto r = write_dtb(mem, layout->dtb_slot, *dtb); !r) return std::unexpected(r.error());
  return layout->dtb_slot;
}

}  // namespace boot::detail
