#include "boot/mptable.h"

#include <cstring>

#include "boot/layout_x86.h"

namespace boot {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr size_t kFloatingPointerSize = 16;
constexpr size_t kConfigHeaderSize = 44;
constexpr uint8_t kSpecRev = 4;  // MP spec 1.4
constexpr uint8_t kApicVersion = 0x14;
constexpr uint8_t kIoapicVersion = 0x11;

enum EntryType : uint8_t { kProcessor = 0, kBus = 1, kIoapic = 2, kIoInterrupt = 3, kLocalInterrupt = 4 };
enum InterruptType : uint8_t { kInt = 0, kNmi = 1, kSmi = 2, kExtInt = 3 };

void put(Bytes& b, size_t offset, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) b[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

void append_le(Bytes& b, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t negated_sum(const uint8_t* data, size_t len) {
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + data[i]);
  return static_cast<uint8_t>(-sum);
}

}  // namespace

Result<std::vector<uint8_t>> build_mptable(uint64_t addr, uint32_t cpus, std::span<const MpPciInterrupt> pci) {
  if (cpus == 0 || cpus > kMptableMaxCpus)
    return fail(ErrorCode::kInvalidArgument, "MP table: {} CPUs, must be 1..{}", cpus, kMptableMaxCpus);
  if (addr % 16 != 0 || addr > 0xffffffff - kFloatingPointerSize)
    return fail(ErrorCode::kInvalidArgument, "MP table: address {:#x} must be 16-byte aligned and below 4 GiB", addr);

  const uint64_t config_addr = addr + kFloatingPointerSize;
  Bytes config(kConfigHeaderSize, 0);
  std::memcpy(config.data(), "PCMP", 4);
  config[6] = kSpecRev;
  std::memcpy(config.data() + 8, "MINIVMM ", 8);
  std::memcpy(config.data() + 16, "MINIVMM     ", 12);
  put(config, 36, x86::kLapicAddr, 4);
  uint16_t entries = 0;

  for (uint32_t i = 0; i < cpus; ++i) {
    config.push_back(kProcessor);
    config.push_back(static_cast<uint8_t>(i));        // local APIC id
    config.push_back(kApicVersion);
    config.push_back(static_cast<uint8_t>(i == 0 ? 0x03 : 0x01));  // EN, and BP on the first
    append_le(config, 0x600, 4);                       // signature: family 6
    append_le(config, (1u << 0) | (1u << 9), 4);       // features: FPU, APIC
    append_le(config, 0, 8);
    ++entries;
  }
  // Linux looks a PCI device's bus number up as an MP bus id, so PCI bus 0
  // must be MP bus 0 and the ISA bus goes after it (as SeaBIOS does).
  const uint8_t pci_bus_id = 0;
  const uint8_t bus_id = pci.empty() ? 0 : 1;  // ISA
  if (!pci.empty()) {
    config.push_back(kBus);
    config.push_back(pci_bus_id);
    for (char c : std::string_view("PCI   ")) config.push_back(static_cast<uint8_t>(c));
    ++entries;
  }
  config.push_back(kBus);
  config.push_back(bus_id);
  for (char c : std::string_view("ISA   ")) config.push_back(static_cast<uint8_t>(c));
  ++entries;

  const auto ioapic_id = static_cast<uint8_t>(cpus);
  config.push_back(kIoapic);
  config.push_back(ioapic_id);
  config.push_back(kIoapicVersion);
  config.push_back(0x01);  // enabled
  append_le(config, x86::kIoapicAddr, 4);
  ++entries;

  auto io_interrupt = [&](uint8_t type, uint8_t irq, uint8_t pin) {
    config.insert(config.end(), {kIoInterrupt, type, 0, 0, bus_id, irq, ioapic_id, pin});
    ++entries;
  };
  // The 8259 behind pin 0 (virtual wire through the IOAPIC), the PIT's IRQ0
  // on pin 2 as on every PC, the other ISA IRQs on their own pins; IRQ2 is
  // the cascade and has no line of its own.
  io_interrupt(kExtInt, 0, 0);
  io_interrupt(kInt, 0, 2);
  for (uint8_t irq = 1; irq < 16; ++irq)
    if (irq != 2) io_interrupt(kInt, irq, irq);
  for (const MpPciInterrupt& e : pci) {
    if (e.device >= 32 || e.pin > 3)
      return fail(ErrorCode::kInvalidArgument, "MP table: PCI interrupt for device {} pin {} (device < 32, pin 0..3)",
                  e.device, e.pin);
    // Flags: polarity active low (3), trigger level (3 << 2), as PCI INTx is.
    // The source IRQ is the device number and the pin, MP spec 1.4 D.3.
    config.insert(config.end(), {kIoInterrupt, kInt, 0x0f, 0, pci_bus_id,
                                 static_cast<uint8_t>(e.device << 2 | e.pin), ioapic_id, e.ioapic_pin});
    ++entries;
  }

  auto local_interrupt = [&](uint8_t type, uint8_t lint) {
    config.insert(config.end(), {kLocalInterrupt, type, 0, 0, bus_id, 0, 0xff, lint});
    ++entries;
  };
  local_interrupt(kExtInt, 0);
  local_interrupt(kNmi, 1);

  put(config, 4, config.size(), 2);  // base table length
  put(config, 34, entries, 2);
  config[7] = negated_sum(config.data(), config.size());

  Bytes out(kFloatingPointerSize, 0);
  std::memcpy(out.data(), "_MP_", 4);
  put(out, 4, config_addr, 4);
  out[8] = 1;  // length in 16-byte units
  out[9] = kSpecRev;
  out[10] = negated_sum(out.data(), kFloatingPointerSize);
  out.insert(out.end(), config.begin(), config.end());
  return out;
}

Result<MptableLayout> write_mptable(loader::GuestMemory& mem, uint64_t addr, uint64_t area_size, uint32_t cpus,
                                    std::span<const MpPciInterrupt> pci) {
  auto bytes = build_mptable(addr, cpus, pci);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->size() > area_size)
    return fail(ErrorCode::kTooLarge, "MP table: {} bytes for {} CPUs exceed the {:#x} bytes at {:#x}", bytes->size(),
                cpus, area_size, addr);
  if (auto r = mem.write(loader::GuestAddress(addr), std::as_bytes(std::span(*bytes))); !r)
    return std::unexpected(with_context(r.error(), "MP table"));
  MptableLayout layout;
  layout.floating_pointer_addr = addr;
  layout.config_table_addr = addr + kFloatingPointerSize;
  layout.size = bytes->size();
  layout.entry_count = static_cast<uint16_t>((*bytes)[kFloatingPointerSize + 34] |
                                             ((*bytes)[kFloatingPointerSize + 35] << 8));
  return layout;
}

}  // namespace boot
