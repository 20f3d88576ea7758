#include "devices/bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace devices {
namespace {

// Records every access so tests can see which offsets a device was given.
class RecordingDevice : public Device {
 public:
  void read(uint64_t offset, std::span<std::byte> data) override {
    reads.push_back(offset);
    for (auto& b : data) b = std::byte{0x5a};
  }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    writes.push_back(offset);
    if (!data.empty()) last_value = std::to_integer<uint8_t>(data[0]);
  }
  std::vector<uint64_t> reads, writes;
  uint8_t last_value = 0;
};

TEST(Bus, DispatchesReadsAndWritesWithOffsetsRelativeToTheRange) {
  Bus bus(BusKind::kPio);
  auto dev = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.add(0x3f8, 8, dev, "uart"));
  std::byte b{0};
  EXPECT_TRUE(bus.read(0x3fd, std::span(&b, 1)));
  EXPECT_EQ(b, std::byte{0x5a});
  std::byte w{0x41};
  EXPECT_TRUE(bus.write(0x3f8, std::span(&w, 1)));
  ASSERT_EQ(dev->reads.size(), 1u);
  EXPECT_EQ(dev->reads[0], 5u);
  ASSERT_EQ(dev->writes.size(), 1u);
  EXPECT_EQ(dev->writes[0], 0u);
  EXPECT_EQ(dev->last_value, 0x41);
}

TEST(Bus, DeviceOffsetLetsOneDeviceOwnTwoSeparateRanges) {
  Bus bus(BusKind::kPio);
  auto dev = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.add(0x60, 1, dev, "i8042 data", 0));
  ASSERT_TRUE(bus.add(0x64, 1, dev, "i8042 cmd", 4));
  std::byte b{};
  bus.read(0x64, std::span(&b, 1));
  bus.read(0x60, std::span(&b, 1));
  EXPECT_EQ(dev->reads, (std::vector<uint64_t>{4, 0}));
  EXPECT_FALSE(bus.read(0x62, std::span(&b, 1)));
}

TEST(Bus, RejectsOverlapsOnEitherSide) {
  Bus bus(BusKind::kMmio);
  auto dev = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.add(0x1000, 0x100, dev, "a"));
  auto below = bus.add(0xf80, 0x81, dev, "below");
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, ErrorCode::kOverlap);
  EXPECT_NE(below.error().message.find("'a'"), std::string::npos);
  EXPECT_NE(below.error().message.find("0x1000"), std::string::npos);
  EXPECT_FALSE(bus.add(0x10ff, 1, dev, "last byte"));
  EXPECT_FALSE(bus.add(0x1010, 0x10, dev, "inside"));
  EXPECT_FALSE(bus.add(0x0, 0x10000, dev, "around"));
  // Adjacent ranges are fine.
  EXPECT_TRUE(bus.add(0xf80, 0x80, dev, "adjacent below"));
  EXPECT_TRUE(bus.add(0x1100, 0x10, dev, "adjacent above"));
}

TEST(Bus, RejectsEmptyWrappingAndNullRegistrations) {
  Bus bus(BusKind::kMmio);
  auto dev = std::make_shared<RecordingDevice>();
  EXPECT_EQ(bus.add(0x1000, 0, dev, "empty").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bus.add(~0ull - 1, 3, dev, "wraps").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bus.add(0x1000, 1, nullptr, "null").error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(bus.add(~0ull - 1, 2, dev, "top"));
}

TEST(Bus, UnknownAccessesReadAllOnesDropWritesAndAreCounted) {
  Bus bus(BusKind::kPio);
  auto dev = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.add(0x3f8, 8, dev, "uart"));
  uint32_t v = 0;
  EXPECT_FALSE(bus.read(0xcfc, std::as_writable_bytes(std::span(&v, 1))));
  EXPECT_EQ(v, 0xffffffffu);
  uint16_t w = 0x1234;
  EXPECT_FALSE(bus.write(0x2f8, std::as_bytes(std::span(&w, 1))));
  EXPECT_FALSE(bus.write(0x2f9, std::as_bytes(std::span(&w, 1))));
  // Straddling the end of a range is not claimed by the device.
  EXPECT_FALSE(bus.read(0x3ff, std::as_writable_bytes(std::span(&v, 1))));
  auto s = bus.stats();
  EXPECT_EQ(s.unknown_reads, 2u);
  EXPECT_EQ(s.unknown_writes, 2u);
  EXPECT_TRUE(s.any_unknown);
  EXPECT_EQ(s.first_unknown_address, 0xcfcu);
  EXPECT_TRUE(dev->writes.empty());
  EXPECT_TRUE(dev->reads.empty());
}

TEST(Bus, RangeCountsListTheBusiestRangesFirstAndSkipIdleOnes) {
  Bus bus(BusKind::kPio);
  auto dev = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.add(0x3f8, 8, dev, "uart"));
  ASSERT_TRUE(bus.add(0xcf8, 4, dev, "pci latch"));
  ASSERT_TRUE(bus.add(0x60, 1, dev, "idle"));
  std::byte b{0};
  EXPECT_TRUE(bus.read(0x3fd, std::span(&b, 1)));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bus.write(0xcf8, std::span(&b, 1)));
  EXPECT_TRUE(bus.read(0xcf8, std::span(&b, 1)));
  EXPECT_FALSE(bus.read(0x1000, std::span(&b, 1)));  // unknown: counted elsewhere
  auto counts = bus.range_counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].name, "pci latch");
  EXPECT_EQ(counts[0].base, 0xcf8u);
  EXPECT_EQ(counts[0].reads, 1u);
  EXPECT_EQ(counts[0].writes, 3u);
  EXPECT_EQ(counts[1].name, "uart");
  EXPECT_EQ(counts[1].reads, 1u);
  EXPECT_EQ(counts[1].writes, 0u);
}

TEST(Bus, NameAtReportsTheOwner) {
  Bus bus(BusKind::kPio);
  ASSERT_TRUE(bus.add(0x70, 2, std::make_shared<RecordingDevice>(), "rtc"));
  EXPECT_EQ(bus.name_at(0x71), "rtc");
  EXPECT_EQ(bus.name_at(0x72), "");
}

}  // namespace
}  // namespace devices
