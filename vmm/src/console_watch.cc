#include "vmm/console_watch.h"

#include <stdexcept>

#include <fmt/format.h>

namespace vmm {

ConsoleWatch::ConsoleWatch(std::optional<std::string> expect) {
  if (!expect) return;
  auto pattern = ExpectPattern::compile(*expect);
  if (!pattern) throw std::invalid_argument(fmt::format("--expect: {}", pattern.error()));
  pattern_.emplace(std::move(*pattern));
}


void ConsoleWatch::feed(std::span<const std::byte> bytes, Clock::time_point now) {
  if (bytes.empty()) return;
  if (!first_byte_) first_byte_ = now;
  bytes_ += bytes.size();
  for (std::byte b : bytes) {
    char c = static_cast<char>(b);
    if (c == '\n') {
      check_line(now);
      previous_lines_ += line_;
      previous_lines_ += '\n';
      if (previous_lines_.size() > 4096) previous_lines_.erase(0, previous_lines_.size() - 4096);
      line_.clear();
      line_cut_ = false;
      continue;
    }
    if (c == '\r') continue;
    line_.push_back(c);
    if (line_.size() >= 2 * kWindow) {
      // Check before forgetting: consecutive attempts overlap by kWindow
      // bytes, so whatever fits in kWindow is seen whole by one of them.
      check_line(now);
      line_.erase(0, kWindow);
      line_cut_ = true;
    }
  }
  if (!line_.empty()) check_line(now);
}

void ConsoleWatch::check_line(Clock::time_point now) {
  if (!banner_ && line_.find(kBannerMarker) != std::string::npos) banner_ = now;
  if (!init_ && line_.find(kInitMarker) != std::string::npos) init_ = now;
  if (!panic_ && line_.find(kPanicMarker) != std::string::npos) panic_ = now;
  if (!expect_matched_) match_expect(now);
}

void ConsoleWatch::match_expect(Clock::time_point now) {
  if (pattern_) {
    switch (pattern_->search(line_, !line_cut_)) {
      case ExpectPattern::Search::kMatch: expect_matched_ = now; break;
      case ExpectPattern::Search::kNoMatch: break;
      case ExpectPattern::Search::kLimit: ++limit_hits_; break;
    }
  }
}

std::optional<std::string> ConsoleWatch::take_note() {
  if (limit_hits_ == 0 || note_taken_) return std::nullopt;
  note_taken_ = true;
  return fmt::format(
      "note: --expect gave up on a console line at PCRE2's match limit ({} steps); such attempts count as no "
      "match: a simpler pattern avoids this",
      ExpectPattern::kMatchLimit);
}

std::string ConsoleWatch::tail() const { return previous_lines_ + line_; }

bool ConsoleEscape::feed(std::span<const std::byte> in, std::string& out) {
  for (std::byte b : in) {
    char c = static_cast<char>(b);
    if (pending_) {
      pending_ = false;
      if (c == 'x' || c == 'X') return true;
      out.push_back(kEscape);
      if (c != kEscape) out.push_back(c);
      continue;
    }
    if (c == kEscape) {
      pending_ = true;
      continue;
    }
    out.push_back(c);
  }
  return false;
}

}  // namespace vmm
