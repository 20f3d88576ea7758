// lzop containers (what the kernel's "lzo" compression writes) decoded block
// by block with liblzo2's lzo1x_decompress_safe, straight into the output.
// Layout (lzop's own, as lib/decompress_unlzo.c reads it): magic, header
// (version, lib version, [version needed], method, [level], flags, [filter],
// mode, mtime, [mtime high], name, header checksum, [extra field]), then blocks
// of BE u32 dst_len, u32 src_len, optional checksums, data; dst_len 0 ends it.
#include <lzo/lzo1x.h>
#include <zlib.h>

#include <array>
#include <string>

#include <fmt/format.h>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

constexpr uint32_t kAdler32D = 0x1;
constexpr uint32_t kAdler32C = 0x2;
constexpr uint32_t kExtraField = 0x40;
constexpr uint32_t kCrc32D = 0x100;
constexpr uint32_t kCrc32C = 0x200;
constexpr uint32_t kFilter = 0x800;
// lzop never writes blocks bigger than this; a larger dst_len is corruption.
constexpr uint32_t kMaxBlock = 64u << 20;

// Reads big-endian fields within [pos, end), turning "ran out" into kDecompress.
class Cursor {
 public:
  Cursor(const ImageSource& src, uint64_t pos, uint64_t end) : src_(src), pos_(pos), end_(end) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return end_ - pos_; }

  Result<uint64_t> be(unsigned width, std::string_view what) {
    if (left() < width)
      return corrupt(Compression::kLzo, src_, pos_, fmt::format("the input ends inside the {} field", what));
    std::array<std::byte, 4> b{};
    if (auto r = src_.read_at(pos_, std::span(b).first(width)); !r) return std::unexpected(r.error());
    uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v = v << 8 | std::to_integer<uint64_t>(b[i]);
    pos_ += width;
    return v;
  }
  Result<void> skip(uint64_t n, std::string_view what) {
    if (left() < n)
      return corrupt(Compression::kLzo, src_, pos_, fmt::format("the input ends inside the {}", what));
    pos_ += n;
    return {};
  }

 private:
  const ImageSource& src_;
  uint64_t pos_;
  uint64_t end_;
};

bool lzo_ready() {
  static const bool ok = lzo_init() == LZO_E_OK;
  return ok;
}

}  // namespace

