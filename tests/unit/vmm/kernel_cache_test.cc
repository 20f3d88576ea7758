// The kernel cache on generated bzImages in a temporary directory: what it
// serves, when it decompresses (counted through an injected decompressor, not
// timed), and that a damaged, mismatching or unwritable cache only ever costs
// a decompression.
#include "vmm/kernel_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "loader/bzimage.h"
#include "loader/image_source.h"
#include "support/bzimage_builder.h"
#include "support/elf_builder.h"

namespace vmm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::byte> read_all(const loader::ImageSource& src) {
  std::vector<std::byte> out(src.size());
  EXPECT_TRUE(src.read_at(0, out));
  return out;
}

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) out[i] = std::byte(static_cast<unsigned char>(raw[i]));
  return out;
}

void write_file(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A vmlinux the loader accepts, different per `seed` but always the same size
// (one byte of its code changed), so its bzImages differ only inside the payload.
std::vector<std::byte> vmlinux_variant(uint8_t seed) {
  std::vector<std::byte> elf = test_support::minimal_elf64();
  elf.back() = std::byte{seed};
  return elf;
}

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class KernelCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "minivmm_kcache_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ / "cache" / "minivmm" / "vmlinux";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  // A bzImage file whose payload is `plain`, opened as the boot path opens it.
  loader::FileImageSource bzimage(const std::string& name, std::vector<std::byte> plain) {
    test_support::BzImageSpec spec;
    spec.payload_plain = std::move(plain);
    const fs::path path = tmp_ / name;
    write_file(path, test_support::build_bzimage(spec).bytes);
    auto src = loader::FileImageSource::open(path.string());
    EXPECT_TRUE(src) << src.error().message;
    return std::move(*src);
  }

  // A cache at dir_ whose decompressions are counted in calls_.
  KernelCache cache() {
    return KernelCache(dir_.string(), [this](const loader::ImageSource& src) {
      ++calls_;
      return loader::extract_bzimage_vmlinux(src);
    });
  }

  // The entry directory an outcome names ("... cached as PATH").
  static fs::path entry_of(const std::string& outcome) {
    const std::string marker = "cached as ";
    auto at = outcome.find(marker);
    EXPECT_NE(at, std::string::npos) << outcome;
    if (at == std::string::npos) return {};
    std::string rest = outcome.substr(at + marker.size());
    return rest.substr(0, rest.find(' '));
  }

  // A cache whose clock runs `ahead` of the real one: timestamps written
  // moments ago are then old enough for the stat index.
  KernelCache cache_ahead(std::chrono::seconds ahead) {
    return KernelCache(
        dir_.string(),
        [this](const loader::ImageSource& src) {
          ++calls_;
          return loader::extract_bzimage_vmlinux(src);
        },
        [ahead] {
          const auto now = std::chrono::system_clock::now().time_since_epoch() + ahead;
          return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
        });
  }

  // Sets a file's mtime an hour back, as a kernel built earlier has.
  void age(const std::string& name) {
    const fs::path path = tmp_ / name;
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), nullptr, 0), 0);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    times[0].tv_sec -= 3600;
    times[1].tv_sec -= 3600;
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  static constexpr const char* kUnchanged = "; bzImage unchanged since compared)";

  size_t entries() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.is_directory() && !e.path().filename().string().starts_with(".")) ++n;
    return n;
  }

  fs::path tmp_;
  fs::path dir_;
  int calls_ = 0;
};

