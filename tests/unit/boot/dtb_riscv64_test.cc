#include "boot/dtb_riscv64.h"
#include "platform_for_tests.h"

#include <gtest/gtest.h>

#include <set>

#include "fdt_test_util.h"

namespace boot {
namespace {

using fdt_test::prop;
using fdt_test::prop_cells;
using fdt_test::prop_string;
using fdt_test::prop_strings;
using loader::ErrorCode;
using loader::GuestAddress;

Riscv64DtConfig base_config(uint32_t cpus = 1, RiscvInterruptController irqchip = RiscvInterruptController::kPlic) {
  Riscv64DtConfig c;
  c.ram = {GuestAddress(0x8000'0000), 256ull << 20};
  c.cpus = cpus;
  c.cmdline = "console=ttyS0 earlycon=sbi";
  c.irqchip = irqchip;
  c.platform = boot_test::riscv64_devices(cpus, irqchip == RiscvInterruptController::kPlic);
  return c;
}

std::vector<std::byte> build(const Riscv64DtConfig& c) {
  auto dtb = build_riscv64_dtb(c);
  EXPECT_TRUE(dtb.has_value()) << (dtb ? "" : dtb.error().message);
  return dtb ? *dtb : std::vector<std::byte>{};
}

std::string cpu(uint32_t i) { return "/cpus/cpu@" + std::to_string(i); }
std::string intc(uint32_t i) { return cpu(i) + "/interrupt-controller"; }

TEST(DtbRiscv64, HeaderAndRoot) {
  auto dtb = build(base_config());
  ASSERT_FALSE(dtb.empty());
  EXPECT_EQ(fdt_check_full(dtb.data(), dtb.size()), 0);
  EXPECT_EQ(prop_string(dtb, "/", "compatible"), "riscv-virtio");
  EXPECT_EQ(prop_cells(dtb, "/", "#address-cells"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(prop_cells(dtb, "/", "#size-cells"), (std::vector<uint32_t>{2}));
  uint32_t plic = fdt_test::phandle_of(dtb, "/interrupt-controller@c000000");
  EXPECT_NE(plic, 0u);
  EXPECT_FALSE(prop(dtb, "/", "interrupt-parent"))
      << "a root interrupt-parent makes each cpu-intc a child of the PLIC (a cycle Linux rejects)";
  EXPECT_FALSE(prop(dtb, "/cpus/cpu@0/interrupt-controller", "interrupt-parent"));
}

TEST(DtbRiscv64, MemoryNodeBytes) {
  auto dtb = build(base_config());
  EXPECT_EQ(prop_string(dtb, "/memory@80000000", "device_type"), "memory");
  EXPECT_EQ(*prop(dtb, "/memory@80000000", "reg"),
            (std::vector<uint8_t>{0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
}

TEST(DtbRiscv64, CpusNodeAndHarts) {
  auto dtb = build(base_config(3));
  EXPECT_EQ(prop_cells(dtb, "/cpus", "timebase-frequency"), (std::vector<uint32_t>{10'000'000}));
  EXPECT_EQ(prop_cells(dtb, "/cpus", "#address-cells"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(prop_cells(dtb, "/cpus", "#size-cells"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(fdt_test::subnodes(dtb, "/cpus"), (std::vector<std::string>{"cpu@0", "cpu@1", "cpu@2"}));
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(prop_string(dtb, cpu(i), "device_type"), "cpu");
    EXPECT_EQ(prop_string(dtb, cpu(i), "compatible"), "riscv");
    EXPECT_EQ(prop_cells(dtb, cpu(i), "reg"), (std::vector<uint32_t>{i}));
    EXPECT_EQ(prop_string(dtb, cpu(i), "riscv,isa"), "rv64imafdc");
    EXPECT_EQ(prop_string(dtb, cpu(i), "riscv,isa-base"), "rv64i");
    EXPECT_EQ(prop_strings(dtb, cpu(i), "riscv,isa-extensions"),
              (std::vector<std::string>{"i", "m", "a", "f", "d", "c", "zicsr", "zifencei"}));
    EXPECT_EQ(prop_string(dtb, cpu(i), "mmu-type"), "riscv,sv48");
    EXPECT_EQ(prop_string(dtb, intc(i), "compatible"), "riscv,cpu-intc");
    EXPECT_EQ(prop_cells(dtb, intc(i), "#interrupt-cells"), (std::vector<uint32_t>{1}));
    EXPECT_TRUE(prop(dtb, intc(i), "interrupt-controller"));
  }
  // Every per-hart controller has its own phandle.
  std::set<uint32_t> phandles;
  for (uint32_t i = 0; i < 3; ++i) phandles.insert(fdt_test::phandle_of(dtb, intc(i)));
  EXPECT_EQ(phandles.size(), 3u);
  EXPECT_EQ(phandles.count(0), 0u);
}

TEST(DtbRiscv64, IsaMmuAndTimebaseFromConfig) {
  auto c = base_config();
  c.isa = "rv64imafdch_zba_zbb";
  c.mmu = RiscvMmuType::kSv39;
  c.timebase_frequency = 1'000'000;
  auto dtb = build(c);
  EXPECT_EQ(prop_string(dtb, cpu(0), "riscv,isa"), "rv64imafdch_zba_zbb");
  EXPECT_EQ(prop_strings(dtb, cpu(0), "riscv,isa-extensions"),
            (std::vector<std::string>{"i", "m", "a", "f", "d", "c", "h", "zba", "zbb", "zicsr", "zifencei"}));
  EXPECT_EQ(prop_string(dtb, cpu(0), "mmu-type"), "riscv,sv39");
  EXPECT_EQ(prop_cells(dtb, "/cpus", "timebase-frequency"), (std::vector<uint32_t>{1'000'000}));
  c.mmu = RiscvMmuType::kSv57;
  EXPECT_EQ(prop_string(build(c), cpu(0), "mmu-type"), "riscv,sv57");
}

TEST(DtbRiscv64, ExplicitExtensionListWins) {
  auto c = base_config();
  c.isa_extensions = {"i", "m", "a", "zicsr", "zifencei", "sstc"};
  auto dtb = build(c);
  EXPECT_EQ(prop_strings(dtb, cpu(0), "riscv,isa-extensions"), c.isa_extensions);
}

TEST(DtbRiscv64, PlicNode) {
  auto dtb = build(base_config(3));
  const std::string plic = "/interrupt-controller@c000000";
  EXPECT_EQ(prop_strings(dtb, plic, "compatible"), (std::vector<std::string>{"sifive,plic-1.0.0", "riscv,plic0"}));
  EXPECT_EQ(prop_cells(dtb, plic, "reg"), (std::vector<uint32_t>{0, 0x0c00'0000, 0, 0x0400'0000}));
  EXPECT_EQ(prop_cells(dtb, plic, "#interrupt-cells"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(prop_cells(dtb, plic, "riscv,ndev"), (std::vector<uint32_t>{31}));
  EXPECT_TRUE(prop(dtb, plic, "interrupt-controller"));
  // Context i is hart i's S-mode external interrupt (9).
  std::vector<uint32_t> expected;
  for (uint32_t i = 0; i < 3; ++i) {
    expected.push_back(fdt_test::phandle_of(dtb, intc(i)));
    expected.push_back(9);
  }
  EXPECT_EQ(prop_cells(dtb, plic, "interrupts-extended"), expected);
}

TEST(DtbRiscv64, UartOnPlic) {
  auto dtb = build(base_config());
  const std::string uart = "/serial@10000000";
  EXPECT_EQ(prop_string(dtb, uart, "compatible"), "ns16550a");
  EXPECT_EQ(prop_cells(dtb, uart, "reg"), (std::vector<uint32_t>{0, 0x1000'0000, 0, 0x100}));
  EXPECT_EQ(prop_cells(dtb, uart, "interrupts"), (std::vector<uint32_t>{10}));
  EXPECT_EQ(prop_cells(dtb, uart, "interrupt-parent"),
            (std::vector<uint32_t>{fdt_test::phandle_of(dtb, "/interrupt-controller@c000000")}));
  EXPECT_EQ(prop_cells(dtb, uart, "reg-shift"), (std::vector<uint32_t>{0}));
}

TEST(DtbRiscv64, AiaNodes) {
  auto dtb = build(base_config(2, RiscvInterruptController::kAia));
  const std::string aplic = "/interrupt-controller@d000000";
  const std::string imsic = "/interrupt-controller@28000000";
  EXPECT_LT(fdt_path_offset(dtb.data(), "/interrupt-controller@c000000"), 0);
  EXPECT_EQ(prop_string(dtb, aplic, "compatible"), "riscv,aplic");
  EXPECT_EQ(prop_cells(dtb, aplic, "reg"), (std::vector<uint32_t>{0, 0x0d00'0000, 0, 0x8000}));
  EXPECT_EQ(prop_cells(dtb, aplic, "#interrupt-cells"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(prop_cells(dtb, aplic, "msi-parent"), (std::vector<uint32_t>{fdt_test::phandle_of(dtb, imsic)}));
  EXPECT_EQ(prop_cells(dtb, aplic, "riscv,num-sources"), (std::vector<uint32_t>{31}));
  EXPECT_EQ(prop_string(dtb, imsic, "compatible"), "riscv,imsics");
  EXPECT_EQ(prop_cells(dtb, imsic, "reg"), (std::vector<uint32_t>{0, 0x2800'0000, 0, 0x2000}));
  EXPECT_EQ(prop_cells(dtb, imsic, "#interrupt-cells"), (std::vector<uint32_t>{0}));
  EXPECT_TRUE(prop(dtb, imsic, "msi-controller"));
  EXPECT_EQ(prop_cells(dtb, imsic, "riscv,num-ids"), (std::vector<uint32_t>{255}));
  EXPECT_EQ(prop_cells(dtb, imsic, "interrupts-extended"),
            (std::vector<uint32_t>{fdt_test::phandle_of(dtb, intc(0)), 9, fdt_test::phandle_of(dtb, intc(1)), 9}));
  uint32_t aplic_phandle = fdt_test::phandle_of(dtb, aplic);
  EXPECT_FALSE(prop(dtb, "/", "interrupt-parent"));
  EXPECT_EQ(prop_cells(dtb, "/serial@10000000", "interrupt-parent"), (std::vector<uint32_t>{aplic_phandle}));
  EXPECT_EQ(prop_cells(dtb, "/serial@10000000", "interrupts"), (std::vector<uint32_t>{10, 4}));
}

TEST(DtbRiscv64, Chosen) {
  auto c = base_config();
  c.initrd = loader::InitrdPlacement{GuestAddress(0x8f00'0000), 0x100};
  c.rng_seed = {std::byte{9}, std::byte{8}};
  c.kaslr_seed = 0x1122334455667788ull;
  auto dtb = build(c);
  EXPECT_EQ(prop_string(dtb, "/chosen", "bootargs"), "console=ttyS0 earlycon=sbi");
  EXPECT_EQ(prop_string(dtb, "/chosen", "stdout-path"), "/serial@10000000");
  EXPECT_GE(fdt_path_offset(dtb.data(), "/serial@10000000"), 0);
  EXPECT_EQ(*prop(dtb, "/chosen", "linux,initrd-start"), (std::vector<uint8_t>{0, 0, 0, 0, 0x8f, 0, 0, 0}));
  EXPECT_EQ(*prop(dtb, "/chosen", "linux,initrd-end"), (std::vector<uint8_t>{0, 0, 0, 0, 0x8f, 0, 0x01, 0}));
  EXPECT_EQ(*prop(dtb, "/chosen", "rng-seed"), (std::vector<uint8_t>{9, 8}));
  EXPECT_EQ(*prop(dtb, "/chosen", "kaslr-seed"), (std::vector<uint8_t>{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}));
  auto plain = build(base_config());
  EXPECT_FALSE(prop(plain, "/chosen", "linux,initrd-start"));
  EXPECT_FALSE(prop(plain, "/chosen", "rng-seed"));
}

void expect_error(const Riscv64DtConfig& c, ErrorCode code, const std::string& needle) {
  auto dtb = build_riscv64_dtb(c);
  ASSERT_FALSE(dtb.has_value());
  EXPECT_EQ(dtb.error().code, code) << dtb.error().message;
  EXPECT_NE(dtb.error().message.find(needle), std::string::npos) << dtb.error().message;
}

TEST(DtbRiscv64, CpuRange) {
  expect_error(base_config(0), ErrorCode::kInvalidArgument, "cpus = 0 is out of range 1..512");
  expect_error(base_config(513), ErrorCode::kInvalidArgument, "cpus = 513");
  auto dtb = build(base_config(512));
  EXPECT_EQ(fdt_test::subnodes(dtb, "/cpus").size(), 512u);
  EXPECT_EQ(fdt_check_full(dtb.data(), dtb.size()), 0);
}

TEST(DtbRiscv64, CmdlineCapacityIs1024WithNul) {
  auto c = base_config();
  c.cmdline.assign(1023, 'y');
  EXPECT_TRUE(build_riscv64_dtb(c).has_value());
  c.cmdline.assign(1024, 'y');
  expect_error(c, ErrorCode::kTooLarge, "1024 bytes");
  c.cmdline = std::string("a\0b", 3);
  expect_error(c, ErrorCode::kInvalidArgument, "NUL byte at offset 1");
}

TEST(DtbRiscv64, RejectsZeroTimebase) {
  auto c = base_config();
  c.timebase_frequency = 0;
  expect_error(c, ErrorCode::kInvalidArgument, "timebase_frequency");
}

TEST(DtbRiscv64, RejectsInitrdOutsideRamAndBadRam) {
  auto c = base_config();
  c.initrd = loader::InitrdPlacement{GuestAddress(0x8fff'f000), 0x2000};
  expect_error(c, ErrorCode::kOutOfBounds, "initrd");
  c.initrd.reset();
  c.ram.size = 0;
  expect_error(c, ErrorCode::kInvalidArgument, "ram size is 0");
}

TEST(DtbRiscv64, RejectsBadIsaString) {
  auto c = base_config();
  c.isa = "rv32imac";
  expect_error(c, ErrorCode::kInvalidArgument, "rv64");
}

TEST(RiscvIsaExtensions, GExpands) {
  auto ext = riscv_isa_extensions("rv64gc");
  ASSERT_TRUE(ext.has_value());
  EXPECT_EQ(*ext, (std::vector<std::string>{"i", "m", "a", "f", "d", "zicsr", "zifencei", "c"}));
}

TEST(RiscvIsaExtensions, MultiLetterAfterUnderscores) {
  auto ext = riscv_isa_extensions("rv64ima_zicsr_sstc");
  ASSERT_TRUE(ext.has_value());
  EXPECT_EQ(*ext, (std::vector<std::string>{"i", "m", "a", "zicsr", "sstc", "zifencei"}));
}

TEST(RiscvIsaExtensions, Rejections) {
  for (const char* bad : {"rv32i", "rv64IMA", "rv64i__zba", "rv64i_", "rv64ma", "rv64i2p0", "rv64i-m", ""}) {
    auto ext = riscv_isa_extensions(bad);
    EXPECT_FALSE(ext.has_value()) << bad;
    if (!ext) {
      EXPECT_EQ(ext.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
}

TEST(DtbRiscv64, EveryCpuCountPassesFdtCheckAndDtc) {
  for (auto irqchip : {RiscvInterruptController::kPlic, RiscvInterruptController::kAia}) {
    for (uint32_t cpus = 1; cpus <= 8; ++cpus) {
      SCOPED_TRACE(testing::Message() << (irqchip == RiscvInterruptController::kPlic ? "plic" : "aia") << " cpus "
                                      << cpus);
      auto c = base_config(cpus, irqchip);
      c.initrd = loader::InitrdPlacement{GuestAddress(0x8f00'0000), 0x1000};
      auto dtb = build(c);
      ASSERT_FALSE(dtb.empty());
      EXPECT_EQ(fdt_check_full(dtb.data(), dtb.size()), 0);
      auto run = fdt_test::run_dtc(dtb);
      ASSERT_TRUE(run.found) << "dtc (device-tree-compiler) is not installed; run scripts/setup.sh";
      EXPECT_EQ(run.exit_code, 0);
      EXPECT_EQ(run.stderr_text, "");
      EXPECT_EQ(fdt_test::count_occurrences(run.dts, "cpu@"), cpus);
      EXPECT_EQ(fdt_test::count_occurrences(run.dts, "\"riscv,cpu-intc\""), cpus);
      EXPECT_EQ(fdt_test::count_occurrences(run.dts, "riscv,isa = \"rv64imafdc\";"), cpus);
      EXPECT_NE(run.dts.find("timebase-frequency = <0x989680>;"), std::string::npos);
      if (irqchip == RiscvInterruptController::kPlic) {
        EXPECT_NE(run.dts.find("interrupt-controller@c000000 {"), std::string::npos);
      } else {
        EXPECT_NE(run.dts.find("interrupt-controller@d000000 {"), std::string::npos);
        EXPECT_NE(run.dts.find("interrupt-controller@28000000 {"), std::string::npos);
      }
      EXPECT_NE(run.dts.find("serial@10000000 {"), std::string::npos);
      EXPECT_NE(run.dts.find("bootargs = \"console=ttyS0 earlycon=sbi\";"), std::string::npos);
      EXPECT_NE(run.dts.find("stdout-path = \"/serial@10000000\";"), std::string::npos);
      EXPECT_NE(run.dts.find("linux,initrd-end = <0x00 0x8f001000>;"), std::string::npos) << run.dts;
    }
  }
}

TEST(DtbRiscv64, PlaceWritesAtTopTwoMegabyteBlock) {
  std::vector<loader::RegionSpec> regions{{GuestAddress(0x8000'0000), 256ull << 20}};
  auto mem = loader::GuestMemory::create(regions);
  ASSERT_TRUE(mem.has_value());
  auto c = base_config(2);
  auto addr = place_riscv64_dtb(*mem, c);
  ASSERT_TRUE(addr.has_value()) << addr.error().message;
  EXPECT_EQ(addr->value(), 0x8fe0'0000u);
  auto expected = build(c);
  std::vector<std::byte> got(expected.size());
  ASSERT_TRUE(mem->read(*addr, got).has_value());
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace boot
