#include "vmm/coalesced_ring.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace vmm {
namespace {

constexpr size_t kPage = 4096;

// A page laid out as KVM lays out its ring, filled the way KVM fills it.
struct FakeRing {
  alignas(8) std::byte page[kPage]{};
  kvm_coalesced_mmio_ring* ring() { return reinterpret_cast<kvm_coalesced_mmio_ring*>(page); }
  kvm_coalesced_mmio* entry(uint32_t i) {
    return reinterpret_cast<kvm_coalesced_mmio*>(page + sizeof(kvm_coalesced_mmio_ring)) + i;
  }
  uint32_t capacity() const {
    return static_cast<uint32_t>((kPage - sizeof(kvm_coalesced_mmio_ring)) / sizeof(kvm_coalesced_mmio));
  }
  // KVM's side: one write appended at `last`.
  void push(uint64_t address, uint32_t value, uint32_t len, bool pio) {
    kvm_coalesced_mmio* e = entry(ring()->last);
    e->phys_addr = address;
    e->len = len;
    e->pio = pio ? 1 : 0;
    std::memcpy(e->data, &value, sizeof value);
    ring()->last = (ring()->last + 1) % capacity();
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
  EXPECT_EQ(f.fake->ring()->first, 3u);  // handed back to KVM
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(f.log.size(), 3u);
  EXPECT_EQ(ring.delivered(), 3u);
  EXPECT_EQ(ring.malformed(), 0u);
}

TEST(CoalescedRing, FollowsTheIndicesAcrossTheEndOfThePage) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  const uint32_t start = ring.capacity() - 1;
  f.fake->ring()->first = start;
  f.fake->ring()->last = start;
  f.fake->push(0xcf8, 1, 4, true);
  f.fake->push(0xcf8, 2, 4, true);
  EXPECT_EQ(f.fake->ring()->last, 1u);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 2u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=1/4", "pio 0=2/4"}));
  EXPECT_EQ(f.fake->ring()->first, 1u);
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
  EXPECT_EQ(f.fake->ring()->first, 4u);
}

TEST(CoalescedRing, IndicesOutOfRangeDeliverNothing) {
  Fixture f;
  CoalescedRing ring(f.fake->page, kPage);
  f.fake->ring()->last = ring.capacity();  // one past the last entry
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(ring.malformed(), 1u);
  EXPECT_TRUE(f.log.empty());

  f.fake->ring()->last = 2;
  f.fake->ring()->first = 0xffff'fff0;
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 0u);
  EXPECT_EQ(ring.malformed(), 2u);
  EXPECT_TRUE(f.log.empty());
  // It resynchronises on KVM's index: what KVM queues next is delivered.
  EXPECT_EQ(f.fake->ring()->first, 2u);
  f.fake->push(0xcf8, 5, 4, true);
  EXPECT_EQ(ring.drain(f.pio, f.mmio), 1u);
  EXPECT_EQ(f.log, (std::vector<std::string>{"pio 0=5/4"}));
}

}  // namespace
}  // namespace vmm
