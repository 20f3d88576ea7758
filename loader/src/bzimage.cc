// x86 bzImage, Linux boot protocol (Documentation/arch/x86/boot.rst).
//
// Placement decision: the protected-mode part goes at options.load_address
// (default 1 MiB) for relocatable and non-relocatable kernels alike. Its
// 64-bit entry (startup_64) moves the kernel itself to its runtime address:
// max(align_up(load, kernel_alignment), pref_address) when relocatable,
// pref_address otherwise, and needs init_size bytes from there. So both the
// protected-mode bytes and that runtime range must lie in guest memory, and
// LoadedKernel::load_size spans both, for whoever places the initrd next.
#include "loader/bzimage.h"

#include "loader/elf.h"

#include <algorithm>
#include <array>
#include <bit>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "loader/decompress.h"

namespace loader {
namespace {

constexpr uint64_t kSetupHeaderStart = 0x1f1;
constexpr uint64_t kMinFileSize = 0x268;  // through init_size, the last field we rely on
constexpr uint64_t kMaxHeaderEnd = 0x202 + 0xff;
constexpr uint16_t kMinProtocol = 0x0206;
constexpr uint16_t kMin64BitProtocol = 0x020c;
constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint16_t kXlfKernel64 = 0x01;
constexpr uint16_t kXlfAbove4G = 0x02;
constexpr uint64_t kEntry64Offset = 0x200;
constexpr uint64_t kDefaultLoadAddress = 1ull << 20;
constexpr uint64_t kFourGiB = 1ull << 32;
constexpr uint64_t kMaxVersionString = 256;

struct FieldSpec {
  const char* name;
  uint16_t offset;
  uint8_t width;
};

// Every setup-header field, in file order (boot.rst, protocol 2.15).
constexpr std::array kFields{
    FieldSpec{"setup_sects", 0x1f1, 1},        FieldSpec{"root_flags", 0x1f2, 2},
    FieldSpec{"syssize", 0x1f4, 4},            FieldSpec{"ram_size", 0x1f8, 2},
    FieldSpec{"vid_mode", 0x1fa, 2},           FieldSpec{"root_dev", 0x1fc, 2},
    FieldSpec{"boot_flag", 0x1fe, 2},          FieldSpec{"jump", 0x200, 2},
    FieldSpec{"header", 0x202, 4},             FieldSpec{"version", 0x206, 2},
    FieldSpec{"realmode_swtch", 0x208, 4},     FieldSpec{"start_sys_seg", 0x20c, 2},
    FieldSpec{"kernel_version", 0x20e, 2},     FieldSpec{"type_of_loader", 0x210, 1},
    FieldSpec{"loadflags", 0x211, 1},          FieldSpec{"setup_move_size", 0x212, 2},
    FieldSpec{"code32_start", 0x214, 4},       FieldSpec{"ramdisk_image", 0x218, 4},
    FieldSpec{"ramdisk_size", 0x21c, 4},       FieldSpec{"bootsect_kludge", 0x220, 4},
    FieldSpec{"heap_end_ptr", 0x224, 2},       FieldSpec{"ext_loader_ver", 0x226, 1},
    FieldSpec{"ext_loader_type", 0x227, 1},    FieldSpec{"cmd_line_ptr", 0x228, 4},
    FieldSpec{"initrd_addr_max", 0x22c, 4},    FieldSpec{"kernel_alignment", 0x230, 4},
    FieldSpec{"relocatable_kernel", 0x234, 1}, FieldSpec{"min_alignment", 0x235, 1},
    FieldSpec{"xloadflags", 0x236, 2},         FieldSpec{"cmdline_size", 0x238, 4},
    FieldSpec{"hardware_subarch", 0x23c, 4},   FieldSpec{"hardware_subarch_data", 0x240, 8},
    FieldSpec{"payload_offset", 0x248, 4},     FieldSpec{"payload_length", 0x24c, 4},
    FieldSpec{"setup_data", 0x250, 8},         FieldSpec{"pref_address", 0x258, 8},
    FieldSpec{"init_size", 0x260, 4},          FieldSpec{"handover_offset", 0x264, 4},
    FieldSpec{"kernel_info_offset", 0x268, 4},
};

std::string flag_names(uint64_t value, std::initializer_list<std::pair<uint64_t, const char*>> names) {
  std::string out;
  for (auto [bit, name] : names) {
    if (!(value & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
    value &= ~bit;
  }
  if (value) out += fmt::format("{}{:#x}", out.empty() ? "" : "|", value);
  return out;
}

// The decoded setup header plus the derived layout, after every check that
// needs only the file.
struct Header {
  std::vector<std::byte> head;  // file bytes [0, header_end)
  uint64_t header_end = 0;
  uint8_t setup_sects = 0;      // as decoded: 0 already turned into 4
  uint16_t version = 0;
  uint16_t kernel_version = 0;
  uint8_t loadflags = 0;
  uint32_t kernel_alignment = 0;
  uint8_t relocatable = 0;
  uint16_t xloadflags = 0;
  uint32_t cmdline_size = 0;
  uint32_t payload_offset = 0;
  uint32_t payload_length = 0;
  uint64_t pref_address = 0;
  uint32_t init_size = 0;
  uint64_t pm_offset = 0;  // file offset of the protected-mode part
  uint64_t pm_size = 0;

  uint64_t get(uint64_t offset, unsigned width) const {
    uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v |= std::to_integer<uint64_t>(head[offset + i]) << (8 * i);
    return v;
  }
};

Result<Header> parse_header(const ImageSource& src) {
  const std::string& name = src.name();
  if (src.size() < kMinFileSize)
    return fail(ErrorCode::kTruncated, "{}: file is {:#x} bytes, too small for a bzImage setup header (needs {:#x})",
                name, src.size(), kMinFileSize);
  Header h;
  h.head.resize(std::min(src.size(), kMaxHeaderEnd));
  if (auto r = src.read_at(0, h.head); !r) return std::unexpected(r.error());

  if (uint64_t flag = h.get(0x1fe, 2); flag != 0xaa55)
    return fail(ErrorCode::kBadMagic, "{}: boot_flag at offset 0x1fe is {:#06x}, not 0xaa55: not a bzImage", name,
                flag);
  if (uint64_t magic = h.get(0x202, 4); magic != 0x53726448)
    return fail(ErrorCode::kBadMagic, "{}: header at offset 0x202 is {:#010x}, not \"HdrS\": not a bzImage", name,
                magic);
  h.version = static_cast<uint16_t>(h.get(0x206, 2));
  if (h.version < kMinProtocol)
    return fail(ErrorCode::kUnsupported, "{}: boot protocol version at offset 0x206 is {}.{:02}, below 2.06", name,
                h.version >> 8, h.version & 0xff);
  if (h.version < kMin64BitProtocol)
    return fail(ErrorCode::kUnsupported,
                "{}: boot protocol version at offset 0x206 is {}.{:02}; the 64-bit entry needs 2.12", name,
                h.version >> 8, h.version & 0xff);
  h.xloadflags = static_cast<uint16_t>(h.get(0x236, 2));
  if (!(h.xloadflags & kXlfKernel64))
    return fail(ErrorCode::kUnsupported,
                "{}: xloadflags at offset 0x236 is {:#06x}, without XLF_KERNEL_64: no 64-bit entry point", name,
                h.xloadflags);
  h.loadflags = static_cast<uint8_t>(h.get(0x211, 1));
  if (!(h.loadflags & kLoadedHigh))
    return fail(ErrorCode::kUnsupported,
                "{}: loadflags at offset 0x211 is {:#04x}, without LOADED_HIGH: a zImage loaded at 0x10000", name,
                h.loadflags);

  // The short jump at 0x200 skips the header: its target is the header's end.
  h.header_end = 0x202 + std::to_integer<uint64_t>(h.head[0x201]);
  if (h.header_end < kMinFileSize)
    return fail(ErrorCode::kInvalidField,
                "{}: jump at offset 0x200 ends the setup header at {:#x}, before init_size (needs {:#x})", name,
                h.header_end, kMinFileSize);
  // It cannot pass the setup sectors (at least 0x400 bytes, header_end <=
  // 0x301), only the end of a short file.
  if (h.header_end > src.size())
    return fail(ErrorCode::kTruncated,
                "{}: jump at offset 0x200 ends the setup header at {:#x}, past the end of the file ({:#x} bytes)",
                name, h.header_end, src.size());
  h.head.resize(h.header_end);

  uint8_t raw_sects = static_cast<uint8_t>(h.get(0x1f1, 1));
  h.setup_sects = raw_sects == 0 ? 4 : raw_sects;  // boot.rst: 0 means 4
  h.pm_offset = (uint64_t{h.setup_sects} + 1) * 512;
  if (h.pm_offset >= src.size())
    return fail(ErrorCode::kTruncated,
                "{}: setup_sects at offset 0x1f1 is {} so the protected-mode part starts at {:#x}, but the file is "
                "{:#x} bytes",
                name, raw_sects, h.pm_offset, src.size());
  h.pm_size = src.size() - h.pm_offset;

  h.kernel_alignment = static_cast<uint32_t>(h.get(0x230, 4));
  if (!std::has_single_bit(h.kernel_alignment))
    return fail(ErrorCode::kInvalidField, "{}: kernel_alignment at offset 0x230 is {:#x}, not a power of two", name,
                h.kernel_alignment);
  h.relocatable = static_cast<uint8_t>(h.get(0x234, 1));
  h.cmdline_size = static_cast<uint32_t>(h.get(0x238, 4));
  h.pref_address = h.get(0x258, 8);
  h.init_size = static_cast<uint32_t>(h.get(0x260, 4));
  if (h.init_size < h.pm_size)
    return fail(ErrorCode::kInvalidField,
                "{}: init_size at offset 0x260 is {:#x}, smaller than the protected-mode part ({:#x} bytes)", name,
                h.init_size, h.pm_size);
  h.payload_offset = static_cast<uint32_t>(h.get(0x248, 4));
  h.payload_length = static_cast<uint32_t>(h.get(0x24c, 4));
  if (uint64_t{h.payload_offset} + h.payload_length > h.pm_size)
    return fail(ErrorCode::kInvalidField,
                "{}: payload_offset {:#x} (offset 0x248) + payload_length {:#x} (offset 0x24c) runs past the "
                "protected-mode part ({:#x} bytes)",
                name, h.payload_offset, h.payload_length, h.pm_size);
  h.kernel_version = static_cast<uint16_t>(h.get(0x20e, 2));
  return h;
}

// "Linux version"-style string that kernel_version points at (+0x200, inside
// the setup sectors); empty when the field is 0.
Result<std::string> read_version_string(const ImageSource& src, const Header& h) {
  if (h.kernel_version == 0) return std::string();
  uint64_t at = uint64_t{h.kernel_version} + 0x200;
  if (at >= h.pm_offset)
    return fail(ErrorCode::kInvalidField,
                "{}: kernel_version at offset 0x20e is {:#x}, pointing to {:#x}, outside the setup sectors (end {:#x})",
                src.name(), h.kernel_version, at, h.pm_offset);
  std::vector<std::byte> text(std::min(kMaxVersionString, h.pm_offset - at));
  if (auto r = src.read_at(at, text); !r) return std::unexpected(r.error());
  std::string out;
  for (std::byte b : text) {
    char c = static_cast<char>(b);
    if (c == '\0') return out;
    if (c < 0x20 || c > 0x7e)
      return fail(ErrorCode::kInvalidField,
                  "{}: kernel version string at offset {:#x} (kernel_version field 0x20e) has the unprintable byte "
                  "{:#04x} at offset {:#x}",
                  src.name(), at, static_cast<unsigned>(b), at + out.size());
    out += c;
  }
  return fail(ErrorCode::kInvalidField,
              "{}: kernel version string at offset {:#x} (kernel_version field 0x20e) has no NUL within {:#x} bytes",
              src.name(), at, text.size());
}

std::string field_note(const Header& h, const FieldSpec& f, uint64_t value) {
  switch (f.offset) {
    case 0x1f1: return value == 0 ? "0 means 4" : "";
    case 0x202: return "HdrS";
    case 0x206: return fmt::format("{}.{:02}", value >> 8, value & 0xff);
    case 0x211:
      return flag_names(value, {{0x01, "LOADED_HIGH"}, {0x02, "KASLR_FLAG"}, {0x20, "QUIET_FLAG"},
                                {0x40, "KEEP_SEGMENTS"}, {0x80, "CAN_USE_HEAP"}});
    case 0x236:
      return flag_names(value, {{0x01, "XLF_KERNEL_64"}, {0x02, "XLF_CAN_BE_LOADED_ABOVE_4G"},
                                {0x04, "XLF_EFI_HANDOVER_32"}, {0x08, "XLF_EFI_HANDOVER_64"},
                                {0x10, "XLF_EFI_KEXEC"}, {0x20, "XLF_5LEVEL"}, {0x40, "XLF_5LEVEL_ENABLED"}});
    case 0x234: return value ? "relocatable" : "fixed at pref_address";
    case 0x235: return fmt::format("{:#x}", value < 64 ? 1ull << value : 0);
    case 0x248: return fmt::format("file offset {:#x}", h.pm_offset + value);
    default: return "";
  }
}

Result<KernelInfo> make_info(const ImageSource& src, const Header& h) {
  KernelInfo info;
  info.format = KernelFormat::kBzImage;
  info.arch = Arch::kX86_64;
  info.pe_stub = h.head[0] == std::byte{'M'} && h.head[1] == std::byte{'Z'};
  auto version = read_version_string(src, h);
  if (!version) return std::unexpected(version.error());
  info.version = std::move(*version);
  info.protocol_version = fmt::format("{}.{:02}", h.version >> 8, h.version & 0xff);
  info.preferred_load_address = h.pref_address;
  info.load_size = h.init_size;
  info.entry = kEntry64Offset;
  info.relocatable = h.relocatable != 0;
  info.alignment = h.kernel_alignment;
  if (h.payload_length > 0) {
    std::array<std::byte, 16> magic{};
    auto n = std::min<uint64_t>(magic.size(), h.payload_length);
    if (auto r = src.read_at(h.pm_offset + h.payload_offset, std::span(magic).first(n)); !r)
      return std::unexpected(r.error());
    info.payload_compression = detect_compression(std::span(magic).first(n));
  }
  for (const FieldSpec& f : kFields) {
    if (f.offset + f.width > h.header_end) break;  // older protocol: the header ends earlier
    uint64_t value = h.get(f.offset, f.width);
    info.fields.push_back(HeaderField{f.name, f.offset, value, field_note(h, f, value)});
  }
  return info;
}

}  // namespace

Result<KernelInfo> inspect_bzimage(const ImageSource& src) {
  auto h = parse_header(src);
  if (!h) return std::unexpected(h.error());
  return make_info(src, *h);
}

Result<LoadedKernel> load_bzimage(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  if (options.arch && *options.arch != Arch::kX86_64)
    return fail(ErrorCode::kWrongArch, "{}: a bzImage is an x86_64 kernel, but {} was requested", src.name(),
                to_string(*options.arch));
  auto parsed = parse_header(src);
  if (!parsed) return std::unexpected(parsed.error());
  const Header& h = *parsed;
  if (auto v = read_version_string(src, h); !v) return std::unexpected(v.error());

  GuestAddress load = options.load_address.value_or(GuestAddress(kDefaultLoadAddress));
  auto pm_end = load.checked_add(h.pm_size);
  if (!pm_end)
    return fail(ErrorCode::kOverflow, "{}: load address {} + protected-mode size {:#x} wraps", src.name(), load,
                h.pm_size);
  if (!mem.contains(load, h.pm_size))
    return fail(ErrorCode::kOutOfBounds,
                "{}: protected-mode part [{}, {}) (file offset {:#x}, {:#x} bytes) is outside guest memory",
                src.name(), load, *pm_end, h.pm_offset, h.pm_size);

  // Where startup_64 moves the kernel to, and the init_size it needs there.
  GuestAddress runtime(h.pref_address);
  if (h.relocatable) {
    auto bumped = load.checked_add(h.kernel_alignment - 1);
    if (!bumped)
      return fail(ErrorCode::kOverflow, "{}: load address {} aligned up to kernel_alignment {:#x} wraps", src.name(),
                  load, h.kernel_alignment);
    runtime = std::max(bumped->align_down(h.kernel_alignment), GuestAddress(h.pref_address));
  }
  auto runtime_end = runtime.checked_add(h.init_size);
  if (!runtime_end)
    return fail(ErrorCode::kOverflow, "{}: runtime address {} + init_size {:#x} (offset 0x260) wraps", src.name(),
                runtime, h.init_size);
  auto init_end = load.checked_add(h.init_size);
  if (!init_end || !mem.contains(load, h.init_size))
    return fail(ErrorCode::kOutOfBounds,
                "{}: init_size at offset 0x260 is {:#x}: [{}, {:#x}) from the load address is outside guest memory",
                src.name(), h.init_size, load, load.value() + uint64_t{h.init_size});
  if (!mem.contains(runtime, h.init_size))
    return fail(ErrorCode::kOutOfBounds,
                "{}: the kernel runs at {} ({}; pref_address at 0x258 is {:#x}) and needs init_size {:#x} bytes "
                "(offset 0x260) there: [{}, {}) is outside guest memory",
                src.name(), runtime, h.relocatable ? "relocatable" : "not relocatable", h.pref_address, h.init_size,
                runtime, *runtime_end);
  GuestAddress footprint_end = std::max({*pm_end, *runtime_end, *init_end});
  if (footprint_end.value() > kFourGiB && !(h.xloadflags & kXlfAbove4G))
    return fail(ErrorCode::kUnsupported,
                "{}: the kernel would reach {} but xloadflags at 0x236 is {:#06x}, without "
                "XLF_CAN_BE_LOADED_ABOVE_4G",
                src.name(), footprint_end, h.xloadflags);

  if (auto r = load_into_memory(src, h.pm_offset, h.pm_size, mem, load); !r) return std::unexpected(r.error());

  LoadedKernel k;
  k.format = KernelFormat::kBzImage;
  k.arch = Arch::kX86_64;
  k.load_address = load;
  k.load_size = footprint_end.value() - load.value();
  k.entry = load.unchecked_add(kEntry64Offset);  // pm_size > 0x200 is not guaranteed: entry is the protocol's
  k.setup_header.assign(h.head.begin() + kSetupHeaderStart, h.head.end());
  return k;
}

Result<BzImagePayloadRange> bzimage_payload_range(const ImageSource& src) {
  auto parsed = parse_header(src);
  if (!parsed) return std::unexpected(parsed.error());
  return BzImagePayloadRange{parsed->pm_offset + parsed->payload_offset, parsed->payload_length};
}

Result<std::unique_ptr<ImageSource>> extract_bzimage_vmlinux(const ImageSource& src, uint64_t max_size) {
  auto parsed = parse_header(src);
  if (!parsed) return std::unexpected(parsed.error());
  const Header& h = *parsed;
  const uint64_t offset = h.pm_offset + h.payload_offset;
  if (h.payload_length < 4)
    return fail(ErrorCode::kInvalidField, "{}: payload_length at offset 0x24c is {:#x}: no compressed kernel inside",
                src.name(), h.payload_length);
  std::array<std::byte, 16> magic{};
  auto n = std::min<uint64_t>(magic.size(), h.payload_length);
  if (auto r = src.read_at(offset, std::span(magic).first(n)); !r) return std::unexpected(r.error());
  Compression kind = detect_compression(std::span(magic).first(n));
  if (kind == Compression::kNone)
    return fail(ErrorCode::kUnsupported,
                "{}: payload at file offset {:#x} starts {:02x} {:02x} {:02x} {:02x}: no known compression", src.name(),
                offset, static_cast<unsigned>(magic[0]), static_cast<unsigned>(magic[1]),
                static_cast<unsigned>(magic[2]), static_cast<unsigned>(magic[3]));

  // The kernel build appends the uncompressed size (LE u32) to the payload:
  // decompress straight into a buffer of that size when it is plausible.
  auto trailer = src.read_obj<std::array<std::byte, 4>>(offset + h.payload_length - 4);
  if (!trailer) return std::unexpected(trailer.error());
  uint64_t hint = 0;
  for (int i = 3; i >= 0; --i) hint = hint << 8 | std::to_integer<uint64_t>((*trailer)[i]);

  std::vector<std::byte> out;
  bool done = false;
  if (hint > 0 && hint <= max_size) {
    try {
      out.resize(hint);
    } catch (const std::bad_alloc&) {
      return fail(ErrorCode::kTooLarge, "{}: cannot allocate the {:#x} bytes the payload size trailer asks for",
                  src.name(), hint);
    }
    auto r = decompress_into(kind, src, offset, h.payload_length, out);
    if (r) {
      out.resize(*r);
      done = true;
    } else if (r.error().code != ErrorCode::kTooLarge) {
      return std::unexpected(with_context(r.error(), "bzImage payload"));
    }
  }
  if (!done) {
    // No usable size trailer (or it understated): grow up to max_size.
    auto r = decompress_to_vector(kind, src, offset, h.payload_length, max_size);
    if (!r) return std::unexpected(with_context(r.error(), "bzImage payload"));
    out = std::move(*r);
  }
  static constexpr std::array<uint8_t, 4> kElfMagic{0x7f, 'E', 'L', 'F'};
  if (out.size() < 4 || !std::equal(kElfMagic.begin(), kElfMagic.end(), out.begin(),
                                    [](uint8_t m, std::byte b) { return std::byte{m} == b; }))
    return fail(ErrorCode::kBadMagic,
                "{}: the {} payload at file offset {:#x} decompresses to {:#x} bytes that do not start with the ELF "
                "magic",
                src.name(), to_string(kind), offset, out.size());
  return std::make_unique<BufferImageSource>(std::move(out), src.name() + ":payload");
}

Result<void> verify_bzimage_payload(const ImageSource& src, uint64_t max_size) {
  auto vmlinux = extract_bzimage_vmlinux(src, max_size);
  if (!vmlinux) return std::unexpected(vmlinux.error());
  auto elf = inspect_elf(**vmlinux);
  if (!elf) return std::unexpected(with_context(elf.error(), "bzImage payload is not a loadable x86_64 vmlinux"));
  return {};
}

}  // namespace loader
