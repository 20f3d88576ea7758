// Drives Cmdline with arbitrary text and checks the invariants the kernel
// relies on after every call, successful or not.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "loader/cmdline.h"

namespace {

void check_invariants(const loader::Cmdline& c) {
  const std::string& s = c.str();
  if (!s.empty() && s.size() + 1 > c.capacity()) std::abort();  // capacity 0 holds nothing, not even ""
  bool in_quote = false;
  for (char ch : s) {
    if (ch < 0x20 || ch > 0x7e) std::abort();
    if (ch == '"') in_quote = !in_quote;
  }
  if (in_quote) std::abort();
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ')) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  loader::Cmdline c(in.ConsumeIntegralInRange<uint64_t>(0, 4096));
  std::string init_tail;  // what the init arguments must end with
  while (in.remaining_bytes() > 0) {
    std::string before = c.str();
    loader::Result<void> r;
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0: {
        std::string text = in.ConsumeRandomLengthString(512);
        r = c.append(text);
        // A "--" in appended text may add init arguments of its own.
        if (r && text.find("--") != std::string::npos) init_tail.clear();
        break;
      }
      case 1: {
        std::string key = in.ConsumeRandomLengthString(64);
        r = c.insert(key, in.ConsumeRandomLengthString(256));
        break;
      }
      case 2: {
        std::string args = in.ConsumeRandomLengthString(128);
        r = c.insert_init_args(args);
        if (r && args.find_first_not_of(' ') != std::string::npos) {
          size_t b = args.find_first_not_of(' ');
          init_tail = args.substr(b, args.find_last_not_of(' ') - b + 1);
        }
        break;
      }
      default: {
        uint64_t sz = in.ConsumeIntegral<uint64_t>();
        uint64_t base = in.ConsumeIntegral<uint64_t>();
        uint32_t irq = in.ConsumeIntegral<uint32_t>();
        std::optional<uint32_t> id;
        if (in.ConsumeBool()) id = in.ConsumeIntegral<uint32_t>();
        r = c.add_virtio_mmio_device(sz, base, irq, id);
        break;
      }
    }
    if (!r && c.str() != before) std::abort();  // no partial change on error
    if (!r && r.error().message.empty()) std::abort();
    check_invariants(c);
    // Init arguments last given stay at the very end, whatever came after.
    if (!init_tail.empty()) {
      const std::string& s = c.str();
      if (s.size() < init_tail.size() || s.compare(s.size() - init_tail.size(), init_tail.size(), init_tail) != 0)
        std::abort();
    }
  }
  return 0;
}