Result<uint64_t> decompress_lzo(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  constexpr auto kind = Compression::kLzo;
  if (auto r = check_input_range(src, offset, len, kind); !r) return std::unexpected(r.error());
  if (!lzo_ready()) return fail(ErrorCode::kIo, "{}: lzo_init failed", src.name());
  Cursor c(src, offset, offset + len);

  static constexpr std::array<uint8_t, 9> kMagic{0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
  for (uint8_t m : kMagic) {
    uint64_t at = c.pos();
    auto b = c.be(1, "magic");
    if (!b) return std::unexpected(b.error());
    if (*b != m) return corrupt(kind, src, at, fmt::format("bad lzop magic byte {:#04x}", *b));
  }
  auto version = c.be(2, "version");
  if (!version) return std::unexpected(version.error());
  if (auto r = c.skip(2, "library version field"); !r) return std::unexpected(r.error());
  const bool v940 = *version >= 0x0940;
  if (v940) {
    if (auto r = c.skip(2, "version-needed field"); !r) return std::unexpected(r.error());
  }
  uint64_t method_at = c.pos();
  auto method = c.be(1, "method");
  if (!method) return std::unexpected(method.error());
  // 1, 2, 3: LZO1X-1, LZO1X-1(15), LZO1X-999 — all one decoder.
  if (*method < 1 || *method > 3)
    return corrupt(kind, src, method_at, fmt::format("unsupported lzop method {} (only LZO1X 1..3)", *method));
  if (v940) {
    if (auto r = c.skip(1, "level field"); !r) return std::unexpected(r.error());
  }
  auto flags = c.be(4, "flags");
  if (!flags) return std::unexpected(flags.error());
  if (*flags & kFilter) {
    if (auto r = c.skip(4, "filter field"); !r) return std::unexpected(r.error());
  }
  if (auto r = c.skip(v940 ? 12 : 8, "mode/mtime fields"); !r) return std::unexpected(r.error());
  auto name_len = c.be(1, "name length");
  if (!name_len) return std::unexpected(name_len.error());
  if (auto r = c.skip(*name_len + 4, "name and header checksum"); !r) return std::unexpected(r.error());
  if (*flags & kExtraField) {
    auto extra = c.be(4, "extra field length");
    if (!extra) return std::unexpected(extra.error());
    if (auto r = c.skip(*extra + 4, "extra field"); !r) return std::unexpected(r.error());
  }

  BlockReader reader(src);
  uint64_t produced = 0;
  for (;;) {
    uint64_t block_at = c.pos();
    auto dst_len = c.be(4, "block uncompressed size");
    if (!dst_len) return std::unexpected(dst_len.error());
    if (*dst_len == 0) return produced;
    if (*dst_len > kMaxBlock)
      return corrupt(kind, src, block_at, fmt::format("block size {:#x} is larger than lzop's 64 MiB", *dst_len));
    auto src_len = c.be(4, "block compressed size");
    if (!src_len) return std::unexpected(src_len.error());
    if (*src_len == 0 || *src_len > *dst_len)
      return corrupt(kind, src, block_at + 4,
                     fmt::format("block compressed size {:#x} is 0 or above its uncompressed size {:#x}", *src_len,
                                 *dst_len));
    std::optional<uint64_t> adler, crc;
    if (*flags & kAdler32D) {
      auto v = c.be(4, "block adler32");
      if (!v) return std::unexpected(v.error());
      adler = *v;
    }
    if (*flags & kCrc32D) {
      auto v = c.be(4, "block crc32");
      if (!v) return std::unexpected(v.error());
      crc = *v;
    }
    if (*src_len < *dst_len) {
      // Checksums of the compressed bytes: present only for compressed blocks.
      uint64_t n = ((*flags & kAdler32C) ? 4 : 0) + ((*flags & kCrc32C) ? 4 : 0);
      if (auto r = c.skip(n, "block compressed-data checksum"); !r) return std::unexpected(r.error());
    }
    uint64_t data_at = c.pos();
    if (c.left() < *src_len)
      return corrupt(kind, src, data_at,
                     fmt::format("the input ends inside a block of {:#x} compressed bytes", *src_len));
    if (*dst_len > out.size() - produced) return too_large(kind, src, offset, out.size());
    auto data = reader.read(data_at, *src_len);
    if (!data) return std::unexpected(data.error());
    (void)c.skip(*src_len, "block");
    std::span<std::byte> dst = out.subspan(produced, *dst_len);
    if (*src_len == *dst_len) {
      // Stored block: lzop keeps incompressible data as is.
      std::copy(data->begin(), data->end(), dst.begin());
    } else {
      lzo_uint made = dst.size();
      int rc = lzo1x_decompress_safe(reinterpret_cast<const unsigned char*>(data->data()), data->size(),
                                     reinterpret_cast<unsigned char*>(dst.data()), &made, nullptr);
      if (rc != LZO_E_OK)
        return corrupt(kind, src, data_at, fmt::format("lzo1x_decompress_safe failed with error {}", rc));
      if (made != *dst_len)
        return corrupt(kind, src, data_at,
                       fmt::format("block decompressed to {:#x} bytes, header says {:#x}", made, *dst_len));
    }
    const auto* bytes = reinterpret_cast<const Bytef*>(dst.data());
    if (adler && adler32(1, bytes, static_cast<uInt>(dst.size())) != *adler)
      return corrupt(kind, src, block_at, "block adler32 checksum mismatch");
    if (crc && crc32(0, bytes, static_cast<uInt>(dst.size())) != *crc)
      return corrupt(kind, src, block_at, "block crc32 checksum mismatch");
    produced += *dst_len;
  }
}

}  // namespace loader::detail
