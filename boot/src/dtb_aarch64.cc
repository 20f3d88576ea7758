#include "boot/dtb_aarch64.h"

#include "boot/entry_state_arm.h"
#include "boot/fdt_writer.h"
#include "fdt_common.h"

namespace boot {

using loader::ErrorCode;
using loader::fail;

namespace {

constexpr std::string_view kWhat = "aarch64 device tree";

// Interrupt specifier cells of the ARM GIC binding.
constexpr uint32_t kGicSpi = 0;
constexpr uint32_t kGicPpi = 1;
constexpr uint32_t kIrqLevelHigh = 4;
constexpr uint32_t kIrqEdgeRising = 1;

loader::Result<void> validate(const Aarch64DtConfig& c) {
  if (auto r = detail::check_dt_ram(kWhat, c.ram); !r) return r;
  uint32_t max = aarch64_max_cpus(c.gic);
  if (c.cpus < 1 || c.cpus > max)
    return fail(ErrorCode::kInvalidArgument, "aarch64 device tree: cpus = {} is out of range 1..{} for {}", c.cpus,
                max, c.gic == GicVersion::kV3 ? "GICv3 (redistributor window 0x80a0000..0x9000000)" : "GICv2");
  if (auto r = detail::check_dt_cmdline(kWhat, c.cmdline, aarch64::kCmdlineCapacity); !r) return r;
  return detail::check_dt_initrd(kWhat, c.ram, c.initrd);
}

void write_cpus(FdtWriter& w, const Aarch64DtConfig& c) {
  w.begin_node("cpus");
  w.property_u32("#address-cells", 1);
  w.property_u32("#size-cells", 0);
  for (uint32_t i = 0; i < c.cpus; ++i) {
    auto mpidr = static_cast<uint32_t>(aarch64_mpidr_for_vcpu(i));
    w.begin_node(fmt::format("cpu@{:x}", mpidr));
    w.property_string("device_type", "cpu");
    w.property_string("compatible", "arm,arm-v8");
    w.property_string("enable-method", "psci");
    w.property_u32("reg", mpidr);
    w.end_node();
  }
  w.end_node();
}

void write_gic(FdtWriter& w, const Aarch64DtConfig& c) {
  w.begin_node(aarch64_gic_node_name(c));
  if (c.gic == GicVersion::kV3) {
    w.property_string("compatible", "arm,gic-v3");
    w.property_u32("#redistributor-regions", 1);
    w.property_u64s("reg", {aarch64::kGicDistBase, aarch64::kGicV3DistSize, aarch64::kGicRedistBase,
                            aarch64::kGicRedistSizePerCpu * c.cpus});
  } else {
    w.property_string("compatible", "arm,cortex-a15-gic");
    w.property_u64s("reg", {aarch64::kGicDistBase, aarch64::kGicV2DistSize, aarch64::kGicV2CpuBase,
                            aarch64::kGicV2CpuSize});
  }
  w.property_u32("#interrupt-cells", 3);
  w.property_empty("interrupt-controller");
  w.property_u32("phandle", kAarch64GicPhandle);
  if (aarch64_has_its(c)) {
    // A child with a reg needs the parent's address cells, and an empty
    // ranges to map its address 1:1. interrupt-map entries that point at
    // the GIC then carry two parent-address cells (aarch64_dt_irq_context).
    w.property_u32("#address-cells", 2);
    w.property_u32("#size-cells", 2);
    w.property_empty("ranges");
    w.begin_node(fmt::format("msi-controller@{:x}", aarch64::kGicItsBase));
    w.property_string("compatible", "arm,gic-v3-its");
    w.property_empty("msi-controller");
    // The one cell is the device ID: the PCI requester ID through msi-map.
    w.property_u32("#msi-cells", 1);
    w.property_u64s("reg", {aarch64::kGicItsBase, aarch64::kGicItsSize});
    w.property_u32("phandle", kAarch64ItsPhandle);
    w.end_node();
  } else {
    w.property_u32("#address-cells", 0);
  }
  w.end_node();
}

void write_timer(FdtWriter& w, const Aarch64DtConfig& c) {
  uint32_t flags = kIrqLevelHigh;
  // GICv2 PPI specifiers carry the mask of CPUs the PPI is wired to.
  if (c.gic == GicVersion::kV2) flags |= ((1u << c.cpus) - 1) << 8;
  w.begin_node("timer");
  w.property_string("compatible", "arm,armv8-timer");
  w.property_cells("interrupts", {kGicPpi, aarch64::kTimerSecurePhysPpi, flags, kGicPpi, aarch64::kTimerPhysPpi, flags,
                                  kGicPpi, aarch64::kTimerVirtPpi, flags, kGicPpi, aarch64::kTimerHypPpi, flags});
  w.property_empty("always-on");
  w.end_node();
}

}  // namespace

uint32_t aarch64_max_cpus(GicVersion gic) {
  return gic == GicVersion::kV3 ? aarch64::kGicV3MaxCpus : aarch64::kGicV2MaxCpus;
}

bool aarch64_has_its(const Aarch64DtConfig& config) { return config.its && config.gic == GicVersion::kV3; }

DtIrqContext aarch64_dt_irq_context(const Aarch64DtConfig& config) {
  DtIrqContext irq;
  irq.interrupt_parent = kAarch64GicPhandle;
  irq.cpus = config.cpus;
  if (aarch64_has_its(config)) {
    irq.interrupt_parent_address_cells = 2;
    irq.msi_parent = kAarch64ItsPhandle;
  }
  irq.cells = [](uint32_t spi, IrqTrigger trigger) {
    return std::vector<uint32_t>{kGicSpi, spi, trigger == IrqTrigger::kLevel ? kIrqLevelHigh : kIrqEdgeRising};
  };
  return irq;
}

std::string aarch64_gic_node_name(const Aarch64DtConfig&) {
  return fmt::format("interrupt-controller@{:x}", aarch64::kGicDistBase);
}

std::string aarch64_its_node_path(const Aarch64DtConfig& config) {
  return fmt::format("/{}/msi-controller@{:x}", aarch64_gic_node_name(config), aarch64::kGicItsBase);
}

loader::Result<std::vector<std::byte>> build_aarch64_dtb(const Aarch64DtConfig& config) {
  if (auto r = validate(config); !r) return std::unexpected(r.error());
  FdtWriter w;
  w.begin_node("");
  w.property_string("compatible", "linux,dummy-virt");
  w.property_string("model", "minivmm aarch64");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  w.property_u32("interrupt-parent", kAarch64GicPhandle);

  detail::write_memory_node(w, config.ram);

  write_cpus(w, config);

  w.begin_node("psci");
  if (config.psci == PsciVersion::k1_0)
    w.property_strings("compatible", {"arm,psci-1.0", "arm,psci-0.2"});
  else
    w.property_string("compatible", "arm,psci-0.2");
  w.property_string("method", "hvc");
  w.end_node();

  write_gic(w, config);
  write_timer(w, config);
  const DtIrqContext irq = aarch64_dt_irq_context(config);
  for (const auto& node : config.platform.dt_nodes) node(w, irq);
  detail::write_chosen_node(
      w, {config.cmdline, config.platform.stdout_path, config.initrd, config.rng_seed, config.kaslr_seed});
  return detail::finish_dt(w, kWhat);
}

loader::Result<GuestAddress> place_aarch64_dtb(loader::GuestMemory& mem, const Aarch64DtConfig& config) {
  return detail::place_dt(mem, loader::Arch::kAarch64, config.ram, [&] { return build_aarch64_dtb(config); });
}

}  // namespace boot
