// riscv64 Image: the 64-byte header of Documentation/arch/riscv/boot-image-header.rst.
#include <string>

#include "arch_image_common.h"
#include "loader/arch_image.h"

namespace loader {
namespace detail {
namespace {

constexpr uint64_t kTextOffsetOffset = 8;
constexpr uint64_t kImageSizeOffset = 16;
constexpr uint64_t kFlagsOffset = 24;
constexpr uint64_t kVersionOffset = 32;
constexpr uint64_t kMagicOffset = 48;
constexpr uint64_t kPeOffsetOffset = 0x3c;
constexpr uint64_t kRiscvMagic = 0x5643534952;  // "RISCV\0\0\0", deprecated in favour of magic2
// The kernel uses 2 MiB (RV64) or 4 MiB (RV32); far beyond that is corruption.
constexpr uint64_t kMaxTextOffset = 256ull << 20;
constexpr uint64_t kTextOffsetAlignment = 0x1000;

}  // namespace

Result<ImageHeader> parse_riscv_header(const ImageSource& src) {
  ImageHeaderBytes h{};
  if (src.size() < kImageHeaderSize)
    return fail(ErrorCode::kTruncated, "{}: {:#x} bytes is too short for the {}-byte riscv Image header", src.name(),
                src.size(), kImageHeaderSize);
  if (auto r = src.read_at(0, h); !r) return std::unexpected(r.error());

  const uint32_t magic2 = le32(h, kImageMagicOffset);
  if (magic2 != kRiscvMagic2)
    return fail(ErrorCode::kBadMagic, "{}: riscv Image magic2 at offset {:#x} is {:#010x}, expected {:#010x} (\"RSC\\x05\")",
                src.name(), kImageMagicOffset, magic2, kRiscvMagic2);
  const uint64_t flags = le64(h, kFlagsOffset);
  if (flags & 1)
    return fail(ErrorCode::kUnsupported, "{}: flags {:#x} at offset {:#x}: big-endian kernel (bit 0) is not supported",
                src.name(), flags, kFlagsOffset);
  const uint64_t text_offset = le64(h, kTextOffsetOffset);
  if (text_offset % kTextOffsetAlignment != 0 || text_offset > kMaxTextOffset)
    return fail(ErrorCode::kInvalidField,
                "{}: text_offset {:#x} at offset {:#x} must be 4 KiB aligned and at most {:#x}", src.name(),
                text_offset, kTextOffsetOffset, kMaxTextOffset);
  const uint64_t image_size = le64(h, kImageSizeOffset);
  if (image_size == 0 || image_size < src.size())
    return fail(ErrorCode::kInvalidField,
                "{}: image_size {:#x} at offset {:#x} is smaller than the file ({:#x} bytes)", src.name(), image_size,
                kImageSizeOffset, src.size());
  const uint32_t version = le32(h, kVersionOffset);

  ImageHeader out;
  out.text_offset = text_offset;
  out.load_size = image_size;
  KernelInfo& info = out.info;
  info.format = KernelFormat::kRiscvImage;
  info.arch = Arch::kRiscv64;
  info.pe_stub = h[0] == std::byte{'M'} && h[1] == std::byte{'Z'};
  info.protocol_version = fmt::format("{}.{}", version >> 16, version & 0xffff);
  info.load_size = image_size;
  info.entry = text_offset;  // offset of the first instruction from the 2 MiB aligned base
  info.relocatable = true;
  info.alignment = kImageBaseAlignment;
  const uint64_t magic = le64(h, kMagicOffset);
  info.fields = {
      {"code0", 0, le32(h, 0), info.pe_stub ? "\"MZ\": EFI stub" : ""},
      {"code1", 4, le32(h, 4), ""},
      {"text_offset", kTextOffsetOffset, text_offset, "offset from a 2 MiB aligned base"},
      {"image_size", kImageSizeOffset, image_size, ""},
      {"flags", kFlagsOffset, flags, "little-endian"},
      {"version", kVersionOffset, version, info.protocol_version},
      {"res1", 36, le32(h, 36), ""},
      {"res2", 40, le64(h, 40), ""},
      {"magic", kMagicOffset, magic, magic == kRiscvMagic ? "RISCV" : "not \"RISCV\" (deprecated field)"},
      {"magic2", kImageMagicOffset, magic2, "RSC\\x05"},
      {"res3", kPeOffsetOffset, le32(h, kPeOffsetOffset), info.pe_stub ? "PE header offset" : ""},
  };
  return out;
}

}  // namespace detail

Result<KernelInfo> inspect_riscv_image(const ImageSource& src) {
  auto header = detail::parse_riscv_header(src);
  if (!header) return std::unexpected(header.error());
  header->info.version = detail::find_linux_banner(src);
  return std::move(header->info);
}

Result<LoadedKernel> load_riscv_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  auto header = detail::parse_riscv_header(src);
  if (!header) return std::unexpected(header.error());
  return detail::load_image(*header, src, mem, options);
}

}  // namespace loader
