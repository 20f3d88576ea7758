// Builds x86_64 ELF64 vmlinux look-alikes in memory, and reports where every
// structure landed so tests can byte-patch a single field.
#pragma once

#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

// Linux maps the kernel at this virtual offset from its physical address.
inline constexpr uint64_t kStartKernelMap = 0xffffffff80000000ull;

// Ehdr/Phdr field offsets, for patching (offsetof on the <elf.h> structs).
inline constexpr uint64_t kEhdrType = offsetof(Elf64_Ehdr, e_type);
inline constexpr uint64_t kEhdrMachine = offsetof(Elf64_Ehdr, e_machine);
inline constexpr uint64_t kEhdrEntry = offsetof(Elf64_Ehdr, e_entry);
inline constexpr uint64_t kEhdrPhoff = offsetof(Elf64_Ehdr, e_phoff);
inline constexpr uint64_t kEhdrPhentsize = offsetof(Elf64_Ehdr, e_phentsize);
inline constexpr uint64_t kEhdrPhnum = offsetof(Elf64_Ehdr, e_phnum);
inline constexpr uint64_t kPhdrType = offsetof(Elf64_Phdr, p_type);
inline constexpr uint64_t kPhdrOffset = offsetof(Elf64_Phdr, p_offset);
inline constexpr uint64_t kPhdrVaddr = offsetof(Elf64_Phdr, p_vaddr);
inline constexpr uint64_t kPhdrPaddr = offsetof(Elf64_Phdr, p_paddr);
inline constexpr uint64_t kPhdrFilesz = offsetof(Elf64_Phdr, p_filesz);
inline constexpr uint64_t kPhdrMemsz = offsetof(Elf64_Phdr, p_memsz);
inline constexpr uint64_t kNhdrNamesz = offsetof(Elf64_Nhdr, n_namesz);
inline constexpr uint64_t kNhdrDescsz = offsetof(Elf64_Nhdr, n_descsz);
inline constexpr uint64_t kNhdrType = offsetof(Elf64_Nhdr, n_type);

struct ElfSegmentSpec {
  uint64_t paddr = 0;
  uint64_t vaddr = 0;
  std::vector<std::byte> content;  // p_filesz is content.size()
  uint64_t memsz = 0;              // below content.size() means "the same"
  uint32_t flags = PF_R | PF_X;
};

struct ElfNoteSpec {
  std::string name;  // written with its NUL; n_namesz counts it
  uint32_t type = 0;
  std::vector<std::byte> desc;
};

// The built file and where each part of it is.
struct ElfImage {
  std::vector<std::byte> bytes;
  uint64_t phoff = 0;
  std::vector<uint64_t> load_phdr_offsets;  // program header of each PT_LOAD, in add order
  std::vector<uint64_t> load_data_offsets;  // file bytes of each PT_LOAD
  std::optional<uint64_t> note_phdr_offset;
  uint64_t note_data_offset = 0;
  std::vector<uint64_t> note_offsets;        // header of each note, in add order (Xen PVH note last)
  std::optional<uint64_t> pvh_note_offset;   // header of the Xen PHYS32_ENTRY note
  std::optional<uint64_t> version_offset;    // the "Linux version" banner

  template <class T>
  void put(uint64_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
  }
  template <class T>
  T get(uint64_t offset) const {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
  }
};

class ElfBuilder {
 public:
  ElfBuilder& add_segment(ElfSegmentSpec segment);
  ElfBuilder& entry(uint64_t entry);
  ElfBuilder& machine(uint16_t machine);
  // A Xen note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) with a 4- or 8-byte desc;
  // Linux writes 8 bytes on x86_64.
  ElfBuilder& pvh_entry(uint32_t entry, size_t desc_size = 8);
  ElfBuilder& add_note(ElfNoteSpec note);
  // Appends "Linux version <text>\n" to the first segment's file bytes.
  ElfBuilder& linux_version(std::string text);
  // Extra non-PT_LOAD program headers (PT_GNU_STACK and friends), after the notes.
  ElfBuilder& add_program_header(Elf64_Phdr phdr);

  ElfImage build() const;

 private:
  std::vector<ElfSegmentSpec> segments_;
  std::vector<ElfNoteSpec> notes_;
  std::vector<Elf64_Phdr> extra_phdrs_;
  std::optional<ElfNoteSpec> pvh_note_;
  std::optional<std::string> version_;
  uint64_t entry_ = 0;
  uint16_t machine_ = EM_X86_64;
};

// Deterministic non-zero bytes, different per seed, to check what was loaded.
std::vector<std::byte> pattern_bytes(size_t size, uint8_t seed);

// A small vmlinux look-alike laid out like Debian's: PT_LOADs at 16 MiB
// (text 0x3000 bytes, data 0x2000 bytes with a bss of 0x3000 after it,
// another segment at 0x1800000), vaddr = paddr + kStartKernelMap, physical
// e_entry 0x1000000, a PT_NOTE holding GNU, Linux and Xen notes ending with
// PHYS32_ENTRY 0x1000850 (8-byte desc), and a version banner.
inline constexpr uint64_t kVmlinuxEntry = 0x1000000;
inline constexpr uint32_t kVmlinuxPvhEntry = 0x1000850;
inline constexpr char kVmlinuxVersion[] = "6.1.0-test-amd64 (builder@minivmm) #1 SMP";
ElfBuilder vmlinux_like();

}  // namespace test_support
