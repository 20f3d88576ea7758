#include "boot/acpi/acpi_tables.h"

#include <cstring>

#include "boot/acpi/aml.h"
#include "boot/layout_x86.h"

namespace boot::acpi {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr size_t kHeaderSize = 36;
constexpr size_t kChecksumOffset = 9;
constexpr char kCreatorId[] = "MVMM";

void put(Bytes& b, size_t offset, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) b[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

void put_text(Bytes& b, size_t offset, std::string_view text) {
  std::memcpy(b.data() + offset, text.data(), text.size());
}

// The common 36-byte System Description Table header, length and checksum
// filled in by finish().
Bytes table(std::string_view signature, uint8_t revision, size_t length) {
  Bytes b(length, 0);
  put_text(b, 0, signature);
  put(b, 4, length, 4);
  b[8] = revision;
  put_text(b, 10, kOemId);
  put_text(b, 16, kOemTableId);
  put(b, 24, 1, 4);  // OEM revision
  put_text(b, 28, kCreatorId);
  put(b, 32, 1, 4);  // creator revision
  return b;
}

void finish(Bytes& b, size_t checksum_offset, size_t length) {
  b[checksum_offset] = 0;
  b[checksum_offset] = static_cast<uint8_t>(-checksum_sum(b.data(), length));
}

void finish(Bytes& b) {
  put(b, 4, b.size(), 4);
  finish(b, kChecksumOffset, b.size());
}

// Generic Address Structure (12 bytes): address space, bit width, offset, access size, address.
void put_gas(Bytes& b, size_t offset, uint8_t space, uint8_t bit_width, uint8_t access_size, uint64_t address) {
  b[offset] = space;
  b[offset + 1] = bit_width;
  b[offset + 2] = 0;
  b[offset + 3] = access_size;
  put(b, offset + 4, address, 8);
}

constexpr uint8_t kSystemIo = 1;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

uint8_t checksum_sum(const uint8_t* data, size_t len) {
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + data[i]);
  return sum;
}

std::vector<uint8_t> build_dsdt(const PlatformDescription& platform) {
  Bytes sb = aml::scope("\\_SB_", platform.dsdt_sb);

  Bytes b = table("DSDT", 2, kHeaderSize);  // revision 2: 64-bit integers
  for (const auto& object : platform.dsdt_root) b.insert(b.end(), object.begin(), object.end());
  b.insert(b.end(), sb.begin(), sb.end());
  finish(b);
  return b;
}

std::vector<uint8_t> build_facs() {
  Bytes b(64, 0);
  put_text(b, 0, "FACS");
  put(b, 4, 64, 4);
  b[32] = 2;  // version
  return b;
}

std::vector<uint8_t> build_fadt(uint64_t dsdt_addr, uint64_t facs_addr) {
  constexpr size_t kFadtSize = 276;  // ACPI 6.0 (with the hypervisor vendor id)
  Bytes b = table("FACP", 6, kFadtSize);
  put(b, 36, facs_addr <= 0xffffffff ? facs_addr : 0, 4);  // FIRMWARE_CTRL
  put(b, 40, dsdt_addr <= 0xffffffff ? dsdt_addr : 0, 4);  // DSDT
  b[45] = 0;                                               // preferred PM profile: unspecified
  put(b, 46, x86::kSciIrq, 2);                             // SCI_INT
  put(b, 48, 0, 4);  // SMI_CMD 0: no SMM, the system is always in ACPI mode
  put(b, 56, x86::kAcpiPm1aEvtPort, 4);
  put(b, 64, x86::kAcpiPm1aCntPort, 4);
  b[88] = x86::kAcpiPm1aEvtLen;
  b[89] = x86::kAcpiPm1aCntLen;
  put(b, 96, 101, 2);   // P_LVL2_LAT > 100: no C2
  put(b, 98, 1001, 2);  // P_LVL3_LAT > 1000: no C3
  b[108] = 0x32;        // CENTURY: the RTC's century register
  // IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042 | VGA not present.
  put(b, 109, 0x0001 | 0x0002 | 0x0004, 2);
  // Flags: WBINVD | PROC_C1 | PWR_BUTTON (none) | SLP_BUTTON (none) | RESET_REG_SUP.
  put(b, 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10), 4);
  put_gas(b, 116, kSystemIo, 8, 1, x86::kResetPort);
  b[128] = x86::kResetValue;
  b[131] = 0;  // FADT minor version: 6.0
  put(b, 132, facs_addr, 8);  // X_FIRMWARE_CTRL
  put(b, 140, dsdt_addr, 8);  // X_DSDT
  put_gas(b, 148, kSystemIo, x86::kAcpiPm1aEvtLen * 8, 0, x86::kAcpiPm1aEvtPort);
  put_gas(b, 172, kSystemIo, x86::kAcpiPm1aCntLen * 8, 0, x86::kAcpiPm1aCntPort);
  put_text(b, 268, "MINIVMM ");  // hypervisor vendor identity
  finish(b);
  return b;
}

