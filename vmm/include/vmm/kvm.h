// RAII wrappers for the three KVM file descriptors (/dev/kvm, a VM, a vCPU)
// with typed ioctl helpers. Every helper returns a Result whose error names
// the ioctl and carries errno's text. This header and vmm/arch/ are the only
// places that include <linux/kvm.h>. Helpers for ioctls only one
// architecture has are declared under its #if and defined in vmm/arch/<arch>/.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
#if defined(__x86_64__)
  Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
#endif
  // KVM_CREATE_VM with a machine type (aarch64: the IPA size; 0 elsewhere).
  Result<Vm> create_vm(unsigned long type = 0) const;
  int fd() const { return fd_.get(); }

 private:
  explicit Kvm(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// A VM: memory slots, irqchip, interrupt lines, vCPUs.
class Vm {
 public:
  Result<void> set_user_memory_region(uint32_t slot, uint64_t guest_phys, uint64_t size, void* host);
  // KVM_CHECK_EXTENSION on the VM (some answers depend on the VM): > 0 when present.
  int check_extension(long cap) const;
  Result<void> create_irqchip();
  // KVM_IRQ_LINE: drives an interrupt line of the in-kernel irqchip (x86: a
  // GSI; aarch64: the encoded type/vcpu/number, see vmm/arch/aarch64). Safe
  // from any thread.
  Result<void> irq_line(uint32_t irq, bool level);
  // KVM_IOEVENTFD on the MMIO bus: a guest write of `length` bytes (0: any
  // length, needs KVM_CAP_IOEVENTFD_ANY_LENGTH) to `address` signals
  // `eventfd` inside KVM instead of exiting to us; with `datamatch`, only a
  // write of that value does. remove_ioeventfd takes the same arguments.
  Result<void> add_ioeventfd(int eventfd, uint64_t address, uint32_t length, std::optional<uint64_t> datamatch);
  Result<void> remove_ioeventfd(int eventfd, uint64_t address, uint32_t length, std::optional<uint64_t> datamatch);
  // KVM_REGISTER_COALESCED_MMIO: guest writes of up to 8 bytes inside
  // [address, address+size) on the PIO bus (`pio`) or the MMIO bus no
  // longer exit; KVM queues them on the VM's coalesced ring (CoalescedRing)
  // and exits only when the ring is full. PIO needs KVM_CAP_COALESCED_PIO.
  Result<void> register_coalesced_zone(uint64_t address, uint32_t size, bool pio);
  // KVM_SIGNAL_MSI: one MSI through the in-kernel irqchip. Safe from any thread.
  Result<void> signal_msi(uint64_t address, uint32_t data);
  // KVM_CREATE_DEVICE; returns the device fd. `what` names it in errors.
  Result<Fd> create_device(uint32_t type, std::string_view what);
  // KVM_SET_GSI_ROUTING: replaces the whole GSI routing table.
  Result<void> set_gsi_routing(const std::vector<kvm_irq_routing_entry>& entries);
#if defined(__x86_64__)
  Result<void> set_tss_addr(uint64_t addr);
  Result<void> set_identity_map_addr(uint64_t addr);
  Result<void> create_pit2(uint32_t flags);
#endif
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
  // Page `index` of this vCPU's mmap (0 is kvm_run; the coalesced ring is
  // at the page KVM_CAP_COALESCED_MMIO names), or nullptr past its end.
  std::byte* mmap_page(size_t index, size_t page_size) const;

  // KVM_RUN. Returns the errno on failure (EINTR when kicked) so the loop
  // can tell a kick from a real error.
  int run();

  // KVM_GET_ONE_REG / KVM_SET_ONE_REG for 64-bit registers (aarch64, riscv64).
  Result<uint64_t> get_one_reg(uint64_t id) const;
  Result<void> set_one_reg(uint64_t id, uint64_t value);

#if defined(__x86_64__)
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
#endif
  int fd() const { return fd_.get(); }

 private:
  friend class Vm;
  Vcpu(Fd fd, uint32_t id, kvm_run* run, size_t run_size) : fd_(std::move(fd)), id_(id), run_(run), run_size_(run_size) {}
  Fd fd_;
  uint32_t id_;
  kvm_run* run_;
  size_t run_size_;
};

// KVM_SET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR on a device fd; `what` names
// the attribute in errors. `value` points at the attribute's data (or is
// null for attributes without data).
Result<void> set_device_attr(const Fd& device, uint32_t group, uint64_t attr, const void* value,
                             std::string_view what);
bool has_device_attr(const Fd& device, uint32_t group, uint64_t attr);

}  // namespace vmm
