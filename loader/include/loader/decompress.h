// Decompression for every format Linux kernels are shipped in, with the
// field's libraries (zlib, libbz2, liblzma, liblzo2, liblz4, libzstd). Output
// goes straight into a caller-given span (guest memory): never more than it
// can hold, so a decompression bomb is kTooLarge, not an OOM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loader/error.h"
#include "loader/image_source.h"
#include "loader/kernel.h"

namespace loader {

// Recognises a stream by its magic bytes: gzip 1f 8b, bzip2 "BZh", xz fd 37 7a 58 5a 00,
// lzma (legacy .lzma: 5d 00 00), lzo (lzop 89 4c 5a 4f), lz4 legacy 02 21 4c 18,
// lz4 frame 04 22 4d 18, zstd 28 b5 2f fd. kNone when none matches.
Compression detect_compression(std::span<const std::byte> head);

// Decompresses [offset, offset+len) of src into out. Returns the number of
// bytes written. kTooLarge when the stream does not fit in out; kDecompress
// (naming the library's error and the input offset) when it is corrupt or
// truncated. Trailing bytes after the end of the stream are allowed (the
// kernel's payloads carry a size trailer).
Result<uint64_t> decompress_into(Compression kind, const ImageSource& src, uint64_t offset, uint64_t len,
                                 std::span<std::byte> out);

// Same, into a growing buffer capped at limit bytes.
Result<std::vector<std::byte>> decompress_to_vector(Compression kind, const ImageSource& src, uint64_t offset,
                                                    uint64_t len, uint64_t limit);

}  // namespace loader
