#include "arch_image_common.h"

#include <algorithm>
#include <array>
#include <optional>
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

namespace {

constexpr uint64_t kPeOffsetField = 0x3c;
constexpr uint64_t kPeHeaderSize = 24;  // "PE\0\0" + the COFF file header
constexpr uint64_t kPeSectionHeaderSize = 40;

// Where the entry branch goes, as a file offset, if the word at `at` is one:
// arm64 `b imm26`, riscv `jal x0, imm20` (`j`). Anything else (an EFI stub's
// first instruction, a builder's filler) is not judged.
std::optional<int64_t> branch_target(const ImageHeaderBytes& h, Arch arch, size_t at) {
  const uint32_t w = le32(h, at);
  if (arch == Arch::kAarch64) {
    if ((w & 0xfc000000u) != 0x14000000u) return std::nullopt;
    const int64_t imm = static_cast<int64_t>(static_cast<int32_t>(w << 6) >> 6);  // sign-extend imm26
    return static_cast<int64_t>(at) + imm * 4;
  }
  if ((w & 0xfffu) != 0x06fu) return std::nullopt;  // opcode JAL with rd = x0
  uint32_t imm = ((w >> 31) & 1) << 20 | ((w >> 21) & 0x3ff) << 1 | ((w >> 20) & 1) << 11 | ((w >> 12) & 0xff) << 12;
  const int64_t offset = static_cast<int64_t>(static_cast<int32_t>(imm << 11) >> 11);  // sign-extend imm21
  return static_cast<int64_t>(at) + offset;
}

Result<void> check_pe_extent(const ImageSource& src, const ImageHeaderBytes& h, std::string_view kind) {
  const uint64_t size = src.size();
  const uint64_t pe = le32(h, kPeOffsetField);
  if (pe < kImageHeaderSize)
    return fail(ErrorCode::kInvalidField, "{}: {} Image has an MZ EFI stub, but its PE header offset {:#x} (offset {:#x}) "
                "lies inside the {}-byte Image header", src.name(), kind, pe, kPeOffsetField, kImageHeaderSize);
  if (pe + kPeHeaderSize > size)
    return fail(ErrorCode::kTruncated, "{}: {} Image's PE header [{:#x}, +{:#x}) (PE offset at {:#x}) runs past the end "
                "of the {:#x}-byte file", src.name(), kind, pe, kPeHeaderSize, kPeOffsetField, size);
  std::array<std::byte, kPeHeaderSize> coff{};
  if (auto r = src.read_at(pe, coff); !r) return r;
  if (le32(coff, 0) != 0x00004550u)  // "PE\0\0"
    return fail(ErrorCode::kInvalidField, "{}: {} Image has an MZ EFI stub, but there is no \"PE\\0\\0\" signature at its "
                "PE header offset {:#x} (offset {:#x}): {:#010x}", src.name(), kind, pe, kPeOffsetField, le32(coff, 0));
  const uint64_t sections = le32(coff, 6) & 0xffff;
  const uint64_t optional_size = le32(coff, 20) & 0xffff;
  const uint64_t table = pe + kPeHeaderSize + optional_size;
  const uint64_t table_end = table + sections * kPeSectionHeaderSize;  // < 2^32 + 2^22: no wrap
  if (table_end > size)
    return fail(ErrorCode::kTruncated, "{}: {} Image's PE section table [{:#x}, +{} * {}) (NumberOfSections at {:#x}, "
                "SizeOfOptionalHeader {:#x} at {:#x}) ends at {:#x}, past the end of the {:#x}-byte file", src.name(),
                kind, table, sections, kPeSectionHeaderSize, pe + 6, optional_size, pe + 20, table_end, size);
  for (uint64_t i = 0; i < sections; ++i) {
    const uint64_t at = table + i * kPeSectionHeaderSize;
    std::array<std::byte, kPeSectionHeaderSize> sec{};
    if (auto r = src.read_at(at, sec); !r) return r;
    const uint64_t raw_size = le32(sec, 16);
    const uint64_t raw_ptr = le32(sec, 20);
    if (raw_size != 0 && raw_ptr + raw_size > size) {
      std::string name;
      for (size_t c = 0; c < 8 && sec[c] != std::byte{0}; ++c) {
        const char ch = static_cast<char>(sec[c]);
        name += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
      }
      return fail(ErrorCode::kTruncated, "{}: {} Image's PE section {} \"{}\" (section header at {:#x}): raw data "
                  "[PointerToRawData {:#x}, +SizeOfRawData {:#x}) ends at {:#x}, past the end of the {:#x}-byte file: "
                  "the file is cut short", src.name(), kind, i, name, at, raw_ptr, raw_size, raw_ptr + raw_size, size);
    }
  }
  return {};
}

}  // namespace

Result<void> check_image_extent(const ImageSource& src, const ImageHeaderBytes& h, std::string_view kind, Arch arch) {
  const uint64_t size = src.size();
  if (size <= kImageHeaderSize)
    return fail(ErrorCode::kTruncated, "{}: the file ends with its {}-byte {} Image header (image_size {:#x} at offset "
                "{:#x}): there is no kernel after it", src.name(), kImageHeaderSize, kind, le64(h, kImageSizeOffset),
                kImageSizeOffset);
  const bool pe_stub = h[0] == std::byte{'M'} && h[1] == std::byte{'Z'};
  // arm64: code0 is the stub's "MZ" instruction, the entry branch is code1;
  // riscv: "MZ" is a 2-byte c.li, the `j` follows it.
  const size_t branch_at = !pe_stub ? 0 : arch == Arch::kAarch64 ? 4 : 2;
  if (auto target = branch_target(h, arch, branch_at); target && (*target < 0 || static_cast<uint64_t>(*target) >= size))
    return fail(ErrorCode::kTruncated, "{}: {} Image's entry branch at offset {:#x} jumps to file offset {:#x}, past the "
                "end of the {:#x}-byte file: the file is cut short", src.name(), kind, branch_at,
                static_cast<uint64_t>(*target), size);
  if (pe_stub) return check_pe_extent(src, h, kind);
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
