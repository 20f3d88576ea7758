// ACPI tables for an x86_64 guest with legacy PC devices: RSDP (revision 2),
// XSDT, FADT, MADT and a DSDT describing COM1, the i8042 and the RTC. Linux
// finds them through the zero page (acpi_rsdp_addr), PVH (rsdp_paddr) or the
// BIOS-area scan, so the RSDP lives on a 16-byte boundary in 0xE0000..0xFFFFF.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boot/error.h"
#include "loader/guest_memory.h"

namespace boot::acpi {

inline constexpr char kOemId[] = "MINVMM";       // 6 characters
inline constexpr char kOemTableId[] = "MINIVMM ";  // 8 characters
// The MADT can list at most this many local APICs with 8-bit ids (255 is broadcast).
inline constexpr uint32_t kMaxCpus = 255;

// Each builder returns a complete table with its checksum filled in.
std::vector<uint8_t> build_dsdt();
std::vector<uint8_t> build_fadt(uint64_t dsdt_addr);
Result<std::vector<uint8_t>> build_madt(uint32_t cpus);
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

// Builds every table and writes them into [area_addr, area_addr+area_size):
// the RSDP at area_addr (must be 16-byte aligned), the others after it, each
// 8-byte aligned. Errors: cpus 0 or > kMaxCpus, tables larger than the area,
// the area outside guest memory.
Result<AcpiLayout> write_acpi_tables(loader::GuestMemory& mem, uint64_t area_addr, uint64_t area_size,
                                     uint32_t cpus);

}  // namespace boot::acpi
