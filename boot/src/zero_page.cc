#include "boot/zero_page.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace boot {
namespace {

// The zero page and cmdline live below 1 MiB; the setup code's heap is
// irrelevant to a 64-bit entry, but boot.rst asks a loader that sets
// CAN_USE_HEAP for heap_end_ptr = end of setup heap - 0x200 relative to the
// real-mode code. We have no real-mode code; 0xfe00 is what loaders use.
constexpr uint16_t kHeapEndPtr = 0xfe00;
constexpr uint8_t kTypeOfLoaderUndefined = 0xff;
constexpr uint16_t kVidModeNormal = 0xffff;
// Byte at 0x201 is the jump's displacement: the header ends at 0x202 + it.
constexpr size_t kJumpDisplacementOffset = 0x201 - 0x1f1;

}  // namespace

SetupHeader fresh_setup_header() {
  SetupHeader hdr{};
  hdr.boot_flag = kBootFlag;
  hdr.header = kHdrSMagic;
  hdr.version = kFreshHeaderVersion;
  hdr.loadflags = kLoadedHigh;
  hdr.initrd_addr_max = 0x7fffffff;
  hdr.kernel_alignment = 2u << 20;
  hdr.xloadflags = kXlfKernel64;
  hdr.cmdline_size = kDefaultCmdlineSize;
  return hdr;
}

Result<SetupHeader> parse_setup_header(std::span<const std::byte> bytes) {
  SetupHeader hdr{};
  constexpr size_t kMagicEnd = offsetof(SetupHeader, header) + sizeof(uint32_t);
  if (bytes.size() < kMagicEnd)
    return fail(ErrorCode::kTruncated, "setup header: {} bytes, need at least {} to reach 'HdrS' (file offset 0x202)",
                bytes.size(), kMagicEnd);
  std::memcpy(&hdr, bytes.data(), std::min(bytes.size(), sizeof(hdr)));
  if (hdr.boot_flag != kBootFlag)
    return fail(ErrorCode::kBadMagic, "setup header: boot_flag (file offset 0x1fe) is {:#x}, expected 0xaa55",
                uint16_t{hdr.boot_flag});
  if (hdr.header != kHdrSMagic)
    return fail(ErrorCode::kBadMagic, "setup header: header (file offset 0x202) is {:#x}, expected 'HdrS'",
                uint32_t{hdr.header});
  if (hdr.version < 0x0206)
    return fail(ErrorCode::kUnsupported, "setup header: protocol version (file offset 0x206) {:#x} < 2.06",
                uint16_t{hdr.version});
  // The kernel's header may be shorter than ours (older protocol): the bytes
  // past its end belong to setup code, not to the header.
  size_t header_end = 0x202 + static_cast<size_t>(std::to_integer<uint8_t>(bytes[kJumpDisplacementOffset])) - 0x1f1;
  if (header_end < sizeof(hdr) && header_end >= kMagicEnd && header_end <= bytes.size())
    std::memset(reinterpret_cast<uint8_t*>(&hdr) + header_end, 0, sizeof(hdr) - header_end);
  return hdr;
}

uint64_t initrd_end_limit(const SetupHeader& hdr) {
  if (hdr.xloadflags & kXlfCanBeLoadedAbove4g) return std::numeric_limits<uint64_t>::max();
  return uint64_t{hdr.initrd_addr_max} + 1;
}

Result<BootParams> build_zero_page(const ZeroPageConfig& config) {
  BootParams bp{};
  bp.hdr = config.header;
  auto& hdr = bp.hdr;
  hdr.type_of_loader = kTypeOfLoaderUndefined;
  hdr.vid_mode = kVidModeNormal;
  hdr.loadflags = static_cast<uint8_t>((hdr.loadflags | kCanUseHeap) & ~(kQuietFlag | kKeepSegments));
  hdr.heap_end_ptr = kHeapEndPtr;

  uint32_t cmdline_size = hdr.cmdline_size;
  if (config.cmdline_length > cmdline_size)
    return fail(ErrorCode::kTooLarge, "zero page: command line is {} bytes, kernel's cmdline_size (0x238) is {}",
                config.cmdline_length, cmdline_size);
  if (config.cmdline_addr > std::numeric_limits<uint32_t>::max())
    return fail(ErrorCode::kOutOfBounds, "zero page: cmd_line_ptr {:#x} is above 4 GiB", config.cmdline_addr);
  hdr.cmd_line_ptr = static_cast<uint32_t>(config.cmdline_addr);
  bp.ext_cmd_line_ptr = 0;

  if (config.initrd && config.initrd->size > 0) {
    uint64_t addr = config.initrd->address.value();
    uint64_t size = config.initrd->size;
    uint64_t end = 0;
    if (__builtin_add_overflow(addr, size, &end))
      return fail(ErrorCode::kOverflow, "zero page: initrd {:#x} + size {:#x} wraps", addr, size);
    uint64_t limit = initrd_end_limit(hdr);
    if (end > limit)
      return fail(ErrorCode::kOutOfBounds,
                  "zero page: initrd [{:#x}, {:#x}) ends above initrd_addr_max (0x22c) {:#x}", addr, end,
                  uint32_t{hdr.initrd_addr_max});
    // 64-bit values split across ramdisk_image/size and the ext_ fields.
    hdr.ramdisk_image = static_cast<uint32_t>(addr);
    hdr.ramdisk_size = static_cast<uint32_t>(size);
    bp.ext_ramdisk_image = static_cast<uint32_t>(addr >> 32);
    bp.ext_ramdisk_size = static_cast<uint32_t>(size >> 32);
  } else {
    hdr.ramdisk_image = 0;
    hdr.ramdisk_size = 0;
  }

  if (config.e820.size() > kE820MaxEntries)
    return fail(ErrorCode::kTooLarge, "zero page: {} e820 entries exceed e820_table's {} (0x2d0)",
                config.e820.size(), kE820MaxEntries);
  for (size_t i = 0; i < config.e820.size(); ++i) bp.e820_table[i] = config.e820[i];
  bp.e820_entries = static_cast<uint8_t>(config.e820.size());
  bp.acpi_rsdp_addr = config.acpi_rsdp_addr;
  return bp;
}

}  // namespace boot
