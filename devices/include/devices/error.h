// One error type for the devices library (registration is the only fallible
// step: a device model itself never fails a guest access).
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace devices {

enum class ErrorCode {
  kOverlap,          // an address range collides with one already registered
  kInvalidArgument,  // empty range, wrapping range, null device
};

struct Error {
  ErrorCode code;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

template <class... Args>
[[nodiscard]] std::unexpected<Error> fail(ErrorCode code, fmt::format_string<Args...> format,
                                          Args&&... args) {
  return std::unexpected(Error{code, fmt::format(format, std::forward<Args>(args)...)});
}

}  // namespace devices
