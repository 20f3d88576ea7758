#include "loader/bzimage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "support/bzimage_builder.h"
#include "support/compress.h"

namespace loader {
namespace {

using test_support::build_bzimage;
using test_support::BzImageSpec;
using test_support::put_le;

constexpr uint64_t kMiB = 1 << 20;

GuestMemory make_memory(uint64_t size = 64 * kMiB, uint64_t base = 0) {
  std::array specs{RegionSpec{GuestAddress(base), size}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

// Expects err to carry code and to mention every one of needles.
void expect_error(const Error& err, ErrorCode code, std::initializer_list<std::string_view> needles) {
  EXPECT_EQ(err.code, code) << to_string(err.code) << ": " << err.message;
  for (auto n : needles) EXPECT_NE(err.message.find(n), std::string::npos) << "'" << n << "' not in: " << err.message;
}

Error inspect_error(const std::vector<std::byte>& bytes) {
  SpanImageSource src(bytes, "bz.img");
  auto info = inspect_bzimage(src);
  EXPECT_FALSE(info);
  return info ? Error{} : info.error();
}

Error load_error(const std::vector<std::byte>& bytes, LoadOptions options = {}, uint64_t mem_size = 64 * kMiB) {
  SpanImageSource src(bytes, "bz.img");
  auto mem = make_memory(mem_size);
  auto k = load_bzimage(src, mem, options);
  EXPECT_FALSE(k);
  return k ? Error{} : k.error();
}

TEST(BzImage, InspectReportsTheHeader) {
  BzImageSpec spec;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto info = inspect_bzimage(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kBzImage);
  EXPECT_EQ(info->arch, Arch::kX86_64);
  EXPECT_EQ(info->protocol_version, "2.15");
  EXPECT_EQ(info->version, spec.version_string);
  EXPECT_EQ(info->preferred_load_address, spec.pref_address);
  EXPECT_EQ(info->load_size, img.init_size);
  EXPECT_EQ(info->entry, 0x200u);
  EXPECT_TRUE(info->relocatable);
  EXPECT_EQ(info->alignment, spec.kernel_alignment);
  EXPECT_EQ(info->payload_compression, Compression::kXz);
  EXPECT_TRUE(info->pe_stub);
  EXPECT_EQ(info->compression, Compression::kNone);

  auto field = [&](std::string_view name) -> const HeaderField* {
    auto it = std::find_if(info->fields.begin(), info->fields.end(), [&](auto& f) { return f.name == name; });
    return it == info->fields.end() ? nullptr : &*it;
  };
  ASSERT_NE(field("loadflags"), nullptr);
  EXPECT_EQ(field("loadflags")->offset, 0x211u);
  EXPECT_EQ(field("loadflags")->value, 0x81u);
  EXPECT_EQ(field("loadflags")->note, "LOADED_HIGH|CAN_USE_HEAP");
  ASSERT_NE(field("xloadflags"), nullptr);
  EXPECT_EQ(field("xloadflags")->note, "XLF_KERNEL_64|XLF_CAN_BE_LOADED_ABOVE_4G|XLF_EFI_HANDOVER_64");
  ASSERT_NE(field("init_size"), nullptr);
  EXPECT_EQ(field("init_size")->offset, 0x260u);
  EXPECT_EQ(field("init_size")->value, img.init_size);
  ASSERT_NE(field("payload_length"), nullptr);
  EXPECT_EQ(field("payload_length")->value, img.payload_length);
  ASSERT_NE(field("kernel_info_offset"), nullptr);
  EXPECT_EQ(field("cmdline_size")->value, spec.cmdline_size);
  for (size_t i = 1; i < info->fields.size(); ++i) EXPECT_LT(info->fields[i - 1].offset, info->fields[i].offset);
}

TEST(BzImage, InspectDetectsTheLz4LegacyPayload) {
  BzImageSpec spec;
  spec.compression = Compression::kLz4Legacy;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes);
  auto info = inspect_bzimage(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->payload_compression, Compression::kLz4Legacy);
}

TEST(BzImage, PayloadRangeIsTheCompressedPayloadInTheFile) {
  auto img = build_bzimage();
  SpanImageSource src(img.bytes);
  auto range = bzimage_payload_range(src);
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(range->offset, img.pm_offset + img.payload_offset);
  EXPECT_EQ(range->length, img.payload_length);
  // The xz magic starts it.
  EXPECT_EQ(img.bytes[range->offset], std::byte{0xfd});
  EXPECT_EQ(img.bytes[range->offset + 1], std::byte{'7'});

  put_le(img.bytes, 0x24c, img.pm_size, 4);  // payload_length past the end
  SpanImageSource bad(img.bytes);
  EXPECT_FALSE(bzimage_payload_range(bad));
}

TEST(BzImage, LoadsTheProtectedModePartAtOneMiB) {
  BzImageSpec spec;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto mem = make_memory();
  auto k = load_bzimage(src, mem, {});
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->format, KernelFormat::kBzImage);
  EXPECT_EQ(k->load_address, GuestAddress(kMiB));
  EXPECT_EQ(k->entry, GuestAddress(kMiB + 0x200));
  // Relocatable: startup_64 runs at max(align_up(1 MiB, 2 MiB), pref_address) = 16 MiB.
  EXPECT_EQ(k->load_size, spec.pref_address + img.init_size - kMiB);

  std::vector<std::byte> loaded(img.pm_size);
  ASSERT_TRUE(mem.read(GuestAddress(kMiB), loaded));
  EXPECT_TRUE(std::equal(loaded.begin(), loaded.end(), img.bytes.begin() + img.pm_offset));

  // The setup header: 0x1f1 up to the jump target 0x202 + byte[0x201].
  const size_t end = 0x202 + std::to_integer<size_t>(img.bytes[0x201]);
  ASSERT_EQ(k->setup_header.size(), end - 0x1f1);
  EXPECT_TRUE(std::equal(k->setup_header.begin(), k->setup_header.end(), img.bytes.begin() + 0x1f1));
}

TEST(BzImage, LoadsAtTheRequestedAddress) {
  auto img = build_bzimage();
  SpanImageSource src(img.bytes);
  auto mem = make_memory();
  LoadOptions opts;
  opts.load_address = GuestAddress(0x2000000);
  auto k = load_bzimage(src, mem, opts);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->entry, GuestAddress(0x2000200));
  // Above pref_address and already aligned: the kernel runs where it was put.
  EXPECT_EQ(k->load_size, img.init_size);
  std::array<std::byte, 4> first{};
  ASSERT_TRUE(mem.read(GuestAddress(0x2000000), first));
  EXPECT_EQ(first[0], std::byte{0xcc});
}

TEST(BzImage, NonRelocatableKernelRunsAtPrefAddress) {
  BzImageSpec spec;
  spec.relocatable = 0;
  spec.pref_address = 0x1000000;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes);
  auto mem = make_memory();
  LoadOptions opts;
  opts.load_address = GuestAddress(0x2000000);  // above pref_address: the kernel still moves there
  auto k = load_bzimage(src, mem, opts);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->load_address, GuestAddress(0x2000000));
  EXPECT_EQ(k->load_size, std::max<uint64_t>(img.pm_size, img.init_size));

  // With pref_address at the top of memory, init_size no longer fits there.
  put_le(img.bytes, 0x258, 64 * kMiB - 0x1000, 8);
  expect_error(load_error(img.bytes), ErrorCode::kOutOfBounds, {"pref_address", "0x3fff000", "not relocatable"});
}

