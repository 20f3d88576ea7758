// Port 0x80, the POST diagnostic port: firmware and kernels write progress
// codes there (Linux also writes it as an I/O delay). Codes are recorded with
// their time for the boot report; the record is capped, the count is not.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "devices/platform_device.h"

namespace devices {

class PostCode : public PlatformDevice {
 public:
  struct Entry {
    uint8_t code;
    std::chrono::steady_clock::time_point when;
  };
  static constexpr size_t kDefaultCapacity = 256;

  explicit PostCode(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  std::string_view name() const override { return "post code"; }
  std::vector<Window> windows() const override { return {{BusKind::kPio, 0x80, 1, 0, "post code"}}; }

  // Reads return the last code written, as on chipsets that latch it.
  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  std::vector<Entry> entries() const;  // the first `capacity` writes
  uint64_t total_writes() const;

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  uint64_t total_ = 0;
  uint8_t last_ = 0xff;
};

}  // namespace devices
