#include "loader/version_string.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <vector>

namespace loader {
namespace {

constexpr std::string_view kPrefix = "Linux version ";
static_assert(kVersionSearchChunk > 2 * kMaxVersionLength);
static_assert(kMaxVersionLength > kPrefix.size());

bool is_printable(std::byte b) { return b >= std::byte{0x20} && b <= std::byte{0x7e}; }

// The banner starting at `at` (which holds kPrefix), or nullopt when it is
// not a real one.
std::optional<std::string> banner_at(std::span<const std::byte> buf, size_t at) {
  size_t end = std::min(buf.size(), at + kMaxVersionLength);
  size_t first = at + kPrefix.size();
  if (first >= end || *reinterpret_cast<const char*>(&buf[first]) < '0' ||
      *reinterpret_cast<const char*>(&buf[first]) > '9')
    return std::nullopt;
  size_t stop = first;
  while (stop < end && is_printable(buf[stop])) ++stop;
  return std::string(reinterpret_cast<const char*>(buf.data() + at), stop - at);
}

}  // namespace

Result<std::optional<std::string>> find_linux_version(const ImageSource& src, uint64_t offset, uint64_t len) {
  if (offset > src.size() || len > src.size() - offset)
    return fail(ErrorCode::kTruncated, "{}: version search range [{:#x}, +{:#x}) is outside the {:#x}-byte file",
                src.name(), offset, len, src.size());
  const std::byte* prefix = reinterpret_cast<const std::byte*>(kPrefix.data());
  std::boyer_moore_horspool_searcher searcher(prefix, prefix + kPrefix.size());
  std::vector<std::byte> buf(static_cast<size_t>(std::min(len, kVersionSearchChunk)));
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  while (pos < end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
    std::span<std::byte> chunk(buf.data(), n);
    if (auto r = src.read_at(pos, chunk); !r) return std::unexpected(r.error());
    bool last = pos + n == end;
    // A hit starting in the overlap is found again, whole, in the next chunk.
    size_t limit = last ? n : n - kMaxVersionLength;
    auto it = chunk.begin();
    while (true) {
      it = std::search(it, chunk.end(), searcher);
      if (it == chunk.end()) break;
      size_t at = static_cast<size_t>(it - chunk.begin());
      if (at >= limit) break;
      if (auto banner = banner_at(chunk, at)) return banner;
      ++it;
    }
    if (last) break;
    pos += limit;
  }
  return std::optional<std::string>{};
}

}  // namespace loader
