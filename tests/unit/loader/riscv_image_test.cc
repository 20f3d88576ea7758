#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "loader/arch_image.h"
#include "support/image_builder.h"

namespace loader {
namespace {

using test_support::build_riscv_image;
using test_support::put_le32;
using test_support::put_le64;
using test_support::RiscvImageSpec;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kRamBase = 0x8000'0000;

GuestMemory make_memory() {
  std::array specs{RegionSpec{GuestAddress(kRamBase), 64 * kMiB}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

Result<LoadedKernel> load(const std::vector<std::byte>& image, GuestMemory& mem, LoadOptions options = {}) {
  SpanImageSource src(image, "Image");
  return load_riscv_image(src, mem, options);
}

Error load_error(const std::vector<std::byte>& image, LoadOptions options = {}) {
  auto mem = make_memory();
  auto r = load(image, mem, options);
  EXPECT_FALSE(r);
  return r ? Error{ErrorCode::kIo, "loaded"} : r.error();
}

TEST(RiscvImage, LoadsAtRamBasePlusTextOffsetAndZeroesBss) {
  RiscvImageSpec spec;
  spec.bss_size = 0x4000;
  auto image = build_riscv_image(spec);
  auto mem = make_memory();
  ASSERT_TRUE(mem.fill(GuestAddress(kRamBase), 4 * kMiB, std::byte{0x5a}));
  auto loaded = load(image, mem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->format, KernelFormat::kRiscvImage);
  EXPECT_EQ(loaded->arch, Arch::kRiscv64);
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + 2 * kMiB));
  EXPECT_EQ(loaded->entry, GuestAddress(kRamBase + 2 * kMiB));
  EXPECT_EQ(loaded->load_size, image.size() + 0x4000);
  std::vector<std::byte> back(image.size());
  ASSERT_TRUE(mem.read(GuestAddress(kRamBase + 2 * kMiB), back));
  EXPECT_EQ(back, image);
  std::vector<std::byte> bss(0x4000);
  ASSERT_TRUE(mem.read(GuestAddress(kRamBase + 2 * kMiB + image.size()), bss));
  EXPECT_EQ(bss, std::vector<std::byte>(0x4000));
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(kRamBase + 2 * kMiB - 1)), 0x5a);
}

TEST(RiscvImage, InspectReportsVersionAndFields) {
  RiscvImageSpec spec;
  spec.version = (1 << 16) | 3;
  auto image = build_riscv_image(spec);
  SpanImageSource src(image, "Image");
  auto info = inspect_riscv_image(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kRiscvImage);
  EXPECT_EQ(info->arch, Arch::kRiscv64);
  EXPECT_EQ(info->protocol_version, "1.3");
  EXPECT_TRUE(info->pe_stub);
  EXPECT_EQ(info->entry, 2 * kMiB);
  EXPECT_EQ(info->load_size, image.size() + spec.bss_size);
  ASSERT_FALSE(info->fields.empty());
  bool saw_magic2 = false;
  for (const auto& f : info->fields)
    if (f.name == "magic2") {
      saw_magic2 = true;
      EXPECT_EQ(f.offset, 0x38u);
      EXPECT_EQ(f.value, 0x05435352u);
    }
  EXPECT_TRUE(saw_magic2);
}

TEST(RiscvImage, DeprecatedMagicIsNotRequired) {
  auto image = build_riscv_image();
  put_le64(image, 48, 0);
  auto mem = make_memory();
  EXPECT_TRUE(load(image, mem));
}

TEST(RiscvImage, RejectsFileShorterThanHeader) {
  auto image = build_riscv_image();
  image.resize(0x3b);
  EXPECT_EQ(load_error(image).code, ErrorCode::kTruncated);
}

TEST(RiscvImage, RejectsMissingMagic2) {
  auto image = build_riscv_image();
  put_le32(image, 0x38, 0x644d5241);  // an arm64 magic is not a riscv one
  auto e = load_error(image);
  EXPECT_EQ(e.code, ErrorCode::kBadMagic);
  EXPECT_NE(e.message.find("magic2"), std::string::npos) << e.message;
}

TEST(RiscvImage, RejectsBigEndianKernel) {
  auto image = build_riscv_image();
  put_le64(image, 24, 1);
  EXPECT_EQ(load_error(image).code, ErrorCode::kUnsupported);
}

