#include "vmm/platform.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <algorithm>

#include "boot/dtb_aarch64.h"
#include "boot/dtb_riscv64.h"
#include "devices/pci/pci_root.h"
#include "devices/plic.h"
#include "devices/virtio/virtio_mmio_device.h"
#include "vmm/exit_codes.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vmm {
namespace {

// Virtio devices only touch guest memory once a driver activates them.
loader::GuestMemory& test_memory() {
  static loader::GuestMemory memory = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), 0x200000}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return memory;
}

PlatformSinks no_sinks() {
  return {[](devices::MachineRequest, std::string_view) {}, [](std::byte) {}};
}

// With the PCI transport: most tests here are about the virtio devices.
Options options_for(loader::Arch arch, uint32_t cpus = 1) {
  Options o;
  o.arch = arch;
  o.cpus = cpus;
  o.transport = VirtioTransport::kPci;
  return o;
}

TEST(Platform, VirtioTransportNoneLeavesTheBridgeOut) {
  Options o;
  o.arch = loader::Arch::kX86_64;
  o.transport = VirtioTransport::kNone;
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ((*p)->pio().name_at(0xcf8), "") << "no PCI host bridge without --virtio-transport";
  auto d = (*p)->describe();
  EXPECT_EQ(d.dsdt_sb.size(), 3u) << "COM1, PS2K, RTC_";
  EXPECT_TRUE(d.acpi_tables.empty());
}

TEST(Platform, X86HasThePcDevicesOnTheirPorts) {
  auto p = build_platform(loader::Arch::kX86_64, options_for(loader::Arch::kX86_64), no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ((*p)->pio().name_at(0x3f8), "serial0");
  EXPECT_EQ((*p)->pio().name_at(0x60), "i8042 data");
  EXPECT_EQ((*p)->pio().name_at(0x64), "i8042 command");
  EXPECT_EQ((*p)->pio().name_at(0x71), "cmos rtc");
  EXPECT_EQ((*p)->pio().name_at(0x80), "post code");
  EXPECT_EQ((*p)->pio().name_at(0x604), "acpi pm1a");
  ASSERT_NE((*p)->console(), nullptr);
  auto d = (*p)->describe();
  EXPECT_EQ(d.dsdt_sb.size(), 5u) << "COM1, PS2K, RTC_, PCI0, MRES";
  EXPECT_EQ(d.dsdt_root.size(), 1u) << "\\_S5_";
  EXPECT_TRUE(d.dt_nodes.empty());
}

TEST(Platform, DefaultCommandLineComesFromTheConsoleDevice) {
  Options o = options_for(loader::Arch::kX86_64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ((*p)->cmdline(o), "console=ttyS0");
  o.cmdline = "";
  EXPECT_EQ((*p)->cmdline(o), "") << "an explicitly empty command line stays empty";
  o.cmdline = "quiet";
  EXPECT_EQ((*p)->cmdline(o), "quiet");
}

TEST(Platform, Aarch64UartNodeInTheDeviceTree) {
  Options o = options_for(loader::Arch::kAarch64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
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
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
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
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value());
  std::vector<uint32_t> asked;
  std::vector<std::pair<uint32_t, bool>> raised;
  (*p)->connect_irqs([&](const devices::IrqRequest& r) {
    asked.push_back(r.line);
    return [&raised, line = r.line](bool level) { raised.emplace_back(line, level); };
  });
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<uint32_t>{1, 4, 12, 16, 17, 18, 19})) << "i8042, COM1, PCI INTx";
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
  auto p = build_platform(o.arch, o, sinks, test_memory());
  ASSERT_TRUE(p.has_value());
  std::byte pulse_reset{0xfe};
  (*p)->pio().write(0x64, std::span(&pulse_reset, 1));
  // ACPI S5: SLP_TYP 5 | SLP_EN to PM1a control (0x604).
  uint16_t s5 = (5u << 10) | (1u << 13);
  (*p)->pio().write(0x604, std::as_bytes(std::span(&s5, 1)));
  EXPECT_EQ(seen, (std::vector<devices::MachineRequest>{devices::MachineRequest::kReset,
                                                        devices::MachineRequest::kPowerOff}));
}