TEST_F(KernelCacheTest, AMissDecompressesAndStoresAndTheNextLookupDoesNot) {
  auto bz = bzimage("bzImage", vmlinux_variant(1));
  KernelCache first = cache();
  auto v1 = first.vmlinux(bz);
  ASSERT_TRUE(v1) << v1.error().message;
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(read_all(**v1), vmlinux_variant(1));
  EXPECT_THAT(first.outcome(), StartsWith("decompressed, cached as " + dir_.string() + "/"));
  const fs::path entry = entry_of(first.outcome());
  EXPECT_EQ(read_file(entry / "vmlinux"), vmlinux_variant(1));
  auto range = loader::bzimage_payload_range(bz);
  ASSERT_TRUE(range);
  std::vector<std::byte> payload(range->length);
  ASSERT_TRUE(bz.read_at(range->offset, payload));
  EXPECT_EQ(read_file(entry / "payload"), payload);
  // The directories are the user's alone.
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  // A second VMM process: a new cache object on the same directory.
  KernelCache second = cache();
  auto v2 = second.vmlinux(bz);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(calls_, 1) << "the hit decompressed again";
  EXPECT_EQ(second.outcome(), "decompressed payload from cache (" + entry.string() + ")");
  EXPECT_GE((*v2)->fd(), 0) << "a hit is read from the file (zero-copy load)";
  EXPECT_EQ(read_all(**v2), vmlinux_variant(1));
}

TEST_F(KernelCacheTest, AChangedBzImageOfTheSameLengthNeverGetsTheOldVmlinux) {
  auto a = bzimage("a", vmlinux_variant(1));
  auto b = bzimage("b", vmlinux_variant(2));
  ASSERT_EQ(a.size(), b.size());
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  auto vb = c.vmlinux(b);
  ASSERT_TRUE(vb) << vb.error().message;
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(read_all(**vb), vmlinux_variant(2));
  EXPECT_THAT(c.outcome(), StartsWith("decompressed, cached as "));
}

// The name is only a CRC-32 and a length: an entry under the right name whose
// stored payload differs (a collision) must not be served.
TEST_F(KernelCacheTest, AnEntryWhosePayloadDiffersIsReplacedNotServed) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  const fs::path entry = entry_of(c.outcome());
  std::vector<std::byte> stored = read_file(entry / "payload");
  stored[stored.size() / 2] ^= std::byte{0x55};
  write_file(entry / "payload", stored);
  write_file(entry / "vmlinux", vmlinux_variant(9));  // what a wrong hit would return

  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
  EXPECT_THAT(c.outcome(), HasSubstr("holds another payload with the same CRC-32 and length"));
  // Rewritten: the next lookup is a hit with the right kernel.
  auto again = c.vmlinux(a);
  ASSERT_TRUE(again);
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(read_all(**again), vmlinux_variant(1));
}

TEST_F(KernelCacheTest, ATruncatedCachedVmlinuxFallsBackToDecompressingAndIsRewritten) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  const fs::path entry = entry_of(c.outcome());
  for (uintmax_t size : {uintmax_t{0x100}, uintmax_t{0}}) {
    fs::resize_file(entry / "vmlinux", size);
    auto v = c.vmlinux(a);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(read_all(**v), vmlinux_variant(1)) << "size " << size;
    EXPECT_THAT(c.outcome(), HasSubstr("replacing an entry not used: damaged")) << "size " << size;
    EXPECT_EQ(read_file(entry / "vmlinux"), vmlinux_variant(1)) << "size " << size;
  }
  EXPECT_EQ(calls_, 3);
  ASSERT_TRUE(c.vmlinux(a));
  EXPECT_EQ(calls_, 3);
  EXPECT_THAT(c.outcome(), StartsWith("decompressed payload from cache"));
}

// A file or a symbolic link under an entry's name (nothing the cache writes)
// is no entry: it is replaced.
TEST_F(KernelCacheTest, AFileOrALinkUnderAnEntrysNameIsReplaced) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  const fs::path entry = entry_of(c.outcome());
  fs::remove_all(entry);
  write_file(entry, vmlinux_variant(9));
  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
  EXPECT_THAT(c.outcome(), HasSubstr("replacing an entry not used"));
  EXPECT_TRUE(fs::is_directory(entry));
  EXPECT_EQ(calls_, 2);

  // A symbolic link under the name is not followed, even to a good entry.
  fs::rename(entry, tmp_ / "elsewhere");
  fs::create_directory_symlink(tmp_ / "elsewhere", entry);
  auto w = c.vmlinux(a);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(calls_, 3);
  EXPECT_FALSE(fs::is_symlink(entry));
  EXPECT_TRUE(fs::is_directory(tmp_ / "elsewhere")) << "the link's target is not the cache's to remove";
}

