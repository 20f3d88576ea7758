// arm64 Image: the 64-byte header of Documentation/arch/arm64/booting.rst.
#include <string>

#include "arch_image_common.h"
#include "loader/arch_image.h"

namespace loader {
namespace detail {
namespace {

constexpr uint64_t kPeOffsetOffset = 0x3c;
// Before v3.17 image_size was 0 and text_offset had no defined byte order;
// the documented assumption for such kernels is 0x80000.
constexpr uint64_t kLegacyTextOffset = 0x80000;
// text_offset is an offset from a 2 MiB aligned base (randomised kernels
// used a 4 KiB-aligned value below 2 MiB); anything else is corrupt.
constexpr uint64_t kMaxTextOffset = kImageBaseAlignment - 0x1000;

std::string flags_note(uint64_t flags) {
  static constexpr const char* kPageSizes[] = {"page size unspecified", "4K pages", "16K pages", "64K pages"};
  std::string note = (flags & 1) ? "big-endian" : "little-endian";
  note += ", ";
  note += kPageSizes[(flags >> 1) & 3];
  note += (flags & 8) ? ", base anywhere in RAM" : ", base as close to the start of RAM as possible";
  if (flags >> 4) note += ", reserved bits set";
  return note;
}

}  // namespace

Result<ImageHeader> parse_arm64_header(const ImageSource& src) {
  auto read = read_image_header(src, "arm64");
  if (!read) return std::unexpected(read.error());
  const ImageHeaderBytes& h = *read;
  if (auto r = check_image_magic(src, h, "arm64", "magic", kArm64Magic, "ARM\\x64"); !r) return std::unexpected(r.error());
  if (auto r = check_image_extent(src, h, "arm64", Arch::kAarch64); !r) return std::unexpected(r.error());
  const uint32_t magic = le32(h, kImageMagicOffset);

  const uint64_t flags = le64(h, kImageFlagsOffset);
  uint64_t text_offset = le64(h, kImageTextOffsetOffset);
  const uint64_t image_size = le64(h, kImageSizeOffset);
  ImageHeader out;
  std::string size_note;
  if (image_size == 0) {
    // Pre-3.17 kernel: neither the size (with bss) nor text_offset is known.
    // Reserve the file's own size; the kernel clears its bss itself.
    text_offset = kLegacyTextOffset;
    out.load_size = src.size();
    size_note = "0: pre-3.17 kernel, text_offset assumed 0x80000, size taken from the file (bss unknown)";
  } else {
    if (auto r = check_little_endian(src, flags); !r) return std::unexpected(r.error());
    if (auto r = check_text_offset(src, text_offset, kMaxTextOffset); !r) return std::unexpected(r.error());
    if (auto r = check_image_size(src, image_size); !r) return std::unexpected(r.error());
    out.load_size = image_size;
  }
  out.text_offset = text_offset;

  KernelInfo& info = out.info;
  fill_image_info(info, KernelFormat::kArm64Image, Arch::kAarch64, h, out.load_size, text_offset);
  const uint32_t pe_offset = le32(h, kPeOffsetOffset);
  info.fields = {
      {"code0", 0, le32(h, 0), info.pe_stub ? "\"MZ\": EFI stub" : ""},
      {"code1", 4, le32(h, 4), ""},
      {"text_offset", kImageTextOffsetOffset, le64(h, kImageTextOffsetOffset),
       image_size == 0 ? "ignored (image_size 0), 0x80000 assumed" : "offset from a 2 MiB aligned base"},
      {"image_size", kImageSizeOffset, image_size, size_note},
      {"flags", kImageFlagsOffset, flags, image_size == 0 ? "ignored (image_size 0)" : flags_note(flags)},
      {"res2", 32, le64(h, 32), ""},
      {"res3", 40, le64(h, 40), ""},
      {"res4", 48, le64(h, 48), ""},
      {"magic", kImageMagicOffset, magic, "ARM\\x64"},
      {"res5", kPeOffsetOffset, pe_offset, info.pe_stub ? "PE header offset" : ""},
  };
  return out;
}

}  // namespace detail

Result<KernelInfo> inspect_arm64_image(const ImageSource& src) {
  return detail::inspect_parsed_image(detail::parse_arm64_header(src), src);
}

Result<LoadedKernel> load_arm64_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  return detail::load_parsed_image(detail::parse_arm64_header(src), src, mem, options);
}

}  // namespace loader
