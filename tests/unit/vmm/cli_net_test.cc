// --net: parse_net on its own and through the whole command line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "vmm/cli.h"

namespace vmm {
namespace {

using ::testing::HasSubstr;

std::expected<Options, UsageError> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> v(args);
  return parse_command_line(v);
}

std::string net_error(std::string_view text) {
  auto r = parse_net(text);
  EXPECT_FALSE(r) << "parsed although it should not: " << text;
  return r ? std::string() : r.error().message;
}

TEST(CliNet, UserWithForwardsAndMac) {
  auto n = parse_net("user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-10.0.2.15:53,mac=52:54:00:ab:cd:EF");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->kind, NetKind::kUser);
  ASSERT_EQ(n->forwards.size(), 2u);
  EXPECT_FALSE(n->forwards[0].udp);
  EXPECT_EQ(n->forwards[0].host_addr, "");
  EXPECT_EQ(n->forwards[0].host_port, 8080);
  EXPECT_EQ(n->forwards[0].guest_addr, "");
  EXPECT_EQ(n->forwards[0].guest_port, 80);
  EXPECT_TRUE(n->forwards[1].udp);
  EXPECT_EQ(n->forwards[1].host_addr, "127.0.0.1");
  EXPECT_EQ(n->forwards[1].host_port, 5353);
  EXPECT_EQ(n->forwards[1].guest_addr, "10.0.2.15");
  EXPECT_EQ(n->forwards[1].guest_port, 53);
  ASSERT_TRUE(n->mac);
  EXPECT_EQ(format_mac(*n->mac), "52:54:00:ab:cd:ef");
}

TEST(CliNet, ProtocolDefaultsToTcp) {
  auto n = parse_net("user,hostfwd=:127.0.0.1:2222-:22");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_FALSE(n->forwards[0].udp);
}

TEST(CliNet, PlainUserAndTap) {
  auto u = parse_net("user");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->forwards.empty());
  EXPECT_FALSE(u->mac);
  auto t = parse_net("tap=tap0,mac=02:00:00:00:00:01");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->kind, NetKind::kTap);
  EXPECT_EQ(t->tap, "tap0");
  EXPECT_TRUE(t->mac);
}

TEST(CliNet, MalformedForwardsAreUsageErrors) {
  EXPECT_THAT(net_error("user,hostfwd=tcp:8080-:80"), HasSubstr("host side needs [ADDR]:PORT"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::8080:80"), HasSubstr("no '-'"));
  EXPECT_THAT(net_error("user,hostfwd=sctp::1-:2"), HasSubstr("neither tcp nor udp"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::0-:80"), HasSubstr("host port '0'"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::65536-:80"), HasSubstr("not a port number"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::80-:x"), HasSubstr("guest port"));
  EXPECT_THAT(net_error("user,hostfwd=tcp:1.2.3:80-:80"), HasSubstr("not an IPv4 address"));
  EXPECT_THAT(net_error("user,hostfwd=tcp:256.0.0.1:80-:80"), HasSubstr("not an IPv4 address"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::80-host:80"), HasSubstr("guest address"));
  EXPECT_THAT(net_error("user,hostfwd="), HasSubstr("expected [tcp|udp]"));
  EXPECT_THAT(net_error("user,hostfwd=tcp::80-:80,hostfwd=tcp:127.0.0.1:80-:81"), HasSubstr("forwarded twice"));
  EXPECT_THAT(net_error("tap=tap0,hostfwd=tcp::80-:80"), HasSubstr("hostfwd is for user networking"));
}

TEST(CliNet, MalformedKindsAndMacs) {
  EXPECT_THAT(net_error("bridge"), HasSubstr("expected user"));
  EXPECT_THAT(net_error(""), HasSubstr("expected user"));
  EXPECT_THAT(net_error("tap="), HasSubstr("1 to 15 characters"));
  EXPECT_THAT(net_error("tap=a-name-that-is-too-long"), HasSubstr("1 to 15 characters"));
  EXPECT_THAT(net_error("user,mac=52:54:00:12:34"), HasSubstr("six hex bytes"));
  EXPECT_THAT(net_error("user,mac=52-54-00-12-34-56"), HasSubstr("six hex bytes"));
  EXPECT_THAT(net_error("user,mac=01:00:5e:00:00:01"), HasSubstr("multicast"));
  EXPECT_THAT(net_error("user,mac=00:00:00:00:00:00"), HasSubstr("all zeroes"));
  EXPECT_THAT(net_error("user,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57"), HasSubstr("given twice"));
  EXPECT_THAT(net_error("user,restrict=on"), HasSubstr("unknown option"));
}

TEST(CliNet, OnTheCommandLine) {
  auto o = parse({"--kernel", "k", "--net", "user,hostfwd=tcp::8080-:80", "--net", "tap=tap0"});
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->nets.size(), 2u);
  EXPECT_EQ(o->nets[0].kind, NetKind::kUser);
  EXPECT_EQ(o->nets[1].tap, "tap0");
  auto bad = parse({"--kernel", "k", "--net", "user,hostfwd=tcp::8080"});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("--net"));
}

TEST(CliNet, CommandLineConflicts) {
  auto same_port = parse({"--kernel", "k", "--net", "user,hostfwd=tcp::8080-:80", "--net", "user,hostfwd=tcp::8080-:81"});
  ASSERT_FALSE(same_port);
  EXPECT_THAT(same_port.error().message, HasSubstr("host port 8080"));
  auto same_tap = parse({"--kernel", "k", "--net", "tap=tap0", "--net", "tap=tap0"});
  ASSERT_FALSE(same_tap);
  EXPECT_THAT(same_tap.error().message, HasSubstr("given twice"));
  auto no_virtio = parse({"--kernel", "k", "--net", "user", "--virtio-transport", "none"});
  ASSERT_FALSE(no_virtio);
  EXPECT_THAT(no_virtio.error().message, HasSubstr("--net needs virtio"));
}

TEST(CliNet, NicsCountAgainstTheVirtioSlots) {
  // x86 has five virtio-mmio lines: console + rng + 2 disks + 1 NIC fit, a second NIC does not.
  auto fits = parse({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--disk", "a",
                     "--disk", "b", "--net", "user"});
  ASSERT_TRUE(fits) << fits.error().message;
  auto o = parse({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--disk", "a",
                  "--disk", "b", "--net", "user", "--net", "user"});
  ASSERT_FALSE(o);
  EXPECT_THAT(o.error().message, HasSubstr("2 disks and 0 shares and 2 NICs do not fit"));
}

}  // namespace
}  // namespace vmm
