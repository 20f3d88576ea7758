#include "vmm/kvm.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "vmm/xioctl.h"

namespace vmm {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}


Result<Kvm> Kvm::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return std::unexpected(Error{fmt::format("{} not found: this host has no KVM (no virtualization extensions, "
                                               "kvm module not loaded, or inside a VM without nested virtualization)",
                                               path), err});
    }
    if (err == EACCES || err == EPERM) {
      return std::unexpected(Error{fmt::format("{}: permission denied — add yourself to group kvm "
                                               "(sudo usermod -aG kvm $USER, then log in again)", path), err});
    }
    return fail_errno(err, fmt::format("open {}", path));
  }
  Kvm kvm{Fd(fd)};
  int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version != kKvmApiVersion) {
    return fail("{}: KVM API version {} (need {})", path, version, kKvmApiVersion);
  }
  return kvm;
}

int Kvm::check_extension(long cap) const {
  int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Result<void> Kvm::require(long cap, std::string_view name) const {
  if (check_extension(cap) <= 0) return fail("KVM lacks the capability {} this VMM needs", name);
  return {};
}

Result<int> Kvm::vcpu_mmap_size() const {
  int r = xioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (r <= 0) return fail_errno(errno, "KVM_GET_VCPU_MMAP_SIZE");
  return r;
}

Result<Vm> Kvm::create_vm(unsigned long type) const {
  int fd = xioctl(fd_.get(), KVM_CREATE_VM, type);
  if (fd < 0) return fail_errno(errno, fmt::format("KVM_CREATE_VM (type {:#x})", type));
  return Vm(Fd(fd));
}

Result<void> Vm::set_user_memory_region(uint32_t slot, uint64_t guest_phys, uint64_t size, void* host) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_phys;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (xioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return fail_errno(errno, fmt::format("KVM_SET_USER_MEMORY_REGION slot {} at {:#x} size {:#x}", slot,
                                         guest_phys, size));
  }
  return {};
}

