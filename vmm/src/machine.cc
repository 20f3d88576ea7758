#include "vmm/machine.h"

#include <unistd.h>

#include "boot/memory_maps.h"
#include "vmm/exit_codes.h"

namespace vmm {

namespace {

// The windows whose writes may queue (devices::Window::writes_may_queue) go
// on KVM's coalesced ring. Without the capabilities, or when KVM refuses a
// zone, their writes simply keep exiting: slower, never wrong, so that is a
// note and not an error.
std::unique_ptr<CoalescedRing> queue_writes(const Kvm& kvm, Vm& vm, const Platform& platform, const Vcpu& vcpu,
                                            std::string& notes) {
  std::vector<devices::Window> zones;
  for (const auto& d : platform.devices())
    for (const auto& w : d->windows())
      if (w.writes_may_queue) zones.push_back(w);
  if (zones.empty()) return nullptr;
  // The answer is the ring's page in the vCPU mapping (0: no ring).
  const int page = kvm.check_extension(KVM_CAP_COALESCED_MMIO);
  const bool pio = kvm.check_extension(KVM_CAP_COALESCED_PIO) > 0;
  const long page_size = sysconf(_SC_PAGESIZE);
  std::byte* ring_page = page > 0 && page_size > 0 ? vcpu.mmap_page(static_cast<size_t>(page), static_cast<size_t>(page_size)) : nullptr;
  if (!ring_page) {
    notes += "KVM has no coalesced MMIO ring: every write to the PCI address latch exits\n";
    return nullptr;
  }
  auto ring = std::make_unique<CoalescedRing>(ring_page, static_cast<size_t>(page_size));
  size_t registered = 0;
  for (const auto& w : zones) {
    const bool is_pio = w.bus == devices::BusKind::kPio;
    if (is_pio && !pio) {
      notes += fmt::format("KVM cannot queue port writes (no KVM_CAP_COALESCED_PIO): writes to {} exit\n", w.name);
      continue;
    }
    if (auto r = vm.register_coalesced_zone(w.base, static_cast<uint32_t>(w.size), is_pio); !r) {
      notes += fmt::format("writes to {} exit: {}\n", w.name, r.error().message);
      continue;
    }
    ++registered;
  }
  return registered ? std::move(ring) : nullptr;
}

}  // namespace

std::expected<std::unique_ptr<Machine>, MachineError> Machine::build(const Options& options, PlatformSinks sinks) {
  auto error = [](int code, std::string message) { return std::unexpected(MachineError{code, std::move(message)}); };

  auto map = boot::memory_map_for(options.arch, options.memory);
  if (!map) return error(kExitUsage, fmt::format("--memory: {}", map.error().message));
  // Transparent huge pages, 2 MiB aligned: KVM then maps guest RAM with
  // huge pages, and each guest page walk misses the TLB far less (it shows
  // most under nested paging).
  loader::MemoryOptions memory_options;
  memory_options.huge_pages = loader::HugePages::kTransparent;
  auto mem = loader::GuestMemory::create(boot::guest_memory_regions(*map), memory_options);
  if (!mem) return error(kExitLoad, fmt::format("guest memory: {}", mem.error().message));
  std::unique_ptr<Machine> m(new Machine(std::move(*mem)));
  auto mark = [&m](std::string name) { m->phases_.push_back({std::move(name), std::chrono::steady_clock::now()}); };
  mark("memory");

  auto platform = build_platform(options.arch, options, std::move(sinks), m->mem_);
  if (!platform) {
    if (int code = user_input_exit_code(platform.error().message)) return error(code, platform.error().message);
    return error(kExitInternal, fmt::format("devices: {}", platform.error().message));
  }
  m->platform_ = std::move(*platform);
  mark("devices");

  auto state = arch::prepare_boot(m->mem_, *map, options, *m->platform_, m->boot_path_);
  if (!state) return error(kExitLoad, state.error().message);
  m->state_ = std::move(*state);
  arch::State& st = *m->state_;
  mark("kernel+initrd");

  auto kvm = Kvm::open(options.kvm_device);
  if (!kvm) return error(kExitKvm, kvm.error().message);
  m->kvm_.emplace(std::move(*kvm));
  auto kvm_error = [&](const Error& e) { return error(kExitKvm, e.message); };
  if (auto r = arch::check_capabilities(*m->kvm_, st); !r) return kvm_error(r.error());
  auto vm = m->kvm_->create_vm();
  if (!vm) return kvm_error(vm.error());
  m->vm_.emplace(std::move(*vm));
  Vm& v = *m->vm_;
  if (auto r = arch::create_vm_devices(*m->kvm_, v, st, options); !r) return kvm_error(r.error());
  uint32_t slot = 0;
  for (const auto& region : m->mem_.regions()) {
    if (auto r = v.set_user_memory_region(slot++, region.base().value(), region.size(), region.host()); !r)
      return kvm_error(r.error());
  }
  mark("vm");
  m->platform_->connect_irqs(
      [&](const devices::IrqRequest& request) { return arch::irq_line(v, st, *m->platform_, request); });
  if (auto r = arch::connect_platform(v, st, *m->platform_); !r) return kvm_error(r.error());
  auto msi = arch::msi_sink(v, st, *m->platform_);
  if (!msi) return kvm_error(msi.error());
  auto io = VirtioIo::wire(v, *m->platform_, std::move(*msi));
  if (!io) return kvm_error(io.error());
  m->virtio_io_ = std::move(*io);
  mark("irqs+virtio");

  auto mmap_size = m->kvm_->vcpu_mmap_size();
  if (!mmap_size) return kvm_error(mmap_size.error());
  m->vcpus_.reserve(options.cpus);
  for (uint32_t i = 0; i < options.cpus; ++i) {
    auto vcpu = v.create_vcpu(i, *mmap_size);
    if (!vcpu) return kvm_error(vcpu.error());
    m->vcpus_.push_back(std::move(*vcpu));
  }
  for (auto& vcpu : m->vcpus_) {
    if (auto r = arch::setup_vcpu(*m->kvm_, v, vcpu, st, options); !r) return kvm_error(r.error());
  }
  if (auto r = arch::vcpus_created(v, m->vcpus_, m->mem_, st, options); !r) return kvm_error(r.error());
  mark("vcpus");
  if (!m->vcpus_.empty()) m->coalesced_ = queue_writes(*m->kvm_, v, *m->platform_, m->vcpus_.front(), m->notes_);
  return m;
}

}  // namespace vmm
