// A guest-physical address as its own type, so it cannot be mixed up with a
// host pointer, a file offset or a size.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace loader {

class GuestAddress {
 public:
  constexpr GuestAddress() = default;
  constexpr explicit GuestAddress(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  // Wrapping is always a bug in address arithmetic on untrusted input:
  // callers get nullopt instead of a small address.
  constexpr std::optional<GuestAddress> checked_add(uint64_t offset) const {
    uint64_t out = 0;
    if (__builtin_add_overflow(value_, offset, &out)) return std::nullopt;
    return GuestAddress(out);
  }
  constexpr GuestAddress unchecked_add(uint64_t offset) const { return GuestAddress(value_ + offset); }
  constexpr GuestAddress align_up(uint64_t alignment) const {
    return GuestAddress((value_ + alignment - 1) & ~(alignment - 1));
  }
  constexpr GuestAddress align_down(uint64_t alignment) const {
    return GuestAddress(value_ & ~(alignment - 1));
  }
  constexpr bool is_aligned(uint64_t alignment) const { return (value_ & (alignment - 1)) == 0; }

  constexpr auto operator<=>(const GuestAddress&) const = default;

 private:
  uint64_t value_ = 0;
};

// True when [a, a+a_len) and [b, b+b_len) share a byte. Lengths of zero never overlap.
constexpr bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len) {
  if (a_len == 0 || b_len == 0) return false;
  return a < b + b_len && b < a + a_len;
}

}  // namespace loader

template <>
struct fmt::formatter<loader::GuestAddress> : fmt::formatter<uint64_t> {
  auto format(loader::GuestAddress a, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{:#x}", a.value());
  }
};
