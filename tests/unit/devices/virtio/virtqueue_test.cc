#include "devices/virtio/virtqueue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>

#include "support/virtio_driver.h"

namespace devices::virtio {
namespace {

using ::testing::HasSubstr;
using test_support::DriverQueue;
using test_support::kVirtqDescIndirect;
using test_support::kVirtqDescNext;
using test_support::kVirtqDescWrite;

// Two adjacent regions: a buffer crossing 0x100000 is contiguous in guest
// physical space but not in one host mapping, and must be refused.
loader::GuestMemory make_memory() {
  std::array specs{loader::RegionSpec{loader::GuestAddress(0), 0x100000},
                   loader::RegionSpec{loader::GuestAddress(0x100000), 0x100000}};
  auto m = loader::GuestMemory::create(specs);
  if (!m) std::abort();
  return std::move(*m);
}

class VirtqueueTest : public ::testing::Test {
 protected:
  static constexpr uint16_t kSize = 8;
  VirtqueueTest() : mem(make_memory()), drv(mem, kSize, 0x1000, 0x2000, 0x3000), vq(256) {}

  void configure(bool event_idx = false, bool indirect = true) {
    vq.set_size(kSize);
    vq.set_desc_addr(drv.desc_addr());
    vq.set_avail_addr(drv.avail_addr());
    vq.set_used_addr(drv.used_addr());
    vq.set_ready(true);
    auto err = vq.activate(mem, event_idx, indirect);
    ASSERT_FALSE(err) << *err;
  }
  std::string pop_error() {
    std::string error;
    auto c = vq.pop(error);
    EXPECT_FALSE(c);
    return error;
  }

