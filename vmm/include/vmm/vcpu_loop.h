// The KVM_RUN loop of one vCPU thread: dispatches port I/O and MMIO exits to
// the buses and returns when the guest stops this vCPU, the VMM kicks it
// (stop flag + immediate_exit + SIGUSR1) or its deadline passes.
#pragma once

#include <atomic>
#include <string>

#include "devices/bus.h"
#include "loader/guest_memory.h"
#include "vmm/boot_report.h"
#include "vmm/coalesced_ring.h"
#include "vmm/kvm.h"

namespace vmm {

enum class VcpuStop {
  kKicked,    // the VMM asked it to stop
  kPowerOff,  // system event SHUTDOWN (PSCI SYSTEM_OFF, SBI SRST shutdown)
  kReset,     // system event RESET (PSCI SYSTEM_RESET, SBI SRST reboot)
  kCrash,     // triple fault (KVM_EXIT_SHUTDOWN) or system event CRASH
  kHalted,    // HLT exit (only without an in-kernel LAPIC, or a guest that halts for good)
  kError,     // KVM_RUN failed, internal error, failed entry, unknown exit
  kDeadline,  // VcpuContext::deadline_ns passed (--timeout)
};

struct VcpuOutcome {
  VcpuStop stop = VcpuStop::kKicked;
  std::string detail;  // what happened, for the user
};

struct VcpuContext {
  devices::Bus& pio;
  devices::Bus& mmio;
  ExitCounters& exits;
  std::atomic<bool>& stop;
  // Set by the first vCPU to enter KVM_RUN (for the boot report).
  std::atomic<int64_t>& first_run_ns;
  // Guest RAM, for exits that hand over guest addresses (riscv64 SBI DBCN).
  const loader::GuestMemory* memory = nullptr;
  // --timeout's end on steady_clock, in ns since its epoch (0: none). The
  // event loop's timer kicks the vCPUs then, but only if its thread gets the
  // CPU: a guest exiting without pause can starve a small host (one CPU,
  // nested emulation) so that the timer's wake-up never comes while this
  // thread keeps running the guest. Checked before each KVM_RUN, it ends a
  // vCPU that keeps exiting on time whatever the other threads do.
  int64_t deadline_ns = 0;
  // KVM's queue of writes that did not exit (nullptr: none); delivered
  // before every port or MMIO exit is handled, so devices see guest order.
  CoalescedRing* coalesced = nullptr;
};

int64_t steady_now_ns();

// Installs the empty SIGUSR1 handler (without SA_RESTART, so KVM_RUN returns
// EINTR) once per process.
void install_kick_handler();
inline constexpr int kKickSignal = 10;  // SIGUSR1

VcpuOutcome run_vcpu(Vcpu& vcpu, VcpuContext& ctx);

}  // namespace vmm
