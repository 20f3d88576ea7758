// Builds x86 bzImages in memory for the tests and fuzz seeds: a setup area
// with a full 2.15 setup header and a version string, then a protected-mode
// part holding a compressed payload (by default a minimal ELF) with the
// kernel's 4-byte size trailer. Every header field is settable, so tests can
// break one rule at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loader/kernel.h"

namespace test_support {

struct BzImageSpec {
  uint8_t setup_sects = 4;  // written as is (0 is legal and means 4)
  uint16_t version = 0x020f;
  uint8_t loadflags = 0x81;       // LOADED_HIGH | CAN_USE_HEAP
  uint16_t xloadflags = 0x0b;     // XLF_KERNEL_64 | ABOVE_4G | EFI_HANDOVER_64
  uint32_t kernel_alignment = 0x200000;
  uint8_t relocatable = 1;
  uint8_t min_alignment = 21;
  uint32_t cmdline_size = 2047;
  uint64_t pref_address = 0x1000000;
  std::optional<uint32_t> init_size;  // default: room for the pm part and the payload, 4 KiB aligned
  std::string version_string = "6.1.0-test (builder@minivmm) #1 SMP PREEMPT_DYNAMIC";
  loader::Compression compression = loader::Compression::kXz;
  std::vector<std::byte> payload_plain;  // what the payload decompresses to; empty: minimal_elf64()
  uint32_t pm_prefix = 0x400;  // protected-mode bytes before the payload (fake startup code)
  uint32_t pm_suffix = 0x100;  // and after it
  bool size_trailer = true;    // append the uncompressed size like the kernel's build
};

struct BzImage {
  std::vector<std::byte> bytes;
  uint64_t pm_offset = 0;       // file offset of the protected-mode part
  uint64_t pm_size = 0;
  uint64_t payload_offset = 0;  // relative to pm_offset, as in the header
  uint64_t payload_length = 0;
  uint32_t init_size = 0;
  std::vector<std::byte> payload_plain;
};

BzImage build_bzimage(const BzImageSpec& spec = {});

// A 4 KiB x86_64 ELF64 executable: header, one PT_LOAD at 16 MiB, code bytes.
std::vector<std::byte> minimal_elf64();

// Little-endian patching of a built image.
void put_le(std::vector<std::byte>& bytes, size_t offset, uint64_t value, int width);
uint64_t get_le(const std::vector<std::byte>& bytes, size_t offset, int width);

}  // namespace test_support
