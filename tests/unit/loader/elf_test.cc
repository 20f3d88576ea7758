#include "loader/elf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/elf_builder.h"

namespace loader {
namespace {

using test_support::ElfBuilder;
using test_support::ElfImage;
using test_support::vmlinux_like;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;
constexpr char kName[] = "test-vmlinux";

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

Error inspect_error(const ElfImage& img) {
  SpanImageSource src(img.bytes, kName);
  auto r = inspect_elf(src);
  if (r) {
    ADD_FAILURE() << "inspect_elf accepted the image";
    return Error{ErrorCode::kIo, ""};
  }
  EXPECT_THAT(r.error().message, HasSubstr(kName));
  return r.error();
}

GuestMemory make_memory(uint64_t size = 64 * kMiB) {
  std::array specs{RegionSpec{GuestAddress(0), size}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

LoadOptions x86_options() {
  LoadOptions o;
  o.arch = Arch::kX86_64;
  o.highmem_start = GuestAddress(kMiB);
  return o;
}

Error load_error(const ElfImage& img, GuestMemory& mem, const LoadOptions& options = x86_options()) {
  SpanImageSource src(img.bytes, kName);
  auto r = load_elf(src, mem, options);
  if (r) {
    ADD_FAILURE() << "load_elf accepted the image";
    return Error{ErrorCode::kIo, ""};
  }
  EXPECT_THAT(r.error().message, HasSubstr(kName));
  return r.error();
}

uint64_t phdr(const ElfImage& img, size_t load, uint64_t field) { return img.load_phdr_offsets[load] + field; }

// ---- accepted images ----

TEST(ElfInspect, ReportsVmlinuxLikeImage) {
  ElfImage img = vmlinux_like().build();
  SpanImageSource src(img.bytes, kName);
  auto info = inspect_elf(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kElf);
  EXPECT_EQ(info->arch, Arch::kX86_64);
  EXPECT_EQ(info->preferred_load_address, 0x1000000u);
  EXPECT_EQ(info->load_size, 0x1800000u + 0x1800u - 0x1000000u);
  EXPECT_EQ(info->entry, test_support::kVmlinuxEntry);
  ASSERT_TRUE(info->pvh_entry);
  EXPECT_EQ(*info->pvh_entry, test_support::kVmlinuxPvhEntry);
  EXPECT_FALSE(info->relocatable);
  EXPECT_EQ(info->version, std::string("Linux version ") + test_support::kVmlinuxVersion);

  auto field = [&](std::string_view name) -> const HeaderField* {
    for (const HeaderField& f : info->fields)
      if (f.name == name) return &f;
    return nullptr;
  };
  ASSERT_TRUE(field("e_entry"));
  EXPECT_EQ(field("e_entry")->offset, test_support::kEhdrEntry);
  EXPECT_EQ(field("e_entry")->value, test_support::kVmlinuxEntry);
  ASSERT_TRUE(field("e_phoff"));
  EXPECT_EQ(field("e_phoff")->value, img.phoff);
  ASSERT_TRUE(field("e_phnum"));
  EXPECT_EQ(field("e_phnum")->value, 5u);  // 3 PT_LOAD, PT_NOTE, PT_GNU_STACK
  ASSERT_TRUE(field("PT_LOAD[1].p_paddr"));
  EXPECT_EQ(field("PT_LOAD[1].p_paddr")->offset, phdr(img, 1, test_support::kPhdrPaddr));
  EXPECT_EQ(field("PT_LOAD[1].p_paddr")->value, 0x1400000u);
  ASSERT_TRUE(field("PT_LOAD[1].p_filesz"));
  EXPECT_EQ(field("PT_LOAD[1].p_filesz")->value, 0x2000u);
  ASSERT_TRUE(field("PT_LOAD[1].p_memsz"));
  EXPECT_EQ(field("PT_LOAD[1].p_memsz")->offset, phdr(img, 1, test_support::kPhdrMemsz));
  EXPECT_EQ(field("PT_LOAD[1].p_memsz")->value, 0x5000u);
}

TEST(ElfLoad, CopiesSegmentsAndZeroesBss) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory();
  ASSERT_TRUE(mem.fill(GuestAddress(0), 64 * kMiB, std::byte{0xAA}));
  SpanImageSource src(img.bytes, kName);
  auto loaded = load_elf(src, mem, x86_options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->format, KernelFormat::kElf);
  EXPECT_EQ(loaded->load_address, GuestAddress(0x1000000));
  EXPECT_EQ(loaded->load_size, 0x801800u);
  EXPECT_EQ(loaded->entry, GuestAddress(test_support::kVmlinuxEntry));
  ASSERT_TRUE(loaded->pvh_entry);
  EXPECT_EQ(*loaded->pvh_entry, GuestAddress(test_support::kVmlinuxPvhEntry));

  for (size_t i = 0; i < img.load_phdr_offsets.size(); ++i) {
    const uint64_t paddr = img.get<uint64_t>(phdr(img, i, test_support::kPhdrPaddr));
    const uint64_t filesz = img.get<uint64_t>(phdr(img, i, test_support::kPhdrFilesz));
    const uint64_t memsz = img.get<uint64_t>(phdr(img, i, test_support::kPhdrMemsz));
    std::vector<std::byte> got(memsz + 1);
    ASSERT_TRUE(mem.read(GuestAddress(paddr), got));
    std::vector<std::byte> want(img.bytes.begin() + static_cast<ptrdiff_t>(img.load_data_offsets[i]),
                                img.bytes.begin() + static_cast<ptrdiff_t>(img.load_data_offsets[i] + filesz));
    want.resize(memsz, std::byte{0});   // the bss: zero, not the 0xAA left there
    want.push_back(std::byte{0xAA});    // nothing written past p_memsz
    EXPECT_EQ(got, want) << "PT_LOAD " << i;
  }
  // Below the kernel nothing was touched.
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(0xffffff)), 0xAA);
}

TEST(ElfLoad, TranslatesVirtualEntryThroughItsSegment) {
  ElfImage img = vmlinux_like().entry(test_support::kStartKernelMap + 0x1000100).build();
  GuestMemory mem = make_memory();
  SpanImageSource src(img.bytes, kName);
  auto loaded = load_elf(src, mem, x86_options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->entry, GuestAddress(0x1000100));
  // An entry in the second segment's virtual range maps through that segment.
  ElfImage img2 = vmlinux_like().entry(test_support::kStartKernelMap + 0x1400010).build();
  SpanImageSource src2(img2.bytes, kName);
  auto info = inspect_elf(src2);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->entry, 0x1400010u);
}

