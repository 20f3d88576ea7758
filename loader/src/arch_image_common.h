// Internal to the loader: what the arm64 and riscv64 Image formats share —
// a 64-byte little-endian header and placement at a 2 MiB aligned RAM base
// plus text_offset. Also used by kernel_loader.cc to place an Image that was
// inflated straight into guest memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel.h"
#include "loader/load_options.h"

namespace loader::detail {

inline constexpr uint64_t kImageHeaderSize = 64;
inline constexpr uint64_t kImageBaseAlignment = 2ull << 20;
inline constexpr uint64_t kImageMagicOffset = 0x38;
inline constexpr uint32_t kArm64Magic = 0x644d5241;  // "ARM\x64"
inline constexpr uint32_t kRiscvMagic2 = 0x05435352;  // "RSC\x05"

using ImageHeaderBytes = std::array<std::byte, kImageHeaderSize>;

// Decoded explicitly so the parsers are right on any host byte order.
inline uint32_t le32(std::span<const std::byte> b, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(b[off + i]) << (8 * i);
  return v;
}
inline uint64_t le64(std::span<const std::byte> b, size_t off) {
  return static_cast<uint64_t>(le32(b, off)) | (static_cast<uint64_t>(le32(b, off + 4)) << 32);
}

// The header facts placement needs, plus everything `inspect` shows.
struct ImageHeader {
  uint64_t text_offset = 0;
  uint64_t load_size = 0;  // image_size, or the file size when the header leaves it 0 (old arm64)
  KernelInfo info;
};

// The checks both Image headers make, in the order the parsers make them.
// kind names the format in messages ("arm64", "riscv").
Result<ImageHeaderBytes> read_image_header(const ImageSource& src, std::string_view kind);
// The 32-bit magic at kImageMagicOffset; field and text name it ("magic2", "RSC\\x05").
Result<void> check_image_magic(const ImageSource& src, const ImageHeaderBytes& h, std::string_view kind,
                               std::string_view field, uint32_t expected, std::string_view text);
inline constexpr uint64_t kImageFlagsOffset = 24;
Result<void> check_little_endian(const ImageSource& src, uint64_t flags);
inline constexpr uint64_t kImageTextOffsetOffset = 8;
Result<void> check_text_offset(const ImageSource& src, uint64_t text_offset, uint64_t max);
inline constexpr uint64_t kImageSizeOffset = 16;
// image_size covers the file and the bss after it.
Result<void> check_image_size(const ImageSource& src, uint64_t image_size);
// The file holds what its own header points at (issue 13: a cut Image was
// planned as a whole kernel): more than the 64-byte header, the branch in
// code0/code1 lands inside the file, and an EFI stub's PE header, section
// table and every section's raw data lie inside it (the last section ends
// at the kernel's _edata, so a file cut short of image_size fails there).
Result<void> check_image_extent(const ImageSource& src, const ImageHeaderBytes& h, std::string_view kind, Arch arch);
// The KernelInfo fields both formats fill alike: an Image is relocatable and
// entered at its first byte, text_offset above a 2 MiB aligned base.
void fill_image_info(KernelInfo& info, KernelFormat format, Arch arch, const ImageHeaderBytes& h, uint64_t load_size,
                     uint64_t text_offset);

// inspect_*_image and load_*_image around a parser's result.
Result<KernelInfo> inspect_parsed_image(Result<ImageHeader> header, const ImageSource& src);
Result<LoadedKernel> load_parsed_image(Result<ImageHeader> header, const ImageSource& src, GuestMemory& mem,
                                       const LoadOptions& options);

// Parse and validate against the whole Image (src.size() is the Image's size).
Result<ImageHeader> parse_arm64_header(const ImageSource& src);
Result<ImageHeader> parse_riscv_header(const ImageSource& src);

// kWrongArch naming both ("aarch64 kernel, but an x86_64 VM was requested").
Result<void> check_arch(Arch kernel, const LoadOptions& options, const std::string& name);

// options.load_address, or the lowest RAM region's base, aligned up to 2 MiB.
Result<GuestAddress> image_base(const GuestMemory& mem, const LoadOptions& options);

// Where an Image of this header goes: base + text_offset, checked for
// overflow and to lie (with load_size bytes) inside one guest region.
Result<GuestAddress> image_load_address(const GuestMemory& mem, GuestAddress base, const ImageHeader& header,
                                        const std::string& name);

LoadedKernel image_loaded_kernel(const ImageHeader& header, GuestAddress load_address);

// The whole load of an uncompressed Image: checks, pread into place, zero the rest.
Result<LoadedKernel> load_image(const ImageHeader& header, const ImageSource& src, GuestMemory& mem,
                                const LoadOptions& options);

// The EFI zboot header (drivers/firmware/efi/libstub/zboot-header.S),
// validated against the file: payload inside it, a compression name the
// kernel's build writes, and a payload whose magic agrees with that name.
struct ZbootHeader {
  uint32_t payload_offset = 0;
  uint32_t payload_size = 0;
  std::string compression_name;
  Compression compression = Compression::kNone;
};
Result<ZbootHeader> parse_efi_zboot(const ImageSource& src);

// "Linux version ..." from the kernel's banner string, or "" (for inspect).
std::string find_linux_banner(const ImageSource& src);

}  // namespace loader::detail