TEST(BzImage, SetupSectsZeroMeansFour) {
  BzImageSpec spec;
  spec.setup_sects = 0;
  auto img = build_bzimage(spec);
  ASSERT_EQ(img.pm_offset, 5u * 512);
  SpanImageSource src(img.bytes);
  auto mem = make_memory();
  auto k = load_bzimage(src, mem, {});
  ASSERT_TRUE(k) << k.error().message;
  std::vector<std::byte> loaded(img.pm_size);
  ASSERT_TRUE(mem.read(GuestAddress(kMiB), loaded));
  EXPECT_TRUE(std::equal(loaded.begin(), loaded.end(), img.bytes.begin() + 5 * 512));
}

TEST(BzImageReject, FileTooSmallForTheHeader) {
  auto img = build_bzimage();
  img.bytes.resize(0x250);
  expect_error(inspect_error(img.bytes), ErrorCode::kTruncated, {"bz.img", "0x250", "0x268"});
}

TEST(BzImageReject, BadBootFlag) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x1fe, 0xaa56, 2);
  expect_error(inspect_error(img.bytes), ErrorCode::kBadMagic, {"boot_flag", "0x1fe", "0xaa56"});
}

TEST(BzImageReject, MissingHdrS) {
  auto img = build_bzimage();
  img.bytes[0x205] = std::byte{'T'};
  expect_error(inspect_error(img.bytes), ErrorCode::kBadMagic, {"0x202", "HdrS"});
}

