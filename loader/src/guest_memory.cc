#include "loader/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace loader {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kHugePageSize = 2ull << 20;

// Guest RAM is the guest's data (keys, disk caches) and can be gigabytes: a
// core dump of the VMM must hold the VMM's state only.
Result<void> exclude_from_core_dumps(void* host, uint64_t size) {
  if (madvise(host, size, MADV_DONTDUMP) != 0) {
    int err = errno;
    return fail(ErrorCode::kIo, "guest memory: madvise(MADV_DONTDUMP) of {:#x} bytes failed: {}", size,
                std::strerror(err));
  }
  return {};
}

}  // namespace

Result<GuestMemory> GuestMemory::create(std::span<const RegionSpec> specs, MemoryOptions options) {
  if (specs.empty()) return fail(ErrorCode::kInvalidArgument, "guest memory: no regions given");
  std::vector<RegionSpec> sorted(specs.begin(), specs.end());
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.base < b.base; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& s = sorted[i];
    if (s.size == 0) return fail(ErrorCode::kInvalidArgument, "guest memory: region at {} has size 0", s.base);
    if (!s.base.is_aligned(kPageSize) || s.size % kPageSize != 0)
      return fail(ErrorCode::kInvalidArgument, "guest memory: region {} size {:#x} is not page aligned", s.base,
                  s.size);
    if (!s.base.checked_add(s.size))
      return fail(ErrorCode::kOverflow, "guest memory: region {} size {:#x} wraps the address space", s.base, s.size);
    if (i > 0 && ranges_overlap(sorted[i - 1].base.value(), sorted[i - 1].size, s.base.value(), s.size))
      return fail(ErrorCode::kOverlap, "guest memory: region {} overlaps region {}", s.base, sorted[i - 1].base);
  }

  GuestMemory mem;
  mem.huge_pages_ = options.huge_pages;
  for (const auto& s : sorted) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (options.prefault) flags |= MAP_POPULATE;
    if (options.huge_pages == HugePages::kHugetlbfs) {
      if (s.size % kHugePageSize != 0)
        return fail(ErrorCode::kInvalidArgument, "guest memory: region {} size {:#x} is not a multiple of 2 MiB "
                    "(needed for hugetlbfs pages)", s.base, s.size);
      flags |= MAP_HUGETLB;
    }
    // THP backs guest RAM with 2 MiB pages only where the host address is
    // 2 MiB aligned like the guest's (then KVM maps it with huge pages too):
    // map 2 MiB more and trim both ends.
    const bool align = options.huge_pages == HugePages::kTransparent && s.size >= kHugePageSize;
    const uint64_t extra = align ? kHugePageSize : 0;
    void* host = mmap(nullptr, s.size + extra, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (host == MAP_FAILED) {
      int err = errno;
      return fail(ErrorCode::kIo, "guest memory: mmap of {:#x} bytes for region {} failed: {}", s.size, s.base,
                  std::strerror(err));
    }
    if (align) {
      const auto start = reinterpret_cast<uintptr_t>(host);
      const uintptr_t aligned = (start + kHugePageSize - 1) & ~uintptr_t{kHugePageSize - 1};
      if (aligned > start) munmap(host, aligned - start);
      if (start + extra > aligned) munmap(reinterpret_cast<void*>(aligned + s.size), start + extra - aligned);
      host = reinterpret_cast<void*>(aligned);
    }
    // Owned by mem from here, so an error below unmaps it.
    mem.regions_.emplace_back(s.base, s.size, static_cast<std::byte*>(host));
    if (options.huge_pages == HugePages::kTransparent) {
      // Advisory: a host with THP disabled still works, just with 4 KiB pages.
      (void)madvise(host, s.size, MADV_HUGEPAGE);
    }
    if (auto r = exclude_from_core_dumps(host, s.size); !r) return std::unexpected(r.error());
  }
  return mem;
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : regions_(std::move(other.regions_)), huge_pages_(other.huge_pages_) {
  other.regions_.clear();
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    release();
    regions_ = std::move(other.regions_);
    huge_pages_ = other.huge_pages_;
    other.regions_.clear();
  }
  return *this;
}

