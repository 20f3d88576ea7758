// Everything an aarch64 kernel finds at its first instruction, computed from
// a loaded kernel (and an initrd the caller placed with fdt_layout.h's
// window): the device tree written into guest memory, the boot vCPU's
// registers, and a what-lies-where list for `vmm --dry-run`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/dtb_aarch64.h"
#include "boot/entry_state_arm.h"
#include "boot/fdt_layout.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"
#include "loader/kernel.h"

namespace boot {

struct Aarch64BootConfig {
  loader::LoadedKernel kernel;
  uint32_t cpus = 1;
  std::string cmdline;
  std::optional<loader::InitrdPlacement> initrd;
  GicVersion gic = GicVersion::kV3;
  bool its = true;  // see Aarch64DtConfig::its
  PsciVersion psci = PsciVersion::k1_0;
  std::vector<std::byte> rng_seed;
  std::optional<uint64_t> kaslr_seed;
  PlatformDescription platform;  // the devices' nodes and stdout-path
};
using ArmBootConfig = Aarch64BootConfig;

struct Aarch64BootSetup {
  GuestAddress dtb_address;
  std::vector<std::byte> dtb;  // the bytes written, for --dump-dtb
  Aarch64EntryState entry;     // boot vCPU (index 0); the others start powered off
  std::vector<PlacedRange> layout;  // sorted by address
};

// Plans the DTB slot and initrd window for a kernel already in mem (use
// initrd_options() on the result to load the initrd).
loader::Result<FdtBootLayout> plan_aarch64_layout(const loader::GuestMemory& mem, const loader::LoadedKernel& kernel);

loader::Result<Aarch64BootSetup> setup_aarch64_boot(loader::GuestMemory& mem, const Aarch64BootConfig& config);

}  // namespace boot
