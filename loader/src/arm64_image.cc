// arm64 Image: the 64-byte header of Documentation/arch/arm64/booting.rst.
#include <string>

#include "arch_image_common.h"
#include "loader/arch_image.h"

namespace loader {
namespace detail {
namespace {

constexpr uint64_t kTextOffsetOffset = 8;
constexpr uint64_t kImageSizeOffset = 16;
constexpr uint64_t kFlagsOffset = 24;
constexpr uint64_t kPeOffsetOffset = 0x3c;
// Before v3.17 image_size was 0 and text_offset had no defined byte order;
// the documented assumption for such kernels is 0x80000.
constexpr uint64_t kLegacyTextOffset = 0x80000;
// text_offset is an offset from a 2 MiB aligned base (randomised kernels
// used a 4 KiB-aligned value below 2 MiB); anything else is corrupt.
constexpr uint64_t kMaxTextOffset = kImageBaseAlignment;
constexpr uint64_t kTextOffsetAlignment = 0x1000;

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
  ImageHeaderBytes h{};
  if (src.size() < kImageHeaderSize)
    return fail(ErrorCode::kTruncated, "{}: {:#x} bytes is too short for the {}-byte arm64 Image header", src.name(),
                src.size(), kImageHeaderSize);
  if (auto r = src.read_at(0, h); !r) return std::unexpected(r.error());

  const uint32_t magic = le32(h, kImageMagicOffset);
  if (magic != kArm64Magic)
    return fail(ErrorCode::kBadMagic, "{}: arm64 Image magic at offset {:#x} is {:#010x}, expected {:#010x} (\"ARM\\x64\")",
                src.name(), kImageMagicOffset, magic, kArm64Magic);

  const uint64_t flags = le64(h, kFlagsOffset);
  uint64_t text_offset = le64(h, kTextOffsetOffset);
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
    if (flags & 1)
      return fail(ErrorCode::kUnsupported, "{}: flags {:#x} at offset {:#x}: big-endian kernel (bit 0) is not supported",
                  src.name(), flags, kFlagsOffset);
    if (text_offset % kTextOffsetAlignment != 0 || text_offset >= kMaxTextOffset)
      return fail(ErrorCode::kInvalidField,
                  "{}: text_offset {:#x} at offset {:#x} must be 4 KiB aligned and below 2 MiB", src.name(),
                  text_offset, kTextOffsetOffset);
    if (image_size < src.size())
      return fail(ErrorCode::kInvalidField,
                  "{}: image_size {:#x} at offset {:#x} is smaller than the file ({:#x} bytes)", src.name(),
                  image_size, kImageSizeOffset, src.size());
    out.load_size = image_size;
  }
  out.text_offset = text_offset;

  KernelInfo& info = out.info;
  info.format = KernelFormat::kArm64Image;
  info.arch = Arch::kAarch64;
  info.pe_stub = h[0] == std::byte{'M'} && h[1] == std::byte{'Z'};
  info.load_size = out.load_size;
  info.entry = text_offset;  // offset of the first instruction from the 2 MiB aligned base
  info.relocatable = true;
  info.alignment = kImageBaseAlignment;
  const uint32_t pe_offset = le32(h, kPeOffsetOffset);
  info.fields = {
      {"code0", 0, le32(h, 0), info.pe_stub ? "\"MZ\": EFI stub" : ""},
      {"code1", 4, le32(h, 4), ""},
      {"text_offset", kTextOffsetOffset, le64(h, kTextOffsetOffset),
       image_size == 0 ? "ignored (image_size 0), 0x80000 assumed" : "offset from a 2 MiB aligned base"},
      {"image_size", kImageSizeOffset, image_size, size_note},
      {"flags", kFlagsOffset, flags, image_size == 0 ? "ignored (image_size 0)" : flags_note(flags)},
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
  auto header = detail::parse_arm64_header(src);
  if (!header) return std::unexpected(header.error());
  header->info.version = detail::find_linux_banner(src);
  return std::move(header->info);
}

Result<LoadedKernel> load_arm64_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  auto header = detail::parse_arm64_header(src);
  if (!header) return std::unexpected(header.error());
  return detail::load_image(*header, src, mem, options);
}

}  // namespace loader
