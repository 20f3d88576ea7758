// One error type for vmm/: a message that says what failed and why (with the
// errno text for a failed ioctl) and the errno itself for callers that branch.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace vmm {

struct Error {
  std::string message;
  int err = 0;  // errno of the failing call, 0 if none
};

template <class T>
using Result = std::expected<T, Error>;

template <class... Args>
[[nodiscard]] std::unexpected<Error> fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error{fmt::format(format, std::forward<Args>(args)...), 0});
}

// "<what>: <strerror(err)>", keeping err.
[[nodiscard]] inline std::unexpected<Error> fail_errno(int err, std::string_view what) {
  return std::unexpected(Error{fmt::format("{}: {}", what, std::strerror(err)), err});
}

}  // namespace vmm
