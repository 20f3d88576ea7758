#include "loader/decompress.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

#include "decompress_stream.h"

namespace loader {
namespace detail {

Result<std::span<const std::byte>> ChunkReader::next() {
  uint64_t n = end_ - next_;
  if (auto mem = src_.bytes()) {
    // Already in memory: hand out the whole rest without copying.
    auto piece = mem->subspan(next_, n);
    next_ = end_;
    return piece;
  }
  n = std::min<uint64_t>(n, kChunkSize);
  if (buffer_.size() < n) buffer_.resize(n);
  std::span<std::byte> piece(buffer_.data(), n);
  if (auto r = src_.read_at(next_, piece); !r) return std::unexpected(r.error());
  next_ += n;
  return std::span<const std::byte>(piece);
}

Result<std::span<const std::byte>> BlockReader::read(uint64_t offset, uint64_t n) {
  if (offset > src_.size() || n > src_.size() - offset)
    return fail(ErrorCode::kTruncated, "{}: need {:#x} bytes at offset {:#x}, but the file is {:#x} bytes",
                src_.name(), n, offset, src_.size());
  if (auto mem = src_.bytes()) return mem->subspan(offset, n);
  if (buffer_.size() < n) buffer_.resize(n);
  std::span<std::byte> piece(buffer_.data(), n);
  if (auto r = src_.read_at(offset, piece); !r) return std::unexpected(r.error());
  return std::span<const std::byte>(piece);
}

Result<void> check_input_range(const ImageSource& src, uint64_t offset, uint64_t len, Compression kind) {
  if (offset > src.size() || len > src.size() - offset)
    return fail(ErrorCode::kTruncated,
                "{}: {} stream of {:#x} bytes at offset {:#x} runs past the end of the file ({:#x} bytes)",
                src.name(), to_string(kind), len, offset, src.size());
  return {};
}

std::unexpected<Error> too_large(Compression kind, const ImageSource& src, uint64_t offset, uint64_t limit) {
  return fail(ErrorCode::kTooLarge, "{}: {} stream at offset {:#x} decompresses to more than {:#x} bytes (the limit)",
              src.name(), to_string(kind), offset, limit);
}

std::unexpected<Error> corrupt(Compression kind, const ImageSource& src, uint64_t input_offset,
                               std::string_view what) {
  return fail(ErrorCode::kDecompress, "{}: corrupt {} stream at input offset {:#x}: {}", src.name(),
              to_string(kind), input_offset, what);
}

Result<uint64_t> run_stream(Compression kind, StreamCodec& codec, const ImageSource& src, uint64_t offset,
                            uint64_t len, std::span<std::byte> out) {
  if (auto r = check_input_range(src, offset, len, kind); !r) return std::unexpected(r.error());
  ChunkReader reader(src, offset, len);
  std::span<const std::byte> in;
  uint64_t in_pos = offset;  // source offset of in.data()
  uint64_t produced = 0;
  // Once out is full the decoder writes here: any byte that lands means the
  // stream is bigger than the room, without ever holding the excess.
  std::array<std::byte, 64> overflow{};
  for (;;) {
    if (in.empty() && !reader.at_end()) {
      in_pos = reader.position();
      auto chunk = reader.next();
      if (!chunk) return std::unexpected(chunk.error());
      in = *chunk;
    }
    const bool spill = produced == out.size();
    std::span<std::byte> dst = spill ? std::span<std::byte>(overflow) : out.subspan(produced);
    StepResult s = codec.step(in, dst, reader.at_end());
    in = in.subspan(s.in_used);
    in_pos += s.in_used;
    if (s.error) return corrupt(kind, src, in_pos, s.error);
    if (spill && s.out_made > 0) return too_large(kind, src, offset, out.size());
    if (!spill) produced += s.out_made;
    if (s.done) return produced;
    if (s.in_used == 0 && s.out_made == 0) {
      if (in.empty() && reader.at_end())
        return corrupt(kind, src, in_pos, "the input ends before the stream does (truncated)");
      // Input and room were both offered: a decoder that takes neither
      // would loop forever.
      return corrupt(kind, src, in_pos, "the decoder made no progress");
    }
  }
}

}  // namespace detail

namespace {

bool starts_with(std::span<const std::byte> head, std::initializer_list<uint8_t> magic) {
  if (head.size() < magic.size()) return false;
  size_t i = 0;
  for (uint8_t b : magic)
    if (head[i++] != std::byte{b}) return false;
  return true;
}

Result<uint64_t> copy_stored(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  if (auto r = detail::check_input_range(src, offset, len, Compression::kNone); !r)
    return std::unexpected(r.error());
  if (len > out.size()) return detail::too_large(Compression::kNone, src, offset, out.size());
  if (auto r = src.read_at(offset, out.first(len)); !r) return std::unexpected(r.error());
  return len;
}

}  // namespace

Compression detect_compression(std::span<const std::byte> head) {
  if (starts_with(head, {0x1f, 0x8b})) return Compression::kGzip;
  if (starts_with(head, {'B', 'Z', 'h'})) return Compression::kBzip2;
  if (starts_with(head, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::kXz;
  if (starts_with(head, {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a})) return Compression::kLzo;
  if (starts_with(head, {0x02, 0x21, 0x4c, 0x18})) return Compression::kLz4Legacy;
  if (starts_with(head, {0x04, 0x22, 0x4d, 0x18})) return Compression::kLz4Frame;
  if (starts_with(head, {0x28, 0xb5, 0x2f, 0xfd})) return Compression::kZstd;
  // Legacy .lzma has no magic: properties byte 0x5d (lc=3 lp=0 pb=2, what
  // every lzma tool writes) then a dictionary size whose low bytes are 0.
  if (starts_with(head, {0x5d, 0x00, 0x00})) return Compression::kLzma;
  return Compression::kNone;
}

Result<uint64_t> decompress_into(Compression kind, const ImageSource& src, uint64_t offset, uint64_t len,
                                 std::span<std::byte> out) {
  switch (kind) {
    case Compression::kNone: return copy_stored(src, offset, len, out);
    case Compression::kGzip: return detail::decompress_gzip(src, offset, len, out);
    case Compression::kBzip2: return detail::decompress_bzip2(src, offset, len, out);
    case Compression::kXz: return detail::decompress_xz(src, offset, len, out);
    case Compression::kLzma: return detail::decompress_lzma(src, offset, len, out);
    case Compression::kLzo: return detail::decompress_lzo(src, offset, len, out);
    case Compression::kLz4Legacy: return detail::decompress_lz4_legacy(src, offset, len, out);
    case Compression::kLz4Frame: return detail::decompress_lz4_frame(src, offset, len, out);
    case Compression::kZstd: return detail::decompress_zstd(src, offset, len, out);
  }
  return fail(ErrorCode::kInvalidArgument, "{}: unknown compression kind {}", src.name(), static_cast<int>(kind));
}

Result<std::vector<std::byte>> decompress_to_vector(Compression kind, const ImageSource& src, uint64_t offset,
                                                    uint64_t len, uint64_t limit) {
  if (auto r = detail::check_input_range(src, offset, len, kind); !r) return std::unexpected(r.error());
  // Unknown output size: start at a few times the input and double. A
  // restart costs at most as much again as the final pass.
  constexpr uint64_t kMinGuess = 1ull << 20;
  uint64_t size = len > (~0ull / 4) ? limit : std::max(len * 4, kMinGuess);
  size = std::min(size, limit);
  for (;;) {
    std::vector<std::byte> buffer;
    try {
      buffer.resize(size);
    } catch (const std::bad_alloc&) {
      return fail(ErrorCode::kTooLarge, "{}: cannot allocate {:#x} bytes for the {} stream at offset {:#x}",
                  src.name(), size, to_string(kind), offset);
    }
    auto n = decompress_into(kind, src, offset, len, buffer);
    if (n) {
      buffer.resize(*n);
      return buffer;
    }
    if (n.error().code != ErrorCode::kTooLarge || size >= limit) return std::unexpected(n.error());
    size = size > limit / 2 ? limit : size * 2;
  }
}

}  // namespace loader
