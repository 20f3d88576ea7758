#include "vmm/exit_policy.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

int code_of(ExitPolicy& p, ExitEvent e) {
  auto d = p.on(e, "why");
  EXPECT_TRUE(d.has_value());
  return d ? d->code : -1;
}

TEST(ExitPolicy, CleanPowerOffAndResetSucceedWithoutExpect) {
  ExitPolicy off(false), reset(false), halted(false);
  EXPECT_EQ(code_of(off, ExitEvent::kGuestPowerOff), kExitOk);
  EXPECT_EQ(code_of(reset, ExitEvent::kGuestReset), kExitOk);
  EXPECT_EQ(code_of(halted, ExitEvent::kAllHalted), kExitOk);
}

TEST(ExitPolicy, CrashIsNeverSuccess) {
  ExitPolicy p(false);
  EXPECT_EQ(code_of(p, ExitEvent::kGuestCrash), kExitGuestCrash);
  ExitPolicy matched(true);
  matched.set_expect_matched();
  EXPECT_EQ(code_of(matched, ExitEvent::kGuestCrash), kExitGuestCrash);
}

TEST(ExitPolicy, PanicSeenTurnsEveryGuestEndIntoPanic) {
  for (ExitEvent e : {ExitEvent::kGuestPowerOff, ExitEvent::kGuestReset, ExitEvent::kGuestCrash, ExitEvent::kQuitKey}) {
    ExitPolicy p(false);
    p.set_panic_seen();
    EXPECT_EQ(code_of(p, e), kExitGuestPanic) << static_cast<int>(e);
  }
}

TEST(ExitPolicy, ExpectUnmetAtPowerOff) {
  ExitPolicy p(true);
  EXPECT_EQ(code_of(p, ExitEvent::kGuestPowerOff), kExitExpectUnmet);
  ExitPolicy q(true);
  q.set_expect_matched();
  EXPECT_EQ(code_of(q, ExitEvent::kGuestPowerOff), kExitOk);
}

TEST(ExitPolicy, FirstEventDecidesLaterOnesAreIgnored) {
  ExitPolicy p(false);
  auto first = p.on(ExitEvent::kTimeout, "timeout after 5 s");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->code, kExitTimeout);
  EXPECT_FALSE(p.on(ExitEvent::kGuestPowerOff, "late poweroff").has_value());
  ASSERT_TRUE(p.decision());
  EXPECT_EQ(p.decision()->reason, "timeout after 5 s");
}

TEST(ExitPolicy, HostSideEvents) {
  ExitPolicy a(false), b(false), c(true), d(false);
  EXPECT_EQ(code_of(a, ExitEvent::kSignal), kExitInterrupted);
  EXPECT_EQ(code_of(b, ExitEvent::kVcpuError), kExitKvm);
  EXPECT_EQ(code_of(c, ExitEvent::kExpectMatched), kExitOk);
  EXPECT_EQ(code_of(d, ExitEvent::kQuitKey), kExitOk);
}

}  // namespace
}  // namespace vmm