Result<std::vector<uint8_t>> build_madt(uint32_t cpus) {
  if (cpus == 0 || cpus > kMaxCpus)
    return fail(ErrorCode::kInvalidArgument, "MADT: {} CPUs, must be 1..{}", cpus, kMaxCpus);
  Bytes b = table("APIC", 4, kHeaderSize + 8);
  put(b, 36, x86::kLapicAddr, 4);
  put(b, 40, 1, 4);  // PCAT_COMPAT: the guest also has a dual 8259
  auto add = [&](std::initializer_list<uint8_t> bytes) { b.insert(b.end(), bytes); };
  for (uint32_t i = 0; i < cpus; ++i) {
    uint8_t id = static_cast<uint8_t>(i);
    add({0, 8, id, id, 1, 0, 0, 0});  // Processor Local APIC: UID, APIC id, enabled
  }
  uint8_t ioapic_id = static_cast<uint8_t>(cpus);
  const auto io = static_cast<uint32_t>(x86::kIoapicAddr);
  add({1, 12, ioapic_id, 0, static_cast<uint8_t>(io), static_cast<uint8_t>(io >> 8), static_cast<uint8_t>(io >> 16),
       static_cast<uint8_t>(io >> 24), 0, 0, 0, 0});  // IOAPIC, GSI base 0
  // Interrupt source overrides: the PIT's IRQ0 arrives on GSI 2; the SCI is
  // level triggered, active high (flags: polarity 01, trigger 11).
  add({2, 10, 0, 0, 2, 0, 0, 0, 0, 0});
  add({2, 10, 0, x86::kSciIrq, x86::kSciIrq, 0, 0, 0, 0x0d, 0x00});
  // Local APIC NMI: LINT1 of every processor (UID 0xff).
  add({4, 6, 0xff, 0, 0, 1});
  finish(b);
  return b;
}

std::vector<uint8_t> build_mcfg(uint64_t ecam_base, uint16_t segment, uint8_t start_bus, uint8_t end_bus) {
  constexpr size_t kReserved = 8;
  constexpr size_t kEntrySize = 16;
  Bytes b = table("MCFG", 1, kHeaderSize + kReserved + kEntrySize);
  const size_t entry = kHeaderSize + kReserved;
  put(b, entry, ecam_base, 8);
  put(b, entry + 8, segment, 2);
  b[entry + 10] = start_bus;
  b[entry + 11] = end_bus;
  finish(b);
  return b;
}

std::vector<uint8_t> build_xsdt(const std::vector<uint64_t>& table_addrs) {
  Bytes b = table("XSDT", 1, kHeaderSize + 8 * table_addrs.size());
  for (size_t i = 0; i < table_addrs.size(); ++i) put(b, kHeaderSize + 8 * i, table_addrs[i], 8);
  finish(b);
  return b;
}

std::vector<uint8_t> build_rsdp(uint64_t xsdt_addr) {
  Bytes b(36, 0);
  put_text(b, 0, "RSD PTR ");
  put_text(b, 9, kOemId);
  b[15] = 2;        // revision: ACPI 2.0+ (XSDT)
  put(b, 16, 0, 4); // RsdtAddress: none, the XSDT is used
  put(b, 20, 36, 4);
  put(b, 24, xsdt_addr, 8);
  finish(b, 8, 20);   // checksum over the ACPI 1.0 part
  finish(b, 32, 36);  // extended checksum over all of it
  return b;
}

Result<AcpiLayout> write_acpi_tables(loader::GuestMemory& mem, uint64_t area_addr, uint64_t area_size,
                                     uint32_t cpus, const PlatformDescription& platform) {
  if (area_addr % 16 != 0)
    return fail(ErrorCode::kInvalidArgument, "ACPI: area {:#x} is not 16-byte aligned (RSDP scan)", area_addr);
  uint64_t area_end = 0;
  if (__builtin_add_overflow(area_addr, area_size, &area_end))
    return fail(ErrorCode::kOverflow, "ACPI: area {:#x} + size {:#x} wraps", area_addr, area_size);
  auto madt = build_madt(cpus);
  if (!madt) return std::unexpected(madt.error());

  // Addresses first (sizes do not depend on them), then the tables that point at others.
  AcpiLayout layout;
  uint64_t cursor = area_addr;
  auto place = [&](uint64_t size, uint64_t align) {
    uint64_t at = align_up(cursor, align);
    cursor = at + size;
    return at;
  };
  Bytes dsdt = build_dsdt(platform);
  uint64_t rsdp_addr = place(36, 16);
  uint64_t xsdt_addr = place(kHeaderSize + 8 * (2 + platform.acpi_tables.size()), 8);
  uint64_t facs_addr = place(64, 64);
  uint64_t fadt_addr = place(276, 8);
  uint64_t madt_addr = place(madt->size(), 8);
  uint64_t dsdt_addr = place(dsdt.size(), 8);
  std::vector<uint64_t> xsdt_entries{fadt_addr, madt_addr};
  for (const auto& extra : platform.acpi_tables) xsdt_entries.push_back(place(extra.size(), 8));
  if (cursor > area_end)
    return fail(ErrorCode::kTooLarge, "ACPI: tables need {:#x} bytes, the area at {:#x} has {:#x}",
                cursor - area_addr, area_addr, area_size);

  layout.rsdp_addr = rsdp_addr;
  layout.tables.push_back({"RSDP", rsdp_addr, build_rsdp(xsdt_addr)});
  layout.tables.push_back({"XSDT", xsdt_addr, build_xsdt(xsdt_entries)});
  layout.tables.push_back({"FACS", facs_addr, build_facs()});
  layout.tables.push_back({"FACP", fadt_addr, build_fadt(dsdt_addr, facs_addr)});
  layout.tables.push_back({"APIC", madt_addr, std::move(*madt)});
  layout.tables.push_back({"DSDT", dsdt_addr, std::move(dsdt)});
  for (size_t i = 0; i < platform.acpi_tables.size(); ++i) {
    const auto& extra = platform.acpi_tables[i];
    std::string signature = extra.size() >= 4 ? std::string(extra.begin(), extra.begin() + 4) : "????";
    layout.tables.push_back({std::move(signature), xsdt_entries[2 + i], extra});
  }
  for (const auto& t : layout.tables) {
    auto r = mem.write(loader::GuestAddress(t.address), std::as_bytes(std::span(t.bytes)));
    if (!r) return std::unexpected(with_context(r.error(), fmt::format("ACPI {}", t.signature)));
  }
  return layout;
}

}  // namespace boot::acpi
