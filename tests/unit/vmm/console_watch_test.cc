#include "vmm/console_watch.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

std::span<const std::byte> b(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

TEST(ConsoleWatch, RecordsMarkersAtTheTimeTheyArrive) {
  ConsoleWatch w;
  auto t0 = ConsoleWatch::Clock::time_point(std::chrono::seconds(1));
  auto t1 = t0 + std::chrono::seconds(1);
  auto t2 = t1 + std::chrono::seconds(1);
  w.feed(b("early\r\n[    0.000000] Linux ver"), t0);
  EXPECT_EQ(w.first_byte(), t0);
  EXPECT_FALSE(w.banner());
  w.feed(b("sion 6.1.0 (gcc)\r\n"), t1);
  EXPECT_EQ(w.banner(), t1) << "a marker straddling two chunks counts when completed";
  w.feed(b("Run /init as init process\n"), t2);
  EXPECT_EQ(w.init(), t2);
  EXPECT_FALSE(w.panic());
  EXPECT_EQ(w.first_byte(), t0);
}

TEST(ConsoleWatch, DetectsPanic) {
  ConsoleWatch w;
  w.feed(b("[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n"));
  EXPECT_TRUE(w.panic());
}

TEST(ConsoleWatch, ExpectMatchesWithinALineEvenWithoutNewline) {
  ConsoleWatch w(std::regex("MINIVMM-[A-Z]+-OK"));
  w.feed(b("MINIVMM-"));
  EXPECT_FALSE(w.expect_matched());
  w.feed(b("INIT-OK"));
  EXPECT_TRUE(w.expect_matched());
}

TEST(ConsoleWatch, ExpectDoesNotMatchAcrossLines) {
  ConsoleWatch w(std::regex("a b"));
  w.feed(b("a\nb\n"));
  EXPECT_FALSE(w.expect_matched());
  EXPECT_TRUE(w.has_expect());
}

TEST(ConsoleWatch, TailKeepsTheLastLines) {
  ConsoleWatch w;
  w.feed(b("one\ntwo\nthr"));
  EXPECT_EQ(w.tail(), "one\ntwo\nthr");
  EXPECT_EQ(w.bytes(), 11u);
}

TEST(ConsoleEscape, CtrlAXQuits) {
  ConsoleEscape e;
  std::string out;
  EXPECT_FALSE(e.feed(b("ls\x01"), out));
  EXPECT_EQ(out, "ls");
  EXPECT_TRUE(e.feed(b("x"), out));
}

TEST(ConsoleEscape, DoubleCtrlASendsOneAndOthersPassThrough) {
  ConsoleEscape e;
  std::string out;
  EXPECT_FALSE(e.feed(b("\x01\x01" "a\x01" "b"), out));
  EXPECT_EQ(out, std::string("\x01" "a\x01" "b"));
}

}  // namespace
}  // namespace vmm
