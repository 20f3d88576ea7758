// Debian's real kernels (fetched by scripts/fetch_kernels.sh) load with the
// entries and ranges their own headers state. Expected values are read from
// the files here with plain pread and <elf.h>, independently of the loader.
#include <elf.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "loader/bzimage.h"
#include "loader/elf.h"
#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel_loader.h"
#include "support/compress.h"
#include "support/test_env.h"

namespace loader {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kMiB = 1ull << 20;

// The path of a cached kernel, or nullopt after a skip (or a failure when the
// test command requires the kernels).
std::optional<std::string> kernel(const std::string& name) {
  std::string path = test_support::kernel_cache_dir() + "/" + name + "/vmlinuz";
  if (access(path.c_str(), R_OK) == 0) return path;
  if (test_support::kernels_required()) {
    ADD_FAILURE() << path << " is missing: scripts/fetch_kernels.sh should have fetched it";
  }
  return std::nullopt;
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

template <class T>
T le_at(std::span<const std::byte> bytes, size_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

GuestMemory x86_memory() {
  std::array specs{RegionSpec{GuestAddress(0), 512 * kMiB}};
  return std::move(*GuestMemory::create(specs));
}

GuestMemory arm_memory() {
  std::array specs{RegionSpec{GuestAddress(0x80000000), 512 * kMiB}};
  return std::move(*GuestMemory::create(specs));
}

// Entry and PVH note of an ELF, read with <elf.h> only.
struct ElfFacts {
  uint64_t entry_phys = 0;
  uint64_t lowest_paddr = ~0ull;
  uint64_t highest_end = 0;
  std::optional<uint32_t> pvh_entry;
};

ElfFacts elf_facts(std::span<const std::byte> f) {
  ElfFacts out;
  auto eh = le_at<Elf64_Ehdr>(f, 0);
  for (int i = 0; i < eh.e_phnum; ++i) {
    auto ph = le_at<Elf64_Phdr>(f, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_LOAD) {
      out.lowest_paddr = std::min(out.lowest_paddr, ph.p_paddr);
      out.highest_end = std::max(out.highest_end, ph.p_paddr + ph.p_memsz);
      // Linux's vmlinux states a physical e_entry (phys_startup_64); accept a virtual one too.
      if (eh.e_entry >= ph.p_paddr && eh.e_entry < ph.p_paddr + ph.p_memsz)
        out.entry_phys = eh.e_entry;
      else if (eh.e_entry >= ph.p_vaddr && eh.e_entry < ph.p_vaddr + ph.p_memsz)
        out.entry_phys = eh.e_entry - ph.p_vaddr + ph.p_paddr;
    }
    if (ph.p_type == PT_NOTE) {
      for (uint64_t off = ph.p_offset; off + sizeof(Elf64_Nhdr) <= ph.p_offset + ph.p_filesz;) {
        auto nh = le_at<Elf64_Nhdr>(f, off);
        uint64_t name = off + sizeof(Elf64_Nhdr);
        uint64_t desc = name + ((nh.n_namesz + 3) & ~3u);
        if (nh.n_namesz == 4 && std::memcmp(f.data() + name, "Xen", 4) == 0 && nh.n_type == 18)
          out.pvh_entry = le_at<uint32_t>(f, desc);
        off = desc + ((nh.n_descsz + 3) & ~3u);
      }
    }
  }
  return out;
}

class RealBzImage : public ::testing::TestWithParam<const char*> {};

TEST_P(RealBzImage, LoadsAtOneMiBWithTheHeadersEntryAndInitSize) {
  auto path = kernel(GetParam());
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto bytes = read_file(*path);
  const uint32_t init_size = le_at<uint32_t>(bytes, 0x260);
  const uint16_t version = le_at<uint16_t>(bytes, 0x206);

  auto src = FileImageSource::open(*path);
  ASSERT_TRUE(src) << src.error().message;
  auto info = inspect_kernel(*src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, KernelFormat::kBzImage);
  EXPECT_EQ(info->arch, Arch::kX86_64);
  EXPECT_EQ(info->load_size, init_size);
  EXPECT_EQ(info->protocol_version, fmt::format("{}.{:02}", version >> 8, version & 0xff));
  EXPECT_THAT(info->version, StartsWith("6.1."));

  GuestMemory mem = x86_memory();
  LoadOptions options;
  options.arch = Arch::kX86_64;
  auto loaded = load_kernel(*src, mem, options);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(kMiB));
  EXPECT_EQ(loaded->entry, GuestAddress(kMiB + 0x200));
  EXPECT_GE(loaded->load_size, init_size);
  const uint64_t setup_bytes = (bytes[0x1f1] == std::byte{0} ? 4 : std::to_integer<uint64_t>(bytes[0x1f1]) + 1) * 512;
  std::vector<std::byte> head(4096);
  ASSERT_TRUE(mem.read(GuestAddress(kMiB), head));
  EXPECT_TRUE(std::equal(head.begin(), head.end(), bytes.begin() + static_cast<ptrdiff_t>(setup_bytes)));
  // The setup header handed to the zero page starts at 0x1f1 and holds "HdrS".
  ASSERT_GT(loaded->setup_header.size(), 0x202u - 0x1f1u + 4);
  EXPECT_EQ(std::memcmp(loaded->setup_header.data() + (0x202 - 0x1f1), "HdrS", 4), 0);
}

TEST_P(RealBzImage, PayloadIsTheVmlinuxWithAPvhEntry) {
  auto path = kernel(GetParam());
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto src = FileImageSource::open(*path);
  ASSERT_TRUE(src);
  auto elf_src = extract_bzimage_vmlinux(*src);
  ASSERT_TRUE(elf_src) << elf_src.error().message;
  auto elf_bytes = (*elf_src)->bytes();
  ASSERT_TRUE(elf_bytes);
  ElfFacts facts = elf_facts(*elf_bytes);
  ASSERT_TRUE(facts.pvh_entry) << "every Debian x86 vmlinux carries a XEN_ELFNOTE_PHYS32_ENTRY note";

  GuestMemory mem = x86_memory();
  LoadOptions options;
  options.arch = Arch::kX86_64;
  options.highmem_start = GuestAddress(kMiB);
  auto loaded = load_elf(**elf_src, mem, options);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(facts.lowest_paddr));
  EXPECT_EQ(loaded->load_address, GuestAddress(16 * kMiB));
  EXPECT_EQ(loaded->load_size, facts.highest_end - facts.lowest_paddr);
  EXPECT_EQ(loaded->entry, GuestAddress(facts.entry_phys));
  EXPECT_EQ(loaded->pvh_entry, GuestAddress(*facts.pvh_entry));
  auto info = inspect_elf(**elf_src);
  ASSERT_TRUE(info);
  EXPECT_THAT(info->version, HasSubstr("Linux version 6.1."));
}

INSTANTIATE_TEST_SUITE_P(Debian, RealBzImage, ::testing::Values("amd64", "cloud-amd64"),
                         [](const auto& p) { return std::string(p.param[0] == 'a' ? "amd64" : "cloud_amd64"); });

TEST(RealBzImagePayload, DebianUsesXzForAmd64AndLz4LegacyForCloud) {
  auto generic = kernel("amd64");
  auto cloud = kernel("cloud-amd64");
  if (!generic || !cloud) GTEST_SKIP() << "kernels not fetched";
  auto g = FileImageSource::open(*generic);
  auto c = FileImageSource::open(*cloud);
  EXPECT_EQ(inspect_kernel(*g)->payload_compression, Compression::kXz);
  EXPECT_EQ(inspect_kernel(*c)->payload_compression, Compression::kLz4Legacy);
}

struct ImageCase {
  const char* name;
  Arch arch;
  KernelFormat format;
};

class RealImage : public ::testing::TestWithParam<ImageCase> {};

TEST_P(RealImage, LoadsAtTwoMiBAlignedRamBasePlusTextOffset) {
  auto path = kernel(GetParam().name);
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto bytes = read_file(*path);
  ASSERT_EQ(std::memcmp(bytes.data(), "MZ", 2), 0) << "Debian's Images begin with an EFI stub";
  const uint64_t text_offset = le_at<uint64_t>(bytes, 8);
  const uint64_t image_size = le_at<uint64_t>(bytes, 16);

  auto src = FileImageSource::open(*path);
  auto info = inspect_kernel(*src);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, GetParam().format);
  EXPECT_EQ(info->arch, GetParam().arch);
  EXPECT_TRUE(info->pe_stub);
  EXPECT_EQ(info->load_size, image_size);