TEST(ElfLoad, AcceptsFourByteXenDesc) {
  ElfImage img = vmlinux_like().pvh_entry(0x1000123, 4).build();
  SpanImageSource src(img.bytes, kName);
  auto info = inspect_elf(src);
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_TRUE(info->pvh_entry);
  EXPECT_EQ(*info->pvh_entry, 0x1000123u);
}

TEST(ElfLoad, NoXenNoteMeansNoPvhEntry) {
  ElfImage img = ElfBuilder()
                     .add_segment({0x200000, 0x200000, test_support::pattern_bytes(0x100, 9), 0x1000})
                     .add_note({"GNU", NT_GNU_BUILD_ID, test_support::pattern_bytes(20, 1)})
                     .entry(0x200000)
                     .build();
  GuestMemory mem = make_memory();
  SpanImageSource src(img.bytes, kName);
  auto loaded = load_elf(src, mem, x86_options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->pvh_entry);
  auto info = inspect_elf(src);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, "");
}

TEST(ElfLoad, SkipsXenNotesOfOtherTypesAndOtherNamesOfType18) {
  ElfImage img = vmlinux_like()
                     .add_note({"Xen", 18 + 1, test_support::pattern_bytes(3, 1)})  // odd desc size, other type
                     .add_note({"Xenx", 18, test_support::pattern_bytes(2, 1)})     // type 18, other name
                     .build();
  SpanImageSource src(img.bytes, kName);
  auto info = inspect_elf(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->pvh_entry, test_support::kVmlinuxPvhEntry);
}

