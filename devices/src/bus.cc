#include "devices/bus.h"

#include <algorithm>
#include <cstring>

namespace devices {

std::string_view to_string(BusKind kind) {
  switch (kind) {
    case BusKind::kPio: return "pio";
    case BusKind::kMmio: return "mmio";
  }
  return "?";
}

Result<void> Bus::add(uint64_t base, uint64_t size, std::shared_ptr<Device> device, std::string name,
                      uint64_t device_offset) {
  if (!device) {
    return fail(ErrorCode::kInvalidArgument, "{} bus: device '{}' at {:#x} is null", to_string(kind_), name, base);
  }
  uint64_t end = 0;
  if (size == 0 || __builtin_add_overflow(base, size - 1, &end)) {
    return fail(ErrorCode::kInvalidArgument, "{} bus: range of '{}' at {:#x} size {:#x} is empty or wraps",
                to_string(kind_), name, base, size);
  }
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), base,
                             [](const Range& r, uint64_t b) { return r.base < b; });
  // Only the neighbours can collide, since the ranges are sorted and disjoint.
  auto collides = [&](const Range& r) { return base <= r.base + (r.size - 1) && r.base <= end; };
  for (auto n : {it, it == ranges_.begin() ? ranges_.end() : std::prev(it)}) {
    if (n != ranges_.end() && collides(*n)) {
      return fail(ErrorCode::kOverlap, "{} bus: '{}' [{:#x}, {:#x}] overlaps '{}' [{:#x}, {:#x}]", to_string(kind_),
                  name, base, end, n->name, n->base, n->base + (n->size - 1));
    }
  }
  ranges_.insert(it, Range{base, size, device_offset, std::move(device), std::move(name), std::make_unique<Counters>()});
  return {};
}

const Bus::Range* Bus::find(uint64_t address, uint64_t len) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == ranges_.begin()) return nullptr;
  const Range& r = *std::prev(it);
  uint64_t off = address - r.base;
  if (off >= r.size || len > r.size - off) return nullptr;
  return &r;
}

void Bus::count_unknown(uint64_t address, std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
  bool expected = false;
  if (any_unknown_.compare_exchange_strong(expected, true)) first_unknown_.store(address);
}

bool Bus::read(uint64_t address, std::span<std::byte> data) {
  if (const Range* r = find(address, data.size())) {
    r->counters->reads.fetch_add(1, std::memory_order_relaxed);
    r->device->read(address - r->base + r->device_offset, data);
    return true;
  }
  std::memset(data.data(), 0xff, data.size());
  count_unknown(address, unknown_reads_);
  return false;
}

bool Bus::write(uint64_t address, std::span<const std::byte> data) {
  if (const Range* r = find(address, data.size())) {
    r->counters->writes.fetch_add(1, std::memory_order_relaxed);
    r->device->write(address - r->base + r->device_offset, data);
    return true;
  }
  count_unknown(address, unknown_writes_);
  return false;
}

BusStats Bus::stats() const {
  BusStats s;
  s.unknown_reads = unknown_reads_.load();
  s.unknown_writes = unknown_writes_.load();
  s.any_unknown = any_unknown_.load();
  s.first_unknown_address = first_unknown_.load();
  return s;
}

std::vector<RangeCount> Bus::range_counts() const {
  std::vector<RangeCount> out;
  for (const Range& r : ranges_) {
    RangeCount c{r.name, r.base, r.size, r.counters->reads.load(), r.counters->writes.load()};
    if (c.reads + c.writes) out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RangeCount& a, const RangeCount& b) { return a.reads + a.writes > b.reads + b.writes; });
  return out;
}

std::string_view Bus::name_at(uint64_t address) const {
  const Range* r = find(address, 1);
  return r ? std::string_view(r->name) : std::string_view();
}

}  // namespace devices
