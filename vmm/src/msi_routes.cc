#include "vmm/msi_routes.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "devices/pci/pci_root.h"
#include "vmm/text.h"
#include "vmm/xioctl.h"

namespace vmm {

namespace pci = devices::pci;

kvm_irq_routing_entry msi_route_entry(uint32_t gsi, const pci::MsiMessage& message, std::optional<uint16_t> devid) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_MSI;
  e.u.msi.address_lo = static_cast<uint32_t>(message.address);
  e.u.msi.address_hi = static_cast<uint32_t>(message.address >> 32);
  e.u.msi.data = message.data;
  if (devid) {
    e.flags = KVM_MSI_VALID_DEVID;
    e.u.msi.devid = *devid;
  }
  return e;
}

MsiRouteTable::MsiRouteTable(MsiRouteOptions options) : options_(std::move(options)) {}

Result<void> MsiRouteTable::reserve(uint16_t requester_id, uint16_t vectors) {
  for (const auto& v : vectors_) {
    if (v.requester_id == requester_id) return fail("MSI routes: requester ID {:#x} reserved twice", requester_id);
  }
  if (options_.first_gsi + vectors_.size() + vectors > options_.gsi_limit) {
    return fail("MSI routes: {} more vectors for requester ID {:#x} pass KVM's {} GSIs", vectors, requester_id,
                options_.gsi_limit);
  }
  for (uint16_t v = 0; v < vectors; ++v) vectors_.push_back(Vector{requester_id, v, std::nullopt});
  return {};
}

std::optional<size_t> MsiRouteTable::index(const pci::Msi& msi) const {
  // A function's vectors are consecutive: find its first, then offset.
  for (size_t i = 0; i < vectors_.size(); ++i) {
    if (vectors_[i].requester_id != msi.requester_id) continue;
    const size_t at = i + msi.vector;
    if (at < vectors_.size() && vectors_[at].requester_id == msi.requester_id && vectors_[at].vector == msi.vector)
      return at;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint32_t> MsiRouteTable::gsi(const pci::Msi& msi) const {
  auto i = index(msi);
  if (!i) return std::nullopt;
  return options_.first_gsi + static_cast<uint32_t>(*i);
}

bool MsiRouteTable::update(const pci::Msi& msi) {
  auto i = index(msi);
  if (!i) return false;
  auto& current = vectors_[*i].message;
  if (current && current->address == msi.message.address && current->data == msi.message.data) return false;
  current = msi.message;
  return true;
}

std::vector<kvm_irq_routing_entry> MsiRouteTable::entries() const {
  std::vector<kvm_irq_routing_entry> table = options_.base;
  for (size_t i = 0; i < vectors_.size(); ++i) {
    const Vector& v = vectors_[i];
    if (!v.message) continue;
    table.push_back(msi_route_entry(options_.first_gsi + static_cast<uint32_t>(i), *v.message,
                                    options_.devid ? std::optional<uint16_t>(v.requester_id) : std::nullopt));
  }
  return table;
}

struct MsiRoutes::Impl {
  Vm* vm = nullptr;
  std::mutex mutex;  // the table and the routes KVM holds
  MsiRouteTable table;
  std::vector<Fd> eventfds;  // index i: GSI first_gsi + i
  std::atomic<bool> route_error_logged{false};

  explicit Impl(MsiRouteOptions options) : table(std::move(options)) {}

  void deliver(const pci::Msi& msi) {
    int fd = -1;
    {
      std::lock_guard lock(mutex);
      auto gsi = table.gsi(msi);
      if (!gsi) return;  // a function that was not there at set-up: nowhere to send it
      if (table.update(msi)) {
        if (auto r = vm->set_gsi_routing(table.entries()); !r && !route_error_logged.exchange(true)) {
          // The device has nowhere to report it; say it once rather than per interrupt.
          write_stderr(fmt::format("vmm: MSI route for requester {:#x} vector {}: {}\n", msi.requester_id,
                                   msi.vector, r.error().message));
        }
      }
      fd = eventfds[*gsi - table.first_gsi()].get();
    }
    uint64_t one = 1;
    // An eventfd write fails only when its counter would overflow; KVM
    // drains it on every signal.
    (void)!::write(fd, &one, sizeof one);
  }
};

bool MsiRoutes::supported(const Vm& vm) {
  return vm.check_extension(KVM_CAP_IRQFD) > 0 && vm.check_extension(KVM_CAP_IRQ_ROUTING) > 0;
}

MsiRoutes::MsiRoutes(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

MsiRoutes::~MsiRoutes() = default;

Result<std::unique_ptr<MsiRoutes>> MsiRoutes::create(Vm& vm, const Platform& platform, MsiRouteOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options));
  impl->vm = &vm;
  if (auto root = platform.find<pci::PciRoot>()) {
    for (uint8_t slot = 0; slot < pci::kMaxDevices; ++slot) {
      auto function = root->bridge().device(slot);
      if (!function || function->msix_vectors() == 0) continue;
      if (auto r = impl->table.reserve(function->requester_id(), function->msix_vectors()); !r)
        return std::unexpected(r.error());
    }
  }
  for (size_t i = 0; i < impl->table.size(); ++i) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return fail_errno(errno, "eventfd for an MSI irqfd");
    impl->eventfds.emplace_back(fd);
  }
  return std::unique_ptr<MsiRoutes>(new MsiRoutes(std::move(impl)));
}

Result<void> MsiRoutes::activate() {
  std::lock_guard lock(impl_->mutex);
  if (auto r = impl_->vm->set_gsi_routing(impl_->table.entries()); !r) return r;
  for (size_t i = 0; i < impl_->eventfds.size(); ++i) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<uint32_t>(impl_->eventfds[i].get());
    irqfd.gsi = impl_->table.first_gsi() + static_cast<uint32_t>(i);
    if (xioctl(impl_->vm->fd(), KVM_IRQFD, &irqfd) < 0)
      return fail_errno(errno, fmt::format("KVM_IRQFD for the MSI route on GSI {}", irqfd.gsi));
  }
  return {};
}

pci::MsiSink MsiRoutes::sink() {
  return [impl = impl_](const pci::Msi& msi) { impl->deliver(msi); };
}

size_t MsiRoutes::vectors() const { return impl_->table.size(); }

}  // namespace vmm
