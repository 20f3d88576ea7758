#include "loader/error.h"

namespace loader {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kTruncated: return "truncated";
    case ErrorCode::kBadMagic: return "bad magic";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kInvalidField: return "invalid field";
    case ErrorCode::kOutOfBounds: return "out of bounds";
    case ErrorCode::kOverlap: return "overlap";
    case ErrorCode::kOverflow: return "overflow";
    case ErrorCode::kWrongArch: return "wrong architecture";
    case ErrorCode::kDecompress: return "decompression failed";
    case ErrorCode::kTooLarge: return "too large";
    case ErrorCode::kInvalidArgument: return "invalid argument";
  }
  return "unknown";
}

}  // namespace loader
