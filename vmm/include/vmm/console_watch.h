// Watches the guest's console output for the things the VMM acts on: the
// first byte, the kernel banner ("Linux version"), "Run /init", a kernel
// panic, and the user's --expect pattern. Pure logic over a byte stream (the
// event loop feeds it), so it is unit tested without a guest.
//
// Matching is per line: the pattern is tried on each line as it grows (so a
// prompt without a newline still matches) and markers may straddle chunks.
// The guest decides how long a line is, so a line is matched through a
// bounded window: a match must fit in the line's last kWindow bytes (any
// stretch of up to kWindow bytes of a longer line is still seen whole by some
// attempt), and each attempt has PCRE2's match limits (expect_pattern.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "vmm/expect_pattern.h"

namespace vmm {

inline constexpr std::string_view kPanicMarker = "Kernel panic - not syncing";
inline constexpr std::string_view kBannerMarker = "Linux version";
inline constexpr std::string_view kInitMarker = "Run /init";

class ConsoleWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // The longest stretch of one line that --expect is guaranteed to see whole.
  static constexpr size_t kWindow = 4096;

  // expect: a PCRE2 pattern. Throws std::invalid_argument when it does not
  // compile: callers validate it first (the CLI does, with ExpectPattern).
  explicit ConsoleWatch(std::optional<std::string> expect = std::nullopt);

  void feed(std::span<const std::byte> bytes, Clock::time_point now = Clock::now());

  std::optional<Clock::time_point> first_byte() const { return first_byte_; }
  std::optional<Clock::time_point> banner() const { return banner_; }
  std::optional<Clock::time_point> init() const { return init_; }
  std::optional<Clock::time_point> panic() const { return panic_; }
  std::optional<Clock::time_point> expect_matched() const { return expect_matched_; }
  bool has_expect() const { return pattern_.has_value(); }
  // Attempts that hit a PCRE2 limit and so counted as no match.
  uint64_t expect_limit_hits() const { return limit_hits_; }
  // Once, after the first attempt that hit a limit: a line for the user.
  std::optional<std::string> take_note();
  uint64_t bytes() const { return bytes_; }
  // The last few lines, for an error report.
  std::string tail() const;

 private:
  void check_line(Clock::time_point now);
  void match_expect(Clock::time_point now);

  std::optional<ExpectPattern> pattern_;
  // The current line, or its last 2 * kWindow bytes at most.
  std::string line_;
  bool line_cut_ = false;  // line_ no longer starts at the start of the line
  std::string previous_lines_;
  uint64_t bytes_ = 0;
  uint64_t limit_hits_ = 0;
  bool note_taken_ = false;
  std::optional<Clock::time_point> first_byte_, banner_, init_, panic_, expect_matched_;
};

// The console escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, any
// other byte after Ctrl-A is passed on with it.
class ConsoleEscape {
 public:
  static constexpr char kEscape = 0x01;
  // Appends what should reach the guest to `out`; returns true when the user asked to quit.
  bool feed(std::span<const std::byte> in, std::string& out);

 private:
  bool pending_ = false;
};

}  // namespace vmm
