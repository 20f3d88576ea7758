// The driver side of a split virtqueue, for tests, seed writers and fuzzers:
// lays out a descriptor table, an available and a used ring in GuestMemory
// exactly as a guest driver would (virtio 1.2 §2.7), so the device side can
// be tested byte for byte. Header-only so the fuzz targets can use it too.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

#include "loader/guest_memory.h"

namespace test_support {

inline constexpr uint16_t kVirtqDescNext = 1;
inline constexpr uint16_t kVirtqDescWrite = 2;
inline constexpr uint16_t kVirtqDescIndirect = 4;

struct DriverBuffer {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

class DriverQueue {
 public:
  DriverQueue(loader::GuestMemory& mem, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
      : mem_(&mem), size_(size), desc_(desc), avail_(avail), used_(used) {}

  uint16_t size() const { return size_; }
  uint64_t desc_addr() const { return desc_; }
  uint64_t avail_addr() const { return avail_; }
  uint64_t used_addr() const { return used_; }

  void write_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    write_desc_at(desc_ + 16ull * i, addr, len, flags, next);
  }
  void write_desc_at(uint64_t where, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    put<uint64_t>(where, addr);
    put<uint32_t>(where + 8, len);
    put<uint16_t>(where + 12, flags);
    put<uint16_t>(where + 14, next);
  }

  // Puts `head` in the next available slot and bumps the index.
  void publish(uint16_t head) {
    uint16_t idx = avail_idx();
    put<uint16_t>(avail_ + 4 + 2ull * (idx % size_), head);
    set_avail_idx(static_cast<uint16_t>(idx + 1));
  }
  // Writes a chain of buffers into consecutive descriptors from next_desc_
  // and publishes it; returns the head.
  uint16_t add_chain(const std::vector<DriverBuffer>& bufs) {
    uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      uint16_t idx = static_cast<uint16_t>((head + i) % size_);
      bool last = i + 1 == bufs.size();
      uint16_t flags = static_cast<uint16_t>((bufs[i].writable ? kVirtqDescWrite : 0) | (last ? 0 : kVirtqDescNext));
      write_desc(idx, bufs[i].addr, bufs[i].len, flags, static_cast<uint16_t>((idx + 1) % size_));
    }
    next_desc_ = static_cast<uint16_t>((head + bufs.size()) % size_);
    publish(head);
    return head;
  }
  // One INDIRECT descriptor pointing at a table at `table` holding `bufs`.
  uint16_t add_indirect_chain(uint64_t table, const std::vector<DriverBuffer>& bufs) {
    for (size_t i = 0; i < bufs.size(); ++i) {
      bool last = i + 1 == bufs.size();
      uint16_t flags = static_cast<uint16_t>((bufs[i].writable ? kVirtqDescWrite : 0) | (last ? 0 : kVirtqDescNext));
      write_desc_at(table + 16 * i, bufs[i].addr, bufs[i].len, flags, static_cast<uint16_t>(i + 1));
    }
    uint16_t head = next_desc_;
    write_desc(head, table, static_cast<uint32_t>(16 * bufs.size()), kVirtqDescIndirect, 0);
    next_desc_ = static_cast<uint16_t>((head + 1) % size_);
    publish(head);
    return head;
  }

  uint16_t avail_idx() const { return get<uint16_t>(avail_ + 2); }
  void set_avail_idx(uint16_t v) { put<uint16_t>(avail_ + 2, v); }
  void set_avail_flags(uint16_t v) { put<uint16_t>(avail_, v); }
  void set_used_event(uint16_t v) { put<uint16_t>(avail_ + 4 + 2ull * size_, v); }
  uint16_t used_idx() const { return get<uint16_t>(used_ + 2); }
  uint16_t avail_event() const { return get<uint16_t>(used_ + 4 + 8ull * size_); }
  // (id, len) of used ring slot i.
  std::pair<uint32_t, uint32_t> used_elem(uint16_t i) const {
    uint64_t at = used_ + 4 + 8ull * (i % size_);
    return {get<uint32_t>(at), get<uint32_t>(at + 4)};
  }

  template <class T>
  void put(uint64_t addr, T v) {
    if (!mem_->write_obj(loader::GuestAddress(addr), v)) std::abort();
  }
  template <class T>
  T get(uint64_t addr) const {
    auto r = mem_->read_obj<T>(loader::GuestAddress(addr));
    if (!r) std::abort();
    return *r;
  }

 private:
  loader::GuestMemory* mem_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t next_desc_ = 0;
};

}  // namespace test_support
