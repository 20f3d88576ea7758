#include "elf_headers.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "elf_notes.h"

namespace loader::elf_detail {
namespace {

constexpr uint64_t kEhdrMachine = offsetof(Elf64_Ehdr, e_machine);
constexpr uint64_t kEhdrType = offsetof(Elf64_Ehdr, e_type);
constexpr uint64_t kEhdrEntry = offsetof(Elf64_Ehdr, e_entry);
constexpr uint64_t kEhdrPhoff = offsetof(Elf64_Ehdr, e_phoff);
constexpr uint64_t kEhdrPhentsize = offsetof(Elf64_Ehdr, e_phentsize);
constexpr uint64_t kEhdrPhnum = offsetof(Elf64_Ehdr, e_phnum);

std::string_view machine_name(uint16_t machine) {
  switch (machine) {
    case EM_X86_64: return "x86_64";
    case EM_AARCH64: return "aarch64";
    case EM_RISCV: return "riscv64";
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    default: return "unknown";
  }
}

Result<Elf64_Ehdr> read_ehdr(const ImageSource& src) {
  static constexpr std::array<unsigned char, SELFMAG> kMagic = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
  std::array<unsigned char, SELFMAG> magic{};
  if (src.size() >= SELFMAG) {
    if (auto r = src.read_at(0, std::as_writable_bytes(std::span(magic))); !r) return std::unexpected(r.error());
  }
  if (src.size() < SELFMAG || magic != kMagic)
    return fail(ErrorCode::kBadMagic, "{}: not an ELF file: the first bytes are not 7f 45 4c 46 (\"\\x7fELF\")",
                src.name());
  if (src.size() < sizeof(Elf64_Ehdr))
    return fail(ErrorCode::kTruncated, "{}: ELF header needs {:#x} bytes, the file has {:#x}", src.name(),
                sizeof(Elf64_Ehdr), src.size());
  auto ehdr = src.read_obj<Elf64_Ehdr>(0);
  if (!ehdr) return ehdr;
  const unsigned char* id = ehdr->e_ident;
  if (id[EI_CLASS] != ELFCLASS64)
    return fail(ErrorCode::kUnsupported, "{}: EI_CLASS at offset {:#x} is {} ({}); only ELFCLASS64 (2) is supported",
                src.name(), EI_CLASS, id[EI_CLASS], id[EI_CLASS] == ELFCLASS32 ? "ELFCLASS32" : "invalid");
  if (id[EI_DATA] != ELFDATA2LSB)
    return fail(ErrorCode::kUnsupported,
                "{}: EI_DATA at offset {:#x} is {} ({}); only ELFDATA2LSB (1, little-endian) is supported",
                src.name(), EI_DATA, id[EI_DATA], id[EI_DATA] == ELFDATA2MSB ? "big-endian" : "invalid");
  if (id[EI_VERSION] != EV_CURRENT)
    return fail(ErrorCode::kInvalidField, "{}: EI_VERSION at offset {:#x} is {}, expected 1 (EV_CURRENT)",
                src.name(), EI_VERSION, id[EI_VERSION]);
  return ehdr;
}

Result<Arch> check_machine(const ImageSource& src, const Elf64_Ehdr& ehdr) {
  switch (ehdr.e_machine) {
    case EM_X86_64: return Arch::kX86_64;
    case EM_AARCH64:
    case EM_RISCV:
      // Those kernels boot as Images; an ELF vmlinux is an x86 thing here.
      return fail(ErrorCode::kWrongArch,
                  "{}: e_machine at offset {:#x} is {} ({}): only x86_64 ELF kernels are loaded (use the {} Image)",
                  src.name(), kEhdrMachine, ehdr.e_machine, machine_name(ehdr.e_machine),
                  machine_name(ehdr.e_machine));
    default:
      return fail(ErrorCode::kUnsupported, "{}: e_machine at offset {:#x} is {} ({}); only EM_X86_64 (62) is loaded",
                  src.name(), kEhdrMachine, ehdr.e_machine, machine_name(ehdr.e_machine));
  }
}

Result<std::vector<Elf64_Phdr>> read_phdrs(const ImageSource& src, const Elf64_Ehdr& ehdr) {
  if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)
    return fail(ErrorCode::kUnsupported, "{}: e_type at offset {:#x} is {}; only ET_EXEC (2) or ET_DYN (3) load",
                src.name(), kEhdrType, ehdr.e_type);
  if (ehdr.e_phentsize != sizeof(Elf64_Phdr))
    return fail(ErrorCode::kInvalidField, "{}: e_phentsize at offset {:#x} is {}, expected {}", src.name(),
                kEhdrPhentsize, ehdr.e_phentsize, sizeof(Elf64_Phdr));
  if (ehdr.e_phnum == 0)
    return fail(ErrorCode::kInvalidField, "{}: e_phnum at offset {:#x} is 0: no program headers", src.name(),
                kEhdrPhnum);
  if (ehdr.e_phnum == PN_XNUM)
    return fail(ErrorCode::kUnsupported,
                "{}: e_phnum at offset {:#x} is {:#x} (PN_XNUM, extended numbering), which no kernel uses",
                src.name(), kEhdrPhnum, ehdr.e_phnum);
  // A table that starts inside the ELF header reads header bytes as program
  // headers: they may happen to parse, but no linker writes that.
  if (ehdr.e_phoff < sizeof(Elf64_Ehdr))
    return fail(ErrorCode::kInvalidField,
                "{}: e_phoff {:#x} at offset {:#x} puts the program header table inside the {:#x}-byte ELF header",
                src.name(), ehdr.e_phoff, kEhdrPhoff, sizeof(Elf64_Ehdr));
  const uint64_t table_size = uint64_t{ehdr.e_phnum} * sizeof(Elf64_Phdr);  // < 2^22: cannot wrap
  uint64_t table_end = 0;
  if (__builtin_add_overflow(ehdr.e_phoff, table_size, &table_end))
    return fail(ErrorCode::kOverflow, "{}: e_phoff {:#x} (offset {:#x}) + {} program headers wraps", src.name(),
                ehdr.e_phoff, kEhdrPhoff, ehdr.e_phnum);
  if (table_end > src.size())
    return fail(ErrorCode::kTruncated,
                "{}: program header table [e_phoff {:#x}, +{} * {}) ends at {:#x}, past the end of the {:#x}-byte "
                "file",
                src.name(), ehdr.e_phoff, ehdr.e_phnum, sizeof(Elf64_Phdr), table_end, src.size());
  std::vector<Elf64_Phdr> phdrs(ehdr.e_phnum);
  if (auto r = src.read_at(ehdr.e_phoff, std::as_writable_bytes(std::span(phdrs))); !r)
    return std::unexpected(r.error());
  return phdrs;
}

// File-side checks for a PT_LOAD or PT_NOTE: its bytes lie inside the file.
Result<void> check_file_range(const ImageSource& src, const Segment& seg, std::string_view kind) {
  const Elf64_Phdr& ph = seg.phdr;
  uint64_t end = 0;
  if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &end))
    return fail(ErrorCode::kOverflow, "{}: {} {} (program header at {:#x}): p_offset {:#x} + p_filesz {:#x} wraps",
                src.name(), kind, seg.index, seg.phdr_offset, ph.p_offset, ph.p_filesz);
  if (end > src.size())
    return fail(ErrorCode::kTruncated,
                "{}: {} {} (program header at {:#x}): file bytes [p_offset {:#x}, +p_filesz {:#x}) end past the "
                "{:#x}-byte file",
                src.name(), kind, seg.index, seg.phdr_offset, ph.p_offset, ph.p_filesz, src.size());
  return {};
}

