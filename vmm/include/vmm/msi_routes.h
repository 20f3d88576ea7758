// PCI MSI-X through KVM GSI routes and irqfds: every MSI-X vector of every
// PCI function gets a GSI and an eventfd bound to it (KVM_IRQFD, no
// resample: MSIs are edges), and the GSI's route (KVM_IRQ_ROUTING_MSI)
// carries the message the guest last programmed for that vector. Sending an
// MSI is then an eventfd write that KVM turns into the interrupt itself (on
// aarch64 through the vGIC ITS's translation cache); the routing table is
// rewritten (KVM_SET_GSI_ROUTING) only when a vector's message changed since
// its last MSI, which Linux does when it sets a vector up or moves it.
//
// Routes are rewritten when an MSI goes out rather than when the guest
// writes the MSI-X table: devices/ stays free of KVM, and a masked vector
// that the guest reprograms several times costs one table update, not one
// per write.
//
// MsiRouteTable is the bookkeeping without KVM (unit-tested); MsiRoutes adds
// the eventfds and ioctls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "devices/pci/pci_device.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/platform.h"

namespace vmm {

struct MsiRouteOptions {
  // Routes the table must keep: KVM_SET_GSI_ROUTING replaces the whole table
  // (aarch64: the vGIC's default GSI n -> SPI n routes the INTx irqfds use).
  std::vector<kvm_irq_routing_entry> base;
  // The first GSI for MSI routes: above every base GSI.
  uint32_t first_gsi = 0;
  // GSIs KVM accepts (KVM_MAX_IRQ_ROUTES in the kernel).
  uint32_t gsi_limit = 4096;
  // KVM_MSI_VALID_DEVID with the requester ID as devid: an interrupt
  // translator (the GICv3 ITS) tells devices apart by it, and KVM refuses an
  // MSI route without one once the VM has an ITS.
  bool devid = false;
};

// One KVM_IRQ_ROUTING_MSI entry.
kvm_irq_routing_entry msi_route_entry(uint32_t gsi, const devices::pci::MsiMessage& message,
                                      std::optional<uint16_t> devid);

class MsiRouteTable {
 public:
  explicit MsiRouteTable(MsiRouteOptions options);

  // GSIs for vectors 0..vectors-1 of the function `requester_id`, in order.
  // Fails when the GSIs run out or the function was reserved already.
  Result<void> reserve(uint16_t requester_id, uint16_t vectors);
  // The GSI of this MSI's vector; nullopt for one never reserved.
  std::optional<uint32_t> gsi(const devices::pci::Msi& msi) const;
  // Records the MSI's message as its vector's route; true when that changed
  // the table (the first message of a vector, or a new one).
  bool update(const devices::pci::Msi& msi);
  // The whole table: the base routes, then one MSI route per vector that has
  // sent a message.
  std::vector<kvm_irq_routing_entry> entries() const;
  // Reserved vectors, in reservation order: GSI first_gsi + i is vectors()[i].
  size_t size() const { return vectors_.size(); }
  uint32_t first_gsi() const { return options_.first_gsi; }

 private:
  struct Vector {
    uint16_t requester_id = 0;
    uint16_t vector = 0;
    std::optional<devices::pci::MsiMessage> message;  // none until the vector's first MSI
  };
  std::optional<size_t> index(const devices::pci::Msi& msi) const;

  MsiRouteOptions options_;
  std::vector<Vector> vectors_;
};

class MsiRoutes {
 public:
  // KVM_CAP_IRQFD and KVM_CAP_IRQ_ROUTING on this VM.
  static bool supported(const Vm& vm);

  // Reserves a GSI and an eventfd for every MSI-X vector of the platform's
  // PCI functions. No KVM call yet.
  static Result<std::unique_ptr<MsiRoutes>> create(Vm& vm, const Platform& platform, MsiRouteOptions options);
  ~MsiRoutes();
  MsiRoutes(const MsiRoutes&) = delete;
  MsiRoutes& operator=(const MsiRoutes&) = delete;

  // Sets the routing table (the base routes; MSI routes follow as vectors
  // send) and binds each eventfd to its GSI. Call once the irqchip takes
  // irqfds (aarch64: after the vGIC's init, which also installs the default
  // routes this would otherwise lose).
  Result<void> activate();
  // Delivers one MSI: its route is brought up to date, then its eventfd
  // written. Any thread; called with the sending function's lock held.
  devices::pci::MsiSink sink();
  size_t vectors() const;

 private:
  struct Impl;
  explicit MsiRoutes(std::shared_ptr<Impl> impl);
  // Shared with the sinks, which devices may hold past this object.
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmm
