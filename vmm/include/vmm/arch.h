// The seam between the architecture-neutral VMM (run.cc: memory, the bus,
// the console, the event loop, the vCPU threads) and one architecture's
// KVM and boot specifics, in the manner of kvmtool's kvm__arch_* /
// kvm_cpu__arch_* hooks. Exactly one vmm/arch/<arch>/ directory is compiled
// in (vmm/CMakeLists.txt picks it from CMAKE_SYSTEM_PROCESSOR) and defines
// every function below.
//
// run_vm calls them in this order:
//   memory_map -> prepare_boot (no KVM yet: a bad kernel is reported the same
//   on hosts without KVM) -> check_capabilities -> create_vm_devices ->
//   add_platform_devices -> setup_vcpu (each vCPU) -> vcpus_created -> run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boot/memory_map.h"
#include "devices/bus.h"
#include "devices/post_code.h"
#include "loader/guest_memory.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/run.h"

namespace vmm::arch {

// What an architecture keeps between its hooks for one VM (entry state,
// CPUID, the vGIC device fd, ...). Defined in vmm/arch/<arch>/.
struct State;
struct StateDeleter {
  void operator()(State* state) const;
};
using StatePtr = std::unique_ptr<State, StateDeleter>;

// The devices every VM gets, owned by run_vm. Hooks add their own.
struct Platform {
  devices::Bus& pio;
  devices::Bus& mmio;
  // Called (from a vCPU thread) when the guest resets the machine through a
  // device (x86: the i8042).
  std::function<void()> guest_reset;
  // Port 0x80 post codes, when the architecture has them (x86), for the boot report.
  std::shared_ptr<devices::PostCode> post_code;
};

// Where the console UART sits and how it interrupts.
struct SerialWiring {
  devices::BusKind bus = devices::BusKind::kPio;
  uint64_t base = 0;
};

// "x86_64", "aarch64", ...
std::string_view name();

// The guest physical memory map for config.memory bytes of RAM.
loader::Result<boot::MemoryMap> memory_map(const RunConfig& config);

// Loads the kernel (and initrd, command line) into mem and computes what the
// boot vCPU starts with. No KVM. `description` names the boot path for the
// report ("linux 64-bit (bzImage)", "Image + device tree", ...).
loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap& map, const RunConfig& config,
                                      std::string& description);

// Checks the KVM capabilities the backend needs, naming the one missing.
Result<void> check_capabilities(const Kvm& kvm, State& state);

// VM-wide KVM set-up before any vCPU exists (x86: TSS, irqchip, PIT;
// aarch64: the vGIC). May record notes for the boot report (fallbacks, host
// quirks), see notes().
Result<void> create_vm_devices(const Kvm& kvm, Vm& vm, State& state, const RunConfig& config);

// Registers the architecture's own devices (x86: i8042, CMOS, post codes).
Result<void> add_platform_devices(Platform& platform, State& state);

SerialWiring serial_wiring();
// Returns the function the UART raises/lowers its interrupt line with. It
// is called from vCPU threads and the main thread.
std::function<void(bool)> serial_irq(Vm& vm, State& state);

// Per-vCPU state; vCPU 0 gets the boot entry state.
Result<void> setup_vcpu(const Kvm& kvm, Vm& vm, Vcpu& vcpu, State& state, const RunConfig& config);

// After every vCPU is created and set up (aarch64: vGIC init, device tree).
Result<void> vcpus_created(Vm& vm, std::vector<Vcpu>& vcpus, loader::GuestMemory& mem, State& state,
                           const RunConfig& config);

// Lines for the boot report about fallbacks and host quirks ("" for none).
std::string notes(const State& state);

// " at pc ..." / " at rip ...": where a vCPU is, for error reports; "" when
// the registers cannot be read.
std::string describe_vcpu(const Vcpu& vcpu);

}  // namespace vmm::arch
