// Guest RAM: a set of non-overlapping regions, each an anonymous mmap.
// Every access is checked against the regions; nothing outside them is ever
// touched. Bulk loads get the host span of a range and read straight into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "loader/error.h"
#include "loader/guest_address.h"

namespace loader {

struct RegionSpec {
  GuestAddress base;
  uint64_t size = 0;
};

enum class HugePages {
  kNone,         // 4 KiB pages
  kTransparent,  // madvise(MADV_HUGEPAGE): THP where the host allows it
  kHugetlbfs,    // MAP_HUGETLB 2 MiB pages; fails where the host has none reserved
};

struct MemoryOptions {
  HugePages huge_pages = HugePages::kNone;
  bool prefault = false;  // MAP_POPULATE: pay the page faults up front
};

class GuestRegion {
 public:
  GuestRegion(GuestAddress base, uint64_t size, std::byte* host) : base_(base), size_(size), host_(host) {}
  GuestAddress base() const { return base_; }
  uint64_t size() const { return size_; }
  GuestAddress end() const { return base_.unchecked_add(size_); }  // exclusive
  std::byte* host() const { return host_; }
  bool contains(GuestAddress addr, uint64_t len) const {
    return addr >= base_ && addr.value() - base_.value() <= size_ && len <= size_ - (addr.value() - base_.value());
  }

 private:
  GuestAddress base_;
  uint64_t size_;
  std::byte* host_;
};

class GuestMemory {
 public:
  // Regions must be page aligned, non-empty and disjoint; base + size must not wrap.
  static Result<GuestMemory> create(std::span<const RegionSpec> regions, MemoryOptions options = {});

  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  const std::vector<GuestRegion>& regions() const { return regions_; }
  uint64_t total_size() const;
  // The HugePages actually in use (kHugetlbfs falls back to nothing silently: never).
  HugePages huge_pages() const { return huge_pages_; }

  // True when [addr, addr+len) lies inside a single region.
  bool contains(GuestAddress addr, uint64_t len) const;
  // The region holding addr, or nullptr.
  const GuestRegion* find_region(GuestAddress addr) const;

  Result<void> read(GuestAddress addr, std::span<std::byte> out) const;
  Result<void> write(GuestAddress addr, std::span<const std::byte> data);
  Result<void> fill(GuestAddress addr, uint64_t len, std::byte value);

  // Host view of [addr, addr+len), which must lie inside one region. For bulk
  // loads (pread or inflate straight into guest memory).
  Result<std::span<std::byte>> host_span(GuestAddress addr, uint64_t len);
  Result<std::span<const std::byte>> host_span(GuestAddress addr, uint64_t len) const;

  // Maps [file_offset, file_offset+len) of fd privately (copy-on-write) at
  // addr: many VMs then share the kernel's page cache. addr, file_offset must
  // be page aligned; the tail of the last page past len is zeroed.
  Result<void> map_file(GuestAddress addr, int fd, uint64_t file_offset, uint64_t len);

  template <class T>
  Result<T> read_obj(GuestAddress addr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    auto r = read(addr, std::as_writable_bytes(std::span(&value, 1)));
    if (!r) return std::unexpected(r.error());
    return value;
  }
  template <class T>
  Result<void> write_obj(GuestAddress addr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(addr, std::as_bytes(std::span(&value, 1)));
  }

 private:
  GuestMemory() = default;
  void release();

  std::vector<GuestRegion> regions_;
  HugePages huge_pages_ = HugePages::kNone;
};

}  // namespace loader
