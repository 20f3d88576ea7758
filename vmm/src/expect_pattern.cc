#include "vmm/expect_pattern.h"

#include <pcre2.h>

#include <fmt/format.h>

namespace vmm {

struct ExpectPattern::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_data* match_data = nullptr;
  pcre2_match_context* match_context = nullptr;
  ~Impl() {
    pcre2_match_context_free(match_context);
    pcre2_match_data_free(match_data);
    pcre2_code_free(code);
  }
};

ExpectPattern::ExpectPattern(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExpectPattern::ExpectPattern(ExpectPattern&&) noexcept = default;
ExpectPattern& ExpectPattern::operator=(ExpectPattern&&) noexcept = default;
ExpectPattern::~ExpectPattern() = default;

std::expected<ExpectPattern, std::string> ExpectPattern::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  auto impl = std::make_unique<Impl>();
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &error, &offset,
                             nullptr);
  if (!impl->code) {
    PCRE2_UCHAR message[256];
    if (pcre2_get_error_message(error, message, sizeof message) < 0)
      return std::unexpected(fmt::format("PCRE2 error {} at offset {}", error, offset));
    return std::unexpected(fmt::format("{} at offset {}", reinterpret_cast<const char*>(message), offset));
  }
  impl->match_data = pcre2_match_data_create(1, nullptr);
  impl->match_context = pcre2_match_context_create(nullptr);
  if (!impl->match_data || !impl->match_context) return std::unexpected(std::string("out of memory"));
  pcre2_set_match_limit(impl->match_context, kMatchLimit);
  pcre2_set_depth_limit(impl->match_context, kDepthLimit);
  pcre2_set_heap_limit(impl->match_context, kHeapLimitKib);
  return ExpectPattern(std::move(impl));
}

ExpectPattern::Search ExpectPattern::search(std::string_view text, bool at_line_start) {
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                       at_line_start ? 0 : PCRE2_NOTBOL, impl_->match_data, impl_->match_context);
  if (rc >= 0) return Search::kMatch;
  if (rc == PCRE2_ERROR_NOMATCH) return Search::kNoMatch;
  // MATCHLIMIT, DEPTHLIMIT, HEAPLIMIT, NOMEMORY: this search gave up.
  return Search::kLimit;
}

}  // namespace vmm
