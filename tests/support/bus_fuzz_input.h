// The input layout of fuzz/fuzz_bus_devices.cc and fuzz/fuzz_sbi.cc, shared
// with tests/tools/write_fuzz_seeds.cc so the seeds stay valid inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace test_support::bus_fuzz {

// fuzz_bus_devices: a sequence of kOpSize-byte operations.
//   [0]     bits 0-6 window (kWindow*, modulo the window count); bit 7: a host
//           hook instead of a guest access (see kHook*)
//   [1]     bit 0 write, bits 1-2 size (1, 2, 4, 8), bit 3 "anywhere": the
//           offset is a signed displacement from the window's base instead of
//           an offset taken modulo the window size
//   [2..5]  offset (le32)
//   [6..13] value (le64)
inline constexpr size_t kOpSize = 14;
// The windows in the order the fuzz target maps them: x86's port I/O devices
// as platform.cc places them, then riscv64's MMIO ones.
enum Window : uint8_t {
  kWindowSerialPio = 0,  // COM1 0x3f8
  kWindowI8042Data = 1,  // 0x60
  kWindowI8042Command = 2,  // 0x64
  kWindowCmos = 3,       // 0x70
  kWindowAcpiPm = 4,     // 0x600
  kWindowPostCode = 5,   // 0x80
  kWindowPlic = 6,       // 0x0c00_0000
  kWindowSerialMmio = 7, // 0x1000_0000
  kWindowCount = 8,
};
inline constexpr uint8_t kHookFlag = 0x80;
inline constexpr uint8_t kAnywhereFlag = 0x08;
// Hooks, chosen by the window byte's low bits: host input into a UART (the
// value's low bytes, count in offset bits 0-2), a PLIC source line (offset =
// source, value bit 0 = level), or the RTC's clock moving on (value seconds).
enum Hook : uint8_t { kHookSerialPioInput = 0, kHookSerialMmioInput = 1, kHookPlicLevel = 2, kHookClock = 3 };

inline void put_op(std::vector<std::byte>& out, uint8_t window, bool write, unsigned size_log2, uint32_t offset,
                   uint64_t value, bool anywhere = false) {
  out.push_back(static_cast<std::byte>(window));
  out.push_back(static_cast<std::byte>((write ? 1u : 0u) | size_log2 << 1 | (anywhere ? kAnywhereFlag : 0u)));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(offset >> (8 * i)));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

// fuzz_sbi: a sequence of kSbiCallSize-byte calls: extension id (le64),
// function id (le64), six arguments (le64 each). Guest RAM for DBCN buffers
// is kSbiRamSize bytes at kSbiRamBase, filled with a pattern.
inline constexpr size_t kSbiCallSize = 8 * 8;
inline constexpr uint64_t kSbiRamBase = 0x8000'0000;
inline constexpr uint64_t kSbiRamSize = 0x10000;

inline void put_sbi_call(std::vector<std::byte>& out, uint64_t ext, uint64_t fid, std::initializer_list<uint64_t> args) {
  auto put = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
  };
  put(ext);
  put(fid);
  size_t n = 0;
  for (uint64_t a : args) {
    put(a);
    ++n;
  }
  for (; n < 6; ++n) put(0);
}

}  // namespace test_support::bus_fuzz
