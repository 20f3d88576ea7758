#include "devices/cmos_rtc.h"

#include "boot/acpi/aml.h"

#include <cstring>

namespace devices {

CmosRtc::CmosRtc(Clock clock) : clock_(std::move(clock)) {
  ram_[kStatusA] = 0x26;                   // 32.768 kHz time base, 1024 Hz periodic rate, UIP clear
  ram_[kStatusB] = kStatusB24Hour;         // 24-hour, BCD, no interrupts, no SET
  ram_[kStatusC] = 0x00;
  ram_[kStatusD] = kStatusDValidRam;
}

std::time_t CmosRtc::now() const {
  return (clock_ ? clock_() : std::time(nullptr)) + offset_;
}

uint8_t CmosRtc::encode(unsigned value) const {
  value %= 100;
  if (ram_[kStatusB] & kStatusBBinary) return static_cast<uint8_t>(value);
  return static_cast<uint8_t>(((value / 10) << 4) | (value % 10));
}

unsigned CmosRtc::decode(uint8_t value) const {
  if (ram_[kStatusB] & kStatusBBinary) return value;
  return (value >> 4) * 10u + (value & 0x0f);
}

uint8_t CmosRtc::encode_hour(unsigned hour) const {
  if (ram_[kStatusB] & kStatusB24Hour) return encode(hour);
  // 12-hour mode: 12, 1..11 with bit 7 marking PM.
  unsigned h12 = hour % 12 == 0 ? 12 : hour % 12;
  return static_cast<uint8_t>(encode(h12) | (hour >= 12 ? 0x80 : 0));
}

unsigned CmosRtc::decode_hour(uint8_t value) const {
  if (ram_[kStatusB] & kStatusB24Hour) return decode(value);
  unsigned h = decode(value & 0x7f) % 12;
  return (value & 0x80) ? h + 12 : h;
}

uint8_t CmosRtc::read_register(uint8_t index) {
  // While SET is on the guest is writing the time: show what it wrote.
  bool live = !(ram_[kStatusB] & kStatusBSet);
  std::tm tm{};
  if (live) {
    std::time_t t = now();
    gmtime_r(&t, &tm);
  }
  switch (index) {
    case kSeconds: return live ? encode(static_cast<unsigned>(tm.tm_sec % 60)) : ram_[index];
    case kMinutes: return live ? encode(static_cast<unsigned>(tm.tm_min)) : ram_[index];
    case kHours: return live ? encode_hour(static_cast<unsigned>(tm.tm_hour)) : ram_[index];
    case kWeekday: return live ? encode(static_cast<unsigned>(tm.tm_wday + 1)) : ram_[index];
    case kDayOfMonth: return live ? encode(static_cast<unsigned>(tm.tm_mday)) : ram_[index];
    case kMonth: return live ? encode(static_cast<unsigned>(tm.tm_mon + 1)) : ram_[index];
    case kYear: return live ? encode(static_cast<unsigned>((tm.tm_year + 1900) % 100)) : ram_[index];
    case kCentury: return live ? encode(static_cast<unsigned>((tm.tm_year + 1900) / 100)) : ram_[index];
    case kStatusA: return ram_[kStatusA] & ~kStatusAUpdateInProgress;
    case kStatusC: {
      uint8_t v = ram_[kStatusC];
      ram_[kStatusC] = 0;  // interrupt flags clear on read
      return v;
    }
    case kStatusD: return kStatusDValidRam;
    default: return ram_[index];
  }
}

std::tm CmosRtc::time_registers_to_tm() const {
  std::tm tm{};
  tm.tm_sec = static_cast<int>(decode(ram_[kSeconds]));
  tm.tm_min = static_cast<int>(decode(ram_[kMinutes]));
  tm.tm_hour = static_cast<int>(decode_hour(ram_[kHours]));
  tm.tm_mday = static_cast<int>(decode(ram_[kDayOfMonth]));
  tm.tm_mon = static_cast<int>(decode(ram_[kMonth])) - 1;
  unsigned century = decode(ram_[kCentury]);
  if (century == 0) century = 20;
  tm.tm_year = static_cast<int>(century * 100 + decode(ram_[kYear])) - 1900;
  return tm;
}

void CmosRtc::write_register(uint8_t index, uint8_t value) {
  switch (index) {
    case kStatusA: ram_[kStatusA] = value & ~kStatusAUpdateInProgress; return;
    case kStatusB: {
      bool was_set = ram_[kStatusB] & kStatusBSet;
      if (!was_set && (value & kStatusBSet)) {
        // Entering SET: freeze the current time into the registers so a
        // partial update (say, minutes only) keeps the other fields.
        std::time_t t = now();
        std::tm tm{};
        gmtime_r(&t, &tm);
        ram_[kStatusB] = value & ~kStatusBSet;  // encode with the new format
        ram_[kSeconds] = encode(static_cast<unsigned>(tm.tm_sec % 60));
        ram_[kMinutes] = encode(static_cast<unsigned>(tm.tm_min));
        ram_[kHours] = encode_hour(static_cast<unsigned>(tm.tm_hour));
        ram_[kWeekday] = encode(static_cast<unsigned>(tm.tm_wday + 1));
        ram_[kDayOfMonth] = encode(static_cast<unsigned>(tm.tm_mday));
        ram_[kMonth] = encode(static_cast<unsigned>(tm.tm_mon + 1));
        ram_[kYear] = encode(static_cast<unsigned>((tm.tm_year + 1900) % 100));
        ram_[kCentury] = encode(static_cast<unsigned>((tm.tm_year + 1900) / 100));
      }
      ram_[kStatusB] = value;
      if (was_set && !(value & kStatusBSet)) {
        // Leaving SET: the guest's time becomes the clock, as an offset from the host's.
        std::tm tm = time_registers_to_tm();
        std::time_t guest = timegm(&tm);
        if (guest != static_cast<std::time_t>(-1)) {
          offset_ = guest - (clock_ ? clock_() : std::time(nullptr));
        }
      }
      return;
    }
    case kStatusC:
    case kStatusD: return;  // read-only
    default: ram_[index] = value; return;
  }
}

void CmosRtc::read(uint64_t offset, std::span<std::byte> data) {
  if (data.empty()) return;
  std::memset(data.data(), 0xff, data.size());
  std::lock_guard lock(mutex_);
  if (offset == 1) data[0] = std::byte{read_register(index_)};
  // The index port is write-only: reads float high.
}

void CmosRtc::write(uint64_t offset, std::span<const std::byte> data) {
  if (data.empty()) return;
  std::lock_guard lock(mutex_);
  uint8_t value = std::to_integer<uint8_t>(data[0]);
  if (offset == 0) {
    index_ = value & 0x7f;
    nmi_disabled_ = value & 0x80;
  } else if (offset == 1) {
    write_register(index_, value);
  }
}

bool CmosRtc::nmi_disabled() const {
  std::lock_guard lock(mutex_);
  return nmi_disabled_;
}

void CmosRtc::describe(boot::PlatformDescription& platform) const {
  namespace aml = boot::aml;
  platform.dsdt_sb.push_back(aml::device("RTC_", {
      aml::name("_HID", aml::eisa_id("PNP0B00")),
      aml::name("_STA", aml::integer(0x0f)),
      aml::name("_CRS", aml::resource_template({aml::io_port(0x70, 0x70, 0x01, 2), aml::irq_no_flags(1u << 8)})),
  }));
}

}  // namespace devices
