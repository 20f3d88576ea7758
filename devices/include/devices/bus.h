// A bus maps guest address ranges (port I/O or MMIO: one Bus instance each)
// to devices. Ranges are registered before the vCPUs start and never change
// afterwards, so lookups take no lock; devices that are touched from several
// threads (vCPUs and the console) lock themselves.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/device.h"
#include "devices/error.h"

namespace devices {

enum class BusKind { kPio, kMmio };
std::string_view to_string(BusKind kind);

// Accesses that reached one registered range; for the boot report, which
// names the ranges that cost a boot its exits.
struct RangeCount {
  std::string name;
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
};

struct BusStats {
  uint64_t unknown_reads = 0;
  uint64_t unknown_writes = 0;
  uint64_t first_unknown_address = 0;  // for the boot report: where the guest first went astray
  bool any_unknown = false;
};

class Bus {
 public:
  explicit Bus(BusKind kind) : kind_(kind) {}
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Maps [base, base+size) to `device`. The device sees offsets starting at
  // `device_offset` (so a device with registers at two separate places, like
  // the i8042 at 0x60 and 0x64, registers two ranges and tells them apart).
  // Overlapping an existing range, an empty or wrapping range, or a null
  // device is an error naming both ranges.
  Result<void> add(uint64_t base, uint64_t size, std::shared_ptr<Device> device, std::string name,
                   uint64_t device_offset = 0);

  // Dispatches an access. Returns false when no device claims the whole
  // access: a read then yields all ones, a write is dropped, and the
  // counters go up. An access straddling the end of a range is unknown too.
  bool read(uint64_t address, std::span<std::byte> data);
  bool write(uint64_t address, std::span<const std::byte> data);

  BusKind kind() const { return kind_; }
  BusStats stats() const;
  // Every range with at least one access, the busiest first.
  std::vector<RangeCount> range_counts() const;
  // Name of the device owning address, or empty.
  std::string_view name_at(uint64_t address) const;

 private:
  struct Counters {
    std::atomic<uint64_t> reads{0};
    std::atomic<uint64_t> writes{0};
  };
  struct Range {
    uint64_t base;
    uint64_t size;
    uint64_t device_offset;
    std::shared_ptr<Device> device;
    std::string name;
    // Behind a pointer: atomics do not move, and ranges_ does when it grows.
    std::unique_ptr<Counters> counters;
  };
  const Range* find(uint64_t address, uint64_t len) const;
  void count_unknown(uint64_t address, std::atomic<uint64_t>& counter);

  BusKind kind_;
  std::vector<Range> ranges_;  // sorted by base, disjoint
  std::atomic<uint64_t> unknown_reads_{0};
  std::atomic<uint64_t> unknown_writes_{0};
  std::atomic<uint64_t> first_unknown_{0};
  std::atomic<bool> any_unknown_{false};
};

}  // namespace devices
