#include "elf_notes.h"

#include <array>
#include <cstring>

namespace loader::elf_detail {
namespace {

constexpr uint64_t kNoteAlign = 4;
constexpr std::array<char, 4> kXenName = {'X', 'e', 'n', '\0'};

uint64_t pad(uint64_t n) { return (n + kNoteAlign - 1) & ~(kNoteAlign - 1); }

// One PT_NOTE segment; `found` carries a Xen entry across segments.
Result<void> scan_segment(const ImageSource& src, const Segment& seg, std::optional<PvhEntry>& found) {
  const Elf64_Phdr& ph = seg.phdr;
  if (ph.p_offset % kNoteAlign != 0)
    return fail(ErrorCode::kInvalidField,
                "{}: PT_NOTE segment {} (program header at {:#x}): p_offset {:#x} is not {}-byte aligned",
                src.name(), seg.index, seg.phdr_offset, ph.p_offset, kNoteAlign);
  // parse_elf checked p_offset + p_filesz against the file size.
  const uint64_t end = ph.p_offset + ph.p_filesz;
  uint64_t pos = ph.p_offset;
  while (pos < end) {
    if (end - pos < sizeof(Elf64_Nhdr))
      return fail(ErrorCode::kTruncated,
                  "{}: note header at offset {:#x} needs {} bytes but PT_NOTE segment {} ends at {:#x}", src.name(),
                  pos, sizeof(Elf64_Nhdr), seg.index, end);
    auto nhdr = src.read_obj<Elf64_Nhdr>(pos);
    if (!nhdr) return std::unexpected(nhdr.error());
    const uint64_t name_at = pos + sizeof(Elf64_Nhdr);
    const uint64_t room = end - name_at;
    // namesz and descsz are 32-bit, so their padded sum fits in 64 bits.
    const uint64_t name_room = pad(nhdr->n_namesz);
    if (nhdr->n_namesz > room || (name_room > room && nhdr->n_descsz > 0))
      return fail(ErrorCode::kTruncated,
                  "{}: note at offset {:#x}: n_namesz {:#x} runs past the end of PT_NOTE segment {} at {:#x}",
                  src.name(), pos, nhdr->n_namesz, seg.index, end);
    const uint64_t desc_at = name_at + name_room;
    if (nhdr->n_descsz > 0 && nhdr->n_descsz > end - desc_at)
      return fail(ErrorCode::kTruncated,
                  "{}: note at offset {:#x}: n_descsz {:#x} at {:#x} runs past the end of PT_NOTE segment {} at {:#x}",
                  src.name(), pos, nhdr->n_descsz, desc_at, seg.index, end);

    if (nhdr->n_namesz == kXenName.size() && nhdr->n_type == kXenElfnotePhys32Entry) {
      std::array<char, 4> name{};
      if (auto r = src.read_at(name_at, std::as_writable_bytes(std::span(name))); !r)
        return std::unexpected(r.error());
      if (name == kXenName) {
        if (nhdr->n_descsz != 4 && nhdr->n_descsz != 8)
          return fail(ErrorCode::kInvalidField,
                      "{}: Xen PHYS32_ENTRY note at offset {:#x}: n_descsz {} (offset {:#x}) must be 4 or 8",
                      src.name(), pos, nhdr->n_descsz, pos + offsetof(Elf64_Nhdr, n_descsz));
        uint64_t value = 0;
        std::array<std::byte, 8> desc{};
        if (auto r = src.read_at(desc_at, std::span(desc).first(nhdr->n_descsz)); !r)
          return std::unexpected(r.error());
        std::memcpy(&value, desc.data(), desc.size());
        // The entry is a 32-bit physical address; an 8-byte desc with high
        // bits set would be truncated silently.
        if (value > UINT32_MAX)
          return fail(ErrorCode::kInvalidField,
                      "{}: Xen PHYS32_ENTRY note desc at offset {:#x} is {:#x}, above 4 GiB", src.name(), desc_at,
                      value);
        PvhEntry entry{static_cast<uint32_t>(value), desc_at};
        if (found && found->entry != entry.entry)
          return fail(ErrorCode::kInvalidField,
                      "{}: Xen PHYS32_ENTRY note at offset {:#x} says {:#x}, but the one at {:#x} said {:#x}",
                      src.name(), pos, entry.entry, found->desc_offset, found->entry);
        if (!found) found = entry;
      }
    }
    // The last note's padding may be cut off by the end of the segment.
    const uint64_t next = desc_at + pad(nhdr->n_descsz);
    if (next >= end) break;
    pos = next;
  }
  return {};
}

}  // namespace

Result<std::optional<PvhEntry>> find_pvh_entry(const ImageSource& src, std::span<const Segment> notes) {
  std::optional<PvhEntry> found;
  for (const Segment& seg : notes)
    if (auto r = scan_segment(src, seg, found); !r) return std::unexpected(r.error());
  return found;
}

}  // namespace loader::elf_detail
