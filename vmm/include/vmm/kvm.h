// RAII wrappers for the three KVM file descriptors (/dev/kvm, a VM, a vCPU)
// with typed ioctl helpers. Every helper returns a Result whose error names
// the ioctl and carries errno's text. This header and vmm/arch/ are the only
// places that include <linux/kvm.h>.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/error.h"

namespace vmm {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

inline constexpr int kKvmApiVersion = 12;

class Vm;
class Vcpu;

// /dev/kvm.
class Kvm {
 public:
  // Opens the device and checks the API version. ENOENT and EACCES get
  // messages that tell the user what to do.
  static Result<Kvm> open(const std::string& path = "/dev/kvm");

  // KVM_CHECK_EXTENSION: > 0 when present (some return a count or limit).
  int check_extension(long cap) const;
  // Fails naming the capability when it is missing.
  Result<void> require(long cap, std::string_view name) const;
  Result<int> vcpu_mmap_size() const;
  Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
  Result<Vm> create_vm() const;
  int fd() const { return fd_.get(); }

 private:
  explicit Kvm(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// A VM: memory slots, irqchip, interrupt lines, vCPUs.
class Vm {
 public:
  Result<void> set_user_memory_region(uint32_t slot, uint64_t guest_phys, uint64_t size, void* host);
  Result<void> set_tss_addr(uint64_t addr);
  Result<void> set_identity_map_addr(uint64_t addr);
  Result<void> create_irqchip();
  Result<void> create_pit2(uint32_t flags);
  // KVM_IRQ_LINE: drives a GSI of the in-kernel PIC/IOAPIC. Safe from any thread.
  Result<void> irq_line(uint32_t irq, bool level);
  // KVM_SET_GSI_ROUTING: replaces the whole GSI routing table.
  Result<void> set_gsi_routing(const std::vector<kvm_irq_routing_entry>& entries);
  Result<Vcpu> create_vcpu(uint32_t id, int mmap_size);
  int fd() const { return fd_.get(); }

 private:
  friend class Kvm;
  explicit Vm(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// A vCPU with its mmapped kvm_run.
class Vcpu {
 public:
  Vcpu(Vcpu&& o) noexcept;
  Vcpu& operator=(Vcpu&&) = delete;
  Vcpu(const Vcpu&) = delete;
  ~Vcpu();

  uint32_t id() const { return id_; }
  kvm_run* run_state() const { return run_; }

  // KVM_RUN. Returns the errno on failure (EINTR when kicked) so the loop
  // can tell a kick from a real error.
  int run();

  Result<kvm_regs> get_regs() const;
  Result<void> set_regs(const kvm_regs& regs);
  Result<kvm_sregs> get_sregs() const;
  Result<void> set_sregs(const kvm_sregs& sregs);
  Result<void> set_fpu(const kvm_fpu& fpu);
  Result<void> set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
  // Sets every MSR; fails naming the first one KVM refused.
  Result<void> set_msrs(const std::vector<kvm_msr_entry>& msrs);
  Result<kvm_lapic_state> get_lapic() const;
  Result<void> set_lapic(const kvm_lapic_state& lapic);
  int fd() const { return fd_.get(); }

 private:
  friend class Vm;
  Vcpu(Fd fd, uint32_t id, kvm_run* run, size_t run_size) : fd_(std::move(fd)), id_(id), run_(run), run_size_(run_size) {}
  Fd fd_;
  uint32_t id_;
  kvm_run* run_;
  size_t run_size_;
};

}  // namespace vmm
