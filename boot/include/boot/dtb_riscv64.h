// The riscv64 device tree: RAM, harts (ISA, MMU type, per-hart interrupt
// controller), timebase, the platform interrupt controller (PLIC, or AIA:
// APLIC + IMSIC), the 16550A console, command line and initrd. Addresses
// come from memory_map_riscv64.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/fdt_layout.h"
#include "boot/memory_map_riscv64.h"
#include "boot/platform_description.h"
#include "loader/error.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"

namespace boot {

enum class RiscvInterruptController {
  kPlic,  // a userspace PLIC model, one S-mode context per hart
  kAia,   // APLIC (MSI mode) + per-hart IMSIC, in-kernel where the host has it
};
enum class RiscvMmuType { kSv39, kSv48, kSv57 };

struct Riscv64DtConfig {
  RamRange ram{GuestAddress(riscv64::kRamBase), 0};
  uint32_t cpus = 1;    // 1..riscv64::kMaxHarts; hart id = vCPU index
  std::string cmdline;  // at most riscv64::kCmdlineCapacity - 1 bytes
  std::optional<loader::InitrdPlacement> initrd;
  // The "riscv,isa" string; the VMM passes what KVM offers.
  std::string isa = "rv64imafdc";
  // "riscv,isa-extensions"; when empty it is derived from isa (see
  // riscv_isa_extensions).
  std::vector<std::string> isa_extensions;
  RiscvMmuType mmu = RiscvMmuType::kSv48;
  uint32_t timebase_frequency = riscv64::kDefaultTimebaseHz;  // KVM reports it (ONE_REG timer frequency)
  RiscvInterruptController irqchip = RiscvInterruptController::kPlic;
  // The devices' own nodes (the PLIC when irqchip is kPlic, the console
  // UART, virtio, ...) and stdout-path.
  PlatformDescription platform;
  std::vector<std::byte> rng_seed;        // /chosen/rng-seed when not empty
  std::optional<uint64_t> kaslr_seed;     // /chosen/kaslr-seed
};

// Phandles: the platform controller (PLIC or APLIC), the IMSIC, then one
// cpu-intc per hart.
inline constexpr uint32_t kRiscvIrqchipPhandle = 1;
inline constexpr uint32_t kRiscvImsicPhandle = 2;
inline constexpr uint32_t riscv_cpu_intc_phandle(uint32_t hart) { return 3 + hart; }

// "riscv,isa-extensions" from a "riscv,isa" string: the single letters after
// "rv64" ("g" expands to i, m, a, f, d, zicsr, zifencei), then each
// "_"-separated multi-letter name. zicsr and zifencei are added when "i" is
// present: ISA strings written before they were split out of I imply them,
// and Linux's riscv,isa parser assumes them the same way. Rejects strings that
// do not start with "rv64" or hold characters other than [a-z0-9_].
loader::Result<std::vector<std::string>> riscv_isa_extensions(std::string_view isa);

// How devices spell their interrupts in this tree (PLIC: one cell; APLIC: source and level).
DtIrqContext riscv64_dt_irq_context(uint32_t cpus, RiscvInterruptController irqchip);

loader::Result<std::vector<std::byte>> build_riscv64_dtb(const Riscv64DtConfig& config);

// Builds the tree and writes it at the start of the top 2 MiB block of
// config.ram (see fdt_layout.h); returns its guest address.
loader::Result<GuestAddress> place_riscv64_dtb(loader::GuestMemory& mem, const Riscv64DtConfig& config);

}  // namespace boot
