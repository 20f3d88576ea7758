// A 16550A UART: the full register set (RBR/THR, IER, IIR/FCR, LCR with DLAB
// and DLL/DLM, MCR with loopback, LSR, MSR, SCR), a receive FIFO fed by the
// host console, and the THRE and received-data interrupts with the IIR
// priorities of the real part.
//
// Transmission is instantaneous: a THR write goes straight to the output
// callback, so THR is always empty again (LSR THRE|TEMT) and, when enabled,
// the THRE interrupt is raised at once. The Linux 8250 driver depends on that
// interrupt: its tty layer sends the next character from the THRE interrupt
// handler, and output stalls after one character without it.
//
// Thread safety: guest accesses (vCPU threads) and enqueue_input (the console
// thread) may race; one mutex guards the state. The irq and output callbacks
// run with that mutex held and must not call back into the UART.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/platform_device.h"

namespace devices {

// Where a UART sits: PIO (x86, described in the DSDT) or MMIO (described in
// the device tree), its interrupt line, and whether it is the kernel's
// console (stdout-path, console=ttyS<index>).
struct SerialPlacement {
  BusKind bus = BusKind::kPio;
  uint64_t base = 0x3f8;
  uint32_t irq = 4;
  uint32_t index = 0;           // ttyS<index>, COM<index+1>
  uint32_t clock_hz = 1'843'200;
  uint64_t window_size = 8;     // MMIO: the register window (one page on aarch64)
  bool console = true;
};

class Serial16550a : public PlatformDevice {
 public:
  using Output = std::function<void(std::byte)>;

  static constexpr uint64_t kRegisterCount = 8;
  // The real part holds 16 bytes; the host console can paste far more, so
  // the model buffers more and overruns only beyond this.
  static constexpr size_t kDefaultRxCapacity = 4096;

  // Register offsets.
  enum : uint64_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
  // IER bits.
  static constexpr uint8_t kIerRxData = 0x01, kIerThre = 0x02, kIerLineStatus = 0x04, kIerModemStatus = 0x08;
  // IIR values (bit 0 set = no interrupt pending; 0xc0 = FIFOs enabled).
  static constexpr uint8_t kIirNone = 0x01, kIirLineStatus = 0x06, kIirRxData = 0x04, kIirThre = 0x02,
                           kIirModemStatus = 0x00, kIirFifoEnabled = 0xc0;
  // LCR / MCR / LSR bits.
  static constexpr uint8_t kLcrDlab = 0x80;
  static constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08, kMcrLoop = 0x10;
  static constexpr uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
  static constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;

  Serial16550a(IrqLine irq, Output output, size_t rx_capacity = kDefaultRxCapacity);
  // A UART for a VM; its line comes through connect_irqs.
  Serial16550a(SerialPlacement placement, Output output, size_t rx_capacity = kDefaultRxCapacity);

  std::string_view name() const override { return "serial"; }
  std::vector<Window> windows() const override;
  std::vector<IrqRequest> irqs() const override;
  void connect_irqs(std::vector<IrqLine> lines) override;
  void describe(boot::PlatformDescription& platform) const override;
  // "/serial@9000000": the node describe() writes (MMIO placements).
  std::string dt_node_path() const;

  void read(uint64_t offset, std::span<std::byte> data) override;
  void write(uint64_t offset, std::span<const std::byte> data) override;

  // Bytes from the host console. Returns how many were accepted; the rest
  // are dropped and flagged as an overrun (LSR OE), like a full FIFO.
  size_t enqueue_input(std::span<const std::byte> bytes);
  // Whether the guest has room for more input (for console back-pressure).
  size_t rx_room() const;
  // True while the interrupt line is asserted.
  bool irq_level() const;

 private:
  uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  uint8_t current_iir() const;
  uint8_t modem_status_lines() const;
  void receive(std::byte b);
  void update_irq();

  SerialPlacement placement_;
  IrqLine irq_;
  Output output_;
  size_t rx_capacity_;
  mutable std::mutex mutex_;

  std::deque<std::byte> rx_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0x03;  // 8N1, as firmware leaves it
  uint8_t mcr_ = kMcrOut2;
  uint8_t fcr_ = 0;
  uint8_t scr_ = 0;
  uint8_t dll_ = 0x0c;  // 9600 baud
  uint8_t dlm_ = 0;
  uint8_t msr_delta_ = 0;     // MSR bits 3:0, set when the modem lines change
  bool overrun_ = false;      // LSR OE until LSR is read
  bool thre_pending_ = false; // THR-empty interrupt waiting to be seen in IIR
  bool irq_level_ = false;
};

}  // namespace devices
