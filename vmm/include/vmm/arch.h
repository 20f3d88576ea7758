// The seam between the architecture-neutral VMM (run.cc and its parts:
// memory, the platform devices, the console, the event loop, the vCPU
// threads) and one architecture's KVM and boot specifics, in the manner of
// kvmtool's kvm__arch_* / kvm_cpu__arch_* hooks. Exactly one
// vmm/arch/<arch>/ directory is compiled in (vmm/CMakeLists.txt picks it
// from CMAKE_SYSTEM_PROCESSOR) and defines every function below.
//
// run_vm calls them in this order:
//   prepare_boot (no KVM yet: a bad kernel is reported the same on hosts
//   without KVM) -> check_capabilities -> create_vm_devices -> irq_line (each
//   device line) -> connect_platform -> setup_vcpu (each vCPU) ->
//   vcpus_created -> run (handle_exit from the vCPU threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boot/memory_map.h"
#include "devices/pci/pci_device.h"
#include "devices/platform_device.h"
#include "loader/guest_memory.h"
#include "vmm/cli.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/platform.h"
#include "vmm/seccomp_policy.h"
#include "vmm/vcpu_loop.h"

namespace vmm::arch {

// What an architecture keeps between its hooks for one VM (entry state,
// CPUID, the vGIC device fd, ...). Defined in vmm/arch/<arch>/.
struct State;
struct StateDeleter {
  void operator()(State* state) const;
};
using StatePtr = std::unique_ptr<State, StateDeleter>;

// "x86_64", "aarch64", ...
std::string_view name();

// Kernel parameters `vmm exec` gives every guest on this architecture ("" for
// none): work the kernel would do that can find nothing on minivmm's platform.
std::string_view exec_cmdline();

// Loads the kernel (and initrd, command line) into mem, writes the boot data
// with what the platform's devices describe, and computes what the boot vCPU
// starts with. No KVM. `description` names the boot path for the report
// ("linux 64-bit (bzImage)", "Image + device tree", ...).
loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap& map, const Options& options,
                                      const Platform& platform, std::string& description);

// Checks the KVM capabilities the backend needs, naming the one missing.
Result<void> check_capabilities(const Kvm& kvm, State& state);

// VM-wide KVM set-up before any vCPU exists (x86: TSS, irqchip, PIT;
// aarch64: the vGIC). May record notes for the boot report (fallbacks, host
// quirks), see notes().
Result<void> create_vm_devices(const Kvm& kvm, Vm& vm, State& state, const Options& options);

// The KVM side of one device interrupt line (x86: an IOAPIC GSI; aarch64: a
// GIC SPI; riscv64: a source of the userspace PLIC). Called from vCPU
// threads and the main thread; a line on a valid GSI of our own irqchip does
// not fail, and a device has nowhere to report it anyway.
devices::IrqLine irq_line(Vm& vm, State& state, Platform& platform, const devices::IrqRequest& request);

// Where PCI MSIs go (x86: KVM_SIGNAL_MSI into the in-kernel local APICs;
// aarch64: irqfds on GSI routes into the vGIC ITS, set up here for every
// MSI-X vector of `platform`'s PCI functions). Empty where the irqchip routes
// none (aarch64 without an ITS, riscv64's userspace PLIC): guests there find
// no MSI domain and use INTx.
Result<devices::pci::MsiSink> msi_sink(Vm& vm, State& state, Platform& platform);

// Wiring that platform devices need from KVM (riscv64: the PLIC's outputs
// to each hart's external interrupt).
Result<void> connect_platform(Vm& vm, State& state, Platform& platform);

// Per-vCPU state; vCPU 0 gets the boot entry state.
Result<void> setup_vcpu(const Kvm& kvm, Vm& vm, Vcpu& vcpu, State& state, const Options& options);

// After every vCPU is created and set up (aarch64: vGIC init, device tree).
Result<void> vcpus_created(Vm& vm, std::vector<Vcpu>& vcpus, loader::GuestMemory& mem, State& state,
                           const Options& options);

// An exit only this architecture has (riscv64: the SBI calls KVM leaves to
// user space). Returns true when it was handled; false sends it to the
// generic "unexpected exit" path.
bool handle_exit(Vcpu& vcpu, VcpuContext& ctx);

// Lines for the boot report about fallbacks and host quirks ("" for none).
std::string notes(const State& state);

// Where the kernel came from when the VMM decompressed it (x86 PVH from a
// bzImage: the kernel cache's outcome); empty otherwise.
std::string kernel_source(const State& state);

// " at pc ..." / " at rip ...": where a vCPU is, for error reports; "" when
// the registers cannot be read.
std::string describe_vcpu(const Vcpu& vcpu);

// The KVM ioctls this architecture issues once the VM runs, for the seccomp
// allow-lists (vmm/seccomp_policy.h; defined in vmm/arch/<arch>/seccomp_ioctls.cc):
// `interrupts` raise or lower a device interrupt (irq_line, msi_sink: any
// thread that runs device code); `registers` read a vCPU's registers
// (describe_vcpu: vCPU threads on an error exit, the main thread after a
// timeout).
struct RuntimeIoctls {
  std::vector<seccomp::Ioctl> interrupts;
  std::vector<seccomp::Ioctl> registers;
};
RuntimeIoctls runtime_ioctls();

}  // namespace vmm::arch
