// The CMOS real-time clock at ports 0x70 (index, bit 7 = NMI mask) and 0x71
// (data): time and date from the host clock, in BCD or binary and in 24- or
// 12-hour form as status register B says, and status registers that read as
// a healthy, idle clock (A: no update in progress; C: no interrupt flags;
// D: valid RAM and time). Without it a guest reads all ones there and spins
// waiting for UIP to clear, then reports a broken RTC. The rest of the 128
// bytes are plain CMOS RAM.
//
// Register it as one range of two ports: index at device offset 0, data at 1.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <mutex>
#include <span>

#include "devices/platform_device.h"

namespace devices {

class CmosRtc : public PlatformDevice {
 public:
  // Seconds since the epoch, UTC (the guest treats the RTC as UTC).
  using Clock = std::function<std::time_t()>;

  enum : uint8_t {
    kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03, kHours = 0x04,
    kHoursAlarm = 0x05, kWeekday = 0x06, kDayOfMonth = 0x07, kMonth = 0x08, kYear = 0x09,
    kStatusA = 0x0a, kStatusB = 0x0b, kStatusC = 0x0c, kStatusD = 0x0d, kCentury = 0x32,
  };
  static constexpr uint8_t kStatusAUpdateInProgress = 0x80;
  static constexpr uint8_t kStatusBSet = 0x80, kStatusB24Hour = 0x02, kStatusBBinary = 0x04;
  static constexpr uint8_t kStatusDValidRam = 0x80;

  explicit CmosRtc(Clock clock = {});

  // Ports 0x70/0x71; IRQ 8 is described but never raised (no alarm or periodic interrupts).
  std::string_view name() const override { return "cmos rtc"; }
  std::vector<Window> windows() const override { return {{BusKind::kPio, 0x70, 2, 0, "cmos rtc"}}; }
  void describe(boot::PlatformDescription& platform) const override;

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  bool nmi_disabled() const;

 private:
  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t value);
  std::time_t now() const;
  uint8_t encode(unsigned value) const;       // BCD or binary, per register B
  unsigned decode(uint8_t value) const;
  uint8_t encode_hour(unsigned hour) const;   // 12/24 hour, per register B
  unsigned decode_hour(uint8_t value) const;
  std::tm time_registers_to_tm() const;

  Clock clock_;
  mutable std::mutex mutex_;
  std::array<uint8_t, 128> ram_{};
  uint8_t index_ = 0;
  bool nmi_disabled_ = false;
  std::time_t offset_ = 0;  // guest-set time minus host time
};

}  // namespace devices
