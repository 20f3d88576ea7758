#include "devices/i8042.h"

#include "boot/acpi/aml.h"

#include <cstring>

namespace devices {

namespace {
// Keyboard commands that take a parameter byte (LEDs, typematic rate, scan code set).
constexpr uint8_t kKbdSetLeds = 0xed, kKbdEcho = 0xee, kKbdScanCodeSet = 0xf0, kKbdGetId = 0xf2,
                  kKbdTypematic = 0xf3, kKbdReset = 0xff;
constexpr uint8_t kKbdAck = 0xfa, kKbdSelfTestPassed = 0xaa;
constexpr size_t kOutputCapacity = 16;
}  // namespace

I8042::I8042(ResetRequest reset, IrqLine kbd_irq, IrqLine aux_irq)
    : reset_(std::move(reset)), kbd_irq_(std::move(kbd_irq)), aux_irq_(std::move(aux_irq)) {}

I8042::I8042(MachineControl control)
    : reset_([control = std::move(control)] { control(MachineRequest::kReset, "guest reset through the i8042"); }) {}

std::vector<Window> I8042::windows() const {
  return {{BusKind::kPio, 0x60, 1, kDataOffset, "i8042 data"}, {BusKind::kPio, 0x64, 1, kCommandOffset, "i8042 command"}};
}

// The keyboard on IRQ 1, the AUX port on IRQ 12, edge-triggered as ISA interrupts are.
std::vector<IrqRequest> I8042::irqs() const {
  return {{1, boot::IrqTrigger::kEdge}, {12, boot::IrqTrigger::kEdge}};
}

void I8042::connect_irqs(std::vector<IrqLine> lines) {
  std::lock_guard lock(mutex_);
  if (lines.size() > 0) kbd_irq_ = std::move(lines[0]);
  if (lines.size() > 1) aux_irq_ = std::move(lines[1]);
}

void I8042::describe(boot::PlatformDescription& platform) const {
  namespace aml = boot::aml;
  platform.dsdt_sb.push_back(aml::device("PS2K", {
      aml::name("_HID", aml::eisa_id("PNP0303")),
      aml::name("_STA", aml::integer(0x0f)),
      aml::name("_CRS", aml::resource_template({aml::io_port(0x60, 0x60, 0x01, 1), aml::io_port(0x64, 0x64, 0x01, 1),
                                                aml::irq_no_flags(1u << 1)})),
  }));
}

void I8042::read(uint64_t offset, std::span<std::byte> data) {
  if (data.empty()) return;
  std::memset(data.data(), 0xff, data.size());
  std::lock_guard lock(mutex_);
  uint8_t value = 0xff;
  if (offset == kDataOffset) {
    if (!output_.empty()) {
      value = output_.front().value;
      output_.pop_front();
      update_irqs(!output_.empty());
    } else {
      value = 0;  // an empty output buffer reads the last value on hardware; 0 is as good
    }
  } else if (offset == kCommandOffset) {
    value = kStatusSystem | kStatusUnlocked;
    if (!output_.empty()) {
      value |= kStatusOutputFull;
      if (output_.front().aux) value |= kStatusAuxData;
      if (output_.front().timeout) value |= kStatusTimeout;
    }
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
    update_irqs(false);
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
    case kCmdWriteOutputPort:
    case kCmdWriteKbdOutput:
    case kCmdWriteAuxOutput:
    case kCmdWriteAux: pending_command_ = cmd; break;
    case kCmdDisableAux: command_byte_ |= kCtrAuxDisable; break;
    case kCmdEnableAux: command_byte_ &= ~kCtrAuxDisable; break;
    case kCmdTestAux: push_output(0x00); break;  // interface lines fine (nothing plugged in is not an error)
    case kCmdSelfTest: push_output(0x55); break;
    case kCmdTestKbd: push_output(0x00); break;
    case kCmdDisableKbd: command_byte_ |= kCtrKbdDisable; break;
    case kCmdEnableKbd: command_byte_ &= ~kCtrKbdDisable; break;
    case kCmdReadOutputPort: push_output(0x01); break;  // bit 0: CPU not in reset
    default:
      // 0xf0..0xff pulse output-port lines low for 6 us; bit 0 is the CPU reset line.
      if (cmd >= 0xf0 && (cmd & 0x01) == 0) ++reset_requests_;
      break;
  }
}

void I8042::data(uint8_t value) {
  uint8_t pending = pending_command_;
  pending_command_ = 0;
  switch (pending) {
    case kCmdWriteCommandByte: command_byte_ = value; break;
    case kCmdWriteOutputPort:
      if ((value & 0x01) == 0) ++reset_requests_;
      break;
    case kCmdWriteKbdOutput: push_output(value); break;
    case kCmdWriteAuxOutput: push_output(value, /*aux=*/true); break;
    case kCmdWriteAux:
      // No mouse behind the AUX port: the controller times the byte out.
      push_output(kNoDevice, /*aux=*/true, /*timeout=*/true);
      break;
    default: keyboard(value); break;
  }
}

// A byte for the keyboard: answer as a PS/2 keyboard does, so atkbd's probe
// (reset, get ID, LEDs, scan code set) gets its replies at once.
void I8042::keyboard(uint8_t value) {
  if (keyboard_command_ != 0) {
    uint8_t cmd = keyboard_command_;
    keyboard_command_ = 0;
    push_output(kKbdAck);
    if (cmd == kKbdScanCodeSet && value == 0) push_output(0x02);  // "which set": set 2
    return;
  }
  switch (value) {
    case kKbdEcho: push_output(kKbdEcho); break;
    case kKbdReset:
      push_output(kKbdAck);
      push_output(kKbdSelfTestPassed);
      break;
    case kKbdGetId:
      push_output(kKbdAck);
      push_output(0xab);  // MF2 keyboard
      push_output(0x83);
      break;
    case kKbdSetLeds:
    case kKbdScanCodeSet:
    case kKbdTypematic:
      keyboard_command_ = value;
      push_output(kKbdAck);
      break;
    default: push_output(kKbdAck); break;
  }
}

void I8042::push_output(uint8_t value, bool aux, bool timeout) {
  if (output_.size() >= kOutputCapacity) return;
  output_.push_back({value, aux, timeout});
  if (output_.size() == 1) update_irqs(true);
}

void I8042::update_irqs(bool new_front) {
  const OutputByte* front = output_.empty() ? nullptr : &output_.front();
  auto drive = [new_front](const IrqLine& line, bool& level, bool want) {
    if (want && (!level || new_front)) {
      if (level && line) line(false);  // the byte already signalled left; this one needs its own edge
      if (line) line(true);
      level = true;
    } else if (!want && level) {
      if (line) line(false);
      level = false;
    }
  };
  drive(kbd_irq_, kbd_level_, front && !front->aux && (command_byte_ & kCtrKbdInt));
  drive(aux_irq_, aux_level_, front && front->aux && (command_byte_ & kCtrAuxInt));
}

uint64_t I8042::reset_requests() const {
  std::lock_guard lock(mutex_);
  return reset_requests_;
}

}  // namespace devices
