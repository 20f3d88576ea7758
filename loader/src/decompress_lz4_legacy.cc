// LZ4 "legacy" format (lz4 -l; the kernel's CONFIG_KERNEL_LZ4): magic
// 0x184C2102 LE, then blocks of u32 LE compressed size + LZ4 block data, each
// decoding to at most 8 MiB. There is no end marker: the input ends it. A
// repeated magic starts another concatenated stream.
#include <lz4.h>

#include <array>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

constexpr uint32_t kMagic = 0x184C2102;
constexpr uint64_t kBlockOut = 8u << 20;

Result<uint32_t> read_le32(const ImageSource& src, uint64_t at) {
  std::array<std::byte, 4> b{};
  if (auto r = src.read_at(at, b); !r) return std::unexpected(r.error());
  return std::to_integer<uint32_t>(b[0]) | std::to_integer<uint32_t>(b[1]) << 8 |
         std::to_integer<uint32_t>(b[2]) << 16 | std::to_integer<uint32_t>(b[3]) << 24;
}

}  // namespace

Result<uint64_t> decompress_lz4_legacy(const ImageSource& src, uint64_t offset, uint64_t len,
                                       std::span<std::byte> out) {
  constexpr auto kind = Compression::kLz4Legacy;
  if (auto r = check_input_range(src, offset, len, kind); !r) return std::unexpected(r.error());
  const uint64_t end = offset + len;
  if (len < 4) return corrupt(kind, src, offset, "the input ends inside the magic");
  auto magic = read_le32(src, offset);
  if (!magic) return std::unexpected(magic.error());
  if (*magic != kMagic) return corrupt(kind, src, offset, fmt::format("bad lz4 legacy magic {:#010x}", *magic));

  const uint64_t max_block = static_cast<uint64_t>(LZ4_compressBound(static_cast<int>(kBlockOut)));
  BlockReader reader(src);
  uint64_t pos = offset + 4;
  uint64_t produced = 0;
  bool any_block = false;
  for (;;) {
    uint64_t left = end - pos;
    // Fewer than 4 bytes cannot start a block; exactly 4 after a block is the
    // kernel's uncompressed-size trailer. Either way the stream is over.
    if (left < 4 || (left == 4 && any_block)) return produced;
    auto size = read_le32(src, pos);
    if (!size) return std::unexpected(size.error());
    if (*size == kMagic) {
      pos += 4;
      continue;
    }
    if (*size == 0 || *size > max_block)
      return corrupt(kind, src, pos,
                     fmt::format("block size {:#x} is 0 or larger than an 8 MiB block can compress to", *size));
    if (*size > left - 4)
      return corrupt(kind, src, pos,
                     fmt::format("the input ends inside a block of {:#x} bytes ({:#x} left)", *size, left - 4));
    auto data = reader.read(pos + 4, *size);
    if (!data) return std::unexpected(data.error());
    uint64_t room = std::min(kBlockOut, out.size() - produced);
    int made = LZ4_decompress_safe(reinterpret_cast<const char*>(data->data()),
                                   reinterpret_cast<char*>(out.data() + produced), static_cast<int>(*size),
                                   static_cast<int>(room));
    if (made < 0) {
      if (room < kBlockOut) {
        // The block may only have failed for lack of room: decode it aside
        // to tell a too-large stream from a corrupt one.
        auto aside = std::make_unique_for_overwrite<char[]>(kBlockOut);
        int full = LZ4_decompress_safe(reinterpret_cast<const char*>(data->data()), aside.get(),
                                       static_cast<int>(*size), static_cast<int>(kBlockOut));
        if (full >= 0) return too_large(kind, src, offset, out.size());
      }
      return corrupt(kind, src, pos + 4, fmt::format("LZ4_decompress_safe failed ({})", made));
    }
    produced += static_cast<uint64_t>(made);
    pos += 4 + *size;
    any_block = true;
  }
}

}  // namespace loader::detail
