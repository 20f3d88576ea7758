#include "vmm/exec_initramfs.h"

#include "support/test_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string_view>
#include <sstream>
#include <string>

namespace vmm::exec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/exec_initramfs_test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& data) const {
    std::system(("mkdir -p \"$(dirname " + path_ + "/" + name + ")\"").c_str());
    std::ofstream(path_ + "/" + name, std::ios::binary) << data;
  }

 private:
  std::string path_;
};

// NUL-terminated words, back to back.
std::string words(std::initializer_list<std::string_view> list) {
  std::string out;
  for (auto w : list) {
    out += w;
    out.push_back('\0');
  }
  return out;
}

std::string xz(const std::string& data) {
  std::string out(data.size() + 1024, '\0');
  size_t pos = 0;
  lzma_ret r = lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, reinterpret_cast<const uint8_t*>(data.data()),
                                       data.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
  EXPECT_EQ(r, LZMA_OK);
  out.resize(pos);
  return out;
}

// Lists an archive with the system's cpio, the way the kernel will read it.
std::string cpio_list(const TempDir& dir, const std::string& archive) {
  dir.write("archive.cpio", archive);
  std::string cmd = "cd " + dir.path() + " && cpio -it --quiet < archive.cpio 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  return out;
}

TEST(CpioWriter, WritesANewcArchiveCpioCanList) {
  CpioWriter w;
  w.add_directory("minivmm");
  w.add_file("/minivmm/exec", "abc");  // a leading '/' is dropped: archives hold relative names
  w.add_file("init", std::string(1001, 'x'), 0755);
  std::string archive = w.finish();
  EXPECT_EQ(archive.size() % 4, 0u);
  EXPECT_EQ(archive.substr(0, 6), "070701");
  TempDir dir;
  EXPECT_EQ(cpio_list(dir, archive), "minivmm\nminivmm/exec\ninit\n");
}

TEST(CpioWriter, ConcatenatedArchivesKeepEveryEntry) {
  TempDir dir;
  dir.write("init", "#!init");
  std::string both = build_base_archive(dir.path() + "/init", dir.path(), {}).value() +
                     build_spec_archive(ExecSpec{"virtiofs", "root", "/", false, {"true"}, {}, {}});
  dir.write("both.cpio", both);
  // The kernel reads archives back to back; cpio stops at the first trailer,
  // so check the second by skipping the first's bytes.
  std::string first = build_base_archive(dir.path() + "/init", dir.path(), {}).value();
  EXPECT_THAT(cpio_list(dir, first), HasSubstr("init\n"));
  EXPECT_EQ(cpio_list(dir, both.substr(first.size())), "minivmm\nminivmm/exec\n");
}

TEST(ModuleIndex, OrdersDependenciesFirstOnceEachAndSkipsBuiltIns) {
  auto index = ModuleIndex::parse(
      "kernel/fs/fuse/virtiofs.ko.xz: kernel/fs/fuse/fuse.ko.xz\n"
      "kernel/fs/fuse/fuse.ko.xz:\n"
      "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko\n"
      "kernel/net/9p/9pnet.ko:\n"
      "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko\n"
      "kernel/fs/netfs/netfs.ko:\n"
      "kernel/drivers/virtio/virtio_ring.ko:\n"
      "kernel/drivers/char/virtio-console.ko: kernel/drivers/virtio/virtio_ring.ko\n",
      "kernel/drivers/virtio/virtio_pci.ko\n");
  EXPECT_TRUE(index.builtin("virtio_pci"));
  EXPECT_TRUE(index.has_module("virtio_console"));  // '-' in a file name reads as '_'
  std::vector<std::string> missing;
  auto order = index.load_order({"virtio_pci", "virtio_console", "9pnet_virtio", "9p", "nosuch"}, missing);
  EXPECT_THAT(order, ElementsAre("kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/char/virtio-console.ko",
                                 "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko", "kernel/fs/netfs/netfs.ko",
                                 "kernel/fs/9p/9p.ko"));
  EXPECT_THAT(missing, ElementsAre("nosuch"));
}

TEST(ModuleIndex, ADependencyCycleEnds) {
  auto index = ModuleIndex::parse("a.ko: b.ko\nb.ko: a.ko\n", "");
  std::vector<std::string> missing;
  auto order = index.load_order({"a"}, missing);
  EXPECT_EQ(order.size(), 2u);
  EXPECT_TRUE(missing.empty());
}

TEST(ModuleIndex, LoadNamesAMissingTree) {
  auto index = ModuleIndex::load("/nonexistent/lib/modules/0");
  ASSERT_FALSE(index.has_value());
  EXPECT_THAT(index.error().message, HasSubstr("/nonexistent/lib/modules/0: No such file"));
}

