#include "support/compress.h"

#include <bzlib.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace test_support {
namespace {

void put_be(std::vector<std::byte>& out, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
void put_le32(std::vector<std::byte>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
const unsigned char* u8(std::span<const std::byte> s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::vector<std::byte> gzip(std::span<const std::byte> data) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::vector<std::byte> out(deflateBound(&z, data.size()) + 64);
  z.next_in = const_cast<Bytef*>(u8(data));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

std::vector<std::byte> bzip2(std::span<const std::byte> data) {
  unsigned len = static_cast<unsigned>(data.size() + data.size() / 100 + 600);
  std::vector<std::byte> out(len);
  if (BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                               const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                               static_cast<unsigned>(data.size()), 9, 0, 0) != BZ_OK)
    throw std::runtime_error("BZ2_bzBuffToBuffCompress");
  out.resize(len);
  return out;
}

std::vector<std::byte> xz(std::span<const std::byte> data) {
  lzma_options_lzma opts;
  lzma_lzma_preset(&opts, 6);
  lzma_filter filters[] = {{LZMA_FILTER_X86, nullptr}, {LZMA_FILTER_LZMA2, &opts}, {LZMA_VLI_UNKNOWN, nullptr}};
  std::vector<std::byte> out(lzma_stream_buffer_bound(data.size()));
  size_t pos = 0;
  if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, nullptr, u8(data), data.size(),
                                reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()) != LZMA_OK)
    throw std::runtime_error("lzma_stream_buffer_encode");
  out.resize(pos);
  return out;
}

std::vector<std::byte> lzma_alone(std::span<const std::byte> data) {
  lzma_options_lzma opts;
  lzma_lzma_preset(&opts, 6);
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_encoder(&s, &opts) != LZMA_OK) throw std::runtime_error("lzma_alone_encoder");
  std::vector<std::byte> out(lzma_stream_buffer_bound(data.size()) + 64);
  s.next_in = u8(data);
  s.avail_in = data.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  lzma_ret rc = lzma_code(&s, LZMA_FINISH);
  out.resize(s.total_out);
  lzma_end(&s);
  if (rc != LZMA_STREAM_END) throw std::runtime_error("lzma_alone encode");
  return out;
}

std::vector<std::byte> lz4_frame(std::span<const std::byte> data) {
  std::vector<std::byte> out(LZ4F_compressFrameBound(data.size(), nullptr));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), nullptr);
  if (LZ4F_isError(n)) throw std::runtime_error("LZ4F_compressFrame");
  out.resize(n);
  return out;
}

std::vector<std::byte> zstd(std::span<const std::byte> data) {
  std::vector<std::byte> out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error("ZSTD_compress");
  out.resize(n);
  return out;
}

}  // namespace

std::vector<std::byte> compress_lzop(std::span<const std::byte> data, uint32_t flags, uint32_t block_size) {
  if (lzo_init() != LZO_E_OK) throw std::runtime_error("lzo_init");
  std::vector<std::byte> out;
  for (uint8_t b : {0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a}) out.push_back(std::byte{b});
  size_t header_start = out.size();
  put_be(out, 0x1040, 2);  // lzop version
  put_be(out, 0x2080, 2);  // library version
  put_be(out, 0x0940, 2);  // version needed to extract
  put_be(out, 1, 1);       // method: LZO1X-1
  put_be(out, 5, 1);       // level
  put_be(out, flags, 4);
  put_be(out, 0x81a4, 4);  // mode
  put_be(out, 0, 4);       // mtime low
  put_be(out, 0, 4);       // mtime high
  put_be(out, 0, 1);       // no name
  put_be(out, adler32(1, reinterpret_cast<const Bytef*>(out.data() + header_start), out.size() - header_start), 4);

  std::vector<unsigned char> work(LZO1X_1_MEM_COMPRESS);
  for (size_t pos = 0; pos < data.size(); pos += block_size) {
    auto block = data.subspan(pos, std::min<size_t>(block_size, data.size() - pos));
    std::vector<unsigned char> packed(block.size() + block.size() / 16 + 64 + 3);
    lzo_uint packed_len = packed.size();
    if (lzo1x_1_compress(u8(block), block.size(), packed.data(), &packed_len, work.data()) != LZO_E_OK)
      throw std::runtime_error("lzo1x_1_compress");
    const bool stored = packed_len >= block.size();
    put_be(out, block.size(), 4);
    put_be(out, stored ? block.size() : packed_len, 4);
    if (flags & kLzopAdler32D) put_be(out, adler32(1, u8(block), block.size()), 4);
    if (flags & kLzopCrc32D) put_be(out, crc32(0, u8(block), block.size()), 4);
    if (!stored) {
      if (flags & kLzopAdler32C) put_be(out, adler32(1, packed.data(), packed_len), 4);
      if (flags & kLzopCrc32C) put_be(out, crc32(0, packed.data(), packed_len), 4);
      auto* p = reinterpret_cast<const std::byte*>(packed.data());
      out.insert(out.end(), p, p + packed_len);
    } else {
      out.insert(out.end(), block.begin(), block.end());
    }
  }
  put_be(out, 0, 4);
  return out;
}

