#include "vmm/dry_run_command.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vmm/exit_codes.h"
#include "vmm/inspect_command.h"
#include "vmm/platform.h"
#include "vmm/text.h"

namespace vmm {
namespace {

std::string_view kind_text(PlanRangeKind kind) {
  switch (kind) {
    case PlanRangeKind::kRam: return "ram";
    case PlanRangeKind::kReserved: return "reserved";
    case PlanRangeKind::kMmio: return "mmio";
    case PlanRangeKind::kData: return "data";
  }
  return "?";
}

std::string flags_text(uint64_t value, std::initializer_list<std::pair<uint64_t, std::string_view>> bits) {
  std::string out;
  for (const auto& [bit, name] : bits) {
    if (!(value & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "-" : out;
}

void reg(std::string& out, std::string_view name, uint64_t value, std::string_view note = {}) {
  if (note.empty()) {
    out += fmt::format("  {:<7}{:#018x}\n", name, value);
  } else {
    out += fmt::format("  {:<7}{:#018x}  {}\n", name, value, note);
  }
}

void segment(std::string& out, std::string_view name, const boot::Segment& s) {
  if (s.unusable) {
    out += fmt::format("  {:<7}unusable\n", name);
    return;
  }
  out += fmt::format("  {:<7}selector={:#06x} base={:#x} limit={:#x} type={:#x} s={} dpl={} p={} db={} l={} g={}\n", name,
                     s.selector, s.base, s.limit, s.type, s.s, s.dpl, s.present, s.db, s.l, s.g);
}

void x86_registers(std::string& out, const boot::X86EntryState& e, std::string_view protocol) {
  const bool pvh = protocol.starts_with("pvh");
  reg(out, "RIP", e.regs.rip, "entry");
  reg(out, "RSP", e.regs.rsp);
  reg(out, "RSI", e.regs.rsi, pvh ? "" : "zero page (struct boot_params)");
  reg(out, "RBX", e.regs.rbx, pvh ? "hvm_start_info" : "");
  reg(out, "RFLAGS", e.regs.rflags);
  reg(out, "CR0", e.sregs.cr0, flags_text(e.sregs.cr0, {{boot::kCr0Pe, "PE"}, {boot::kCr0Et, "ET"}, {boot::kCr0Pg, "PG"}}));
  reg(out, "CR3", e.sregs.cr3, e.sregs.cr3 ? "PML4" : "");
  reg(out, "CR4", e.sregs.cr4, flags_text(e.sregs.cr4, {{boot::kCr4Pae, "PAE"}}));
  reg(out, "EFER", e.sregs.efer, flags_text(e.sregs.efer, {{boot::kEferLme, "LME"}, {boot::kEferLma, "LMA"}}));
  segment(out, "CS", e.sregs.cs);
  segment(out, "DS", e.sregs.ds);
  segment(out, "ES", e.sregs.es);
  segment(out, "FS", e.sregs.fs);
  segment(out, "GS", e.sregs.gs);
  segment(out, "SS", e.sregs.ss);
  segment(out, "TR", e.sregs.tr);
  out += fmt::format("  {:<7}base={:#x} limit={:#x}\n", "GDTR", e.sregs.gdt.base, e.sregs.gdt.limit);
  out += fmt::format("  {:<7}base={:#x} limit={:#x}\n", "IDTR", e.sregs.idt.base, e.sregs.idt.limit);
}

void aarch64_registers(std::string& out, const boot::Aarch64EntryState& e) {
  reg(out, "PC", e.pc, "kernel entry");
  std::string pstate = (e.pstate & 0xf) == boot::kPstateModeEl1h ? "EL1h" : "mode?";
  if ((e.pstate & boot::kPstateDaifMask) == boot::kPstateDaifMask) pstate += ", DAIF masked";
  reg(out, "PSTATE", e.pstate, pstate);
  reg(out, "x0", e.x0, "device tree");
  reg(out, "x1", e.x1);
  reg(out, "x2", e.x2);
  reg(out, "x3", e.x3);
}

void riscv64_registers(std::string& out, const boot::Riscv64EntryState& e) {
  reg(out, "PC", e.pc, "kernel entry");
  reg(out, "a0", e.a0, "hart id");
  reg(out, "a1", e.a1, "device tree");
  reg(out, "satp", e.satp, e.satp == 0 ? "MMU off" : "");
}

}  // namespace

std::string format_plan(const BootPlan& plan) {
  std::string out;
  out += fmt::format("Dry run: {} guest, {} RAM, {} vCPU{} (nothing ran; /dev/kvm was not opened)\n",
                     loader::to_string(plan.arch), human_size(plan.memory), plan.cpus, plan.cpus == 1 ? "" : "s");
  out += fmt::format("Boot protocol: {}\n", plan.protocol);
  out += fmt::format("Command line:  \"{}\" ({} bytes)\n", escape_control(plan.cmdline), plan.cmdline.size());
  if (plan.dtb_address)
    out += fmt::format("Device tree:   {:#x}, {} bytes\n", *plan.dtb_address, plan.dtb.size());

  out += "\nGuest memory layout (by address; end is exclusive):\n";
  out += fmt::format("  {:<18}  {:<18}  {:<18}  {:>10}  {:<8}  {}\n", "start", "end", "size", "", "kind", "what");
  for (const auto& r : plan.layout) {
    // Every range was placed inside the 64-bit space; saturate only for printing.
    uint64_t end = r.size > ~r.address ? ~uint64_t{0} : r.address + r.size;
    out += fmt::format("  {:#018x}  {:#018x}  {:#018x}  {:>10}  {:<8}  {}\n", r.address, end, r.size,
                       human_size(r.size), kind_text(r.kind), r.name);
  }

  out += "\nDevices:\n";
  for (const auto& d : plan.devices) {
    std::string windows, irqs;
    for (const auto& w : d.windows) windows += (windows.empty() ? "" : ", ") + w;
    for (const auto& i : d.irqs) irqs += (irqs.empty() ? "" : ", ") + i;
    out += fmt::format("  {:<12}  {}{}\n", d.name, windows, irqs.empty() ? "" : "; irq " + irqs);
  }

  out += "\nEntry registers (boot vCPU):\n";
  if (const auto* x86 = std::get_if<boot::X86EntryState>(&plan.entry)) x86_registers(out, *x86, plan.protocol);
  if (const auto* a64 = std::get_if<boot::Aarch64EntryState>(&plan.entry)) aarch64_registers(out, *a64);
  if (const auto* rv = std::get_if<boot::Riscv64EntryState>(&plan.entry)) riscv64_registers(out, *rv);
  return out;
}

int run_dry_run(const Options& options, std::FILE* out, std::FILE* err) {
  auto plan = plan_boot(options);
  if (!plan) {
    const std::string& message = plan.error().message;
    // Name the kernel unless the message already names what it is about.
    bool named = message.starts_with(options.kernel) || message.starts_with("--") ||
                 (options.initrd && message.starts_with(*options.initrd));
    fmt::print(err, "{}\n", named ? "vmm: " + escape_control(message) : error_line(options.kernel, message));
    return user_input_exit_code(message) == kExitUsage ? kExitUsage : kExitLoad;
  }
  if (options.dump_dtb) {
    std::ofstream file(*options.dump_dtb, std::ios::binary | std::ios::trunc);
    if (file) file.write(reinterpret_cast<const char*>(plan->dtb.data()), static_cast<std::streamsize>(plan->dtb.size()));
    if (file) file.close();
    if (!file) {
      fmt::print(err, "vmm: --dump-dtb {}: cannot write: {}\n", escape_control(*options.dump_dtb), std::strerror(errno));
      return kExitUsage;
    }
  }
  std::string text = format_plan(*plan);
  if (options.dump_dtb) text += fmt::format("\nDevice tree written to {}\n", escape_control(*options.dump_dtb));
  fmt::print(out, "{}", text);
  std::fflush(out);
  return kExitOk;
}

}  // namespace vmm
