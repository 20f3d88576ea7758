// virtio-blk (virtio 1.2 §5.2) over a BlockBackend: one request queue,
// requests IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES; anything else
// completes with VIRTIO_BLK_S_UNSUPP.
//
// Capacity is the image size in 512-byte sectors, rounded DOWN: the tail of
// an image whose size is not a multiple of 512 is unreachable from the guest
// (neither read nor written), as with QEMU's raw driver.
//
// Every request is checked before the backend sees it: a 16-byte readable
// header, a status byte (the last writable byte), sector + length inside the
// capacity without overflow, IN/OUT data lengths in whole sectors, bounded
// discard/write-zeroes segments. Writes to a read-only image fail with
// VIRTIO_BLK_S_IOERR and never reach the backend. A chain with no status
// byte cannot be answered at all: that is a broken driver, and the device
// asks for a reset.
//
// Reads and writes: when the backend offers an AsyncBlockIo, every read and
// write popped in one notification is queued and submitted together; each
// completion (collected by backend_event() on the I/O thread) writes its
// status, pushes its chain and interrupts. At most the backend's capacity is
// in flight: with every tag busy the device leaves the rest in the avail ring
// until one completes. FLUSH, DISCARD and WRITE_ZEROES wait for what is in
// flight first (a flush covers every write completed before it, so the
// simplest barrier is the safe one); reset() waits for every request before
// it returns, since the guest may reuse the buffers. Without an AsyncBlockIo
// each request runs synchronously in notify().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/virtio/block_backend.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

class VirtioBlk final : public VirtioDevice {
 public:
  // Feature bits (virtio 1.2 §5.2.3).
  static constexpr uint64_t kFSegMax = 1ull << 2;
  static constexpr uint64_t kFRo = 1ull << 5;
  static constexpr uint64_t kFBlkSize = 1ull << 6;
  static constexpr uint64_t kFFlush = 1ull << 9;
  static constexpr uint64_t kFDiscard = 1ull << 13;
  static constexpr uint64_t kFWriteZeroes = 1ull << 14;

  // Request types and status values (§5.2.6).
  static constexpr uint32_t kTIn = 0, kTOut = 1, kTFlush = 4, kTGetId = 8, kTDiscard = 11, kTWriteZeroes = 13;
  static constexpr uint8_t kSOk = 0, kSIoErr = 1, kSUnsupp = 2;
  static constexpr uint32_t kWriteZeroesFUnmap = 1;

  static constexpr uint32_t kSectorSize = 512;
  static constexpr uint32_t kIdBytes = 20;
  static constexpr uint16_t kQueueSize = 256;
  // Limits the device advertises for DISCARD / WRITE_ZEROES (one segment:
  // 16 bytes; 2 GiB per segment keeps the byte length in 32 bits).
  static constexpr uint32_t kMaxDiscardSectors = 0x400000;
  static constexpr uint32_t kMaxDiscardSegments = 32;
  static constexpr uint32_t kMaxWriteZeroesSectors = 0x400000;
  static constexpr uint32_t kMaxWriteZeroesSegments = 32;
  // Config space layout (struct virtio_blk_config) up to write_zeroes_may_unmap.
  static constexpr uint32_t kConfigSize = 60;

  // `serial` is returned by GET_ID (at most 20 bytes are used).
  explicit VirtioBlk(std::unique_ptr<BlockBackend> backend, std::string serial = {});

  DeviceType type() const override { return DeviceType::kBlock; }
  std::string_view name() const override { return "virtio-blk"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 1; }
  uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
  uint32_t config_size() const override { return kConfigSize; }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void notify(uint16_t queue) override;
  void reset() override;
  int backend_event_fd() const override;
  void backend_event() override;

  uint64_t capacity_sectors() const { return capacity_; }
  BlockBackend& backend() { return *backend_; }

 private:
  struct Outcome {
    uint8_t status;
    uint32_t written;  // bytes written into the chain before the status byte
  };
  // What the device still owes an asynchronous request when it completes.
  struct InFlight {
    uint16_t head = 0;
    uint32_t written = 0;           // data bytes on success
    std::byte* status = nullptr;    // the chain's status byte (guest memory)
  };
  // Pops and serves chains until the ring is empty or every tag is busy.
  void process();
  // `queued` is set when a read or write went to the async path: the
  // returned outcome is then meaningless and the chain completes later.
  Outcome handle(const Chain& chain, bool& queued);
  // Starts a read or write on the async path under a free tag.
  bool queue_async(const Chain& chain, bool write, uint64_t offset, uint64_t bytes);
  void complete(uint32_t tag, bool ok);
  // Submits what is queued and waits for everything in flight.
  void drain();
  // Interrupts the driver once for everything pushed since the last call.
  void maybe_interrupt();
  uint8_t handle_segments(uint32_t type, const Chain& chain);
  bool range_ok(uint64_t sector, uint64_t bytes) const;

  std::unique_ptr<BlockBackend> backend_;
  std::array<std::byte, kIdBytes> id_{};
  uint64_t capacity_;
  std::array<std::byte, kConfigSize> config_{};
  std::mutex mutex_;
  bool active_ = false;
  bool failed_ = false;
  uint64_t features_ = 0;
  Virtqueue* queue_ = nullptr;
  TransportHooks* hooks_ = nullptr;
  AsyncBlockIo* async_ = nullptr;     // the backend's, or nullptr: synchronous
  std::vector<InFlight> in_flight_;   // index = tag
  std::vector<uint32_t> free_tags_;
  bool pushed_ = false;               // used entries pushed, interrupt not yet considered
};

}  // namespace devices::virtio