TEST(BzImageReject, ProtocolBelow206) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x206, 0x0205, 2);
  expect_error(inspect_error(img.bytes), ErrorCode::kUnsupported, {"version", "0x206", "2.05"});
}

TEST(BzImageReject, ProtocolBelow212HasNo64BitEntry) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x206, 0x020b, 2);
  expect_error(inspect_error(img.bytes), ErrorCode::kUnsupported, {"0x206", "2.11", "2.12"});
}

TEST(BzImageReject, MissingXlfKernel64) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x236, 0x0a, 2);
  expect_error(inspect_error(img.bytes), ErrorCode::kUnsupported, {"xloadflags", "0x236", "0x000a", "XLF_KERNEL_64"});
}

TEST(BzImageReject, MissingLoadedHigh) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x211, 0x80, 1);
  expect_error(inspect_error(img.bytes), ErrorCode::kUnsupported, {"loadflags", "0x211", "0x80", "LOADED_HIGH"});
}

TEST(BzImageReject, HeaderEndsBeforeInitSize) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x201, 0x40, 1);  // header would end at 0x242
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"jump", "0x200", "0x242"});
}

TEST(BzImageReject, HeaderEndsPastTheFile) {
  auto img = build_bzimage();
  img.bytes.resize(0x280);
  put_le(img.bytes, 0x201, 0xf0, 1);  // header would end at 0x2f2
  expect_error(inspect_error(img.bytes), ErrorCode::kTruncated, {"jump", "0x2f2", "0x280"});
}

TEST(BzImageReject, ProtectedModePartStartsPastTheFile) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x1f1, 200, 1);
  expect_error(inspect_error(img.bytes), ErrorCode::kTruncated, {"setup_sects", "0x1f1", "200", "0x19200"});
}

TEST(BzImageReject, EmptyProtectedModePart) {
  auto img = build_bzimage();
  img.bytes.resize(img.pm_offset);
  expect_error(inspect_error(img.bytes), ErrorCode::kTruncated, {"setup_sects", "0xa00"});
}

TEST(BzImageReject, KernelAlignmentNotAPowerOfTwo) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x230, 0x300000, 4);
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"kernel_alignment", "0x230", "0x300000"});
  put_le(img.bytes, 0x230, 0, 4);
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"kernel_alignment", "0x0"});
}

TEST(BzImageReject, InitSizeSmallerThanTheProtectedModePart) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x260, img.pm_size - 1, 4);
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField,
               {"init_size", "0x260", fmt::format("{:#x}", img.pm_size - 1)});
}

TEST(BzImageReject, InitSizeFromTheLoadAddressOutsideGuestMemory) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x260, 0x7000000, 4);  // 112 MiB in a 64 MiB guest
  expect_error(load_error(img.bytes), ErrorCode::kOutOfBounds, {"init_size", "0x260", "0x7000000"});
}

TEST(BzImageReject, RuntimeRangeOutsideGuestMemory) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x258, 64 * kMiB - 0x1000, 8);  // relocatable, but never below pref_address
  expect_error(load_error(img.bytes), ErrorCode::kOutOfBounds, {"pref_address", "0x3fff000", "init_size"});
}

