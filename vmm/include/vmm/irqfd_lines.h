// Level-triggered interrupt lines of the in-kernel irqchip driven through
// KVM irqfds with resample (KVM_IRQFD_FLAG_RESAMPLE): asserting a line is a
// write to an eventfd, and KVM itself lowers the line when the guest ends
// the interrupt (EOI), then signals the resample eventfd; if the device
// still holds the line high, the resample thread raises it again. No
// KVM_IRQ_LINE ioctl on the device's thread, and none on a vCPU thread to
// lower a line when the guest reads a device's status.
//
// Lines are made before the irqchip may take irqfds (aarch64: the vGIC is
// initialised after the vCPUs exist) and work through `fallback`
// (KVM_IRQ_LINE) until activate() hands them to KVM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/device.h"
#include "vmm/error.h"
#include "vmm/kvm.h"

namespace vmm {

class IrqfdLines {
 public:
  // KVM_CAP_IRQFD and KVM_CAP_IRQFD_RESAMPLE on this VM.
  static bool supported(const Vm& vm);

  explicit IrqfdLines(Vm& vm);
  ~IrqfdLines();  // stop()
  IrqfdLines(const IrqfdLines&) = delete;
  IrqfdLines& operator=(const IrqfdLines&) = delete;

  // A line on irqchip pin `gsi` (x86: the IOAPIC pin; aarch64: the SPI
  // index). `fallback` drives it until activate() succeeds (and for good if
  // it fails).
  Result<devices::IrqLine> line(uint32_t gsi, std::function<void(bool level)> fallback);
  // Registers every line's irqfd and starts the resample thread. On failure
  // the lines keep using their fallback and the error says why.
  Result<void> activate();
  void stop();
  size_t count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Activates `lines` (may be null: no resample support) and says, for the
// boot report, how the level lines ended up being driven.
std::string activate_irqfd_lines(IrqfdLines* lines);

}  // namespace vmm
