#include "loader/kernel_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "loader/arch_image.h"
#include "loader/decompress.h"
#include "loader/elf.h"
#include "support/bzimage_builder.h"
#include "support/compress.h"
#include "support/elf_builder.h"
#include "support/image_builder.h"

namespace loader {
namespace {

using test_support::build_arm64_image;
using test_support::build_efi_zboot;
using test_support::build_riscv_image;
using test_support::compress;
using test_support::put_le64;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kRamBase = 0x8000'0000;
// What the tests compare between a plain and a wrapped load: the whole low
// part of RAM, so a stray byte anywhere (scratch left behind) shows.
constexpr uint64_t kCompared = 8 * kMiB;

GuestMemory make_memory(uint64_t base = kRamBase, uint64_t size = 64 * kMiB) {
  std::array specs{RegionSpec{GuestAddress(base), size}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

std::vector<std::byte> guest_bytes(const GuestMemory& mem, uint64_t addr, uint64_t len) {
  std::vector<std::byte> out(len);
  EXPECT_TRUE(mem.read(GuestAddress(addr), out));
  return out;
}

LoadOptions for_arch(Arch arch) {
  LoadOptions options;
  options.arch = arch;
  return options;
}

test_support::Arm64ImageSpec arm64_spec(uint64_t text_offset) {
  test_support::Arm64ImageSpec spec;
  spec.text_offset = text_offset;
  spec.body_size = 0x40000;  // big enough that the codecs emit several blocks
  return spec;
}

TEST(KernelLoader, InspectDetectsEachFormat) {
  auto arm64 = build_arm64_image();
  auto riscv = build_riscv_image();
  auto elf = test_support::vmlinux_like().build().bytes;
  auto bz = test_support::build_bzimage().bytes;
  struct Case {
    const std::vector<std::byte>* bytes;
    KernelFormat format;
    Arch arch;
  };
  for (const Case& c : {Case{&arm64, KernelFormat::kArm64Image, Arch::kAarch64},
                        Case{&riscv, KernelFormat::kRiscvImage, Arch::kRiscv64},
                        Case{&elf, KernelFormat::kElf, Arch::kX86_64},
                        Case{&bz, KernelFormat::kBzImage, Arch::kX86_64}}) {
    SpanImageSource src(*c.bytes, "kernel");
    auto info = inspect_kernel(src);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->format, c.format);
    EXPECT_EQ(info->arch, c.arch);
    EXPECT_EQ(info->compression, Compression::kNone);
    EXPECT_FALSE(info->efi_zboot);
  }
}

TEST(KernelLoader, InspectSeesThroughCompressionAndZboot) {
  auto riscv = build_riscv_image();
  auto gz = compress(Compression::kGzip, riscv);
  SpanImageSource gz_src(gz, "Image.gz");
  auto info = inspect_kernel(gz_src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kRiscvImage);
  EXPECT_EQ(info->compression, Compression::kGzip);
  EXPECT_FALSE(info->efi_zboot);

  auto zboot = build_efi_zboot(compress(Compression::kZstd, build_arm64_image()), "zstd22");
  SpanImageSource zboot_src(zboot, "vmlinuz.efi");
  info = inspect_kernel(zboot_src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kArm64Image);
  EXPECT_EQ(info->compression, Compression::kZstd);
  EXPECT_TRUE(info->efi_zboot);
}

struct WrapCase {
  Compression kind;
  uint64_t text_offset;
};

class CompressedArm64 : public testing::TestWithParam<WrapCase> {};

// A compressed Image is inflated in guest memory and then placed: the guest
// must end up byte for byte as after loading the plain Image.
TEST_P(CompressedArm64, LoadsIdenticallyToThePlainImage) {
  const auto image = build_arm64_image(arm64_spec(GetParam().text_offset));
  const auto packed = compress(GetParam().kind, image);
  SpanImageSource plain_src(image, "Image");
  SpanImageSource packed_src(packed, "Image.z");

  auto plain_mem = make_memory();
  auto plain = load_kernel(plain_src, plain_mem, for_arch(Arch::kAarch64));
  ASSERT_TRUE(plain) << plain.error().message;
  auto mem = make_memory();
  auto loaded = load_kernel(packed_src, mem, for_arch(Arch::kAarch64));
  ASSERT_TRUE(loaded) << loaded.error().message;

  EXPECT_EQ(loaded->format, KernelFormat::kArm64Image);
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + GetParam().text_offset));
  EXPECT_EQ(loaded->load_address, plain->load_address);
  EXPECT_EQ(loaded->entry, plain->entry);
  EXPECT_EQ(loaded->load_size, plain->load_size);
  EXPECT_EQ(guest_bytes(mem, kRamBase + GetParam().text_offset, image.size()), image);
  EXPECT_TRUE(guest_bytes(mem, kRamBase, kCompared) == guest_bytes(plain_mem, kRamBase, kCompared));
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CompressedArm64,
    testing::Values(WrapCase{Compression::kGzip, 0}, WrapCase{Compression::kGzip, 0x80000},
                    WrapCase{Compression::kZstd, 0}, WrapCase{Compression::kZstd, 0x1000},
                    WrapCase{Compression::kXz, 0x80000}, WrapCase{Compression::kLz4Frame, 0x80000},
                    WrapCase{Compression::kLz4Legacy, 0}, WrapCase{Compression::kBzip2, 0x80000}),
    [](const auto& info) {
      return std::string(to_string(info.param.kind) == "lz4-legacy" ? "lz4legacy" : to_string(info.param.kind)) +
             "_text_offset_" + std::to_string(info.param.text_offset);
    });

TEST(KernelLoader, CompressedRiscvImageMovesPastItsScratch) {
  // text_offset 2 MiB is larger than the Image: source and destination do not overlap.
  const auto image = build_riscv_image();
  const auto packed = compress(Compression::kGzip, image);
  SpanImageSource src(packed, "Image.gz");
  auto mem = make_memory();
  auto loaded = load_kernel(src, mem, for_arch(Arch::kRiscv64));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(kRamBase + 2 * kMiB));
  EXPECT_EQ(guest_bytes(mem, kRamBase + 2 * kMiB, image.size()), image);
  EXPECT_EQ(guest_bytes(mem, kRamBase, image.size()), std::vector<std::byte>(image.size()));
}

