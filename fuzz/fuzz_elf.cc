// libFuzzer target: any bytes through inspect_elf and load_elf. Neither may
// crash, hang or touch memory outside the guest mapping.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "loader/elf.h"

namespace {

loader::GuestMemory& guest_memory() {
  // Created once: a 64 MiB MAP_NORESERVE region costs nothing until touched.
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), 64ull << 20}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loader::SpanImageSource src(std::as_bytes(std::span(data, size)), "fuzz");
  auto info = loader::inspect_elf(src);
  loader::LoadOptions options;
  options.arch = loader::Arch::kX86_64;
  options.highmem_start = loader::GuestAddress(1 << 20);
  auto loaded = loader::load_elf(src, guest_memory(), options);
  // The two must agree on whether the file is valid where memory is not the reason.
  if (loaded && !info) std::abort();
  if (loaded && info && (loaded->entry.value() != info->entry || loaded->load_size != info->load_size)) std::abort();
  return 0;
}