TEST(RiscvImage, RejectsUnalignedTextOffset) {
  auto image = build_riscv_image();
  put_le64(image, 8, 0x200800);
  EXPECT_EQ(load_error(image).code, ErrorCode::kInvalidField);
}

TEST(RiscvImage, RejectsHugeTextOffset) {
  auto image = build_riscv_image();
  put_le64(image, 8, 0x8000'0000'0000'0000);
  EXPECT_EQ(load_error(image).code, ErrorCode::kInvalidField);
}

TEST(RiscvImage, RejectsZeroImageSize) {
  auto image = build_riscv_image();
  put_le64(image, 16, 0);
  EXPECT_EQ(load_error(image).code, ErrorCode::kInvalidField);
}

TEST(RiscvImage, RejectsImageSizeSmallerThanFile) {
  auto image = build_riscv_image();
  put_le64(image, 16, image.size() - 8);
  auto e = load_error(image);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_NE(e.message.find("image_size"), std::string::npos) << e.message;
}

TEST(RiscvImage, RejectsSizeThatWrapsTheAddressSpace) {
  auto image = build_riscv_image();
  put_le64(image, 16, ~0ull - 0x1000);
  EXPECT_EQ(load_error(image).code, ErrorCode::kOverflow);
}

TEST(RiscvImage, RejectsImageThatDoesNotFitInMemory) {
  auto image = build_riscv_image();
  put_le64(image, 16, 63 * kMiB);  // from base + 2 MiB, 1 MiB too long
  EXPECT_EQ(load_error(image).code, ErrorCode::kOutOfBounds);
}

TEST(RiscvImage, RefusesAnotherArchByName) {
  LoadOptions options;
  options.arch = Arch::kAarch64;
  auto e = load_error(build_riscv_image(), options);
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_NE(e.message.find("riscv64 kernel, but an aarch64 VM was requested"), std::string::npos) << e.message;
}


// ---- issue 13: an Image whose file is shorter than its own header says ----

std::string inspect_message(const std::vector<std::byte>& image, ErrorCode want) {
  SpanImageSource src(image, "Image");
  auto r = inspect_riscv_image(src);
  EXPECT_FALSE(r) << "inspect accepted the cut Image";
  if (r) return {};
  EXPECT_EQ(r.error().code, want) << r.error().message;
  EXPECT_EQ(load_error(image).code, want);
  return r.error().message;
}

TEST(RiscvImageCut, RefusesFileThatEndsWithTheHeader) {
  auto image = build_riscv_image();
  image.resize(64);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("ends with its 64-byte riscv Image header (image_size"), std::string::npos) << m;
}

TEST(RiscvImageCut, RefusesFileCutShortOfItsLastPeSection) {
  auto whole = build_riscv_image();
  auto image = whole;
  image.resize(0x1000);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("PE section 0 \".text\""), std::string::npos) << m;
  EXPECT_NE(m.find("past the end of the 0x1000-byte file"), std::string::npos) << m;
}

TEST(RiscvImageCut, RefusesEntryJumpPastTheEndOfTheFile) {
  RiscvImageSpec spec;
  spec.mz_stub = false;
  auto image = build_riscv_image(spec);
  // jal x0, +0x8000 (`j _start_kernel`): imm[20|10:1|11|19:12] = 0|0|0|0x08.
  put_le32(image, 0, (0x08u << 12) | 0x06f);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("entry branch at offset 0x0 jumps to file offset 0x8000"), std::string::npos) << m;
}

TEST(RiscvImageCut, DecodesTheJumpAfterTheMzStub) {
  auto image = build_riscv_image();
  // c.li s4,-13 ("MZ") then `j +0x4000` at offset 2, like head.S with CONFIG_EFI.
  const uint32_t j = (0x04u << 12) | 0x06f;
  image[2] = std::byte(j & 0xff);
  image[3] = std::byte((j >> 8) & 0xff);
  image[4] = std::byte((j >> 16) & 0xff);
  image[5] = std::byte(j >> 24);
  {
    SpanImageSource src(image, "Image");
    auto r = inspect_riscv_image(src);
    EXPECT_TRUE(r) << r.error().message;  // 0x4002 is inside the 0x5040-byte file
  }
  image.resize(0x3000);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("entry branch at offset 0x2 jumps to file offset 0x4002"), std::string::npos) << m;
}

}  // namespace
}  // namespace loader
