// libFuzzer target: a guest poking the platform devices through the bus the
// way a vCPU does — the 16550A, i8042, CMOS RTC, ACPI PM1a and POST code on
// port I/O where x86 puts them, the PLIC and an MMIO 16550A where riscv64
// puts them — with host-side events (console input, device interrupt lines,
// the clock) in between. Nothing may crash, and the bus contract must hold:
//   - an access reaches a device only when it lies wholly inside one of its
//     windows, at the offset the window maps it to, with the size asked for;
//   - anything else is reported unclaimed, and an unclaimed read is all ones;
//   - a read writes only its own `size` bytes of the caller's buffer;
//   - interrupt lines only ever change level (true, false, true, ...), and
//     the last level reported is the level the device says it drives.
// Input layout: tests/support/bus_fuzz_input.h.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "boot/layout_x86.h"
#include "boot/memory_map_riscv64.h"
#include "devices/acpi_pm.h"
#include "devices/bus.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/plic.h"
#include "devices/post_code.h"
#include "devices/serial_16550a.h"
#include "support/bus_fuzz_input.h"

namespace {

using namespace devices;
namespace bf = test_support::bus_fuzz;

constexpr uint32_t kPlicContexts = 2;  // two harts
constexpr std::byte kCanary{0xa5};

// The access the harness is making, so a window's guard can check it.
struct Expected {
  size_t window = ~size_t{0};
  uint64_t offset = 0;
  size_t size = 0;
  bool hit = false;
};
Expected g_expected;

// Sits between the bus and a device for one window: every access it sees
// must be the one the harness expects for this window.
class Guard final : public Device {
 public:
  Guard(size_t window, std::shared_ptr<Device> target, uint64_t device_offset, uint64_t size)
      : window_(window), target_(std::move(target)), lo_(device_offset), hi_(device_offset + size) {}
  void read(uint64_t offset, std::span<std::byte> data) override {
    check(offset, data.size());
    target_->read(offset, data);
  }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    check(offset, data.size());
    target_->write(offset, data);
  }

 private:
  void check(uint64_t offset, size_t size) {
    if (g_expected.window != window_ || g_expected.hit) std::abort();  // wrong window, or dispatched twice
    if (offset != g_expected.offset || size != g_expected.size) std::abort();
    if (offset < lo_ || size > hi_ - lo_ || offset - lo_ > hi_ - lo_ - size) std::abort();  // outside the window
    g_expected.hit = true;
  }
  size_t window_;
  std::shared_ptr<Device> target_;
  uint64_t lo_, hi_;
};

// A fake interrupt line: asserts that the level alternates.
struct FakeLine {
  bool level = false;
  uint64_t changes = 0;
  IrqLine line() {
    return [this](bool l) {
      if (l == level) std::abort();  // told the same level twice
      level = l;
      ++changes;
    };
  }
};

struct MappedWindow {
  BusKind bus;
  uint64_t base;
  uint64_t size;
  uint64_t device_offset;
};

struct Machine {
  Bus pio{BusKind::kPio};
  Bus mmio{BusKind::kMmio};
  std::vector<MappedWindow> windows;
  std::time_t clock = 1'700'000'000;
  FakeLine serial_pio_irq, serial_mmio_irq, kbd_irq, aux_irq;
  std::array<FakeLine, kPlicContexts> plic_out;
  uint64_t machine_requests = 0, console_bytes = 0;
  std::shared_ptr<Serial16550a> serial_pio, serial_mmio;
  std::shared_ptr<I8042> i8042;
  std::shared_ptr<Plic> plic;

  Machine() {
    MachineControl control = [this](MachineRequest, std::string_view) { ++machine_requests; };
    auto console = [this](std::byte) { ++console_bytes; };
    serial_pio = std::make_shared<Serial16550a>(
        SerialPlacement{BusKind::kPio, boot::x86::kCom1Port, boot::x86::kCom1Irq}, console);
    serial_pio->connect_irqs({serial_pio_irq.line()});
    i8042 = std::make_shared<I8042>(control);
    i8042->connect_irqs({kbd_irq.line(), aux_irq.line()});
    auto cmos = std::make_shared<CmosRtc>([this] { return clock; });
    auto acpi = std::make_shared<AcpiPm>(boot::x86::kAcpiPm1aEvtPort, boot::x86::kAcpiS5SlpTyp, control);
    auto post = std::make_shared<PostCode>();
    namespace rv = boot::riscv64;
    auto created = Plic::create(rv::kPlicNumSources, kPlicContexts, [this](uint32_t context, bool level) {
      if (context >= kPlicContexts) std::abort();
      plic_out[context].line()(level);
    });
    if (!created) std::abort();
    plic = *created;
    plic->place(rv::kPlicBase, rv::kPlicSize);
    serial_mmio = std::make_shared<Serial16550a>(
        SerialPlacement{BusKind::kMmio, rv::kUartBase, rv::kUartIrq, 0, rv::kUartClockHz, rv::kUartSize}, console);
    serial_mmio->connect_irqs({serial_mmio_irq.line()});

    // In bus_fuzz_input.h's window order.
    const std::shared_ptr<PlatformDevice> devices[] = {serial_pio, i8042, cmos, acpi, post, plic, serial_mmio};
    for (const auto& d : devices) {
      for (const Window& w : d->windows()) {
        std::shared_ptr<Device> target = w.target ? w.target : std::static_pointer_cast<Device>(d);
        auto guard = std::make_shared<Guard>(windows.size(), target, w.device_offset, w.size);
        Bus& bus = w.bus == BusKind::kPio ? pio : mmio;
        if (!bus.add(w.base, w.size, guard, w.name, w.device_offset)) std::abort();
        windows.push_back({w.bus, w.base, w.size, w.device_offset});
      }
    }
    if (windows.size() != bf::kWindowCount) std::abort();
  }