Result<void> check_load(const ImageSource& src, const Segment& seg) {
  const Elf64_Phdr& ph = seg.phdr;
  if (ph.p_filesz > ph.p_memsz)
    return fail(ErrorCode::kInvalidField,
                "{}: PT_LOAD {} (program header at {:#x}): p_filesz {:#x} (offset {:#x}) > p_memsz {:#x} (offset {:#x})",
                src.name(), seg.index, seg.phdr_offset, ph.p_filesz, seg.phdr_offset + kPhdrFilesz, ph.p_memsz,
                seg.phdr_offset + kPhdrMemsz);
  if (auto r = check_file_range(src, seg, "PT_LOAD"); !r) return r;
  uint64_t end = 0;
  if (__builtin_add_overflow(ph.p_paddr, ph.p_memsz, &end))
    return fail(ErrorCode::kOverflow, "{}: PT_LOAD {} (program header at {:#x}): p_paddr {:#x} + p_memsz {:#x} wraps",
                src.name(), seg.index, seg.phdr_offset, ph.p_paddr, ph.p_memsz);
  if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &end))
    return fail(ErrorCode::kOverflow, "{}: PT_LOAD {} (program header at {:#x}): p_vaddr {:#x} + p_memsz {:#x} wraps",
                src.name(), seg.index, seg.phdr_offset, ph.p_vaddr, ph.p_memsz);
  return {};
}