TEST(ElfLoad, DebianBookwormLayout) {
  // The program headers of bookworm's cloud-amd64 vmlinux (file sizes cut
  // down): the percpu segment has p_vaddr 0, and the last two segments touch.
  using test_support::kStartKernelMap;
  using test_support::pattern_bytes;
  ElfImage img = ElfBuilder()
                     .add_segment({0x1000000, kStartKernelMap + 0x1000000, pattern_bytes(0x2000, 1), 0x1430000})
                     .add_segment({0x2600000, kStartKernelMap + 0x2600000, pattern_bytes(0x1000, 2), 0x5ab000})
                     .add_segment({0x2bab000, 0, pattern_bytes(0x800, 3), 0x32000})
                     .add_segment({0x2bdd000, kStartKernelMap + 0x2bdd000, pattern_bytes(0x1000, 4), 0x5f3000})
                     .entry(0x1000000)
                     .add_note({"GNU", NT_GNU_BUILD_ID, pattern_bytes(20, 5)})
                     .add_note({"Linux", 6, pattern_bytes(4, 6)})
                     .pvh_entry(0x1000850, 8)
                     .linux_version("6.1.0-18-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC")
                     .build();
  GuestMemory mem = make_memory();
  ASSERT_TRUE(mem.fill(GuestAddress(0), 64 * kMiB, std::byte{0xAA}));
  SpanImageSource src(img.bytes, kName);
  auto loaded = load_elf(src, mem, x86_options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(0x1000000));
  EXPECT_EQ(loaded->load_size, 0x2bdd000u + 0x5f3000u - 0x1000000u);
  EXPECT_EQ(loaded->entry, GuestAddress(0x1000000));
  EXPECT_EQ(loaded->pvh_entry, GuestAddress(0x1000850));
  // Last byte of the percpu bss and first byte of the next segment's file data.
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(0x2bdcfff)), 0u);
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(0x2bdd000)),
            std::to_integer<uint8_t>(img.bytes[img.load_data_offsets[3]]));
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(0x2bdd000 + 0x5f3000)), 0xAA);
}

TEST(ElfLoad, LoadsFromAFileWithPread) {
  ElfImage img = vmlinux_like().build();
  char path[] = "/tmp/minivmm-elf-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, img.bytes.data(), img.bytes.size()), static_cast<ssize_t>(img.bytes.size()));
  close(fd);
  auto file = FileImageSource::open(path);
  unlink(path);
  ASSERT_TRUE(file) << file.error().message;
  GuestMemory mem = make_memory();
  auto loaded = load_elf(*file, mem, x86_options());
  ASSERT_TRUE(loaded) << loaded.error().message;
  std::vector<std::byte> got(0x3000);
  ASSERT_TRUE(mem.read(GuestAddress(0x1000000), got));
  EXPECT_TRUE(std::equal(got.begin(), got.end(), img.bytes.begin() + static_cast<ptrdiff_t>(img.load_data_offsets[0])));
  auto info = inspect_elf(*file);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->version, std::string("Linux version ") + test_support::kVmlinuxVersion);
}

// ---- ident and ELF header ----

TEST(ElfReject, BadMagic) {
  ElfImage img = vmlinux_like().build();
  img.put<uint8_t>(1, 'X');
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kBadMagic);
  EXPECT_THAT(e.message, HasSubstr("7f 45 4c 46"));
}

TEST(ElfReject, FileShorterThanMagic) {
  ElfImage img = vmlinux_like().build();
  img.bytes.resize(3);
  EXPECT_EQ(inspect_error(img).code, ErrorCode::kBadMagic);
}

TEST(ElfReject, TruncatedElfHeader) {
  ElfImage img = vmlinux_like().build();
  img.bytes.resize(40);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("0x40"), HasSubstr("0x28")));
}

TEST(ElfReject, Class32) {
  ElfImage img = vmlinux_like().build();
  img.put<uint8_t>(EI_CLASS, ELFCLASS32);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_THAT(e.message, AllOf(HasSubstr("EI_CLASS"), HasSubstr("offset 0x4"), HasSubstr("ELFCLASS32")));
}

