// The i8042 keyboard controller, as much of it as a VMM needs: a status
// register that reads sane, the controller commands firmware and Linux use
// (command byte, self tests, port enable/disable), and the CPU reset line —
// 0xfe written to port 0x64, or an output-port write clearing bit 0 — which
// is how a PC guest reboots. There is no keyboard behind it: keyboard
// commands are acknowledged and nothing else.
//
// Register it twice: data port 0x60 at device offset 0, command/status port
// 0x64 at device offset 4.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/device.h"

namespace devices {

class I8042 : public Device {
 public:
  using ResetRequest = std::function<void()>;

  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kCommandOffset = 4;
  // Status bits.
  static constexpr uint8_t kStatusOutputFull = 0x01, kStatusInputFull = 0x02, kStatusSystem = 0x04,
                           kStatusCommand = 0x08, kStatusUnlocked = 0x10;
  // Controller commands.
  static constexpr uint8_t kCmdReadCommandByte = 0x20, kCmdWriteCommandByte = 0x60, kCmdDisableAux = 0xa7,
                           kCmdEnableAux = 0xa8, kCmdTestAux = 0xa9, kCmdSelfTest = 0xaa, kCmdTestKbd = 0xab,
                           kCmdDisableKbd = 0xad, kCmdEnableKbd = 0xae, kCmdReadOutputPort = 0xd0,
                           kCmdWriteOutputPort = 0xd1, kCmdPulseReset = 0xfe;

  explicit I8042(ResetRequest reset);

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  uint64_t reset_requests() const;

 private:
  void command(uint8_t cmd);
  void data(uint8_t value);
  void push_output(uint8_t value);

  ResetRequest reset_;
  mutable std::mutex mutex_;
  std::deque<uint8_t> output_;
  uint8_t command_byte_ = 0x45;  // translate, system flag, keyboard interrupt on, as firmware leaves it
  uint8_t pending_command_ = 0;  // controller command waiting for its data byte
  bool last_write_was_command_ = false;
  uint64_t reset_requests_ = 0;
};

}  // namespace devices