// A small raw image in the test's temporary directory.
class TempImage {
 public:
  TempImage() {
    path_ = (std::filesystem::temp_directory_path() / ("platform_test_" + std::to_string(getpid()) + "_" +
                                                       std::to_string(counter_++) + ".img")).string();
    std::ofstream(path_, std::ios::binary) << std::string(1 << 16, '\0');
  }
  ~TempImage() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::vector<std::string> mmio_device_names(const Platform& p) {
  std::vector<std::string> names;
  for (const auto& d : p.devices())
    if (auto v = std::dynamic_pointer_cast<devices::virtio::VirtioMmioDevice>(d)) names.emplace_back(v->device().name());
  return names;
}

TEST(Platform, X86PciTransportPutsVirtioFunctionsBehindTheBridge) {
  TempImage image;
  Options o = options_for(loader::Arch::kX86_64);
  o.disks.push_back(DiskOptions{image.path(), true, "disk0", DiskCache::kWriteback});
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto root = (*p)->find<devices::pci::PciRoot>();
  ASSERT_NE(root, nullptr);
  ASSERT_NE(root->bridge().device(1), nullptr);
  EXPECT_EQ(root->bridge().device(1)->name(), "virtio-console");
  ASSERT_NE(root->bridge().device(2), nullptr);
  EXPECT_EQ(root->bridge().device(2)->name(), "virtio-rng");
  ASSERT_NE(root->bridge().device(3), nullptr);
  EXPECT_EQ(root->bridge().device(3)->name(), "virtio-blk");
  EXPECT_EQ(root->bridge().device(4), nullptr);
  EXPECT_EQ((*p)->pio().name_at(0xcf8), "pci cf8 latch");
  EXPECT_EQ((*p)->pio().name_at(0xcfc), "pci cfc data");
  EXPECT_EQ((*p)->mmio().name_at(0xe000'0000), "pci ecam");
  EXPECT_TRUE(mmio_device_names(**p).empty());
  auto d = (*p)->describe();
  ASSERT_EQ(d.acpi_tables.size(), 1u);
  EXPECT_EQ(std::string(d.acpi_tables[0].begin(), d.acpi_tables[0].begin() + 4), "MCFG");
  EXPECT_TRUE(d.dt_nodes.empty());
}

TEST(Platform, NoRngLeavesItOut) {
  Options o = options_for(loader::Arch::kX86_64);
  o.rng = false;
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto root = (*p)->find<devices::pci::PciRoot>();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->bridge().device(1)->name(), "virtio-console");
  EXPECT_EQ(root->bridge().device(2), nullptr);
}

TEST(Platform, X86MmioTransportDescribesLnro0005Devices) {
  Options o = options_for(loader::Arch::kX86_64);
  o.transport = VirtioTransport::kMmio;
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ((*p)->find<devices::pci::PciRoot>(), nullptr);
  EXPECT_EQ(mmio_device_names(**p), (std::vector<std::string>{"virtio-console", "virtio-rng"}));
  EXPECT_EQ((*p)->mmio().name_at(0xe010'0000), "virtio-mmio0 virtio-console");
  EXPECT_EQ((*p)->mmio().name_at(0xe010'0200), "virtio-mmio1 virtio-rng");
  auto d = (*p)->describe();
  EXPECT_EQ(d.dsdt_sb.size(), 5u) << "COM1, PS2K, RTC_, VR00, VR01";
  EXPECT_TRUE(d.acpi_tables.empty());
}

template <class T>
void put(loader::GuestMemory& mem, uint64_t address, T value) {
  ASSERT_TRUE(mem.write(loader::GuestAddress(address), std::as_bytes(std::span(&value, 1))).has_value());
}

TEST(Platform, VirtioConsoleTransmitsToTheConsoleSink) {
  std::string out;
  PlatformSinks sinks{[](devices::MachineRequest, std::string_view) {}, [&](std::byte b) { out += static_cast<char>(b); }, {}};
  Options o = options_for(loader::Arch::kAarch64);
  o.transport = VirtioTransport::kMmio;
  o.rng = false;
  auto p = build_platform(o.arch, o, sinks, test_memory());
  ASSERT_TRUE(p.has_value());
  devices::Bus& bus = (*p)->mmio();
  const uint64_t base = 0x0a00'0000;  // slot 0: the console
  auto reg = [&](uint64_t offset, uint32_t value) {
    ASSERT_TRUE(bus.write(base + offset, std::as_bytes(std::span(&value, 1))));
  };
  using M = devices::virtio::VirtioMmio;
  // A driver's bring-up: features (VERSION_1 only), both queues of 8, DRIVER_OK.
  reg(M::kStatus, 1);
  reg(M::kStatus, 3);
  reg(M::kDriverFeaturesSel, 1);
  reg(M::kDriverFeatures, 1);
  reg(M::kDriverFeaturesSel, 0);
  reg(M::kDriverFeatures, 0);
  reg(M::kStatus, 11);
  loader::GuestMemory& mem = test_memory();
  for (uint32_t q : {0u, 1u}) {
    const uint64_t ring = 0x10000 + q * 0x1000;
    reg(M::kQueueSel, q);
    reg(M::kQueueNum, 8);
    reg(M::kQueueDescLow, static_cast<uint32_t>(ring));
    reg(M::kQueueDriverLow, static_cast<uint32_t>(ring + 0x100));
    reg(M::kQueueDeviceLow, static_cast<uint32_t>(ring + 0x200));
    reg(M::kQueueReady, 1);
  }
  reg(M::kStatus, 15);
  // transmitq: one descriptor holding "hi", published in the avail ring.
  const uint64_t tx = 0x11000;
  const char text[] = "hi";
  ASSERT_TRUE(mem.write(loader::GuestAddress(0x13000), std::as_bytes(std::span(text, 2))).has_value());
  put<uint64_t>(mem, tx, 0x13000);
  put<uint32_t>(mem, tx + 8, 2);
  put<uint16_t>(mem, tx + 12, 0);
  put<uint16_t>(mem, tx + 0x100 + 4, 0);  // ring[0] = descriptor 0
  put<uint16_t>(mem, tx + 0x100 + 2, 1);  // idx
  reg(M::kQueueNotify, 1);
  EXPECT_EQ(out, "hi");
  reg(M::kStatus, 0);  // reset: the shared test memory is left unused
}

TEST(Platform, MissingDiskIsAUserErrorNamingThePath) {
  Options o = options_for(loader::Arch::kX86_64);
  o.disks.push_back(DiskOptions{"/nonexistent/minivmm-disk.img", false, "", DiskCache::kWriteback});
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  EXPECT_EQ(user_input_exit_code(p.error().message), kExitLoad);
  EXPECT_EQ(user_input_exit_code(p.error().message), kExitLoad);
  EXPECT_NE(p.error().message.find("/nonexistent/minivmm-disk.img"), std::string::npos) << p.error().message;
}

TEST(Platform, MissingShareIsAUserErrorNamingThePath) {
  Options o = options_for(loader::Arch::kX86_64);
  o.shares.push_back(ShareOptions{"/nonexistent/minivmm-share", "data", false, ShareProto::kVirtiofs});
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(user_input_exit_code(p.error().message), kExitUsage) << p.error().message;
  EXPECT_TRUE(p.error().message.starts_with("--share")) << p.error().message;
  EXPECT_NE(p.error().message.find("/nonexistent/minivmm-share"), std::string::npos) << p.error().message;
}

const fdt32_t* prop(const void* fdt, int node, const char* name, int& len) {
  return static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
}

std::vector<std::byte> aarch64_dtb(const Platform& p, bool its = true) {
  boot::Aarch64DtConfig c;
  c.ram = {loader::GuestAddress(0x8000'0000), 512ull << 20};
  c.its = its;
  c.platform = p.describe();
  auto dtb = boot::build_aarch64_dtb(c);
  EXPECT_TRUE(dtb.has_value()) << dtb.error().message;
  return dtb.value_or(std::vector<std::byte>{});
}

std::vector<std::byte> riscv64_dtb(const Platform& p) {
  boot::Riscv64DtConfig c;
  c.ram = {loader::GuestAddress(0x8000'0000), 512ull << 20};
  c.platform = p.describe();
  auto dtb = boot::build_riscv64_dtb(c);
  EXPECT_TRUE(dtb.has_value()) << dtb.error().message;
  return dtb.value_or(std::vector<std::byte>{});
}

int count_compatible(const void* fdt, const char* compatible) {
  int n = 0;
  for (int node = fdt_node_offset_by_compatible(fdt, -1, compatible); node >= 0;
       node = fdt_node_offset_by_compatible(fdt, node, compatible))
    ++n;
  return n;
}

TEST(Platform, Aarch64MmioNodesReadBackFromTheDeviceTree) {
  TempImage image;
  Options o = options_for(loader::Arch::kAarch64);
  o.transport = VirtioTransport::kMmio;
  o.disks.push_back(DiskOptions{image.path(), false, "", DiskCache::kWriteback});
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto dtb = aarch64_dtb(**p);
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  EXPECT_EQ(count_compatible(fdt, "virtio,mmio"), 3) << "console, rng, disk";
  EXPECT_EQ(count_compatible(fdt, "pci-host-ecam-generic"), 0);
  int node = fdt_path_offset(fdt, "/virtio_mmio@a000400");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* reg = prop(fdt, node, "reg", len);
  ASSERT_EQ(len, 16);
  EXPECT_EQ(fdt32_to_cpu(reg[1]), 0x0a00'0400u);
  EXPECT_EQ(fdt32_to_cpu(reg[3]), 0x200u);
  auto* irq = prop(fdt, node, "interrupts", len);
  ASSERT_EQ(len, 12);
  EXPECT_EQ(fdt32_to_cpu(irq[1]), 18u) << "third slot, SPI 18";
  EXPECT_EQ(fdt32_to_cpu(irq[2]), 4u) << "level high";
  EXPECT_NE(fdt_getprop(fdt, node, "dma-coherent", &len), nullptr);
}

TEST(Platform, Aarch64PciNodeHasRangesAndAFullInterruptMap) {
  Options o = options_for(loader::Arch::kAarch64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto dtb = aarch64_dtb(**p);
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  EXPECT_EQ(count_compatible(fdt, "virtio,mmio"), 0);
  int node = fdt_path_offset(fdt, "/pci@3f000000");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* ranges = prop(fdt, node, "ranges", len);
  ASSERT_EQ(len, 2 * 7 * 4) << "mem32 and mem64-prefetchable";
  EXPECT_EQ(fdt32_to_cpu(ranges[0]), 0x0200'0000u);
  EXPECT_EQ(fdt32_to_cpu(ranges[2]), 0x1000'0000u);
  EXPECT_EQ(fdt32_to_cpu(ranges[7]), 0x4300'0000u);
  auto* map = prop(fdt, node, "interrupt-map", len);
  // 4 slots x 4 pins; child address 3 + pin 1 + phandle 1 + the GIC's unit
  // address 2 (#address-cells 2: it has the ITS as child) + GIC specifier 3.
  ASSERT_EQ(len, 16 * 10 * 4);
  // Slot 1 INTA (entry 4) is bridge line 1: SPI 4.
  const fdt32_t* e = map + 4 * 10;
  EXPECT_EQ(fdt32_to_cpu(e[0]), 1u << 11);
  EXPECT_EQ(fdt32_to_cpu(e[3]), 1u);
  EXPECT_EQ(fdt32_to_cpu(e[4]), boot::kAarch64GicPhandle);
  EXPECT_EQ(fdt32_to_cpu(e[5]), 0u);
  EXPECT_EQ(fdt32_to_cpu(e[6]), 0u);
  EXPECT_EQ(fdt32_to_cpu(e[8]), 4u);
  EXPECT_EQ(fdt32_to_cpu(e[9]), 4u) << "level high";
  auto* mask = prop(fdt, node, "interrupt-map-mask", len);
  ASSERT_EQ(len, 16);
  EXPECT_EQ(fdt32_to_cpu(mask[0]), 0x1800u);
  auto* bus_range = prop(fdt, node, "bus-range", len);
  ASSERT_EQ(len, 8);
  EXPECT_EQ(fdt32_to_cpu(bus_range[1]), 0u);
}

// The guest's PCI MSI domain comes from msi-map: every requester ID (bus 0
// here, 16 bits in general) maps 1:1 to a device ID of the node that has the
// ITS's phandle.
TEST(Platform, Aarch64PciNodeMapsRequesterIdsToTheIts) {
  Options o = options_for(loader::Arch::kAarch64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto dtb = aarch64_dtb(**p);
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  const int its = fdt_path_offset(fdt, "/interrupt-controller@8000000/msi-controller@8080000");
  ASSERT_GE(its, 0);
  const uint32_t its_phandle = fdt_get_phandle(fdt, its);
  ASSERT_NE(its_phandle, 0u);
  EXPECT_NE(its_phandle, boot::kAarch64GicPhandle);
  EXPECT_EQ(fdt_node_check_compatible(fdt, its, "arm,gic-v3-its"), 0);
  int node = fdt_path_offset(fdt, "/pci@3f000000");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* map = prop(fdt, node, "msi-map", len);
  ASSERT_EQ(len, 4 * 4);
  EXPECT_EQ(fdt32_to_cpu(map[0]), 0u) << "from requester ID 0";
  EXPECT_EQ(fdt32_to_cpu(map[1]), its_phandle);
  EXPECT_EQ(fdt32_to_cpu(map[2]), 0u) << "to device ID 0";
  EXPECT_EQ(fdt32_to_cpu(map[3]), 0x10000u) << "every requester ID";

  // Without an ITS (the host's KVM has none): INTx only, and the GIC keeps
  // #address-cells 0, so interrupt-map entries lose the two address cells.
  auto intx = aarch64_dtb(**p, false);
  ASSERT_FALSE(intx.empty());
  fdt = intx.data();
  EXPECT_LT(fdt_path_offset(fdt, "/interrupt-controller@8000000/msi-controller@8080000"), 0);
  node = fdt_path_offset(fdt, "/pci@3f000000");
  ASSERT_GE(node, 0);
  EXPECT_EQ(fdt_getprop(fdt, node, "msi-map", &len), nullptr);
  ASSERT_NE(prop(fdt, node, "interrupt-map", len), nullptr);
  EXPECT_EQ(len, 16 * 8 * 4);
}

TEST(Platform, Riscv64PciInterruptMapUsesPlicSources) {
  Options o = options_for(loader::Arch::kRiscv64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto dtb = riscv64_dtb(**p);
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  int node = fdt_path_offset(fdt, "/pci@30000000");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* map = prop(fdt, node, "interrupt-map", len);
  ASSERT_EQ(len, 16 * 6 * 4) << "one PLIC cell per entry";
  EXPECT_EQ(fdt32_to_cpu(map[5]), 28u) << "slot 0 INTA: the first INTx source";
  EXPECT_EQ(fdt32_to_cpu(map[4]), boot::kRiscvIrqchipPhandle);
}

TEST(Platform, Riscv64MmioSlotsUseSourcesOneUp) {
  Options o = options_for(loader::Arch::kRiscv64);
  o.transport = VirtioTransport::kMmio;
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto dtb = riscv64_dtb(**p);
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  EXPECT_EQ(count_compatible(fdt, "virtio,mmio"), 2);
  int node = fdt_path_offset(fdt, "/virtio_mmio@10001200");
  ASSERT_GE(node, 0);
  int len = 0;
  auto* irq = prop(fdt, node, "interrupts", len);
  ASSERT_EQ(len, 4);
  EXPECT_EQ(fdt32_to_cpu(*irq), 2u);
}

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

TEST(ConsoleIsHvc, TheLastConsoleWordDecides) {
  EXPECT_TRUE(console_is_hvc("root=/dev/vda console=hvc0"));
  EXPECT_TRUE(console_is_hvc("console=ttyS0 console=hvc1 quiet"));
  EXPECT_FALSE(console_is_hvc("console=hvc0 console=ttyS0"));
  EXPECT_FALSE(console_is_hvc("console=ttyS0"));
  EXPECT_FALSE(console_is_hvc(""));
  EXPECT_FALSE(console_is_hvc("earlycon=hvc0 xconsole=hvc0"));
  EXPECT_FALSE(console_is_hvc("console="));
}

TEST(Platform, TheVirtioConsoleIsReachableForInput) {
  auto o = options_for(loader::Arch::kX86_64);
  auto p = build_platform(o.arch, o, no_sinks(), test_memory());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  auto console = (*p)->virtio_console();
  ASSERT_NE(console, nullptr);
  const size_t room = console->input_room();
  EXPECT_GT(room, 0u);
  std::array<std::byte, 10> bytes{};
  EXPECT_EQ(console->enqueue_input(bytes), bytes.size());
  EXPECT_EQ(console->input_room(), room - bytes.size());
  Options none;
  none.arch = loader::Arch::kX86_64;
  none.transport = VirtioTransport::kNone;
  auto q = build_platform(none.arch, none, no_sinks(), test_memory());
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ((*q)->virtio_console(), nullptr);
}

}  // namespace
}  // namespace vmm
