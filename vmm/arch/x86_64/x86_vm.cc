#include "arch/x86_64/x86_vm.h"

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/vcpu_state.h"

namespace vmm::x86 {

Result<void> check_capabilities(const Kvm& kvm) {
  struct Cap {
    long cap;
    const char* name;
  };
  for (auto [cap, name] : {Cap{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"}, Cap{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
                           Cap{KVM_CAP_PIT2, "KVM_CAP_PIT2"}, Cap{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
                           Cap{KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
                           Cap{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
                           Cap{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}}) {
    if (auto r = kvm.require(cap, name); !r) return r;
  }
  return {};
}

Result<void> setup_vm(Vm& vm) {
  // The identity map must be placed before any vCPU exists.
  if (auto r = vm.set_identity_map_addr(kIdentityMapAddr); !r) return r;
  if (auto r = vm.set_tss_addr(kTssAddr); !r) return r;
  if (auto r = vm.create_irqchip(); !r) return r;
  // Software-only KVMs (kvm_pvm) have no GSI routing ioctl; they keep KVM's
  // default table, which only the PIT's IRQ0 gets wrong.
  if (auto r = vm.set_gsi_routing(legacy_gsi_routing()); !r && r.error().err != ENOTTY) return r;
  if (auto r = vm.create_pit2(KVM_PIT_SPEAKER_DUMMY); !r) return r;
  return {};
}

Result<void> setup_vcpu(Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& supported_cpuid, uint32_t cpu_count,
                        const std::optional<boot::X86EntryState>& entry, CpuidQuirks quirks) {
  if (auto r = vcpu.set_cpuid(cpuid_for_vcpu(supported_cpuid, vcpu.id(), cpu_count, quirks)); !r) return r;
  if (auto r = vcpu.set_msrs(boot_msrs()); !r) return r;
  if (auto r = vcpu.set_fpu(boot_fpu()); !r) return r;
  auto lapic = vcpu.get_lapic();
  if (!lapic) return std::unexpected(lapic.error());
  wire_lapic_lints(*lapic);
  if (auto r = vcpu.set_lapic(*lapic); !r) return r;
  if (!entry) return {};
  auto sregs = vcpu.get_sregs();
  if (!sregs) return std::unexpected(sregs.error());
  if (auto r = vcpu.set_sregs(to_kvm_sregs(entry->sregs, *sregs)); !r) return r;
  return vcpu.set_regs(to_kvm_regs(entry->regs));
}

}  // namespace vmm::x86
