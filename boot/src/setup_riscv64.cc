#include "boot/setup_riscv64.h"

namespace boot {

loader::Result<FdtBootLayout> plan_riscv64_layout(const loader::GuestMemory& mem, const loader::LoadedKernel& kernel) {
  return plan_fdt_layout(loader::Arch::kRiscv64, mem, kernel);
}

loader::Result<Riscv64BootSetup> setup_riscv64_boot(loader::GuestMemory& mem, const Riscv64BootConfig& config) {
  auto layout = plan_riscv64_layout(mem, config.kernel);
  if (!layout) return std::unexpected(layout.error());
  if (config.initrd) {
    if (auto r = check_initrd_placement(*layout, *config.initrd); !r) return std::unexpected(r.error());
  }

  Riscv64DtConfig dt;
  dt.ram = layout->ram;
  dt.cpus = config.cpus;
  dt.cmdline = config.cmdline;
  dt.initrd = config.initrd;
  dt.isa = config.isa;
  dt.isa_extensions = config.isa_extensions;
  dt.mmu = config.mmu;
  dt.timebase_frequency = config.timebase_frequency;
  dt.irqchip = config.irqchip;
  dt.rng_seed = config.rng_seed;
  dt.kaslr_seed = config.kaslr_seed;
  dt.platform = config.platform;
  auto dtb = build_riscv64_dtb(dt);
  if (!dtb) return std::unexpected(dtb.error());
  if (auto r = write_dtb(mem, layout->dtb_slot, *dtb); !r) return std::unexpected(r.error());

  Riscv64BootSetup out;
  out.dtb_address = layout->dtb_slot;
  out.entry = riscv64_entry_state(config.kernel.entry, 0, layout->dtb_slot);
  out.layout.push_back({"RAM", layout->ram.base, layout->ram.size});
  out.layout.push_back({"kernel", config.kernel.load_address, config.kernel.load_size});
  if (config.initrd) out.layout.push_back({"initrd", config.initrd->address, config.initrd->size});
  out.layout.push_back({"device tree", layout->dtb_slot, dtb->size()});
  // The userspace PLIC is a platform device: the VMM lists its window with the others.
  if (config.irqchip == RiscvInterruptController::kAia) {
    out.layout.push_back({"APLIC", GuestAddress(riscv64::kAplicBase), riscv64::kAplicSize});
    out.layout.push_back({"IMSIC (S-level)", GuestAddress(riscv64::kImsicBase),
                          riscv64::kImsicSizePerHart * config.cpus});
  }
  sort_by_address(out.layout);
  out.dtb = std::move(*dtb);
  return out;
}

}  // namespace boot
