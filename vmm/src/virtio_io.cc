#include "vmm/virtio_io.h"

#include <sys/eventfd.h>

#include <atomic>
#include <mutex>
#include <optional>

#include "devices/pci/pci_root.h"
#include "devices/virtio/virtio_mmio_device.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_pci.h"
#include "vmm/io_thread.h"

namespace vmm {

namespace {

namespace virtio = devices::virtio;
namespace pci = devices::pci;

// One device's doorbells. The registered addresses change under `mutex`
// (the BAR observer runs on vCPU threads); the counters are bumped by the
// I/O thread and the vCPU threads.
struct Doorbells {
  std::string label;
  std::unique_ptr<IoThread> thread;
  devices::virtio::VirtioDevice* device = nullptr;  // outlives this (the platform owns it)
  std::vector<Fd> eventfds;                        // index = queue
  std::vector<std::optional<uint64_t>> registered;  // where each eventfd sits now
  uint32_t length = 0;
  bool datamatch = false;  // virtio-mmio: one address, the queue index as data
  std::mutex mutex;
  std::atomic<uint64_t> notifications{0};
  std::atomic<uint64_t> wakeups{0};
  std::atomic<uint64_t> slow_path{0};
  // One posted slow-path notify per queue at a time: a guest hammering the
  // register while the device is busy coalesces instead of queueing work.
  std::unique_ptr<std::atomic<bool>[]> posted;
};

}  // namespace

struct VirtioIo::Impl {
  Vm* vm = nullptr;
  bool use_ioeventfd = false;
  uint32_t pci_length = 0;
  std::string mode;
  std::vector<std::unique_ptr<Doorbells>> devices;

  // Moves every doorbell of `d` to base + offset(q) (nullopt: off the bus).
  void place(Doorbells& d, std::optional<uint64_t> base, uint64_t stride) {
    std::lock_guard lock(d.mutex);
    for (size_t q = 0; q < d.eventfds.size(); ++q) {
      const std::optional<uint64_t> datamatch = d.datamatch ? std::optional<uint64_t>(q) : std::nullopt;
      if (auto& at = d.registered[q]) {
        (void)vm->remove_ioeventfd(d.eventfds[q].get(), *at, d.length, datamatch);
        at.reset();
      }
      if (!base) continue;
      const uint64_t address = *base + q * stride;
      // A refused doorbell still works: its writes reach the transport and
      // are posted to the I/O thread (counted as slow path).
      if (vm->add_ioeventfd(d.eventfds[q].get(), address, d.length, datamatch)) d.registered[q] = address;
    }
  }

  // Builds the thread and eventfds; `notify` runs a queue's notify on it.
  Result<Doorbells*> add(std::string label, uint16_t queues, uint32_t length, bool datamatch,
                         std::function<void(uint16_t)> notify, virtio::VirtioDevice& device) {
    auto d = std::make_unique<Doorbells>();
    // The boot report's device line says which disks run asynchronously
    // (io_uring; platform.cc logs why one fell back to synchronous I/O).
    if (device.backend_event_fd() >= 0) label.insert(label.size() - 1, ", async I/O");
    d->label = std::move(label);
    const std::string kind = d->label.substr(0, d->label.find(' '));
    d->thread = std::make_unique<IoThread>(kind, seccomp::role_for_device(kind));
    d->device = &device;
    d->length = length;
    d->datamatch = datamatch;
    d->registered.resize(queues);
    d->posted = std::make_unique<std::atomic<bool>[]>(queues);
    Doorbells* raw = d.get();
    for (uint16_t q = 0; q < queues; ++q) {
      int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd < 0) return fail_errno(errno, fmt::format("{}: eventfd", raw->label));
      d->eventfds.emplace_back(fd);
      auto r = d->thread->watch_eventfd(fd, [raw, q, notify](uint64_t count) {
        raw->notifications.fetch_add(count, std::memory_order_relaxed);
        raw->wakeups.fetch_add(1, std::memory_order_relaxed);
        notify(q);
      });
      if (!r) return std::unexpected(r.error());
    }
    // Completions of an asynchronous backend (virtio-blk on io_uring) are
    // reaped on the same thread as the doorbells, so the device never sees
    // two threads at once.
    if (int fd = device.backend_event_fd(); fd >= 0) {
      auto r = d->thread->watch_eventfd(fd, [&device](uint64_t) { device.backend_event(); });
      if (!r) return std::unexpected(r.error());
    }
    devices.push_back(std::move(d));
    return raw;
  }

  // What a doorbell write that reached the VMM does: the same work, on the I/O thread.
  static std::function<void(uint16_t)> dispatch(Doorbells* d, std::function<void(uint16_t)> notify) {
    return [d, notify = std::move(notify)](uint16_t q) {
      d->notifications.fetch_add(1, std::memory_order_relaxed);
      d->slow_path.fetch_add(1, std::memory_order_relaxed);
      if (q >= d->eventfds.size() || d->posted[q].exchange(true)) return;
      d->thread->post([d, notify, q] {
        // Cleared before the work: a write arriving during it posts again.
        d->posted[q].store(false);
        notify(q);
      });
    };
  }
};