Result<void> check_overlaps(const ImageSource& src, std::vector<Segment> loads) {
  std::sort(loads.begin(), loads.end(),
            [](const Segment& a, const Segment& b) { return a.phdr.p_paddr < b.phdr.p_paddr; });
  // Sorted by start, a segment overlaps an earlier one iff it starts below the
  // furthest end seen so far: O(n log n) even for 65534 headers.
  const Segment* furthest = nullptr;
  for (const Segment& seg : loads) {
    if (seg.phdr.p_memsz == 0) continue;
    if (furthest && seg.phdr.p_paddr < furthest->phdr.p_paddr + furthest->phdr.p_memsz)
      return fail(ErrorCode::kOverlap,
                  "{}: PT_LOAD {} [{:#x}, {:#x}) (program header at {:#x}) overlaps PT_LOAD {} [{:#x}, {:#x}) "
                  "(program header at {:#x})",
                  src.name(), seg.index, seg.phdr.p_paddr, seg.phdr.p_paddr + seg.phdr.p_memsz, seg.phdr_offset,
                  furthest->index, furthest->phdr.p_paddr, furthest->phdr.p_paddr + furthest->phdr.p_memsz,
                  furthest->phdr_offset);
    if (!furthest || seg.phdr.p_paddr + seg.phdr.p_memsz > furthest->phdr.p_paddr + furthest->phdr.p_memsz)
      furthest = &seg;
  }
  return {};
}

// Linux's x86 vmlinux has a physical e_entry, but other linkers put the
// virtual one there: translate through the segment that holds it.
Result<uint64_t> physical_entry(const ImageSource& src, const ParsedElf& elf) {
  const uint64_t e = elf.ehdr.e_entry;
  for (const Segment& seg : elf.loads)
    if (e >= seg.phdr.p_vaddr && e - seg.phdr.p_vaddr < seg.phdr.p_memsz)
      return seg.phdr.p_paddr + (e - seg.phdr.p_vaddr);
  for (const Segment& seg : elf.loads)
    if (e >= seg.phdr.p_paddr && e - seg.phdr.p_paddr < seg.phdr.p_memsz) return e;
  return fail(ErrorCode::kInvalidField,
              "{}: e_entry {:#x} (offset {:#x}) is not inside any PT_LOAD segment (virtual or physical)", src.name(),
              e, kEhdrEntry);
}

bool inside_a_load(const ParsedElf& elf, uint64_t addr) {
  return std::any_of(elf.loads.begin(), elf.loads.end(), [&](const Segment& seg) {
    return addr >= seg.phdr.p_paddr && addr - seg.phdr.p_paddr < seg.phdr.p_memsz;
  });
}

}  // namespace

Result<ParsedElf> parse_elf(const ImageSource& src) {
  ParsedElf elf{};
  auto ehdr = read_ehdr(src);
  if (!ehdr) return std::unexpected(ehdr.error());
  elf.ehdr = *ehdr;
  auto arch = check_machine(src, elf.ehdr);
  if (!arch) return std::unexpected(arch.error());
  elf.arch = *arch;
  auto phdrs = read_phdrs(src, elf.ehdr);
  if (!phdrs) return std::unexpected(phdrs.error());

  for (uint64_t i = 0; i < phdrs->size(); ++i) {
    Segment seg{i, elf.ehdr.e_phoff + i * sizeof(Elf64_Phdr), (*phdrs)[i]};
    if (seg.phdr.p_type == PT_LOAD) {
      if (auto r = check_load(src, seg); !r) return std::unexpected(r.error());
      elf.loads.push_back(seg);
    } else if (seg.phdr.p_type == PT_NOTE) {
      if (auto r = check_file_range(src, seg, "PT_NOTE"); !r) return std::unexpected(r.error());
      elf.notes.push_back(seg);
    }
  }
  if (elf.loads.empty())
    return fail(ErrorCode::kInvalidField, "{}: none of the {} program headers at e_phoff {:#x} is a PT_LOAD",
                src.name(), elf.ehdr.e_phnum, elf.ehdr.e_phoff);
  if (auto r = check_overlaps(src, elf.loads); !r) return std::unexpected(r.error());

  uint64_t lowest = UINT64_MAX;
  uint64_t highest = 0;
  for (const Segment& seg : elf.loads) {
    lowest = std::min(lowest, seg.phdr.p_paddr);
    highest = std::max(highest, seg.phdr.p_paddr + seg.phdr.p_memsz);  // checked in check_load
  }
  elf.lowest_paddr = lowest;
  elf.span = highest - lowest;

  auto entry = physical_entry(src, elf);
  if (!entry) return std::unexpected(entry.error());
  elf.entry = *entry;

  auto pvh = find_pvh_entry(src, elf.notes);
  if (!pvh) return std::unexpected(pvh.error());
  if (*pvh && !inside_a_load(elf, (*pvh)->entry))
    return fail(ErrorCode::kInvalidField,
                "{}: PVH entry {:#x} (Xen PHYS32_ENTRY note desc at offset {:#x}) is not inside any PT_LOAD segment",
                src.name(), (*pvh)->entry, (*pvh)->desc_offset);
  elf.pvh = *pvh;
  return elf;
}

}  // namespace loader::elf_detail
