#include "boot/e820.h"

#include <algorithm>

#include "boot/layout_x86.h"

namespace boot {

Result<std::vector<E820Entry>> build_e820(const MemoryMap& map) {
  if (map.ram.empty() || map.ram.front().base != 0 || map.ram.front().size < x86::kHighMemStart)
    return fail(ErrorCode::kInvalidArgument,
                "e820: the memory map needs RAM from 0 through 1 MiB for the low boot area (first RAM range {})",
                map.ram.empty() ? std::string("none")
                                : fmt::format("{:#x}+{:#x}", map.ram.front().base, map.ram.front().size));
  std::vector<E820Entry> out;
  out.push_back({0, x86::kLowRamEnd, kE820Ram});
  out.push_back({x86::kLowRamEnd, x86::kHighMemStart - x86::kLowRamEnd, kE820Reserved});
  const auto& first = map.ram.front();
  if (first.size > x86::kHighMemStart)
    out.push_back({x86::kHighMemStart, first.size - x86::kHighMemStart, kE820Ram});
  for (size_t i = 1; i < map.ram.size(); ++i) {
    const auto& r = map.ram[i];
    if (r.base < out.back().addr + out.back().size)
      return fail(ErrorCode::kOverlap, "e820: RAM range {} at {:#x} is not above the previous one", r.name, r.base);
    out.push_back({r.base, r.size, r.kind == RangeKind::kRam ? kE820Ram : kE820Reserved});
  }
  for (const auto& d : map.devices) {
    if (d.kind != RangeKind::kReserved) continue;  // MMIO windows are simply absent from e820
    out.push_back({d.base, d.size, kE820Reserved});
  }
  std::sort(out.begin(), out.end(), [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
  if (out.size() > kE820MaxEntries)
    return fail(ErrorCode::kTooLarge, "e820: {} entries exceed the zero page's {} (e820_table)", out.size(),
                kE820MaxEntries);
  return out;
}

}  // namespace boot
