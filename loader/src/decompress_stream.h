// Private to the decompressors: reading the compressed range of an
// ImageSource piece by piece, and the loop every streaming codec shares
// (feed input, write into the caller's span, detect "more output than room").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "loader/decompress.h"

namespace loader::detail {

// Reads [offset, offset+len) of a source: in one zero-copy piece when the
// bytes are already in memory, otherwise in 256 KiB preads into one buffer.
class ChunkReader {
 public:
  static constexpr size_t kChunkSize = 256 * 1024;

  ChunkReader(const ImageSource& src, uint64_t offset, uint64_t len) : src_(src), next_(offset), end_(offset + len) {}

  bool at_end() const { return next_ == end_; }
  // Absolute source offset of the first byte the next chunk will hold.
  uint64_t position() const { return next_; }
  // The next piece of input; empty only when the range is exhausted.
  Result<std::span<const std::byte>> next();

 private:
  const ImageSource& src_;
  uint64_t next_;
  uint64_t end_;
  std::vector<std::byte> buffer_;
};

// Reads exactly n bytes at offset (zero-copy when in memory) for the block
// formats (lzo, lz4 legacy), whose blocks are decoded in one call.
class BlockReader {
 public:
  explicit BlockReader(const ImageSource& src) : src_(src) {}
  Result<std::span<const std::byte>> read(uint64_t offset, uint64_t n);

 private:
  const ImageSource& src_;
  std::vector<std::byte> buffer_;
};

// What one codec call did.
struct StepResult {
  size_t in_used = 0;
  size_t out_made = 0;
  bool done = false;             // the stream ended (trailing input is ignored)
  const char* error = nullptr;   // the library's text when the stream is corrupt
};

// A streaming codec: decode from in into out. input_finished says no input
// will come after in. On corruption it sets error (in_used still counts what
// was consumed, so the driver can name the input offset).
class StreamCodec {
 public:
  virtual ~StreamCodec() = default;
  virtual StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool input_finished) = 0;
};

// Checks that [offset, offset+len) is inside src.
Result<void> check_input_range(const ImageSource& src, uint64_t offset, uint64_t len, Compression kind);

// Feeds [offset, offset+len) of src through codec into out.
Result<uint64_t> run_stream(Compression kind, StreamCodec& codec, const ImageSource& src, uint64_t offset,
                            uint64_t len, std::span<std::byte> out);

std::unexpected<Error> too_large(Compression kind, const ImageSource& src, uint64_t offset, uint64_t limit);
std::unexpected<Error> corrupt(Compression kind, const ImageSource& src, uint64_t input_offset,
                               std::string_view what);

Result<uint64_t> decompress_gzip(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);
Result<uint64_t> decompress_bzip2(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);
Result<uint64_t> decompress_xz(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);
Result<uint64_t> decompress_lzma(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);
Result<uint64_t> decompress_lzo(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);
Result<uint64_t> decompress_lz4_legacy(const ImageSource& src, uint64_t offset, uint64_t len,
                                       std::span<std::byte> out);
Result<uint64_t> decompress_lz4_frame(const ImageSource& src, uint64_t offset, uint64_t len,
                                      std::span<std::byte> out);
Result<uint64_t> decompress_zstd(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out);

}  // namespace loader::detail