TEST(ElfReject, BigEndian) {
  ElfImage img = vmlinux_like().build();
  img.put<uint8_t>(EI_DATA, ELFDATA2MSB);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_THAT(e.message, AllOf(HasSubstr("EI_DATA"), HasSubstr("offset 0x5"), HasSubstr("is 2")));
}

TEST(ElfReject, IdentVersion) {
  ElfImage img = vmlinux_like().build();
  img.put<uint8_t>(EI_VERSION, 7);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("EI_VERSION"), HasSubstr("offset 0x6"), HasSubstr("is 7")));
}

TEST(ElfReject, Aarch64MachineIsWrongArch) {
  ElfImage img = vmlinux_like().machine(EM_AARCH64).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_machine"), HasSubstr("0x12"), HasSubstr("183"), HasSubstr("aarch64")));
}

TEST(ElfReject, RiscvMachineIsWrongArch) {
  ElfImage img = vmlinux_like().machine(EM_RISCV).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_machine"), HasSubstr("243"), HasSubstr("riscv64")));
}

TEST(ElfReject, OtherMachineIsUnsupported) {
  ElfImage img = vmlinux_like().machine(EM_386).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_machine"), HasSubstr("0x12"), HasSubstr("is 3 ")));
}

TEST(ElfReject, RelocatableObjectType) {
  ElfImage img = vmlinux_like().build();
  img.put<uint16_t>(test_support::kEhdrType, ET_REL);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_type"), HasSubstr("0x10"), HasSubstr("is 1")));
}

TEST(ElfReject, RequestedArchMismatch) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory();
  LoadOptions options = x86_options();
  options.arch = Arch::kRiscv64;
  Error e = load_error(img, mem, options);
  EXPECT_EQ(e.code, ErrorCode::kWrongArch);
  EXPECT_THAT(e.message, AllOf(HasSubstr("x86_64"), HasSubstr("riscv64"), HasSubstr("e_machine")));
}

// ---- program header table ----

TEST(ElfReject, PhentsizeNotPhdrSize) {
  ElfImage img = vmlinux_like().build();
  img.put<uint16_t>(test_support::kEhdrPhentsize, 32);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phentsize"), HasSubstr("0x36"), HasSubstr("is 32")));
}

TEST(ElfReject, NoProgramHeaders) {
  ElfImage img = vmlinux_like().build();
  img.put<uint16_t>(test_support::kEhdrPhnum, 0);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phnum"), HasSubstr("0x38"), HasSubstr("is 0")));
}

TEST(ElfReject, ExtendedProgramHeaderNumbering) {
  ElfImage img = vmlinux_like().build();
  img.put<uint16_t>(test_support::kEhdrPhnum, PN_XNUM);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kUnsupported);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phnum"), HasSubstr("0xffff")));
}

TEST(ElfReject, ProgramHeadersPastEndOfFile) {
  ElfImage img = vmlinux_like().build();
  const uint64_t phoff = img.bytes.size() - 100;
  img.put<uint64_t>(test_support::kEhdrPhoff, phoff);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phoff"), HasSubstr(hex(phoff))));
}

// Issue 13: a program header table that starts inside the ELF header. The
// fixture puts one PT_LOAD at e_phoff 0x38 so that the header's last eight
// bytes double as its p_type (e_phnum 1 | e_shentsize 0 = PT_LOAD) and
// p_flags (e_shnum | e_shstrndx): the bytes parse, so only the offset rule
// can refuse it.
TEST(ElfReject, ProgramHeaderTableOverlapsElfHeader) {
  ElfImage good = ElfBuilder().add_segment({.paddr = 0x1000000, .content = test_support::pattern_bytes(0x100, 7)})
                      .entry(0x1000000)
                      .build();
  ASSERT_EQ(good.load_phdr_offsets.size(), 1u);
  ASSERT_EQ(good.get<uint16_t>(test_support::kEhdrPhnum), 1u);
  {
    SpanImageSource src(good.bytes, kName);
    ASSERT_TRUE(inspect_elf(src)) << "the fixture's segment itself must be valid";
  }
  ElfImage img = good;
  auto phdr = good.get<Elf64_Phdr>(good.load_phdr_offsets[0]);
  phdr.p_flags = 0;  // e_shnum 0, e_shstrndx 0: no section headers claimed
  constexpr uint64_t kPhoff = 0x38;
  img.put<Elf64_Phdr>(kPhoff, phdr);
  img.put<uint64_t>(test_support::kEhdrPhoff, kPhoff);
  ASSERT_EQ(img.get<uint16_t>(test_support::kEhdrPhnum), 1u) << "p_type must read back as e_phnum 1";
  ASSERT_EQ(img.get<uint32_t>(kPhoff), uint32_t{PT_LOAD});
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phoff 0x38"), HasSubstr("offset 0x20"), HasSubstr("inside the 0x40-byte ELF header")));
  GuestMemory mem = make_memory();
  EXPECT_EQ(load_error(img, mem).code, ErrorCode::kInvalidField);
}

