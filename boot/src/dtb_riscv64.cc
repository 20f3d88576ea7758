#include "boot/dtb_riscv64.h"

#include <algorithm>

#include "boot/fdt_writer.h"
#include "fdt_common.h"

namespace boot {

using loader::ErrorCode;
using loader::fail;

namespace {

constexpr std::string_view kWhat = "riscv64 device tree";

constexpr uint32_t kIrqLevelHigh = 4;
constexpr uint32_t kIrqEdgeRising = 1;

std::string_view mmu_name(RiscvMmuType mmu) {
  switch (mmu) {
    case RiscvMmuType::kSv39: return "riscv,sv39";
    case RiscvMmuType::kSv48: return "riscv,sv48";
    case RiscvMmuType::kSv57: return "riscv,sv57";
  }
  return "riscv,sv39";
}

loader::Result<void> validate(const Riscv64DtConfig& c) {
  if (auto r = detail::check_dt_ram(kWhat, c.ram); !r) return r;
  if (c.cpus < 1 || c.cpus > riscv64::kMaxHarts)
    return fail(ErrorCode::kInvalidArgument, "riscv64 device tree: cpus = {} is out of range 1..{}", c.cpus,
                riscv64::kMaxHarts);
  if (auto r = detail::check_dt_cmdline(kWhat, c.cmdline, riscv64::kCmdlineCapacity); !r) return r;
  if (c.timebase_frequency == 0)
    return fail(ErrorCode::kInvalidArgument, "riscv64 device tree: timebase_frequency is 0");
  return detail::check_dt_initrd(kWhat, c.ram, c.initrd);
}

void write_cpus(FdtWriter& w, const Riscv64DtConfig& c, const std::vector<std::string>& extensions) {
  w.begin_node("cpus");
  w.property_u32("#address-cells", 1);
  w.property_u32("#size-cells", 0);
  w.property_u32("timebase-frequency", c.timebase_frequency);
  for (uint32_t hart = 0; hart < c.cpus; ++hart) {
    w.begin_node(fmt::format("cpu@{:x}", hart));
    w.property_string("device_type", "cpu");
    w.property_u32("reg", hart);
    w.property_string("status", "okay");
    w.property_string("compatible", "riscv");
    w.property_string("riscv,isa", c.isa);
    w.property_string("riscv,isa-base", "rv64i");
    w.property_strings("riscv,isa-extensions", extensions);
    w.property_string("mmu-type", mmu_name(c.mmu));
    w.begin_node("interrupt-controller");
    w.property_string("compatible", "riscv,cpu-intc");
    w.property_u32("#interrupt-cells", 1);
    w.property_u32("#address-cells", 0);
    w.property_empty("interrupt-controller");
    w.property_u32("phandle", riscv_cpu_intc_phandle(hart));
    w.end_node();
    w.end_node();
  }
  w.end_node();
}

// Each hart's S-mode external interrupt, in hart order: PLIC context i and
// IMSIC file i belong to hart i.
std::vector<uint32_t> per_hart_external_irqs(uint32_t cpus) {
  std::vector<uint32_t> cells;
  for (uint32_t hart = 0; hart < cpus; ++hart) {
    cells.push_back(riscv_cpu_intc_phandle(hart));
    cells.push_back(riscv64::kSupervisorExternalIrq);
  }
  return cells;
}

void write_aia(FdtWriter& w, const Riscv64DtConfig& c) {
  w.begin_node(fmt::format("interrupt-controller@{:x}", riscv64::kAplicBase));
  w.property_string("compatible", "riscv,aplic");
  w.property_u64s("reg", {riscv64::kAplicBase, riscv64::kAplicSize});
  w.property_u32("#interrupt-cells", 2);
  w.property_u32("#address-cells", 0);
  w.property_empty("interrupt-controller");
  w.property_u32("msi-parent", kRiscvImsicPhandle);
  w.property_u32("riscv,num-sources", riscv64::kPlicNumSources);
  w.property_u32("phandle", kRiscvIrqchipPhandle);
  w.end_node();

  w.begin_node(fmt::format("interrupt-controller@{:x}", riscv64::kImsicBase));
  w.property_string("compatible", "riscv,imsics");
  w.property_u64s("reg", {riscv64::kImsicBase, riscv64::kImsicSizePerHart * c.cpus});
  w.property_u32("#interrupt-cells", 0);
  w.property_u32("#address-cells", 0);
  w.property_empty("interrupt-controller");
  w.property_empty("msi-controller");
  w.property_u32("riscv,num-ids", riscv64::kImsicNumIds);
  w.property_cells("interrupts-extended", per_hart_external_irqs(c.cpus));
  w.property_u32("phandle", kRiscvImsicPhandle);
  w.end_node();
}

void add_unique(std::vector<std::string>& list, std::string name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(std::move(name));
}

}  // namespace

loader::Result<std::vector<std::string>> riscv_isa_extensions(std::string_view isa) {
  if (!isa.starts_with("rv64"))
    return fail(ErrorCode::kInvalidArgument, "riscv,isa \"{}\": does not start with \"rv64\"", isa);
  for (size_t i = 0; i < isa.size(); ++i) {
    char ch = isa[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
      return fail(ErrorCode::kInvalidArgument, "riscv,isa \"{}\": character {:#x} at offset {} is not [a-z0-9_]", isa,
                  static_cast<unsigned char>(ch), i);
  }
  std::vector<std::string> out;
  std::string_view rest = isa.substr(4);
  size_t underscore = rest.find('_');
  std::string_view letters = rest.substr(0, underscore);
  for (char ch : letters) {
    if (ch >= '0' && ch <= '9')
      return fail(ErrorCode::kInvalidArgument, "riscv,isa \"{}\": version numbers are not supported", isa);
    if (ch == 'g') {
      for (const char* e : {"i", "m", "a", "f", "d", "zicsr", "zifencei"}) add_unique(out, e);
    } else {
      add_unique(out, std::string(1, ch));
    }
  }
  if (underscore != std::string_view::npos) {
    // Every "_" must be followed by a non-empty name: "rv64i_" and "__" are typos.
    std::string_view multi = rest.substr(underscore + 1);
    for (;;) {
      size_t next = multi.find('_');
      std::string_view name = multi.substr(0, next);
      if (name.empty())
        return fail(ErrorCode::kInvalidArgument, "riscv,isa \"{}\": empty extension name after '_'", isa);
      add_unique(out, std::string(name));
      if (next == std::string_view::npos) break;
      multi = multi.substr(next + 1);
    }
  }
  if (std::find(out.begin(), out.end(), "i") == out.end())
    return fail(ErrorCode::kInvalidArgument, "riscv,isa \"{}\": base integer ISA \"i\" is missing", isa);
  add_unique(out, "zicsr");
  add_unique(out, "zifencei");
  return out;
}

DtIrqContext riscv64_dt_irq_context(uint32_t cpus, RiscvInterruptController irqchip) {
  DtIrqContext irq;
  irq.interrupt_parent = kRiscvIrqchipPhandle;
  irq.cpus = cpus;
  for (uint32_t hart = 0; hart < cpus; ++hart) irq.cpu_intc_phandles.push_back(riscv_cpu_intc_phandle(hart));
  if (irqchip == RiscvInterruptController::kPlic) {
    irq.cells = [](uint32_t source, IrqTrigger) { return std::vector<uint32_t>{source}; };
  } else {
    irq.cells = [](uint32_t source, IrqTrigger trigger) {
      return std::vector<uint32_t>{source, trigger == IrqTrigger::kLevel ? kIrqLevelHigh : kIrqEdgeRising};
    };
  }
  return irq;
}

loader::Result<std::vector<std::byte>> build_riscv64_dtb(const Riscv64DtConfig& config) {
  if (auto r = validate(config); !r) return std::unexpected(r.error());
  std::vector<std::string> extensions = config.isa_extensions;
  if (extensions.empty()) {
    auto derived = riscv_isa_extensions(config.isa);
    if (!derived) return std::unexpected(loader::with_context(derived.error(), "riscv64 device tree"));
    extensions = std::move(*derived);
  }

  FdtWriter w;
  w.begin_node("");
  w.property_string("compatible", "riscv-virtio");
  w.property_string("model", "minivmm riscv64");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  // No root interrupt-parent: the per-hart cpu-intc nodes would inherit it
  // and become children of the PLIC/APLIC, whose own parents are those
  // cpu-intcs; Linux's of_irq_init then finds no root controller and panics
  // ("No interrupt controller found"). Each device names its parent instead.

  detail::write_memory_node(w, config.ram);

  write_cpus(w, config, extensions);
  // The userspace PLIC is a device of the VMM and writes its own node; the
  // in-kernel AIA is the host's.
  if (config.irqchip == RiscvInterruptController::kAia) write_aia(w, config);
  const DtIrqContext irq = riscv64_dt_irq_context(config.cpus, config.irqchip);
  for (const auto& node : config.platform.dt_nodes) node(w, irq);
  detail::write_chosen_node(
      w, {config.cmdline, config.platform.stdout_path, config.initrd, config.rng_seed, config.kaslr_seed});
  return detail::finish_dt(w, kWhat);
}

loader::Result<GuestAddress> place_riscv64_dtb(loader::GuestMemory& mem, const Riscv64DtConfig& config) {
  return detail::place_dt(mem, loader::Arch::kRiscv64, config.ram, [&] { return build_riscv64_dtb(config); });
}

}  // namespace boot
