// The ACPI fixed-hardware PM1a register blocks a PC guest uses to power
// itself off: the FADT points the kernel at them, and the DSDT's \_S5 package
// tells it which SLP_TYP value means "soft off". Linux's poweroff writes
// SLP_TYP = \_S5 with SLP_EN (bit 13) to PM1a_CNT; that write is the one
// thing this device acts on, through the callback it is given.
//
// One 6-byte window: PM1a_EVT_BLK (status at offset 0, enable at 2, 16 bits
// each) followed by PM1a_CNT_BLK (control at offset 4, 16 bits), which is
// how boot/layout_x86.h lays them out at ports 0x600 and 0x604.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "devices/platform_device.h"

namespace devices {

class AcpiPm : public PlatformDevice {
 public:
  using PowerOffRequest = std::function<void()>;

  static constexpr uint64_t kRegisterCount = 6;
  static constexpr uint64_t kStatusOffset = 0;
  static constexpr uint64_t kEnableOffset = 2;
  static constexpr uint64_t kControlOffset = 4;

  // PM1_CNT bits (ACPI 6.x, table 4.13).
  static constexpr uint16_t kSciEn = 1u << 0;
  static constexpr uint16_t kSlpTypShift = 10;
  static constexpr uint16_t kSlpTypMask = 0x7u << kSlpTypShift;
  static constexpr uint16_t kSlpEn = 1u << 13;
  // PM1_STS bits the guest may see set; the rest read 0.
  static constexpr uint16_t kWakSts = 1u << 15;

  // s5_slp_typ: the first value of the DSDT's \_S5 package (0..7).
  AcpiPm(uint8_t s5_slp_typ, PowerOffRequest poweroff);
  // The PM1a event+control block at `port` (what the FADT names); the \_S5
  // object it describes carries s5_slp_typ; poweroff reaches `control`.
  AcpiPm(uint16_t port, uint8_t s5_slp_typ, MachineControl control);

  std::string_view name() const override { return "acpi pm1a"; }
  std::vector<Window> windows() const override { return {{BusKind::kPio, port_, kRegisterCount, 0, "acpi pm1a"}}; }
  void describe(boot::PlatformDescription& platform) const override;

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  uint64_t poweroff_requests() const;
  // Sleep requests (SLP_EN) for a state other than S5: ignored, counted.
  uint64_t ignored_sleep_requests() const;

 private:
  uint8_t register_byte(uint64_t offset) const;

  uint16_t port_ = 0x600;
  uint8_t s5_slp_typ_;
  PowerOffRequest poweroff_;
  mutable std::mutex mutex_;
  uint16_t status_ = 0;
  uint16_t enable_ = 0;
  // SCI_EN reads 1: with SMI_CMD 0 in the FADT the machine is always in ACPI mode.
  uint16_t control_ = kSciEn;
  uint64_t poweroff_requests_ = 0;
  uint64_t ignored_sleep_requests_ = 0;
};

}  // namespace devices