  GuestMemory mem = arm_memory();
  LoadOptions options;
  options.arch = GetParam().arch;
  auto loaded = load_kernel(*src, mem, options);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->load_address, GuestAddress(0x80000000 + text_offset));
  EXPECT_EQ(loaded->entry, loaded->load_address);
  auto in_guest = mem.host_span(loaded->load_address, bytes.size());
  ASSERT_TRUE(in_guest);
  EXPECT_TRUE(std::equal(in_guest->begin(), in_guest->end(), bytes.begin()));

  LoadOptions wrong;
  wrong.arch = Arch::kX86_64;
  auto refused = load_kernel(*src, mem, wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kWrongArch);
}

INSTANTIATE_TEST_SUITE_P(Debian, RealImage,
                         ::testing::Values(ImageCase{"arm64", Arch::kAarch64, KernelFormat::kArm64Image},
                                           ImageCase{"riscv64", Arch::kRiscv64, KernelFormat::kRiscvImage}),
                         [](const auto& p) { return std::string(p.param.name); });

// Other distributions ship Image.gz and friends: compressed copies of the real
// arm64 Image, made here, load byte-identically to the plain one.
class RealCompressedImage : public ::testing::TestWithParam<Compression> {};

TEST_P(RealCompressedImage, LoadsIdenticallyToThePlainImage) {
  auto path = kernel("arm64");
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto plain_bytes = read_file(*path);
  auto packed = test_support::compress(GetParam(), plain_bytes);
  SpanImageSource plain(plain_bytes, "Image");
  SpanImageSource compressed(packed, "Image.compressed");

  GuestMemory a = arm_memory();
  GuestMemory b = arm_memory();
  LoadOptions options;
  options.arch = Arch::kAarch64;
  auto la = load_kernel(plain, a, options);
  auto lb = load_kernel(compressed, b, options);
  ASSERT_TRUE(la) << la.error().message;
  ASSERT_TRUE(lb) << lb.error().message;
  EXPECT_EQ(la->load_address, lb->load_address);
  EXPECT_EQ(la->entry, lb->entry);
  auto sa = a.host_span(la->load_address, la->load_size);
  auto sb = b.host_span(lb->load_address, lb->load_size);
  ASSERT_TRUE(sa && sb);
  EXPECT_TRUE(std::equal(sa->begin(), sa->end(), sb->begin(), sb->end()));
  auto info = inspect_kernel(compressed);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->compression, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Debian, RealCompressedImage,
                         ::testing::Values(Compression::kGzip, Compression::kZstd, Compression::kXz),
                         [](const auto& p) { return std::string(to_string(p.param)); });

}  // namespace
}  // namespace loader
