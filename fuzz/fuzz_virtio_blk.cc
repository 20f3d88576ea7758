// libFuzzer target: virtio-blk requests from arbitrary guest memory
// (test_support::virtio_fuzz::BlkHeader, then memory contents) through a
// fake in-memory disk that aborts on anything the device must have refused:
// I/O outside the disk, or any write to a read-only one.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtqueue.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace vf = test_support::virtio_fuzz;
using devices::Result;

class StrictDisk : public devices::virtio::BlockBackend {
 public:
  explicit StrictDisk(bool ro) : data_(vf::kBlkDiskSize), ro_(ro) {}
  uint64_t size() const override { return data_.size(); }
  bool read_only() const override { return ro_; }
  // A request starts on a sector and covers whole sectors; the guest's buffers
  // inside it may have any sizes, so only the whole request is checked.
  Result<void> read_at(uint64_t offset, std::span<const std::span<std::byte>> bufs) override {
    check(offset, total(bufs));
    for (auto b : bufs) {
      std::memcpy(b.data(), data_.data() + offset, b.size());
      offset += b.size();
    }
    return {};
  }
  Result<void> write_at(uint64_t offset, std::span<const std::span<const std::byte>> bufs) override {
    if (ro_) std::abort();
    check(offset, total(bufs));
    for (auto b : bufs) {
      std::memcpy(data_.data() + offset, b.data(), b.size());
      offset += b.size();
    }
    return {};
  }
  Result<void> flush() override { return {}; }
  Result<void> discard(uint64_t offset, uint64_t len) override {
    if (ro_) std::abort();
    check(offset, len);
    return {};
  }
  Result<void> write_zeroes(uint64_t offset, uint64_t len) override {
    if (ro_) std::abort();
    check(offset, len);
    std::memset(data_.data() + offset, 0, len);
    return {};
  }

 private:
  template <class Span>
  static uint64_t total(std::span<const Span> bufs) {
    uint64_t n = 0;
    for (auto b : bufs) n += b.size();
    return n;
  }
  void check(uint64_t offset, uint64_t len) const {
    // Only whole sectors below the rounded-down capacity are reachable.
    const uint64_t reachable = data_.size() / 512 * 512;
    if (offset % 512 != 0 || offset > reachable || len > reachable - offset) std::abort();
  }
  std::vector<std::byte> data_;
  bool ro_;
};

struct Hooks : devices::virtio::TransportHooks {
  void signal_used(uint16_t) override {}
  void signal_config() override {}
  void device_error(std::string_view) override { ++errors; }
  int errors = 0;
};

loader::GuestMemory& guest_memory() {
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), vf::kBlkMemorySize}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using devices::virtio::VirtioBlk;
  vf::BlkHeader h;
  if (size < sizeof h) return 0;
  std::memcpy(&h, data, sizeof h);
  data += sizeof h;
  size -= sizeof h;

  auto& mem = guest_memory();
  auto host = mem.host_span(loader::GuestAddress(0), vf::kBlkMemorySize);
  std::memset(host->data(), 0, host->size());
  std::memcpy(host->data(), data, std::min<size_t>(size, vf::kBlkMemorySize));

  VirtioBlk blk(std::make_unique<StrictDisk>(h.flags & vf::kBlkFlagReadOnly), "fuzz");
  devices::virtio::Virtqueue q(VirtioBlk::kQueueSize);
  q.set_size(static_cast<uint16_t>(1u << (h.size_log2 % 5)));
  q.set_desc_addr(vf::kBlkDesc);
  q.set_avail_addr(vf::kBlkAvail);
  q.set_used_addr(vf::kBlkUsed);
  q.set_ready(true);

  uint64_t features = devices::virtio::kFVersion1;
  if (h.flags & vf::kBlkFlagEventIdx) features |= devices::virtio::kFEventIdx;
  if (h.flags & vf::kBlkFlagIndirect) features |= devices::virtio::kFIndirectDesc;
  if (h.flags & vf::kBlkFlagDiscard) features |= VirtioBlk::kFDiscard | VirtioBlk::kFWriteZeroes;
  Hooks hooks;
  devices::virtio::Activation a{&mem, features, {&q}, &hooks};
  std::string why;
  if (!blk.activate(a, why)) std::abort();  // the layout above is always valid
  blk.notify(0);
  blk.notify(0);  // a second notify on a drained or failed queue is a no-op
  if (hooks.errors > 1) std::abort();  // a failed device stays quiet
  blk.reset();
  return 0;
}
