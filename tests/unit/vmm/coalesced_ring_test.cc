#include "vmm/coalesced_ring.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace vmm {
namespace {

constexpr size_t kPage = 4096;

// A page laid out byte by byte the way the kernel (C) lays out its ring:
// u32 first at 0, u32 last at 4, then 24-byte entries from offset 8, each
// u64 phys_addr, u32 len, u32 pio, u8 data[8]. Written without the C++ view
// of <linux/kvm.h>'s struct, which puts the entries at 16 (see
// kRingHeaderBytes): a VMM reading them there sees each length 8 bytes off.
struct FakeRing {
  static constexpr size_t kHeader = 8;
  static constexpr size_t kEntry = 24;
  alignas(8) std::byte page[kPage]{};
  uint32_t capacity() const { return static_cast<uint32_t>((kPage - kHeader) / kEntry); }
  uint32_t u32(size_t at) const {
    uint32_t v = 0;
    std::memcpy(&v, page + at, 4);
    return v;
  }
  void put(size_t at, const void* v, size_t n) { std::memcpy(page + at, v, n); }
  uint32_t first() const { return u32(0); }
  uint32_t last() const { return u32(4); }
  void set_first(uint32_t v) { put(0, &v, 4); }
  void set_last(uint32_t v) { put(4, &v, 4); }
  // KVM's side: one write appended at `last`.
  void push(uint64_t address, uint32_t value, uint32_t len, bool pio) {
    const size_t at = kHeader + last() * kEntry;
    const uint32_t flag = pio ? 1 : 0;
    put(at, &address, 8);
    put(at + 8, &len, 4);
    put(at + 12, &flag, 4);
    put(at + 16, &value, 4);
    set_last((last() + 1) % capacity());
  }
};

// Records every write in arrival order, as "address=value/len".
class Recorder : public devices::Device {
 public:
  explicit Recorder(std::vector<std::string>& log, std::string tag) : log_(log), tag_(std::move(tag)) {}
  void read(uint64_t, std::span<std::byte> data) override { std::memset(data.data(), 0, data.size()); }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    uint64_t v = 0;
    std::memcpy(&v, data.data(), data.size());
    log_.push_back(tag_ + " " + std::to_string(offset) + "=" + std::to_string(v) + "/" + std::to_string(data.size()));
  }

 private:
  std::vector<std::string>& log_;
  std::string tag_;
};

struct Fixture {
  std::vector<std::string> log;
  devices::Bus pio{devices::BusKind::kPio};
  devices::Bus mmio{devices::BusKind::kMmio};
  std::unique_ptr<FakeRing> fake = std::make_unique<FakeRing>();
  Fixture() {
    EXPECT_TRUE(pio.add(0xcf8, 8, std::make_shared<Recorder>(log, "pio"), "cf8").has_value());
    EXPECT_TRUE(mmio.add(0x1000, 0x100, std::make_shared<Recorder>(log, "mmio"), "dev").has_value());
  }
};

TEST(CoalescedRing, CapacityIsWhatFitsOnThePageAfterTheIndices) {
  FakeRing fake;
  CoalescedRing ring(fake.page, kPage);
  EXPECT_EQ(ring.capacity(), (kPage - 8) / 24);  // KVM_COALESCED_MMIO_MAX for 4 KiB pages
  CoalescedRing none(nullptr, kPage);
  EXPECT_EQ(none.capacity(), 0u);
}

TEST(CoalescedRing, DeliversQueuedWritesInOrderToTheirBusAndFreesTheEntries) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  f.fake->push(0xcf8, 0x8000'0800, 4, true);
  f.fake->push(0x1010, 7, 2, false);
  f.fake->push(0xcfb, 1, 1, true);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 3u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=2147485696/4", "mmio 16=7/2", "pio 3=1/1"}));
  EXPECT_EQ(f.fake->first(), 3u);  // handed back to KVM
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(f.log.size(), 3u);
  EXPECT_EQ(ring.delivered(), 3u);
  EXPECT_EQ(ring.malformed(), 0u);
}

TEST(CoalescedRing, FollowsTheIndicesAcrossTheEndOfThePage) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  const uint32_t start = ring.capacity() - 1;
  f.fake->set_first(start);
  f.fake->set_last(start);
  f.fake->push(0xcf8, 1, 4, true);
  f.fake->push(0xcf8, 2, 4, true);
  EXPECT_EQ(f.fake->last(), 1u);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 2u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=1/4", "pio 0=2/4"}));
  EXPECT_EQ(f.fake->first(), 1u);
}

// The page is shared memory: nothing read from it may take the VMM outside
// the page or hand a device more than the entry's 8 data bytes.
TEST(CoalescedRing, SkipsEntriesWithImpossibleLengths) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  f.fake->push(0xcf8, 1, 4, true);
  f.fake->push(0xcf8, 2, 9, true);
  f.fake->push(0xcf8, 3, 0, true);
  f.fake->push(0xcf8, 4, 4, true);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 2u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=1/4", "pio 0=4/4"}));
  EXPECT_EQ(ring.malformed(), 2u);
  EXPECT_EQ(f.fake->first(), 4u);
}

TEST(CoalescedRing, IndicesOutOfRangeDeliverNothing) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  f.fake->set_last(ring.capacity());  // one past the last entry
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(ring.malformed(), 1u);
  EXPECT_TRUE(f.log.empty());

  f.fake->set_last(2);
  f.fake->set_first(0xffff'fff0);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(ring.malformed(), 2u);
  EXPECT_TRUE(f.log.empty());
  // It resynchronises on KVM's index: what KVM queues next is delivered.
  EXPECT_EQ(f.fake->first(), 2u);
  f.fake->push(0xcf8, 5, 4, true);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 1u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=5/4"}));
}

}  // namespace
}  // namespace vmm
