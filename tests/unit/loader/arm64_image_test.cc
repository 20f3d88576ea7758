#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "loader/arch_image.h"
#include "support/image_builder.h"

namespace loader {
namespace {

using test_support::Arm64ImageSpec;
using test_support::build_arm64_image;
using test_support::put_le32;
using test_support::put_le64;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kRamBase = 0x8000'0000;

GuestMemory make_memory(uint64_t base = kRamBase, uint64_t size = 64 * kMiB) {
  std::array specs{RegionSpec{GuestAddress(base), size}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

std::vector<std::byte> read_guest(const GuestMemory& mem, uint64_t addr, size_t len) {
  std::vector<std::byte> out(len);
  auto r = mem.read(GuestAddress(addr), out);
  EXPECT_TRUE(r) << r.error().message;
  return out;
}

Result<LoadedKernel> load(const std::vector<std::byte>& image, GuestMemory& mem, LoadOptions options = {}) {
  SpanImageSource src(image, "Image");
  return load_arm64_image(src, mem, options);
}

LoadOptions with_address(uint64_t addr) {
  LoadOptions options;
  options.load_address = GuestAddress(addr);
  return options;
}

LoadOptions with_arch(Arch arch) {
  LoadOptions options;
  options.arch = arch;
  return options;
}

// Aggregate designated initialisers trip -Wmissing-field-initializers; build specs by hand.
Arm64ImageSpec spec_with(uint64_t text_offset, std::optional<uint64_t> image_size = {}, uint64_t flags = 0xa,
                         bool mz_stub = true) {
  Arm64ImageSpec spec;
  spec.text_offset = text_offset;
  spec.image_size = image_size;
  spec.flags = flags;
  spec.mz_stub = mz_stub;
  return spec;
}

ErrorCode load_error(const std::vector<std::byte>& image, LoadOptions options = {}) {
  auto mem = make_memory();
  auto r = load(image, mem, options);
  EXPECT_FALSE(r);
  return r ? ErrorCode::kIo : r.error().code;
}

TEST(Arm64Image, LoadsAtAlignedRamBasePlusTextOffsetAndZeroesBss) {
  Arm64ImageSpec spec;
  spec.text_offset = 0x80000;
  spec.bss_size = 0x2000;
  auto image = build_arm64_image(spec);
  auto mem = make_memory();
  // Stale bytes everywhere, so the test sees what the loader wrote and cleared.
  ASSERT_TRUE(mem.fill(GuestAddress(kRamBase), 4 * kMiB, std::byte{0xaa}));

  auto loaded = load(image, mem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->format, KernelFormat::kArm64Image);
  EXPECT_EQ(loaded->arch, Arch::kAarch64);
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + 0x80000));
  EXPECT_EQ(loaded->entry, GuestAddress(kRamBase + 0x80000));
  EXPECT_EQ(loaded->load_size, image.size() + 0x2000);

  EXPECT_EQ(read_guest(mem, kRamBase + 0x80000, image.size()), image);
  EXPECT_EQ(read_guest(mem, kRamBase + 0x80000 + image.size(), 0x2000), std::vector<std::byte>(0x2000));
  // Nothing outside [load, load + image_size) is touched.
  EXPECT_EQ(read_guest(mem, kRamBase + 0x80000 - 1, 1)[0], std::byte{0xaa});
  EXPECT_EQ(read_guest(mem, kRamBase + 0x80000 + image.size() + 0x2000, 1)[0], std::byte{0xaa});
}

TEST(Arm64Image, AlignsTheRequestedBaseUpTo2MiB) {
  auto image = build_arm64_image(spec_with(0x1000));
  auto mem = make_memory();
  auto loaded = load(image, mem, with_address(kRamBase + 0x100000));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + 2 * kMiB + 0x1000));
  EXPECT_EQ(read_guest(mem, kRamBase + 2 * kMiB + 0x1000, image.size()), image);
}

TEST(Arm64Image, UsesTheLowestRegionWhenNoAddressIsGiven) {
  std::array specs{RegionSpec{GuestAddress(kRamBase + 64 * kMiB), 16 * kMiB}, RegionSpec{GuestAddress(kRamBase), 16 * kMiB}};
  auto mem = GuestMemory::create(specs);
  ASSERT_TRUE(mem);
  auto loaded = load(build_arm64_image(), *mem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase));
}

