// Format detection and dispatch. Detection order: the EFI zboot container
// first (it also begins with "MZ", like an EFI-stub Image or a bzImage), then
// the uncompressed formats by their strong magics, then a compression
// wrapper. Raw formats go before compression because the legacy lzma
// "magic" (5d 00 00) is weak, while ELF, "HdrS", "ARM\x64" and "RSC\x05" at
// fixed offsets are not; no compressed stream carries those by accident.
#include "loader/kernel_loader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "arch_image_common.h"
#include "loader/arch_image.h"
#include "loader/bzimage.h"
#include "loader/decompress.h"
#include "loader/elf.h"

namespace loader {
namespace {

constexpr uint64_t kHeadSize = 0x208;  // through the bzImage "HdrS" at 0x202
constexpr uint64_t kInspectDecompressLimit = 1ull << 30;
constexpr uint64_t kDecoderSlack = 64 * 1024;

struct Head {
  std::array<std::byte, kHeadSize> bytes{};
  size_t size = 0;
  std::span<const std::byte> span() const { return std::span(bytes).first(size); }
};

Result<Head> read_head(const ImageSource& src) {
  Head head;
  head.size = static_cast<size_t>(std::min<uint64_t>(src.size(), kHeadSize));
  if (auto r = src.read_at(0, std::span(head.bytes).first(head.size)); !r) return std::unexpected(r.error());
  return head;
}

enum class RawFormat { kUnknown, kElf, kBzImage, kArm64, kRiscv };

RawFormat detect_raw(const Head& head) {
  auto b = head.span();
  if (b.size() >= 4 && std::memcmp(b.data(), "\x7f" "ELF", 4) == 0) return RawFormat::kElf;
  if (b.size() >= 0x206 && b[0x1fe] == std::byte{0x55} && b[0x1ff] == std::byte{0xaa} &&
      std::memcmp(b.data() + 0x202, "HdrS", 4) == 0)
    return RawFormat::kBzImage;
  if (b.size() >= detail::kImageMagicOffset + 4) {
    uint32_t magic = detail::le32(b, detail::kImageMagicOffset);
    if (magic == detail::kArm64Magic) return RawFormat::kArm64;
    if (magic == detail::kRiscvMagic2) return RawFormat::kRiscv;
  }
  return RawFormat::kUnknown;
}

std::unexpected<Error> unknown_format(const ImageSource& src, const Head& head) {
  auto b = head.span().first(std::min<size_t>(head.size, 8));
  return fail(ErrorCode::kBadMagic,
              "{}: not a kernel format we know (ELF, bzImage, arm64/riscv64 Image, EFI zboot, or one of those "
              "compressed); it begins with {:02x}",
              src.name(), fmt::join(b, " "));
}

// The arch a raw kernel is for, when the headers say so before any parsing:
// lets load_kernel refuse a wrong-arch kernel with one message for all formats.
std::optional<Arch> raw_arch(RawFormat format, const Head& head) {
  switch (format) {
    case RawFormat::kBzImage: return Arch::kX86_64;
    case RawFormat::kArm64: return Arch::kAarch64;
    case RawFormat::kRiscv: return Arch::kRiscv64;
    case RawFormat::kElf:
      if (head.size >= 20) {
        switch (static_cast<uint16_t>(static_cast<unsigned>(head.bytes[18]) | static_cast<unsigned>(head.bytes[19]) << 8)) {
          case 62: return Arch::kX86_64;    // EM_X86_64
          case 183: return Arch::kAarch64;  // EM_AARCH64
          case 243: return Arch::kRiscv64;  // EM_RISCV
          default: break;
        }
      }
      return std::nullopt;
    case RawFormat::kUnknown: return std::nullopt;
  }
  return std::nullopt;
}

Result<KernelInfo> inspect_raw(const ImageSource& src, const Head& head) {
  switch (detect_raw(head)) {
    case RawFormat::kElf: return inspect_elf(src);
    case RawFormat::kBzImage: return inspect_bzimage(src);
    case RawFormat::kArm64: return inspect_arm64_image(src);
    case RawFormat::kRiscv: return inspect_riscv_image(src);
    case RawFormat::kUnknown: break;
  }
  return unknown_format(src, head);
}

Result<LoadedKernel> load_raw(const ImageSource& src, const Head& head, GuestMemory& mem, const LoadOptions& options) {
  const RawFormat format = detect_raw(head);
  if (auto arch = raw_arch(format, head))
    if (auto r = detail::check_arch(*arch, options, src.name()); !r) return std::unexpected(r.error());
  switch (format) {
    case RawFormat::kElf: return load_elf(src, mem, options);
    case RawFormat::kBzImage: return load_bzimage(src, mem, options);
    case RawFormat::kArm64: return load_arm64_image(src, mem, options);
    case RawFormat::kRiscv: return load_riscv_image(src, mem, options);
    case RawFormat::kUnknown: break;
  }
  return unknown_format(src, head);
}

// An Image that was inflated at base (scratch) is moved to base +
// text_offset, and every byte of the scratch it no longer covers is zeroed.
Result<LoadedKernel> place_inflated_image(const detail::ImageHeader& header, std::span<std::byte> inflated,
                                          GuestAddress base, GuestMemory& mem, const std::string& name) {
  auto load = detail::image_load_address(mem, base, header, name);
  if (!load) return std::unexpected(load.error());
  auto dst = mem.host_span(*load, header.load_size);
  if (!dst) return std::unexpected(dst.error());
  const uint64_t n = inflated.size();
  // The ranges may overlap (same region, text_offset < n): memmove.
  if (header.text_offset != 0) std::memmove(dst->data(), inflated.data(), n);
  const uint64_t stale = std::min(header.text_offset, n);  // [base, base+stale) is scratch the Image left
  if (stale != 0) std::memset(inflated.data(), 0, stale);
  std::memset(dst->data() + n, 0, header.load_size - n);
  return detail::image_loaded_kernel(header, *load);
}

// Inflates straight into guest memory. Where an Image goes depends on
// text_offset, which is inside the compressed stream; rather than decoding
// twice, we inflate at the 2 MiB aligned base (the room is base .. end of
// that region, capped by max_decompressed_size), read the header there, and
// move the Image up by text_offset (0 on arm64 since 5.8; one memmove of the
// Image otherwise, cheap beside the inflate). A compressed ELF or bzImage is
// copied out of the scratch and loaded normally (its own addresses decide).
Result<LoadedKernel> load_compressed(Compression kind, const ImageSource& src, GuestMemory& mem,
                                     const LoadOptions& options) {
  auto base = detail::image_base(mem, options);
  if (!base) return std::unexpected(with_context(base.error(), src.name()));
  const GuestRegion* region = mem.find_region(*base);
  if (region == nullptr)
    return fail(ErrorCode::kOutOfBounds, "{}: base {} for the decompressed kernel is not in guest memory", src.name(),
                *base);
  const uint64_t room = std::min(region->end().value() - base->value(), options.max_decompressed_size);
  auto scratch = mem.host_span(*base, room);
  if (!scratch) return std::unexpected(scratch.error());
  auto n = decompress_into(kind, src, 0, src.size(), *scratch);
  if (!n) {
    // The partial output stays: clearing the whole room would fault in all
    // of guest RAM for a corrupt file, and a failed load is not booted.
    if (n.error().code == ErrorCode::kTooLarge)
      return std::unexpected(with_context(
          n.error(), fmt::format("the decompressed kernel does not fit in the {:#x} bytes from {} (to the end of "
                                 "its guest memory region, at most max_decompressed_size {:#x})",
                                 room, *base, options.max_decompressed_size)));
    return std::unexpected(n.error());
  }
  // Decoders may scribble a little past the bytes they report (zstd and lz4
  // copy in 16-32 byte strides while room remains): clear that slack so
  // guest memory holds exactly the kernel.
  const uint64_t slack = std::min<uint64_t>(kDecoderSlack, scratch->size() - *n);
  std::memset(scratch->data() + *n, 0, slack);
  auto inflated = scratch->first(*n);
  const std::string inner_name = fmt::format("{} ({} stream)", src.name(), to_string(kind));
  SpanImageSource inner(inflated, inner_name);
  auto head = read_head(inner);
  if (!head) return std::unexpected(head.error());

  const RawFormat format = detect_raw(*head);
  if (auto arch = raw_arch(format, *head)) {
    if (auto r = detail::check_arch(*arch, options, inner_name); !r) {
      std::memset(inflated.data(), 0, inflated.size());
      return std::unexpected(r.error());
    }
  }
  if (format == RawFormat::kArm64 || format == RawFormat::kRiscv) {
    auto header = format == RawFormat::kArm64 ? detail::parse_arm64_header(inner) : detail::parse_riscv_header(inner);
    Result<LoadedKernel> loaded = header ? place_inflated_image(*header, inflated, *base, mem, inner_name)
                                         : Result<LoadedKernel>(std::unexpected(header.error()));
    if (!loaded) std::memset(inflated.data(), 0, inflated.size());
    return loaded;
  }
  // Other formats place themselves; they cannot be loaded from guest memory
  // they might overwrite, so they get their own copy.
  BufferImageSource copy(std::vector<std::byte>(inflated.begin(), inflated.end()), inner_name);
  std::memset(inflated.data(), 0, inflated.size());
  if (format == RawFormat::kUnknown) return unknown_format(copy, *head);
  return load_raw(copy, *head, mem, options);
}

}  // namespace

Result<KernelInfo> inspect_kernel(const ImageSource& src) {
  if (is_efi_zboot(src)) {
    auto zboot = detail::parse_efi_zboot(src);
    if (!zboot) return std::unexpected(zboot.error());
    auto inner = extract_efi_zboot(src, kInspectDecompressLimit);
    if (!inner) return std::unexpected(inner.error());
    auto head = read_head(**inner);
    if (!head) return std::unexpected(head.error());
    auto info = inspect_raw(**inner, *head);
    if (!info) return info;
    info->efi_zboot = true;
    info->compression = zboot->compression;
    return info;
  }
  auto head = read_head(src);
  if (!head) return std::unexpected(head.error());
  if (detect_raw(*head) != RawFormat::kUnknown) return inspect_raw(src, *head);
  const Compression kind = detect_compression(head->span());
  if (kind == Compression::kNone) return unknown_format(src, *head);
  auto bytes = decompress_to_vector(kind, src, 0, src.size(), kInspectDecompressLimit);
  if (!bytes) return std::unexpected(bytes.error());
  BufferImageSource inner(std::move(*bytes), fmt::format("{} ({} stream)", src.name(), to_string(kind)));
  auto inner_head = read_head(inner);
  if (!inner_head) return std::unexpected(inner_head.error());
  auto info = inspect_raw(inner, *inner_head);
  if (!info) return info;
  info->compression = kind;
  return info;
}

Result<LoadedKernel> load_kernel(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  if (is_efi_zboot(src)) {
    auto inner = extract_efi_zboot(src, options.max_decompressed_size);
    if (!inner) return std::unexpected(inner.error());
    auto head = read_head(**inner);
    if (!head) return std::unexpected(head.error());
    return load_raw(**inner, *head, mem, options);
  }
  auto head = read_head(src);
  if (!head) return std::unexpected(head.error());
  if (detect_raw(*head) != RawFormat::kUnknown) return load_raw(src, *head, mem, options);
  const Compression kind = detect_compression(head->span());
  if (kind == Compression::kNone) return unknown_format(src, *head);
  return load_compressed(kind, src, mem, options);
}

}  // namespace loader
