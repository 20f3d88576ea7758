// The i8042 keyboard controller, as much of it as a VMM needs: a status
// register that reads sane, the controller commands firmware and Linux use
// (command byte, self tests, port enable/disable, the keyboard and AUX
// loopback writes 0xd2/0xd3), a keyboard that answers the commands Linux's
// atkbd sends, an AUX (mouse) port with nothing plugged in, the keyboard and
// AUX interrupts (IRQ1/IRQ12), and the CPU reset line — 0xfe written to port
// 0x64, or an output-port write clearing bit 0 — which is how a PC guest
// reboots.
//
// Why the interrupts matter: Linux's i8042 probe checks AUX IRQ delivery by
// looping a byte back through 0xd3 with IRQ12 enabled and waiting up to 250 ms
// for the interrupt; atkbd and psmouse wait for every reply byte on IRQ1 or
// IRQ12. A controller that never interrupts leaves all of that to timer
// timeouts (and a guest whose timer stalls, stuck there for good).
//
// The output buffer is a queue (the real part holds one byte and makes the
// keyboard wait); each byte remembers whether it came from the AUX side, which
// the status register's AUXDATA bit reports while it is at the front. An
// interrupt line is raised while the front byte belongs to its port and the
// command byte enables that port's interrupt; each new byte at the front is a
// new edge (the ISA lines are edge-triggered).
//
// Register it twice: data port 0x60 at device offset 0, command/status port
// 0x64 at device offset 4.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/platform_device.h"

namespace devices {

class I8042 : public PlatformDevice {
 public:
  using ResetRequest = std::function<void()>;

  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kCommandOffset = 4;
  // Status bits.
  static constexpr uint8_t kStatusOutputFull = 0x01, kStatusInputFull = 0x02, kStatusSystem = 0x04,
                           kStatusCommand = 0x08, kStatusUnlocked = 0x10, kStatusAuxData = 0x20,
                           kStatusTimeout = 0x40;
  // Command byte (CTR) bits.
  static constexpr uint8_t kCtrKbdInt = 0x01, kCtrAuxInt = 0x02, kCtrKbdDisable = 0x10, kCtrAuxDisable = 0x20;
  // Controller commands.
  static constexpr uint8_t kCmdReadCommandByte = 0x20, kCmdWriteCommandByte = 0x60, kCmdDisableAux = 0xa7,
                           kCmdEnableAux = 0xa8, kCmdTestAux = 0xa9, kCmdSelfTest = 0xaa, kCmdTestKbd = 0xab,
                           kCmdDisableKbd = 0xad, kCmdEnableKbd = 0xae, kCmdReadOutputPort = 0xd0,
                           kCmdWriteOutputPort = 0xd1, kCmdWriteKbdOutput = 0xd2, kCmdWriteAuxOutput = 0xd3,
                           kCmdWriteAux = 0xd4, kCmdPulseReset = 0xfe;
  // What a PS/2 device with nothing behind it answers (with the timeout bit).
  static constexpr uint8_t kNoDevice = 0xfe;

  // `kbd_irq` and `aux_irq` drive IRQ1 and IRQ12; either may be empty.
  explicit I8042(ResetRequest reset, IrqLine kbd_irq = {}, IrqLine aux_irq = {});
  // A PC's i8042 at ports 0x60/0x64 on IRQ 1 and 12; a pulsed reset line
  // reaches `control` as a reset request.
  explicit I8042(MachineControl control);

  std::string_view name() const override { return "i8042"; }
  std::vector<Window> windows() const override;
  std::vector<IrqRequest> irqs() const override;
  void connect_irqs(std::vector<IrqLine> lines) override;
  void describe(boot::PlatformDescription& platform) const override;

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  uint64_t reset_requests() const;

 private:
  struct OutputByte {
    uint8_t value;
    bool aux;
    bool timeout;
  };

  void command(uint8_t cmd);
  void data(uint8_t value);
  void keyboard(uint8_t value);
  void push_output(uint8_t value, bool aux = false, bool timeout = false);
  // Re-evaluates both lines; `new_front` says a different byte reached the
  // front, which must be a new edge even when the line was already up.
  void update_irqs(bool new_front);

  ResetRequest reset_;
  IrqLine kbd_irq_;
  IrqLine aux_irq_;
  mutable std::mutex mutex_;
  std::deque<OutputByte> output_;
  uint8_t command_byte_ = 0x45;  // translate, system flag, keyboard interrupt on, as firmware leaves it
  uint8_t pending_command_ = 0;  // controller command waiting for its data byte
  uint8_t keyboard_command_ = 0; // keyboard command waiting for its parameter byte
  bool last_write_was_command_ = false;
  bool kbd_level_ = false;
  bool aux_level_ = false;
  uint64_t reset_requests_ = 0;
};

}  // namespace devices
