#include "devices/plic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace devices {
namespace {

// Offsets are spelled out from the SiFive PLIC layout rather than taken from
// the model's constants, so a wrong constant fails here.
constexpr uint64_t priority(uint32_t source) { return 4ull * source; }
constexpr uint64_t pending(uint32_t word) { return 0x1000 + 4ull * word; }
constexpr uint64_t enable(uint32_t context, uint32_t word) { return 0x2000 + 0x80ull * context + 4ull * word; }
constexpr uint64_t threshold(uint32_t context) { return 0x200000 + 0x1000ull * context; }
constexpr uint64_t claim(uint32_t context) { return 0x200004 + 0x1000ull * context; }

class PlicTest : public ::testing::Test {
 protected:
  void make(uint32_t sources, uint32_t contexts) {
    auto created = Plic::create(sources, contexts, [this](uint32_t context, bool level) {
      events.emplace_back(context, level);
    });
    ASSERT_TRUE(created.has_value()) << created.error().message;
    plic = std::move(*created);
  }
  void SetUp() override { make(31, 2); }

  uint32_t rd(uint64_t offset) {
    std::byte b[4];
    plic->read(offset, b);
    uint32_t v;
    std::memcpy(&v, b, 4);
    return v;
  }
  void wr(uint64_t offset, uint32_t v) {
    std::byte b[4];
    std::memcpy(b, &v, 4);
    plic->write(offset, b);
  }
  // Source enabled for `context` with priority `prio`.
  void arm(uint32_t context, uint32_t source, uint32_t prio) {
    wr(priority(source), prio);
    wr(enable(context, source / 32), rd(enable(context, source / 32)) | (1u << (source % 32)));
  }

