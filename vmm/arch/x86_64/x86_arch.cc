// The x86_64 implementation of the vmm/arch.h hooks: PC-style platform
// (PIO 16550A at 0x3f8 on IRQ 4, i8042, CMOS, port 0x80) over the in-kernel
// PIC/IOAPIC/LAPIC and PIT.
#include <optional>

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/x86_boot_path.h"
#include "arch/x86_64/x86_vm.h"
#include "boot/layout_x86.h"
#include "boot/memory_map_x86.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/serial_16550a.h"
#include "vmm/arch.h"

namespace vmm::arch {

struct State {
  boot::X86EntryState entry;
  std::vector<kvm_cpuid_entry2> supported_cpuid;
  x86::CpuidQuirks quirks;
  std::string notes;
};

void StateDeleter::operator()(State* state) const { delete state; }

std::string_view name() { return "x86_64"; }

loader::Result<boot::MemoryMap> memory_map(const RunConfig& config) { return boot::x86_memory_map(config.memory); }

loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap& map, const RunConfig& config,
                                      std::string& description) {
  auto prepared = x86::prepare_boot(mem, map, config);
  if (!prepared) return std::unexpected(prepared.error());
  description = prepared->description;
  StatePtr state(new State);
  state->entry = prepared->entry;
  return state;
}

Result<void> check_capabilities(const Kvm& kvm, State& state) {
  if (auto r = x86::check_capabilities(kvm); !r) return r;
  auto supported = kvm.supported_cpuid();
  if (!supported) return std::unexpected(supported.error());
  state.supported_cpuid = std::move(*supported);
  return {};
}

Result<void> create_vm_devices(const Kvm&, Vm& vm, State& state, const RunConfig&) {
  state.quirks.hide_cx16 = !x86::host_has_nested_paging();
  if (state.quirks.hide_cx16) {
    state.notes += "host CPU has no NPT/EPT (shadow paging): CMPXCHG16B hidden from the guest\n";
  }
  return x86::setup_vm(vm);
}

Result<void> add_platform_devices(Platform& platform, State&) {
  auto i8042 = std::make_shared<devices::I8042>([reset = platform.guest_reset] { reset(); });
  auto rtc = std::make_shared<devices::CmosRtc>();
  platform.post_code = std::make_shared<devices::PostCode>();
  for (auto r : {platform.pio.add(0x60, 1, i8042, "i8042 data", devices::I8042::kDataOffset),
                 platform.pio.add(0x64, 1, i8042, "i8042 command", devices::I8042::kCommandOffset),
                 platform.pio.add(0x70, 2, rtc, "cmos rtc"), platform.pio.add(0x80, 1, platform.post_code, "post code")}) {
    if (!r) return fail("{}", r.error().message);
  }
  return {};
}

SerialWiring serial_wiring() { return {devices::BusKind::kPio, boot::x86::kCom1Port}; }

std::function<void(bool)> serial_irq(Vm& vm, State&) {
  // KVM_IRQ_LINE on a valid GSI of our own irqchip does not fail; a device has nowhere to report it anyway.
  return [&vm](bool level) { (void)vm.irq_line(x86::kSerialIrq, level); };
}

Result<void> setup_vcpu(const Kvm&, Vm&, Vcpu& vcpu, State& state, const RunConfig& config) {
  std::optional<boot::X86EntryState> entry;
  if (vcpu.id() == 0) entry = state.entry;
  return x86::setup_vcpu(vcpu, state.supported_cpuid, config.cpus, entry, state.quirks);
}

Result<void> vcpus_created(Vm&, std::vector<Vcpu>&, loader::GuestMemory&, State&, const RunConfig&) { return {}; }

std::string notes(const State& state) { return state.notes; }

std::string describe_vcpu(const Vcpu& vcpu) {
  auto regs = vcpu.get_regs();
  auto sregs = vcpu.get_sregs();
  if (!regs || !sregs) return "";
  return fmt::format(" at rip {:#x} rsp {:#x} (cs {:#x}, cr0 {:#x}, cr3 {:#x}, cr4 {:#x}, efer {:#x})", regs->rip,
                     regs->rsp, sregs->cs.selector, sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer);
}

}  // namespace vmm::arch
