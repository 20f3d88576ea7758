// ACPI tables for an x86_64 guest with legacy PC devices: RSDP (revision 2),
// XSDT, FADT (+FACS), MADT and a DSDT with what the devices describe (COM1, the i8042, the RTC, \_S5 ...).
// Not hardware-reduced: the guest has a PIC, PIT, RTC and i8042, and Linux
// drops the legacy PIC and PIT timer when the FADT says hardware-reduced.
// The FADT declares a PM1a event block at PIO 0x600 (4 bytes) and a PM1a
// control block at 0x604 (2 bytes): the VMM answers reads with 0 and ignores
// writes, except SLP_EN (bit 13) with SLP_TYP 5 written to 0x604, which is
// the \_S5 soft-off the kernel uses for poweroff. Reset goes through the
// FADT reset register: 0xfe to PIO 0x64, the i8042 reset the VMM already has. Linux
// finds them through the zero page (acpi_rsdp_addr), PVH (rsdp_paddr) or the
// BIOS-area scan, so the RSDP lives on a 16-byte boundary in 0xE0000..0xFFFFF.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boot/error.h"
#include "boot/platform_description.h"
#include "loader/guest_memory.h"

namespace boot::acpi {

inline constexpr char kOemId[] = "MINVMM";       // 6 characters
inline constexpr char kOemTableId[] = "MINIVMM ";  // 8 characters
// Local APIC ids are 8 bits, 255 is broadcast and the IOAPIC takes the id
// after the last CPU (as in the MP table): 254 CPUs at most.
inline constexpr uint32_t kMaxCpus = 254;

// Each builder returns a complete table with its checksum filled in.
// The DSDT holds what the devices describe (PlatformDescription::dsdt_*).
std::vector<uint8_t> build_dsdt(const PlatformDescription& platform);
std::vector<uint8_t> build_facs();  // no checksum by definition; 64-byte aligned
std::vector<uint8_t> build_fadt(uint64_t dsdt_addr, uint64_t facs_addr);
Result<std::vector<uint8_t>> build_madt(uint32_t cpus);
// MCFG: one ECAM region (PCI Firmware Spec 3.2 §4.1.2) for buses
// start_bus..end_bus of `segment`; base is where bus 0 would be.
std::vector<uint8_t> build_mcfg(uint64_t ecam_base, uint16_t segment, uint8_t start_bus, uint8_t end_bus);
std::vector<uint8_t> build_xsdt(const std::vector<uint64_t>& table_addrs);
std::vector<uint8_t> build_rsdp(uint64_t xsdt_addr);

// 8-bit sum of the bytes; a table is valid when the sum over it is 0.
uint8_t checksum_sum(const uint8_t* data, size_t len);

struct AcpiTable {
  std::string signature;  // "RSDP", "XSDT", "FACP", "APIC", "DSDT"
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct AcpiLayout {
  uint64_t rsdp_addr = 0;
  std::vector<AcpiTable> tables;  // RSDP first
};

// Builds every table (and the platform's extra acpi_tables, listed in the
// XSDT after the MADT) and writes them into [area_addr, area_addr+area_size):
// the RSDP at area_addr (must be 16-byte aligned), the others after it, each
// 8-byte aligned. Errors: cpus 0 or > kMaxCpus, tables larger than the area,
// the area outside guest memory.
Result<AcpiLayout> write_acpi_tables(loader::GuestMemory& mem, uint64_t area_addr, uint64_t area_size,
                                     uint32_t cpus, const PlatformDescription& platform = {});

}  // namespace boot::acpi
