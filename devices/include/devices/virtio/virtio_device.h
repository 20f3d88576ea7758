// The transport-neutral seam of the virtio layer (virtio 1.2 §2-§4): a
// device model (blk, console, rng, ...) implements VirtioDevice; a transport
// (virtio-pci, virtio-mmio) owns the status/feature/queue registers, walks
// nothing itself and hands the device configured queues when the driver sets
// DRIVER_OK. A device is pure logic over guest memory: no KVM, no threads of
// its own; whatever touches the host OS sits behind a backend interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/guest_memory.h"

namespace devices::virtio {

class Virtqueue;

// Device IDs (virtio 1.2 §5).
enum class DeviceType : uint32_t {
  kNet = 1,
  kBlock = 2,
  kConsole = 3,
  kEntropy = 4,
  k9p = 9,
  kFs = 26,
};

// Transport-independent feature bits (virtio 1.2 §6).
inline constexpr uint64_t kFIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFEventIdx = 1ull << 29;
inline constexpr uint64_t kFVersion1 = 1ull << 32;

// Device status bits (virtio 1.2 §2.1).
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

// What a device may ask of its transport. Implemented by the transports;
// callable from any thread.
class TransportHooks {
 public:
  virtual ~TransportHooks() = default;
  // The device put buffers in queue's used ring: interrupt the driver (the
  // queue's MSI-X vector, or ISR bit 0 + INTx / the MMIO interrupt). The
  // device asks Virtqueue::needs_interrupt() first and calls this only when
  // the driver did not suppress it; the transport interrupts unconditionally
  // (needs_interrupt consumes its state, so only one side may call it).
  virtual void signal_used(uint16_t queue) = 0;
  // The device changed its configuration space.
  virtual void signal_config() = 0;
  // The guest broke the protocol (a malformed queue, ...): set
  // DEVICE_NEEDS_RESET, tell the driver, log `why` once. The device stops
  // processing until the driver resets it.
  virtual void device_error(std::string_view why) = 0;
};

// Everything a device gets when the driver sets DRIVER_OK.
struct Activation {
  loader::GuestMemory* memory = nullptr;
  uint64_t features = 0;                  // the negotiated set
  std::vector<Virtqueue*> queues;         // index = queue number; nullptr where the driver left a queue disabled
  TransportHooks* hooks = nullptr;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual DeviceType type() const = 0;
  // Short name for logs and --dry-run ("virtio-blk", "virtio-rng").
  virtual std::string_view name() const = 0;
  // Every feature the device offers, VERSION_1 included (the transport
  // refuses a driver that does not accept VERSION_1).
  virtual uint64_t device_features() const = 0;
  virtual uint16_t num_queues() const = 0;
  virtual uint16_t max_queue_size(uint16_t /*queue*/) const { return 256; }

  // Device-specific configuration space (virtio 1.2 §4.1.4.6). Reads past
  // the end read as zero; writes there are ignored.
  virtual uint32_t config_size() const = 0;
  virtual void read_config(uint32_t offset, std::span<std::byte> data) = 0;
  virtual void write_config(uint32_t /*offset*/, std::span<const std::byte> /*data*/) {}

  // DRIVER_OK: the queues are configured and ready. Returns false (with a
  // reason) when the device cannot work with what the driver set up.
  virtual bool activate(const Activation& activation, std::string& why) = 0;
  // The driver notified `queue` (an ioeventfd fired or a notify write).
  // Called from an I/O thread; never from two threads at once for one device.
  virtual void notify(uint16_t queue) = 0;
  // The driver wrote 0 to the status: forget the activation, stop using the
  // queues and guest memory. Must not return while a request still touches them.
  virtual void reset() = 0;

  // A device whose backend completes work asynchronously (virtio-blk on
  // io_uring) names a file descriptor here (an eventfd); the I/O thread
  // watches it next to the queue doorbells and calls backend_event() on each
  // wake-up. -1: nothing to watch. Fixed once the device is built.
  virtual int backend_event_fd() const { return -1; }
  // Called on the device's I/O thread: collect what the backend finished.
  virtual void backend_event() {}
  // Starts threads the device's backend runs on its own (a network
  // backend's receive loop). The VMM calls it once, after set-up and once
  // the sandbox is ready, from the main thread: threads are never created
  // on a vCPU (its seccomp filter forbids clone).
  virtual void start_threads() {}
};

}  // namespace devices::virtio
