#include "devices/i8042.h"

#include <cstring>

namespace devices {

I8042::I8042(ResetRequest reset) : reset_(std::move(reset)) {}

void I8042::read(uint64_t offset, std::span<std::byte> data) {
  if (data.empty()) return;
  std::memset(data.data(), 0xff, data.size());
  std::lock_guard lock(mutex_);
  uint8_t value = 0xff;
  if (offset == kDataOffset) {
    if (!output_.empty()) {
      value = output_.front();
      output_.pop_front();
    } else {
      value = 0;  // an empty output buffer reads the last value on hardware; 0 is as good
    }
  } else if (offset == kCommandOffset) {
    value = kStatusSystem | kStatusUnlocked;
    if (!output_.empty()) value |= kStatusOutputFull;
    if (last_write_was_command_) value |= kStatusCommand;
  }
  data[0] = std::byte{value};
}

void I8042::write(uint64_t offset, std::span<const std::byte> data) {
  if (data.empty()) return;
  bool reset = false;
  {
    std::lock_guard lock(mutex_);
    uint64_t before = reset_requests_;
    uint8_t value = std::to_integer<uint8_t>(data[0]);
    if (offset == kCommandOffset) {
      last_write_was_command_ = true;
      command(value);
    } else if (offset == kDataOffset) {
      last_write_was_command_ = false;
      this->data(value);
    }
    reset = reset_requests_ != before;
  }
  // Outside the lock: the callback may tear the VM down.
  if (reset && reset_) reset_();
}

void I8042::command(uint8_t cmd) {
  pending_command_ = 0;
  switch (cmd) {
    case kCmdReadCommandByte: push_output(command_byte_); break;
    case kCmdWriteCommandByte:
    case kCmdWriteOutputPort: pending_command_ = cmd; break;
    case kCmdDisableAux: command_byte_ |= 0x20; break;
    case kCmdEnableAux: command_byte_ &= ~0x20; break;
    case kCmdTestAux: push_output(0x00); break;
    case kCmdSelfTest: push_output(0x55); break;
    case kCmdTestKbd: push_output(0x00); break;
    case kCmdDisableKbd: command_byte_ |= 0x10; break;
    case kCmdEnableKbd: command_byte_ &= ~0x10; break;
    case kCmdReadOutputPort: push_output(0x01); break;  // bit 0: CPU not in reset
    default:
      // 0xf0..0xff pulse output-port lines low for 6 us; bit 0 is the CPU reset line.
      if (cmd >= 0xf0 && (cmd & 0x01) == 0) ++reset_requests_;
      break;
  }
}

void I8042::data(uint8_t value) {
  switch (pending_command_) {
    case kCmdWriteCommandByte: command_byte_ = value; break;
    case kCmdWriteOutputPort:
      if ((value & 0x01) == 0) ++reset_requests_;
      break;
    default:
      // A byte for the keyboard; there is none, but acknowledge so drivers move on.
      push_output(0xfa);
      if (value == 0xff) push_output(0xaa);  // reset: ACK then self-test passed
      break;
  }
  pending_command_ = 0;
}

void I8042::push_output(uint8_t value) {
  if (output_.size() < 16) output_.push_back(value);
}

uint64_t I8042::reset_requests() const {
  std::lock_guard lock(mutex_);
  return reset_requests_;
}

}  // namespace devices
