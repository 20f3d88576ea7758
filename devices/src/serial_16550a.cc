#include "devices/serial_16550a.h"

#include <cstring>

#include "boot/acpi/aml.h"
#include "boot/fdt_writer.h"

namespace devices {

Serial16550a::Serial16550a(IrqLine irq, Output output, size_t rx_capacity)
    : irq_(std::move(irq)), output_(std::move(output)), rx_capacity_(rx_capacity == 0 ? 1 : rx_capacity) {}

Serial16550a::Serial16550a(SerialPlacement placement, Output output, size_t rx_capacity)
    : placement_(placement), output_(std::move(output)), rx_capacity_(rx_capacity == 0 ? 1 : rx_capacity) {}

std::vector<Window> Serial16550a::windows() const {
  uint64_t size = placement_.bus == BusKind::kPio ? kRegisterCount : placement_.window_size;
  return {{placement_.bus, placement_.base, size, 0, fmt::format("serial{}", placement_.index)}};
}

std::vector<IrqRequest> Serial16550a::irqs() const {
  // On the ISA bus (x86 PIO, described with IRQNoFlags) the guest programs
  // the pin edge-triggered; the MMIO UARTs' DT nodes say level.
  return {{placement_.irq, placement_.bus == BusKind::kPio ? boot::IrqTrigger::kEdge : boot::IrqTrigger::kLevel}};
}

void Serial16550a::connect_irqs(std::vector<IrqLine> lines) {
  std::lock_guard lock(mutex_);
  irq_ = lines.empty() ? IrqLine{} : std::move(lines.front());
}

std::string Serial16550a::dt_node_path() const { return fmt::format("/serial@{:x}", placement_.base); }

void Serial16550a::describe(boot::PlatformDescription& platform) const {
  if (placement_.console) {
    platform.default_cmdline.push_back(fmt::format("console=ttyS{}", placement_.index));
  }
  if (placement_.bus == BusKind::kPio) {
    // A PC COM port: the DSDT names it so Linux's PNP layer finds it.
    namespace aml = boot::aml;
    platform.dsdt_sb.push_back(aml::device(fmt::format("COM{}", placement_.index + 1), {
        aml::name("_HID", aml::eisa_id("PNP0501")),
        aml::name("_UID", aml::integer(placement_.index + 1)),
        aml::name("_STA", aml::integer(0x0f)),
        aml::name("_CRS", aml::resource_template(
                              {aml::io_port(static_cast<uint16_t>(placement_.base), static_cast<uint16_t>(placement_.base),
                                            0x08, kRegisterCount),
                               aml::irq_no_flags(static_cast<uint16_t>(1u << placement_.irq))})),
    }));
    return;
  }
  if (placement_.console) platform.stdout_path = dt_node_path();
  platform.dt_nodes.push_back([p = placement_, path = dt_node_path()](boot::FdtWriter& w, const boot::DtIrqContext& irq) {
    w.begin_node(path.substr(1));
    w.property_string("compatible", "ns16550a");
    w.property_u64s("reg", {p.base, p.window_size});
    w.property_u32("clock-frequency", p.clock_hz);
    w.property_u32("reg-shift", 0);
    w.property_u32("reg-io-width", 1);
    w.property_u32("interrupt-parent", irq.interrupt_parent);
    w.property_cells("interrupts", irq.cells(p.irq, boot::IrqTrigger::kLevel));
    w.end_node();
  });
}

void Serial16550a::read(uint64_t offset, std::span<std::byte> data) {
  if (data.empty()) return;
  std::lock_guard lock(mutex_);
  // Wider accesses read one register and fill the rest with ones, as an
  // 8-bit part on a wider bus would.
  std::memset(data.data(), 0xff, data.size());
  data[0] = std::byte{offset < kRegisterCount ? read_register(offset) : uint8_t{0xff}};
}

void Serial16550a::write(uint64_t offset, std::span<const std::byte> data) {
  if (data.empty() || offset >= kRegisterCount) return;
  std::lock_guard lock(mutex_);
  write_register(offset, std::to_integer<uint8_t>(data[0]));
}

uint8_t Serial16550a::current_iir() const {
  uint8_t fifo = (fcr_ & 0x01) ? kIirFifoEnabled : 0;
  // Priority order of the real part: line status, received data, THR empty, modem status.
  if ((ier_ & kIerLineStatus) && overrun_) return fifo | kIirLineStatus;
  if ((ier_ & kIerRxData) && !rx_.empty()) return fifo | kIirRxData;
  if ((ier_ & kIerThre) && thre_pending_) return fifo | kIirThre;
  if ((ier_ & kIerModemStatus) && msr_delta_ != 0) return fifo | kIirModemStatus;
  return fifo | kIirNone;
}

uint8_t Serial16550a::modem_status_lines() const {
  if (mcr_ & kMcrLoop) {
    // Loopback wires the outputs back to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
    uint8_t v = 0;
    if (mcr_ & kMcrRts) v |= kMsrCts;
    if (mcr_ & kMcrDtr) v |= kMsrDsr;
    if (mcr_ & kMcrOut1) v |= kMsrRi;
    if (mcr_ & kMcrOut2) v |= kMsrDcd;
    return v;
  }
  // A host console is always "connected": carrier, data set ready, clear to send.
  return kMsrDcd | kMsrDsr | kMsrCts;
}

uint8_t Serial16550a::read_register(uint64_t offset) {
  uint8_t value = 0;
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) return dll_;
      if (!rx_.empty()) {
        value = std::to_integer<uint8_t>(rx_.front());
        rx_.pop_front();
      }
      update_irq();
      return value;
    case kIer:
      if (lcr_ & kLcrDlab) return dlm_;
      return ier_;
    case kIirFcr:
      value = current_iir();
      // Reading IIR while it reports THRE acknowledges that interrupt.
      if ((value & 0x0f) == kIirThre) {
        thre_pending_ = false;
        update_irq();
      }
      return value;
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr:
      value = kLsrThre | kLsrTemt;
      if (!rx_.empty()) value |= kLsrDataReady;
      if (overrun_) value |= kLsrOverrun;
      overrun_ = false;  // error bits clear on read
      update_irq();
      return value;
    case kMsr:
      value = modem_status_lines() | msr_delta_;
      msr_delta_ = 0;
      update_irq();
      return value;
    case kScr: return scr_;
  }
  return 0xff;
}

