// The platform description the VMM's own devices produce, for boot tests
// that check whole device trees and DSDTs (the devices describe
// themselves; boot/ only places what they describe).
#pragma once

#include <algorithm>
#include <memory>

#include "boot/layout_x86.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "boot/platform_description.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/plic.h"
#include "devices/serial_16550a.h"

namespace boot_test {

inline boot::PlatformDescription aarch64_devices(uint64_t uart_base = boot::aarch64::kUartBase,
                                                 uint32_t uart_spi = boot::aarch64::kUartSpi) {
  boot::PlatformDescription d;
  devices::Serial16550a uart({devices::BusKind::kMmio, uart_base, uart_spi, 0, boot::aarch64::kUartClockHz,
                              boot::aarch64::kUartSize},
                             {});
  uart.describe(d);
  return d;
}

inline boot::PlatformDescription riscv64_devices(uint32_t cpus, bool with_plic = true,
                                                 uint32_t uart_irq = boot::riscv64::kUartIrq) {
  boot::PlatformDescription d;
  if (with_plic) {
    // A tree for an out-of-range hart count is refused by the builder; the PLIC just needs a valid count.
    auto plic = devices::Plic::create(boot::riscv64::kPlicNumSources, std::max(cpus, 1u), {});
    if (!plic) return d;
    (*plic)->place(boot::riscv64::kPlicBase, boot::riscv64::kPlicSize);
    (*plic)->describe(d);
  }
  devices::Serial16550a uart({devices::BusKind::kMmio, boot::riscv64::kUartBase, uart_irq, 0,
                              boot::riscv64::kUartClockHz, boot::riscv64::kUartSize},
                             {});
  uart.describe(d);
  return d;
}

inline boot::PlatformDescription x86_devices() {
  boot::PlatformDescription d;
  devices::Serial16550a({devices::BusKind::kPio, boot::x86::kCom1Port, boot::x86::kCom1Irq}, {}).describe(d);
  devices::I8042(devices::MachineControl{}).describe(d);
  devices::CmosRtc().describe(d);
  devices::AcpiPm(boot::x86::kAcpiPm1aEvtPort, boot::x86::kAcpiS5SlpTyp, devices::MachineControl{}).describe(d);
  return d;
}

}  // namespace boot_test
