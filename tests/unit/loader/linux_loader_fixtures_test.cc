// The peer's fixtures (rust-vmm linux-loader's tests, tests/fixtures/linux_loader/):
// minivmm must refuse everything linux-loader's tests expect to fail, and
// where it refuses what linux-loader accepts, the assertion names the rule.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "loader/elf.h"
#include "loader/kernel_loader.h"

namespace loader {
namespace {

std::filesystem::path fixture_dir() {
  if (const char* src = std::getenv("MINIVMM_SOURCE_DIR"); src && *src)
    return std::filesystem::path(src) / "tests/fixtures/linux_loader";
  // Run outside ctest: this file is tests/unit/loader/<name>.cc.
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fixtures/linux_loader";
}

std::vector<std::byte> fixture(const std::string& name) {
  std::ifstream in(fixture_dir() / name, std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << (fixture_dir() / name);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

GuestMemory memory(uint64_t base, uint64_t size) {
  std::array specs{RegionSpec{GuestAddress(base), size}};
  auto mem = GuestMemory::create(specs);
  EXPECT_TRUE(mem) << mem.error().message;
  return std::move(*mem);
}

// inspect_kernel refuses `bytes` with `code`, the message holding `rule`.
void expect_refused(const std::vector<std::byte>& bytes, const std::string& name, ErrorCode code,
                    const std::string& rule) {
  SpanImageSource src(bytes, name);
  auto r = inspect_kernel(src);
  ASSERT_FALSE(r) << name << " was accepted";
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(rule), std::string::npos) << "rule '" << rule << "' not in: " << r.error().message;
  EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
}

// ---- accepted by both ----

TEST(LinuxLoaderFixtures, ElfIsAcceptedAndEnteredAtItsEntry) {
  auto bytes = fixture("test_elf.bin");
  SpanImageSource src(bytes, "test_elf.bin");
  auto info = inspect_kernel(src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kElf);
  EXPECT_FALSE(info->pvh_entry);
  auto mem = memory(0, 0x100'0000);
  LoadOptions options;
  options.arch = Arch::kX86_64;
  auto loaded = load_elf(src, mem, options);
  ASSERT_TRUE(loaded) << loaded.error().message;
  // linux-loader reports kernel_load = e_entry 0x400. minivmm loads at p_paddr
  // and translates the virtual e_entry through its segment (p_vaddr 0x400,
  // p_paddr 0): the physical entry is 0.
  EXPECT_EQ(loaded->load_address, GuestAddress(0));
  EXPECT_EQ(loaded->entry, GuestAddress(0));
}

// ---- refused by linux-loader's tests, refused by minivmm ----

TEST(LinuxLoaderFixtures, ElfBadMagicIsRefused) {  // linux-loader: InvalidElfMagicNumber
  auto bytes = fixture("test_elf.bin");
  bytes[1] = std::byte{0x33};
  expect_refused(bytes, "test_elf.bin", ErrorCode::kBadMagic, "not a kernel format we know");
  SpanImageSource src(bytes, "test_elf.bin");
  auto r = inspect_elf(src);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadMagic);
}

TEST(LinuxLoaderFixtures, ElfBigEndianIsRefused) {  // linux-loader: BigEndianElfOnLittle
  auto bytes = fixture("test_elf.bin");
  bytes[5] = std::byte{2};
  expect_refused(bytes, "test_elf.bin", ErrorCode::kUnsupported, "EI_DATA at offset 0x5 is 2 (big-endian)");
}

TEST(LinuxLoaderFixtures, ElfPhoffInsideTheElfHeaderIsRefused) {  // linux-loader: InvalidProgramHeaderOffset
  auto bytes = fixture("test_elf.bin");
  bytes[0x20] = std::byte{0x10};
  expect_refused(bytes, "test_elf.bin", ErrorCode::kInvalidField, "e_phoff 0x10 at offset 0x20");
}

TEST(LinuxLoaderFixtures, ElfBelowHighmemStartIsRefused) {  // linux-loader: InvalidEntryAddress
  auto bytes = fixture("test_elf.bin");
  SpanImageSource src(bytes, "test_elf.bin");
  auto mem = memory(0, 0x100'0000);
  LoadOptions options;
  options.highmem_start = GuestAddress(0xa00000);
  auto r = load_elf(src, mem, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kOutOfBounds) << r.error().message;
  EXPECT_NE(r.error().message.find("0xa00000"), std::string::npos) << r.error().message;
}

TEST(LinuxLoaderFixtures, InvalidPvhNoteIsRefused) {
  // linux-loader: InvalidPvhNote. minivmm refuses it one rule earlier: its
  // e_entry (0x400104) lies in no PT_LOAD, which linux-loader does not check.
  expect_refused(fixture("test_invalid_pvh_note.bin"), "test_invalid_pvh_note.bin", ErrorCode::kInvalidField,
                 "e_entry 0x400104 (offset 0x18) is not inside any PT_LOAD segment");
}

TEST(LinuxLoaderFixtures, FuzzInvalidBzImageIsRefused) {  // linux-loader: Underflow
  // No boot flag, no "HdrS": minivmm does not take it for a bzImage at all.
  expect_refused(fixture("fuzz_invalid_bzimage.bin"), "fuzz_invalid_bzimage.bin", ErrorCode::kBadMagic,
                 "not a kernel format we know");
}

TEST(LinuxLoaderFixtures, Arm64ImageWithBrokenMagicIsRefused) {  // linux-loader: InvalidImageMagicNumber
  auto bytes = fixture("test_arm64_image.bin");
  bytes[0x39] = std::byte{0};
  expect_refused(bytes, "test_arm64_image.bin", ErrorCode::kBadMagic, "not a kernel format we know");
}

TEST(LinuxLoaderFixtures, RiscvImageWithBrokenMagicIsRefused) {  // linux-loader: InvalidImageMagicNumber
  auto bytes = fixture("test_riscv64_image.bin");
  bytes[0x38] = std::byte{0};
  expect_refused(bytes, "test_riscv64_image.bin", ErrorCode::kBadMagic, "not a kernel format we know");
}

// ---- accepted by linux-loader, refused by minivmm (deliberately stricter) ----

TEST(LinuxLoaderFixtures, CutArm64ImageIsRefusedByTheEntryBranchRule) {
  // 4 KiB of a kernel whose header says image_size 0x195000 and whose code0
  // branches to 0x150000: linux-loader loads the 4 KiB as a kernel.
  expect_refused(fixture("test_arm64_image.bin"), "test_arm64_image.bin", ErrorCode::kTruncated,
                 "entry branch at offset 0x0 jumps to file offset 0x150000, past the end of the 0x1000-byte file");
}

TEST(LinuxLoaderFixtures, CutRiscvImageIsRefusedByTheEntryJumpRule) {
  // 4 KiB of an EFI-stub kernel (image_size 0xf0f000); its `j` after "MZ"
  // and its PE sections (.text raw data at 0x1000) both lie past the end.
  expect_refused(fixture("test_riscv64_image.bin"), "test_riscv64_image.bin", ErrorCode::kTruncated,
                 "entry branch at offset 0x2 jumps to file offset 0x10cc, past the end of the 0x1000-byte file");
}

TEST(LinuxLoaderFixtures, ElfWithEntryOutsideItsSegmentsIsRefused) {
  // linux-loader accepts these (test_elfnote* give PVH entry 0x1e1fe1f); their
  // e_entry lies in no PT_LOAD, so the kernel would start in unloaded memory.
  expect_refused(fixture("test_elfnote.bin"), "test_elfnote.bin", ErrorCode::kInvalidField,
                 "e_entry 0x400108 (offset 0x18) is not inside any PT_LOAD segment");
  expect_refused(fixture("test_elfnote_8byte_align.bin"), "test_elfnote_8byte_align.bin", ErrorCode::kInvalidField,
                 "e_entry 0x400108 (offset 0x18) is not inside any PT_LOAD segment");
  expect_refused(fixture("test_dummy_note.bin"), "test_dummy_note.bin", ErrorCode::kInvalidField,
                 "e_entry 0x400104 (offset 0x18) is not inside any PT_LOAD segment");
}

TEST(LinuxLoaderFixtures, MisalignedNoteSegmentIsRefused) {
  // linux-loader's test only asserts "not an Align error"; minivmm refuses a
  // PT_NOTE whose notes cannot be 4-byte aligned in the file.
  expect_refused(fixture("test_bad_align.bin"), "test_bad_align.bin", ErrorCode::kInvalidField,
                 "PT_NOTE segment 1 (program header at 0x78): p_offset 0x126 is not 4-byte aligned");
}

}  // namespace
}  // namespace loader
