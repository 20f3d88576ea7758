#include "support/image_builder.h"

#include <algorithm>
#include <cstring>

namespace test_support {
namespace {

constexpr size_t kHeaderSize = 64;

void put_bytes(std::vector<std::byte>& buf, size_t offset, uint64_t value, size_t n) {
  if (buf.size() < offset + n) buf.resize(offset + n);
  for (size_t i = 0; i < n; ++i) buf[offset + i] = static_cast<std::byte>(value >> (8 * i));
}

// A seeded pattern with no long runs, so misplaced or lost bytes show.
std::vector<std::byte> body_pattern(size_t n, uint32_t seed) {
  std::vector<std::byte> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(x);
  }
  return out;
}

std::vector<std::byte> image_body(bool mz_stub, size_t body_size, uint32_t seed) {
  std::vector<std::byte> out(kHeaderSize);
  auto body = body_pattern(body_size, seed);
  out.insert(out.end(), body.begin(), body.end());
  // code0: "MZ" plus an instruction in the real thing; a branch otherwise.
  put_le32(out, 0, mz_stub ? 0x91005a4d : 0x14000010);
  return out;
}

// What an EFI-stub Image has at offset 0x40 (the header's PE offset): the
// "PE\0\0" signature, a COFF header and one section whose raw data runs to
// the end of the file, as the kernel's last section ends at _edata. The
// loader checks that the file holds all of it.
void put_pe_header(std::vector<std::byte>& out, uint16_t machine) {
  constexpr size_t kPe = 0x40;
  constexpr size_t kSection = kPe + 24;
  constexpr uint32_t kRawStart = 0x80;
  const auto file_size = static_cast<uint32_t>(out.size());
  put_bytes(out, kPe, 0x00004550, 4);  // "PE\0\0"
  put_bytes(out, kPe + 4, machine, 2);
  put_bytes(out, kPe + 6, 1, 2);       // NumberOfSections
  for (size_t at = kPe + 8; at < kPe + 20; at += 4) put_bytes(out, at, 0, 4);  // TimeDateStamp, symbol table
  put_bytes(out, kPe + 20, 0, 2);      // SizeOfOptionalHeader
  put_bytes(out, kPe + 22, 0x206, 2);  // Characteristics: executable, debug stripped
  std::memcpy(out.data() + kSection, ".text\0\0\0", 8);
  put_bytes(out, kSection + 8, file_size - kRawStart, 4);   // VirtualSize
  put_bytes(out, kSection + 12, kRawStart, 4);              // VirtualAddress
  put_bytes(out, kSection + 16, file_size - kRawStart, 4);  // SizeOfRawData
  put_bytes(out, kSection + 20, kRawStart, 4);              // PointerToRawData
  for (size_t at = kSection + 24; at < kSection + 40; at += 4)
    put_bytes(out, at, 0, 4);  // relocations, line numbers, characteristics
}

}  // namespace

void put_le16(std::vector<std::byte>& buf, size_t offset, uint16_t value) { put_bytes(buf, offset, value, 2); }
void put_le32(std::vector<std::byte>& buf, size_t offset, uint32_t value) { put_bytes(buf, offset, value, 4); }
void put_le64(std::vector<std::byte>& buf, size_t offset, uint64_t value) { put_bytes(buf, offset, value, 8); }

std::vector<std::byte> build_arm64_image(const Arm64ImageSpec& spec) {
  auto out = image_body(spec.mz_stub, spec.body_size, 64);
  put_le32(out, 4, 0);
  put_le64(out, 8, spec.text_offset);
  put_le64(out, 16, spec.image_size.value_or(out.size() + spec.bss_size));
  put_le64(out, 24, spec.flags);
  put_le64(out, 32, 0);
  put_le64(out, 40, 0);
  put_le64(out, 48, 0);
  put_le32(out, 0x38, 0x644d5241);  // "ARM\x64"
  put_le32(out, 0x3c, spec.mz_stub ? 0x40 : 0);
  if (spec.mz_stub) put_pe_header(out, 0xaa64);  // IMAGE_FILE_MACHINE_ARM64
  return out;
}

std::vector<std::byte> build_riscv_image(const RiscvImageSpec& spec) {
  auto out = image_body(spec.mz_stub, spec.body_size, 5);
  put_le32(out, 4, 0);
  put_le64(out, 8, spec.text_offset);
  put_le64(out, 16, spec.image_size.value_or(out.size() + spec.bss_size));
  put_le64(out, 24, spec.flags);
  put_le32(out, 32, spec.version);
  put_le32(out, 36, 0);
  put_le64(out, 40, 0);
  put_le64(out, 48, 0x5643534952);  // "RISCV"
  put_le32(out, 0x38, 0x05435352);  // "RSC\x05"
  put_le32(out, 0x3c, spec.mz_stub ? 0x40 : 0);
  if (spec.mz_stub) put_pe_header(out, 0x5064);  // IMAGE_FILE_MACHINE_RISCV64
  return out;
}

std::vector<std::byte> build_efi_zboot(std::span<const std::byte> compressed, const std::string& comp_type,
                                       uint32_t payload_offset, uint32_t uncompressed_size) {
  std::vector<std::byte> out(0x40);
  put_le32(out, 0, 0x5a4d);  // "MZ\0\0"
  std::memcpy(out.data() + 4, "zimg", 4);
  put_le32(out, 8, payload_offset);
  put_le32(out, 12, static_cast<uint32_t>(compressed.size()));
  std::memcpy(out.data() + 0x18, comp_type.data(), std::min<size_t>(comp_type.size(), 0x20));
  put_le32(out, 0x38, 0x818223cd);  // LINUX_PE_MAGIC
  put_le32(out, 0x3c, 0x40);
  out.resize(std::max<size_t>(payload_offset, 0x40));
  out.insert(out.end(), compressed.begin(), compressed.end());
  const size_t trailer = out.size();
  put_le32(out, trailer, uncompressed_size);
  return out;
}

}  // namespace test_support
