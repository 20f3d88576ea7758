// virtio-net (virtio 1.2 §5.1) over a NetBackend: receiveq 0, transmitq 1,
// no control queue, one queue pair. Offers MAC, STATUS (link always up),
// MRG_RXBUF, and the checksum/TSO offloads the backend takes (none for
// user-mode networking).
//
// Transmit: each chain is one frame behind a 12-byte virtio_net_hdr_v1. The
// header and the length are checked before the backend sees anything: a
// frame shorter than an Ethernet header or longer than kMaxFrameBytes, or a
// header asking for an offload that was not negotiated (or pointing its
// checksum outside the frame), is dropped and counted; the chain goes back
// used and the device carries on. Only a broken ring stops the device.
//
// Receive: a frame goes straight into the guest's receive buffers when it
// has some; otherwise it waits in a bounded queue (kRxPending frames) that
// drains when the driver adds buffers; when that queue is full the frame is
// dropped and counted, so a flood cannot grow the VMM's memory. With
// MRG_RXBUF a frame may span several chains (num_buffers says how many) and
// they reach the used ring together.
//
// No allocation per frame once warm: the device reuses its chains, its
// gather list and the pending queue's slots.
//
// Thread safety: notify (the device's I/O thread), receive (the backend's
// thread) and reset (a vCPU thread) may race; one mutex guards the state.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/net_backend.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

struct VirtioNetStats {
  uint64_t tx_frames = 0;          // handed to the backend
  uint64_t tx_bytes = 0;           // their Ethernet bytes
  uint64_t tx_too_short = 0;       // dropped: shorter than header + Ethernet header
  uint64_t tx_too_long = 0;        // dropped: longer than kMaxFrameBytes
  uint64_t tx_bad_header = 0;      // dropped: an offload not negotiated, a checksum outside the frame
  uint64_t tx_backend_dropped = 0; // the backend refused (its queue full)
  uint64_t rx_frames = 0;          // delivered to the guest
  uint64_t rx_bytes = 0;
  uint64_t rx_dropped_full = 0;    // dropped: no guest buffers and the pending queue full
  uint64_t rx_dropped_bad = 0;     // dropped: malformed from the backend, or bigger than the guest could take
};

class VirtioNet final : public VirtioDevice, private NetReceiver {
 public:
  // Feature bits (virtio 1.2 §5.1.3).
  static constexpr uint64_t kFCsum = 1ull << 0;
  static constexpr uint64_t kFGuestCsum = 1ull << 1;
  static constexpr uint64_t kFMac = 1ull << 5;
  static constexpr uint64_t kFGuestTso4 = 1ull << 7;
  static constexpr uint64_t kFGuestTso6 = 1ull << 8;
  static constexpr uint64_t kFGuestEcn = 1ull << 9;
  static constexpr uint64_t kFGuestUfo = 1ull << 10;
  static constexpr uint64_t kFHostTso4 = 1ull << 11;
  static constexpr uint64_t kFHostTso6 = 1ull << 12;
  static constexpr uint64_t kFHostEcn = 1ull << 13;
  static constexpr uint64_t kFHostUfo = 1ull << 14;
  static constexpr uint64_t kFMrgRxbuf = 1ull << 15;
  static constexpr uint64_t kFStatus = 1ull << 16;
  static constexpr uint64_t kOffloadMask = kFCsum | kFGuestCsum | kFGuestTso4 | kFGuestTso6 | kFGuestEcn |
                                           kFGuestUfo | kFHostTso4 | kFHostTso6 | kFHostEcn | kFHostUfo;

  // virtio_net_hdr flags and gso types (§5.1.6).
  static constexpr uint8_t kHdrFNeedsCsum = 1;
  static constexpr uint8_t kHdrFDataValid = 2;
  static constexpr uint8_t kGsoNone = 0, kGsoTcpv4 = 1, kGsoUdp = 3, kGsoTcpv6 = 4, kGsoEcn = 0x80;
  static constexpr uint16_t kStatusLinkUp = 1;

  static constexpr uint16_t kReceiveQueue = 0;
  static constexpr uint16_t kTransmitQueue = 1;
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint32_t kHdrBytes = sizeof(VirtioNetHdr);
  static constexpr uint32_t kEthHeaderBytes = 14;
  // The largest frame either way: a 64 KiB IP packet (a TSO super-frame, or
  // a guest MTU of 65535) behind an Ethernet header and one VLAN tag.
  static constexpr uint32_t kMaxFrameBytes = 65535 + kEthHeaderBytes + 4;
  static constexpr size_t kRxPending = 256;
  // mac[6], status u16, max_virtqueue_pairs u16.
  static constexpr uint32_t kConfigSize = 10;

  using Mac = std::array<uint8_t, 6>;

  VirtioNet(std::unique_ptr<NetBackend> backend, Mac mac);
  ~VirtioNet() override;

  DeviceType type() const override { return DeviceType::kNet; }
  std::string_view name() const override { return "virtio-net"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 2; }
  uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
  uint32_t config_size() const override { return kConfigSize; }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void start_threads() override;
  void notify(uint16_t queue) override;
  void reset() override;

  const Mac& mac() const { return mac_; }
  VirtioNetStats stats() const;
  // Frames waiting for guest receive buffers.
  size_t rx_pending() const;
  // A frame for the guest, as the backend would deliver it (tests; the
  // backend's thread calls the same through NetReceiver).
  void inject(std::span<const std::byte> frame) { receive(frame); }

 private:
  void receive(std::span<const std::byte> frame) override;
  void transmit();  // mutex_ held
  void drain_pending();  // mutex_ held
  // Puts one frame (Ethernet bytes, with `hdr` in front) into receive
  // buffers: kDelivered, kNoRoom (not enough buffers yet: nothing consumed)
  // or kTooBig (it can never fit: drop it).
  enum class Put { kDelivered, kNoRoom, kTooBig, kBroken };
  Put put_frame(const VirtioNetHdr& hdr, std::span<const std::byte> frame);  // mutex_ held
  void fail(uint16_t queue, const std::string& error);  // mutex_ held
  bool header_ok(const VirtioNetHdr& hdr, uint64_t frame_len) const;

  struct Pending {
    std::vector<std::byte> bytes;  // capacity kept across uses
    size_t len = 0;
  };

  Mac mac_;
  std::array<std::byte, kConfigSize> config_{};
  mutable std::mutex mutex_;
  bool active_ = false;
  bool failed_ = false;
  bool started_ = false;
  uint64_t features_ = 0;
  Virtqueue* rx_ = nullptr;
  Virtqueue* tx_ = nullptr;
  TransportHooks* hooks_ = nullptr;
  VirtioNetStats stats_;
  // Reused on every frame.
  Chain tx_chain_;
  std::vector<Chain> rx_chains_;
  std::vector<std::span<const std::byte>> parts_;
  std::vector<Pending> pending_;
  size_t pending_head_ = 0, pending_count_ = 0;
  // Last: destroyed (its thread joined) before anything it delivers into.
  std::unique_ptr<NetBackend> backend_;
};

// A stable locally administered MAC for device `index` of a VM:
// 52:54:00:12:34:(0x56 + index), QEMU's default for its first NIC onwards.
VirtioNet::Mac default_mac(uint32_t index);

}  // namespace devices::virtio