TEST_F(KernelCacheTest, AFileWhereTheDirectoryShouldBeLeavesTheKernelUncachedWithTheReason) {
  write_file(tmp_ / "cache", std::vector<std::byte>(3));
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
  EXPECT_EQ(c.outcome(), "not cached: " + (tmp_ / "cache").string() + " is not a directory");
  EXPECT_TRUE(fs::is_regular_file(tmp_ / "cache"));
}

// /proc refuses new directories even to root.
TEST_F(KernelCacheTest, ADirectoryThatCannotBeCreatedLeavesTheKernelUncachedWithTheReason) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c(std::string("/proc/minivmm-kernel-cache-test/vmlinux"), [this](const loader::ImageSource& src) {
    ++calls_;
    return loader::extract_bzimage_vmlinux(src);
  });
  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
  EXPECT_THAT(c.outcome(), StartsWith("not cached: cannot create /proc/minivmm-kernel-cache-test: "));
  EXPECT_EQ(calls_, 1);
}

TEST_F(KernelCacheTest, ADirectoryThatCannotBeWrittenLeavesTheKernelUncachedWithTheReason) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into a 0500 directory";
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  auto v = c.vmlinux(a);
  fs::permissions(dir_, fs::perms::owner_all);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
  EXPECT_THAT(c.outcome(), StartsWith("not cached: cannot write in " + dir_.string()));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(KernelCacheTest, NoCacheDirectoryLeavesTheKernelUncachedWithTheReason) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c(std::unexpected(std::string("no home")), [this](const loader::ImageSource& src) {
    ++calls_;
    return loader::extract_bzimage_vmlinux(src);
  });
  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(c.outcome(), "not cached: no home");
}

TEST_F(KernelCacheTest, APayloadThatDoesNotDecompressIsTheDecompressionsErrorAndNothingIsStored) {
  test_support::BzImageSpec spec;
  auto built = test_support::build_bzimage(spec);
  // A byte in the middle of the xz stream: its check fails.
  built.bytes[built.pm_offset + built.payload_offset + built.payload_length / 2] ^= std::byte{0xff};
  write_file(tmp_ / "bad", built.bytes);
  auto bz = loader::FileImageSource::open((tmp_ / "bad").string());
  ASSERT_TRUE(bz);
  KernelCache c = cache();
  auto v = c.vmlinux(*bz);
  EXPECT_FALSE(v);
  EXPECT_EQ(c.outcome(), "not cached: the payload does not decompress");
  EXPECT_FALSE(fs::exists(dir_));
}

// The stat index: a bzImage file whose identity and timestamps are as they
// were when its payload was last found equal to an entry's skips the
// comparison. Shown by damaging the stored payload after the index records
// it: the comparison would refuse the entry, the index serves it.
TEST_F(KernelCacheTest, AnUnchangedBzImageSkipsThePayloadComparisonThroughTheStatIndex) {
  auto a = bzimage("a", vmlinux_variant(1));
  age("a");
  KernelCache first = cache_ahead(std::chrono::seconds(10));
  ASSERT_TRUE(first.vmlinux(a));
  const fs::path entry = entry_of(first.outcome());
  ASSERT_TRUE(fs::is_regular_file(dir_ / "stat-index"));
  std::vector<std::byte> stored = read_file(entry / "payload");
  stored[stored.size() / 2] ^= std::byte{0x55};
  write_file(entry / "payload", stored);

  KernelCache second = cache_ahead(std::chrono::seconds(10));
  auto v = second.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(second.outcome(), "decompressed payload from cache (" + entry.string() + kUnchanged);
  EXPECT_GE((*v)->fd(), 0);
  EXPECT_EQ(read_all(**v), vmlinux_variant(1));
}