TEST(NeededModules, FollowTheProtocolAndTransport) {
  auto names = [](const std::vector<NeededModule>& v) {
    std::vector<std::string> out;
    for (const auto& m : v) out.push_back(m.name + "=" + m.config);
    return out;
  };
  EXPECT_THAT(names(needed_modules(false, false)),
              ElementsAre("virtio_pci=CONFIG_VIRTIO_PCI", "virtio_console=CONFIG_VIRTIO_CONSOLE",
                          "virtiofs=CONFIG_VIRTIO_FS"));
  EXPECT_THAT(names(needed_modules(true, true)),
              ElementsAre("virtio_mmio=CONFIG_VIRTIO_MMIO", "virtio_console=CONFIG_VIRTIO_CONSOLE",
                          "9pnet_virtio=CONFIG_NET_9P_VIRTIO", "9p=CONFIG_9P_FS"));
}

TEST(BaseArchive, DecompressesModulesAndListsThemInLoadOrder) {
  TempDir dir;
  dir.write("init", "INIT");
  const std::string plain = "\x7f" "ELF module body";
  dir.write("kernel/a.ko.xz", xz(plain));
  dir.write("kernel/b-c.ko", "B");
  auto archive = build_base_archive(dir.path() + "/init", dir.path(), {"kernel/b-c.ko", "kernel/a.ko.xz"});
  ASSERT_TRUE(archive.has_value()) << archive.error().message;
  EXPECT_EQ(cpio_list(dir, *archive),
            "init\nminivmm\nlib\nlib/modules\nlib/modules/00-b_c.ko\nlib/modules/01-a.ko\nminivmm/modules\n");
  EXPECT_NE(archive->find(plain), std::string::npos);  // stored uncompressed
  EXPECT_NE(archive->find(words({"/lib/modules/00-b_c.ko", "/lib/modules/01-a.ko"})), std::string::npos);
}

