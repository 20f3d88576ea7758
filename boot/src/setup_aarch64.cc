#include "boot/setup_aarch64.h"

namespace boot {

loader::Result<FdtBootLayout> plan_aarch64_layout(const loader::GuestMemory& mem, const loader::LoadedKernel& kernel) {
  return plan_fdt_layout(loader::Arch::kAarch64, mem, kernel);
}

loader::Result<Aarch64BootSetup> setup_aarch64_boot(loader::GuestMemory& mem, const Aarch64BootConfig& config) {
  auto layout = plan_aarch64_layout(mem, config.kernel);
  if (!layout) return std::unexpected(layout.error());
  if (config.initrd) {
    if (auto r = check_initrd_placement(*layout, *config.initrd); !r) return std::unexpected(r.error());
  }

  Aarch64DtConfig dt;
  dt.ram = layout->ram;
  dt.cpus = config.cpus;
  dt.cmdline = config.cmdline;
  dt.initrd = config.initrd;
  dt.gic = config.gic;
  dt.its = config.its;
  dt.psci = config.psci;
  dt.rng_seed = config.rng_seed;
  dt.kaslr_seed = config.kaslr_seed;
  dt.platform = config.platform;
  auto dtb = build_aarch64_dtb(dt);
  if (!dtb) return std::unexpected(dtb.error());
  if (auto r = write_dtb(mem, layout->dtb_slot, *dtb); !r) return std::unexpected(r.error());

  Aarch64BootSetup out;
  out.dtb_address = layout->dtb_slot;
  out.entry = aarch64_entry_state(config.kernel.entry, layout->dtb_slot);
  out.layout.push_back({"RAM", layout->ram.base, layout->ram.size});
  out.layout.push_back({"kernel", config.kernel.load_address, config.kernel.load_size});
  if (config.initrd) out.layout.push_back({"initrd", config.initrd->address, config.initrd->size});
  out.layout.push_back({"device tree", layout->dtb_slot, dtb->size()});
  if (config.gic == GicVersion::kV3) {
    out.layout.push_back({"GICv3 distributor", GuestAddress(aarch64::kGicDistBase), aarch64::kGicV3DistSize});
    out.layout.push_back({"GICv3 redistributors", GuestAddress(aarch64::kGicRedistBase),
                          aarch64::kGicRedistSizePerCpu * config.cpus});
    if (aarch64_has_its(dt))
      out.layout.push_back({"GICv3 ITS", GuestAddress(aarch64::kGicItsBase), aarch64::kGicItsSize});
  } else {
    out.layout.push_back({"GICv2 distributor", GuestAddress(aarch64::kGicDistBase), aarch64::kGicV2DistSize});
    out.layout.push_back({"GICv2 CPU interface", GuestAddress(aarch64::kGicV2CpuBase), aarch64::kGicV2CpuSize});
  }
  sort_by_address(out.layout);
  out.dtb = std::move(*dtb);
  return out;
}

}  // namespace boot
