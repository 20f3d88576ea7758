// EFI zboot: a PE/COFF EFI application ("MZ", then "zimg" at offset 4) whose
// payload is a compressed arm64 or riscv64 Image. We skip the EFI
// decompressor and unpack the payload ourselves, as QEMU does.
#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "arch_image_common.h"
#include "loader/arch_image.h"
#include "loader/decompress.h"

namespace loader {
namespace detail {
namespace {

constexpr uint64_t kZbootHeaderSize = 0x40;
constexpr uint64_t kPayloadOffsetOffset = 8;
constexpr uint64_t kPayloadSizeOffset = 12;
constexpr uint64_t kCompTypeOffset = 0x18;
constexpr uint64_t kCompTypeSize = 0x20;  // NUL-padded up to the PE magic at 0x38

struct CompName {
  std::string_view name;
  Compression kind;
};
// The names drivers/firmware/efi/libstub/Makefile.zboot writes (xzkern and
// zstd22 are the kernel's flavours of xz and zstd), plus the plain ones.
constexpr std::array kCompNames{
    CompName{"gzip", Compression::kGzip},     CompName{"bzip2", Compression::kBzip2},
    CompName{"lz4", Compression::kLz4Legacy}, CompName{"lzma", Compression::kLzma},
    CompName{"lzo", Compression::kLzo},       CompName{"xz", Compression::kXz},
    CompName{"xzkern", Compression::kXz},     CompName{"zstd", Compression::kZstd},
    CompName{"zstd22", Compression::kZstd},
};

// lz4 payloads are the legacy format (lz4 -l) in the kernel's build; a
// frame-format one is accepted too since both decode unambiguously.
bool same_family(Compression named, Compression found) {
  if (named == Compression::kLz4Legacy) return found == Compression::kLz4Legacy || found == Compression::kLz4Frame;
  return named == found;
}

}  // namespace

Result<ZbootHeader> parse_efi_zboot(const ImageSource& src) {
  if (!is_efi_zboot(src))
    return fail(ErrorCode::kBadMagic, "{}: not an EFI zboot image (\"MZ\" at 0 and \"zimg\" at 4)", src.name());
  std::array<std::byte, kZbootHeaderSize> h{};
  if (src.size() < kZbootHeaderSize)
    return fail(ErrorCode::kTruncated, "{}: {:#x} bytes is too short for the {:#x}-byte EFI zboot header",
                src.name(), src.size(), kZbootHeaderSize);
  if (auto r = src.read_at(0, h); !r) return std::unexpected(r.error());

  ZbootHeader out;
  out.payload_offset = le32(h, kPayloadOffsetOffset);
  out.payload_size = le32(h, kPayloadSizeOffset);
  if (out.payload_offset < kZbootHeaderSize)
    return fail(ErrorCode::kInvalidField, "{}: EFI zboot payload offset {:#x} at offset {:#x} lies inside the header",
                src.name(), out.payload_offset, kPayloadOffsetOffset);
  if (out.payload_size == 0)
    return fail(ErrorCode::kInvalidField, "{}: EFI zboot payload size at offset {:#x} is 0", src.name(),
                kPayloadSizeOffset);
  // Both are u32: the sum cannot wrap a u64.
  if (uint64_t{out.payload_offset} + out.payload_size > src.size())
    return fail(ErrorCode::kTruncated,
                "{}: EFI zboot payload [{:#x}, +{:#x}) (fields at offsets {:#x}, {:#x}) runs past the end of the "
                "file ({:#x} bytes)",
                src.name(), out.payload_offset, out.payload_size, kPayloadOffsetOffset, kPayloadSizeOffset,
                src.size());

  const char* name = reinterpret_cast<const char*>(h.data() + kCompTypeOffset);
  const size_t name_len = strnlen(name, kCompTypeSize);
  if (name_len == kCompTypeSize)
    return fail(ErrorCode::kInvalidField, "{}: EFI zboot compression type at offset {:#x} is not NUL-terminated",
                src.name(), kCompTypeOffset);
  out.compression_name.assign(name, name_len);
  auto known = std::find_if(kCompNames.begin(), kCompNames.end(),
                            [&](const CompName& c) { return c.name == out.compression_name; });
  if (known == kCompNames.end()) {
    std::string shown;
    for (char c : out.compression_name) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return fail(ErrorCode::kUnsupported, "{}: EFI zboot compression type \"{}\" at offset {:#x} is not one we know",
                src.name(), shown, kCompTypeOffset);
  }

  std::array<std::byte, 16> head{};
  const size_t head_len = std::min<size_t>(head.size(), out.payload_size);
  if (auto r = src.read_at(out.payload_offset, std::span(head).first(head_len)); !r) return std::unexpected(r.error());
  const Compression found = detect_compression(std::span(head).first(head_len));
  if (!same_family(known->kind, found))
    return fail(ErrorCode::kInvalidField,
                "{}: EFI zboot header says \"{}\" but the payload at offset {:#x} starts like {} (first bytes {:02x})",
                src.name(), out.compression_name, out.payload_offset, to_string(found),
                fmt::join(std::span(head).first(std::min<size_t>(head_len, 4)), " "));
  out.compression = found;
  return out;
}

}  // namespace detail

bool is_efi_zboot(const ImageSource& src) {
  std::array<std::byte, 8> head{};
  if (src.size() < head.size() || !src.read_at(0, head)) return false;
  return std::memcmp(head.data(), "MZ", 2) == 0 && std::memcmp(head.data() + 4, "zimg", 4) == 0;
}

Result<std::unique_ptr<ImageSource>> extract_efi_zboot(const ImageSource& src, uint64_t max_size) {
  auto header = detail::parse_efi_zboot(src);
  if (!header) return std::unexpected(header.error());
  auto bytes = decompress_to_vector(header->compression, src, header->payload_offset, header->payload_size, max_size);
  if (!bytes) return std::unexpected(with_context(bytes.error(), "EFI zboot payload"));
  return std::make_unique<BufferImageSource>(std::move(*bytes),
                                             fmt::format("{} (EFI zboot {} payload)", src.name(), header->compression_name));
}

}  // namespace loader