TEST(KernelLoader, ZbootLoadsIdenticallyToThePlainImage) {
  const auto image = build_arm64_image(arm64_spec(0x80000));
  const auto zboot = build_efi_zboot(compress(Compression::kGzip, image), "gzip");
  SpanImageSource plain_src(image, "Image");
  SpanImageSource zboot_src(zboot, "vmlinuz.efi");
  auto plain_mem = make_memory();
  auto mem = make_memory();
  auto plain = load_kernel(plain_src, plain_mem, {});
  auto loaded = load_kernel(zboot_src, mem, {});
  ASSERT_TRUE(plain) << plain.error().message;
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->entry, GuestAddress(kRamBase + 0x80000));
  EXPECT_TRUE(guest_bytes(mem, kRamBase, kCompared) == guest_bytes(plain_mem, kRamBase, kCompared));
}

TEST(KernelLoader, CompressedVmlinuxLoadsLikeThePlainOne) {
  const auto elf = test_support::vmlinux_like().build().bytes;
  const auto packed = compress(Compression::kZstd, elf);
  SpanImageSource plain_src(elf, "vmlinux");
  SpanImageSource packed_src(packed, "vmlinux.zst");
  auto plain_mem = make_memory(0, 64 * kMiB);
  auto mem = make_memory(0, 64 * kMiB);
  auto plain = load_kernel(plain_src, plain_mem, for_arch(Arch::kX86_64));
  auto loaded = load_kernel(packed_src, mem, for_arch(Arch::kX86_64));
  ASSERT_TRUE(plain) << plain.error().message;
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->format, KernelFormat::kElf);
  EXPECT_EQ(loaded->entry, GuestAddress(test_support::kVmlinuxEntry));
  EXPECT_EQ(loaded->pvh_entry, plain->pvh_entry);
  const auto got = guest_bytes(mem, 0, 32 * kMiB);
  const auto want = guest_bytes(plain_mem, 0, 32 * kMiB);
  auto diff = std::mismatch(got.begin(), got.end(), want.begin());
  EXPECT_TRUE(diff.first == got.end()) << "first difference at guest address " << (diff.first - got.begin()) << " got " << int(*diff.first) << " want " << int(*diff.second) << " file size " << elf.size();
}

TEST(KernelLoader, LoadsBzImageThroughDetection) {
  const auto bz = test_support::build_bzimage();
  SpanImageSource src(bz.bytes, "bzImage");
  auto mem = make_memory(0, 64 * kMiB);
  auto loaded = load_kernel(src, mem, for_arch(Arch::kX86_64));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->format, KernelFormat::kBzImage);
  EXPECT_FALSE(loaded->setup_header.empty());
}

Error load_error(const std::vector<std::byte>& bytes, const LoadOptions& options = {}, uint64_t mem_size = 64 * kMiB) {
  SpanImageSource src(bytes, "kernel");
  auto mem = make_memory(kRamBase, mem_size);
  auto r = load_kernel(src, mem, options);
  EXPECT_FALSE(r);
  return r ? Error{ErrorCode::kIo, "loaded"} : r.error();
}

