// Reading guest memory back as little-endian integers at raw addresses, so
// the boot tests check bytes where the specifications put them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "boot/memory_map_x86.h"
#include "loader/guest_memory.h"

namespace boot_test {

inline uint64_t read_le(const loader::GuestMemory& mem, uint64_t addr, int bytes) {
  std::vector<std::byte> buf(static_cast<size_t>(bytes));
  auto r = mem.read(loader::GuestAddress(addr), buf);
  EXPECT_TRUE(r.has_value()) << "read at " << std::hex << addr << ": " << (r ? "" : r.error().message);
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | std::to_integer<uint8_t>(buf[static_cast<size_t>(i)]);
  return v;
}
inline uint8_t u8(const loader::GuestMemory& m, uint64_t a) { return static_cast<uint8_t>(read_le(m, a, 1)); }
inline uint16_t u16(const loader::GuestMemory& m, uint64_t a) { return static_cast<uint16_t>(read_le(m, a, 2)); }
inline uint32_t u32(const loader::GuestMemory& m, uint64_t a) { return static_cast<uint32_t>(read_le(m, a, 4)); }
inline uint64_t u64(const loader::GuestMemory& m, uint64_t a) { return read_le(m, a, 8); }

inline std::vector<uint8_t> bytes_at(const loader::GuestMemory& mem, uint64_t addr, size_t len) {
  std::vector<std::byte> buf(len);
  auto r = mem.read(loader::GuestAddress(addr), buf);
  EXPECT_TRUE(r.has_value());
  std::vector<uint8_t> out(len);
  for (size_t i = 0; i < len; ++i) out[i] = std::to_integer<uint8_t>(buf[i]);
  return out;
}

inline uint8_t byte_sum(const std::vector<uint8_t>& b, size_t len) {
  uint8_t s = 0;
  for (size_t i = 0; i < len && i < b.size(); ++i) s = static_cast<uint8_t>(s + b[i]);
  return s;
}

// Guest memory laid out by the x86 memory map for ram_size bytes.
inline loader::GuestMemory x86_memory(uint64_t ram_size, boot::MemoryMap* map_out = nullptr) {
  auto map = boot::x86_memory_map(ram_size);
  EXPECT_TRUE(map.has_value());
  auto specs = boot::guest_memory_regions(*map);
  auto mem = loader::GuestMemory::create(specs);
  EXPECT_TRUE(mem.has_value()) << mem.error().message;
  if (map_out) *map_out = *map;
  return std::move(*mem);
}

}  // namespace boot_test
