#include "boot/dtb_aarch64.h"

#include "boot/entry_state_arm.h"
#include "boot/fdt_writer.h"

namespace boot {

using loader::Error;
using loader::ErrorCode;
using loader::Result;

using loader::fail;

namespace {

// Interrupt specifier cells of the ARM GIC binding.
constexpr uint32_t kGicSpi = 0;
constexpr uint32_t kGicPpi = 1;
constexpr uint32_t kIrqLevelHigh = 4;
constexpr uint32_t kIrqEdgeRising = 1;

loader::Result<void> validate(const Aarch64DtConfig& c) {
  if (c.ram.size == 0) return fail(ErrorCode::kInvalidArgument, "aarch64 device tree: ram size is 0");
  if (!c.ram.base.checked_add(c.ram.size))
    return fail(ErrorCode::kOverflow, "aarch64 device tree: ram {} + {:#x} wraps", c.ram.base, c.ram.size);
  uint32_t max = aarch64_max_cpus(c.gic);
  if (c.cpus < 1 || c.cpus > max)
    return fail(ErrorCode::kInvalidArgument, "aarch64 device tree: cpus = {} is out of range 1..{} for {}", c.cpus,
                max, c.gic == GicVersion::kV3 ? "GICv3 (redistributor window 0x80a0000..0x9000000)" : "GICv2");
  if (c.cmdline.size() + 1 > aarch64::kCmdlineCapacity)
    return fail(ErrorCode::kTooLarge, "aarch64 device tree: cmdline of {} bytes exceeds the {}-byte limit "
                "(COMMAND_LINE_SIZE, NUL included)", c.cmdline.size(), aarch64::kCmdlineCapacity);
  if (c.cmdline.find('\0') != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "aarch64 device tree: cmdline holds a NUL byte at offset {}",
                c.cmdline.find('\0'));
  if (c.initrd) {
    auto end = c.initrd->address.checked_add(c.initrd->size);
    auto ram_end = c.ram.base.unchecked_add(c.ram.size);
    if (!end) return fail(ErrorCode::kOverflow, "aarch64 device tree: initrd {} + {:#x} wraps", c.initrd->address,
                          c.initrd->size);
    if (c.initrd->address < c.ram.base || *end > ram_end)
      return fail(ErrorCode::kOutOfBounds, "aarch64 device tree: initrd [{}, {}) is outside RAM [{}, {})",
                  c.initrd->address, *end, c.ram.base, ram_end);
  }
  return {};
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
  w.property_u32("#address-cells", 0);
  w.property_empty("interrupt-controller");
  w.property_u32("phandle", kAarch64GicPhandle);
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

void write_chosen(FdtWriter& w, const Aarch64DtConfig& c) {
  w.begin_node("chosen");
  w.property_string("bootargs", c.cmdline);
  if (!c.platform.stdout_path.empty()) w.property_string("stdout-path", c.platform.stdout_path);
  if (c.initrd) {
    w.property_u64("linux,initrd-start", c.initrd->address.value());
    w.property_u64("linux,initrd-end", c.initrd->address.value() + c.initrd->size);
  }
  if (!c.rng_seed.empty()) w.property_bytes("rng-seed", c.rng_seed);
  if (c.kaslr_seed) w.property_u64("kaslr-seed", *c.kaslr_seed);
  w.end_node();
}

}  // namespace

uint32_t aarch64_max_cpus(GicVersion gic) {
  return gic == GicVersion::kV3 ? aarch64::kGicV3MaxCpus : aarch64::kGicV2MaxCpus;
}

DtIrqContext aarch64_dt_irq_context(uint32_t cpus) {
  DtIrqContext irq;
  irq.interrupt_parent = kAarch64GicPhandle;
  irq.cpus = cpus;
  irq.cells = [](uint32_t spi, IrqTrigger trigger) {
    return std::vector<uint32_t>{kGicSpi, spi, trigger == IrqTrigger::kLevel ? kIrqLevelHigh : kIrqEdgeRising};
  };
  return irq;
}

std::string aarch64_gic_node_name(const Aarch64DtConfig&) {
  return fmt::format("interrupt-controller@{:x}", aarch64::kGicDistBase);
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

  w.begin_node(fmt::format("memory@{:x}", config.ram.base.value()));
  w.property_string("device_type", "memory");
  w.property_u64s("reg", {config.ram.base.value(), config.ram.size});
  w.end_node();

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
  const DtIrqContext irq = aarch64_dt_irq_context(config.cpus);
  for (const auto& node : config.platform.dt_nodes) node(w, irq);
  write_chosen(w, config);
  w.end_node();
  auto dtb = w.finish();
  if (!dtb) return std::unexpected(loader::with_context(dtb.error(), "aarch64 device tree"));
  return dtb;
}

loader::Result<GuestAddress> place_aarch64_dtb(loader::GuestMemory& mem, const Aarch64DtConfig& config) {
  auto layout = plan_fdt_layout(loader::Arch::kAarch64, config.ram, config.ram.base, 0);
  if (!layout) return std::unexpected(layout.error());
  auto dtb = build_aarch64_dtb(config);
  if (!dtb) return std::unexpected(dtb.error());
  if (auto r = write_dtb(mem, layout->dtb_slot, *dtb); !r) return std::unexpected(r.error());
  return layout->dtb_slot;
}

}  // namespace boot
