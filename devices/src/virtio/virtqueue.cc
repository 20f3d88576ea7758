#include "devices/virtio/virtqueue.h"

#include <atomic>
#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace devices::virtio {

namespace {

constexpr uint16_t kDescFNext = 1;
constexpr uint16_t kDescFWrite = 2;
constexpr uint16_t kDescFIndirect = 4;
constexpr uint16_t kAvailFNoInterrupt = 1;
constexpr uint64_t kDescSize = 16;
constexpr uint64_t kMaxChainBytes = 0xffff'ffffull;  // used.len is 32 bits

// The rings are little-endian (virtio 1.x); every host we build for is too.
static_assert(std::endian::native == std::endian::little);

uint64_t avail_ring_bytes(uint16_t size) { return 6 + 2ull * size; }
uint64_t used_ring_bytes(uint16_t size) { return 6 + 8ull * size; }

// The driver writes these concurrently from another CPU: every shared index
// goes through atomic_ref so the compiler neither tears nor caches it.
uint16_t load_u16(std::byte* p, std::memory_order order) {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(order);
}
void store_u16(std::byte* p, uint16_t v, std::memory_order order) {
  std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, order);
}

}  // namespace

uint64_t Chain::readable_bytes() const {
  uint64_t n = 0;
  for (const auto& b : readable) n += b.len;
  return n;
}

uint64_t Chain::writable_bytes() const {
  uint64_t n = 0;
  for (const auto& b : writable) n += b.len;
  return n;
}

// A fresh queue's size register holds the maximum: virtio-pci drivers read
// queue_size before writing it and treat 0 as "no such queue".
Virtqueue::Virtqueue(uint16_t max_size)
    : max_size_(max_size == 0 || max_size > kMaxSize ? kMaxSize : max_size), size_(max_size_) {}

void Virtqueue::reset() {
  size_ = max_size_;
  desc_addr_ = avail_addr_ = used_addr_ = 0;
  ready_ = false;
  memory_ = nullptr;
  desc_ = avail_ = used_ = nullptr;
  event_idx_ = indirect_ = false;
  broken_.clear();
  last_avail_ = used_idx_ = published_used_ = signalled_used_ = 0;
}

std::optional<std::string> Virtqueue::activate(loader::GuestMemory& memory, bool event_idx, bool indirect) {
  memory_ = nullptr;
  if (size_ == 0 || size_ > max_size_ || !std::has_single_bit(size_)) {
    return fmt::format("queue size {} is not a power of two in 1..{}", size_, max_size_);
  }
  struct Ring {
    const char* name;
    uint64_t addr;
    uint64_t align;
    uint64_t bytes;
    std::byte** host;
  };
  const Ring rings[] = {
      {"descriptor table", desc_addr_, 16, kDescSize * size_, &desc_},
      {"available ring", avail_addr_, 2, avail_ring_bytes(size_), &avail_},
      {"used ring", used_addr_, 4, used_ring_bytes(size_), &used_},
  };
  for (const Ring& r : rings) {
    if (r.addr % r.align != 0) {
      return fmt::format("{} address {:#x} is not {}-byte aligned", r.name, r.addr, r.align);
    }
    auto span = memory.host_span(loader::GuestAddress(r.addr), r.bytes);
    if (!span) {
      return fmt::format("{} [{:#x}, +{:#x}) is not inside one guest RAM region", r.name, r.addr, r.bytes);
    }
    *r.host = span->data();
  }
  memory_ = &memory;
  event_idx_ = event_idx;
  indirect_ = indirect;
  broken_.clear();
  last_avail_ = used_idx_ = published_used_ = signalled_used_ = 0;
  return std::nullopt;
}

std::optional<std::string> Virtqueue::fail(std::string message) {
  broken_ = std::move(message);
  return broken_;
}

uint16_t Virtqueue::load_avail_idx() const { return load_u16(avail_ + 2, std::memory_order_acquire); }

void Virtqueue::store_avail_event() {
  if (event_idx_) store_u16(used_ + 4 + 8ull * size_, last_avail_, std::memory_order_relaxed);
}

bool Virtqueue::has_available() const {
  if (memory_ == nullptr || !broken_.empty()) return false;
  return load_avail_idx() != last_avail_;
}

std::optional<Chain> Virtqueue::pop(std::string& error) {
  Chain chain;
  if (!pop_into(chain, error)) return std::nullopt;
  return chain;
}

bool Virtqueue::pop_into(Chain& chain, std::string& error) {
  chain.readable.clear();
  chain.writable.clear();
  if (memory_ == nullptr) return false;
  if (!broken_.empty()) {
    error = broken_;
    return false;
  }
  uint16_t avail_idx = load_avail_idx();
  if (avail_idx == last_avail_) {
    if (!event_idx_) return false;
    // Publish where we stopped, then look again: a buffer added between the
    // first look and the avail_event store would otherwise never be notified.
    store_avail_event();
    std::atomic_thread_fence(std::memory_order_seq_cst);
    avail_idx = load_avail_idx();
    if (avail_idx == last_avail_) return false;
  }
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending > size_) {
    error = *fail(fmt::format("available index {} is {} entries ahead of the last one seen ({}), queue size {}",
                              avail_idx, pending, last_avail_, size_));
    return false;
  }
  uint16_t head = 0;
  std::memcpy(&head, avail_ + 4 + 2ull * (last_avail_ % size_), sizeof head);
  chain.head = head;
  if (auto why = walk_chain(head, chain)) {
    error = *fail(fmt::format("chain at available slot {} (head {}): {}", last_avail_ % size_, head, *why));
    return false;
  }
  ++last_avail_;
  store_avail_event();
  return true;
}

