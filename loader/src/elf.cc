#include "loader/elf.h"

#include <fmt/format.h>

#include "elf_headers.h"
#include "loader/version_string.h"

namespace loader {
namespace {

using elf_detail::ParsedElf;
using elf_detail::Segment;

Result<void> check_arch(const ImageSource& src, const ParsedElf& elf, const LoadOptions& options) {
  if (options.arch && *options.arch != elf.arch)
    return fail(ErrorCode::kWrongArch, "{}: this ELF vmlinux is for {} (e_machine {} at offset {:#x}), not {}",
                src.name(), to_string(elf.arch), elf.ehdr.e_machine, offsetof(Elf64_Ehdr, e_machine),
                to_string(*options.arch));
  return {};
}

Result<void> check_in_memory(const ImageSource& src, const Segment& seg, const GuestMemory& mem,
                             const LoadOptions& options) {
  const Elf64_Phdr& ph = seg.phdr;
  if (GuestAddress(ph.p_paddr) < options.highmem_start)
    return fail(ErrorCode::kOutOfBounds,
                "{}: PT_LOAD {} (program header at {:#x}): p_paddr {:#x} (offset {:#x}) is below highmem_start {}",
                src.name(), seg.index, seg.phdr_offset, ph.p_paddr, seg.phdr_offset + elf_detail::kPhdrPaddr,
                options.highmem_start);
  if (!mem.contains(GuestAddress(ph.p_paddr), ph.p_memsz))
    return fail(ErrorCode::kOutOfBounds,
                "{}: PT_LOAD {} (program header at {:#x}): [p_paddr {:#x}, +p_memsz {:#x}) is not inside one guest "
                "memory region",
                src.name(), seg.index, seg.phdr_offset, ph.p_paddr, ph.p_memsz);
  return {};
}

void add_field(KernelInfo& info, std::string name, uint64_t offset, uint64_t value, std::string note = {}) {
  info.fields.push_back(HeaderField{std::move(name), offset, value, std::move(note)});
}

}  // namespace

Result<KernelInfo> inspect_elf(const ImageSource& src) {
  auto elf = elf_detail::parse_elf(src);
  if (!elf) return std::unexpected(elf.error());
  KernelInfo info;
  info.format = KernelFormat::kElf;
  info.arch = elf->arch;
  info.preferred_load_address = elf->lowest_paddr;
  info.load_size = elf->span;
  info.entry = elf->entry;
  if (elf->pvh) info.pvh_entry = elf->pvh->entry;
  info.relocatable = false;

  const Elf64_Ehdr& eh = elf->ehdr;
  add_field(info, "e_machine", offsetof(Elf64_Ehdr, e_machine), eh.e_machine, std::string(to_string(elf->arch)));
  add_field(info, "e_entry", offsetof(Elf64_Ehdr, e_entry), eh.e_entry,
            eh.e_entry == elf->entry ? "" : fmt::format("physical {:#x}", elf->entry));
  add_field(info, "e_phoff", offsetof(Elf64_Ehdr, e_phoff), eh.e_phoff);
  add_field(info, "e_phnum", offsetof(Elf64_Ehdr, e_phnum), eh.e_phnum);
  for (uint64_t i = 0; i < elf->loads.size(); ++i) {
    const Segment& seg = elf->loads[i];
    std::string prefix = fmt::format("PT_LOAD[{}].", i);
    add_field(info, prefix + "p_paddr", seg.phdr_offset + elf_detail::kPhdrPaddr, seg.phdr.p_paddr);
    add_field(info, prefix + "p_filesz", seg.phdr_offset + elf_detail::kPhdrFilesz, seg.phdr.p_filesz);
    add_field(info, prefix + "p_memsz", seg.phdr_offset + elf_detail::kPhdrMemsz, seg.phdr.p_memsz);
  }
  if (elf->pvh) add_field(info, "XEN_ELFNOTE_PHYS32_ENTRY", elf->pvh->desc_offset, elf->pvh->entry, "PVH entry");

  // The banner sits in .rodata, inside one of the loaded segments.
  for (const Segment& seg : elf->loads) {
    auto version = find_linux_version(src, seg.phdr.p_offset, seg.phdr.p_filesz);
    if (!version) return std::unexpected(version.error());
    if (*version) {
      info.version = std::move(**version);
      break;
    }
  }
  return info;
}

Result<LoadedKernel> load_elf(const ImageSource& src, GuestMemory& mem, const LoadOptions& options) {
  auto elf = elf_detail::parse_elf(src);
  if (!elf) return std::unexpected(elf.error());
  if (auto r = check_arch(src, *elf, options); !r) return std::unexpected(r.error());
  // Every segment is checked before the first byte is written, so a refused
  // kernel leaves guest memory as it was.
  for (const Segment& seg : elf->loads)
    if (auto r = check_in_memory(src, seg, mem, options); !r) return std::unexpected(r.error());

  for (const Segment& seg : elf->loads) {
    const Elf64_Phdr& ph = seg.phdr;
    const GuestAddress base(ph.p_paddr);
    if (auto r = load_into_memory(src, ph.p_offset, ph.p_filesz, mem, base); !r)
      return std::unexpected(with_context(r.error(), fmt::format("PT_LOAD {}", seg.index)));
    // The memory may hold a previous boot's kernel: bss must really be zero.
    if (ph.p_memsz > ph.p_filesz)
      if (auto r = mem.fill(base.unchecked_add(ph.p_filesz), ph.p_memsz - ph.p_filesz, std::byte{0}); !r)
        return std::unexpected(with_context(r.error(), fmt::format("PT_LOAD {} bss", seg.index)));
  }

  LoadedKernel out;
  out.format = KernelFormat::kElf;
  out.arch = elf->arch;
  out.load_address = GuestAddress(elf->lowest_paddr);
  out.load_size = elf->span;
  out.entry = GuestAddress(elf->entry);
  if (elf->pvh) out.pvh_entry = GuestAddress(elf->pvh->entry);
  return out;
}

}  // namespace loader
