#include "devices/virtio/virtio_console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "virtio_test_util.h"

namespace devices::virtio {
namespace {

using test_util::DeviceHarness;
using ::testing::HasSubstr;

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = std::byte(static_cast<uint8_t>(s[i]));
  return out;
}

class VirtioConsoleTest : public ::testing::Test {
 protected:
  VirtioConsoleTest()
      : h(2), console([this](std::span<const std::byte> b) { out.append(reinterpret_cast<const char*>(b.data()), b.size()); }, 16) {}
  void activate() {
    std::string why;
    ASSERT_TRUE(h.activate(console, why)) << why;
  }
  test_support::DriverQueue& rx() { return h.drivers[0]; }
  test_support::DriverQueue& tx() { return h.drivers[1]; }
  std::string guest_string(uint64_t addr, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rx().get<uint8_t>(addr + i)));
    return s;
  }

  DeviceHarness h;
  std::string out;
  VirtioConsole console;
};

TEST_F(VirtioConsoleTest, IdentityAndConfig) {
  EXPECT_EQ(console.type(), DeviceType::kConsole);
  EXPECT_EQ(console.num_queues(), 2);
  EXPECT_FALSE(console.device_features() & 1) << "no F_SIZE";
  std::array<std::byte, 4> cfg{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{1}};
  console.read_config(0, cfg);
  EXPECT_EQ(cfg, (std::array<std::byte, 4>{})) << "cols = rows = 0";
}

TEST_F(VirtioConsoleTest, TransmitGoesToOutput) {
  activate();
  const auto a = bytes("hello, "), b = bytes("world\n");
  for (size_t i = 0; i < a.size(); ++i) tx().put(DeviceHarness::kData + i, a[i]);
  for (size_t i = 0; i < b.size(); ++i) tx().put(DeviceHarness::kData + 0x100 + i, b[i]);
  uint16_t head = tx().add_chain({{DeviceHarness::kData, 7, false}, {DeviceHarness::kData + 0x100, 6, false}});
  console.notify(VirtioConsole::kTransmitQueue);
  EXPECT_EQ(out, "hello, world\n");
  EXPECT_EQ(tx().used_elem(0), (std::pair<uint32_t, uint32_t>{head, 0}));
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{1});
}

TEST_F(VirtioConsoleTest, InputWaitsForReceiveBuffers) {
  activate();
  EXPECT_EQ(console.enqueue_input(bytes("abc")), 3u);
  EXPECT_EQ(console.pending_input(), 3u);
  rx().add_chain({{DeviceHarness::kData, 2, true}});
  rx().add_chain({{DeviceHarness::kData + 0x100, 64, true}});
  console.notify(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(rx().used_idx(), 2);
  EXPECT_EQ(rx().used_elem(0).second, 2u);
  EXPECT_EQ(rx().used_elem(1).second, 1u);
  EXPECT_EQ(guest_string(DeviceHarness::kData, 2), "ab");
  EXPECT_EQ(guest_string(DeviceHarness::kData + 0x100, 1), "c");
  EXPECT_EQ(console.pending_input(), 0u);
}

TEST_F(VirtioConsoleTest, IdleReceiveBufferIsKeptUntilInput) {
  activate();
  rx().add_chain({{DeviceHarness::kData, 8, true}});
  console.notify(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(rx().used_idx(), 0) << "an empty completion would wake the driver for nothing";
  EXPECT_EQ(console.enqueue_input(bytes("xy")), 2u);
  EXPECT_EQ(rx().used_idx(), 1);
  EXPECT_EQ(guest_string(DeviceHarness::kData, 2), "xy");
  EXPECT_EQ(h.hooks.used, std::vector<uint16_t>{0});
}

TEST_F(VirtioConsoleTest, InputIsBoundedForBackPressure) {
  // Capacity 16 (set in the fixture), no driver yet.
  EXPECT_EQ(console.enqueue_input(bytes("0123456789")), 10u);
  EXPECT_EQ(console.enqueue_input(bytes("abcdefghij")), 6u);
  EXPECT_EQ(console.enqueue_input(bytes("z")), 0u);
  activate();
  rx().add_chain({{DeviceHarness::kData, 64, true}});
  console.notify(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(guest_string(DeviceHarness::kData, 16), "0123456789abcdef");
  EXPECT_EQ(console.enqueue_input(bytes("z")), 1u) << "room again once delivered";
}

TEST_F(VirtioConsoleTest, MalformedTransmitIsADeviceError) {
  activate();
  tx().publish(77);
  console.notify(VirtioConsole::kTransmitQueue);
  ASSERT_EQ(h.hooks.errors.size(), 1u);
  EXPECT_THAT(h.hooks.errors[0], HasSubstr("virtio-console: queue 1"));
  EXPECT_TRUE(out.empty());
  // Failed: input is buffered but not delivered.
  rx().add_chain({{DeviceHarness::kData, 8, true}});
  console.enqueue_input(bytes("q"));
  EXPECT_EQ(rx().used_idx(), 0);
}

TEST_F(VirtioConsoleTest, ActivationNeedsBothQueues) {
  Activation a;
  a.memory = &h.mem;
  a.hooks = &h.hooks;
  a.queues = {h.vqs[0].get(), nullptr};
  std::string why;
  EXPECT_FALSE(console.activate(a, why));
  EXPECT_THAT(why, HasSubstr("queue 1"));
}

TEST_F(VirtioConsoleTest, ResetKeepsInputForTheNextDriver) {
  activate();
  console.reset();
  EXPECT_EQ(console.enqueue_input(bytes("hi")), 2u);
  rx().add_chain({{DeviceHarness::kData, 8, true}});
  console.notify(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(rx().used_idx(), 0) << "not active";
  EXPECT_EQ(console.pending_input(), 2u);
}

}  // namespace
}  // namespace devices::virtio
