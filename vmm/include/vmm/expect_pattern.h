// An --expect pattern: a Perl-compatible regular expression (PCRE2, 8-bit,
// no UTF: console bytes need not be valid UTF-8) that is searched for in
// guest console text with bounded time and memory. The guest controls the
// text, so a pattern that backtracks badly on it must cost a bounded amount
// per search, never a hang or a stack overflow.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace vmm {

class ExpectPattern {
 public:
  // PCRE2's own budgets for one search: internal match() calls, backtracking
  // depth, and the heap its backtracking frames may take (KiB). The defaults
  // (10 million calls, 20 GB of heap) allow seconds of CPU per search.
  static constexpr uint32_t kMatchLimit = 100'000;
  static constexpr uint32_t kDepthLimit = 10'000;
  static constexpr uint32_t kHeapLimitKib = 8 * 1024;

  enum class Search { kMatch, kNoMatch, kLimit };

  // The error names PCRE2's reason and the offset in the pattern.
  static std::expected<ExpectPattern, std::string> compile(std::string_view pattern);

  // at_line_start: whether text begins at the start of a line (^ may match
  // there) or in the middle of a line cut short.
  Search search(std::string_view text, bool at_line_start = true);

  ExpectPattern(ExpectPattern&&) noexcept;
  ExpectPattern& operator=(ExpectPattern&&) noexcept;
  ~ExpectPattern();

 private:
  struct Impl;
  explicit ExpectPattern(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmm
