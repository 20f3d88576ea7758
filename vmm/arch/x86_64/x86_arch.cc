// The x86_64 implementation of the vmm/arch.h hooks: a PC-style platform
// (its devices come from vmm/src/platform.cc) over the in-kernel
// PIC/IOAPIC/LAPIC and PIT; device lines are IOAPIC GSIs driven with
// KVM_IRQ_LINE.
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/x86_vm.h"
#include "boot/x86_boot_path.h"
#include "loader/bzimage.h"
#include "vmm/arch.h"
#include "vmm/irqfd_lines.h"
#include "vmm/kernel_cache.h"

namespace vmm::arch {

struct State {
  boot::X86EntryState entry;
  std::vector<kvm_cpuid_entry2> supported_cpuid;
  x86::CpuidQuirks quirks;
  std::string notes;
  std::string kernel_source;  // the kernel cache's outcome, when a payload was decompressed
  std::unique_ptr<IrqfdLines> irqfds;  // level lines; null without KVM_CAP_IRQFD_RESAMPLE
};

void StateDeleter::operator()(State* state) const { delete state; }

std::string_view name() { return "x86_64"; }

// Linux's early type-1 PCI pass looks for real chipsets' quirks and, on AMD
// families 0x0f, 0x10 and early 0x15 (QEMU's default qemu64 CPU is 0x0f), for
// an AGP bridge and a GART: it reads the class register of every slot of all
// 256 buses, twice. minivmm has one bus of virtio functions, none of them
// quirky; each of those 16 384 reads is an exit (1.9 s of a 4.7 s
// `vmm exec -- true` in the nested harness).
std::string_view exec_cmdline() { return "pci=noearly"; }

loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap& map, const Options& options,
                                      const Platform& platform, std::string& description) {
  boot::X86BootRequest request = x86_boot_request(options, platform);
  // The cache runs here, in the set-up, before any thread installs its
  // seccomp filter (run.cc), so its files need no system call in a role.
  std::optional<KernelCache> cache;
  std::string kernel_source;
  // The report splits the kernel step: finding the vmlinux (cache or
  // decompression) apart from loading it and the rest.
  const auto started = std::chrono::steady_clock::now();
  auto found = started;
  if (options.kernel_cache) {
    cache.emplace(kernel_cache_dir());
    request.decompress_payload = [&](const loader::ImageSource& bzimage) {
      auto vmlinux = cache->vmlinux(bzimage);
      kernel_source = cache->outcome();
      found = std::chrono::steady_clock::now();
      return vmlinux;
    };
  } else {
    request.decompress_payload = [&](const loader::ImageSource& bzimage) {
      kernel_source = "not cached: --no-kernel-cache";
      auto vmlinux = loader::extract_bzimage_vmlinux(bzimage);
      found = std::chrono::steady_clock::now();
      return vmlinux;
    };
  }
  auto prepared = boot::prepare_x86_boot(mem, map, request);
  if (!prepared) return std::unexpected(prepared.error());
  if (!kernel_source.empty()) {
    const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    kernel_source += fmt::format(" [{:.1f} ms to the vmlinux, {:.1f} ms loading it and the initrd]",
                                 ms(found - started), ms(std::chrono::steady_clock::now() - found));
  }
  description = prepared->description;
  StatePtr state(new State);
  state->entry = prepared->entry;
  state->kernel_source = std::move(kernel_source);
  return state;
}

Result<void> check_capabilities(const Kvm& kvm, State& state) {
  if (auto r = x86::check_capabilities(kvm); !r) return r;
  auto supported = kvm.supported_cpuid();
  if (!supported) return std::unexpected(supported.error());
  state.supported_cpuid = std::move(*supported);
  return {};
}

Result<void> create_vm_devices(const Kvm&, Vm& vm, State& state, const Options&) {
  state.quirks.hide_cx16 = !x86::host_has_nested_paging();
  state.quirks.tsc_deadline = vm.check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
  if (state.quirks.hide_cx16) {
    state.notes += "host CPU has no NPT/EPT (shadow paging): CMPXCHG16B hidden from the guest\n";
  }
  if (IrqfdLines::supported(vm)) state.irqfds = std::make_unique<IrqfdLines>(vm);
  return x86::setup_vm(vm);
}

devices::IrqLine irq_line(Vm& vm, State& state, Platform&, const devices::IrqRequest& request) {
  devices::IrqLine direct = [&vm, gsi = request.line](bool level) { (void)vm.irq_line(gsi, level); };
  // Edge lines (the i8042) stay on KVM_IRQ_LINE: resample is for level lines.
  if (!state.irqfds || request.trigger != boot::IrqTrigger::kLevel) return direct;
  auto line = state.irqfds->line(request.line, direct);
  return line ? *line : direct;
}

Result<devices::pci::MsiSink> msi_sink(Vm& vm, State&, Platform&) {
  // The local APICs need no device ID: the message alone says where it goes.
  return devices::pci::MsiSink(
      [&vm](const devices::pci::Msi& msi) { (void)vm.signal_msi(msi.message.address, msi.message.data); });
}

Result<void> connect_platform(Vm&, State& state, Platform&) {
  state.notes += activate_irqfd_lines(state.irqfds.get());
  return {};
}

Result<void> setup_vcpu(const Kvm&, Vm&, Vcpu& vcpu, State& state, const Options& options) {
  std::optional<boot::X86EntryState> entry;
  if (vcpu.id() == 0) entry = state.entry;
  return x86::setup_vcpu(vcpu, state.supported_cpuid, options.cpus, entry, state.quirks);
}

Result<void> vcpus_created(Vm&, std::vector<Vcpu>&, loader::GuestMemory&, State&, const Options&) { return {}; }

bool handle_exit(Vcpu&, VcpuContext&) { return false; }

std::string notes(const State& state) { return state.notes; }

std::string kernel_source(const State& state) { return state.kernel_source; }

std::string describe_vcpu(const Vcpu& vcpu) {
  auto regs = vcpu.get_regs();
  auto sregs = vcpu.get_sregs();
  if (!regs || !sregs) return "";
  return fmt::format(" at rip {:#x} rsp {:#x} (cs {:#x}, cr0 {:#x}, cr3 {:#x}, cr4 {:#x}, efer {:#x})", regs->rip,
                     regs->rsp, sregs->cs.selector, sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer);
}

}  // namespace vmm::arch
