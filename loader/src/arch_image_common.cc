#include "arch_image_common.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace loader::detail {

Result<ImageHeaderBytes> read_image_header(const ImageSource& src, std::string_view kind) {
  ImageHeaderBytes h{};
  if (src.size() < kImageHeaderSize)
    return fail(ErrorCode::kTruncated, "{}: {:#x} bytes is too short for the {}-byte {} Image header", src.name(),
                src.size(), kImageHeaderSize, kind);
  if (auto r = src.read_at(0, h); !r) return std::unexpected(r.error());
  return h;
}

Result<void> check_image_magic(const ImageSource& src, const ImageHeaderBytes& h, std::string_view kind,
                               std::string_view field, uint32_t expected, std::string_view text) {
  const uint32_t magic = le32(h, kImageMagicOffset);
  if (magic != expected)
    return fail(ErrorCode::kBadMagic, "{}: {} Image {} at offset {:#x} is {:#010x}, expected {:#010x} (\"{}\")",
                src.name(), kind, field, kImageMagicOffset, magic, expected, text);
  return {};
}

Result<void> check_little_endian(const ImageSource& src, uint64_t flags) {
  if (flags & 1)
    return fail(ErrorCode::kUnsupported, "{}: flags {:#x} at offset {:#x}: big-endian kernel (bit 0) is not supported",
                src.name(), flags, kImageFlagsOffset);
  return {};
}

Result<void> check_text_offset(const ImageSource& src, uint64_t text_offset, uint64_t max) {
  constexpr uint64_t kAlignment = 0x1000;
  if (text_offset % kAlignment != 0 || text_offset > max)
    return fail(ErrorCode::kInvalidField, "{}: text_offset {:#x} at offset {:#x} must be 4 KiB aligned and at most {:#x}",
                src.name(), text_offset, kImageTextOffsetOffset, max);
  return {};
}

Result<void> check_image_size(const ImageSource& src, uint64_t image_size) {
  if (image_size < src.size())
    return fail(ErrorCode::kInvalidField, "{}: image_size {:#x} at offset {:#x} is smaller than the file ({:#x} bytes)",
                src.name(), image_size, kImageSizeOffset, src.size());
  return {};
}

void fill_image_info(KernelInfo& info, KernelFormat format, Arch arch, const ImageHeaderBytes& h, uint64_t load_size,
                     uint64_t text_offset) {
  info.format = format;
  info.arch = arch;
  info.pe_stub = h[0] == std::byte{'M'} && h[1] == std::byte{'Z'};
  info.load_size = load_size;
  info.entry = text_offset;  // offset of the first instruction from the 2 MiB aligned base
  info.relocatable = true;
  info.alignment = kImageBaseAlignment;
}

Result<KernelInfo> inspect_parsed_image(Result<ImageHeader> header, const ImageSource& src) {
  if (!header) return std::unexpected(header.error());
  header->info.version = find_linux_banner(src);
  return std::move(header->info);
}

Result<LoadedKernel> load_parsed_image(Result<ImageHeader> header, const ImageSource& src, GuestMemory& mem,
                                       const LoadOptions& options) {
  if (!header) return std::unexpected(header.error());
  return load_image(*header, src, mem, options);
}

Result<void> check_arch(Arch kernel, const LoadOptions& options, const std::string& name) {
  if (options.arch && *options.arch != kernel)
    return fail(ErrorCode::kWrongArch, "{}: {} kernel, but {} {} VM was requested", name, to_string(kernel),
                *options.arch == Arch::kRiscv64 ? "a" : "an", to_string(*options.arch));
  return {};
}

Result<GuestAddress> image_base(const GuestMemory& mem, const LoadOptions& options) {
  GuestAddress base;
  if (options.load_address) {
    base = *options.load_address;
  } else {
    if (mem.regions().empty()) return fail(ErrorCode::kOutOfBounds, "guest memory has no RAM region");
    base = std::min_element(mem.regions().begin(), mem.regions().end(), [](const auto& a, const auto& b) {
             return a.base() < b.base();
           })->base();
  }
  if (!base.checked_add(kImageBaseAlignment - 1))
    return fail(ErrorCode::kOverflow, "Image base {} cannot be aligned up to 2 MiB without wrapping", base);
  return base.align_up(kImageBaseAlignment);
}

Result<GuestAddress> image_load_address(const GuestMemory& mem, GuestAddress base, const ImageHeader& header,
                                        const std::string& name) {
  auto load = base.checked_add(header.text_offset);
  if (!load || !load->checked_add(header.load_size))
    return fail(ErrorCode::kOverflow,
                "{}: base {} + text_offset {:#x} + image_size {:#x} wraps around the address space", name, base,
                header.text_offset, header.load_size);
  if (!mem.contains(*load, header.load_size))
    return fail(ErrorCode::kOutOfBounds,
                "{}: the kernel needs [{}, +{:#x}) (2 MiB aligned base {} + text_offset {:#x}), which is not "
                "inside one guest memory region",
                name, *load, header.load_size, base, header.text_offset);
  return *load;
}

LoadedKernel image_loaded_kernel(const ImageHeader& header, GuestAddress load_address) {
  LoadedKernel out;
  out.format = header.info.format;
  out.arch = header.info.arch;
  out.load_address = load_address;
  out.load_size = header.load_size;
  // Both protocols enter at the first byte of the Image (code0).
  out.entry = load_address;
  return out;
}

Result<LoadedKernel> load_image(const ImageHeader& header, const ImageSource& src, GuestMemory& mem,
                                const LoadOptions& options) {
  if (auto r = check_arch(header.info.arch, options, src.name()); !r) return std::unexpected(r.error());
  auto base = image_base(mem, options);
  if (!base) return std::unexpected(with_context(base.error(), src.name()));
  auto load = image_load_address(mem, *base, header, src.name());
  if (!load) return std::unexpected(load.error());
  const uint64_t file_size = src.size();
  if (auto r = load_into_memory(src, 0, file_size, mem, *load); !r) return std::unexpected(r.error());
  // image_size counts the bss and early page tables: zero them so a reused
  // guest memory never hands the kernel stale bytes.
  if (auto r = mem.fill(load->unchecked_add(file_size), header.load_size - file_size, std::byte{0}); !r)
    return std::unexpected(r.error());
  return image_loaded_kernel(header, *load);
}

std::string find_linux_banner(const ImageSource& src) {
  static constexpr std::string_view kNeedle = "Linux version ";
  static constexpr uint64_t kChunk = 1 << 20;
  static constexpr size_t kMaxBanner = 256;
  std::string buf;
  // Chunks overlap by the banner's maximum length so a banner that straddles
  // a chunk boundary is still found whole.
  for (uint64_t off = 0; off < src.size(); off += kChunk) {
    uint64_t len = std::min<uint64_t>(kChunk + kMaxBanner, src.size() - off);
    buf.resize(len);
    if (!src.read_at(off, std::as_writable_bytes(std::span(buf.data(), buf.size())))) return {};
    for (size_t pos = buf.find(kNeedle); pos != std::string::npos; pos = buf.find(kNeedle, pos + 1)) {
      if (pos >= kChunk) break;  // the next chunk sees it whole
      size_t end = pos;
      while (end < buf.size() && end - pos < kMaxBanner && buf[end] >= 0x20 && buf[end] < 0x7f) ++end;
      // The banner is printf'd with "%s", and a bare "Linux version " is a
      // format string elsewhere in the image: want real text after it.
      if (end - pos > kNeedle.size() + 1 && buf[pos + kNeedle.size()] != '%') return buf.substr(pos, end - pos);
    }
  }
  return {};
}

}  // namespace loader::detail
