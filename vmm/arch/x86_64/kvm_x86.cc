// The x86-only KVM ioctls of vmm/kvm.h (CPUID, MSRs, LAPIC, TSS, PIT, the
// x86 register files).
#include <cstring>
#include <memory>

#include "vmm/kvm.h"
#include "vmm/xioctl.h"

namespace vmm {

namespace {

// <linux/kvm.h> declares kvm_cpuid2 and kvm_msrs with __DECLARE_FLEX_ARRAY,
// which in C++ (Linux 6.1 uapi headers) inserts an empty struct of size 1:
// sizeof grows from 8 to 12/16, the entries move, and the ioctl numbers
// derived from sizeof no longer match the kernel's (KVM answers EINVAL).
// So these three ioctls use the C layout spelled out here: an 8-byte header
// followed by the entries.
struct CHeader {
  uint32_t count;
  uint32_t padding;
};
static_assert(sizeof(CHeader) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40);
static_assert(sizeof(kvm_msr_entry) == 16);
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, CHeader);

// A header + entries buffer in the C layout.
template <class Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t count)
      : bytes_(sizeof(CHeader) + count * sizeof(Entry)), data_(new std::byte[bytes_]()) {
    CHeader h{static_cast<uint32_t>(count), 0};
    std::memcpy(data_.get(), &h, sizeof h);
  }
  void* get() { return data_.get(); }
  uint32_t count() const {
    CHeader h;
    std::memcpy(&h, data_.get(), sizeof h);
    return h.count;
  }
  void set(size_t i, const Entry& e) { std::memcpy(data_.get() + sizeof(CHeader) + i * sizeof(Entry), &e, sizeof e); }
  Entry at(size_t i) const {
    Entry e;
    std::memcpy(&e, data_.get() + sizeof(CHeader) + i * sizeof(Entry), sizeof e);
    return e;
  }

 private:
  size_t bytes_;
  std::unique_ptr<std::byte[]> data_;
};

}  // namespace

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const {
  // The kernel says E2BIG until the buffer is big enough.
  for (uint32_t n = 64; n <= 4096; n *= 2) {
    FlexBuffer<kvm_cpuid_entry2> buf(n);
    if (xioctl(fd_.get(), kGetSupportedCpuid, buf.get()) == 0) {
      std::vector<kvm_cpuid_entry2> out;
      for (uint32_t i = 0; i < buf.count() && i < n; ++i) out.push_back(buf.at(i));
      return out;
    }
    if (errno != E2BIG) return fail_errno(errno, "KVM_GET_SUPPORTED_CPUID");
  }
  return fail("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
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

Result<void> Vm::create_pit2(uint32_t flags) {
  kvm_pit_config config{};
  config.flags = flags;
  if (xioctl(fd_.get(), KVM_CREATE_PIT2, &config) < 0) return fail_errno(errno, "KVM_CREATE_PIT2");
  return {};
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
  FlexBuffer<kvm_cpuid_entry2> buf(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) buf.set(i, entries[i]);
  if (xioctl(fd_.get(), kSetCpuid2, buf.get()) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_CPUID2 ({} entries)", id_, entries.size()));
  }
  return {};
}

Result<void> Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  FlexBuffer<kvm_msr_entry> buf(msrs.size());
  for (size_t i = 0; i < msrs.size(); ++i) buf.set(i, msrs[i]);
  int r = xioctl(fd_.get(), kSetMsrs, buf.get());
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