  std::shared_ptr<Plic> plic;
  std::vector<std::pair<uint32_t, bool>> events;
};

TEST(PlicCreate, RejectsSourceAndContextCountsOutsideTheLayout) {
  EXPECT_FALSE(Plic::create(0, 1, {}).has_value());
  EXPECT_FALSE(Plic::create(1024, 1, {}).has_value());
  EXPECT_FALSE(Plic::create(31, 0, {}).has_value());
  EXPECT_FALSE(Plic::create(31, 15873, {}).has_value());
  auto error = Plic::create(1024, 1, {}).error();
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(error.message.find("1024"), std::string::npos) << error.message;
  EXPECT_TRUE(Plic::create(1023, 15872, {}).has_value());
}

TEST_F(PlicTest, ResetStateIsAllZeroWithOutputsLow) {
  for (uint32_t s = 1; s <= 31; ++s) EXPECT_EQ(rd(priority(s)), 0u) << s;
  EXPECT_EQ(rd(pending(0)), 0u);
  EXPECT_EQ(rd(enable(0, 0)), 0u);
  EXPECT_EQ(rd(enable(1, 0)), 0u);
  EXPECT_EQ(rd(threshold(0)), 0u);
  EXPECT_EQ(rd(claim(0)), 0u);
  EXPECT_FALSE(plic->output_level(0));
  EXPECT_FALSE(plic->output_level(1));
  EXPECT_TRUE(events.empty());
}

TEST_F(PlicTest, PriorityRegistersHoldThreeBitsPerSource) {
  wr(priority(1), 5);
  wr(priority(10), 0xffffffff);
  wr(priority(31), 2);
  EXPECT_EQ(rd(priority(1)), 5u);
  EXPECT_EQ(rd(priority(10)), 7u);
  EXPECT_EQ(rd(priority(31)), 2u);
  EXPECT_EQ(rd(priority(2)), 0u) << "neighbours untouched";
}

TEST_F(PlicTest, SourceZeroAndSourcesPastNdevHaveNoPriority) {
  wr(priority(0), 3);
  wr(priority(32), 3);
  EXPECT_EQ(rd(priority(0)), 0u);
  EXPECT_EQ(rd(priority(32)), 0u);
}

TEST_F(PlicTest, PendingBitsFollowTheSourceLevelAndAreReadOnly) {
  plic->set_level(10, true);
  plic->set_level(3, true);
  EXPECT_EQ(rd(pending(0)), (1u << 10) | (1u << 3));
  wr(pending(0), 0);
  EXPECT_EQ(rd(pending(0)), (1u << 10) | (1u << 3)) << "guest writes must not clear pending bits";
  plic->set_level(3, false);
  EXPECT_EQ(rd(pending(0)), 1u << 10) << "a level dropped before the claim withdraws the request";
  EXPECT_EQ(rd(pending(1)), 0u);
}

TEST_F(PlicTest, LinesOutsideTheSourceRangeAreIgnored) {
  plic->set_level(0, true);
  plic->set_level(32, true);
  plic->set_level(5000, true);
  EXPECT_EQ(rd(pending(0)), 0u);
  EXPECT_EQ(rd(pending(1)), 0u);
}

TEST_F(PlicTest, EnableBitsArePerContextWithSourceZeroAndBitsPastNdevHardwiredOff) {
  wr(enable(0, 0), 0xffffffff);
  wr(enable(1, 0), 0x00000400);
  EXPECT_EQ(rd(enable(0, 0)), 0xfffffffeu) << "31 sources: bits 1..31 writable, bit 0 is source 0";
  EXPECT_EQ(rd(enable(1, 0)), 0x00000400u);
  wr(enable(0, 1), 0xffffffff);
  EXPECT_EQ(rd(enable(0, 1)), 0u) << "no word 1 with 31 sources";
}

TEST(PlicEnable, LastWordKeepsOnlyBitsOfExistingSources) {
  auto plic = *Plic::create(40, 1, {});
  uint32_t all = 0xffffffff;
  plic->write(enable(0, 1), std::as_bytes(std::span(&all, 1)));
  uint32_t v = 0;
  plic->read(enable(0, 1), std::as_writable_bytes(std::span(&v, 1)));
  EXPECT_EQ(v, 0x1ffu) << "sources 32..40";
}

TEST_F(PlicTest, ThresholdRegistersArePerContextAndThreeBits) {
  wr(threshold(0), 3);
  wr(threshold(1), 0xff);
  EXPECT_EQ(rd(threshold(0)), 3u);
  EXPECT_EQ(rd(threshold(1)), 7u);
}

TEST_F(PlicTest, ContextsPastTheLastReadZeroAndIgnoreWrites) {
  wr(enable(2, 0), 0xffffffff);
  wr(threshold(2), 5);
  EXPECT_EQ(rd(enable(2, 0)), 0u);
  EXPECT_EQ(rd(threshold(2)), 0u);
  EXPECT_EQ(rd(claim(2)), 0u);
  EXPECT_FALSE(plic->output_level(2));
}

TEST_F(PlicTest, OutputRisesForAPendingEnabledSourceAbovePriorityThreshold) {
  plic->set_level(10, true);
  EXPECT_TRUE(events.empty()) << "priority 0 and not enabled: nothing to deliver";
  wr(enable(0, 0), 1u << 10);
  EXPECT_TRUE(events.empty()) << "priority 0 never interrupts";
  wr(threshold(0), 1);
  wr(priority(10), 1);
  EXPECT_TRUE(events.empty()) << "priority must exceed the threshold, not equal it";
  wr(priority(10), 2);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], std::make_pair(0u, true));
  EXPECT_TRUE(plic->output_level(0));
  EXPECT_FALSE(plic->output_level(1)) << "context 1 does not enable source 10";
  wr(threshold(0), 7);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], std::make_pair(0u, false)) << "threshold 7 masks the context";
}