TEST(BaseArchive, AMissingOrOddModuleIsAnErrorNamingIt) {
  TempDir dir;
  dir.write("init", "INIT");
  auto missing = build_base_archive(dir.path() + "/init", dir.path(), {"kernel/none.ko"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message, HasSubstr("kernel/none.ko"));
  dir.write("kernel/placeholder", "");
  ASSERT_EQ(::mkdir((dir.path() + "/kernel/dir.ko").c_str(), 0755), 0);
  auto directory = build_base_archive(dir.path() + "/init", dir.path(), {"kernel/dir.ko"});
  ASSERT_FALSE(directory.has_value());
  EXPECT_THAT(directory.error().message, HasSubstr("not a regular file"));
  dir.write("kernel/bad.ko.xz", std::string("\xfd" "7zXZ\0garbage", 12));
  auto corrupt = build_base_archive(dir.path() + "/init", dir.path(), {"kernel/bad.ko.xz"});
  ASSERT_FALSE(corrupt.has_value());
  EXPECT_THAT(corrupt.error().message, HasSubstr("kernel/bad.ko.xz"));
}

TEST(BaseArchive, TheCacheIsReusedUntilAnInputChanges) {
  TempDir dir;
  dir.write("init", "INIT-1");
  dir.write("m.ko", "M");
  const std::string cache = dir.path() + "/cache/deeper";
  auto first = cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"});
  ASSERT_TRUE(first.has_value());
  // The cached file is what a second call returns, even if its bytes were changed behind our back...
  std::string listing;
  FILE* p = ::popen(("ls " + cache).c_str(), "r");
  char buf[256];
  while (p && std::fgets(buf, sizeof buf, p)) listing += buf;
  if (p) ::pclose(p);
  ASSERT_THAT(listing, HasSubstr(".cpio"));
  std::string cached_file = cache + "/" + listing.substr(0, listing.find('\n'));
  std::ofstream(cached_file, std::ios::binary) << "CACHED";
  EXPECT_EQ(cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"}).value(), "CACHED");
  // ...and a changed init (new size) makes a new one.
  dir.write("init", "INIT-TWO");
  auto rebuilt = cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"});
  ASSERT_TRUE(rebuilt.has_value());
  EXPECT_NE(*rebuilt, "CACHED");
  EXPECT_NE(rebuilt->find("INIT-TWO"), std::string::npos);
}

// Every new kernel or init adds an archive: the directory keeps the most
// recently used ones (a hit counts as a use) and nothing else of its own.
TEST(BaseArchive, TheCacheKeepsTheMostRecentlyUsedArchives) {
  TempDir dir;
  dir.write("init", "INIT");
  dir.write("m.ko", "M");
  const std::string cache = dir.path() + "/cache";
  ASSERT_TRUE(cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"}).has_value());
  namespace fs = std::filesystem;
  fs::path used;
  for (const auto& e : fs::directory_iterator(cache)) used = e.path();
  ASSERT_FALSE(used.empty());
  // Older archives of other inputs, an hour apart, and a killed writer's leftover.
  const auto now = fs::file_time_type::clock::now();
  for (size_t i = 0; i < kMaxBaseArchives; ++i) {
    const fs::path old = fs::path(cache) / ("base-" + std::to_string(1000 + i) + ".cpio");
    std::ofstream(old) << "OLD";
    fs::last_write_time(old, now - std::chrono::hours(2 + i));
  }
  const fs::path tmp = fs::path(cache) / "base-0.cpio.77.tmp";
  std::ofstream(tmp) << "HALF";
  fs::last_write_time(tmp, now - std::chrono::hours(3));
  fs::last_write_time(used, now - std::chrono::hours(50));  // the oldest...
  ASSERT_TRUE(cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"}).has_value());
  EXPECT_GT(fs::last_write_time(used), now - std::chrono::minutes(1)) << "...until a hit uses it";

  dir.write("init", "INIT, REBUILT");  // a new archive: the least recently used goes
  ASSERT_TRUE(cached_base_archive(cache, dir.path() + "/init", dir.path(), {"m.ko"}).has_value());
  size_t archives = 0;
  for (const auto& e : fs::directory_iterator(cache)) archives += e.path().extension() == ".cpio";
  EXPECT_EQ(archives, kMaxBaseArchives);
  EXPECT_TRUE(fs::exists(used));
  EXPECT_FALSE(fs::exists(fs::path(cache) / ("base-" + std::to_string(1000 + kMaxBaseArchives - 1) + ".cpio")));
  EXPECT_FALSE(fs::exists(tmp));
}

TEST(ModuleIndex, WithoutModulesDepReadsEachModulesOwnDependencies) {
  TempDir dir;
  dir.write("modules.builtin", "kernel/drivers/virtio/virtio.ko\n");
  // .modinfo strings as the kernel lays them out: NUL-terminated key=value.
  dir.write("kernel/fs/fuse/virtiofs.ko", words({"ELF junk depends=nope", "license=GPL", "depends=fuse,virtio_ring", "name=virtiofs"}));
  dir.write("kernel/fs/fuse/fuse.ko.xz", xz(words({"license=GPL", "depends=", "name=fuse"})));
  dir.write("kernel/drivers/virtio/virtio_ring.ko", words({"depends=", "name=virtio_ring"}));
  auto index = ModuleIndex::load(dir.path());
  ASSERT_TRUE(index.has_value()) << index.error().message;
  EXPECT_TRUE(index->builtin("virtio"));
  std::vector<std::string> missing;
  EXPECT_THAT(index->load_order({"virtio", "virtiofs"}, missing),
              ElementsAre("kernel/fs/fuse/fuse.ko.xz", "kernel/drivers/virtio/virtio_ring.ko", "kernel/fs/fuse/virtiofs.ko"));
  EXPECT_TRUE(missing.empty());
}

TEST(ModinfoDepends, TakesOnlyAWholeKeyAndSplitsOnCommas) {
  EXPECT_THAT(modinfo_depends(words({"x", "depends=a-b,c", "y"})), ElementsAre("a_b", "c"));
  EXPECT_TRUE(modinfo_depends(words({"xdepends=a"})).empty());
  EXPECT_TRUE(modinfo_depends("").empty());
  EXPECT_TRUE(modinfo_depends(words({"depends="})).empty());
}

// The Debian kernels the nested harness boots ship no modules.dep.
TEST(ModuleIndex, RealDebianTreesGiveExecsModulesInLoadOrder) {
  for (const char* name : {"amd64", "arm64", "riscv64"}) {
    const std::string dir = test_support::kernel_cache_dir() + "/" + name + "/modules";
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      if (test_support::kernels_required()) ADD_FAILURE() << dir << " missing (scripts/fetch_kernels.sh)";
      continue;
    }
    auto index = ModuleIndex::load(dir);
    ASSERT_TRUE(index.has_value()) << index.error().message;
    for (bool nine_p : {false, true}) {
      std::vector<std::string> names, missing;
      for (const auto& m : needed_modules(nine_p, false)) names.push_back(m.name);
      auto order = index->load_order(names, missing);
      EXPECT_TRUE(missing.empty()) << name << ": " << ::testing::PrintToString(missing);
      auto position = [&](std::string_view module) {
        for (size_t i = 0; i < order.size(); ++i)
          if (ModuleIndex::name_of(order[i]) == module) return static_cast<int>(i);
        return -1;
      };
      if (!nine_p && !index->builtin("virtiofs")) {
        EXPECT_GE(position("fuse"), 0) << name;
        EXPECT_LT(position("fuse"), position("virtiofs")) << name;
      }
      if (nine_p) {
        EXPECT_GE(position("9pnet"), 0) << name;
        EXPECT_LT(position("9pnet"), position("9pnet_virtio")) << name;
        EXPECT_LT(position("netfs"), position("9p")) << name;
      }
    }
  }
}

TEST(ExecSpec, EncodesNulSeparatedKeyValueWords) {
  ExecSpec spec{"9p", "root", "/home/u", true, {"sh", "-c", "echo a b"}, {"PATH=/bin"}, {{"src", "/home/u/src", true}}};
  std::string e = encode_spec(spec);
  EXPECT_EQ(e, words({"fs", "9p", "root", "root", "cwd", "/home/u", "tty", "1", "arg", "sh", "arg", "-c", "arg",
                      "echo a b", "env", "PATH=/bin", "share-tag", "src", "share-path", "/home/u/src", "share-rw", "1"}));
}

}  // namespace
}  // namespace vmm::exec
