#include "vmm/console_watch.h"

namespace vmm {

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
      continue;
    }
    if (c == '\r') continue;
    line_.push_back(c);
    if (line_.size() >= kMaxLine) {
      check_line(now);
      line_.erase(0, line_.size() / 2);  // keep some context for a match straddling the cut
    }
  }
  if (!line_.empty()) check_line(now);
}

void ConsoleWatch::check_line(Clock::time_point now) {
  if (!banner_ && line_.find(kBannerMarker) != std::string::npos) banner_ = now;
  if (!init_ && line_.find(kInitMarker) != std::string::npos) init_ = now;
  if (!panic_ && line_.find(kPanicMarker) != std::string::npos) panic_ = now;
  if (expect_ && !expect_matched_ && std::regex_search(line_, *expect_)) expect_matched_ = now;
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
