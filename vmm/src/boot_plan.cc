#include "vmm/boot_plan.h"

#include <algorithm>
#include <span>
#include <utility>

#include "arch/x86_64/x86_boot_path.h"
#include "boot/fdt_guest.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/memory_map_x86.h"
#include "boot/setup_aarch64.h"
#include "boot/setup_riscv64.h"
#include "loader/cmdline.h"
#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/initrd.h"
#include "loader/kernel_loader.h"

namespace vmm {
namespace {

using loader::ErrorCode;
using loader::fail;

PlanRangeKind kind_of(boot::RangeKind kind) {
  switch (kind) {
    case boot::RangeKind::kRam: return PlanRangeKind::kRam;
    case boot::RangeKind::kReserved: return PlanRangeKind::kReserved;
    case boot::RangeKind::kMmio: return PlanRangeKind::kMmio;
  }
  return PlanRangeKind::kMmio;
}

// Containers first at equal addresses (RAM before the kernel inside it), so
// the printout reads from the outside in.
void sort_layout(std::vector<PlanRange>& layout) {
  std::stable_sort(layout.begin(), layout.end(), [](const PlanRange& a, const PlanRange& b) {
    if (a.address != b.address) return a.address < b.address;
    return a.size > b.size;
  });
}

loader::Result<BootPlan> plan_x86(const RunConfig& config) {
  auto map = boot::x86_memory_map(config.memory);
  if (!map) return std::unexpected(loader::with_context(map.error(), "--memory"));
  auto mem = loader::GuestMemory::create(boot::guest_memory_regions(*map));
  if (!mem) return std::unexpected(loader::with_context(mem.error(), "guest memory"));
  // The same call the real boot makes before it opens /dev/kvm.
  auto prepared = x86::prepare_boot(*mem, *map, config);
  if (!prepared) return std::unexpected(prepared.error());

  BootPlan plan;
  plan.arch = loader::Arch::kX86_64;
  plan.protocol = prepared->description;
  plan.cmdline = config.cmdline;
  plan.entry = prepared->entry;
  for (const auto& r : map->ram) plan.layout.push_back({fmt::format("RAM ({})", r.name), r.base, r.size, PlanRangeKind::kRam});
  // The gap is there whatever the RAM size: the IOAPIC and local APIC live in it.
  plan.layout.push_back({"MMIO gap (32-bit devices)", boot::kX86MmioGapStart,
                         boot::kX86MmioGapEnd - boot::kX86MmioGapStart, PlanRangeKind::kMmio});
  for (const auto& d : map->devices) plan.layout.push_back({d.name, d.base, d.size, kind_of(d.kind)});
  for (const auto& item : prepared->layout)
    plan.layout.push_back({item.name, item.address, item.size, PlanRangeKind::kData});
  return plan;
}

struct FdtArch {
  loader::Arch arch;
  uint64_t ram_base;
};

// aarch64 and riscv64 share everything up to the device tree: RAM from
// 2 GiB, the Image at a 2 MiB aligned base + text_offset, the initrd in the
// window below the DTB slot.
template <class Config, class Setup, class SetupBoot>
loader::Result<BootPlan> plan_fdt(const RunConfig& config, const FdtArch& a, SetupBoot setup_boot,
                                  std::string protocol) {
  if (config.memory > ~a.ram_base)
    return fail(ErrorCode::kOverflow, "--memory {:#x}: RAM from {:#x} would wrap past 2^64", config.memory, a.ram_base);
  loader::RegionSpec ram{loader::GuestAddress(a.ram_base), config.memory};
  auto mem = loader::GuestMemory::create(std::span(&ram, 1));
  if (!mem) return std::unexpected(loader::with_context(mem.error(), "guest memory"));

  // The same loading the real boot does (vmm/arch/<arch>/ prepare_boot).
  auto guest = boot::load_fdt_guest(*mem, a.arch, config.kernel, config.initrd, config.cmdline);
  if (!guest) return std::unexpected(guest.error());
  Config boot_config;
  boot_config.kernel = guest->kernel;
  boot_config.cpus = config.cpus;
  boot_config.cmdline = guest->cmdline;
  boot_config.initrd = guest->initrd;
  loader::Result<Setup> setup = setup_boot(*mem, boot_config);
  if (!setup) return std::unexpected(setup.error());

  BootPlan plan;
  plan.arch = a.arch;
  plan.protocol = std::move(protocol);
  plan.cmdline = guest->cmdline;
  plan.entry = setup->entry;
  plan.dtb_address = setup->dtb_address.value();
  plan.dtb = std::move(setup->dtb);
  for (const auto& r : setup->layout) {
    // Both maps put every device window below RAM.
    PlanRangeKind kind = r.name == "RAM"                 ? PlanRangeKind::kRam
                         : r.address.value() < a.ram_base ? PlanRangeKind::kMmio
                                                          : PlanRangeKind::kData;
    plan.layout.push_back({r.name, r.address.value(), r.size, kind});
  }
  return plan;
}

}  // namespace

loader::Result<BootPlan> plan_boot(const RunConfig& config, loader::Arch arch) {
  loader::Result<BootPlan> plan = fail(ErrorCode::kInvalidArgument, "no plan");
  switch (arch) {
    case loader::Arch::kX86_64:
      plan = plan_x86(config);
      break;
    case loader::Arch::kAarch64:
      plan = plan_fdt<boot::Aarch64BootConfig, boot::Aarch64BootSetup>(
          config, {arch, boot::aarch64::kRamBase},
          [](loader::GuestMemory& m, const boot::Aarch64BootConfig& c) { return boot::setup_aarch64_boot(m, c); },
          "arm64 Image, device tree in x0 (booting.rst)");
      break;
    case loader::Arch::kRiscv64:
      plan = plan_fdt<boot::Riscv64BootConfig, boot::Riscv64BootSetup>(
          config, {arch, boot::riscv64::kRamBase},
          [](loader::GuestMemory& m, const boot::Riscv64BootConfig& c) { return boot::setup_riscv64_boot(m, c); },
          "riscv64 Image, hart id in a0, device tree in a1 (riscv boot.rst)");
      break;
  }
  if (!plan) return plan;
  plan->memory = config.memory;
  plan->cpus = config.cpus;
  sort_layout(plan->layout);
  return plan;
}

}  // namespace vmm
