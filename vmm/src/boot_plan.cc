#include "vmm/boot_plan.h"

#include <algorithm>
#include <span>
#include <utility>

#include "boot/fdt_guest.h"
#include "boot/memory_map_x86.h"
#include "boot/memory_maps.h"
#include "boot/setup_aarch64.h"
#include "boot/setup_riscv64.h"
#include "boot/x86_boot_path.h"
#include "devices/pci/pci_root.h"
#include "loader/guest_memory.h"
#include "vmm/fdt_boot.h"
#include "vmm/platform.h"

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

loader::Result<BootPlan> plan_x86(const Options& options, const boot::MemoryMap& map, loader::GuestMemory& mem,
                                  const Platform& platform) {
  const boot::X86BootRequest request = x86_boot_request(options, platform);
  // The same call the real boot makes before it opens /dev/kvm.
  auto prepared = boot::prepare_x86_boot(mem, map, request);
  if (!prepared) return std::unexpected(prepared.error());

  BootPlan plan;
  plan.protocol = prepared->description;
  plan.cmdline = request.cmdline;
  plan.entry = prepared->entry;
  for (const auto& r : map.ram) plan.layout.push_back({fmt::format("RAM ({})", r.name), r.base, r.size, PlanRangeKind::kRam});
  // The gap is there whatever the RAM size: the IOAPIC and local APIC live in it.
  plan.layout.push_back({"MMIO gap (32-bit devices)", boot::kX86MmioGapStart,
                         boot::kX86MmioGapEnd - boot::kX86MmioGapStart, PlanRangeKind::kMmio});
  for (const auto& d : map.devices) plan.layout.push_back({d.name, d.base, d.size, kind_of(d.kind)});
  for (const auto& item : prepared->layout)
    plan.layout.push_back({item.name, item.address, item.size, PlanRangeKind::kData});
  return plan;
}

// aarch64 and riscv64 share everything up to the device tree: RAM from
// 2 GiB, the Image at a 2 MiB aligned base + text_offset, the initrd in the
// window below the DTB slot.
template <class Config, class Setup, class SetupBoot>
loader::Result<BootPlan> plan_fdt(const Options& options, loader::GuestMemory& mem, const Platform& platform,
                                  SetupBoot setup_boot, std::string protocol) {
  const uint64_t ram_base = mem.regions().front().base().value();
  // The same loading the real boot does (vmm/arch/<arch>/ prepare_boot).
  Config boot_config;
  std::string description;
  if (auto r = load_fdt_boot(mem, options, platform, boot_config, description); !r) return std::unexpected(r.error());
  loader::Result<Setup> setup = setup_boot(mem, boot_config);
  if (!setup) return std::unexpected(setup.error());

  BootPlan plan;
  plan.protocol = std::move(protocol);
  plan.cmdline = boot_config.cmdline;
  plan.entry = setup->entry;
  plan.dtb_address = setup->dtb_address.value();
  plan.dtb = std::move(setup->dtb);
  for (const auto& r : setup->layout) {
    // Both maps put every device window below RAM.
    PlanRangeKind kind = r.name == "RAM"                 ? PlanRangeKind::kRam
                         : r.address.value() < ram_base ? PlanRangeKind::kMmio
                                                        : PlanRangeKind::kData;
    plan.layout.push_back({r.name, r.address.value(), r.size, kind});
  }
  return plan;
}

std::string_view trigger_text(boot::IrqTrigger t) { return t == boot::IrqTrigger::kLevel ? "level" : "edge"; }

}  // namespace

loader::Result<BootPlan> plan_boot(const Options& options) {
  auto map = boot::memory_map_for(options.arch, options.memory);
  if (!map) return std::unexpected(loader::with_context(map.error(), "--memory"));
  auto mem = loader::GuestMemory::create(boot::guest_memory_regions(*map));
  if (!mem) return std::unexpected(loader::with_context(mem.error(), "guest memory"));
  // The devices a real boot gets, with nowhere to send their output.
  auto platform = build_platform(options.arch, options,
                                 PlatformSinks{[](devices::MachineRequest, std::string_view) {}, [](std::byte) {}, {}}, *mem);
  if (!platform) {
    if (user_input_exit_code(platform.error().message) != 0) return fail(ErrorCode::kInvalidArgument, "{}", platform.error().message);
    return fail(ErrorCode::kInvalidArgument, "devices: {}", platform.error().message);
  }

  loader::Result<BootPlan> plan = fail(ErrorCode::kInvalidArgument, "no plan");
  switch (options.arch) {
    case loader::Arch::kX86_64:
      plan = plan_x86(options, *map, *mem, **platform);
      break;
    case loader::Arch::kAarch64:
      plan = plan_fdt<boot::Aarch64BootConfig, boot::Aarch64BootSetup>(
          options, *mem, **platform,
          [](loader::GuestMemory& m, const boot::Aarch64BootConfig& c) { return boot::setup_aarch64_boot(m, c); },
          "arm64 Image, device tree in x0 (booting.rst)");
      break;
    case loader::Arch::kRiscv64:
      plan = plan_fdt<boot::Riscv64BootConfig, boot::Riscv64BootSetup>(
          options, *mem, **platform,
          [](loader::GuestMemory& m, const boot::Riscv64BootConfig& c) { return boot::setup_riscv64_boot(m, c); },
          "riscv64 Image, hart id in a0, device tree in a1 (riscv boot.rst)");
      break;
  }
  if (!plan) return plan;
  plan->arch = options.arch;
  plan->memory = options.memory;
  plan->cpus = options.cpus;
  for (const auto& device : (*platform)->devices()) {
    PlanDevice d{std::string(device->name()), {}, {}};
    for (const auto& w : device->windows()) {
      // Say which windows' writes may arrive late (queued by KVM, no exit).
      d.windows.push_back(fmt::format("{} {:#x}+{:#x}{}", devices::to_string(w.bus), w.base, w.size,
                                      w.writes_may_queue ? " (writes queued)" : ""));
      if (w.bus == devices::BusKind::kMmio) plan->layout.push_back({w.name, w.base, w.size, PlanRangeKind::kMmio});
    }
    for (const auto& irq : device->irqs()) d.irqs.push_back(fmt::format("line {} ({})", irq.line, trigger_text(irq.trigger)));
    plan->devices.push_back(std::move(d));
  }
  // The functions behind a PCI root: BDF, the BARs the bridge assigned, the
  // platform line their INTx pin ends up on.
  if (auto root = (*platform)->find<devices::pci::PciRoot>()) {
    for (uint8_t slot = 1; slot < devices::pci::kMaxDevices; ++slot) {
      auto function = root->bridge().device(slot);
      if (!function) continue;
      PlanDevice d{fmt::format("  {} 00:{:02x}.0", function->name(), slot), {}, {}};
      for (uint32_t bar = 0; bar < 6; ++bar) {
        if (!function->bar_spec(bar)) continue;
        const devices::pci::BarMapping m = function->bar_mapping(bar);
        d.windows.push_back(fmt::format("BAR{} {:#x}+{:#x}", bar, m.address, m.size));
      }
      if (const uint8_t pin = function->interrupt_pin()) {
        const uint8_t line = devices::pci::PciHostBridge::intx_line(slot, pin);
        d.irqs.push_back(fmt::format("INT{} line {} (level)", static_cast<char>('A' + pin - 1),
                                     root->placement().intx_lines[line]));
      }
      // Used where the irqchip routes MSIs (x86's local APICs; aarch64's
      // GICv3 ITS, which a real boot leaves out when KVM has none and says
      // so); elsewhere the guest finds no MSI domain and stays on INTx.
      if (const uint16_t vectors = function->msix_vectors()) {
        std::string how;
        if (options.arch == loader::Arch::kAarch64) {
          how = fmt::format(" (ITS, device ID {:#x})", function->requester_id());
        } else if (options.arch != loader::Arch::kX86_64) {
          how = " (unused: no MSI routing here)";
        }
        d.irqs.push_back(fmt::format("MSI-X {} vectors{}", vectors, how));
      }
      plan->devices.push_back(std::move(d));
    }
  }
  sort_layout(plan->layout);
  return plan;
}

}  // namespace vmm