  // The window of `bus` that holds [address, +size) whole, if any.
  std::optional<size_t> owner(BusKind bus, uint64_t address, uint64_t size) const {
    for (size_t i = 0; i < windows.size(); ++i) {
      const MappedWindow& w = windows[i];
      if (w.bus == bus && address >= w.base && size <= w.size && address - w.base <= w.size - size) return i;
    }
    return std::nullopt;
  }

  void check_levels() const {
    if (serial_pio_irq.level != serial_pio->irq_level()) std::abort();
    if (serial_mmio_irq.level != serial_mmio->irq_level()) std::abort();
    for (uint32_t c = 0; c < kPlicContexts; ++c)
      if (plic_out[c].level != plic->output_level(c)) std::abort();
  }
};

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void hook(Machine& m, uint8_t which, uint32_t offset, uint64_t value) {
  switch (which % 4) {
    case bf::kHookSerialPioInput:
    case bf::kHookSerialMmioInput: {
      std::array<std::byte, 8> bytes{};
      for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(value >> (8 * i));
      auto& serial = which % 4 == bf::kHookSerialPioInput ? m.serial_pio : m.serial_mmio;
      const size_t want = offset % 9;
      const size_t room = serial->rx_room();
      const size_t took = serial->enqueue_input(std::span(bytes).first(want));
      if (took > want || took > room) std::abort();
      break;
    }
    case bf::kHookPlicLevel:
      // Sources 0 (none) and past the last are part of the input space.
      m.plic->set_level(offset % (boot::riscv64::kPlicNumSources + 2), value & 1);
      break;
    case bf::kHookClock: m.clock += static_cast<std::time_t>(value % (400ull * 24 * 3600)); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Machine m;
  for (size_t at = 0; at + bf::kOpSize <= size; at += bf::kOpSize) {
    const uint8_t* op = data + at;
    const uint32_t offset = static_cast<uint32_t>(le(op + 2, 4));
    const uint64_t value = le(op + 6, 8);
    if (op[0] & bf::kHookFlag) {
      hook(m, op[0] & 0x7f, offset, value);
      m.check_levels();
      continue;
    }
    const size_t window = (op[0] & 0x7f) % bf::kWindowCount;
    const MappedWindow& w = m.windows[window];
    const bool write = op[1] & 1;
    const size_t len = size_t{1} << ((op[1] >> 1) & 3);
    const uint64_t address = (op[1] & bf::kAnywhereFlag)
                                 ? w.base + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(offset)))
                                 : w.base + offset % w.size;
    Bus& bus = w.bus == BusKind::kPio ? m.pio : m.mmio;
    const auto owner = m.owner(w.bus, address, len);
    g_expected = Expected{};
    if (owner) {
      g_expected.window = *owner;
      g_expected.offset = m.windows[*owner].device_offset + (address - m.windows[*owner].base);
      g_expected.size = len;
    }
    bool claimed = false;
    if (write) {
      std::array<std::byte, 8> bytes{};
      for (size_t i = 0; i < len; ++i) bytes[i] = static_cast<std::byte>(value >> (8 * i));
      claimed = bus.write(address, std::span<const std::byte>(bytes.data(), len));
    } else {
      std::array<std::byte, 16> buf;
      buf.fill(kCanary);
      claimed = bus.read(address, std::span(buf.data(), len));
      for (size_t i = len; i < buf.size(); ++i)
        if (buf[i] != kCanary) std::abort();  // wrote past the access
      if (!owner)
        for (size_t i = 0; i < len; ++i)
          if (buf[i] != std::byte{0xff}) std::abort();  // unclaimed reads float high
    }
    if (claimed != owner.has_value() || g_expected.hit != owner.has_value()) std::abort();
    m.check_levels();
  }
  return 0;
}
