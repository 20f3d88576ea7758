// Watches the guest's console output for the things the VMM acts on: the
// first byte, the kernel banner ("Linux version"), "Run /init", a kernel
// panic, and the user's --expect regex. Pure logic over a byte stream (the
// event loop feeds it), so it is unit tested without a guest.
//
// Matching is per line: the regex is tried on each line as it grows (so a
// prompt without a newline still matches) and markers may straddle chunks.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <regex>
#include <span>
#include <string>

namespace vmm {

inline constexpr std::string_view kPanicMarker = "Kernel panic - not syncing";
inline constexpr std::string_view kBannerMarker = "Linux version";
inline constexpr std::string_view kInitMarker = "Run /init";

class ConsoleWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // Longest line kept for matching; longer lines are matched in pieces.
  static constexpr size_t kMaxLine = 64 * 1024;

  explicit ConsoleWatch(std::optional<std::regex> expect = std::nullopt) : expect_(std::move(expect)) {}

  void feed(std::span<const std::byte> bytes, Clock::time_point now = Clock::now());

  std::optional<Clock::time_point> first_byte() const { return first_byte_; }
  std::optional<Clock::time_point> banner() const { return banner_; }
  std::optional<Clock::time_point> init() const { return init_; }
  std::optional<Clock::time_point> panic() const { return panic_; }
  std::optional<Clock::time_point> expect_matched() const { return expect_matched_; }
  bool has_expect() const { return expect_.has_value(); }
  uint64_t bytes() const { return bytes_; }
  // The last few lines, for an error report.
  std::string tail() const;

 private:
  void check_line(Clock::time_point now);

  std::optional<std::regex> expect_;
  std::string line_;
  std::string previous_lines_;
  uint64_t bytes_ = 0;
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
