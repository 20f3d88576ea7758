// bzImage parsing, loading and payload extraction on arbitrary bytes: never
// a crash, a hang, or a write outside the 64 MiB guest.
#include <cstddef>
#include <cstdint>

#include "loader/bzimage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static loader::GuestMemory* mem = [] {
    loader::RegionSpec spec{loader::GuestAddress(0), 64u << 20};
    auto m = loader::GuestMemory::create(std::span(&spec, 1));
    if (!m) __builtin_trap();
    return new loader::GuestMemory(std::move(*m));
  }();
  loader::SpanImageSource src(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz");
  (void)loader::inspect_bzimage(src);
  // The kernel cache's view of the payload: whatever the header says, the
  // range it hands back lies inside the file.
  if (auto range = loader::bzimage_payload_range(src)) {
    if (range->offset > size || range->length > size - range->offset) __builtin_trap();
  }
  (void)loader::load_bzimage(src, *mem, {});
  // 64 MiB keeps a forged size trailer from asking for gigabytes.
  auto vmlinux = loader::extract_bzimage_vmlinux(src, 64u << 20);
  if (vmlinux && (*vmlinux)->size() > (64u << 20)) __builtin_trap();
  return 0;
}
