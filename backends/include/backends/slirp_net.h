// User-mode networking through libslirp (QEMU's `-netdev user`): the guest
// sits alone on 10.0.2.0/24 behind a NAT the VMM runs in-process, with no
// privileges. 10.0.2.2 is the gateway (and the host: 10.0.2.2:PORT reaches
// the host's 127.0.0.1:PORT), 10.0.2.3 forwards DNS to the host's resolver,
// DHCP hands out 10.0.2.15 onwards. Port forwards make guest ports reachable
// from the host.
//
// libslirp is not thread-safe, so every call into it happens on the
// backend's own thread: a poll(2) loop over slirp's sockets, its timers and
// an eventfd that wakes it when the guest sends. send() copies the frame
// into a bounded queue of fixed slots (no allocation per frame) and drops it
// when the queue is full, as a NIC drops on a full ring: TCP recovers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/error.h"
#include "devices/virtio/net_backend.h"

namespace backends {

struct SlirpForward {
  bool udp = false;
  std::string host_addr;   // IPv4 dotted quad; empty: every address (0.0.0.0)
  uint16_t host_port = 0;  // 1..65535
  std::string guest_addr;  // empty: the first DHCP address, 10.0.2.15
  uint16_t guest_port = 0;
  std::string text;        // as the user wrote it, for messages
};

struct SlirpNetOptions {
  std::vector<SlirpForward> forwards;
};

class SlirpNet final : public devices::virtio::NetBackend {
 public:
  // The largest frame the slirp side takes: its MTU (1500) behind an
  // Ethernet header and a VLAN tag.
  static constexpr uint32_t kMaxFrame = 1500 + 14 + 4;
  static constexpr size_t kTxSlots = 256;

  // Creates the stack and binds every forward's host port now, so a taken
  // or unusable port is an error before the guest boots. Errors start with
  // "--net user".
  static devices::Result<std::unique_ptr<SlirpNet>> open(const SlirpNetOptions& options);
  ~SlirpNet() override;

  std::string describe() const override { return "user"; }
  void start(devices::virtio::NetReceiver& receiver) override;
  bool send(std::span<const std::span<const std::byte>> parts) override;

  struct Impl;

 private:
  explicit SlirpNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backends
