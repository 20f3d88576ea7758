// One error type for the devices library: registration and the host-side
// backends (BlockBackend) can fail; a device model itself never fails a guest
// access (it fails the request or asks for a device reset instead).
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace devices {

enum class ErrorCode {
  kOverlap,          // an address range collides with one already registered
  kInvalidArgument,  // empty range, wrapping range, null device, a path that is no disk image
  kIo,               // a host read/write/flush/open failed
  kUnsupported,      // the backend cannot do this operation (read-only, no discard)
  kBusy,             // someone else holds the image's lock
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
