// What ends a VM and with which exit code. Pure logic: the event loop
// reports what happened, the policy answers once with the code and the
// reason, and ignores whatever comes after (a timeout racing a poweroff, a
// second vCPU's shutdown). Unit tested without a guest.
//
// When a guest-initiated end counts as success:
//   - a poweroff or reset the guest asked for (ACPI S5, the i8042 reset
//     line, PSCI SYSTEM_OFF/RESET, SBI SRST, KVM's SHUTDOWN/RESET system
//     events, every vCPU halted) exits 0, unless the console showed a kernel
//     panic (5) or --expect was given and never matched (7);
//   - a crash is never success: a triple fault (x86: what a kernel that dies
//     before its IDT is up, or `reboot=t`, ends in) or KVM's CRASH system
//     event exits 9, or 5 when the console showed a panic first.
// A smoke test without --expect therefore passes only a kernel that shut
// itself down cleanly.
#pragma once

#include <optional>
#include <string>

#include "vmm/exit_codes.h"

namespace vmm {

enum class ExitEvent {
  kExpectMatched,  // --expect matched the console
  kPanic,          // the console showed a kernel panic (after the grace period)
  kGuestPowerOff,  // the guest asked to power off
  kGuestReset,     // the guest asked to reset
  kAllHalted,      // every vCPU halted for good
  kGuestCrash,     // triple fault, crash system event
  kTimeout,        // --timeout
  kSignal,         // SIGINT/SIGTERM
  kQuitKey,        // Ctrl-A x on the console
  kVcpuError,      // KVM_RUN failed, an exit KVM could not handle
};

struct ExitDecision {
  int code = kExitOk;
  std::string reason;
};

class ExitPolicy {
 public:
  explicit ExitPolicy(bool expect_given) : expect_given_(expect_given) {}

  // What the console has shown so far; the policy reads them at decision time.
  void set_panic_seen() { panic_seen_ = true; }
  void set_expect_matched() { expect_matched_ = true; }

  // The first event decides; returns the decision then, std::nullopt for
  // every later event.
  std::optional<ExitDecision> on(ExitEvent event, std::string detail);

  bool decided() const { return decision_.has_value(); }
  const std::optional<ExitDecision>& decision() const { return decision_; }

 private:
  int guest_end_code() const;

  bool expect_given_;
  bool panic_seen_ = false;
  bool expect_matched_ = false;
  std::optional<ExitDecision> decision_;
};

}  // namespace vmm