TEST(ElfReject, ProgramHeaderOffsetWraps) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(test_support::kEhdrPhoff, ~0ull - 8);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverflow);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_phoff"), HasSubstr(hex(~0ull - 8))));
}

TEST(ElfReject, NoLoadSegment) {
  ElfImage img = vmlinux_like().build();
  for (uint64_t off : img.load_phdr_offsets) img.put<uint32_t>(off + test_support::kPhdrType, PT_NULL);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD"), HasSubstr(hex(img.phoff))));
}

// ---- PT_LOAD segments ----

TEST(ElfReject, FileszAboveMemsz) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(phdr(img, 1, test_support::kPhdrMemsz), 0x1000);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("p_filesz 0x2000"), HasSubstr("p_memsz 0x1000"),
                               HasSubstr(hex(phdr(img, 1, test_support::kPhdrFilesz)))));
}

TEST(ElfReject, SegmentBytesPastEndOfFile) {
  ElfImage img = vmlinux_like().build();
  const uint64_t off = img.bytes.size() - 0x10;
  img.put<uint64_t>(phdr(img, 2, test_support::kPhdrOffset), off);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 2"), HasSubstr(hex(off)), HasSubstr(hex(img.load_phdr_offsets[2]))));
}

TEST(ElfReject, SegmentFileRangeWraps) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(phdr(img, 0, test_support::kPhdrOffset), ~0ull - 0x10);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverflow);
  EXPECT_THAT(e.message, AllOf(HasSubstr("p_offset"), HasSubstr(hex(~0ull - 0x10))));
}

TEST(ElfReject, SegmentPhysicalRangeWraps) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(phdr(img, 2, test_support::kPhdrPaddr), ~0ull - 0x100);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverflow);
  EXPECT_THAT(e.message, AllOf(HasSubstr("p_paddr"), HasSubstr(hex(~0ull - 0x100))));
}

TEST(ElfReject, SegmentVirtualRangeWraps) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(phdr(img, 2, test_support::kPhdrVaddr), ~0ull - 0x100);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverflow);
  EXPECT_THAT(e.message, AllOf(HasSubstr("p_vaddr"), HasSubstr(hex(~0ull - 0x100))));
}

TEST(ElfReject, SegmentsOverlap) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(phdr(img, 1, test_support::kPhdrPaddr), 0x1002000);  // inside the 0x3000+ text
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverlap);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 1"), HasSubstr("PT_LOAD 0"), HasSubstr("0x1002000"),
                               HasSubstr(hex(img.load_phdr_offsets[1]))));
}

TEST(ElfReject, SegmentInsideAnEarlierLargerOne) {
  // Sorted by address, segment 2 overlaps segment 0 but not its neighbour 1.
  ElfImage img = ElfBuilder()
                     .add_segment({0x200000, 0x200000, test_support::pattern_bytes(0x10, 1), 0x100000})
                     .add_segment({0x210000, 0x210000, test_support::pattern_bytes(0x10, 2), 0x10})
                     .add_segment({0x280000, 0x280000, test_support::pattern_bytes(0x10, 3), 0x10})
                     .entry(0x200000)
                     .build();
  img.put<uint64_t>(phdr(img, 1, test_support::kPhdrPaddr), 0x100000);  // moved away, still first by address
  img.put<uint64_t>(phdr(img, 1, test_support::kPhdrVaddr), 0x100000);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kOverlap);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 2"), HasSubstr("PT_LOAD 0")));
}

