// A VM laid out without KVM: the kernel and initrd loaded and every boot
// structure written into a guest memory of the requested size, for any of
// the three guest architectures on any host. `vmm --dry-run` prints it; it
// builds the same platform devices and calls the same boot/ functions as
// the real boot (boot::prepare_x86_boot, boot::load_fdt_guest).
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
#include "vmm/cli.h"

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

// One device as the dry run lists it.
struct PlanDevice {
  std::string name;
  std::vector<std::string> windows;  // "pio 0x3f8+0x8", "mmio 0x9000000+0x1000"
  std::vector<std::string> irqs;     // "line 4 (level)"
};

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
  std::vector<PlanDevice> devices;
};

// Loads options.kernel (and options.initrd) for options.arch into fresh guest memory
// and writes the boot data exactly as a real boot would. Never opens
// /dev/kvm. Errors are load errors: unreadable or wrong-arch kernel, memory
// too small, initrd that does not fit, command line too long.
loader::Result<BootPlan> plan_boot(const Options& options);

}  // namespace vmm
