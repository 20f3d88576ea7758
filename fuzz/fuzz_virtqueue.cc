// libFuzzer target: the input is a ring configuration plus the contents of
// guest memory (test_support::virtio_fuzz::VirtqueueHeader). The queue is
// activated and drained: every chain it hands out must lie inside guest RAM
// (checked against GuestMemory, and ASan watches the writes into it), and no
// input may crash, hang or make pop() return more than the ring holds.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace vf = test_support::virtio_fuzz;

loader::GuestMemory& guest_memory() {
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), vf::kVirtqueueRegionSize},
                     loader::RegionSpec{loader::GuestAddress(vf::kVirtqueueRegionSize), vf::kVirtqueueRegionSize}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return mem;
}

void check_buffer(loader::GuestMemory& mem, const devices::virtio::Buffer& b) {
  auto span = mem.host_span(loader::GuestAddress(b.addr), b.len);
  if (!span || span->data() != b.host.data() || span->size() != b.host.size() || b.len == 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vf::VirtqueueHeader h;
  if (size < sizeof h) return 0;
  std::memcpy(&h, data, sizeof h);
  data += sizeof h;
  size -= sizeof h;

  auto& mem = guest_memory();
  for (const auto& r : mem.regions()) std::memset(r.host(), 0, r.size());
  const size_t n = std::min<size_t>(size, 2 * vf::kVirtqueueRegionSize);
  if (n > 0 && !mem.write(loader::GuestAddress(0), std::as_bytes(std::span(data, n)))) std::abort();

  devices::virtio::Virtqueue q(1024);
  q.set_size(h.size);
  q.set_desc_addr(h.desc);
  q.set_avail_addr(h.avail);
  q.set_used_addr(h.used);
  q.set_ready(true);
  if (q.activate(mem, h.flags & vf::kFlagEventIdx, h.flags & vf::kFlagIndirect)) return 0;

  uint32_t popped = 0;
  for (;;) {
    std::string error;
    auto chain = q.pop(error);
    if (!chain) {
      // A refused ring stays refused.
      if (!error.empty()) {
        std::string again;
        if (q.pop(again) || again != error) std::abort();
      }
      break;
    }
    if (++popped > q.size()) std::abort();  // the driver can never have more than the ring holds
    if (chain->head >= q.size()) std::abort();
    uint64_t total = 0;
    for (const auto& b : chain->readable) {
      check_buffer(mem, b);
      total += b.len;
    }
    for (const auto& b : chain->writable) {
      check_buffer(mem, b);
      total += b.len;
      std::memset(b.host.data(), 0x5a, b.host.size());
    }
    if (total > 0xffff'ffffull) std::abort();
    q.push_used(chain->head, static_cast<uint32_t>(chain->writable_bytes()));
  }
  (void)q.needs_interrupt();
  return 0;
}