TEST(ElfReject, SegmentOutsideGuestMemory) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory(16 * kMiB + 0x4000);  // the text fits; data at 0x1400000 does not
  Error e = load_error(img, mem);
  EXPECT_EQ(e.code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 1"), HasSubstr("0x1400000"), HasSubstr("guest memory")));
}

TEST(ElfReject, SegmentCrossingEndOfGuestMemory) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory(0x1800000 + 0x1000);  // last segment's memsz is 0x1800
  Error e = load_error(img, mem);
  EXPECT_EQ(e.code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 2"), HasSubstr("0x1800000"), HasSubstr("p_memsz 0x1800")));
}

TEST(ElfReject, SegmentBelowHighmemStart) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory();
  LoadOptions options = x86_options();
  options.highmem_start = GuestAddress(0x1400000);
  Error e = load_error(img, mem, options);
  EXPECT_EQ(e.code, ErrorCode::kOutOfBounds);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_LOAD 0"), HasSubstr("highmem_start 0x1400000"),
                               HasSubstr(hex(phdr(img, 0, test_support::kPhdrPaddr)))));
}

TEST(ElfReject, RefusedLoadLeavesMemoryUntouched) {
  ElfImage img = vmlinux_like().build();
  GuestMemory mem = make_memory(0x1800000 + 0x1000);
  ASSERT_TRUE(mem.fill(GuestAddress(0), 0x1800000 + 0x1000, std::byte{0xAA}));
  EXPECT_EQ(load_error(img, mem).code, ErrorCode::kOutOfBounds);
  EXPECT_EQ(*mem.read_obj<uint64_t>(GuestAddress(0x1000000)), 0xAAAAAAAAAAAAAAAAull);
  EXPECT_EQ(*mem.read_obj<uint64_t>(GuestAddress(0x1400000)), 0xAAAAAAAAAAAAAAAAull);
}

TEST(ElfReject, EntryOutsideEverySegment) {
  ElfImage img = vmlinux_like().entry(0x500000).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("e_entry 0x500000"), HasSubstr("0x18")));
}

TEST(ElfReject, EntryJustPastASegment) {
  // 0x1005000 is the first byte after the data segment's bss: not loaded.
  ElfImage img = vmlinux_like().entry(0x1405000).build();
  EXPECT_EQ(inspect_error(img).code, ErrorCode::kInvalidField);
}

// ---- notes ----

TEST(ElfReject, PtNoteOutsideFile) {
  ElfImage img = vmlinux_like().build();
  img.put<uint64_t>(*img.note_phdr_offset + test_support::kPhdrFilesz, img.bytes.size());
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PT_NOTE"), HasSubstr(hex(*img.note_phdr_offset))));
}

TEST(ElfReject, MisalignedNoteSegment) {
  ElfImage img = vmlinux_like().build();
  const uint64_t off = img.note_data_offset + 2;
  img.put<uint64_t>(*img.note_phdr_offset + test_support::kPhdrOffset, off);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("aligned"), HasSubstr(hex(off))));
}

TEST(ElfReject, NoteNameRunsPastSegment) {
  ElfImage img = vmlinux_like().build();
  const uint64_t note = img.note_offsets[0];
  img.put<uint32_t>(note + test_support::kNhdrNamesz, 0x10000);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("n_namesz 0x10000"), HasSubstr(hex(note))));
}

TEST(ElfReject, NoteDescRunsPastSegment) {
  ElfImage img = vmlinux_like().build();
  const uint64_t note = *img.pvh_note_offset;
  img.put<uint32_t>(note + test_support::kNhdrDescsz, 0xfffffff0);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("n_descsz 0xfffffff0"), HasSubstr(hex(note))));
}

TEST(ElfReject, TruncatedNoteHeader) {
  ElfImage img = vmlinux_like().build();
  // Four more bytes in the segment: not enough for another 12-byte header.
  const uint64_t filesz = img.get<uint64_t>(*img.note_phdr_offset + test_support::kPhdrFilesz);
  img.put<uint64_t>(*img.note_phdr_offset + test_support::kPhdrFilesz, filesz + 4);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kTruncated);
  EXPECT_THAT(e.message, AllOf(HasSubstr("note header"), HasSubstr(hex(img.note_data_offset + filesz))));
}

