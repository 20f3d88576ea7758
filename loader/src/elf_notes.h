// Internal: ELF notes, for the PVH entry (Xen note XEN_ELFNOTE_PHYS32_ENTRY).
#pragma once

#include <optional>
#include <span>

#include "elf_headers.h"

namespace loader::elf_detail {

inline constexpr uint32_t kXenElfnotePhys32Entry = 18;

// Walks every PT_NOTE segment; returns the Xen PHYS32_ENTRY note's value, or
// nullopt when there is none. Notes with other names or types are skipped;
// a malformed note (sizes running past the segment, a desc of the wrong size,
// a misaligned segment, two Xen entries that disagree) is an error.
Result<std::optional<PvhEntry>> find_pvh_entry(const ImageSource& src, std::span<const Segment> notes);

}  // namespace loader::elf_detail
