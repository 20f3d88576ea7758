// The aarch64 guest physical memory map (shared/DESIGN.md §4): one place that
// the device tree, the vGIC set-up and the device bus all read, so the
// addresses the guest is told about are the ones that are really wired up.
// It follows QEMU's "virt" machine below RAM so that kernels and tools that
// assume those addresses keep working.
#pragma once

#include <cstdint>

namespace boot::aarch64 {

// RAM starts at 2 GiB and runs to the end of what the user asked for.
inline constexpr uint64_t kRamBase = 0x8000'0000;

// GICv3: distributor, then one 128 KiB redistributor frame pair per vCPU.
inline constexpr uint64_t kGicDistBase = 0x0800'0000;
inline constexpr uint64_t kGicV3DistSize = 0x1'0000;
inline constexpr uint64_t kGicRedistBase = 0x080a'0000;
inline constexpr uint64_t kGicRedistSizePerCpu = 0x2'0000;
// The redistributor window ends where the UART begins; that, not GICv3
// itself, bounds the vCPU count: (0x0900_0000 - 0x080a_0000) / 128 KiB = 123.
inline constexpr uint64_t kGicRedistLimit = 0x0900'0000;
inline constexpr uint32_t kGicV3MaxCpus =
    static_cast<uint32_t>((kGicRedistLimit - kGicRedistBase) / kGicRedistSizePerCpu);

// The GICv3 ITS (MSI translation for PCI), two 64 KiB frames (control and
// GITS_TRANSLATER; KVM_VGIC_V3_ITS_SIZE) in the gap between the
// distributor and the redistributors, where QEMU virt puts it too.
inline constexpr uint64_t kGicItsBase = 0x0808'0000;
inline constexpr uint64_t kGicItsSize = 0x2'0000;

// GICv2 alternative: same distributor base (4 KiB in v2), CPU interface after
// it (KVM_VGIC_V2_CPU_SIZE). GICv2 addresses at most 8 CPUs.
inline constexpr uint64_t kGicV2DistSize = 0x1000;
inline constexpr uint64_t kGicV2CpuBase = 0x0801'0000;
inline constexpr uint64_t kGicV2CpuSize = 0x2000;
inline constexpr uint32_t kGicV2MaxCpus = 8;

// 16550A UART on MMIO, byte registers (reg-shift 0), SPI 1 (GIC INTID 33).
inline constexpr uint64_t kUartBase = 0x0900'0000;
inline constexpr uint64_t kUartSize = 0x1000;
inline constexpr uint32_t kUartSpi = 1;
inline constexpr uint32_t kUartClockHz = 1'843'200;

// Architected timer PPIs (GIC PPI numbers, INTID = 16 + n), as on QEMU virt
// and as KVM wires them by default.
inline constexpr uint32_t kTimerSecurePhysPpi = 13;
inline constexpr uint32_t kTimerPhysPpi = 14;
inline constexpr uint32_t kTimerVirtPpi = 11;
inline constexpr uint32_t kTimerHypPpi = 10;

// arch/arm64/include/uapi/asm/setup.h COMMAND_LINE_SIZE (counts the NUL).
inline constexpr uint64_t kCmdlineCapacity = 2048;

}  // namespace boot::aarch64