std::vector<std::byte> compress_lz4_legacy(std::span<const std::byte> data, uint32_t block_size) {
  std::vector<std::byte> out;
  put_le32(out, 0x184C2102);
  for (size_t pos = 0; pos < data.size(); pos += block_size) {
    auto block = data.subspan(pos, std::min<size_t>(block_size, data.size() - pos));
    std::vector<char> packed(LZ4_compressBound(static_cast<int>(block.size())));
    int n = LZ4_compress_default(reinterpret_cast<const char*>(block.data()), packed.data(),
                                 static_cast<int>(block.size()), static_cast<int>(packed.size()));
    if (n <= 0) throw std::runtime_error("LZ4_compress_default");
    put_le32(out, static_cast<uint32_t>(n));
    auto* p = reinterpret_cast<const std::byte*>(packed.data());
    out.insert(out.end(), p, p + n);
  }
  return out;
}

std::vector<std::byte> compress(loader::Compression kind, std::span<const std::byte> data) {
  using loader::Compression;
  switch (kind) {
    case Compression::kNone: return {data.begin(), data.end()};
    case Compression::kGzip: return gzip(data);
    case Compression::kBzip2: return bzip2(data);
    case Compression::kXz: return xz(data);
    case Compression::kLzma: return lzma_alone(data);
    case Compression::kLzo: return compress_lzop(data);
    case Compression::kLz4Legacy: return compress_lz4_legacy(data);
    case Compression::kLz4Frame: return lz4_frame(data);
    case Compression::kZstd: return zstd(data);
  }
  throw std::runtime_error("unknown compression");
}

std::string write_temp_file(std::span<const std::byte> data) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/minivmm-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("write to temp file failed");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

std::vector<std::byte> run_filter(const std::string& command, std::span<const std::byte> data) {
  std::string input = write_temp_file(data);
  std::string line = fmt::format("{} < '{}'", command, input);
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) {
    std::remove(input.c_str());
    throw std::runtime_error("popen failed: " + line);
  }
  std::vector<std::byte> out;
  std::byte buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.insert(out.end(), buf, buf + n);
  int status = pclose(pipe);
  std::remove(input.c_str());
  if (status != 0) throw std::runtime_error(fmt::format("`{}` failed (status {}): is the tool installed?", line, status));
  return out;
}

std::vector<std::byte> sample_data(size_t size, uint32_t seed) {
  static constexpr std::string_view kWords[] = {"kernel ", "memory ", "vcpu ", "page ", "boot ", "\n", "loader ",
                                                "0x1000 ", "console=ttyS0 "};
  std::vector<std::byte> out;
  out.reserve(size);
  uint32_t x = seed * 2654435761u + 1;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  while (out.size() < size) {
    uint32_t r = next();
    if (r % 4 == 0) {
      // A run of noise keeps the codecs from collapsing everything.
      for (int i = 0; i < 24 && out.size() < size; ++i) out.push_back(static_cast<std::byte>(next()));
    } else {
      for (char c : kWords[r % std::size(kWords)]) {
        if (out.size() == size) break;
        out.push_back(static_cast<std::byte>(c));
      }
    }
  }
  return out;
}

}  // namespace test_support