TEST(Arm64Image, InspectReportsHeaderFields) {
  auto image = build_arm64_image(spec_with(0x80000, {}, 0x4 | 0x8));
  const std::string banner = "Linux version 6.1.0-test (builder@host) #1 SMP";
  std::memcpy(image.data() + 0x1000, banner.c_str(), banner.size() + 1);
  SpanImageSource src(image, "Image");
  auto info = inspect_arm64_image(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kArm64Image);
  EXPECT_EQ(info->arch, Arch::kAarch64);
  EXPECT_TRUE(info->pe_stub);
  EXPECT_EQ(info->entry, 0x80000u);
  EXPECT_EQ(info->alignment, 2 * kMiB);
  EXPECT_EQ(info->load_size, image.size() + 0x3000);
  EXPECT_EQ(info->version, banner);
  bool saw_flags = false;
  for (const auto& f : info->fields) {
    if (f.name != "flags") continue;
    saw_flags = true;
    EXPECT_EQ(f.offset, 24u);
    EXPECT_EQ(f.value, 0xcu);
    EXPECT_NE(f.note.find("16K pages"), std::string::npos) << f.note;
    EXPECT_NE(f.note.find("anywhere"), std::string::npos) << f.note;
  }
  EXPECT_TRUE(saw_flags);
}

TEST(Arm64Image, ImageWithoutEfiStubIsStillAnImage) {
  auto bytes = build_arm64_image(spec_with(0, {}, 0xa, false));
  SpanImageSource src2(bytes, "Image");
  auto info = inspect_arm64_image(src2);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->pe_stub);
}

TEST(Arm64Image, ZeroImageSizeMeansPre317Rules) {
  auto image = build_arm64_image(spec_with(0x1234, 0, 1));
  SpanImageSource src(image, "Image");
  auto info = inspect_arm64_image(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->entry, 0x80000u);
  EXPECT_EQ(info->load_size, image.size());
  auto mem = make_memory();
  auto loaded = load(image, mem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + 0x80000));
  EXPECT_EQ(loaded->load_size, image.size());
}

TEST(Arm64Image, RejectsFileShorterThanHeader) {
  auto image = build_arm64_image();
  image.resize(63);
  EXPECT_EQ(load_error(image), ErrorCode::kTruncated);
  SpanImageSource src(image, "Image");
  EXPECT_EQ(inspect_arm64_image(src).error().code, ErrorCode::kTruncated);
}

TEST(Arm64Image, RejectsBadMagic) {
  auto image = build_arm64_image();
  image[0x3b] = std::byte{0x65};
  auto mem = make_memory();
  auto r = load(image, mem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadMagic);
  EXPECT_NE(r.error().message.find("Image"), std::string::npos);
  EXPECT_NE(r.error().message.find("0x38"), std::string::npos);
}

TEST(Arm64Image, RejectsBigEndianKernel) {
  auto image = build_arm64_image();
  put_le64(image, 24, 0xb);
  EXPECT_EQ(load_error(image), ErrorCode::kUnsupported);
}

TEST(Arm64Image, RejectsUnalignedTextOffset) {
  auto image = build_arm64_image();
  put_le64(image, 8, 0x80010);
  EXPECT_EQ(load_error(image), ErrorCode::kInvalidField);
}

