// Every decoder on arbitrary bytes: the first byte picks the codec, the rest
// is the stream, the output goes into a fixed 4 MiB buffer. Must never crash,
// hang, or write past the buffer.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "loader/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static std::vector<std::byte> out(4u << 20);
  auto kind = static_cast<loader::Compression>(data[0] % 9);
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  loader::SpanImageSource src(stream, "fuzz");
  (void)loader::detect_compression(stream);
  auto n = loader::decompress_into(kind, src, 0, stream.size(), out);
  if (n && *n > out.size()) __builtin_trap();
  return 0;
}
