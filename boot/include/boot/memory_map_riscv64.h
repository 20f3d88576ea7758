// The riscv64 guest physical memory map (shared/DESIGN.md §4), shared by the
// device tree, the interrupt controller model and the device bus. Device
// addresses follow QEMU's "virt" machine, which kernels and docs assume.
#pragma once

#include <cstdint>

namespace boot::riscv64 {

inline constexpr uint64_t kRamBase = 0x8000'0000;

// PLIC: the full 64 MiB window of the SiFive layout (priorities, pending,
// per-context enables at 0x2000, per-context threshold/claim at 0x20_0000).
// There is one context per hart, its S-mode external interrupt (hart i ->
// context i): a KVM guest runs in (V)S-mode only, so M-mode contexts would be
// dead weight (kvmtool does the same).
inline constexpr uint64_t kPlicBase = 0x0c00'0000;
inline constexpr uint64_t kPlicSize = 0x0400'0000;
// Interrupt sources 1..31 exist (source 0 means "none" in the PLIC).
inline constexpr uint32_t kPlicNumSources = 31;

// AIA alternative: an APLIC domain in MSI mode that forwards wired
// interrupts to per-hart S-level IMSIC files (one 4 KiB page per hart).
inline constexpr uint64_t kAplicBase = 0x0d00'0000;
inline constexpr uint64_t kAplicSize = 0x8000;
inline constexpr uint64_t kImsicBase = 0x2800'0000;
inline constexpr uint64_t kImsicSizePerHart = 0x1000;
inline constexpr uint32_t kImsicNumIds = 255;

// 16550A UART on MMIO, byte registers, interrupt source 10.
inline constexpr uint64_t kUartBase = 0x1000'0000;
inline constexpr uint64_t kUartSize = 0x100;
inline constexpr uint32_t kUartIrq = 10;
inline constexpr uint32_t kUartClockHz = 3'686'400;

// S-mode external interrupt number in the hart-local interrupt controller.
inline constexpr uint32_t kSupervisorExternalIrq = 9;

// The hart count the map is laid out for (IMSIC window 2 MiB, PLIC contexts).
inline constexpr uint32_t kMaxHarts = 512;

// arch/riscv/include/uapi/asm/setup.h COMMAND_LINE_SIZE (counts the NUL).
inline constexpr uint64_t kCmdlineCapacity = 1024;

inline constexpr uint32_t kDefaultTimebaseHz = 10'000'000;

}  // namespace boot::riscv64
