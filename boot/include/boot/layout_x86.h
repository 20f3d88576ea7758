// Where the x86_64 boot data lives in guest memory (DESIGN.md §4). Everything
// below 1 MiB except the kernel; the low 640 KiB and the BIOS area are the
// places real-mode-era scans (MP table, RSDP) look.
#pragma once

#include <cstdint>

namespace boot::x86 {

// Real-mode IVT and BIOS data area: left alone (zeroed) except the EBDA pointer.
inline constexpr uint64_t kBdaEbdaPointer = 0x40e;  // u16: EBDA segment

// GDT (8 entries max), empty IDT, TSS: together in 0x500..0x600.
inline constexpr uint64_t kGdtAddr = 0x500;
inline constexpr uint64_t kGdtMaxEntries = 8;
inline constexpr uint64_t kIdtAddr = 0x540;
inline constexpr uint64_t kTssAddr = 0x580;
inline constexpr uint64_t kTssSize = 0x68;

// PVH hvm_start_info, followed by its module list and memory map.
inline constexpr uint64_t kPvhStartInfoAddr = 0x6000;
inline constexpr uint64_t kPvhModlistAddr = 0x6040;  // 1 module (32 bytes)
inline constexpr uint64_t kPvhMemmapAddr = 0x6080;   // up to 128 entries of 24 bytes: ends 0x6c80
inline constexpr uint64_t kPvhMemmapMaxEntries = 128;

// Linux boot_params ("zero page").
inline constexpr uint64_t kZeroPageAddr = 0x7000;
inline constexpr uint64_t kZeroPageSize = 0x1000;

// Initial stack for the 64-bit entry: 0x8000..0x9000, 16-byte aligned top.
inline constexpr uint64_t kBootStackTop = 0x8ff0;

// Identity-mapped page tables: PML4, one PDPT, four PDs (2 MiB pages) = 4 GiB.
inline constexpr uint64_t kPml4Addr = 0x9000;
inline constexpr uint64_t kPdptAddr = 0xa000;
inline constexpr uint64_t kPdAddr = 0xb000;  // 4 pages: 0xb000..0xf000
inline constexpr uint64_t kPdCount = 4;
inline constexpr uint64_t kIdentityMapSize = 4ull << 30;

// Kernel command line: 0x20000..0x30000.
inline constexpr uint64_t kCmdlineAddr = 0x20000;
inline constexpr uint64_t kCmdlineAreaSize = 0x10000;

// End of conventional low RAM; the EBDA and the legacy hole (VGA, option
// ROMs, BIOS) up to 1 MiB are reported as reserved.
inline constexpr uint64_t kEbdaAddr = 0x9fc00;
inline constexpr uint64_t kLowRamEnd = 0x9fc00;

// BIOS area: ACPI tables in the first half (the RSDP scan covers
// 0xE0000..0xFFFFF), the MP table in the second (the MP scan covers only
// 0xF0000..0xFFFFF of it).
inline constexpr uint64_t kAcpiAreaAddr = 0xe0000;
inline constexpr uint64_t kAcpiAreaSize = 0x10000;
inline constexpr uint64_t kMptableAreaAddr = 0xf0000;
inline constexpr uint64_t kMptableAreaSize = 0x10000;

inline constexpr uint64_t kHighMemStart = 0x100000;      // 1 MiB
inline constexpr uint64_t kBzImageLoadAddr = 0x100000;   // protected-mode kernel
inline constexpr uint64_t kVmlinuxLoadAddr = 0x1000000;  // 16 MiB: vmlinux p_paddr

// Interrupt controllers (fixed by the hardware conventions KVM emulates).
inline constexpr uint64_t kIoapicAddr = 0xfec00000;
inline constexpr uint64_t kLapicAddr = 0xfee00000;
inline constexpr uint8_t kIoapicPins = 24;

// Legacy devices the DSDT and MP table describe.
inline constexpr uint16_t kCom1Port = 0x3f8;
inline constexpr uint8_t kCom1Irq = 4;
inline constexpr uint8_t kSciIrq = 9;
// ACPI PM1a blocks (FADT): event status/enable, control (SLP_TYP/SLP_EN).
inline constexpr uint16_t kAcpiPm1aEvtPort = 0x600;
inline constexpr uint8_t kAcpiPm1aEvtLen = 4;
inline constexpr uint16_t kAcpiPm1aCntPort = 0x604;
inline constexpr uint8_t kAcpiPm1aCntLen = 2;
inline constexpr uint16_t kAcpiSlpEn = 1u << 13;
inline constexpr uint8_t kAcpiS5SlpTyp = 5;  // \_S5 package value, bits 10..12 of PM1a_CNT
// FADT reset register: the i8042 command port and its pulse-reset command.
inline constexpr uint16_t kResetPort = 0x64;
inline constexpr uint8_t kResetValue = 0xfe;

}  // namespace boot::x86