GuestMemory::~GuestMemory() { release(); }

void GuestMemory::release() {
  for (auto& r : regions_) munmap(r.host(), r.size());
  regions_.clear();
}

uint64_t GuestMemory::total_size() const {
  uint64_t total = 0;
  for (auto& r : regions_) total += r.size();
  return total;
}

const GuestRegion* GuestMemory::find_region(GuestAddress addr) const {
  for (auto& r : regions_)
    if (addr >= r.base() && addr < r.end()) return &r;
  return nullptr;
}

bool GuestMemory::contains(GuestAddress addr, uint64_t len) const {
  const GuestRegion* r = find_region(addr);
  return r != nullptr && r->contains(addr, len);
}

Result<std::span<const std::byte>> GuestMemory::host_span(GuestAddress addr, uint64_t len) const {
  const GuestRegion* r = find_region(addr);
  if (r == nullptr || !r->contains(addr, len)) {
    return fail(ErrorCode::kOutOfBounds, "guest range [{}, +{:#x}) is not inside guest memory", addr, len);
  }
  return std::span<const std::byte>(r->host() + (addr.value() - r->base().value()), len);
}

Result<std::span<std::byte>> GuestMemory::host_span(GuestAddress addr, uint64_t len) {
  auto s = std::as_const(*this).host_span(addr, len);
  if (!s) return std::unexpected(s.error());
  return std::span<std::byte>(const_cast<std::byte*>(s->data()), s->size());
}

Result<void> GuestMemory::read(GuestAddress addr, std::span<std::byte> out) const {
  auto s = host_span(addr, out.size());
  if (!s) return std::unexpected(s.error());
  if (!out.empty()) std::memcpy(out.data(), s->data(), out.size());
  return {};
}

Result<void> GuestMemory::write(GuestAddress addr, std::span<const std::byte> data) {
  auto s = host_span(addr, data.size());
  if (!s) return std::unexpected(s.error());
  if (!data.empty()) std::memcpy(s->data(), data.data(), data.size());
  return {};
}

Result<void> GuestMemory::fill(GuestAddress addr, uint64_t len, std::byte value) {
  auto s = host_span(addr, len);
  if (!s) return std::unexpected(s.error());
  if (len != 0) std::memset(s->data(), static_cast<int>(value), len);
  return {};
}

Result<void> GuestMemory::map_file(GuestAddress addr, int fd, uint64_t file_offset, uint64_t len) {
  if (!addr.is_aligned(kPageSize) || file_offset % kPageSize != 0)
    return fail(ErrorCode::kInvalidArgument, "map_file: guest address {} or file offset {:#x} not page aligned", addr,
                file_offset);
  if (huge_pages_ == HugePages::kHugetlbfs)
    return fail(ErrorCode::kUnsupported, "map_file: cannot map a file over hugetlbfs guest memory");
  uint64_t mapped = (len + kPageSize - 1) & ~(kPageSize - 1);
  auto s = host_span(addr, mapped);
  if (!s) return std::unexpected(s.error());
  if (len == 0) return {};
  void* p = mmap(s->data(), mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, static_cast<off_t>(file_offset));
  if (p == MAP_FAILED) {
    int err = errno;
    // MAP_FIXED failure may leave the range unmapped; put anonymous memory back.
    if (mmap(s->data(), mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
             0) != MAP_FAILED)
      (void)exclude_from_core_dumps(s->data(), mapped);
    return fail(ErrorCode::kIo, "map_file: mmap of file offset {:#x} at {} failed: {}", file_offset, addr,
                std::strerror(err));
  }
  // A new mapping starts without the region's VM_DONTDUMP.
  if (auto r = exclude_from_core_dumps(s->data(), mapped); !r) return r;
  // Bytes of the last page past len come from the file; the loader promises zero there.
  if (mapped != len) std::memset(s->data() + len, 0, mapped - len);
  return {};
}

}  // namespace loader