TEST(BzImageReject, PayloadOutsideTheProtectedModePart) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x24c, img.pm_size - img.payload_offset + 1, 4);
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"payload_offset", "payload_length", "0x24c"});
  auto img2 = build_bzimage();
  put_le(img2.bytes, 0x248, 0xffffffff, 4);
  expect_error(inspect_error(img2.bytes), ErrorCode::kInvalidField, {"payload_offset", "0xffffffff"});
}

TEST(BzImageReject, KernelVersionPointerOutsideTheSetupSectors) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x20e, img.pm_offset - 0x200, 2);
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"kernel_version", "0x20e", "0x800"});
}

TEST(BzImageReject, KernelVersionStringUnprintable) {
  auto img = build_bzimage();
  img.bytes[0x303] = std::byte{0x07};
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"unprintable", "0x07", "0x303"});
}

TEST(BzImageReject, KernelVersionStringWithoutNul) {
  auto img = build_bzimage();
  std::fill(img.bytes.begin() + 0x300, img.bytes.begin() + img.pm_offset, std::byte{'A'});
  expect_error(inspect_error(img.bytes), ErrorCode::kInvalidField, {"no NUL", "0x300"});
}

TEST(BzImageReject, ProtectedModePartOutsideGuestMemory) {
  auto img = build_bzimage();
  LoadOptions opts;
  opts.load_address = GuestAddress(64 * kMiB - 0x100);
  expect_error(load_error(img.bytes, opts), ErrorCode::kOutOfBounds, {"protected-mode", "0x3ffff00"});
}

TEST(BzImageReject, LoadAddressThatWraps) {
  auto img = build_bzimage();
  LoadOptions opts;
  opts.load_address = GuestAddress(~0ull - 0x10);
  expect_error(load_error(img.bytes, opts), ErrorCode::kOverflow, {"wraps"});
}

TEST(BzImageReject, AboveFourGiBWithoutTheFlag) {
  BzImageSpec spec;
  spec.xloadflags = 0x01;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes);
  auto mem = make_memory(64 * kMiB, 4ull << 30);
  LoadOptions opts;
  opts.load_address = GuestAddress(4ull << 30);
  auto k = load_bzimage(src, mem, opts);
  ASSERT_FALSE(k);
  expect_error(k.error(), ErrorCode::kUnsupported, {"XLF_CAN_BE_LOADED_ABOVE_4G", "0x0001"});

  // With the flag it loads there.
  put_le(img.bytes, 0x236, 0x03, 2);
  SpanImageSource src2(img.bytes);
  auto ok = load_bzimage(src2, mem, opts);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->entry, GuestAddress((4ull << 30) + 0x200));
}

TEST(BzImageReject, WrongArchRequested) {
  auto img = build_bzimage();
  LoadOptions opts;
  opts.arch = Arch::kAarch64;
  expect_error(load_error(img.bytes, opts), ErrorCode::kWrongArch, {"aarch64", "x86_64"});
}

TEST(BzImageReject, NotABzImageAtAll) {
  std::vector<std::byte> elf = test_support::minimal_elf64();
  expect_error(inspect_error(elf), ErrorCode::kBadMagic, {"boot_flag"});
}

class BzImageExtract : public testing::TestWithParam<Compression> {};

TEST_P(BzImageExtract, PayloadDecompressesToTheElf) {
  BzImageSpec spec;
  spec.compression = GetParam();
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto vmlinux = extract_bzimage_vmlinux(src);
  ASSERT_TRUE(vmlinux) << vmlinux.error().message;
  EXPECT_EQ((*vmlinux)->name(), "bz.img:payload");
  ASSERT_EQ((*vmlinux)->size(), img.payload_plain.size());
  std::vector<std::byte> got(img.payload_plain.size());
  ASSERT_TRUE((*vmlinux)->read_at(0, got));
  EXPECT_EQ(got, img.payload_plain);
}