TEST_F(PlicTest, OutputCallbackFiresOnlyOnChanges) {
  arm(0, 10, 1);
  plic->set_level(10, true);
  plic->set_level(10, true);
  arm(0, 11, 1);
  plic->set_level(11, true);
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(PlicTest, ClaimReturnsTheHighestPriorityThenTheLowestId) {
  arm(0, 5, 2);
  arm(0, 7, 4);
  arm(0, 9, 4);
  plic->set_level(5, true);
  plic->set_level(9, true);
  plic->set_level(7, true);
  EXPECT_EQ(rd(claim(0)), 7u);
  EXPECT_EQ(rd(claim(0)), 9u);
  EXPECT_EQ(rd(claim(0)), 5u);
  EXPECT_EQ(rd(claim(0)), 0u) << "nothing left";
}

TEST_F(PlicTest, ClaimClearsPendingAndLowersTheOutput) {
  arm(0, 10, 1);
  plic->set_level(10, true);
  EXPECT_EQ(rd(claim(0)), 10u);
  EXPECT_EQ(rd(pending(0)), 0u);
  EXPECT_FALSE(plic->output_level(0));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], std::make_pair(0u, false));
}

TEST_F(PlicTest, ClaimIgnoresSourcesAtOrBelowTheThresholdAndDisabledOnes) {
  arm(0, 3, 2);
  wr(priority(4), 6);  // pending but not enabled for context 0
  wr(threshold(0), 2);
  plic->set_level(3, true);
  plic->set_level(4, true);
  EXPECT_EQ(rd(claim(0)), 0u);
  EXPECT_EQ(rd(pending(0)), (1u << 3) | (1u << 4)) << "a claim that returns 0 changes nothing";
}

TEST_F(PlicTest, AClaimedSourceDoesNotPendAgainUntilCompleted) {
  arm(0, 10, 1);
  plic->set_level(10, true);
  ASSERT_EQ(rd(claim(0)), 10u);
  plic->set_level(10, false);
  plic->set_level(10, true);
  EXPECT_EQ(rd(pending(0)), 0u) << "in flight: the gateway holds further requests";
  EXPECT_EQ(rd(claim(0)), 0u);
  wr(claim(0), 10);
  EXPECT_EQ(rd(pending(0)), 1u << 10) << "the line is still high: completion re-arms the request";
  EXPECT_TRUE(plic->output_level(0));
  EXPECT_EQ(rd(claim(0)), 10u);
}

TEST_F(PlicTest, CompletionWithTheLineLowLeavesNothingPending) {
  arm(0, 10, 1);
  plic->set_level(10, true);
  ASSERT_EQ(rd(claim(0)), 10u);
  plic->set_level(10, false);
  wr(claim(0), 10);
  EXPECT_EQ(rd(pending(0)), 0u);
  plic->set_level(10, true);
  EXPECT_EQ(rd(pending(0)), 1u << 10) << "a new request after completion pends";
}

TEST_F(PlicTest, CompletionOfASourceTheContextDoesNotEnableIsIgnored) {
  arm(0, 10, 1);
  plic->set_level(10, true);
  ASSERT_EQ(rd(claim(0)), 10u);
  wr(claim(1), 10);  // context 1 does not enable source 10
  EXPECT_EQ(rd(pending(0)), 0u) << "still in flight";
  wr(enable(0, 0), 0);
  wr(claim(0), 10);
  EXPECT_EQ(rd(pending(0)), 0u) << "disabled at completion time: ignored";
  wr(enable(0, 0), 1u << 10);
  wr(claim(0), 10);
  EXPECT_EQ(rd(pending(0)), 1u << 10) << "enabled again: the completion takes";
}

TEST_F(PlicTest, CompletionOfAnInvalidOrIdleSourceIsIgnored) {
  arm(0, 10, 1);
  wr(claim(0), 0);
  wr(claim(0), 32);
  wr(claim(0), 0xffffffff);
  wr(claim(0), 10);  // not in flight
  EXPECT_EQ(rd(pending(0)), 0u);
  EXPECT_TRUE(events.empty());
}

