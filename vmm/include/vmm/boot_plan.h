// A VM laid out without KVM: the kernel and initrd loaded and every boot
// structure written into a guest memory of the requested size, for any of
// the three guest architectures on any host. `vmm --dry-run` prints it; the
// x86_64 part is the very code the real boot runs (x86::prepare_boot).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "boot/entry_state_arm.h"
#include "boot/entry_state_x86.h"
#include "loader/error.h"
#include "loader/kernel.h"
#include "vmm/run.h"

namespace vmm {

enum class PlanRangeKind {
  kRam,       // backed guest RAM
  kReserved,  // RAM the guest is told not to use
  kMmio,      // a device window or the x86 MMIO gap, not RAM
  kData,      // something the VMM wrote: kernel, initrd, tables, DTB
};

struct PlanRange {
  std::string name;
  uint64_t address = 0;
  uint64_t size = 0;
  PlanRangeKind kind = PlanRangeKind::kData;
};

using EntryState = std::variant<boot::X86EntryState, boot::Aarch64EntryState, boot::Riscv64EntryState>;

struct BootPlan {
  loader::Arch arch = loader::Arch::kX86_64;
  std::string protocol;  // e.g. "linux 64-bit (bzImage)", "arm64 Image + device tree"
  std::string cmdline;   // as written for the guest
  uint64_t memory = 0;
  uint32_t cpus = 1;
  // Sorted by address; a container (RAM) comes before what lies inside it.
  std::vector<PlanRange> layout;
  EntryState entry;
  std::optional<uint64_t> dtb_address;  // aarch64, riscv64
  std::vector<std::byte> dtb;           // aarch64, riscv64: the bytes written
};

// Loads config.kernel (and config.initrd) for arch into fresh guest memory
// and writes the boot data exactly as a real boot would. Never opens
// /dev/kvm. Errors are load errors: unreadable or wrong-arch kernel, memory
// too small, initrd that does not fit, command line too long.
loader::Result<BootPlan> plan_boot(const RunConfig& config, loader::Arch arch);

}  // namespace vmm
