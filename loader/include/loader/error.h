// One error type for the loader library: a code a caller can branch on and a
// message a user can act on (it names the field, the file offset and the value).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace loader {

enum class ErrorCode {
  kIo,               // open/read/mmap failed
  kTruncated,        // the file ends before a structure does
  kBadMagic,         // not the format we were asked to read
  kUnsupported,      // valid, but a variant we do not load (version, flag)
  kInvalidField,     // a header field holds an impossible value
  kOutOfBounds,      // an address range is outside guest memory or a limit
  kOverlap,          // two ranges that must be disjoint overlap
  kOverflow,         // an address or size computation wraps
  kWrongArch,        // a kernel for another architecture than requested
  kDecompress,       // the compressed stream is corrupt
  kTooLarge,         // output exceeds the room it was given
  kInvalidArgument,  // a caller-supplied value is wrong (cmdline text, ...)
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

// Builds the unexpected value for a failing Result: `return fail(ErrorCode::kTruncated, "...", x);`
template <class... Args>
[[nodiscard]] std::unexpected<Error> fail(ErrorCode code, fmt::format_string<Args...> format,
                                          Args&&... args) {
  return std::unexpected(Error{code, fmt::format(format, std::forward<Args>(args)...)});
}

// Prefixes context ("bzImage payload: ") to an error travelling up.
inline Error with_context(Error error, std::string_view context) {
  error.message = fmt::format("{}: {}", context, error.message);
  return error;
}

}  // namespace loader