TEST(Arm64Image, RejectsHugeTextOffset) {
  auto image = build_arm64_image();
  put_le64(image, 8, 0xffff'ffff'ffff'f000);
  auto mem = make_memory();
  auto r = load(image, mem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidField);
  EXPECT_NE(r.error().message.find("text_offset 0xfffffffffffff000"), std::string::npos) << r.error().message;
}

TEST(Arm64Image, RejectsImageSizeSmallerThanFile) {
  auto image = build_arm64_image();
  put_le64(image, 16, image.size() - 1);
  EXPECT_EQ(load_error(image), ErrorCode::kInvalidField);
}

TEST(Arm64Image, RejectsSizeThatWrapsTheAddressSpace) {
  auto image = build_arm64_image();
  put_le64(image, 16, 0xffff'ffff'8000'0000);
  EXPECT_EQ(load_error(image), ErrorCode::kOverflow);
}

TEST(Arm64Image, RejectsBaseThatWrapsWhenAligned) {
  EXPECT_EQ(load_error(build_arm64_image(), with_address(~0ull - 0x1000)), ErrorCode::kOverflow);
}

TEST(Arm64Image, RejectsImageLargerThanMemory) {
  auto image = build_arm64_image();
  put_le64(image, 16, 65 * kMiB);
  EXPECT_EQ(load_error(image), ErrorCode::kOutOfBounds);
}

TEST(Arm64Image, RejectsImageThatRunsOffTheEndOfItsRegion) {
  // Fits by size, but not from a base near the end of RAM.
  EXPECT_EQ(load_error(build_arm64_image(), with_address(kRamBase + 63 * kMiB)),
            ErrorCode::kOutOfBounds);
}

TEST(Arm64Image, RejectsBaseOutsideGuestMemory) {
  EXPECT_EQ(load_error(build_arm64_image(), with_address(0)), ErrorCode::kOutOfBounds);
}

TEST(Arm64Image, RefusesAnotherArchByName) {
  auto mem = make_memory();
  auto r = load(build_arm64_image(), mem, with_arch(Arch::kX86_64));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kWrongArch);
  EXPECT_NE(r.error().message.find("aarch64 kernel, but an x86_64 VM was requested"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(load(build_arm64_image(), mem, with_arch(Arch::kAarch64)));
}


// ---- issue 13: an Image whose file is shorter than its own header says ----

std::string inspect_message(const std::vector<std::byte>& image, ErrorCode want) {
  SpanImageSource src(image, "Image");
  auto r = inspect_arm64_image(src);
  EXPECT_FALSE(r) << "inspect accepted the cut Image";
  if (r) return {};
  EXPECT_EQ(r.error().code, want) << r.error().message;
  EXPECT_EQ(load_error(image), want);
  return r.error().message;
}

TEST(Arm64ImageCut, RefusesFileThatEndsWithTheHeader) {
  auto image = build_arm64_image(spec_with(0, 0x200000));
  image.resize(64);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("ends with its 64-byte arm64 Image header"), std::string::npos) << m;
  EXPECT_NE(m.find("image_size 0x200000 at offset 0x10"), std::string::npos) << m;
}

TEST(Arm64ImageCut, RefusesFileCutInsideThePeSectionTable) {
  auto image = build_arm64_image();
  image.resize(0x60);  // the PE header at 0x40 fits, its section table at 0x58 does not
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("PE section table [0x58, +1 * 40)"), std::string::npos) << m;
  EXPECT_NE(m.find("NumberOfSections at 0x46"), std::string::npos) << m;
}

TEST(Arm64ImageCut, RefusesFileCutShortOfItsLastPeSection) {
  auto whole = build_arm64_image();
  {
    SpanImageSource src(whole, "Image");
    ASSERT_TRUE(inspect_arm64_image(src)) << "the uncut fixture must load";
  }
  auto image = whole;
  image.resize(whole.size() - 0x1000);
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("PE section 0 \".text\" (section header at 0x58)"), std::string::npos) << m;
  EXPECT_NE(m.find(fmt::format("ends at {:#x}, past the end of the {:#x}-byte file", whole.size(), image.size())),
            std::string::npos)
      << m;
}

TEST(Arm64ImageCut, RefusesMzStubWithoutPeSignature) {
  auto image = build_arm64_image();
  put_le32(image, 0x40, 0x12345678);
  std::string m = inspect_message(image, ErrorCode::kInvalidField);
  EXPECT_NE(m.find("no \"PE\\0\\0\" signature at its PE header offset 0x40 (offset 0x3c)"), std::string::npos) << m;
}

TEST(Arm64ImageCut, RefusesEntryBranchPastTheEndOfTheFile) {
  // No EFI stub: code0 is `b primary_entry`; a file cut before its target.
  auto image = build_arm64_image(spec_with(0, 0x20000, 0xa, false));
  put_le32(image, 0, 0x14000000u | (0x10000 / 4));  // b +0x10000
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("entry branch at offset 0x0 jumps to file offset 0x10000"), std::string::npos) << m;
  // The same branch inside a long enough file is fine.
  image.resize(0x10004);
  SpanImageSource src(image, "Image");
  EXPECT_TRUE(inspect_arm64_image(src));
}

TEST(Arm64ImageCut, RefusesBackwardBranchBeforeTheFile) {
  auto image = build_arm64_image(spec_with(0, {}, 0xa, false));
  put_le32(image, 0, 0x17fffff0u);  // b -0x40
  std::string m = inspect_message(image, ErrorCode::kTruncated);
  EXPECT_NE(m.find("jumps to file offset 0xffffffffffffffc0"), std::string::npos) << m;
}

}  // namespace
}  // namespace loader