// A kernel rebuilt in place (same file, same length, new payload) has a new
// mtime: it is compared, and gets its own vmlinux.
TEST_F(KernelCacheTest, ABzImageRewrittenInPlaceIsComparedAgain) {
  {
    auto a = bzimage("a", vmlinux_variant(1));
    age("a");
    KernelCache c = cache_ahead(std::chrono::seconds(10));
    ASSERT_TRUE(c.vmlinux(a));
  }
  struct stat before {};
  ASSERT_EQ(::stat((tmp_ / "a").c_str(), &before), 0);
  auto rebuilt = bzimage("a", vmlinux_variant(2));
  struct stat after {};
  ASSERT_EQ(::stat((tmp_ / "a").c_str(), &after), 0);
  ASSERT_EQ(before.st_ino, after.st_ino) << "the test means the same file";
  KernelCache c = cache_ahead(std::chrono::seconds(10));
  auto v = c.vmlinux(rebuilt);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(read_all(**v), vmlinux_variant(2));
  EXPECT_EQ(calls_, 2);
  EXPECT_THAT(c.outcome(), StartsWith("decompressed, cached as "));
}

// Timestamps of moments ago cannot vouch for the bytes (the file may change
// again within the same clock tick): nothing is recorded, the next lookup
// compares.
TEST_F(KernelCacheTest, AJustWrittenBzImageIsNotRecordedInTheStatIndex) {
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  ASSERT_TRUE(c.vmlinux(a));
  EXPECT_EQ(calls_, 1);
  EXPECT_THAT(c.outcome(), StartsWith("decompressed payload from cache ("));
  EXPECT_THAT(c.outcome(), ::testing::Not(HasSubstr("unchanged")));
  EXPECT_FALSE(fs::exists(dir_ / "stat-index"));
}

// The index also names the entry's vmlinux file: one written anew under the
// entry (not by the cache) is compared through the payload again.
TEST_F(KernelCacheTest, TheStatIndexDoesNotVouchForAReplacedVmlinux) {
  auto a = bzimage("a", vmlinux_variant(1));
  age("a");
  KernelCache c = cache_ahead(std::chrono::seconds(10));
  ASSERT_TRUE(c.vmlinux(a));
  const fs::path entry = entry_of(c.outcome());
  write_file(tmp_ / "other", vmlinux_variant(1));
  fs::rename(tmp_ / "other", entry / "vmlinux");
  auto v = c.vmlinux(a);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(c.outcome(), "decompressed payload from cache (" + entry.string() + ")");
  // Compared and found equal: recorded again, so the next lookup skips it.
  ASSERT_TRUE(c.vmlinux(a));
  EXPECT_EQ(c.outcome(), "decompressed payload from cache (" + entry.string() + kUnchanged);
  EXPECT_EQ(calls_, 1);
}

// The index is a shortcut only: garbage in it (a bad line, an entry name
// that would leave the directory) is ignored and replaced by a good index.
TEST_F(KernelCacheTest, AGarbledStatIndexIsIgnoredAndRewritten) {
  auto a = bzimage("a", vmlinux_variant(1));
  age("a");
  KernelCache c = cache_ahead(std::chrono::seconds(10));
  ASSERT_TRUE(c.vmlinux(a));
  const fs::path entry = entry_of(c.outcome());
  struct stat st {};
  ASSERT_EQ(::stat((tmp_ / "a").c_str(), &st), 0);
  for (const std::string& garbage :
       {std::string("v1 1 2 3\n"), std::string("not an index at all"),
        fmt::format("v1 {} {} {} {} {} ../../x 1 1\n", st.st_dev, st.st_ino, st.st_size,
                    int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec,
                    int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec)}) {
    std::ofstream(dir_ / "stat-index", std::ios::trunc) << garbage;
    auto v = c.vmlinux(a);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(read_all(**v), vmlinux_variant(1));
    EXPECT_EQ(c.outcome(), "decompressed payload from cache (" + entry.string() + ")") << garbage;
    ASSERT_TRUE(c.vmlinux(a));
    EXPECT_EQ(c.outcome(), "decompressed payload from cache (" + entry.string() + kUnchanged) << garbage;
  }
  EXPECT_EQ(calls_, 1);
}

