#include "loader/decompress.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/compress.h"

namespace loader {
namespace {

using test_support::compress;
using test_support::sample_data;

constexpr uint64_t kMiB = 1 << 20;

constexpr std::array kCodecs{Compression::kGzip,      Compression::kBzip2,    Compression::kXz,
                             Compression::kLzma,      Compression::kLzo,      Compression::kLz4Legacy,
                             Compression::kLz4Frame,  Compression::kZstd};

std::string codec_name(const testing::TestParamInfo<Compression>& info) {
  std::string name(to_string(info.param));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

class DecompressCodec : public testing::TestWithParam<Compression> {};

TEST_P(DecompressCodec, RoundTripsFromMemory) {
  auto data = sample_data(700 * 1024);
  auto packed = compress(GetParam(), data);
  ASSERT_LT(packed.size(), data.size());
  SpanImageSource src(packed, "mem");
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(GetParam(), src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(out, data);
}

TEST_P(DecompressCodec, RoundTripsFromAFileInChunks) {
  // A compressed size above the 256 KiB read size makes the decoder see
  // several input pieces.
  auto data = sample_data(2 * kMiB, 7);
  auto packed = compress(GetParam(), data);
  ASSERT_GT(packed.size(), 256u * 1024);
  std::string path = test_support::write_temp_file(packed);
  auto src = FileImageSource::open(path);
  std::remove(path.c_str());
  ASSERT_TRUE(src) << src.error().message;
  std::vector<std::byte> out(data.size() + 100);
  auto n = decompress_into(GetParam(), *src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(*n, data.size());
  out.resize(*n);
  EXPECT_EQ(out, data);
}

TEST_P(DecompressCodec, ReadsAStreamInsideALargerFileAndIgnoresTheSizeTrailer) {
  auto data = sample_data(300 * 1024, 3);
  auto packed = compress(GetParam(), data);
  // Junk before, and the kernel's 4-byte LE size trailer after.
  std::vector<std::byte> file(100, std::byte{0xee});
  file.insert(file.end(), packed.begin(), packed.end());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<std::byte>(data.size() >> (8 * i)));
  SpanImageSource src(file, "container");
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(GetParam(), src, 100, packed.size() + 4, out);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(out, data);
}

TEST_P(DecompressCodec, DetectsItsMagic) {
  auto packed = compress(GetParam(), sample_data(4096));
  EXPECT_EQ(detect_compression(packed), GetParam());
}

TEST_P(DecompressCodec, OutputOneByteShortIsTooLarge) {
  auto data = sample_data(100 * 1024, 5);
  auto packed = compress(GetParam(), data);
  SpanImageSource src(packed, "short.bin");
  std::vector<std::byte> out(data.size() - 1);
  auto n = decompress_into(GetParam(), src, 0, packed.size(), out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kTooLarge) << n.error().message;
  EXPECT_NE(n.error().message.find(fmt::format("{:#x}", out.size())), std::string::npos) << n.error().message;
  EXPECT_NE(n.error().message.find("short.bin"), std::string::npos);
}

TEST_P(DecompressCodec, BombIsTooLargeNotAnAllocation) {
  std::vector<std::byte> zeros(32 * kMiB);
  auto packed = compress(GetParam(), zeros);
  ASSERT_LT(packed.size(), 2 * kMiB);
  SpanImageSource src(packed, "bomb");
  std::vector<std::byte> out(kMiB);
  auto n = decompress_into(GetParam(), src, 0, packed.size(), out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kTooLarge) << n.error().message;

  auto v = decompress_to_vector(GetParam(), src, 0, packed.size(), 4 * kMiB);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(v.error().message.find("0x400000"), std::string::npos) << v.error().message;
}

TEST_P(DecompressCodec, TruncatedInputIsDecompressErrorNamingTheOffset) {
  auto data = sample_data(200 * 1024, 9);
  auto packed = compress(GetParam(), data);
  for (size_t cut : {size_t{1}, packed.size() / 2, packed.size() - 1}) {
    SCOPED_TRACE(cut);
    SpanImageSource src(std::span<const std::byte>(packed).first(cut), "cut");
    std::vector<std::byte> out(data.size());
    auto n = decompress_into(GetParam(), src, 0, cut, out);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ErrorCode::kDecompress) << n.error().message;
    EXPECT_NE(n.error().message.find("offset 0x"), std::string::npos) << n.error().message;
    EXPECT_NE(n.error().message.find(to_string(GetParam())), std::string::npos) << n.error().message;
  }
}

TEST_P(DecompressCodec, ToVectorGrowsPastItsFirstGuess) {
  // Highly compressible: the output is far more than 4x the input, so the
  // buffer has to grow.
  std::vector<std::byte> data(6 * kMiB, std::byte{'k'});
  for (size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<std::byte>(i >> 12);
  auto packed = compress(GetParam(), data);
  SpanImageSource src(packed, "grow");
  auto v = decompress_to_vector(GetParam(), src, 0, packed.size(), 64 * kMiB);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, data);
}

TEST_P(DecompressCodec, RangePastTheFileIsRefused) {
  auto packed = compress(GetParam(), sample_data(1000));
  SpanImageSource src(packed, "f");
  std::vector<std::byte> out(4096);
  auto n = decompress_into(GetParam(), src, 10, packed.size(), out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kTruncated);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, DecompressCodec, testing::ValuesIn(kCodecs), codec_name);

// The real command-line tools, as the kernel build runs them. These fail,
// not skip, when a tool is missing: scripts/setup.sh installs them all.
struct ToolCase {
  Compression kind;
  const char* command;
};

class DecompressTool : public testing::TestWithParam<ToolCase> {};

TEST_P(DecompressTool, DecodesTheToolsOutput) {
  auto data = sample_data(600 * 1024, 11);
  auto packed = test_support::run_filter(GetParam().command, data);
  ASSERT_FALSE(packed.empty());
  EXPECT_EQ(detect_compression(packed), GetParam().kind);
  SpanImageSource src(packed, GetParam().command);
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(GetParam().kind, src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(out, data);
}

INSTANTIATE_TEST_SUITE_P(
    RealTools, DecompressTool,
    testing::Values(ToolCase{Compression::kGzip, "gzip -9 -c"}, ToolCase{Compression::kBzip2, "bzip2 -9 -c"},
                    ToolCase{Compression::kXz, "xz -c --check=crc32 --x86 --lzma2=dict=32MiB"},
                    ToolCase{Compression::kLzma, "xz -c --format=lzma"}, ToolCase{Compression::kLzo, "lzop -9 -c"},
                    ToolCase{Compression::kLz4Legacy, "lz4 -l -9 -c"}, ToolCase{Compression::kLz4Frame, "lz4 -c"},
                    ToolCase{Compression::kZstd, "zstd -19 -c"}),
    [](const testing::TestParamInfo<ToolCase>& info) { return codec_name({info.param.kind, info.index}); });

TEST(Decompress, DetectsEveryMagicAndNothingElse) {
  auto b = [](std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
  };
  EXPECT_EQ(detect_compression(b({0x1f, 0x8b, 0x08})), Compression::kGzip);
  EXPECT_EQ(detect_compression(b({'B', 'Z', 'h', '9'})), Compression::kBzip2);
  EXPECT_EQ(detect_compression(b({0xfd, '7', 'z', 'X', 'Z', 0})), Compression::kXz);
  EXPECT_EQ(detect_compression(b({0x5d, 0, 0, 0x80, 0})), Compression::kLzma);
  EXPECT_EQ(detect_compression(b({0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a})), Compression::kLzo);
  EXPECT_EQ(detect_compression(b({0x02, 0x21, 0x4c, 0x18})), Compression::kLz4Legacy);
  EXPECT_EQ(detect_compression(b({0x04, 0x22, 0x4d, 0x18})), Compression::kLz4Frame);
  EXPECT_EQ(detect_compression(b({0x28, 0xb5, 0x2f, 0xfd})), Compression::kZstd);

  EXPECT_EQ(detect_compression({}), Compression::kNone);
  EXPECT_EQ(detect_compression(b({0x7f, 'E', 'L', 'F'})), Compression::kNone);
  EXPECT_EQ(detect_compression(b({0x1f})), Compression::kNone);                          // too short
  EXPECT_EQ(detect_compression(b({0xfd, '7', 'z', 'X', 'Z'})), Compression::kNone);      // cut magic
  EXPECT_EQ(detect_compression(b({0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0b})), Compression::kNone);
  EXPECT_EQ(detect_compression(b({0x28, 0xb5, 0x2f, 0xfe})), Compression::kNone);
}

TEST(Decompress, NoneCopiesAndBoundsTheCopy) {
  auto data = sample_data(5000);
  SpanImageSource src(data);
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(Compression::kNone, src, 0, data.size(), out);
  ASSERT_TRUE(n);
  EXPECT_EQ(out, data);
  std::vector<std::byte> small(10);
  EXPECT_EQ(decompress_into(Compression::kNone, src, 0, data.size(), small).error().code, ErrorCode::kTooLarge);
}

TEST(Decompress, LzopWithCrc32AndCompressedChecksumsAndSmallBlocks) {
  auto data = sample_data(900 * 1024, 13);
  auto packed = test_support::compress_lzop(
      data, test_support::kLzopCrc32D | test_support::kLzopCrc32C | test_support::kLzopAdler32D, 64 * 1024);
  SpanImageSource src(packed);
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(Compression::kLzo, src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(out, data);
}

TEST(Decompress, LzopChecksumMismatchIsCorrupt) {
  auto data = sample_data(10000);
  auto packed = test_support::compress_lzop(data);
  // Header: 9 magic + 2+2+2+1+1 + 4 flags + 4+4+4 + 1 name len + 4 checksum = 38;
  // then dst_len, src_len, and the adler32 of the first block at 46.
  packed[46] ^= std::byte{0xff};
  SpanImageSource src(packed);
  std::vector<std::byte> out(data.size());
  auto n = decompress_into(Compression::kLzo, src, 0, packed.size(), out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kDecompress);
  EXPECT_NE(n.error().message.find("adler32"), std::string::npos) << n.error().message;
}

TEST(Decompress, LzopStoredBlockForIncompressibleData) {
  std::vector<std::byte> noise(70000);
  uint32_t x = 12345;
  for (auto& b : noise) {
    x = x * 1103515245 + 12345;
    b = static_cast<std::byte>(x >> 24);
  }
  auto packed = test_support::compress_lzop(noise);
  SpanImageSource src(packed);
  std::vector<std::byte> out(noise.size());
  auto n = decompress_into(Compression::kLzo, src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(out, noise);
}

TEST(Decompress, Lz4LegacyManyBlocksAndConcatenatedStreams) {
  auto a = sample_data(300 * 1024, 21);
  auto b = sample_data(100 * 1024, 22);
  auto packed = test_support::compress_lz4_legacy(a, 64 * 1024);
  auto second = test_support::compress_lz4_legacy(b, 64 * 1024);
  packed.insert(packed.end(), second.begin(), second.end());  // second magic mid-stream
  SpanImageSource src(packed);
  std::vector<std::byte> out(a.size() + b.size());
  auto n = decompress_into(Compression::kLz4Legacy, src, 0, packed.size(), out);
  ASSERT_TRUE(n) << n.error().message;
  std::vector<std::byte> expect = a;
  expect.insert(expect.end(), b.begin(), b.end());
  EXPECT_EQ(out, expect);
}

TEST(Decompress, Lz4LegacyBlockSizeAboveTheBoundIsCorrupt) {
  auto packed = test_support::compress_lz4_legacy(sample_data(1000));
  packed[4] = std::byte{0xff};
  packed[5] = std::byte{0xff};
  packed[6] = std::byte{0xff};
  packed[7] = std::byte{0x7f};
  SpanImageSource src(packed);
  std::vector<std::byte> out(2000);
  auto n = decompress_into(Compression::kLz4Legacy, src, 0, packed.size(), out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kDecompress);
  EXPECT_NE(n.error().message.find("0x7fffffff"), std::string::npos) << n.error().message;
}

TEST(Decompress, GarbageIsCorruptForEveryCodec) {
  std::vector<std::byte> junk(4096, std::byte{0x55});
  SpanImageSource src(junk, "junk");
  std::vector<std::byte> out(kMiB);
  for (Compression kind : kCodecs) {
    SCOPED_TRACE(to_string(kind));
    auto n = decompress_into(kind, src, 0, junk.size(), out);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ErrorCode::kDecompress) << n.error().message;
  }
}

}  // namespace
}  // namespace loader