  loader::GuestMemory mem;
  DriverQueue drv;
  Virtqueue vq;
};

TEST_F(VirtqueueTest, FreshQueueReportsMaxSizeAndIsNotReady) {
  Virtqueue q(64);
  EXPECT_EQ(q.max_size(), 64);
  EXPECT_EQ(q.size(), 64) << "virtio-pci drivers read queue_size before writing it";
  EXPECT_FALSE(q.ready());
  q.set_size(4);
  q.set_ready(true);
  q.set_desc_addr(0x1000);
  q.reset();
  EXPECT_EQ(q.size(), 64);
  EXPECT_FALSE(q.ready());
  EXPECT_EQ(q.desc_addr(), 0u);
}

TEST_F(VirtqueueTest, EmptyRingPopsNothing) {
  configure();
  std::string error;
  EXPECT_FALSE(vq.pop(error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(vq.has_available());
}

TEST_F(VirtqueueTest, PopsReadableThenWritableAndPushesUsed) {
  configure();
  drv.put<uint32_t>(0x10000, 0xdeadbeef);
  uint16_t head = drv.add_chain({{0x10000, 16, false}, {0x11000, 100, true}, {0x12000, 4, true}});
  EXPECT_TRUE(vq.has_available());
  std::string error;
  auto c = vq.pop(error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->head, head);
  ASSERT_EQ(c->readable.size(), 1u);
  ASSERT_EQ(c->writable.size(), 2u);
  EXPECT_EQ(c->readable_bytes(), 16u);
  EXPECT_EQ(c->writable_bytes(), 104u);
  uint32_t v = 0;
  std::memcpy(&v, c->readable[0].host.data(), 4);
  EXPECT_EQ(v, 0xdeadbeefu);
  EXPECT_EQ(c->writable[1].addr, 0x12000u);
  c->writable[0].host[0] = std::byte{0x5a};
  EXPECT_EQ(drv.get<uint8_t>(0x11000), 0x5a);

  vq.push_used(c->head, 7);
  EXPECT_EQ(drv.used_idx(), 1);
  EXPECT_EQ(drv.used_elem(0), (std::pair<uint32_t, uint32_t>{head, 7}));
  EXPECT_FALSE(vq.pop(error));
}

TEST_F(VirtqueueTest, SixteenBitIndicesWrapAround) {
  configure();
  std::string error;
  for (int i = 0; i < 65536 + 10; ++i) {
    drv.add_chain({{0x10000, 8, true}});
    auto c = vq.pop(error);
    ASSERT_TRUE(c) << i << ": " << error;
    vq.push_used(c->head, 1);
  }
  EXPECT_EQ(drv.used_idx(), 10);
  EXPECT_EQ(drv.avail_idx(), 10);
}

TEST_F(VirtqueueTest, RingOfManyLaps) {
  configure();
  for (int i = 0; i < 30; ++i) {
    drv.add_chain({{0x10000, 8, true}});
    std::string error;
    auto c = vq.pop(error);
    ASSERT_TRUE(c) << error;
    vq.push_used(c->head, 8);
  }
  EXPECT_EQ(drv.used_idx(), 30);
}

TEST_F(VirtqueueTest, RefusesAvailIdxTooFarAhead) {
  configure();
  drv.set_avail_idx(kSize + 1);
  auto e = pop_error();
  EXPECT_THAT(e, HasSubstr("9 entries ahead"));
  // Broken stays broken until reset.
  drv.set_avail_idx(1);
  EXPECT_THAT(pop_error(), HasSubstr("ahead"));
  EXPECT_FALSE(vq.has_available());
}

TEST_F(VirtqueueTest, RefusesHeadOutsideQueue) {
  configure();
  drv.publish(kSize);
  EXPECT_THAT(pop_error(), HasSubstr("descriptor index 8 is outside the queue"));
}

TEST_F(VirtqueueTest, RefusesNextOutsideQueue) {
  configure();
  drv.write_desc(0, 0x10000, 8, kVirtqDescNext, 200);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("descriptor index 200"));
}

TEST_F(VirtqueueTest, RefusesNextLoop) {
  configure();
  drv.write_desc(0, 0x10000, 8, kVirtqDescNext, 1);
  drv.write_desc(1, 0x10000, 8, kVirtqDescNext, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("longer than the queue size"));
}

TEST_F(VirtqueueTest, RefusesSelfLoop) {
  configure();
  drv.write_desc(3, 0x10000, 8, kVirtqDescNext, 3);
  drv.publish(3);
  EXPECT_THAT(pop_error(), HasSubstr("loop"));
}

TEST_F(VirtqueueTest, AcceptsChainOfExactlyQueueSize) {
  configure();
  std::vector<test_support::DriverBuffer> bufs(kSize, {0x10000, 8, false});
  drv.add_chain(bufs);
  std::string error;
  auto c = vq.pop(error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->readable.size(), kSize);
}

TEST_F(VirtqueueTest, RefusesBufferOutsideGuestRam) {
  configure();
  drv.add_chain({{0x300000, 16, false}});
  auto e = pop_error();
  EXPECT_THAT(e, HasSubstr("0x300000"));
  EXPECT_THAT(e, HasSubstr("descriptor 0"));
}

TEST_F(VirtqueueTest, RefusesBufferCrossingRegions) {
  configure();
  drv.add_chain({{0xff000, 0x2000, true}});
  EXPECT_THAT(pop_error(), HasSubstr("not inside one guest RAM region"));
}

TEST_F(VirtqueueTest, RefusesAddressOverflow) {
  configure();
  drv.add_chain({{0xffff'ffff'ffff'f000ull, 0x2000, false}});
  EXPECT_THAT(pop_error(), HasSubstr("overflows"));
}

TEST_F(VirtqueueTest, RefusesReadableAfterWritable) {
  configure();
  drv.add_chain({{0x10000, 8, true}, {0x11000, 8, false}});
  EXPECT_THAT(pop_error(), HasSubstr("driver-readable but follows a device-writable"));
}

TEST_F(VirtqueueTest, RefusesChainOver4GiB) {
  configure();
  // 4097 indirect entries, each naming the whole first 1 MiB region: every
  // buffer is valid on its own, together they exceed what used.len can say.
  constexpr uint32_t kEntries = 4097;
  for (uint32_t i = 0; i < kEntries; ++i) {
    drv.write_desc_at(0x100000 + 16ull * i, 0, 0x100000, i + 1 < kEntries ? kVirtqDescNext : 0,
                      static_cast<uint16_t>(i + 1));
  }
  drv.write_desc(0, 0x100000, kEntries * 16, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("indirect descriptor 4095: chain length 0x100000000 exceeds 4 GiB"));
}

TEST_F(VirtqueueTest, ZeroLengthBuffersAreSkipped) {
  configure();
  drv.add_chain({{0xffff'ffff'0000ull, 0, false}, {0x10000, 4, true}});
  std::string error;
  auto c = vq.pop(error);
  ASSERT_TRUE(c) << error;
  EXPECT_TRUE(c->readable.empty());
  EXPECT_EQ(c->writable.size(), 1u);
}

TEST_F(VirtqueueTest, IndirectTable) {
  configure();
  uint16_t head = drv.add_indirect_chain(0x20000, {{0x10000, 16, false}, {0x11000, 32, true}, {0x12000, 1, true}});
  std::string error;
  auto c = vq.pop(error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->head, head);
  EXPECT_EQ(c->readable.size(), 1u);
  EXPECT_EQ(c->writable.size(), 2u);
  EXPECT_EQ(c->writable_bytes(), 33u);
}

TEST_F(VirtqueueTest, DirectThenIndirect) {
  configure();
  drv.write_desc_at(0x20000, 0x11000, 8, kVirtqDescWrite, 0);
  drv.write_desc(0, 0x10000, 16, kVirtqDescNext, 1);
  drv.write_desc(1, 0x20000, 16, kVirtqDescIndirect, 0);
  drv.publish(0);
  std::string error;
  auto c = vq.pop(error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->readable_bytes(), 16u);
  EXPECT_EQ(c->writable_bytes(), 8u);
}

TEST_F(VirtqueueTest, RefusesIndirectWhenNotNegotiated) {
  configure(false, /*indirect=*/false);
  drv.add_indirect_chain(0x20000, {{0x10000, 16, false}});
  EXPECT_THAT(pop_error(), HasSubstr("VIRTIO_F_INDIRECT_DESC was not negotiated"));
}

TEST_F(VirtqueueTest, RefusesIndirectWithNext) {
  configure();
  drv.write_desc_at(0x20000, 0x10000, 8, 0, 0);
  drv.write_desc(0, 0x20000, 16, kVirtqDescIndirect | kVirtqDescNext, 1);
  drv.write_desc(1, 0x10000, 8, 0, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("both INDIRECT and NEXT"));
}

TEST_F(VirtqueueTest, RefusesEmptyIndirectTable) {
  configure();
  drv.write_desc(0, 0x20000, 0, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("not a non-zero multiple of 16"));
}

TEST_F(VirtqueueTest, RefusesIndirectTableLengthNotMultipleOf16) {
  configure();
  drv.write_desc_at(0x20000, 0x10000, 8, 0, 0);
  drv.write_desc(0, 0x20000, 24, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("length 0x18"));
}

TEST_F(VirtqueueTest, RefusesNestedIndirect) {
  configure();
  drv.write_desc_at(0x20000, 0x21000, 16, kVirtqDescIndirect, 0);
  drv.write_desc(0, 0x20000, 16, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("nested"));
}

TEST_F(VirtqueueTest, RefusesIndirectLoop) {
  configure();
  drv.write_desc_at(0x20000, 0x10000, 8, kVirtqDescNext, 1);
  drv.write_desc_at(0x20010, 0x10000, 8, kVirtqDescNext, 0);
  drv.write_desc(0, 0x20000, 32, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("loops or has more than 2 entries"));
}

TEST_F(VirtqueueTest, RefusesIndirectNextOutsideTable) {
  configure();
  drv.write_desc_at(0x20000, 0x10000, 8, kVirtqDescNext, 5);
  drv.write_desc(0, 0x20000, 32, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("next 5 is outside the table of 2 entries"));
}

TEST_F(VirtqueueTest, RefusesIndirectTableOutsideRam) {
  configure();
  drv.write_desc(0, 0x400000, 32, kVirtqDescIndirect, 0);
  drv.publish(0);
  EXPECT_THAT(pop_error(), HasSubstr("indirect table at descriptor 0: [0x400000"));
}

TEST_F(VirtqueueTest, RefusesIndirectBufferOutsideRam) {
  configure();
  drv.add_indirect_chain(0x20000, {{0x10000, 8, false}, {0x500000, 8, true}});
  EXPECT_THAT(pop_error(), HasSubstr("indirect descriptor 1: buffer [0x500000"));
}

TEST_F(VirtqueueTest, RefusesIndirectReadableAfterWritable) {
  configure();
  drv.add_indirect_chain(0x20000, {{0x10000, 8, true}, {0x11000, 8, false}});
  EXPECT_THAT(pop_error(), HasSubstr("follows a device-writable"));
}

TEST_F(VirtqueueTest, ActivateRefusesBadSizes) {
  vq.set_desc_addr(0x1000);
  vq.set_avail_addr(0x2000);
  vq.set_used_addr(0x3000);
  for (uint16_t bad : {uint16_t{0}, uint16_t{3}, uint16_t{512}}) {
    vq.set_size(bad);
    auto err = vq.activate(mem, false, false);
    ASSERT_TRUE(err) << bad;
    EXPECT_THAT(*err, HasSubstr("queue size " + std::to_string(bad)));
  }
  vq.set_size(1);
  EXPECT_FALSE(vq.activate(mem, false, false));
  vq.set_size(256);
  EXPECT_FALSE(vq.activate(mem, false, false));
}

TEST_F(VirtqueueTest, ActivateRefusesMisalignedRings) {
  vq.set_size(8);
  vq.set_desc_addr(0x1008);
  vq.set_avail_addr(0x2000);
  vq.set_used_addr(0x3000);
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("descriptor table address 0x1008"));
  vq.set_desc_addr(0x1000);
  vq.set_avail_addr(0x2001);
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("available ring address 0x2001"));
  vq.set_avail_addr(0x2000);
  vq.set_used_addr(0x3002);
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("used ring address 0x3002"));
  vq.set_used_addr(0x3000);
  EXPECT_FALSE(vq.activate(mem, false, false));
}

TEST_F(VirtqueueTest, ActivateRefusesRingsOutsideRam) {
  vq.set_size(8);
  vq.set_desc_addr(0x1000);
  vq.set_avail_addr(0x2000);
  vq.set_used_addr(0x1fffc0);  // 6 + 8*8 = 70 bytes run past the end of RAM
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("used ring"));
  vq.set_used_addr(0x3000);
  vq.set_desc_addr(0xfffc0);  // 128 bytes crossing the region boundary
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("descriptor table"));
  vq.set_desc_addr(0x1000);
  vq.set_avail_addr(0x7fff'ffff'fffeull);
  EXPECT_THAT(vq.activate(mem, false, false).value_or(""), HasSubstr("available ring"));
}

TEST_F(VirtqueueTest, PopBeforeActivationIsEmpty) {
  std::string error;
  EXPECT_FALSE(vq.pop(error));
  EXPECT_TRUE(error.empty());
  vq.push_used(0, 0);  // ignored, must not crash
  EXPECT_FALSE(vq.needs_interrupt());
}

TEST_F(VirtqueueTest, NoInterruptFlagWithoutEventIdx) {
  configure(false);
  EXPECT_FALSE(vq.needs_interrupt()) << "nothing pushed yet";
  drv.add_chain({{0x10000, 8, true}});
  std::string error;
  auto c = vq.pop(error);
  vq.push_used(c->head, 0);
  EXPECT_TRUE(vq.needs_interrupt());
  EXPECT_FALSE(vq.needs_interrupt()) << "nothing new since the last call";
  drv.set_avail_flags(1);
  drv.add_chain({{0x10000, 8, true}});
  c = vq.pop(error);
  vq.push_used(c->head, 0);
  EXPECT_FALSE(vq.needs_interrupt());
}

TEST_F(VirtqueueTest, EventIdxUsedEventSuppression) {
  configure(true);
  std::string error;
  // The driver asks to be interrupted only once used idx passes 2 (used_event = 2).
  drv.set_used_event(2);
  for (int i = 0; i < 4; ++i) drv.add_chain({{0x10000, 8, true}});
  auto push_one = [&] {
    auto c = vq.pop(error);
    ASSERT_TRUE(c) << error;
    vq.push_used(c->head, 0);
  };
  push_one();  // used idx 1
  EXPECT_FALSE(vq.needs_interrupt());
  push_one();  // used idx 2
  EXPECT_FALSE(vq.needs_interrupt());
  push_one();  // used idx 3: crossed used_event 2
  EXPECT_TRUE(vq.needs_interrupt());
  push_one();  // used idx 4, used_event still 2
  EXPECT_FALSE(vq.needs_interrupt());
  // NO_INTERRUPT is ignored when EVENT_IDX is negotiated.
  drv.set_avail_flags(1);
  drv.set_used_event(4);
  drv.add_chain({{0x10000, 8, true}});
  push_one();
  EXPECT_TRUE(vq.needs_interrupt());
}

TEST_F(VirtqueueTest, EventIdxBatchCrossingUsedEvent) {
  configure(true);
  std::string error;
  drv.set_used_event(0);
  for (int i = 0; i < 3; ++i) drv.add_chain({{0x10000, 8, true}});
  for (int i = 0; i < 3; ++i) {
    auto c = vq.pop(error);
    vq.push_used(c->head, 0);
  }
  EXPECT_TRUE(vq.needs_interrupt()) << "used_event 0 lies in [0, 3)";
}

TEST_F(VirtqueueTest, EventIdxWritesAvailEvent) {
  configure(true);
  drv.put<uint16_t>(drv.used_addr() + 4 + 8 * kSize, 0xffff);
  std::string error;
  EXPECT_FALSE(vq.pop(error));
  EXPECT_EQ(drv.avail_event(), 0) << "an empty pop says where to notify next";
  drv.add_chain({{0x10000, 8, true}});
  drv.add_chain({{0x10000, 8, true}});
  ASSERT_TRUE(vq.pop(error));
  EXPECT_EQ(drv.avail_event(), 1);
  ASSERT_TRUE(vq.pop(error));
  EXPECT_EQ(drv.avail_event(), 2);
}

TEST_F(VirtqueueTest, NoAvailEventWithoutEventIdx) {
  configure(false);
  drv.put<uint16_t>(drv.used_addr() + 4 + 8 * kSize, 0xabcd);
  drv.add_chain({{0x10000, 8, true}});
  std::string error;
  ASSERT_TRUE(vq.pop(error));
  EXPECT_EQ(drv.avail_event(), 0xabcd);
}

TEST_F(VirtqueueTest, ResetClearsBrokenState) {
  configure();
  drv.publish(kSize);
  EXPECT_FALSE(pop_error().empty());
  vq.reset();
  drv.set_avail_idx(0);
  configure();
  drv.add_chain({{0x10000, 8, true}});
  std::string error;
  EXPECT_TRUE(vq.pop(error)) << error;
}

}  // namespace
}  // namespace devices::virtio
