#include "devices/post_code.h"

#include <cstring>

namespace devices {

void PostCode::read(uint64_t, std::span<std::byte> data) {
  if (data.empty()) return;
  std::memset(data.data(), 0xff, data.size());
  std::lock_guard lock(mutex_);
  data[0] = std::byte{last_};
}

void PostCode::write(uint64_t, std::span<const std::byte> data) {
  if (data.empty()) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  last_ = std::to_integer<uint8_t>(data[0]);
  ++total_;
  if (entries_.size() < capacity_) entries_.push_back(Entry{last_, now});
}

std::vector<PostCode::Entry> PostCode::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

uint64_t PostCode::total_writes() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace devices
