// Everything a riscv64 kernel finds at its first instruction, computed from
// a loaded kernel (and an initrd the caller placed with fdt_layout.h's
// window): the device tree written into guest memory, the boot hart's
// registers, and a what-lies-where list for `vmm --dry-run`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/dtb_riscv64.h"
#include "boot/entry_state_arm.h"
#include "boot/fdt_layout.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"
#include "loader/kernel.h"

namespace boot {

struct Riscv64BootConfig {
  loader::LoadedKernel kernel;
  uint32_t cpus = 1;
  std::string cmdline;
  std::optional<loader::InitrdPlacement> initrd;
  std::string isa = "rv64imafdc";
  std::vector<std::string> isa_extensions;  // empty: derived from isa
  RiscvMmuType mmu = RiscvMmuType::kSv48;
  uint32_t timebase_frequency = riscv64::kDefaultTimebaseHz;
  RiscvInterruptController irqchip = RiscvInterruptController::kPlic;
  std::vector<std::byte> rng_seed;
  std::optional<uint64_t> kaslr_seed;
  PlatformDescription platform;  // the devices' nodes (PLIC, UART, ...) and stdout-path
};

struct Riscv64BootSetup {
  GuestAddress dtb_address;
  std::vector<std::byte> dtb;  // the bytes written, for --dump-dtb
  Riscv64EntryState entry;     // boot hart 0; the others are started by SBI HSM
  std::vector<PlacedRange> layout;  // sorted by address
};

loader::Result<FdtBootLayout> plan_riscv64_layout(const loader::GuestMemory& mem, const loader::LoadedKernel& kernel);

loader::Result<Riscv64BootSetup> setup_riscv64_boot(loader::GuestMemory& mem, const Riscv64BootConfig& config);

}  // namespace boot
