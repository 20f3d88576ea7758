// A TAP interface as a virtio-net backend (Firecracker's and QEMU's
// `-netdev tap`): /dev/net/tun opened with IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR, so every frame carries the virtio_net_hdr_v1 (12 bytes,
// TUNSETVNETHDRSZ) and the checksum and TSO offloads pass straight through;
// TUNSETOFFLOAD tells the kernel which the guest accepted.
//
// The interface must exist (`ip tuntap add NAME mode tap`), or the VMM needs
// CAP_NET_ADMIN to create it. Receive runs on the backend's own thread (a
// poll loop reading the fd into one reused buffer); send is a non-blocking
// writev from the device's I/O thread, dropped when the kernel's queue is full.
#pragma once

#include <memory>
#include <string>

#include "devices/error.h"
#include "devices/virtio/net_backend.h"

namespace backends {

class TapNet final : public devices::virtio::NetBackend {
 public:
  // Errors start with "--net tap=IFNAME".
  static devices::Result<std::unique_ptr<TapNet>> open(const std::string& ifname);
  ~TapNet() override;

  std::string describe() const override;
  bool vnet_header() const override { return true; }
  uint64_t offload_features() const override;
  void set_offloads(uint64_t negotiated) override;
  void start(devices::virtio::NetReceiver& receiver) override;
  bool send(std::span<const std::span<const std::byte>> parts) override;

  struct Impl;

 private:
  explicit TapNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backends
