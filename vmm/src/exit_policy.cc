#include "vmm/exit_policy.h"

#include <utility>

namespace vmm {

int ExitPolicy::guest_end_code() const {
  if (panic_seen_) return kExitGuestPanic;
  if (expect_given_ && !expect_matched_) return kExitExpectUnmet;
  return kExitOk;
}

std::optional<ExitDecision> ExitPolicy::on(ExitEvent event, std::string detail) {
  if (decision_) return std::nullopt;
  int code = kExitInternal;
  switch (event) {
    case ExitEvent::kExpectMatched: code = kExitOk; break;
    case ExitEvent::kPanic: code = kExitGuestPanic; break;
    case ExitEvent::kGuestPowerOff:
    case ExitEvent::kGuestReset:
    case ExitEvent::kAllHalted: code = guest_end_code(); break;
    case ExitEvent::kGuestCrash: code = panic_seen_ ? kExitGuestPanic : kExitGuestCrash; break;
    case ExitEvent::kTimeout: code = kExitTimeout; break;
    case ExitEvent::kSignal: code = kExitInterrupted; break;
    // The user quitting by hand is not a failure of the guest, unless it had panicked.
    case ExitEvent::kQuitKey: code = panic_seen_ ? kExitGuestPanic : kExitOk; break;
    case ExitEvent::kVcpuError: code = kExitKvm; break;
  }
  decision_ = ExitDecision{code, std::move(detail)};
  return decision_;
}

}  // namespace vmm
