#include "devices/acpi_pm.h"

#include "boot/acpi/aml.h"

#include <utility>

namespace devices {

AcpiPm::AcpiPm(uint8_t s5_slp_typ, PowerOffRequest poweroff)
    : s5_slp_typ_(static_cast<uint8_t>(s5_slp_typ & 0x7)), poweroff_(std::move(poweroff)) {}

AcpiPm::AcpiPm(uint16_t port, uint8_t s5_slp_typ, MachineControl control)
    : AcpiPm(s5_slp_typ, [control = std::move(control)] {
        control(MachineRequest::kPowerOff, "guest powered off through ACPI");
      }) {
  port_ = port;
}

void AcpiPm::describe(boot::PlatformDescription& platform) const {
  // \_S5: the SLP_TYP values Linux writes for soft-off, so poweroff reaches this device.
  namespace aml = boot::aml;
  platform.dsdt_root.push_back(aml::name("\\_S5_", aml::package({aml::integer(s5_slp_typ_), aml::integer(s5_slp_typ_),
                                                                  aml::integer(0), aml::integer(0)})));
}

uint8_t AcpiPm::register_byte(uint64_t offset) const {
  uint16_t value = 0;
  if (offset < kEnableOffset) {
    value = status_;
  } else if (offset < kControlOffset) {
    value = enable_;
  } else {
    value = control_;  // SLP_EN is write-only: never stored, reads 0
  }
  return static_cast<uint8_t>(offset % 2 == 0 ? value : value >> 8);
}

void AcpiPm::read(uint64_t offset, std::span<std::byte> data) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size(); ++i) {
    // Bytes past the window (a wide access at its end) read as an absent port.
    uint64_t at = offset + i;
    data[i] = at >= offset && at < kRegisterCount ? std::byte{register_byte(at)} : std::byte{0xff};
  }
}

void AcpiPm::write(uint64_t offset, std::span<const std::byte> data) {
  bool poweroff = false;
  {
    std::lock_guard lock(mutex_);
    // Gather the written bytes per 16-bit register first: SLP_TYP and SLP_EN
    // share the high byte of PM1_CNT, and a 32-bit write may span registers.
    uint16_t value[3] = {};
    uint16_t mask[3] = {};
    for (size_t i = 0; i < data.size(); ++i) {
      uint64_t at = offset + i;
      if (at < offset || at >= kRegisterCount) continue;
      unsigned shift = at % 2 == 0 ? 0 : 8;
      value[at / 2] |= static_cast<uint16_t>(std::to_integer<uint16_t>(data[i]) << shift);
      mask[at / 2] |= static_cast<uint16_t>(0xffu << shift);
    }
    // PM1_STS: write 1 to clear.
    status_ &= static_cast<uint16_t>(~(value[0] & mask[0]));
    enable_ = static_cast<uint16_t>((enable_ & ~mask[1]) | (value[1] & mask[1]));
    if (mask[2] != 0) {
      uint16_t cnt = static_cast<uint16_t>((control_ & ~mask[2]) | (value[2] & mask[2]));
      if (cnt & kSlpEn) {
        uint8_t slp_typ = static_cast<uint8_t>((cnt & kSlpTypMask) >> kSlpTypShift);
        if (slp_typ == s5_slp_typ_) {
          ++poweroff_requests_;
          poweroff = true;
        } else {
          ++ignored_sleep_requests_;
        }
      }
      // SCI_EN stays set (no legacy mode to return to); SLP_EN is self-clearing.
      control_ = static_cast<uint16_t>((cnt & ~kSlpEn) | kSciEn);
    }
  }
  // Outside the lock: the callback may tear the VM down.
  if (poweroff && poweroff_) poweroff_();
}

uint64_t AcpiPm::poweroff_requests() const {
  std::lock_guard lock(mutex_);
  return poweroff_requests_;
}

uint64_t AcpiPm::ignored_sleep_requests() const {
  std::lock_guard lock(mutex_);
  return ignored_sleep_requests_;
}

}  // namespace devices