TEST(ElfReject, XenEntryDescTooSmall) {
  ElfImage img = vmlinux_like().pvh_entry(0x1000850, 2).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("n_descsz 2"), HasSubstr(hex(*img.pvh_note_offset))));
}

TEST(ElfReject, XenEntryDescOddSize) {
  ElfImage img = vmlinux_like().pvh_entry(0x1000850, 12).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("n_descsz 12"), HasSubstr(hex(*img.pvh_note_offset))));
}

TEST(ElfReject, XenEntryAbove4GiB) {
  ElfImage img = vmlinux_like().build();
  const uint64_t desc = *img.pvh_note_offset + sizeof(Elf64_Nhdr) + 4;
  img.put<uint32_t>(desc + 4, 1);
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("0x101000850"), HasSubstr(hex(desc))));
}

TEST(ElfReject, XenEntryOutsideSegments) {
  ElfImage img = vmlinux_like().pvh_entry(0x2000000).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("PVH entry 0x2000000"),
                               HasSubstr(hex(*img.pvh_note_offset + sizeof(Elf64_Nhdr) + 4))));
}

TEST(ElfReject, ConflictingXenEntries) {
  std::array<std::byte, 4> other{};
  uint32_t v = 0x1000900;
  std::memcpy(other.data(), &v, 4);
  ElfImage img = vmlinux_like().add_note({"Xen", 18, {other.begin(), other.end()}}).build();
  Error e = inspect_error(img);
  EXPECT_EQ(e.code, ErrorCode::kInvalidField);
  EXPECT_THAT(e.message, AllOf(HasSubstr("0x1000900"), HasSubstr("0x1000850")));
}

}  // namespace
}  // namespace loader

namespace loader {
namespace {

// A zero-copy load must leave guest memory byte-identical to a copying load
// (bss zeroed, page tails zeroed), and guest writes must not reach the file.
TEST(ElfLoad, ZeroCopyMatchesCopyingLoadAndIsPrivate) {
  ElfImage img = vmlinux_like().build();
  char path[] = "/tmp/minivmm-elf-zc-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, img.bytes.data(), img.bytes.size()), static_cast<ssize_t>(img.bytes.size()));
  close(fd);
  auto file = FileImageSource::open(path);
  unlink(path);
  ASSERT_TRUE(file);

  GuestMemory copied = make_memory();
  GuestMemory mapped = make_memory();
  ASSERT_TRUE(copied.fill(GuestAddress(0), 64 * kMiB, std::byte{0xAA}));
  ASSERT_TRUE(mapped.fill(GuestAddress(0), 64 * kMiB, std::byte{0xAA}));
  LoadOptions zc = x86_options();
  zc.zero_copy = true;
  auto a = load_elf(*file, copied, x86_options());
  auto b = load_elf(*file, mapped, zc);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  // Compare every segment's memory image; bytes between segments that share a
  // mapped page may differ (a mapping covers whole pages).
  for (uint64_t ph : img.load_phdr_offsets) {
    const GuestAddress paddr(img.get<uint64_t>(ph + test_support::kPhdrPaddr));
    const uint64_t memsz = img.get<uint64_t>(ph + test_support::kPhdrMemsz);
    auto sa = copied.host_span(paddr, memsz);
    auto sb = mapped.host_span(paddr, memsz);
    ASSERT_TRUE(sa && sb);
    EXPECT_TRUE(std::equal(sa->begin(), sa->end(), sb->begin(), sb->end())) << "segment at " << std::hex
                                                                            << paddr.value();
  }

  ASSERT_TRUE(mapped.write_obj<uint32_t>(b->load_address, 0x12345678u));
  std::vector<std::byte> head(4);
  ASSERT_TRUE(file->read_at(img.load_data_offsets[0], head));
  EXPECT_TRUE(std::equal(head.begin(), head.end(), img.bytes.begin() + static_cast<ptrdiff_t>(img.load_data_offsets[0])));
}

}  // namespace
}  // namespace loader
