// inspect_kernel and load_kernel (arch unset, so every format is tried) on
// arbitrary bytes, into an arm64/riscv-style RAM at 0x8000_0000 and an
// x86-style RAM at 0. Any crash, hang or sanitizer report is a bug.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "loader/kernel_loader.h"

namespace {

loader::GuestMemory* memory_at(uint64_t base) {
  std::array specs{loader::RegionSpec{loader::GuestAddress(base), 64ull << 20}};
  auto mem = loader::GuestMemory::create(specs);
  if (!mem) __builtin_trap();
  return new loader::GuestMemory(std::move(*mem));  // lives for the whole run
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static loader::GuestMemory* high = memory_at(0x8000'0000);
  static loader::GuestMemory* low = memory_at(0);
  loader::SpanImageSource src(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz");
  (void)loader::inspect_kernel(src);
  loader::LoadOptions options;
  options.max_decompressed_size = 48ull << 20;
  (void)loader::load_kernel(src, *high, options);
  (void)loader::load_kernel(src, *low, options);
  return 0;
}
