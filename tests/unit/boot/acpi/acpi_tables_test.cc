#include "boot/acpi/acpi_tables.h"
#include "../platform_for_tests.h"
#include "devices/pci/pci_root.h"
#include "devices/virtio/virtio_mmio_device.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_rng.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "unit/boot/guest_bytes.h"

namespace boot::acpi {
namespace {

using boot_test::u16;
using boot_test::u32;
using boot_test::u64;
using boot_test::u8;
constexpr uint64_t kMiB = 1ull << 20;

class AcpiCpus : public ::testing::TestWithParam<uint32_t> {};

TEST_P(AcpiCpus, ChecksumsPointersAndMadtEntries) {
  const uint32_t cpus = GetParam();
  auto mem = boot_test::x86_memory(64 * kMiB);
  auto layout = write_acpi_tables(mem, 0xE0000, 0x10000, cpus);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;
  const uint64_t rsdp = layout->rsdp_addr;
  EXPECT_EQ(rsdp, 0xE0000u);

  auto r = boot_test::bytes_at(mem, rsdp, 36);
  EXPECT_EQ(std::string(r.begin(), r.begin() + 8), "RSD PTR ");
  EXPECT_EQ(r[15], 2);                          // revision
  EXPECT_EQ(boot_test::byte_sum(r, 20), 0);     // checksum
  EXPECT_EQ(boot_test::byte_sum(r, 36), 0);     // extended checksum
  EXPECT_EQ(u32(mem, rsdp + 20), 36u);

  // Every table: checksum over its declared length is 0.
  auto table_ok = [&](uint64_t addr, const char* sig) {
    auto head = boot_test::bytes_at(mem, addr, 8);
    EXPECT_EQ(std::string(head.begin(), head.begin() + 4), sig);
    uint32_t len = u32(mem, addr + 4);
    auto all = boot_test::bytes_at(mem, addr, len);
    EXPECT_EQ(boot_test::byte_sum(all, len), 0) << sig;
    return len;
  };
  const uint64_t xsdt = u64(mem, rsdp + 24);
  uint32_t xsdt_len = table_ok(xsdt, "XSDT");
  ASSERT_EQ(xsdt_len, 36u + 16u);
  const uint64_t fadt = u64(mem, xsdt + 36);
  const uint64_t madt = u64(mem, xsdt + 44);
  uint32_t fadt_len = table_ok(fadt, "FACP");
  EXPECT_EQ(fadt_len, 276u);
  EXPECT_EQ(u8(mem, fadt + 8), 6);                    // revision
  EXPECT_EQ(u16(mem, fadt + 46), 9u);                 // SCI_INT
  EXPECT_EQ(u32(mem, fadt + 112) & (1u << 20), 0u);   // not HW_REDUCED_ACPI
  EXPECT_EQ(u16(mem, fadt + 109) & 0x3, 0x3);         // LEGACY_DEVICES | 8042
  EXPECT_EQ(u8(mem, fadt + 128), 0xfe);               // reset value
  EXPECT_EQ(u64(mem, fadt + 116 + 4), 0x64u);         // reset register address
  const uint64_t dsdt = u64(mem, fadt + 140);
  EXPECT_EQ(u32(mem, fadt + 40), dsdt);
  table_ok(dsdt, "DSDT");
  const uint64_t facs = u64(mem, fadt + 132);
  EXPECT_EQ(facs % 64, 0u);
  EXPECT_EQ(u32(mem, facs + 4), 64u);

  uint32_t madt_len = table_ok(madt, "APIC");
  EXPECT_EQ(u32(mem, madt + 36), 0xFEE00000u);
  uint32_t lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
  for (uint64_t p = madt + 44; p < madt + madt_len;) {
    uint8_t type = u8(mem, p), len = u8(mem, p + 1);
    ASSERT_GE(len, 2) << "subtable at " << p;
    if (type == 0) {
      EXPECT_EQ(u8(mem, p + 3), lapics) << "APIC id = index";
      EXPECT_EQ(u32(mem, p + 4), 1u) << "enabled";
      ++lapics;
    } else if (type == 1) {
      EXPECT_EQ(u8(mem, p + 2), cpus);
      EXPECT_EQ(u32(mem, p + 4), 0xFEC00000u);
      EXPECT_EQ(u32(mem, p + 8), 0u);
      ++ioapics;
    } else if (type == 2) {
      if (u8(mem, p + 3) == 0) {
        EXPECT_EQ(u32(mem, p + 4), 2u) << "IRQ0 -> GSI 2";
      }
      if (u8(mem, p + 3) == 9) {
        EXPECT_EQ(u16(mem, p + 8), 0x0du) << "SCI level, active high";
      }
      ++overrides;
    } else if (type == 4) {
      EXPECT_EQ(u8(mem, p + 5), 1) << "LINT1";
      ++nmis;
    }
    p += len;
  }
  EXPECT_EQ(lapics, cpus);
  EXPECT_EQ(ioapics, 1u);
  EXPECT_EQ(overrides, 2u);
  EXPECT_EQ(nmis, 1u);
  // Everything inside the BIOS area, where the legacy RSDP scan looks.
  for (const auto& t : layout->tables) {
    EXPECT_GE(t.address, 0xE0000u) << t.signature;
    EXPECT_LE(t.address + t.bytes.size(), 0x100000u) << t.signature;
  }
}

INSTANTIATE_TEST_SUITE_P(Cpus, AcpiCpus, ::testing::Values(1u, 2u, 8u));

TEST(Acpi, McfgDescribesOneEcamRegion) {
  auto t = build_mcfg(0xe0000000, 0, 0, 0);
  ASSERT_EQ(t.size(), 36u + 8u + 16u);
  EXPECT_EQ(std::string(t.begin(), t.begin() + 4), "MCFG");
  EXPECT_EQ(checksum_sum(t.data(), t.size()), 0);
  uint64_t base = 0;
  for (int i = 7; i >= 0; --i) base = base << 8 | t[44 + i];
  EXPECT_EQ(base, 0xe0000000u);
  EXPECT_EQ(t[54], 0) << "start bus";
  EXPECT_EQ(t[55], 0) << "end bus";
}

TEST(Acpi, ExtraTablesAreListedInTheXsdt) {
  auto mem = boot_test::x86_memory(64 * kMiB);
  PlatformDescription platform;
  platform.acpi_tables.push_back(build_mcfg(0xe0000000, 0, 0, 0));
  auto layout = write_acpi_tables(mem, 0xE0000, 0x10000, 1, platform);
  ASSERT_TRUE(layout.has_value()) << layout.error().message;
  const uint64_t xsdt = u64(mem, layout->rsdp_addr + 24);
  ASSERT_EQ(u32(mem, xsdt + 4), 36u + 24u) << "FADT, MADT, MCFG";
  EXPECT_EQ(boot_test::byte_sum(boot_test::bytes_at(mem, xsdt, 60), 60), 0);
  const uint64_t mcfg = u64(mem, xsdt + 52);
  auto head = boot_test::bytes_at(mem, mcfg, 4);
  EXPECT_EQ(std::string(head.begin(), head.end()), "MCFG");
  EXPECT_EQ(u64(mem, mcfg + 44), 0xe0000000u);
}

TEST(Acpi, MadtRejectsZeroAndTooManyCpus) {
  EXPECT_FALSE(build_madt(0).has_value());
  auto r = build_madt(255);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("255"), std::string::npos);
  EXPECT_TRUE(build_madt(254).has_value());
}

TEST(Acpi, AreaTooSmallIsAnError) {
  auto mem = boot_test::x86_memory(64 * kMiB);
  auto r = write_acpi_tables(mem, 0xE0000, 0x100, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
}

TEST(Acpi, UnalignedAreaIsAnError) {
  auto mem = boot_test::x86_memory(64 * kMiB);
  EXPECT_FALSE(write_acpi_tables(mem, 0xE0008, 0x10000, 1).has_value());
}

TEST(Acpi, AreaOutsideMemoryIsAnError) {
  auto mem = boot_test::x86_memory(16 * kMiB);
  auto r = write_acpi_tables(mem, 0x2000000, 0x10000, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("ACPI RSDP"), std::string::npos) << r.error().message;
}

// --- iasl disassembly --------------------------------------------------------

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

class Iasl : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not a skip: the tool is part of the test environment (scripts/setup.sh).
    ASSERT_EQ(std::system("command -v iasl >/dev/null 2>&1"), 0)
        << "iasl not found: install acpica-tools (scripts/setup.sh)";
    dir_ = std::filesystem::temp_directory_path() /
           ("minivmm_iasl_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the table, runs `iasl -d`, returns the disassembly.
  std::string disassemble(const std::string& name, const std::vector<uint8_t>& bytes) {
    auto dat = dir_ / (name + ".dat");
    {
      std::ofstream out(dat, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    std::string cmd = "cd '" + dir_.string() + "' && iasl -d '" + dat.string() + "' > '" +
                      (dir_ / (name + ".log")).string() + "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::string log = read_text(dir_ / (name + ".log"));
    EXPECT_EQ(rc, 0) << "iasl -d " << name << " failed:\n" << log;
    auto dsl = dir_ / (name + ".dsl");
    EXPECT_TRUE(std::filesystem::exists(dsl)) << log;
    return read_text(dsl);
  }
  std::filesystem::path dir_;
};

TEST_F(Iasl, DsdtDescribesCom1) {
  std::string dsl = disassemble("dsdt", build_dsdt(boot_test::x86_devices()));
  EXPECT_NE(dsl.find("PNP0501"), std::string::npos) << dsl;
  EXPECT_NE(dsl.find("0x03F8"), std::string::npos) << dsl;
  EXPECT_NE(dsl.find("IRQNoFlags ()\n"), std::string::npos) << dsl;
  EXPECT_NE(dsl.find("{4}"), std::string::npos) << dsl;
  EXPECT_NE(dsl.find("PNP0303"), std::string::npos);
  EXPECT_NE(dsl.find("PNP0B00"), std::string::npos);
  EXPECT_NE(dsl.find("_S5"), std::string::npos);
  // And the disassembly compiles back without errors or warnings.
  std::string cmd = "cd '" + dir_.string() + "' && iasl dsdt.dsl > recompile.log 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(dir_ / "recompile.log");
  EXPECT_NE(read_text(dir_ / "recompile.log").find("0 Errors, 0 Warnings"), std::string::npos)
      << read_text(dir_ / "recompile.log");
}

TEST_F(Iasl, DsdtDescribesThePciRootAndVirtioMmioDevices) {
  auto memory = boot_test::x86_memory(16 * kMiB);
  devices::pci::PciRootPlacement placement;
  placement.ecam_base = 0xe000'0000;
  placement.windows.mmio32 = {0xc000'0000, 0x2000'0000};
  placement.windows.mmio64 = {0x1'0000'0000, 0x4'0000'0000};
  placement.intx_lines = {16, 17, 18, 19};
  placement.config_ports = true;
  placement.acpi = true;
  devices::pci::PciRoot root(placement);
  auto rng = devices::virtio::VirtioPci::create(std::make_shared<devices::virtio::VirtioRng>(), memory);
  ASSERT_TRUE(rng.has_value());
  ASSERT_TRUE(root.add(*rng).has_value());
  devices::virtio::VirtioMmioDevice mmio(std::make_shared<devices::virtio::VirtioRng>(), memory,
                                         {0xe010'0000, 5, 0, true});
  PlatformDescription platform = boot_test::x86_devices();
  root.describe(platform);
  mmio.describe(platform);

  std::string dsl = disassemble("dsdt", build_dsdt(platform));
  for (const char* want : {"PNP0A08", "PNP0A03", "PNP0C02", "LNRO0005", "WordBusNumber (ResourceProducer",
                           "DWordMemory (ResourceProducer", "QWordMemory (ResourceProducer", "Memory32Fixed (ReadWrite",
                           "0x0CF8", "Name (_PRT, Package (0x01)", "0x0001FFFF", "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive"})
    EXPECT_NE(dsl.find(want), std::string::npos) << want << "\n" << dsl;
  std::string cmd = "cd '" + dir_.string() + "' && iasl dsdt.dsl > recompile.log 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(dir_ / "recompile.log");
  EXPECT_NE(read_text(dir_ / "recompile.log").find("0 Errors, 0 Warnings"), std::string::npos)
      << read_text(dir_ / "recompile.log");

  ASSERT_EQ(platform.acpi_tables.size(), 1u);
  std::string mcfg = disassemble("mcfg", platform.acpi_tables[0]);
  EXPECT_NE(mcfg.find("Base Address : 00000000E0000000"), std::string::npos) << mcfg;
  EXPECT_EQ(mcfg.find("Incorrect checksum"), std::string::npos) << mcfg;
}

TEST_F(Iasl, MadtListsEveryCpu) {
  for (uint32_t cpus : {1u, 2u, 8u}) {
    auto madt = build_madt(cpus);
    ASSERT_TRUE(madt.has_value());
    std::string dsl = disassemble("apic" + std::to_string(cpus), *madt);
    EXPECT_EQ(count_of(dsl, "[Processor Local APIC]"), cpus) << dsl;
    EXPECT_EQ(count_of(dsl, "[I/O APIC]"), 1u) << dsl;
    EXPECT_EQ(count_of(dsl, "[Interrupt Source Override]"), 2u) << dsl;
    EXPECT_EQ(count_of(dsl, "[Local APIC NMI]"), 1u) << dsl;
    EXPECT_EQ(dsl.find("Incorrect checksum"), std::string::npos) << dsl;
  }
}

TEST_F(Iasl, FadtAndXsdtDisassemble) {
  std::string fadt = disassemble("facp", build_fadt(0xE1000, 0xE0040));
  EXPECT_NE(fadt.find("Fixed ACPI Description Table"), std::string::npos) << fadt;
  EXPECT_EQ(fadt.find("Incorrect checksum"), std::string::npos) << fadt;
  EXPECT_NE(fadt.find("000E1000"), std::string::npos) << fadt;  // DSDT address
  std::string xsdt = disassemble("xsdt", build_xsdt({0xE0100, 0xE0200}));
  EXPECT_EQ(xsdt.find("Incorrect checksum"), std::string::npos) << xsdt;
  EXPECT_EQ(count_of(xsdt, "ACPI Table Address"), 2u) << xsdt;
  // The RSDP has no standard table header, so this iasl cannot take it as a
  // raw file; its checksums are checked byte by byte in AcpiCpus above.
}

}  // namespace
}  // namespace boot::acpi