VirtioIo::VirtioIo(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VirtioIo::~VirtioIo() { stop(); }

Result<std::unique_ptr<VirtioIo>> VirtioIo::wire(Vm& vm, Platform& platform, pci::MsiSink msi) {
  auto impl = std::make_unique<Impl>();
  impl->vm = &vm;
  impl->use_ioeventfd = vm.check_extension(KVM_CAP_IOEVENTFD) > 0;
  // Linux rings the virtio-pci doorbell with a 16-bit write; any length
  // catches other drivers too.
  impl->pci_length = vm.check_extension(KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0 ? 0 : 2;
  impl->mode = impl->use_ioeventfd ? "ioeventfd" : "register writes (KVM has no KVM_CAP_IOEVENTFD)";

  for (const auto& device : platform.devices()) {
    if (auto mmio = std::dynamic_pointer_cast<virtio::VirtioMmioDevice>(device)) {
      virtio::VirtioMmio* transport = &mmio->transport();
      auto notify = [transport](uint16_t q) { transport->notify_queue(q); };
      auto d = impl->add(fmt::format("{} (mmio {:#x})", transport->device().name(), mmio->placement().base),
                         transport->num_queues(), 4, true, notify, transport->device());
      if (!d) return std::unexpected(d.error());
      transport->set_notify_dispatch(Impl::dispatch(*d, notify));
      if (impl->use_ioeventfd) impl->place(**d, mmio->notify_address(), 0);
      continue;
    }
    auto root = std::dynamic_pointer_cast<pci::PciRoot>(device);
    if (!root) continue;
    for (uint8_t slot = 0; slot < pci::kMaxDevices; ++slot) {
      auto function = std::dynamic_pointer_cast<virtio::VirtioPci>(root->bridge().device(slot));
      if (!function) continue;
      virtio::VirtioPci* transport = function.get();
      if (msi) transport->set_msi_sink(msi);
      auto notify = [transport](uint16_t q) { transport->notify_queue(q); };
      auto d = impl->add(fmt::format("{} (pci 00:{:02x}.0)", transport->device().name(), slot),
                         transport->num_queues(), impl->pci_length, false, notify, transport->device());
      if (!d) return std::unexpected(d.error());
      transport->set_notify_dispatch(Impl::dispatch(*d, notify));
      if (!impl->use_ioeventfd) continue;
      Impl* self = impl.get();
      Doorbells* doorbells = *d;
      auto where = [](const pci::BarMapping& m) {
        return m.decoding ? std::optional<uint64_t>(m.address + virtio::VirtioPci::kNotifyOffset) : std::nullopt;
      };
      // The guest may move or disable the BAR (arm64/riscv64 Linux assigns
      // BARs itself): the doorbells follow it.
      transport->set_bar_observer([self, doorbells, where](const pci::BarMapping& m) {
        if (m.index == virtio::VirtioPci::kBar) self->place(*doorbells, where(m), virtio::VirtioPci::kNotifyOffMultiplier);
      });
      impl->place(*doorbells, where(transport->bar_mapping(virtio::VirtioPci::kBar)),
                  virtio::VirtioPci::kNotifyOffMultiplier);
    }
  }
  return std::unique_ptr<VirtioIo>(new VirtioIo(std::move(impl)));
}

void VirtioIo::start() {
  for (auto& d : impl_->devices) {
    d->thread->start();
    d->device->start_threads();
  }
}

void VirtioIo::stop() {
  if (!impl_) return;
  for (auto& d : impl_->devices) d->thread->stop();
}

std::vector<VirtioIoStats> VirtioIo::stats() const {
  std::vector<VirtioIoStats> out;
  for (const auto& d : impl_->devices) {
    out.push_back({d->label, d->notifications.load(), d->wakeups.load(), d->slow_path.load(), {}});
    // A NIC's drops say whether a slow transfer lost frames (TCP then waits
    // for retransmissions) or only moved them slowly.
    if (const auto* net = dynamic_cast<const virtio::VirtioNet*>(d->device)) {
      const virtio::VirtioNetStats s = net->stats();
      out.back().detail = fmt::format(
          "tx {} frames {} bytes, dropped {} (backend full {}, malformed {}); rx {} frames {} bytes, dropped {} "
          "(no guest buffers {}, malformed or too big {})",
          s.tx_frames, s.tx_bytes, s.tx_too_short + s.tx_too_long + s.tx_bad_header + s.tx_backend_dropped,
          s.tx_backend_dropped, s.tx_too_short + s.tx_too_long + s.tx_bad_header, s.rx_frames, s.rx_bytes,
          s.rx_dropped_full + s.rx_dropped_bad, s.rx_dropped_full, s.rx_dropped_bad);
    }
  }
  return out;
}

const std::string& VirtioIo::mode() const { return impl_->mode; }

}  // namespace vmm
