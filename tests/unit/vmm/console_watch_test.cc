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
  ConsoleWatch w(std::string("MINIVMM-[A-Z]+-OK"));
  w.feed(b("MINIVMM-"));
  EXPECT_FALSE(w.expect_matched());
  w.feed(b("INIT-OK"));
  EXPECT_TRUE(w.expect_matched());
}

TEST(ConsoleWatch, ExpectDoesNotMatchAcrossLines) {
  ConsoleWatch w(std::string("a b"));
  w.feed(b("a\nb\n"));
  EXPECT_FALSE(w.expect_matched());
  EXPECT_TRUE(w.has_expect());
}

// A guest decides what it prints: whatever the line, a search must end, and
// in bounded memory (std::regex recursed once per byte and crashed on a
// 32 KiB line with '.*X').
std::string line_of(size_t size, char fill) { return std::string(size, fill); }

TEST(ConsoleWatch, AOneMebibyteLineWithoutTheMatchIsSearchedSafely) {
  const std::string line = line_of(1 << 20, 'a');
  for (const char* pattern : {".*X", "(a|aa)*c", "(a*)*b"}) {
    ConsoleWatch whole(std::string{pattern});
    whole.feed(b(line));
    EXPECT_FALSE(whole.expect_matched()) << pattern;
    ConsoleWatch chunked(std::string{pattern});
    for (size_t off = 0; off < line.size(); off += 4096) chunked.feed(b(std::string_view(line).substr(off, 4096)));
    EXPECT_FALSE(chunked.expect_matched()) << pattern;
    chunked.feed(b("\nX c b\n"));
    EXPECT_TRUE(chunked.expect_matched()) << pattern << ": the next line still matches";
  }
}

TEST(ConsoleWatch, ACatastrophicPatternHitsTheLimitCountsAsNoMatchAndIsNotedOnce) {
  // No literal the pattern needs, so PCRE2 must really backtrack: 2^n paths.
  ConsoleWatch w(std::string("^(a|aa)+$"));
  w.feed(b(line_of(1 << 20, 'a') + "!"));
  EXPECT_FALSE(w.expect_matched());
  EXPECT_GE(w.expect_limit_hits(), 1u);
  auto note = w.take_note();
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("match limit"), std::string::npos) << *note;
  EXPECT_FALSE(w.take_note()) << "noted once";
  w.feed(b("\naaaa\n"));
  EXPECT_TRUE(w.expect_matched()) << "a later, short line still matches";
}

TEST(ConsoleWatch, AMatchInsideALongLineIsFoundWhereverTheWindowFalls) {
  const std::string needle = "MINIVMM-42-END";
  for (size_t at : {size_t{0}, size_t{4090}, size_t{8190}, size_t{500'000}, size_t{(1 << 20) - 20}}) {
    std::string line = line_of(1 << 20, '.');
    line.replace(at, needle.size(), needle);
    ConsoleWatch whole(std::string("MINIVMM-[0-9]+-END"));
    whole.feed(b(line));
    EXPECT_TRUE(whole.expect_matched()) << "needle at " << at << ", one chunk";
    ConsoleWatch bytewise(std::string("MINIVMM-[0-9]+-END"));
    for (size_t off = 0; off < line.size() && !bytewise.expect_matched(); off += 1000)
      bytewise.feed(b(std::string_view(line).substr(off, 1000)));
    EXPECT_TRUE(bytewise.expect_matched()) << "needle at " << at << ", 1000-byte chunks";
  }
}

TEST(ConsoleWatch, AWindowCutIsNotTheStartOfALine) {
  // The kept window of this line starts with "START", mid-line.
  std::string line = line_of(ConsoleWatch::kWindow, 'x') + "START" + line_of(ConsoleWatch::kWindow, 'y');
  ConsoleWatch w(std::string("^START"));
  w.feed(b(line));
  EXPECT_FALSE(w.expect_matched());
  w.feed(b("\nSTART"));
  EXPECT_TRUE(w.expect_matched());
}

TEST(ConsoleWatch, MarkersAreFoundInLongLines) {
  ConsoleWatch w;
  w.feed(b(line_of(100'000, '=') + "Kernel panic - not syncing: x" + line_of(100'000, '=')));
  EXPECT_TRUE(w.panic());
}

TEST(ConsoleWatch, APatternThatDoesNotCompileIsRefused) {
  EXPECT_THROW(ConsoleWatch(std::string("Run (/init")), std::invalid_argument);
  EXPECT_FALSE(ConsoleWatch().has_expect());
}

TEST(ExpectPattern, CompileErrorsNameTheOffset) {
  auto p = ExpectPattern::compile("ab[c");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().find("at offset 4"), std::string::npos) << p.error();
}

TEST(ExpectPattern, SearchesBytesNotUtf8) {
  auto p = ExpectPattern::compile("ok\\xff");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->search("\xc3(ok\xff"), ExpectPattern::Search::kMatch) << "invalid UTF-8 is just bytes";
  EXPECT_EQ(p->search("ok"), ExpectPattern::Search::kNoMatch);
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
