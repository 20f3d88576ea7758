// A split virtqueue (virtio 1.2 §2.7) over untrusted guest memory. The
// transport configures it (size, the three ring addresses, enable); the
// device pops descriptor chains and pushes used elements. Every index,
// address, length and flag the guest wrote is checked: a chain that loops,
// is longer than the queue, points outside guest RAM, nests indirect tables
// or whose lengths overflow is refused with a reason (the device then calls
// TransportHooks::device_error); nothing outside guest RAM is ever touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loader/guest_memory.h"

namespace devices::virtio {

// One guest buffer of a chain, already checked to lie inside one guest RAM region.
struct Buffer {
  uint64_t addr = 0;
  uint32_t len = 0;
  std::span<std::byte> host;  // host view of [addr, addr+len)
};

// A popped descriptor chain: the driver-readable buffers come first, then
// the device-writable ones (a readable one after a writable one is refused).
struct Chain {
  uint16_t head = 0;
  std::vector<Buffer> readable;
  std::vector<Buffer> writable;
  uint64_t readable_bytes() const;
  uint64_t writable_bytes() const;
};

class Virtqueue {
 public:
  static constexpr uint16_t kMaxSize = 32768;

  explicit Virtqueue(uint16_t max_size = 256);

  // Transport side (register writes). Sizes must be powers of two up to max_size.
  uint16_t max_size() const { return max_size_; }
  uint16_t size() const { return size_; }
  void set_size(uint16_t size) { size_ = size; }
  void set_desc_addr(uint64_t addr) { desc_addr_ = addr; }
  void set_avail_addr(uint64_t addr) { avail_addr_ = addr; }
  void set_used_addr(uint64_t addr) { used_addr_ = addr; }
  uint64_t desc_addr() const { return desc_addr_; }
  uint64_t avail_addr() const { return avail_addr_; }
  uint64_t used_addr() const { return used_addr_; }
  void set_ready(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }
  // Back to the state after a device reset.
  void reset();

  // Device side, after activation. `event_idx`: VIRTIO_F_EVENT_IDX negotiated;
  // `indirect`: VIRTIO_F_INDIRECT_DESC negotiated.
  // Checks that the rings lie in guest memory (size must be valid);
  // returns a reason when not.
  std::optional<std::string> activate(loader::GuestMemory& memory, bool event_idx, bool indirect);

  // The next available chain; std::nullopt when the ring is empty. A
  // malformed chain or ring sets `error` (and the queue stays broken).
  std::optional<Chain> pop(std::string& error);
  // The same into `chain`, reusing its buffers' storage (a device on a hot
  // path keeps one Chain and allocates nothing per request). Returns false
  // when nothing was popped (`error` says whether the ring is broken).
  bool pop_into(Chain& chain, std::string& error);
  // Gives back the last `count` popped chains unused (they become available
  // again, in order): a device that found too few buffers for a whole packet.
  void unpop(uint16_t count);
  // Returns a chain to the used ring with `written` bytes written by the
  // device. With `publish` false the element is written but the used index
  // is not moved until publish_used(): a packet spread over several chains
  // (virtio-net mergeable receive buffers) reaches the driver all at once.
  void push_used(uint16_t head, uint32_t written, bool publish = true);
  void publish_used();
  // Whether the driver wants an interrupt for what was pushed since the last call
  // (VRING_AVAIL_F_NO_INTERRUPT or used_event with EVENT_IDX).
  bool needs_interrupt();
  // Available chains not yet popped (0 before activation or once broken).
  // Lets a device with nothing to give (console receive) leave buffers queued.
  bool has_available() const;

 private:
  struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
  };
  std::optional<std::string> fail(std::string message);
  uint16_t load_avail_idx() const;
  void store_avail_event();
  std::optional<std::string> walk_chain(uint16_t head, Chain& chain);
  std::optional<std::string> add_buffer(const Desc& d, const char* where, uint32_t index, Chain& chain,
                                        uint64_t& total);

  uint16_t max_size_;
  uint16_t size_ = 0;
  uint64_t desc_addr_ = 0, avail_addr_ = 0, used_addr_ = 0;
  bool ready_ = false;
  // Set by activate(): host views of the three rings (each checked to lie in one region).
  loader::GuestMemory* memory_ = nullptr;
  std::byte* desc_ = nullptr;
  std::byte* avail_ = nullptr;
  std::byte* used_ = nullptr;
  bool event_idx_ = false;
  bool indirect_ = false;
  std::string broken_;  // non-empty once the driver broke the ring
  uint16_t last_avail_ = 0;
  uint16_t used_idx_ = 0;        // the next element goes here
  uint16_t published_used_ = 0;  // what the driver sees in used->idx
  uint16_t signalled_used_ = 0;
};

}  // namespace devices::virtio
