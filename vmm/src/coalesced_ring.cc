#include "vmm/coalesced_ring.h"

#include <array>
#include <cstring>
#include <span>

namespace vmm {

static_assert(sizeof(kvm_coalesced_mmio) == 24, "the kernel's entry: phys_addr, len, pio, data[8]");

CoalescedRing::CoalescedRing(std::byte* page, size_t page_size)
    : ring_(reinterpret_cast<kvm_coalesced_mmio_ring*>(page)),
      capacity_(page && page_size > kRingHeaderBytes
                    ? static_cast<uint32_t>((page_size - kRingHeaderBytes) / sizeof(kvm_coalesced_mmio))
                    : 0) {}

uint64_t CoalescedRing::drain(devices::Bus& pio, devices::Bus& mmio) {
  if (capacity_ == 0) return 0;
  // KVM writes an entry, then publishes it by moving `last` (release); it
  // reuses a slot only once `first` has moved past it.
  std::atomic_ref<uint32_t> first_ref(ring_->first);
  std::atomic_ref<uint32_t> last_ref(ring_->last);
  // Nearly every exit finds the ring empty: it takes no lock.
  if (first_ref.load(std::memory_order_relaxed) == last_ref.load(std::memory_order_acquire)) return 0;

  std::lock_guard lock(mutex_);
  uint32_t first = first_ref.load(std::memory_order_relaxed);
  const uint32_t last = last_ref.load(std::memory_order_acquire);
  // The page is shared memory: an index out of range would send us outside
  // it. KVM never writes one; if it did, deliver nothing rather than guess.
  if (last >= capacity_) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  if (first >= capacity_) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    first_ref.store(last, std::memory_order_release);
    return 0;
  }
  auto* entries = reinterpret_cast<const kvm_coalesced_mmio*>(reinterpret_cast<std::byte*>(ring_) + kRingHeaderBytes);
  uint64_t delivered = 0;
  while (first != last) {
    const kvm_coalesced_mmio& e = entries[first];
    const uint32_t len = e.len;
    const uint64_t address = e.phys_addr;
    const bool is_pio = e.pio != 0;
    std::array<std::byte, sizeof e.data> data{};
    if (len == 0 || len > data.size()) {
      malformed_.fetch_add(1, std::memory_order_relaxed);
    } else {
      std::memcpy(data.data(), e.data, len);
      (is_pio ? pio : mmio).write(address, std::span<const std::byte>(data.data(), len));
      ++delivered;
    }
    first = (first + 1) % capacity_;
  }
  // Only now may KVM reuse the slots: every entry has been copied out.
  first_ref.store(first, std::memory_order_release);
  delivered_.fetch_add(delivered, std::memory_order_relaxed);
  return delivered;
}

}  // namespace vmm
