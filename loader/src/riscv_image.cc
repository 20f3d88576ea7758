// riscv64 Image: the 64-byte header of Documentation/arch/riscv/boot-image-header.rst.
#include <string>

#include "arch_image_common.h"
#include "loader/arch_image.h"

namespace loader {
namespace detail {
namespace {

constexpr uint64_t kVersionOffset = 32;
constexpr uint64_t kMagicOffset = 48;
constexpr uint64_t kPeOffsetOffset = 0x3c;
constexpr uint64_t kRiscvMagic = 0x5643534952;  // "RISCV\0\0\0", deprecated in favour of magic2
// The kernel uses 2 MiB (RV64) or 4 MiB (RV32); far beyond that is corruption.
constexpr uint64_t kMaxTextOffset = 256ull << 20;

}  // namespace

Result<ImageHeader> parse_riscv_header(const ImageSource& src) {
  auto read = read_image_header(src, "riscv");
  if (!read) return std::unexpected(read.error());
  const ImageHeaderBytes& h = *read;
  if (auto r = check_image_magic(src, h, "riscv", "magic2", kRiscvMagic2, "RSC\\x05"); !r)
    return std::unexpected(r.error());
  if (auto r = check_image_extent(src, h, "riscv", Arch::kRiscv64); !r) return std::unexpected(r.error());
  const uint32_t magic2 = le32(h, kImageMagicOffset);
  const uint64_t flags = le64(h, kImageFlagsOffset);
  if (auto r = check_little_endian(src, flags); !r) return std::unexpected(r.error());
  const uint64_t text_offset = le64(h, kImageTextOffsetOffset);
  if (auto r = check_text_offset(src, text_offset, kMaxTextOffset); !r) return std::unexpected(r.error());
  // The header is in the file, so a zero image_size is smaller than the file too.
  const uint64_t image_size = le64(h, kImageSizeOffset);
  if (auto r = check_image_size(src, image_size); !r) return std::unexpected(r.error());
  const uint32_t version = le32(h, kVersionOffset);

  ImageHeader out;
  out.text_offset = text_offset;
  out.load_size = image_size;
  KernelInfo& info = out.info;
  fill_image_info(info, KernelFormat::kRiscvImage, Arch::kRiscv64, h, image_size, text_offset);
  info.protocol_version = fmt::format("{}.{}", version >> 16, version & 0xffff);
  const uint64_t magic = le64(h, kMagicOffset);
  info.fields = {
      {"code0", 0, le32(h, 0), info.pe_stub ? "\"MZ\": EFI stub" : ""},
      {"code1", 4, le32(h, 4), ""},
      {"text_offset", kImageTextOffsetOffset, text_offset, "offset from a 2 MiB aligned base"},
      {"image_size", kImageSizeOffset, image_size, ""},
      {"flags", kImageFlagsOffset, flags, "little-endian"},
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
  return detail::inspect_parsed_image(detail::parse_riscv_header(src), src);
}

Result<LoadedKernel> load_riscv_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  return detail::load_parsed_image(detail::parse_riscv_header(src), src, mem, options);
}

}  // namespace loader
