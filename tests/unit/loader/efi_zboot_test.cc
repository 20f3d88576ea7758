#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "loader/arch_image.h"
#include "loader/decompress.h"
#include "support/compress.h"
#include "support/image_builder.h"

namespace loader {
namespace {

using test_support::build_arm64_image;
using test_support::build_efi_zboot;
using test_support::build_riscv_image;
using test_support::compress;
using test_support::put_le32;

struct ZbootCase {
  std::string name;  // what the kernel's build writes in the header
  Compression kind;
};

// test_support::compress(kLzma) makes one lzma_code call, which liblzma may
// answer before the stream ends: use the xz tool for the .lzma format here.
std::vector<std::byte> compressed(Compression kind, const std::vector<std::byte>& data) {
  if (kind == Compression::kLzma) return test_support::run_filter("xz --format=lzma -c", data);
  return compress(kind, data);
}

class EfiZbootCodec : public testing::TestWithParam<ZbootCase> {};

TEST_P(EfiZbootCodec, UnpacksThePayloadToTheImage) {
  const auto image = build_arm64_image();
  const auto zboot = build_efi_zboot(compressed(GetParam().kind, image), GetParam().name);
  SpanImageSource src(zboot, "vmlinuz.efi");
  EXPECT_TRUE(is_efi_zboot(src));
  auto inner = extract_efi_zboot(src);
  ASSERT_TRUE(inner) << inner.error().message;
  ASSERT_EQ((*inner)->size(), image.size());
  std::vector<std::byte> back(image.size());
  ASSERT_TRUE((*inner)->read_at(0, back));
  EXPECT_EQ(back, image);
  EXPECT_NE((*inner)->name().find("vmlinuz.efi"), std::string::npos);
  // Debian-style Image with its own MZ stub: not a zboot container.
  SpanImageSource plain(image, "Image");
  EXPECT_FALSE(is_efi_zboot(plain));
}

INSTANTIATE_TEST_SUITE_P(KernelNames, EfiZbootCodec,
                         testing::Values(ZbootCase{"gzip", Compression::kGzip}, ZbootCase{"zstd22", Compression::kZstd},
                                         ZbootCase{"zstd", Compression::kZstd}, ZbootCase{"xzkern", Compression::kXz},
                                         ZbootCase{"lz4", Compression::kLz4Legacy},
                                         ZbootCase{"lzma", Compression::kLzma}, ZbootCase{"lzo", Compression::kLzo},
                                         ZbootCase{"bzip2", Compression::kBzip2}),
                         [](const auto& info) { return info.param.name; });

std::vector<std::byte> gzip_zboot() { return build_efi_zboot(compress(Compression::kGzip, build_riscv_image()), "gzip"); }

Error extract_error(const std::vector<std::byte>& bytes, uint64_t max_size = 1ull << 30) {
  SpanImageSource src(bytes, "vmlinuz.efi");
  auto r = extract_efi_zboot(src, max_size);
  EXPECT_FALSE(r);
  return r ? Error{ErrorCode::kIo, "extracted"} : r.error();
}

TEST(EfiZboot, RejectsWhatIsNotZboot) {
  EXPECT_EQ(extract_error(build_arm64_image()).code, ErrorCode::kBadMagic);
  auto bytes = gzip_zboot();
  bytes[5] = std::byte{'Z'};
  SpanImageSource src(bytes, "x");
  EXPECT_FALSE(is_efi_zboot(src));
}

TEST(EfiZboot, RejectsTruncatedHeader) {
  auto bytes = gzip_zboot();
  bytes.resize(0x3f);
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kTruncated);
}

TEST(EfiZboot, RejectsPayloadOffsetInsideHeader) {
  auto bytes = gzip_zboot();
  put_le32(bytes, 8, 0x20);
  auto e = extract_error(bytes);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_NE(e.message.find("0x20"), std::string::npos) << e.message;
}

TEST(EfiZboot, RejectsEmptyPayload) {
  auto bytes = gzip_zboot();
  put_le32(bytes, 12, 0);
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kInvalidField);
}

TEST(EfiZboot, RejectsPayloadPastEndOfFile) {
  auto bytes = gzip_zboot();
  put_le32(bytes, 12, static_cast<uint32_t>(bytes.size()));
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kTruncated);
  put_le32(bytes, 8, 0xffffffff);
  put_le32(bytes, 12, 0xffffffff);
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kTruncated);
}

TEST(EfiZboot, RejectsUnterminatedCompressionName) {
  auto bytes = gzip_zboot();
  for (size_t i = 0x18; i < 0x38; ++i) bytes[i] = std::byte{'g'};
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kInvalidField);
}

TEST(EfiZboot, RejectsUnknownCompressionName) {
  auto bytes = gzip_zboot();
  bytes[0x18] = std::byte{'G'};
  auto e = extract_error(bytes);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_NE(e.message.find("Gzip"), std::string::npos) << e.message;
}

TEST(EfiZboot, RejectsNameThatDisagreesWithPayload) {
  auto bytes = build_efi_zboot(compress(Compression::kZstd, build_arm64_image()), "gzip");
  auto e = extract_error(bytes);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_NE(e.message.find("zstd"), std::string::npos) << e.message;
}

TEST(EfiZboot, RejectsCorruptPayload) {
  auto bytes = gzip_zboot();
  // Inside the deflate data, well past the 10-byte gzip header.
  for (size_t i = 0x1000 + 40; i < 0x1000 + 80; ++i) bytes[i] ^= std::byte{0x5a};
  EXPECT_EQ(extract_error(bytes).code, ErrorCode::kDecompress);
}

TEST(EfiZboot, StopsAtTheSizeLimit) {
  auto image = build_riscv_image();
  auto e = extract_error(gzip_zboot(), image.size() - 1);
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  auto bytes = gzip_zboot();
  SpanImageSource ok(bytes, "x");
  EXPECT_TRUE(extract_efi_zboot(ok, image.size()));
}

}  // namespace
}  // namespace loader
