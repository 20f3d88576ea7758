#include "boot/memory_map.h"

#include <algorithm>

namespace boot {

uint64_t MemoryMap::ram_size() const {
  uint64_t total = 0;
  for (const auto& r : ram) total += r.size;
  return total;
}

uint64_t MemoryMap::ram_end() const {
  uint64_t end = 0;
  for (const auto& r : ram) end = std::max(end, r.end());
  return end;
}

const MemoryRange* MemoryMap::find_device(std::string_view wanted) const {
  for (const auto& d : devices)
    if (d.name == wanted) return &d;
  return nullptr;
}

bool MemoryMap::ram_contains(uint64_t addr, uint64_t len) const {
  for (const auto& r : ram) {
    if (addr >= r.base && addr - r.base <= r.size && len <= r.size - (addr - r.base)) return true;
  }
  return false;
}

std::vector<loader::RegionSpec> guest_memory_regions(const MemoryMap& map) {
  std::vector<loader::RegionSpec> specs;
  specs.reserve(map.ram.size());
  for (const auto& r : map.ram) specs.push_back({loader::GuestAddress(r.base), r.size});
  return specs;
}

}  // namespace boot
