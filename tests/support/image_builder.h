// Builders for arm64 / riscv64 Image files and the EFI zboot container, so
// tests byte-patch generated images instead of shipping binary blobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace test_support {

void put_le16(std::vector<std::byte>& buf, size_t offset, uint16_t value);
void put_le32(std::vector<std::byte>& buf, size_t offset, uint32_t value);
void put_le64(std::vector<std::byte>& buf, size_t offset, uint64_t value);

struct Arm64ImageSpec {
  bool mz_stub = true;                 // code0 begins with "MZ" as Debian's EFI-stub Images do
  uint64_t text_offset = 0;
  std::optional<uint64_t> image_size;  // default: file size + bss_size
  uint64_t bss_size = 0x3000;
  uint64_t flags = 0xa;                // little-endian, 4K pages, base anywhere
  size_t body_size = 0x5000;           // pattern bytes after the 64-byte header
};
std::vector<std::byte> build_arm64_image(const Arm64ImageSpec& spec = {});

struct RiscvImageSpec {
  bool mz_stub = true;
  uint64_t text_offset = 0x200000;
  std::optional<uint64_t> image_size;
  uint64_t bss_size = 0x3000;
  uint64_t flags = 0;
  uint32_t version = 0x2;  // 0.2
  size_t body_size = 0x5000;
};
std::vector<std::byte> build_riscv_image(const RiscvImageSpec& spec = {});

// An EFI zboot image (drivers/firmware/efi/libstub/zboot-header.S) holding
// compressed bytes at payload_offset, with comp_type in its header and the
// 4-byte size trailer the kernel's build appends after the payload.
// payload_offset below 0x40 (inside the header) is moved to 0x40; patch the
// field afterwards to test that case.
std::vector<std::byte> build_efi_zboot(std::span<const std::byte> compressed, const std::string& comp_type,
                                       uint32_t payload_offset = 0x1000, uint32_t uncompressed_size = 0);

}  // namespace test_support
