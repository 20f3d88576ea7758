#include "backends/slirp_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/tap_net.h"

namespace backends {
namespace {

using ::testing::HasSubstr;

// Collects the frames the backend's thread delivers.
struct Collector : devices::virtio::NetReceiver {
  void receive(std::span<const std::byte> frame) override {
    std::lock_guard lock(mutex);
    frames.emplace_back(frame.begin(), frame.end());
    cv.notify_all();
  }
  // Waits (bounded) until a frame matching `pred` arrived.
  template <class Pred>
  bool wait_for(Pred pred) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] {
      for (const auto& f : frames)
        if (pred(f)) return true;
      return false;
    });
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::vector<std::byte>> frames;
};

std::vector<std::byte> arp_request(std::array<uint8_t, 4> target) {
  const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::vector<uint8_t> f;
  for (int i = 0; i < 6; ++i) f.push_back(0xff);
  f.insert(f.end(), mac, mac + 6);
  f.insert(f.end(), {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01});
  f.insert(f.end(), mac, mac + 6);
  f.insert(f.end(), {10, 0, 2, 15});
  for (int i = 0; i < 6; ++i) f.push_back(0);
  f.insert(f.end(), target.begin(), target.end());
  while (f.size() < 60) f.push_back(0);
  std::vector<std::byte> out(f.size());
  std::memcpy(out.data(), f.data(), f.size());
  return out;
}

TEST(SlirpNet, AnswersArpForTheGatewayOnItsThread) {
  auto net = SlirpNet::open({});
  ASSERT_TRUE(net) << net.error().message;
  Collector rx;
  (*net)->start(rx);
  const auto req = arp_request({10, 0, 2, 2});
  const std::span<const std::byte> parts[] = {req};
  ASSERT_TRUE((*net)->send(parts));
  // An ARP reply (op 2) from 10.0.2.2 to us.
  EXPECT_TRUE(rx.wait_for([](const std::vector<std::byte>& f) {
    return f.size() >= 42 && f[12] == std::byte{0x08} && f[13] == std::byte{0x06} && f[21] == std::byte{2} &&
           f[28] == std::byte{10} && f[29] == std::byte{0} && f[30] == std::byte{2} && f[31] == std::byte{2};
  })) << "no ARP reply from the gateway";
}

TEST(SlirpNet, RefusesFramesLargerThanItsMtu) {
  auto net = SlirpNet::open({});
  ASSERT_TRUE(net);
  std::vector<std::byte> big(SlirpNet::kMaxFrame + 1);
  const std::span<const std::byte> parts[] = {big};
  EXPECT_FALSE((*net)->send(parts));
}

// A TCP socket bound to a free loopback port (-1 on failure); `port` is that port.
int bind_loopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// hostfwd=tcp:127.0.0.1:PORT-:80
SlirpNetOptions forward_to_guest_port_80(uint16_t port) {
  SlirpNetOptions o;
  o.forwards.push_back({false, "127.0.0.1", port, "", 80, "tcp:127.0.0.1:" + std::to_string(port) + "-:80"});
  return o;
}

TEST(SlirpNet, ATakenForwardPortFailsAtOpen) {
  uint16_t port = 0;
  const int fd = bind_loopback(port);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  const SlirpNetOptions o = forward_to_guest_port_80(port);
  auto net = SlirpNet::open(o);
  ::close(fd);
  ASSERT_FALSE(net);
  EXPECT_THAT(net.error().message, HasSubstr("--net user: hostfwd="));
  EXPECT_THAT(net.error().message, HasSubstr("cannot listen on tcp port 127.0.0.1:" + std::to_string(port)));
  // A free port (the one just closed) is taken without complaint.
  auto ok = SlirpNet::open(o);
  EXPECT_TRUE(ok) << ok.error().message;
}

// A host connection to a forwarded port becomes a TCP SYN for the guest;
// the backend is then destroyed with that connection open (the stack is
// taken down on its own thread, with the sockets it owns).
TEST(SlirpNet, AForwardedConnectionReachesTheGuestAndTearsDownOpen) {
  // A free port: bound, read back, released.
  uint16_t port = 0;
  const int fd = bind_loopback(port);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto net = SlirpNet::open(forward_to_guest_port_80(port));
  ASSERT_TRUE(net) << net.error().message;
  Collector rx;
  (*net)->start(rx);
  // The guest's ARP request teaches slirp where 10.0.2.15 is.
  const auto req = arp_request({10, 0, 2, 2});
  const std::span<const std::byte> parts[] = {req};
  ASSERT_TRUE((*net)->send(parts));
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << std::strerror(errno);
  // IPv4 (0x0800), TCP (6), SYN only, to 10.0.2.15 port 80.
  EXPECT_TRUE(rx.wait_for([](const std::vector<std::byte>& f) {
    return f.size() >= 54 && f[12] == std::byte{0x08} && f[13] == std::byte{0x00} && f[23] == std::byte{6} &&
           f[30] == std::byte{10} && f[31] == std::byte{0} && f[32] == std::byte{2} && f[33] == std::byte{15} &&
           f[36] == std::byte{0} && f[37] == std::byte{80} && (std::to_integer<int>(f[47]) & 0x12) == 0x02;
  })) << "no SYN for the guest's port 80";
  net->reset();
  ::close(client);
}

TEST(TapNet, AnInterfaceThatIsNoTapIsRefused) {
  auto tap = TapNet::open("lo");
  ASSERT_FALSE(tap);
  EXPECT_THAT(tap.error().message, HasSubstr("--net tap=lo: "));
  auto bad = TapNet::open("a-name-that-is-far-too-long");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("1 to 15 characters"));
}

}  // namespace
}  // namespace backends