void Virtqueue::unpop(uint16_t count) {
  if (memory_ == nullptr) return;
  last_avail_ = static_cast<uint16_t>(last_avail_ - count);
  store_avail_event();
}

std::optional<std::string> Virtqueue::add_buffer(const Desc& d, const char* where, uint32_t index, Chain& chain,
                                                 uint64_t& total) {
  const bool writable = (d.flags & kDescFWrite) != 0;
  if (!writable && !chain.writable.empty()) {
    return fmt::format("{} descriptor {} is driver-readable but follows a device-writable one", where, index);
  }
  uint64_t end = 0;
  if (__builtin_add_overflow(d.addr, uint64_t{d.len}, &end)) {
    return fmt::format("{} descriptor {}: address {:#x} + length {:#x} overflows", where, index, d.addr, d.len);
  }
  total += d.len;
  if (total > kMaxChainBytes) {
    return fmt::format("{} descriptor {}: chain length {:#x} exceeds 4 GiB", where, index, total);
  }
  if (d.len == 0) return std::nullopt;  // nothing to map, nothing to touch
  auto span = memory_->host_span(loader::GuestAddress(d.addr), d.len);
  if (!span) {
    return fmt::format("{} descriptor {}: buffer [{:#x}, +{:#x}) is not inside one guest RAM region", where,
                       index, d.addr, d.len);
  }
  Buffer b{d.addr, d.len, *span};
  (writable ? chain.writable : chain.readable).push_back(b);
  return std::nullopt;
}

std::optional<std::string> Virtqueue::walk_chain(uint16_t head, Chain& chain) {
  uint64_t total = 0;
  uint32_t count = 0;
  uint16_t index = head;
  for (;;) {
    if (index >= size_) return fmt::format("descriptor index {} is outside the queue (size {})", index, size_);
    // Counting catches both a next-loop and an overlong chain: a valid chain
    // visits each descriptor of the table at most once.
    if (++count > size_) return fmt::format("chain is longer than the queue size {} (a next loop?)", size_);
    Desc d;
    // One copy per descriptor: the guest may rewrite the table while we look,
    // so every check below works on this private snapshot.
    std::memcpy(&d, desc_ + kDescSize * index, sizeof d);
    if (d.flags & kDescFIndirect) {
      if (!indirect_) return fmt::format("descriptor {} is INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated", index);
      if (d.flags & kDescFNext) return fmt::format("descriptor {} has both INDIRECT and NEXT set", index);
      if (d.len == 0 || d.len % kDescSize != 0) {
        return fmt::format("indirect table at descriptor {} has length {:#x}, not a non-zero multiple of 16", index,
                           d.len);
      }
      auto table = memory_->host_span(loader::GuestAddress(d.addr), d.len);
      if (!table) {
        return fmt::format("indirect table at descriptor {}: [{:#x}, +{:#x}) is not inside one guest RAM region",
                           index, d.addr, d.len);
      }
      const uint32_t entries = d.len / kDescSize;
      uint32_t i = 0;
      uint32_t seen = 0;
      for (;;) {
        if (++seen > entries) return fmt::format("indirect table at {:#x} loops or has more than {} entries", d.addr, entries);
        Desc e;
        std::memcpy(&e, table->data() + kDescSize * i, sizeof e);
        if (e.flags & kDescFIndirect) return fmt::format("indirect descriptor {} at {:#x} is itself INDIRECT (nested)", i, d.addr);
        if (auto why = add_buffer(e, "indirect", i, chain, total)) return why;
        if (!(e.flags & kDescFNext)) break;
        if (e.next >= entries) {
          return fmt::format("indirect descriptor {} at {:#x}: next {} is outside the table of {} entries", i, d.addr,
                             e.next, entries);
        }
        i = e.next;
      }
      // INDIRECT without NEXT was checked above: the indirect table ends the chain.
      return std::nullopt;
    }
    if (auto why = add_buffer(d, "", index, chain, total)) return why;
    if (!(d.flags & kDescFNext)) return std::nullopt;
    index = d.next;
  }
}

void Virtqueue::push_used(uint16_t head, uint32_t written, bool publish) {
  if (memory_ == nullptr) return;
  struct {
    uint32_t id;
    uint32_t len;
  } elem{head, written};
  std::memcpy(used_ + 4 + 8ull * (used_idx_ % size_), &elem, sizeof elem);
  ++used_idx_;
  if (publish) publish_used();
}

void Virtqueue::publish_used() {
  if (memory_ == nullptr || published_used_ == used_idx_) return;
  published_used_ = used_idx_;
  // Release: the elements (and the data the device wrote into the buffers)
  // must be visible before the driver sees the new index.
  store_u16(used_ + 2, used_idx_, std::memory_order_release);
}

bool Virtqueue::needs_interrupt() {
  if (memory_ == nullptr) return false;
  // Our used-index store must be ordered before reading the driver's
  // suppression fields, or we may miss a driver that just re-enabled them.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t old = signalled_used_;
  const uint16_t now = published_used_;
  signalled_used_ = now;
  if (old == now) return false;
  if (event_idx_) {
    const uint16_t used_event = load_u16(avail_ + 4 + 2ull * size_, std::memory_order_relaxed);
    // vring_need_event (virtio 1.2 §2.7.10): interrupt when used_event lies in [old, now).
    return static_cast<uint16_t>(now - used_event - 1) < static_cast<uint16_t>(now - old);
  }
  return (load_u16(avail_, std::memory_order_relaxed) & kAvailFNoInterrupt) == 0;
}

}  // namespace devices::virtio