TEST(KernelLoader, RefusesWrongArchByName) {
  auto e = load_error(build_arm64_image(), for_arch(Arch::kX86_64));
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_NE(e.message.find("aarch64 kernel, but an x86_64 VM was requested"), std::string::npos) << e.message;

  e = load_error(compress(Compression::kGzip, build_riscv_image()), for_arch(Arch::kAarch64));
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_NE(e.message.find("riscv64 kernel, but an aarch64 VM was requested"), std::string::npos) << e.message;

  e = load_error(test_support::vmlinux_like().build().bytes, for_arch(Arch::kRiscv64));
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_NE(e.message.find("x86_64 kernel, but a riscv64 VM was requested"), std::string::npos) << e.message;

  e = load_error(test_support::build_bzimage().bytes, for_arch(Arch::kAarch64));
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);

  e = load_error(build_efi_zboot(compress(Compression::kGzip, build_arm64_image()), "gzip"),
                 for_arch(Arch::kRiscv64));
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
}

TEST(KernelLoader, RefusesGarbageNamingItsFirstBytes) {
  std::vector<std::byte> garbage(4096, std::byte{0x11});
  garbage[0] = std::byte{0xde};
  garbage[1] = std::byte{0xad};
  auto e = load_error(garbage);
  EXPECT_EQ(e.code, ErrorCode::kBadMagic);
  EXPECT_NE(e.message.find("de ad 11 11"), std::string::npos) << e.message;
  SpanImageSource src(garbage, "kernel");
  EXPECT_EQ(inspect_kernel(src).error().code, ErrorCode::kBadMagic);
}

TEST(KernelLoader, RefusesEmptyAndTinyFiles) {
  EXPECT_EQ(load_error({}).code, ErrorCode::kBadMagic);
  EXPECT_EQ(load_error({std::byte{0x7f}, std::byte{'E'}}).code, ErrorCode::kBadMagic);
}

TEST(KernelLoader, RefusesCompressedGarbageAndLeavesMemoryClean) {
  std::vector<std::byte> noise(0x3000, std::byte{0x42});
  const auto packed = compress(Compression::kGzip, noise);
  SpanImageSource src(packed, "thing.gz");
  auto mem = make_memory();
  auto r = load_kernel(src, mem, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadMagic);
  EXPECT_NE(r.error().message.find("gzip"), std::string::npos) << r.error().message;
  EXPECT_EQ(guest_bytes(mem, kRamBase, noise.size()), std::vector<std::byte>(noise.size()));
}

TEST(KernelLoader, RefusesCompressedImageWithBadHeaderAndLeavesMemoryClean) {
  auto image = build_arm64_image(arm64_spec(0));
  put_le64(image, 16, 0x1000);  // image_size smaller than the Image
  const auto packed = compress(Compression::kZstd, image);
  SpanImageSource src(packed, "Image.zst");
  auto mem = make_memory();
  auto r = load_kernel(src, mem, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidField);
  EXPECT_NE(r.error().message.find("image_size"), std::string::npos) << r.error().message;
  EXPECT_EQ(guest_bytes(mem, kRamBase, image.size()), std::vector<std::byte>(image.size()));
}

TEST(KernelLoader, CompressedImageBiggerThanTheRoomIsTooLarge) {
  const auto image = build_arm64_image(arm64_spec(0));
  const auto packed = compress(Compression::kXz, image);
  LoadOptions capped;
  capped.max_decompressed_size = image.size() - 1;
  auto e = load_error(packed, capped);
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  // The same bound from the guest: only 0x10000 bytes from the base to the end of RAM.
  LoadOptions near_end;
  near_end.load_address = GuestAddress(kRamBase + 2 * kMiB);
  e = load_error(packed, near_end, 2 * kMiB + 0x10000);
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_NE(e.message.find("does not fit"), std::string::npos) << e.message;
}

TEST(KernelLoader, CompressedImageWhoseBssDoesNotFitIsOutOfBounds) {
  auto image = build_arm64_image(arm64_spec(0));
  put_le64(image, 16, 65 * kMiB);
  EXPECT_EQ(load_error(compress(Compression::kGzip, image)).code, ErrorCode::kOutOfBounds);
}

TEST(KernelLoader, CorruptCompressedStreamIsADecompressError) {
  auto packed = compress(Compression::kGzip, build_arm64_image(arm64_spec(0)));
  for (size_t i = 40; i < 120; ++i) packed[i] ^= std::byte{0x33};
  EXPECT_EQ(load_error(packed).code, ErrorCode::kDecompress);
}

}  // namespace
}  // namespace loader
