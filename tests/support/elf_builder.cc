#include "support/elf_builder.h"

#include <algorithm>

namespace test_support {
namespace {

constexpr uint64_t kPage = 0x1000;
constexpr uint32_t kXenElfnotePhys32Entry = 18;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

template <class T>
void append(std::vector<std::byte>& out, const T& value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

void pad_to(std::vector<std::byte>& out, uint64_t size) {
  if (out.size() < size) out.resize(size, std::byte{0});
}

void append_note(std::vector<std::byte>& out, const ElfNoteSpec& note) {
  Elf64_Nhdr nhdr{static_cast<Elf64_Word>(note.name.size() + 1), static_cast<Elf64_Word>(note.desc.size()),
                  note.type};
  append(out, nhdr);
  for (char c : note.name) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0});
  pad_to(out, align_up(out.size(), 4));
  out.insert(out.end(), note.desc.begin(), note.desc.end());
  pad_to(out, align_up(out.size(), 4));
}

}  // namespace

std::vector<std::byte> pattern_bytes(size_t size, uint8_t seed) {
  std::vector<std::byte> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>(((i * 131 + seed * 17) % 251) + 1);
  return out;
}

ElfBuilder& ElfBuilder::add_segment(ElfSegmentSpec segment) {
  segments_.push_back(std::move(segment));
  return *this;
}
ElfBuilder& ElfBuilder::entry(uint64_t entry) {
  entry_ = entry;
  return *this;
}
ElfBuilder& ElfBuilder::machine(uint16_t machine) {
  machine_ = machine;
  return *this;
}
ElfBuilder& ElfBuilder::pvh_entry(uint32_t entry, size_t desc_size) {
  std::vector<std::byte> desc(desc_size);
  std::memcpy(desc.data(), &entry, std::min(desc_size, sizeof(entry)));
  pvh_note_ = ElfNoteSpec{"Xen", kXenElfnotePhys32Entry, std::move(desc)};
  return *this;
}
ElfBuilder& ElfBuilder::add_note(ElfNoteSpec note) {
  notes_.push_back(std::move(note));
  return *this;
}
ElfBuilder& ElfBuilder::linux_version(std::string text) {
  version_ = std::move(text);
  return *this;
}
ElfBuilder& ElfBuilder::add_program_header(Elf64_Phdr phdr) {
  extra_phdrs_.push_back(phdr);
  return *this;
}

ElfImage ElfBuilder::build() const {
  ElfImage img;
  std::vector<ElfSegmentSpec> segments = segments_;
  std::optional<size_t> version_in_segment;
  if (version_ && !segments.empty()) {
    version_in_segment = segments[0].content.size();
    std::string banner = "Linux version " + *version_ + "\n";
    for (char c : banner) segments[0].content.push_back(static_cast<std::byte>(c));
  }
  std::vector<ElfNoteSpec> notes = notes_;
  if (pvh_note_) notes.push_back(*pvh_note_);
  const bool has_notes = !notes.empty();
  const uint64_t phnum = segments.size() + (has_notes ? 1 : 0) + extra_phdrs_.size();

  // Layout: ehdr | phdrs | notes | page-aligned segment data.
  img.phoff = sizeof(Elf64_Ehdr);
  std::vector<std::byte> note_bytes;
  for (const ElfNoteSpec& n : notes) {
    img.note_offsets.push_back(note_bytes.size());
    append_note(note_bytes, n);
  }
  img.note_data_offset = align_up(img.phoff + phnum * sizeof(Elf64_Phdr), 4);
  for (uint64_t& off : img.note_offsets) off += img.note_data_offset;
  if (pvh_note_) img.pvh_note_offset = img.note_offsets.back();
  uint64_t data = align_up(img.note_data_offset + note_bytes.size(), kPage);
  for (const ElfSegmentSpec& s : segments) {
    img.load_data_offsets.push_back(data);
    data = align_up(data + s.content.size(), kPage);
  }
  if (version_in_segment) img.version_offset = img.load_data_offsets[0] + *version_in_segment;

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = machine_;
  eh.e_version = EV_CURRENT;
  eh.e_entry = entry_;
  eh.e_phoff = img.phoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(phnum);
  append(img.bytes, eh);

  for (size_t i = 0; i < segments.size(); ++i) {
    const ElfSegmentSpec& s = segments[i];
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = s.flags;
    ph.p_offset = img.load_data_offsets[i];
    ph.p_vaddr = s.vaddr;
    ph.p_paddr = s.paddr;
    ph.p_filesz = s.content.size();
    ph.p_memsz = std::max<uint64_t>(s.memsz, s.content.size());
    ph.p_align = 0x200000;
    img.load_phdr_offsets.push_back(img.bytes.size());
    append(img.bytes, ph);
  }
  if (has_notes) {
    Elf64_Phdr ph{};
    ph.p_type = PT_NOTE;
    ph.p_flags = PF_R;
    ph.p_offset = img.note_data_offset;
    ph.p_filesz = note_bytes.size();
    ph.p_memsz = 0;
    ph.p_align = 4;
    img.note_phdr_offset = img.bytes.size();
    append(img.bytes, ph);
  }
  for (const Elf64_Phdr& ph : extra_phdrs_) append(img.bytes, ph);

  pad_to(img.bytes, img.note_data_offset);
  img.bytes.insert(img.bytes.end(), note_bytes.begin(), note_bytes.end());
  for (size_t i = 0; i < segments.size(); ++i) {
    pad_to(img.bytes, img.load_data_offsets[i]);
    img.bytes.insert(img.bytes.end(), segments[i].content.begin(), segments[i].content.end());
  }
  return img;
}

ElfBuilder vmlinux_like() {
  ElfBuilder b;
  constexpr uint64_t kText = 0x1000000;
  constexpr uint64_t kData = 0x1400000;
  constexpr uint64_t kInit = 0x1800000;
  b.add_segment({kText, kText + kStartKernelMap, pattern_bytes(0x3000, 1), 0, PF_R | PF_X});
  b.add_segment({kData, kData + kStartKernelMap, pattern_bytes(0x2000, 2), 0x5000, PF_R | PF_W});
  b.add_segment({kInit, kInit + kStartKernelMap, pattern_bytes(0x1000, 3), 0x1800, PF_R | PF_W | PF_X});
  b.entry(kVmlinuxEntry);
  std::vector<std::byte> build_id = pattern_bytes(20, 4);
  b.add_note({"GNU", NT_GNU_BUILD_ID, build_id});
  b.add_note({"Linux", 0x100, pattern_bytes(6, 5)});   // 6-byte name and desc: padding on both
  b.add_note({"Xen", 1, pattern_bytes(8, 6)});         // XEN_ELFNOTE_ENTRY: same name, other type
  b.pvh_entry(kVmlinuxPvhEntry, 8);
  b.linux_version(kVmlinuxVersion);
  b.add_program_header(Elf64_Phdr{PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 0x10});
  return b;
}

}  // namespace test_support