TEST_F(PlicTest, ASourceClaimedByOneContextLeavesTheOthers) {
  arm(0, 10, 1);
  arm(1, 10, 1);
  plic->set_level(10, true);
  EXPECT_TRUE(plic->output_level(0));
  EXPECT_TRUE(plic->output_level(1));
  EXPECT_EQ(rd(claim(1)), 10u);
  EXPECT_FALSE(plic->output_level(0));
  EXPECT_FALSE(plic->output_level(1));
  EXPECT_EQ(rd(claim(0)), 0u) << "the other hart lost the race";
}

TEST_F(PlicTest, ContextsHaveIndependentThresholds) {
  arm(0, 10, 3);
  arm(1, 10, 3);
  wr(threshold(1), 3);
  plic->set_level(10, true);
  EXPECT_TRUE(plic->output_level(0));
  EXPECT_FALSE(plic->output_level(1));
}

TEST_F(PlicTest, NonWordAccessesReadZeroAndWriteNothing) {
  wr(priority(1), 5);
  std::byte byte{0x7};
  plic->write(priority(1), std::span(&byte, 1));
  EXPECT_EQ(rd(priority(1)), 5u);
  std::byte wide[8];
  std::memset(wide, 0xaa, sizeof wide);
  plic->read(priority(1), wide);
  for (std::byte b : wide) EXPECT_EQ(b, std::byte{0});
  plic->read(priority(1) + 2, std::span(wide, 4));  // unaligned
  for (int i = 0; i < 4; ++i) EXPECT_EQ(wide[i], std::byte{0});
}

TEST_F(PlicTest, UnknownOffsetsInsideTheWindowReadZero) {
  EXPECT_EQ(rd(threshold(0) + 8), 0u);
  EXPECT_EQ(rd(0x1f0000), 0u);
  EXPECT_EQ(rd(0x3fffffc), 0u);
  wr(threshold(0) + 8, 1);
  EXPECT_EQ(rd(threshold(0) + 8), 0u);
}

TEST_F(PlicTest, LineCallbackDrivesItsSource) {
  IrqLine line = plic->line(10);
  arm(0, 10, 1);
  line(true);
  EXPECT_EQ(rd(pending(0)), 1u << 10);
  line(false);
  EXPECT_EQ(rd(pending(0)), 0u);
}

// vCPU threads claim and complete while devices raise lines: per context the
// output must alternate high/low (never two rises in a row) and every claim
// must name the context's own source.
TEST(PlicThreads, ConcurrentRaiseClaimCompleteKeepsEachContextConsistent) {
  constexpr uint32_t kContexts = 4;
  constexpr int kRounds = 2000;
  std::vector<std::vector<bool>> levels(kContexts);  // appended under the PLIC's mutex
  auto plic = *Plic::create(31, kContexts, [&](uint32_t context, bool level) { levels[context].push_back(level); });
  auto wr = [&](uint64_t offset, uint32_t v) { plic->write(offset, std::as_bytes(std::span(&v, 1))); };
  auto rd = [&](uint64_t offset) {
    uint32_t v = 0;
    plic->read(offset, std::as_writable_bytes(std::span(&v, 1)));
    return v;
  };
  for (uint32_t c = 0; c < kContexts; ++c) {
    wr(priority(c + 1), 1);
    wr(enable(c, 0), 1u << (c + 1));
  }
  std::atomic<int> wrong_claims{0}, missed{0};
  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < kContexts; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < kRounds; ++i) {
        plic->set_level(c + 1, true);
        uint32_t got = rd(claim(c));
        if (got == 0) ++missed;
        else if (got != c + 1) ++wrong_claims;
        plic->set_level(c + 1, false);
        wr(claim(c), got);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong_claims.load(), 0);
  EXPECT_EQ(missed.load(), 0);
  for (uint32_t c = 0; c < kContexts; ++c) {
    ASSERT_EQ(levels[c].size(), 2u * kRounds) << "context " << c;
    for (size_t i = 0; i < levels[c].size(); ++i) EXPECT_EQ(levels[c][i], i % 2 == 0) << c << " " << i;
    EXPECT_FALSE(plic->output_level(c));
  }
  EXPECT_EQ(rd(pending(0)), 0u);
}

}  // namespace
}  // namespace devices