void Serial16550a::write_register(uint64_t offset, uint8_t value) {
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        dll_ = value;
        return;
      }
      if (mcr_ & kMcrLoop) {
        receive(std::byte{value});
      } else if (output_) {
        output_(std::byte{value});
      }
      // The byte left at once: THR is empty again.
      thre_pending_ = true;
      update_irq();
      return;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlm_ = value;
        return;
      }
      // Enabling ETBEI while THR is empty raises THRE immediately (the 8250
      // driver's startup probe checks exactly this).
      if ((value & kIerThre) && !(ier_ & kIerThre)) thre_pending_ = true;
      ier_ = value & 0x0f;
      update_irq();
      return;
    case kIirFcr:
      if (value & 0x02) rx_.clear();  // clear receive FIFO
      // The transmit FIFO is always empty here, so clearing it changes nothing.
      fcr_ = value & 0xc9;  // FIFO enable, DMA mode, trigger level
      update_irq();
      return;
    case kLcr: lcr_ = value; return;
    case kMcr: {
      uint8_t before = modem_status_lines();
      mcr_ = value & 0x1f;
      uint8_t after = modem_status_lines();
      uint8_t changed = before ^ after;
      if (changed & kMsrCts) msr_delta_ |= 0x01;
      if (changed & kMsrDsr) msr_delta_ |= 0x02;
      if ((before & kMsrRi) && !(after & kMsrRi)) msr_delta_ |= 0x04;  // trailing edge of RI
      if (changed & kMsrDcd) msr_delta_ |= 0x08;
      update_irq();
      return;
    }
    case kLsr: return;  // read-only (factory test register on some parts)
    case kMsr: return;  // read-only
    case kScr: scr_ = value; return;
  }
}

void Serial16550a::receive(std::byte b) {
  if (rx_.size() >= rx_capacity_) {
    overrun_ = true;
    return;
  }
  rx_.push_back(b);
}

size_t Serial16550a::enqueue_input(std::span<const std::byte> bytes) {
  std::lock_guard lock(mutex_);
  // In loopback the receiver is disconnected from the line: input is lost, not an overrun.
  if (mcr_ & kMcrLoop) return 0;
  size_t accepted = 0;
  for (std::byte b : bytes) {
    if (rx_.size() >= rx_capacity_) break;
    rx_.push_back(b);
    ++accepted;
  }
  if (accepted < bytes.size()) overrun_ = true;
  update_irq();
  return accepted;
}

size_t Serial16550a::rx_room() const {
  std::lock_guard lock(mutex_);
  return rx_capacity_ - rx_.size();
}

bool Serial16550a::irq_level() const {
  std::lock_guard lock(mutex_);
  return irq_level_;
}

void Serial16550a::update_irq() {
  bool level = (current_iir() & kIirNone) == 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_(level);
}

}  // namespace devices
