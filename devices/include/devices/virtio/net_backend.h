// The host side of a virtio-net device: something that carries Ethernet
// frames (libslirp's user-mode stack, a TAP interface). The device model only
// moves frames between the guest's queues and this interface, so it holds no
// socket, thread or library of its own.
//
// Frames cross in both directions with or without the 12-byte
// virtio_net_hdr_v1 in front, as vnet_header() says: a TAP opened with
// IFF_VNET_HDR takes and gives the header (checksum/GSO metadata), a
// user-mode stack wants plain Ethernet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace devices::virtio {

// virtio_net_hdr_v1 (virtio 1.2 §5.1.6): the layout on the wire and in guest memory.
struct VirtioNetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  uint16_t num_buffers = 0;
};
static_assert(sizeof(VirtioNetHdr) == 12);

// Where a backend delivers frames for the guest. Called from the backend's
// own thread; the implementation serialises itself.
class NetReceiver {
 public:
  virtual ~NetReceiver() = default;
  // One frame (with the header in front when the backend's vnet_header()).
  // The span is only valid during the call.
  virtual void receive(std::span<const std::byte> frame) = 0;
};

class NetBackend {
 public:
  virtual ~NetBackend() = default;
  // "user" or "tap:IFNAME", for logs.
  virtual std::string describe() const = 0;
  // Whether frames carry a VirtioNetHdr in both directions.
  virtual bool vnet_header() const { return false; }
  // The virtio-net offload feature bits (CSUM, GUEST_CSUM, HOST_TSO4, ...)
  // this backend can take; the device offers exactly these.
  virtual uint64_t offload_features() const { return 0; }
  // The offloads the driver accepted (a subset of offload_features()), at
  // activation: a TAP tells the kernel which kinds of packet it may hand over.
  // Called on a vCPU thread: a backend hands the change to its own thread
  // rather than making the call there (the vCPU's sandbox has no TAP ioctls).
  virtual void set_offloads(uint64_t /*negotiated*/) {}
  // Starts the backend's thread, which delivers frames to `receiver` until
  // the backend is destroyed. Called once, when the VMM starts its threads
  // (VirtioDevice::start_threads): after set-up, never from a vCPU, which
  // may not create threads.
  virtual void start(NetReceiver& receiver) = 0;
  // Sends one frame, gathered from `parts` (the header first when
  // vnet_header()). Must not block and must not call back into the receiver
  // on this thread; returns false when the frame was dropped (the backend's
  // queue was full or the host refused it).
  virtual bool send(std::span<const std::span<const std::byte>> parts) = 0;
  // What the backend's thread runs first: the VMM installs that thread's
  // seccomp filter there (the backend knows nothing of sandboxes).
  void set_thread_entry(std::function<void()> entry) { thread_entry_ = std::move(entry); }

 protected:
  void enter_thread() const {
    if (thread_entry_) thread_entry_();
  }

 private:
  std::function<void()> thread_entry_;
};

}  // namespace devices::virtio
