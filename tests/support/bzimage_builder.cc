#include "support/bzimage_builder.h"

#include <cstring>
#include <stdexcept>

#include "support/compress.h"

namespace test_support {

void put_le(std::vector<std::byte>& bytes, size_t offset, uint64_t value, int width) {
  if (offset + width > bytes.size()) throw std::out_of_range("put_le past the end");
  for (int i = 0; i < width; ++i) bytes[offset + i] = static_cast<std::byte>(value >> (8 * i));
}

uint64_t get_le(const std::vector<std::byte>& bytes, size_t offset, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= std::to_integer<uint64_t>(bytes.at(offset + i)) << (8 * i);
  return v;
}

std::vector<std::byte> minimal_elf64() {
  std::vector<std::byte> elf(4096);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  std::memcpy(elf.data(), ident, sizeof ident);
  put_le(elf, 0x10, 2, 2);           // e_type EXEC
  put_le(elf, 0x12, 62, 2);          // e_machine x86_64
  put_le(elf, 0x14, 1, 4);           // e_version
  put_le(elf, 0x18, 0x1000000, 8);   // e_entry
  put_le(elf, 0x20, 64, 8);          // e_phoff
  put_le(elf, 0x34, 64, 2);          // e_ehsize
  put_le(elf, 0x36, 56, 2);          // e_phentsize
  put_le(elf, 0x38, 1, 2);           // e_phnum
  put_le(elf, 0x40, 1, 4);           // p_type PT_LOAD
  put_le(elf, 0x44, 5, 4);           // p_flags R+X
  put_le(elf, 0x48, 0, 8);           // p_offset
  put_le(elf, 0x50, 0xffffffff81000000, 8);  // p_vaddr
  put_le(elf, 0x58, 0x1000000, 8);   // p_paddr
  put_le(elf, 0x60, elf.size(), 8);  // p_filesz
  put_le(elf, 0x68, 0x2000, 8);      // p_memsz
  put_le(elf, 0x70, 0x200000, 8);    // p_align
  for (size_t i = 0x100; i < elf.size(); ++i) elf[i] = static_cast<std::byte>(0x90);  // nop sled
  return elf;
}

BzImage build_bzimage(const BzImageSpec& spec) {
  BzImage out;
  out.payload_plain = spec.payload_plain.empty() ? minimal_elf64() : spec.payload_plain;
  std::vector<std::byte> payload = compress(spec.compression, out.payload_plain);
  if (spec.size_trailer)
    for (int i = 0; i < 4; ++i) payload.push_back(static_cast<std::byte>(out.payload_plain.size() >> (8 * i)));

  const uint64_t sects = spec.setup_sects == 0 ? 4 : spec.setup_sects;
  out.pm_offset = (sects + 1) * 512;
  out.payload_offset = spec.pm_prefix;
  out.payload_length = payload.size();
  out.pm_size = spec.pm_prefix + payload.size() + spec.pm_suffix;
  std::vector<std::byte>& b = out.bytes;
  b.assign(out.pm_offset + out.pm_size, std::byte{0});

  b[0] = std::byte{'M'};  // the EFI stub's PE header, as in distribution kernels
  b[1] = std::byte{'Z'};
  put_le(b, 0x1f1, spec.setup_sects, 1);
  put_le(b, 0x1f4, (out.pm_size + 15) / 16, 4);  // syssize
  put_le(b, 0x1fe, 0xaa55, 2);
  put_le(b, 0x200, 0xeb, 1);                      // jmp short over the header
  put_le(b, 0x201, 0x26c - 0x202, 1);             // header ends after kernel_info_offset
  put_le(b, 0x202, 0x53726448, 4);                // "HdrS"
  put_le(b, 0x206, spec.version, 2);
  const uint64_t version_at = 0x300;
  if (version_at + spec.version_string.size() + 1 > out.pm_offset) throw std::length_error("version string");
  put_le(b, 0x20e, version_at - 0x200, 2);
  std::memcpy(b.data() + version_at, spec.version_string.data(), spec.version_string.size());
  put_le(b, 0x211, spec.loadflags, 1);
  put_le(b, 0x214, 0x100000, 4);  // code32_start
  put_le(b, 0x22c, 0x7fffffff, 4);  // initrd_addr_max
  put_le(b, 0x230, spec.kernel_alignment, 4);
  put_le(b, 0x234, spec.relocatable, 1);
  put_le(b, 0x235, spec.min_alignment, 1);
  put_le(b, 0x236, spec.xloadflags, 2);
  put_le(b, 0x238, spec.cmdline_size, 4);
  put_le(b, 0x248, out.payload_offset, 4);
  put_le(b, 0x24c, out.payload_length, 4);
  put_le(b, 0x258, spec.pref_address, 8);
  out.init_size = spec.init_size.value_or(
      static_cast<uint32_t>((out.pm_size + out.payload_plain.size() + 0x10000 + 0xfff) & ~uint64_t{0xfff}));
  put_le(b, 0x260, out.init_size, 4);
  for (uint64_t i = 0; i < spec.pm_prefix; ++i) b[out.pm_offset + i] = std::byte{0xcc};
  std::memcpy(b.data() + out.pm_offset + out.payload_offset, payload.data(), payload.size());
  return out;
}

}  // namespace test_support