int Vm::check_extension(long cap) const {
  int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Result<void> Vm::register_coalesced_zone(uint64_t address, uint32_t size, bool pio) {
  kvm_coalesced_mmio_zone zone{};
  zone.addr = address;
  zone.size = size;
  zone.pio = pio ? 1 : 0;
  if (xioctl(fd_.get(), KVM_REGISTER_COALESCED_MMIO, &zone) < 0) {
    return fail_errno(errno, fmt::format("KVM_REGISTER_COALESCED_MMIO {} {:#x} size {:#x}", pio ? "pio" : "mmio",
                                         address, size));
  }
  return {};
}

Result<Fd> Vm::create_device(uint32_t type, std::string_view what) {
  kvm_create_device device{};
  device.type = type;
  if (xioctl(fd_.get(), KVM_CREATE_DEVICE, &device) < 0) {
    return fail_errno(errno, fmt::format("KVM_CREATE_DEVICE {}", what));
  }
  return Fd(static_cast<int>(device.fd));
}

Result<void> Vm::create_irqchip() {
  if (xioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return fail_errno(errno, "KVM_CREATE_IRQCHIP");
  return {};
}

Result<void> Vm::irq_line(uint32_t irq, bool level) {
  kvm_irq_level l{};
  l.irq = irq;
  l.level = level ? 1 : 0;
  if (xioctl(fd_.get(), KVM_IRQ_LINE, &l) < 0) return fail_errno(errno, fmt::format("KVM_IRQ_LINE {}", irq));
  return {};
}

namespace {

Result<void> ioeventfd(int vm, int eventfd, uint64_t address, uint32_t length, std::optional<uint64_t> datamatch,
                       bool remove) {
  kvm_ioeventfd io{};
  io.addr = address;
  io.len = length;
  io.fd = eventfd;
  if (datamatch) {
    io.datamatch = *datamatch;
    io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  }
  if (remove) io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
  if (xioctl(vm, KVM_IOEVENTFD, &io) < 0) {
    return fail_errno(errno, fmt::format("KVM_IOEVENTFD {} {:#x} len {}", remove ? "deassign" : "assign", address, length));
  }
  return {};
}

}  // namespace

Result<void> Vm::add_ioeventfd(int eventfd, uint64_t address, uint32_t length, std::optional<uint64_t> datamatch) {
  return ioeventfd(fd_.get(), eventfd, address, length, datamatch, false);
}

Result<void> Vm::remove_ioeventfd(int eventfd, uint64_t address, uint32_t length, std::optional<uint64_t> datamatch) {
  return ioeventfd(fd_.get(), eventfd, address, length, datamatch, true);
}

Result<void> Vm::signal_msi(uint64_t address, uint32_t data) {
  kvm_msi msi{};
  msi.address_lo = static_cast<uint32_t>(address);
  msi.address_hi = static_cast<uint32_t>(address >> 32);
  msi.data = data;
  // > 0 delivered, 0 blocked by the guest (masked in the LAPIC): both fine.
  if (xioctl(fd_.get(), KVM_SIGNAL_MSI, &msi) < 0) return fail_errno(errno, "KVM_SIGNAL_MSI");
  return {};
}

Result<void> Vm::set_gsi_routing(const std::vector<kvm_irq_routing_entry>& entries) {
  // kvm_irq_routing ends in a flexible array: build it in a buffer of entries.
  std::vector<kvm_irq_routing_entry> buffer(1 + entries.size());
  auto* table = reinterpret_cast<kvm_irq_routing*>(buffer.data());
  static_assert(sizeof(kvm_irq_routing) <= sizeof(kvm_irq_routing_entry));
  table->nr = static_cast<uint32_t>(entries.size());
  table->flags = 0;
  std::copy(entries.begin(), entries.end(), table->entries);
  if (xioctl(fd_.get(), KVM_SET_GSI_ROUTING, table) < 0) return fail_errno(errno, "KVM_SET_GSI_ROUTING");
  return {};
}

Result<Vcpu> Vm::create_vcpu(uint32_t id, int mmap_size) {
  int fd = xioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
  if (fd < 0) return fail_errno(errno, fmt::format("KVM_CREATE_VCPU {}", id));
  Fd owned(fd);
  void* run = ::mmap(nullptr, static_cast<size_t>(mmap_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (run == MAP_FAILED) return fail_errno(errno, fmt::format("mmap kvm_run of vCPU {}", id));
  return Vcpu(std::move(owned), id, static_cast<kvm_run*>(run), static_cast<size_t>(mmap_size));
}

Vcpu::Vcpu(Vcpu&& o) noexcept
    : fd_(std::move(o.fd_)), id_(o.id_), run_(std::exchange(o.run_, nullptr)), run_size_(o.run_size_) {}

Vcpu::~Vcpu() {
  if (run_) ::munmap(run_, run_size_);
}

std::byte* Vcpu::mmap_page(size_t index, size_t page_size) const {
  if (!run_ || page_size == 0 || index >= run_size_ / page_size) return nullptr;
  return reinterpret_cast<std::byte*>(run_) + index * page_size;
}

int Vcpu::run() {
  int r = ::ioctl(fd_.get(), KVM_RUN, 0);
  return r < 0 ? errno : 0;
}

Result<uint64_t> Vcpu::get_one_reg(uint64_t id) const {
  uint64_t value = 0;
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (xioctl(fd_.get(), KVM_GET_ONE_REG, &reg) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_GET_ONE_REG {:#x}", id_, id));
  }
  return value;
}

Result<void> Vcpu::set_one_reg(uint64_t id, uint64_t value) {
  kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
  if (xioctl(fd_.get(), KVM_SET_ONE_REG, &reg) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_ONE_REG {:#x} = {:#x}", id_, id, value));
  }
  return {};
}

Result<void> set_device_attr(const Fd& device, uint32_t group, uint64_t attr, const void* value,
                             std::string_view what) {
  kvm_device_attr a{};
  a.group = group;
  a.attr = attr;
  a.addr = reinterpret_cast<uint64_t>(value);
  if (xioctl(device.get(), KVM_SET_DEVICE_ATTR, &a) < 0) {
    return fail_errno(errno, fmt::format("KVM_SET_DEVICE_ATTR {}", what));
  }
  return {};
}

bool has_device_attr(const Fd& device, uint32_t group, uint64_t attr) {
  kvm_device_attr a{};
  a.group = group;
  a.attr = attr;
  return xioctl(device.get(), KVM_HAS_DEVICE_ATTR, &a) == 0;
}

}  // namespace vmm
