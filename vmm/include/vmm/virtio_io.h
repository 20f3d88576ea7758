// The KVM side of the virtio transports (DESIGN.md §9): each virtio device
// gets an I/O thread, each of its queues an eventfd that KVM signals through
// an ioeventfd on the queue's doorbell (the virtio-pci notify register,
// moved whenever the guest moves the BAR; virtio-mmio's QueueNotify with the
// queue index as datamatch). A doorbell then costs the guest one light exit
// and never runs device code on a vCPU thread; a register write that still
// reaches the VMM (another access size, a BAR in flux) is posted to the same
// I/O thread. MSIs (virtio-pci MSI-X) go to `msi`, INTx and the virtio-mmio
// line stay on the platform's interrupt lines.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "devices/pci/pci_device.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/platform.h"

namespace vmm {

struct VirtioIoStats {
  std::string device;          // "virtio-blk (pci 00:03.0)"
  uint64_t notifications = 0;  // doorbell writes (an eventfd counts each)
  uint64_t wakeups = 0;        // I/O thread wake-ups that served them
  uint64_t slow_path = 0;      // doorbells that reached the VMM as register writes
  std::string detail;          // the device's own counters (virtio-net: frames and drops), or empty
};

class VirtioIo {
 public:
  // Wires every virtio transport of `platform`. `msi` may be empty (no
  // in-kernel MSI routing: the guest falls back to INTx). Fails when KVM
  // refuses an eventfd it must have.
  static Result<std::unique_ptr<VirtioIo>> wire(Vm& vm, Platform& platform, devices::pci::MsiSink msi);
  ~VirtioIo();

  // Starts the I/O threads (before the vCPUs run).
  void start();
  // Stops and joins them (after the vCPUs stopped). Idempotent.
  void stop();
  std::vector<VirtioIoStats> stats() const;
  // "ioeventfd" or why notifications take the slow path, for the report.
  const std::string& mode() const;

 private:
  struct Impl;
  explicit VirtioIo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmm
