#include "vmm/platform.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <algorithm>

#include "boot/dtb_aarch64.h"
#include "boot/dtb_riscv64.h"
#include "devices/plic.h"

namespace vmm {
namespace {

PlatformSinks no_sinks() {
  return {[](devices::MachineRequest, std::string_view) {}, [](std::byte) {}};
}

Options options_for(loader::Arch arch, uint32_t cpus = 1) {
  Options o;
  o.arch = arch;
  o.cpus = cpus;
  return o;
}

TEST(Platform, X86HasThePcDevicesOnTheirPorts) {
  auto p = build_platform(loader::Arch::kX86_64, options_for(loader::Arch::kX86_64), no_sinks());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ((*p)->pio().name_at(0x3f8), "serial0");
  EXPECT_EQ((*p)->pio().name_at(0x60), "i8042 data");
  EXPECT_EQ((*p)->pio().name_at(0x64), "i8042 command");
  EXPECT_EQ((*p)->pio().name_at(0x71), "cmos rtc");
  EXPECT_EQ((*p)->pio().name_at(0x80), "post code");
  EXPECT_EQ((*p)->pio().name_at(0x604), "acpi pm1a");
  ASSERT_NE((*p)->console(), nullptr);
  auto d = (*p)->describe();
  EXPECT_EQ(d.dsdt_sb.size(), 3u) << "COM1, PS2K, RTC_";
  EXPECT_EQ(d.dsdt_root.size(), 1u) << "\\_S5_";
  EXPECT_TRUE(d.dt_nodes.empty());
}

TEST(Platform, DefaultCommandLineComesFromTheConsoleDevice) {
  Options o = options_for(loader::Arch::kX86_64);
  auto p = build_platform(o.arch, o, no_sinks());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ((*p)->cmdline(o), "console=ttyS0");
  o.cmdline = "";
  EXPECT_EQ((*p)->cmdline(o), "") << "an explicitly empty command line stays empty";
  o.cmdline = "quiet";
  EXPECT_EQ((*p)->cmdline(o), "quiet");
}

TEST(Platform, Aarch64UartNodeInTheDeviceTree) {
  Options o = options_for(loader::Arch::kAarch64);
  auto p = build_platform(o.arch, o, no_sinks());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ((*p)->mmio().name_at(0x0900'0000), "serial0");
  boot::Aarch64DtConfig c;
  c.ram = {loader::GuestAddress(0x8000'0000), 128ull << 20};
  c.platform = (*p)->describe();
  auto dtb = boot::build_aarch64_dtb(c);
  ASSERT_TRUE(dtb.has_value()) << dtb.error().message;
  const void* fdt = dtb->data();
  int node = fdt_path_offset(fdt, "/serial@9000000");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* irq = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "interrupts", &len));
  ASSERT_EQ(len, 12);
  EXPECT_EQ(fdt32_to_cpu(irq[0]), 0u);  // SPI
  EXPECT_EQ(fdt32_to_cpu(irq[1]), 1u);
  EXPECT_EQ(fdt32_to_cpu(irq[2]), 4u);  // level high
  int chosen = fdt_path_offset(fdt, "/chosen");
  auto* stdout_path = static_cast<const char*>(fdt_getprop(fdt, chosen, "stdout-path", &len));
  ASSERT_NE(stdout_path, nullptr);
  EXPECT_STREQ(stdout_path, "/serial@9000000");
}

TEST(Platform, Riscv64PlicIsADeviceAndTheUartHangsOffIt) {
  Options o = options_for(loader::Arch::kRiscv64, 3);
  auto p = build_platform(o.arch, o, no_sinks());
  ASSERT_TRUE(p.has_value());
  auto plic = (*p)->find<devices::Plic>();
  ASSERT_NE(plic, nullptr);
  EXPECT_EQ(plic->num_contexts(), 3u) << "one context per hart";
  EXPECT_EQ((*p)->mmio().name_at(0x0c00'0000), "plic");
  boot::Riscv64DtConfig c;
  c.ram = {loader::GuestAddress(0x8000'0000), 256ull << 20};
  c.cpus = 3;
  c.platform = (*p)->describe();
  auto dtb = boot::build_riscv64_dtb(c);
  ASSERT_TRUE(dtb.has_value()) << dtb.error().message;
  const void* fdt = dtb->data();
  int plic_node = fdt_path_offset(fdt, "/interrupt-controller@c000000");
  ASSERT_GE(plic_node, 0);
  int len = 0;
  fdt_getprop(fdt, plic_node, "interrupts-extended", &len);
  EXPECT_EQ(len, 3 * 2 * 4) << "each hart's cpu-intc and IRQ 9";
  EXPECT_EQ(fdt_get_phandle(fdt, plic_node), boot::kRiscvIrqchipPhandle);
  int uart = fdt_path_offset(fdt, "/serial@10000000");
  ASSERT_GE(uart, 0);
  auto* irq = static_cast<const fdt32_t*>(fdt_getprop(fdt, uart, "interrupts", &len));
  ASSERT_EQ(len, 4);
  EXPECT_EQ(fdt32_to_cpu(*irq), 10u);
}

TEST(Platform, ConnectIrqsHandsEachDeviceItsLines) {
  Options o = options_for(loader::Arch::kX86_64);
  auto p = build_platform(o.arch, o, no_sinks());
  ASSERT_TRUE(p.has_value());
  std::vector<uint32_t> asked;
  std::vector<std::pair<uint32_t, bool>> raised;
  (*p)->connect_irqs([&](const devices::IrqRequest& r) {
    asked.push_back(r.line);
    return [&raised, line = r.line](bool level) { raised.emplace_back(line, level); };
  });
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<uint32_t>{1, 4, 12}));
  // Enable the UART's THR-empty interrupt: it fires at once on line 4.
  auto uart = (*p)->console();
  std::byte ier{devices::Serial16550a::kIerThre};
  uart->write(devices::Serial16550a::kIer, std::span(&ier, 1));
  ASSERT_FALSE(raised.empty());
  EXPECT_EQ(raised.back(), (std::pair<uint32_t, bool>{4, true}));
}

TEST(Platform, GuestRequestsReachTheMachineControl) {
  std::vector<devices::MachineRequest> seen;
  PlatformSinks sinks{[&](devices::MachineRequest r, std::string_view) { seen.push_back(r); }, [](std::byte) {}};
  Options o = options_for(loader::Arch::kX86_64);
  auto p = build_platform(o.arch, o, sinks);
  ASSERT_TRUE(p.has_value());
  std::byte pulse_reset{0xfe};
  (*p)->pio().write(0x64, std::span(&pulse_reset, 1));
  // ACPI S5: SLP_TYP 5 | SLP_EN to PM1a control (0x604).
  uint16_t s5 = (5u << 10) | (1u << 13);
  (*p)->pio().write(0x604, std::as_bytes(std::span(&s5, 1)));
  EXPECT_EQ(seen, (std::vector<devices::MachineRequest>{devices::MachineRequest::kReset,
                                                        devices::MachineRequest::kPowerOff}));
}

}  // namespace
}  // namespace vmm
