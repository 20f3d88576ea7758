#include "vmm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

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

namespace {

// ioctl with EINTR retry for the set-up calls (KVM_RUN handles EINTR itself).
template <class Arg>
int xioctl(int fd, unsigned long req, Arg arg) {
  int r;
  do {
    r = ::ioctl(fd, req, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

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

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const {
  // The kernel says E2BIG until the buffer is big enough.
  for (uint32_t n = 64; n <= 4096; n *= 2) {
    size_t bytes = sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2);
    std::unique_ptr<std::byte[]> buf(new std::byte[bytes]());
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.get());
    cpuid->nent = n;
    if (xioctl(fd_.get(), KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
      return std::vector<kvm_cpuid_entry2>(cpuid->entries, cpuid->entries + cpuid->nent);
    }
    if (errno != E2BIG) return fail_errno(errno, "KVM_GET_SUPPORTED_CPUID");
  }
  return fail("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

Result<Vm> Kvm::create_vm() const {
  int fd = xioctl(fd_.get(), KVM_CREATE_VM, 0);
  if (fd < 0) return fail_errno(errno, "KVM_CREATE_VM");
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

Result<void> Vm::set_tss_addr(uint64_t addr) {
  if (xioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr)) < 0) {
    return fail_errno(errno, fmt::format("KVM_SET_TSS_ADDR {:#x}", addr));
  }
  return {};
}

Result<void> Vm::set_identity_map_addr(uint64_t addr) {
  uint64_t a = addr;
  if (xioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &a) < 0) {
    return fail_errno(errno, fmt::format("KVM_SET_IDENTITY_MAP_ADDR {:#x}", addr));
  }
  return {};
}

Result<void> Vm::create_irqchip() {
  if (xioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return fail_errno(errno, "KVM_CREATE_IRQCHIP");
  return {};
}

Result<void> Vm::create_pit2(uint32_t flags) {
  kvm_pit_config config{};
  config.flags = flags;
  if (xioctl(fd_.get(), KVM_CREATE_PIT2, &config) < 0) return fail_errno(errno, "KVM_CREATE_PIT2");
  return {};
}

Result<void> Vm::irq_line(uint32_t irq, bool level) {
  kvm_irq_level l{};
  l.irq = irq;
  l.level = level ? 1 : 0;
  if (xioctl(fd_.get(), KVM_IRQ_LINE, &l) < 0) return fail_errno(errno, fmt::format("KVM_IRQ_LINE {}", irq));
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

int Vcpu::run() {
  int r = ::ioctl(fd_.get(), KVM_RUN, 0);
  return r < 0 ? errno : 0;
}

Result<kvm_regs> Vcpu::get_regs() const {
  kvm_regs regs{};
  if (xioctl(fd_.get(), KVM_GET_REGS, &regs) < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_GET_REGS", id_));
  return regs;
}

Result<void> Vcpu::set_regs(const kvm_regs& regs) {
  if (xioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_REGS", id_));
  return {};
}

Result<kvm_sregs> Vcpu::get_sregs() const {
  kvm_sregs sregs{};
  if (xioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_GET_SREGS", id_));
  }
  return sregs;
}

Result<void> Vcpu::set_sregs(const kvm_sregs& sregs) {
  if (xioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_SREGS", id_));
  }
  return {};
}

Result<void> Vcpu::set_fpu(const kvm_fpu& fpu) {
  if (xioctl(fd_.get(), KVM_SET_FPU, &fpu) < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_FPU", id_));
  return {};
}

Result<void> Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  size_t bytes = sizeof(kvm_cpuid2) + entries.size() * sizeof(kvm_cpuid_entry2);
  std::unique_ptr<std::byte[]> buf(new std::byte[bytes]());
  auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.get());
  cpuid->nent = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), cpuid->entries);
  if (xioctl(fd_.get(), KVM_SET_CPUID2, cpuid) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_CPUID2 ({} entries)", id_, entries.size()));
  }
  return {};
}

Result<void> Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  size_t bytes = sizeof(kvm_msrs) + msrs.size() * sizeof(kvm_msr_entry);
  std::unique_ptr<std::byte[]> buf(new std::byte[bytes]());
  auto* m = reinterpret_cast<kvm_msrs*>(buf.get());
  m->nmsrs = static_cast<uint32_t>(msrs.size());
  std::copy(msrs.begin(), msrs.end(), m->entries);
  int r = xioctl(fd_.get(), KVM_SET_MSRS, m);
  if (r < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_MSRS", id_));
  // KVM stops at the first MSR it refuses and returns how many it set.
  if (static_cast<size_t>(r) != msrs.size()) {
    return fail("vCPU {}: KVM_SET_MSRS refused MSR {:#x} (set {} of {})", id_, msrs[static_cast<size_t>(r)].index,
                r, msrs.size());
  }
  return {};
}

Result<kvm_lapic_state> Vcpu::get_lapic() const {
  kvm_lapic_state lapic{};
  if (xioctl(fd_.get(), KVM_GET_LAPIC, &lapic) < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_GET_LAPIC", id_));
  return lapic;
}

Result<void> Vcpu::set_lapic(const kvm_lapic_state& lapic) {
  if (xioctl(fd_.get(), KVM_SET_LAPIC, &lapic) < 0) return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_LAPIC", id_));
  return {};
}

}  // namespace vmm
