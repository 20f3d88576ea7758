// Linux x86 boot protocol: struct boot_params ("zero page") and the setup
// header inside it, laid out byte for byte as Documentation/arch/x86/boot.rst
// and arch/x86/include/uapi/asm/bootparam.h describe them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "boot/e820.h"
#include "boot/error.h"
#include "loader/initrd.h"

namespace boot {

// loadflags
inline constexpr uint8_t kLoadedHigh = 0x01;
inline constexpr uint8_t kKaslrFlag = 0x02;
inline constexpr uint8_t kQuietFlag = 0x20;
inline constexpr uint8_t kKeepSegments = 0x40;
inline constexpr uint8_t kCanUseHeap = 0x80;
// xloadflags
inline constexpr uint16_t kXlfKernel64 = 0x01;
inline constexpr uint16_t kXlfCanBeLoadedAbove4g = 0x02;

inline constexpr uint16_t kBootFlag = 0xaa55;
inline constexpr uint32_t kHdrSMagic = 0x53726448;  // "HdrS"
// The protocol version a fresh header (ELF kernel) claims.
inline constexpr uint16_t kFreshHeaderVersion = 0x020f;
// x86 COMMAND_LINE_SIZE is 2048 (with the NUL): what an ELF kernel accepts.
inline constexpr uint32_t kDefaultCmdlineSize = 2047;

struct [[gnu::packed]] SetupHeader {
  uint8_t setup_sects;
  uint16_t root_flags;
  uint32_t syssize;
  uint16_t ram_size;
  uint16_t vid_mode;
  uint16_t root_dev;
  uint16_t boot_flag;
  uint16_t jump;
  uint32_t header;
  uint16_t version;
  uint32_t realmode_swtch;
  uint16_t start_sys_seg;
  uint16_t kernel_version;
  uint8_t type_of_loader;
  uint8_t loadflags;
  uint16_t setup_move_size;
  uint32_t code32_start;
  uint32_t ramdisk_image;
  uint32_t ramdisk_size;
  uint32_t bootsect_kludge;
  uint16_t heap_end_ptr;
  uint8_t ext_loader_ver;
  uint8_t ext_loader_type;
  uint32_t cmd_line_ptr;
  uint32_t initrd_addr_max;
  uint32_t kernel_alignment;
  uint8_t relocatable_kernel;
  uint8_t min_alignment;
  uint16_t xloadflags;
  uint32_t cmdline_size;
  uint32_t hardware_subarch;
  uint64_t hardware_subarch_data;
  uint32_t payload_offset;
  uint32_t payload_length;
  uint64_t setup_data;
  uint64_t pref_address;
  uint32_t init_size;
  uint32_t handover_offset;
  uint32_t kernel_info_offset;
};
static_assert(sizeof(SetupHeader) == 0x26c - 0x1f1);

struct [[gnu::packed]] BootParams {
  std::array<uint8_t, 0x40> screen_info;     // 0x000
  std::array<uint8_t, 0x14> apm_bios_info;   // 0x040
  std::array<uint8_t, 4> pad2;               // 0x054
  uint64_t tboot_addr;                       // 0x058
  std::array<uint8_t, 0x10> ist_info;        // 0x060
  uint64_t acpi_rsdp_addr;                   // 0x070
  std::array<uint8_t, 8> pad3;               // 0x078
  std::array<uint8_t, 16> hd0_info;          // 0x080
  std::array<uint8_t, 16> hd1_info;          // 0x090
  std::array<uint8_t, 0x10> sys_desc_table;  // 0x0a0
  std::array<uint8_t, 0x10> olpc_ofw_header; // 0x0b0
  uint32_t ext_ramdisk_image;                // 0x0c0
  uint32_t ext_ramdisk_size;                 // 0x0c4
  uint32_t ext_cmd_line_ptr;                 // 0x0c8
  std::array<uint8_t, 112> pad4;             // 0x0cc
  uint32_t cc_blob_address;                  // 0x13c
  std::array<uint8_t, 0x80> edid_info;       // 0x140
  std::array<uint8_t, 0x20> efi_info;        // 0x1c0
  uint32_t alt_mem_k;                        // 0x1e0
  uint32_t scratch;                          // 0x1e4
  uint8_t e820_entries;                      // 0x1e8
  uint8_t eddbuf_entries;                    // 0x1e9
  uint8_t edd_mbr_sig_buf_entries;           // 0x1ea
  uint8_t kbd_status;                        // 0x1eb
  uint8_t secure_boot;                       // 0x1ec
  std::array<uint8_t, 2> pad5;               // 0x1ed
  uint8_t sentinel;                          // 0x1ef
  uint8_t pad6;                              // 0x1f0
  SetupHeader hdr;                           // 0x1f1
  std::array<uint8_t, 0x290 - 0x26c> pad7;   // 0x26c
  std::array<uint32_t, 16> edd_mbr_sig_buffer;  // 0x290
  std::array<E820Entry, kE820MaxEntries> e820_table;  // 0x2d0
  std::array<uint8_t, 48> pad8;              // 0xcd0
  std::array<uint8_t, 6 * 82> eddbuf;        // 0xd00
  std::array<uint8_t, 276> pad9;             // 0xeec
};
static_assert(sizeof(BootParams) == 0x1000);

// A setup header for a kernel that came without one (ELF vmlinux): boot flag,
// "HdrS", version 2.15, LOADED_HIGH, XLF_KERNEL_64, cmdline_size 2047,
// initrd_addr_max 0x7fffffff, kernel_alignment 2 MiB.
SetupHeader fresh_setup_header();

// The setup header from the bytes a bzImage holds at 0x1f1 (LoadedKernel::
// setup_header; shorter headers of older protocols are zero-extended).
// Checks boot_flag and "HdrS"; protocol must be >= 2.06 (cmdline_size).
Result<SetupHeader> parse_setup_header(std::span<const std::byte> bytes);

// Highest guest address (exclusive) the initrd may end at under this header:
// initrd_addr_max + 1, or unlimited (UINT64_MAX) with XLF_CAN_BE_LOADED_ABOVE_4G.
uint64_t initrd_end_limit(const SetupHeader& hdr);

struct ZeroPageConfig {
  SetupHeader header{};            // from parse_setup_header or fresh_setup_header
  uint64_t cmdline_addr = 0;
  uint64_t cmdline_length = 0;     // bytes, without the terminating NUL
  std::optional<loader::InitrdPlacement> initrd;
  std::span<const E820Entry> e820;
  uint64_t acpi_rsdp_addr = 0;     // 0: let the kernel scan the BIOS area
};

// Fills a zero page: type_of_loader 0xff, LOADED_HIGH kept, CAN_USE_HEAP and
// heap_end_ptr, vid_mode 0xffff (normal), cmd_line_ptr (+ ext_), ramdisk (+ ext_),
// e820, acpi_rsdp_addr. Errors: cmdline longer than cmdline_size, initrd past
// initrd_addr_max, more than 128 e820 entries, addresses above what the
// 32+32-bit fields hold.
Result<BootParams> build_zero_page(const ZeroPageConfig& config);

}  // namespace boot