TEST_F(KernelCacheTest, EvictionKeepsTheFourMostRecentlyUsedEntries) {
  KernelCache c = cache();
  std::vector<fs::path> entry;
  std::vector<loader::FileImageSource> bz;
  for (uint8_t i = 0; i < 5; ++i) bz.push_back(bzimage("bz" + std::to_string(i), vmlinux_variant(i)));
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(c.vmlinux(bz[i]));
    entry.push_back(entry_of(c.outcome()));
  }
  // Used an hour apart, 0 the longest ago; then 0 is used again.
  const auto now = fs::file_time_type::clock::now();
  for (size_t i = 0; i < 4; ++i) fs::last_write_time(entry[i], now - std::chrono::hours(10 - i));
  ASSERT_TRUE(c.vmlinux(bz[0]));
  EXPECT_EQ(calls_, 4);
  EXPECT_GT(fs::last_write_time(entry[0]), now - std::chrono::minutes(1)) << "a hit marks the entry used";

  ASSERT_TRUE(c.vmlinux(bz[4]));
  EXPECT_EQ(entries(), KernelCache::kMaxEntries);
  EXPECT_FALSE(fs::exists(entry[1])) << "the least recently used entry stays";
  for (size_t i : {0u, 2u, 3u}) EXPECT_TRUE(fs::exists(entry[i])) << i;
  EXPECT_TRUE(fs::exists(entry_of(c.outcome())));
}

TEST_F(KernelCacheTest, LeftoversOfAKilledWriterAreClearedOnlyWhenStale) {
  fs::create_directories(dir_ / ".tmp-old");
  fs::create_directories(dir_ / ".tmp-new");
  fs::last_write_time(dir_ / ".tmp-old", fs::file_time_type::clock::now() - std::chrono::hours(2));
  write_file(dir_ / ".index-old", std::vector<std::byte>(3));  // a stat index half written
  fs::last_write_time(dir_ / ".index-old", fs::file_time_type::clock::now() - std::chrono::hours(2));
  auto a = bzimage("a", vmlinux_variant(1));
  KernelCache c = cache();
  ASSERT_TRUE(c.vmlinux(a));
  EXPECT_FALSE(fs::exists(dir_ / ".tmp-old"));
  EXPECT_FALSE(fs::exists(dir_ / ".index-old"));
  EXPECT_TRUE(fs::exists(dir_ / ".tmp-new")) << "another process may be writing it";
}

TEST(KernelCacheDir, IsUnderXdgCacheHomeElseHome) {
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    ScopedEnv home("HOME", "/home/u");
    EXPECT_EQ(kernel_cache_dir(), "/xdg/minivmm/vmlinux");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "relative");  // the XDG spec ignores it
    ScopedEnv home("HOME", "/home/u");
    EXPECT_EQ(kernel_cache_dir(), "/home/u/.cache/minivmm/vmlinux");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    ScopedEnv home("HOME", nullptr);
    auto dir = kernel_cache_dir();
    ASSERT_FALSE(dir);
    EXPECT_THAT(dir.error(), HasSubstr("$HOME"));
  }
}

}  // namespace
}  // namespace vmm

// tests/main/test_main.cc: each test process caches in a directory of its
// own, so a test run never evicts the user's cached kernels.
TEST(TestMain, GivesTheTestsACacheDirectoryOutsideTheUsers) {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  ASSERT_NE(cache, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(cache)) << cache;
  EXPECT_THAT(std::string(cache), ::testing::HasSubstr("minivmm-test-cache-"));
  if (const char* home = std::getenv("HOME")) {
    EXPECT_FALSE(std::string(cache).starts_with(std::string(home) + "/.cache")) << cache;
  }
}
