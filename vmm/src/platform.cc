#include "vmm/platform.h"

#include "boot/layout_x86.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/plic.h"

namespace vmm {

Result<void> Platform::add(std::shared_ptr<devices::PlatformDevice> device) {
  if (auto r = devices::map_windows(device, pio_, mmio_); !r) return fail("{}", r.error().message);
  devices_.push_back(std::move(device));
  return {};
}

boot::PlatformDescription Platform::describe() const {
  boot::PlatformDescription out;
  for (const auto& d : devices_) d->describe(out);
  return out;
}

std::string Platform::cmdline(const Options& options) const {
  if (options.cmdline) return *options.cmdline;
  std::string line;
  for (const auto& word : describe().default_cmdline) line += (line.empty() ? "" : " ") + word;
  return line;
}

void Platform::connect_irqs(const std::function<devices::IrqLine(const devices::IrqRequest&)>& make_line) {
  for (const auto& d : devices_) {
    std::vector<devices::IrqLine> lines;
    for (const auto& request : d->irqs()) lines.push_back(make_line(request));
    if (!lines.empty()) d->connect_irqs(std::move(lines));
  }
}

boot::X86BootRequest x86_boot_request(const Options& options, const Platform& platform) {
  boot::X86BootRequest request;
  request.kernel = options.kernel;
  request.initrd = options.initrd;
  request.cmdline = platform.cmdline(options);
  request.cpus = options.cpus;
  request.entry = options.boot == BootMode::kPvh     ? boot::X86EntryChoice::kPvh
                  : options.boot == BootMode::kLinux ? boot::X86EntryChoice::kLinux
                                                     : boot::X86EntryChoice::kAuto;
  request.platform = platform.describe();
  return request;
}

namespace {

using devices::BusKind;
using devices::SerialPlacement;

Result<void> add_x86_64(Platform& p, PlatformSinks& sinks) {
  namespace x86 = boot::x86;
  for (auto r : {
           p.add(std::make_shared<devices::Serial16550a>(SerialPlacement{BusKind::kPio, x86::kCom1Port, x86::kCom1Irq},
                                                         sinks.console_output)),
           p.add(std::make_shared<devices::I8042>(sinks.control)),
           p.add(std::make_shared<devices::CmosRtc>()),
           p.add(std::make_shared<devices::AcpiPm>(x86::kAcpiPm1aEvtPort, x86::kAcpiS5SlpTyp, sinks.control)),
           p.add(std::make_shared<devices::PostCode>()),
       }) {
    if (!r) return r;
  }
  return {};
}

Result<void> add_aarch64(Platform& p, PlatformSinks& sinks) {
  namespace a = boot::aarch64;
  return p.add(std::make_shared<devices::Serial16550a>(
      SerialPlacement{BusKind::kMmio, a::kUartBase, a::kUartSpi, 0, a::kUartClockHz, a::kUartSize}, sinks.console_output));
}

Result<void> add_riscv64(Platform& p, const Options& options, PlatformSinks& sinks) {
  namespace rv = boot::riscv64;
  // One context per hart (its S-mode external interrupt); the VMM connects them to KVM.
  auto plic = devices::Plic::create(rv::kPlicNumSources, options.cpus, {});
  if (!plic) return fail("PLIC: {}", plic.error().message);
  (*plic)->place(rv::kPlicBase, rv::kPlicSize);
  for (auto r : {
           p.add(*plic),
           p.add(std::make_shared<devices::Serial16550a>(
               SerialPlacement{BusKind::kMmio, rv::kUartBase, rv::kUartIrq, 0, rv::kUartClockHz, rv::kUartSize},
               sinks.console_output)),
       }) {
    if (!r) return r;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Platform>> build_platform(loader::Arch arch, const Options& options, PlatformSinks sinks) {
  auto platform = std::make_unique<Platform>();
  Result<void> r;
  switch (arch) {
    case loader::Arch::kX86_64: r = add_x86_64(*platform, sinks); break;
    case loader::Arch::kAarch64: r = add_aarch64(*platform, sinks); break;
    case loader::Arch::kRiscv64: r = add_riscv64(*platform, options, sinks); break;
  }
  if (!r) return std::unexpected(r.error());
  return platform;
}

}  // namespace vmm
