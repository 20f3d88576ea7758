// Synthetic x86 bzImage setup headers (the bytes from file offset 0x1f1), for
// boot-protocol tests. Written field by field at boot.rst's offsets, not with
// the library's structs, so a wrong struct layout cannot agree with itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace test_support {

struct SetupHeaderSpec {
  uint16_t version = 0x020f;
  uint8_t loadflags = 0x01;  // LOADED_HIGH
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t kernel_alignment = 0x200000;
  uint8_t relocatable_kernel = 1;
  uint16_t xloadflags = 0x0001;  // XLF_KERNEL_64
  uint32_t cmdline_size = 2047;
  uint64_t pref_address = 0x1000000;
  uint32_t init_size = 0x2000000;
  uint8_t setup_sects = 27;
  uint16_t boot_flag = 0xaa55;
  uint32_t header_magic = 0x53726448;  // "HdrS"
};

// Absolute file offsets (boot.rst) of the fields the builder writes.
inline constexpr size_t kSetupHeaderStart = 0x1f1;

// The setup header bytes [0x1f1, 0x26c), as LoadedKernel::setup_header holds them.
std::vector<std::byte> build_setup_header(const SetupHeaderSpec& spec = {});

}  // namespace test_support
