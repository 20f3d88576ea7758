// Internal: the ELF64 file checks shared by inspect_elf and load_elf. Nothing
// here touches guest memory; load_elf adds the memory checks.
#pragma once

#include <elf.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "loader/error.h"
#include "loader/image_source.h"
#include "loader/kernel.h"

namespace loader::elf_detail {

// The structs are read straight from the file: little-endian ELF only, and
// every host minivmm targets (x86_64, aarch64, riscv64) is little-endian.
static_assert(std::endian::native == std::endian::little);

struct Segment {
  uint64_t index;        // position in the program header table
  uint64_t phdr_offset;  // file offset of its program header
  Elf64_Phdr phdr;
};

struct PvhEntry {
  uint32_t entry;
  uint64_t desc_offset;  // file offset of the note's desc
};

struct ParsedElf {
  Elf64_Ehdr ehdr;
  Arch arch = Arch::kX86_64;
  std::vector<Segment> loads;  // PT_LOAD, in table order
  std::vector<Segment> notes;  // PT_NOTE, in table order
  uint64_t lowest_paddr = 0;
  uint64_t span = 0;           // lowest paddr .. highest paddr+memsz
  uint64_t entry = 0;          // physical
  std::optional<PvhEntry> pvh;
};

// Every check that needs only the file: ident, header fields, program headers,
// segment ranges, overlaps, entry and the PVH note.
Result<ParsedElf> parse_elf(const ImageSource& src);

// Field offsets, for messages.
inline constexpr uint64_t kPhdrPaddr = offsetof(Elf64_Phdr, p_paddr);
inline constexpr uint64_t kPhdrFilesz = offsetof(Elf64_Phdr, p_filesz);
inline constexpr uint64_t kPhdrMemsz = offsetof(Elf64_Phdr, p_memsz);
inline constexpr uint64_t kPhdrOffset = offsetof(Elf64_Phdr, p_offset);
inline constexpr uint64_t kPhdrVaddr = offsetof(Elf64_Phdr, p_vaddr);

}  // namespace loader::elf_detail
