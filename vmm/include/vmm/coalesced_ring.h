// KVM's coalesced MMIO/PIO ring: writes to the windows that allow it
// (devices::Window::writes_may_queue) do not exit; KVM queues them on one
// page the whole VM shares and the VMM delivers them to the buses before it
// handles any access that does exit, from whichever vCPU. Each device thus
// still sees the guest's accesses in the guest's order, and the guest saves
// a trip to user space per queued write (25-80 µs each under nesting).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "devices/bus.h"
#include "vmm/kvm.h"

namespace vmm {

// Where the entries start on the page: right after the two u32 indices, as
// the kernel (C) lays the ring out. Not sizeof(kvm_coalesced_mmio_ring):
// <linux/kvm.h> declares the entries with __DECLARE_FLEX_ARRAY, whose empty
// struct takes a byte in C++, so C++ puts the array 8 bytes too far (16).
inline constexpr size_t kRingHeaderBytes = 2 * sizeof(uint32_t);

class CoalescedRing {
 public:
  // `page`: the ring (two u32 indices, then the entries), of
  // `page_size` bytes, mapped for as long as this object lives; KVM fills it.
  CoalescedRing(std::byte* page, size_t page_size);
  CoalescedRing(const CoalescedRing&) = delete;
  CoalescedRing& operator=(const CoalescedRing&) = delete;

  // Delivers every queued write, oldest first, to `pio` or `mmio` and hands
  // the entries back to KVM. Any thread; one drains at a time, so two
  // vCPUs never deliver the same entry or deliver out of order. Returns the
  // number delivered.
  uint64_t drain(devices::Bus& pio, devices::Bus& mmio);

  // Entries the ring holds (KVM_COALESCED_MMIO_MAX for a real page).
  uint32_t capacity() const { return capacity_; }
  // For the boot report: writes delivered, and entries skipped because an
  // index or a length on the shared page was out of range.
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t malformed() const { return malformed_.load(std::memory_order_relaxed); }

 private:
  kvm_coalesced_mmio_ring* ring_;
  uint32_t capacity_;
  std::mutex mutex_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> malformed_{0};
};

}  // namespace vmm
