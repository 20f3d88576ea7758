#include "boot/dtb_aarch64.h"
#include "platform_for_tests.h"

#include <gtest/gtest.h>

#include "fdt_test_util.h"

namespace boot {
namespace {

using fdt_test::prop;
using fdt_test::prop_cells;
using fdt_test::prop_string;
using fdt_test::prop_strings;
using loader::ErrorCode;
using loader::GuestAddress;

Aarch64DtConfig base_config(uint32_t cpus = 1, GicVersion gic = GicVersion::kV3) {
  Aarch64DtConfig c;
  c.ram = {GuestAddress(0x8000'0000), 128ull << 20};
  c.cpus = cpus;
  c.cmdline = "console=ttyS0 earlycon";
  c.gic = gic;
  c.platform = boot_test::aarch64_devices();
  return c;
}

std::vector<std::byte> build(const Aarch64DtConfig& c) {
  auto dtb = build_aarch64_dtb(c);
  EXPECT_TRUE(dtb.has_value()) << (dtb ? "" : dtb.error().message);
  return dtb ? *dtb : std::vector<std::byte>{};
}

TEST(DtbAarch64, HeaderIsValid) {
  auto dtb = build(base_config());
  ASSERT_FALSE(dtb.empty());
  EXPECT_EQ(fdt_check_header(dtb.data()), 0);
  EXPECT_EQ(fdt_check_full(dtb.data(), dtb.size()), 0);
  EXPECT_EQ(fdt_totalsize(dtb.data()), dtb.size());
  EXPECT_EQ(fdt_num_mem_rsv(dtb.data()), 0);
}

TEST(DtbAarch64, RootProperties) {
  auto dtb = build(base_config());
  EXPECT_EQ(prop_string(dtb, "/", "compatible"), "linux,dummy-virt");
  EXPECT_EQ(prop_cells(dtb, "/", "#address-cells"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(prop_cells(dtb, "/", "#size-cells"), (std::vector<uint32_t>{2}));
  uint32_t gic = fdt_test::phandle_of(dtb, "/interrupt-controller@8000000");
  EXPECT_NE(gic, 0u);
  EXPECT_EQ(prop_cells(dtb, "/", "interrupt-parent"), (std::vector<uint32_t>{gic}));
}

TEST(DtbAarch64, MemoryNodeBytes) {
  auto dtb = build(base_config());
  EXPECT_EQ(prop_string(dtb, "/memory@80000000", "device_type"), "memory");
  auto reg = prop(dtb, "/memory@80000000", "reg");
  ASSERT_TRUE(reg);
  EXPECT_EQ(*reg, (std::vector<uint8_t>{0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0}));
}

TEST(DtbAarch64, CpuNodes) {
  auto dtb = build(base_config(4));
  EXPECT_EQ(prop_cells(dtb, "/cpus", "#address-cells"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(prop_cells(dtb, "/cpus", "#size-cells"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(fdt_test::subnodes(dtb, "/cpus"), (std::vector<std::string>{"cpu@0", "cpu@1", "cpu@2", "cpu@3"}));
  for (uint32_t i = 0; i < 4; ++i) {
    std::string path = "/cpus/cpu@" + std::to_string(i);
    EXPECT_EQ(prop_string(dtb, path, "device_type"), "cpu");
    EXPECT_EQ(prop_string(dtb, path, "compatible"), "arm,arm-v8");
    EXPECT_EQ(prop_string(dtb, path, "enable-method"), "psci");
    EXPECT_EQ(prop_cells(dtb, path, "reg"), (std::vector<uint32_t>{i}));
  }
}

TEST(DtbAarch64, CpuRegFollowsKvmMpidrBeyondSixteen) {
  auto dtb = build(base_config(18));
  // vCPU 16 and 17 are Aff1 = 1, Aff0 = 0 / 1 in KVM's default MPIDR.
  EXPECT_EQ(prop_cells(dtb, "/cpus/cpu@f", "reg"), (std::vector<uint32_t>{0xf}));
  EXPECT_EQ(prop_cells(dtb, "/cpus/cpu@100", "reg"), (std::vector<uint32_t>{0x100}));
  EXPECT_EQ(prop_cells(dtb, "/cpus/cpu@101", "reg"), (std::vector<uint32_t>{0x101}));
  EXPECT_EQ(fdt_test::subnodes(dtb, "/cpus").size(), 18u);
}

TEST(DtbAarch64, PsciNode) {
  auto dtb = build(base_config());
  EXPECT_EQ(prop_strings(dtb, "/psci", "compatible"), (std::vector<std::string>{"arm,psci-1.0", "arm,psci-0.2"}));
  EXPECT_EQ(prop_string(dtb, "/psci", "method"), "hvc");
  auto c = base_config();
  c.psci = PsciVersion::k0_2;
  auto dtb02 = build(c);
  EXPECT_EQ(prop_strings(dtb02, "/psci", "compatible"), (std::vector<std::string>{"arm,psci-0.2"}));
}

TEST(DtbAarch64, GicV3Node) {
  auto dtb = build(base_config(3));
  const std::string gic = "/interrupt-controller@8000000";
  EXPECT_EQ(prop_string(dtb, gic, "compatible"), "arm,gic-v3");
  EXPECT_TRUE(prop(dtb, gic, "interrupt-controller"));
  EXPECT_EQ(prop(dtb, gic, "interrupt-controller")->size(), 0u);
  EXPECT_EQ(prop_cells(dtb, gic, "#interrupt-cells"), (std::vector<uint32_t>{3}));
  EXPECT_EQ(prop_cells(dtb, gic, "#redistributor-regions"), (std::vector<uint32_t>{1}));
  // Distributor 64 KiB at 0x0800_0000, 3 x 128 KiB redistributors at 0x080a_0000.
  EXPECT_EQ(prop_cells(dtb, gic, "reg"),
            (std::vector<uint32_t>{0, 0x0800'0000, 0, 0x1'0000, 0, 0x080a'0000, 0, 0x6'0000}));
}

TEST(DtbAarch64, ItsNodeUnderTheGic) {
  auto c = base_config(2);
  auto dtb = build(c);
  const std::string gic = "/interrupt-controller@8000000";
  const std::string its = gic + "/msi-controller@8080000";
  EXPECT_EQ(aarch64_its_node_path(c), its);
  EXPECT_EQ(prop_string(dtb, its, "compatible"), "arm,gic-v3-its");
  ASSERT_TRUE(prop(dtb, its, "msi-controller"));
  EXPECT_EQ(prop(dtb, its, "msi-controller")->size(), 0u);
  EXPECT_EQ(prop_cells(dtb, its, "#msi-cells"), (std::vector<uint32_t>{1}));
  // Two 64 KiB frames at 0x0808_0000, between the distributor and the redistributors.
  EXPECT_EQ(prop_cells(dtb, its, "reg"), (std::vector<uint32_t>{0, 0x0808'0000, 0, 0x2'0000}));
  EXPECT_EQ(fdt_test::phandle_of(dtb, its), kAarch64ItsPhandle);
  EXPECT_NE(fdt_test::phandle_of(dtb, its), fdt_test::phandle_of(dtb, gic));
  // The child's reg is read with the GIC's cells, mapped 1:1 by an empty ranges.
  EXPECT_EQ(prop_cells(dtb, gic, "#address-cells"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(prop_cells(dtb, gic, "#size-cells"), (std::vector<uint32_t>{2}));
  ASSERT_TRUE(prop(dtb, gic, "ranges"));
  EXPECT_EQ(prop(dtb, gic, "ranges")->size(), 0u);
  const DtIrqContext irq = aarch64_dt_irq_context(c);
  EXPECT_EQ(irq.msi_parent, kAarch64ItsPhandle);
  EXPECT_EQ(irq.interrupt_parent_address_cells, 2u);
}

TEST(DtbAarch64, NoItsWhenNotAskedForOrOnGicV2) {
  auto no_its = base_config(2);
  no_its.its = false;
  auto v2 = base_config(2, GicVersion::kV2);  // its stays true: GICv2 has none to describe
  for (const auto& c : {no_its, v2}) {
    auto dtb = build(c);
    const std::string gic = "/interrupt-controller@8000000";
    EXPECT_EQ(fdt_test::subnodes(dtb, gic), std::vector<std::string>{});
    EXPECT_EQ(prop_cells(dtb, gic, "#address-cells"), (std::vector<uint32_t>{0}));
    EXPECT_FALSE(prop(dtb, gic, "ranges"));
    const DtIrqContext irq = aarch64_dt_irq_context(c);
    EXPECT_EQ(irq.msi_parent, 0u);
    EXPECT_EQ(irq.interrupt_parent_address_cells, 0u);
  }
}

TEST(DtbAarch64, GicV2Node) {
  auto dtb = build(base_config(2, GicVersion::kV2));
  const std::string gic = "/interrupt-controller@8000000";
  EXPECT_EQ(prop_string(dtb, gic, "compatible"), "arm,cortex-a15-gic");
  EXPECT_EQ(prop_cells(dtb, gic, "reg"), (std::vector<uint32_t>{0, 0x0800'0000, 0, 0x1000, 0, 0x0801'0000, 0, 0x2000}));
  EXPECT_EQ(prop_cells(dtb, gic, "#interrupt-cells"), (std::vector<uint32_t>{3}));
  EXPECT_FALSE(prop(dtb, gic, "#redistributor-regions"));
}

TEST(DtbAarch64, TimerPpisV3) {
  auto dtb = build(base_config(2));
  EXPECT_EQ(prop_string(dtb, "/timer", "compatible"), "arm,armv8-timer");
  EXPECT_EQ(prop_cells(dtb, "/timer", "interrupts"),
            (std::vector<uint32_t>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}));
}

TEST(DtbAarch64, TimerPpisV2CarryCpuMask) {
  auto dtb = build(base_config(4, GicVersion::kV2));
  EXPECT_EQ(prop_cells(dtb, "/timer", "interrupts"),
            (std::vector<uint32_t>{1, 13, 0xf04, 1, 14, 0xf04, 1, 11, 0xf04, 1, 10, 0xf04}));
}

TEST(DtbAarch64, UartNode) {
  auto dtb = build(base_config());
  const std::string uart = "/serial@9000000";
  EXPECT_EQ(prop_string(dtb, uart, "compatible"), "ns16550a");
  EXPECT_EQ(prop_cells(dtb, uart, "reg"), (std::vector<uint32_t>{0, 0x0900'0000, 0, 0x1000}));
  EXPECT_EQ(prop_cells(dtb, uart, "interrupts"), (std::vector<uint32_t>{0, 1, 4}));
  EXPECT_EQ(prop_cells(dtb, uart, "reg-shift"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(prop_cells(dtb, uart, "clock-frequency"), (std::vector<uint32_t>{1843200}));
}

TEST(DtbAarch64, UartAddressAndSpiFromConfig) {
  auto c = base_config();
  c.platform = boot_test::aarch64_devices(0x0a00'0000, 7);
  auto dtb = build(c);
  EXPECT_EQ(prop_cells(dtb, "/serial@a000000", "interrupts"), (std::vector<uint32_t>{0, 7, 4}));
  EXPECT_EQ(prop_string(dtb, "/chosen", "stdout-path"), "/serial@a000000");
}

TEST(DtbAarch64, ChosenWithoutInitrd) {
  auto dtb = build(base_config());
  EXPECT_EQ(prop_string(dtb, "/chosen", "bootargs"), "console=ttyS0 earlycon");
  auto stdout_path = prop_string(dtb, "/chosen", "stdout-path");
  ASSERT_TRUE(stdout_path);
  EXPECT_EQ(*stdout_path, "/serial@9000000");
  EXPECT_GE(fdt_path_offset(dtb.data(), stdout_path->c_str()), 0);
  EXPECT_FALSE(prop(dtb, "/chosen", "linux,initrd-start"));
  EXPECT_FALSE(prop(dtb, "/chosen", "linux,initrd-end"));
  EXPECT_FALSE(prop(dtb, "/chosen", "rng-seed"));
  EXPECT_FALSE(prop(dtb, "/chosen", "kaslr-seed"));
}

TEST(DtbAarch64, ChosenInitrdAndSeeds) {
  auto c = base_config();
  c.initrd = loader::InitrdPlacement{GuestAddress(0x8700'0000), 0x12345};
  c.rng_seed = {std::byte{1}, std::byte{2}, std::byte{3}};
  c.kaslr_seed = 0x0102030405060708ull;
  auto dtb = build(c);
  EXPECT_EQ(*prop(dtb, "/chosen", "linux,initrd-start"), (std::vector<uint8_t>{0, 0, 0, 0, 0x87, 0, 0, 0}));
  EXPECT_EQ(*prop(dtb, "/chosen", "linux,initrd-end"), (std::vector<uint8_t>{0, 0, 0, 0, 0x87, 0x01, 0x23, 0x45}));
  EXPECT_EQ(*prop(dtb, "/chosen", "rng-seed"), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(*prop(dtb, "/chosen", "kaslr-seed"), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(DtbAarch64, EmptyCmdlineIsAnEmptyString) {
  auto c = base_config();
  c.cmdline.clear();
  auto dtb = build(c);
  EXPECT_EQ(*prop(dtb, "/chosen", "bootargs"), (std::vector<uint8_t>{0}));
}

void expect_error(const Aarch64DtConfig& c, ErrorCode code, const std::string& needle) {
  auto dtb = build_aarch64_dtb(c);
  ASSERT_FALSE(dtb.has_value());
  EXPECT_EQ(dtb.error().code, code) << dtb.error().message;
  EXPECT_NE(dtb.error().message.find(needle), std::string::npos) << dtb.error().message;
}

TEST(DtbAarch64, RejectsZeroCpus) { expect_error(base_config(0), ErrorCode::kInvalidArgument, "cpus = 0"); }

TEST(DtbAarch64, GicV3CpuLimitIsTheRedistributorWindow) {
  EXPECT_TRUE(build_aarch64_dtb(base_config(123)).has_value());
  expect_error(base_config(124), ErrorCode::kInvalidArgument, "cpus = 124 is out of range 1..123");
}

TEST(DtbAarch64, GicV2CpuLimitIsEight) {
  EXPECT_TRUE(build_aarch64_dtb(base_config(8, GicVersion::kV2)).has_value());
  expect_error(base_config(9, GicVersion::kV2), ErrorCode::kInvalidArgument, "1..8");
}

TEST(DtbAarch64, CmdlineCapacityIs2048WithNul) {
  auto c = base_config();
  c.cmdline.assign(2047, 'x');
  auto dtb = build(c);
  EXPECT_EQ(prop_string(dtb, "/chosen", "bootargs")->size(), 2047u);
  c.cmdline.assign(2048, 'x');
  expect_error(c, ErrorCode::kTooLarge, "2048 bytes");
}

TEST(DtbAarch64, RejectsNulInCmdline) {
  auto c = base_config();
  c.cmdline = std::string("abc\0def", 7);
  expect_error(c, ErrorCode::kInvalidArgument, "offset 3");
}

TEST(DtbAarch64, RejectsInitrdOutsideRam) {
  auto c = base_config();
  c.initrd = loader::InitrdPlacement{GuestAddress(0x87ff'f000), 0x2000};
  expect_error(c, ErrorCode::kOutOfBounds, "initrd");
  c.initrd = loader::InitrdPlacement{GuestAddress(0x7fff'f000), 0x1000};
  expect_error(c, ErrorCode::kOutOfBounds, "initrd");
  c.initrd = loader::InitrdPlacement{GuestAddress(~0ull - 0xfff), 0x2000};
  expect_error(c, ErrorCode::kOverflow, "wraps");
}

TEST(DtbAarch64, RejectsEmptyOrWrappingRam) {
  auto c = base_config();
  c.ram.size = 0;
  expect_error(c, ErrorCode::kInvalidArgument, "ram size is 0");
  c.ram = {GuestAddress(~0ull - 0xfff), 0x2000};
  expect_error(c, ErrorCode::kOverflow, "wraps");
}

TEST(DtbAarch64, RejectsSpiBeyondGicRange) {
  auto c = base_config();
}

TEST(DtbAarch64, OversizedTreeIsTooLarge) {
  auto c = base_config();
  c.rng_seed.assign(3u << 20, std::byte{0x5a});
  expect_error(c, ErrorCode::kTooLarge, "rng-seed");
}

// Every CPU count 1..8 on both GIC versions: libfdt's full check passes and
// dtc decompiles the blob without a single warning.
TEST(DtbAarch64, EveryCpuCountPassesFdtCheckAndDtc) {
  for (GicVersion gic : {GicVersion::kV3, GicVersion::kV2}) {
    for (uint32_t cpus = 1; cpus <= 8; ++cpus) {
      SCOPED_TRACE(testing::Message() << "gic v" << (gic == GicVersion::kV3 ? 3 : 2) << " cpus " << cpus);
      auto c = base_config(cpus, gic);
      c.initrd = loader::InitrdPlacement{GuestAddress(0x8700'0000), 0x1000};
      auto dtb = build(c);
      ASSERT_FALSE(dtb.empty());
      EXPECT_EQ(fdt_check_full(dtb.data(), dtb.size()), 0);
      auto run = fdt_test::run_dtc(dtb);
      ASSERT_TRUE(run.found) << "dtc (device-tree-compiler) is not installed; run scripts/setup.sh";
      EXPECT_EQ(run.exit_code, 0);
      EXPECT_EQ(run.stderr_text, "");
      EXPECT_EQ(fdt_test::count_occurrences(run.dts, "cpu@"), cpus);
      EXPECT_EQ(fdt_test::count_occurrences(run.dts, "enable-method = \"psci\";"), cpus);
      EXPECT_NE(run.dts.find("psci {"), std::string::npos);
      EXPECT_NE(run.dts.find("interrupt-controller@8000000 {"), std::string::npos);
      EXPECT_NE(run.dts.find(gic == GicVersion::kV3 ? "\"arm,gic-v3\"" : "\"arm,cortex-a15-gic\""),
                std::string::npos);
      EXPECT_NE(run.dts.find("serial@9000000 {"), std::string::npos);
      EXPECT_NE(run.dts.find("timer {"), std::string::npos);
      EXPECT_NE(run.dts.find("bootargs = \"console=ttyS0 earlycon\";"), std::string::npos);
      EXPECT_NE(run.dts.find("stdout-path = \"/serial@9000000\";"), std::string::npos);
      EXPECT_NE(run.dts.find("linux,initrd-start = <0x00 0x87000000>;"), std::string::npos) << run.dts;
    }
  }
}

TEST(DtbAarch64, PlaceWritesAtTopTwoMegabyteBlock) {
  std::vector<loader::RegionSpec> regions{{GuestAddress(0x8000'0000), 128ull << 20}};
  auto mem = loader::GuestMemory::create(regions);
  ASSERT_TRUE(mem.has_value());
  auto c = base_config();
  auto addr = place_aarch64_dtb(*mem, c);
  ASSERT_TRUE(addr.has_value()) << addr.error().message;
  EXPECT_EQ(addr->value(), 0x87e0'0000u);
  auto expected = build(c);
  std::vector<std::byte> got(expected.size());
  ASSERT_TRUE(mem->read(*addr, got).has_value());
  EXPECT_EQ(got, expected);
}

TEST(DtbAarch64, PlaceFailsWhenRamIsNotInGuestMemory) {
  std::vector<loader::RegionSpec> regions{{GuestAddress(0x8000'0000), 64ull << 20}};
  auto mem = loader::GuestMemory::create(regions);
  ASSERT_TRUE(mem.has_value());
  auto addr = place_aarch64_dtb(*mem, base_config());  // says 128 MiB, memory has 64
  ASSERT_FALSE(addr.has_value());
  EXPECT_EQ(addr.error().code, ErrorCode::kOutOfBounds);
}

}  // namespace
}  // namespace boot