TEST_P(BzImageExtract, WorksWithoutTheSizeTrailer) {
  BzImageSpec spec;
  spec.compression = GetParam();
  spec.size_trailer = false;
  spec.payload_plain = test_support::minimal_elf64();
  spec.payload_plain.resize(3 * kMiB, std::byte{0x90});  // above decompress_to_vector's first guess
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes);
  auto vmlinux = extract_bzimage_vmlinux(src);
  ASSERT_TRUE(vmlinux) << vmlinux.error().message;
  EXPECT_EQ((*vmlinux)->size(), spec.payload_plain.size());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, BzImageExtract,
                         testing::Values(Compression::kGzip, Compression::kBzip2, Compression::kXz,
                                         Compression::kLzma, Compression::kLzo, Compression::kLz4Legacy,
                                         Compression::kZstd),
                         [](const auto& info) {
                           std::string n(to_string(info.param));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(BzImageExtractReject, PayloadThatIsNotAnElf) {
  BzImageSpec spec;
  spec.payload_plain = std::vector<std::byte>(1000, std::byte{'x'});
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = extract_bzimage_vmlinux(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kBadMagic, {"ELF", "xz", "0xe00"});
}

TEST(BzImageExtractReject, CorruptPayload) {
  auto img = build_bzimage();
  auto at = img.pm_offset + img.payload_offset + img.payload_length / 2;
  img.bytes[at] ^= std::byte{0xff};
  img.bytes[at + 1] ^= std::byte{0xff};
  SpanImageSource src(img.bytes, "bz.img");
  auto r = extract_bzimage_vmlinux(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kDecompress, {"bzImage payload", "bz.img", "xz"});
}

TEST(BzImageExtractReject, UnknownPayloadCompression) {
  BzImageSpec spec;
  spec.compression = Compression::kNone;
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = extract_bzimage_vmlinux(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kUnsupported, {"payload", "0xe00", "7f 45 4c 46"});
}

TEST(BzImageExtractReject, EmptyPayload) {
  auto img = build_bzimage();
  put_le(img.bytes, 0x24c, 0, 4);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = extract_bzimage_vmlinux(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kInvalidField, {"payload_length", "0x24c"});
}

TEST(BzImageExtractReject, OutputAboveMaxSize) {
  auto img = build_bzimage();  // 4 KiB ELF inside
  SpanImageSource src(img.bytes, "bz.img");
  auto r = extract_bzimage_vmlinux(src, 1024);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kTooLarge, {"0x400"});
}

// ---- issue 13: the payload check inspect, --dry-run (and a boot) make ----

TEST(BzImageVerify, AcceptsAPayloadThatIsALoadableVmlinux) {
  auto img = build_bzimage();
  SpanImageSource src(img.bytes, "bz.img");
  auto r = verify_bzimage_payload(src);
  EXPECT_TRUE(r) << r.error().message;
}

TEST(BzImageVerify, RefusesBytesChangedInsideTheXzStream) {
  auto img = build_bzimage();
  img.bytes[img.pm_offset + img.payload_offset + img.payload_length / 2] ^= std::byte{0x55};
  SpanImageSource src(img.bytes, "bz.img");
  auto r = verify_bzimage_payload(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kDecompress, {"bzImage payload", "bz.img", "xz"});
}

TEST(BzImageVerify, RefusesAPayloadThatIsNotAnElf) {
  BzImageSpec spec;
  spec.payload_plain = std::vector<std::byte>(0x2000, std::byte{0x90});
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = verify_bzimage_payload(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kBadMagic, {"ELF magic", "0xe00", "0x2000 bytes"});
}

TEST(BzImageVerify, RefusesAnElfPayloadTheLoaderWouldRefuse) {
  BzImageSpec spec;
  spec.payload_plain = test_support::minimal_elf64();
  put_le(spec.payload_plain, 0x20, 0x10, 8);  // e_phoff inside the ELF header
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = verify_bzimage_payload(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kInvalidField,
               {"bzImage payload is not a loadable x86_64 vmlinux", "bz.img:payload", "e_phoff 0x10"});
}

TEST(BzImageVerify, RefusesAnElfPayloadForAnotherMachine) {
  BzImageSpec spec;
  spec.payload_plain = test_support::minimal_elf64();
  put_le(spec.payload_plain, 0x12, 183, 2);  // EM_AARCH64
  auto img = build_bzimage(spec);
  SpanImageSource src(img.bytes, "bz.img");
  auto r = verify_bzimage_payload(src);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorCode::kWrongArch, {"e_machine", "183"});
}

}  // namespace
}  // namespace loader
