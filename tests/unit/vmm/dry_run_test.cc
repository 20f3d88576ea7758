// `vmm --dry-run` as a user runs it: the built binary on the real Debian
// kernels (and on generated images, so the checks run everywhere), with the
// printed layout and registers compared against what the test itself reads
// from the kernel files' headers.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "loader/bzimage.h"
#include "loader/image_source.h"
#include "support/bzimage_builder.h"
#include "support/elf_builder.h"
#include "support/image_builder.h"
#include "support/test_env.h"
#include "vmm/exit_codes.h"

extern char** environ;

namespace vmm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr uint64_t kMiB = 1ull << 20;
constexpr const char* kCmdline = "console=ttyS0 quiet panic=-1";

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct Range {
  uint64_t start = 0, end = 0, size = 0;
  std::string kind;
};

// What the dry run printed, parsed back.
struct Printed {
  std::vector<std::pair<std::string, Range>> layout;  // in printed order
  std::map<std::string, uint64_t> regs;
  std::string protocol;
  std::string cmdline;

  const Range* find(const std::string& name) const {
    for (const auto& [n, r] : layout)
      if (n == name) return &r;
    return nullptr;
  }
  uint64_t reg(const std::string& name) const {
    auto it = regs.find(name);
    EXPECT_NE(it, regs.end()) << "register " << name << " not printed";
    return it == regs.end() ? ~0ull : it->second;
  }
};

Printed parse(const std::string& out) {
  Printed p;
  static const std::regex layout_line(
      R"(^  0x([0-9a-f]{16})  0x([0-9a-f]{16})  0x([0-9a-f]{16})  +\S+ \S+  (ram|reserved|mmio|data) +(.+)$)");
  static const std::regex reg_line(R"(^  ([A-Za-z0-9]+) +0x([0-9a-f]+)\b.*$)");
  std::istringstream in(out);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, layout_line)) {
      Range r{std::stoull(m[1], nullptr, 16), std::stoull(m[2], nullptr, 16), std::stoull(m[3], nullptr, 16), m[4]};
      p.layout.emplace_back(m[5], r);
    } else if (std::regex_match(line, m, reg_line)) {
      p.regs[m[1]] = std::stoull(m[2], nullptr, 16);
    } else if (line.starts_with("Boot protocol: ")) {
      p.protocol = line.substr(15);
    } else if (line.starts_with("Command line:  \"")) {
      auto close = line.rfind('"');
      p.cmdline = line.substr(16, close - 16);
    }
  }
  return p;
}

std::vector<std::byte> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

uint64_t le(std::span<const std::byte> b, size_t offset, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = v << 8 | std::to_integer<uint64_t>(b[offset + static_cast<size_t>(i)]);
  return v;
}

// The PVH entry, read here from the ELF's PT_NOTE segments: the Xen note
// type 18 (XEN_ELFNOTE_PHYS32_ENTRY). Independent of the loader's ELF code.
std::optional<uint64_t> pvh_note(std::span<const std::byte> elf) {
  const uint64_t phoff = le(elf, 0x20, 8);
  const uint64_t phentsize = le(elf, 0x36, 2), phnum = le(elf, 0x38, 2);
  for (uint64_t i = 0; i < phnum; ++i) {
    size_t ph = phoff + i * phentsize;
    if (le(elf, ph, 4) != 4) continue;  // PT_NOTE
    uint64_t off = le(elf, ph + 8, 8), end = off + le(elf, ph + 32, 8);
    while (off + 12 <= end) {
      uint64_t namesz = le(elf, off, 4), descsz = le(elf, off + 4, 4), type = le(elf, off + 8, 4);
      uint64_t name = off + 12, desc = name + ((namesz + 3) & ~3ull);
      if (type == 18 && namesz == 4 && std::memcmp(elf.data() + name, "Xen", 4) == 0)
        return le(elf, desc, descsz >= 8 ? 8 : 4);
      off = desc + ((descsz + 3) & ~3ull);
    }
  }
  return std::nullopt;
}

// Lowest p_paddr of the PT_LOAD segments.
uint64_t lowest_load_paddr(std::span<const std::byte> elf) {
  const uint64_t phoff = le(elf, 0x20, 8);
  const uint64_t phentsize = le(elf, 0x36, 2), phnum = le(elf, 0x38, 2);
  uint64_t lowest = ~0ull;
  for (uint64_t i = 0; i < phnum; ++i) {
    size_t ph = phoff + i * phentsize;
    if (le(elf, ph, 4) == 1) lowest = std::min(lowest, le(elf, ph + 24, 8));
  }
  return lowest;
}

class DryRun : public ::testing::Test {
 public:
  void SetUp() override {
    const char* dir = std::getenv("MINIVMM_BINARY_DIR");
    ASSERT_NE(dir, nullptr) << "MINIVMM_BINARY_DIR is not set (run through ctest)";
    binary_ = std::filesystem::path(dir) / "vmm" / "vmm";
    ASSERT_TRUE(std::filesystem::exists(binary_)) << binary_ << " was not built";
    std::string tmpl = (std::filesystem::temp_directory_path() / "minivmm_dryrun_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
    // A generated initrd: an odd size, so a rounded size in the output would show.
    std::vector<std::byte> initrd(300'001);
    for (size_t i = 0; i < initrd.size(); ++i) initrd[i] = std::byte(i * 7);
    initrd_ = write_file("initrd.img", initrd);
  }
  void TearDown() override {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
  }

  std::string write_file(const std::string& name, std::span<const std::byte> bytes) {
    auto path = tmp_ / name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  // The cached Debian kernel, or nullopt after a skip-worthy miss (a failure
  // when the kernels are required).
  std::optional<std::string> kernel(const std::string& name) {
    std::string path = test_support::kernel_cache_dir() + "/" + name + "/vmlinuz";
    if (access(path.c_str(), R_OK) == 0) return path;
    if (test_support::kernels_required()) ADD_FAILURE() << path << " is missing (scripts/fetch_kernels.sh)";
    return std::nullopt;
  }

  RunResult run(std::vector<std::string> args) {
    auto out_path = tmp_ / "stdout";
    auto err_path = tmp_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string bin = binary_.string();
    std::vector<char*> argv{bin.data()};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    RunResult result;
    int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "posix_spawn " << bin;
    if (rc != 0) return result;
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "vmm died by a signal: " << status;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream o(out_path), e(err_path);
    result.out.assign(std::istreambuf_iterator<char>(o), {});
    result.err.assign(std::istreambuf_iterator<char>(e), {});
    return result;
  }

  // A successful dry run: exit 0, nothing on stderr, the layout sorted and
  // every data item inside RAM, the initrd where it belongs.
  Printed expect_ok(const RunResult& r, uint64_t ram_base) {
    EXPECT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("/dev/kvm was not opened"));
    Printed p = parse(r.out);
    EXPECT_EQ(p.cmdline, kCmdline);
    EXPECT_GE(p.layout.size(), 4u) << r.out;
    for (size_t i = 1; i < p.layout.size(); ++i)
      EXPECT_LE(p.layout[i - 1].second.start, p.layout[i].second.start) << "layout not sorted at " << p.layout[i].first;
    std::vector<Range> ram;
    for (const auto& [name, range] : p.layout) {
      EXPECT_EQ(range.end - range.start, range.size) << name;
      if (range.kind == "ram") ram.push_back(range);
    }
    EXPECT_FALSE(ram.empty()) << r.out;
    if (!ram.empty()) {
      EXPECT_EQ(ram.front().start, ram_base);
    }
    for (const auto& [name, range] : p.layout) {
      if (range.kind != "data") continue;
      bool inside = std::any_of(ram.begin(), ram.end(), [&](const Range& m) {
        return range.start >= m.start && range.end <= m.end;
      });
      EXPECT_TRUE(inside) << name << " [" << std::hex << range.start << ", " << range.end << ") is not in RAM";
    }
    // Data items never overlap each other.
    std::vector<std::pair<std::string, Range>> data;
    for (const auto& item : p.layout)
      if (item.second.kind == "data") data.push_back(item);
    for (size_t i = 1; i < data.size(); ++i)
      EXPECT_LE(data[i - 1].second.end, data[i].second.start) << data[i - 1].first << " overlaps " << data[i].first;
    const Range* initrd = p.find("initrd");
    EXPECT_NE(initrd, nullptr) << r.out;
    if (initrd) {
      EXPECT_EQ(initrd->size, 300'001u);
      EXPECT_EQ(initrd->start % 4096, 0u);
    }
    return p;
  }

  std::vector<std::string> args(const std::string& kernel, std::vector<std::string> extra) {
    std::vector<std::string> a{"--kernel", kernel, "--dry-run", "--initrd", initrd_, "--cpus", "2",
                               "--memory", "512M", "--cmdline", kCmdline};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::filesystem::path binary_;
  std::filesystem::path tmp_;
  std::string initrd_;
};

// --- x86_64 ------------------------------------------------------------------

// The bzImage footprint from 1 MiB, computed from the setup header the way
// boot.rst describes it: the protected-mode part at 1 MiB, and init_size
// bytes at the address startup_64 moves the kernel to (pref_address, or the
// load address rounded up to kernel_alignment when relocatable, whichever is
// higher).
void check_bzimage_linux(const Printed& p, std::span<const std::byte> file) {
  const uint64_t setup_sects = le(file, 0x1f1, 1) == 0 ? 4 : le(file, 0x1f1, 1);
  const uint64_t pm_size = file.size() - (setup_sects + 1) * 512;
  const uint64_t kernel_alignment = le(file, 0x230, 4);
  const bool relocatable = le(file, 0x234, 1) != 0;
  const uint64_t pref_address = le(file, 0x258, 8);
  const uint64_t init_size = le(file, 0x260, 4);
  // boot.rst: initrd_addr_max (0x22c) bounds the initrd unless xloadflags
  // (0x236) has XLF_CAN_BE_LOADED_ABOVE_4G; the identity map stops at 4 GiB.
  const bool above_4g = (le(file, 0x236, 2) & 0x2) != 0;
  const uint64_t initrd_limit = above_4g ? 4ull << 30 : le(file, 0x22c, 4) + 1;
  uint64_t runtime = pref_address;
  if (relocatable) runtime = std::max(pref_address, (0x100000 + kernel_alignment - 1) / kernel_alignment * kernel_alignment);
  const uint64_t end = std::max({0x100000 + pm_size, runtime + init_size, 0x100000 + init_size});

  const Range* k = p.find("kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->start, 0x100000u);
  EXPECT_EQ(k->end, end) << "init_size " << init_size << " at runtime address " << runtime;
  EXPECT_EQ(p.reg("RIP"), 0x100200u) << "64-bit entry: load address + 0x200";
  EXPECT_THAT(p.protocol, HasSubstr("linux 64-bit"));
  const Range* zp = p.find("zero page");
  ASSERT_NE(zp, nullptr);
  EXPECT_EQ(p.reg("RSI"), zp->start);
  const Range* pt = p.find("page tables");
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(p.reg("CR3"), pt->start);
  EXPECT_EQ(p.reg("CR0") & 0x80000001u, 0x80000001u) << "PE|PG";
  EXPECT_EQ(p.reg("CR4") & 0x20u, 0x20u) << "PAE";
  EXPECT_EQ(p.reg("EFER") & 0x500u, 0x500u) << "LME|LMA";
  EXPECT_EQ(p.reg("RFLAGS"), 0x2u);
  const Range* initrd = p.find("initrd");
  ASSERT_NE(initrd, nullptr);
  EXPECT_GE(initrd->start, k->end) << "initrd above the kernel";
  EXPECT_LE(initrd->end, initrd_limit);
  const Range* cmd = p.find("cmdline");
  ASSERT_NE(cmd, nullptr);
  EXPECT_EQ(cmd->size, std::strlen(kCmdline) + 1);
}

void check_x86_common(const Printed& p) {
  for (const char* name : {"ACPI RSDP", "ACPI XSDT", "ACPI FACP", "ACPI APIC", "ACPI DSDT", "MP table", "GDT",
                           "cmdline"}) {
    const Range* r = p.find(name);
    EXPECT_NE(r, nullptr) << name;
  }
  const Range* gap = p.find("MMIO gap (32-bit devices)");
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->start, 0xc0000000u);
  EXPECT_EQ(gap->end, 0x100000000u);
  EXPECT_EQ(gap->kind, "mmio");
  const Range* rsdp = p.find("ACPI RSDP");
  if (rsdp) {
    EXPECT_GE(rsdp->start, 0xe0000u) << "inside the BIOS scan area";
    EXPECT_LT(rsdp->start, 0x100000u);
  }
}

class DryRunX86 : public DryRun, public ::testing::WithParamInterface<const char*> {};

TEST_P(DryRunX86, BzImageLinuxBootMatchesTheSetupHeader) {
  auto path = kernel(GetParam());
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto r = run(args(*path, {"--arch", "x86_64", "--boot", "linux"}));
  Printed p = expect_ok(r, 0);
  check_bzimage_linux(p, read_bytes(*path));
  check_x86_common(p);
  EXPECT_NE(p.find("RAM (ram-low)"), nullptr) << r.out;
  EXPECT_THAT(r.out, HasSubstr("512 MiB RAM, 2 vCPUs"));
}

TEST_P(DryRunX86, BzImagePvhBootEntersAtTheElfNote) {
  auto path = kernel(GetParam());
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto src = loader::FileImageSource::open(*path);
  ASSERT_TRUE(src) << src.error().message;
  auto vmlinux = loader::extract_bzimage_vmlinux(*src);
  ASSERT_TRUE(vmlinux) << vmlinux.error().message;
  std::vector<std::byte> elf((*vmlinux)->size());
  ASSERT_TRUE((*vmlinux)->read_at(0, elf));
  auto note = pvh_note(elf);
  ASSERT_TRUE(note) << "Debian's kernels are built with CONFIG_PVH";

  auto r = run(args(*path, {"--boot", "pvh"}));
  Printed p = expect_ok(r, 0);
  check_x86_common(p);
  EXPECT_THAT(p.protocol, StartsWith("pvh"));
  EXPECT_EQ(p.reg("RIP"), *note);
  const Range* info = p.find("PVH start_info");
  ASSERT_NE(info, nullptr) << r.out;
  EXPECT_EQ(p.reg("RBX"), info->start);
  EXPECT_EQ(p.reg("CR0") & 0x80000001u, 0x1u) << "protected mode, paging off";
  EXPECT_EQ(p.reg("EFER"), 0u);
  const Range* k = p.find("kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->start, lowest_load_paddr(elf));
  EXPECT_EQ(p.find("zero page"), nullptr) << "PVH has no zero page";
}

INSTANTIATE_TEST_SUITE_P(Debian, DryRunX86, ::testing::Values("amd64", "cloud-amd64"),
                         [](const auto& info) { return std::string(info.param) == "amd64" ? "amd64" : "cloud_amd64"; });

TEST_F(DryRun, ExtractedVmlinuxBootsBothWays) {
  auto path = kernel("amd64");
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto src = loader::FileImageSource::open(*path);
  ASSERT_TRUE(src) << src.error().message;
  auto vmlinux = loader::extract_bzimage_vmlinux(*src);
  ASSERT_TRUE(vmlinux) << vmlinux.error().message;
  std::vector<std::byte> elf((*vmlinux)->size());
  ASSERT_TRUE((*vmlinux)->read_at(0, elf));
  std::string file = write_file("vmlinux", elf);
  auto note = pvh_note(elf);
  ASSERT_TRUE(note);

  // auto: an ELF with a PVH note takes PVH.
  auto pvh = run(args(file, {}));
  Printed pp = expect_ok(pvh, 0);
  EXPECT_THAT(pp.protocol, HasSubstr("pvh (ELF vmlinux)"));
  EXPECT_EQ(pp.reg("RIP"), *note);
  const Range* k = pp.find("kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->start, lowest_load_paddr(elf));

  auto linux_boot = run(args(file, {"--boot", "linux"}));
  Printed pl = expect_ok(linux_boot, 0);
  EXPECT_THAT(pl.protocol, HasSubstr("linux 64-bit (ELF vmlinux)"));
  const uint64_t e_entry = le(elf, 0x18, 8);
  // vmlinux's e_entry is startup_64's physical address (phys_startup_64).
  EXPECT_EQ(pl.reg("RIP"), e_entry);
  const Range* zp = pl.find("zero page");
  ASSERT_NE(zp, nullptr);
  EXPECT_EQ(pl.reg("RSI"), zp->start);
  check_x86_common(pl);
}

TEST_F(DryRun, GeneratedBzImageWithMoreThanThreeGiB) {
  auto bz = test_support::build_bzimage();
  std::string file = write_file("bzImage", bz.bytes);
  auto a = args(file, {"--arch", "x86_64"});
  *std::find(a.begin(), a.end(), "512M") = "5G";
  auto r = run(a);
  Printed p = expect_ok(r, 0);
  check_bzimage_linux(p, bz.bytes);
  const Range* low = p.find("RAM (ram-low)");
  const Range* high = p.find("RAM (ram-high)");
  ASSERT_NE(low, nullptr) << r.out;
  ASSERT_NE(high, nullptr) << r.out;
  EXPECT_EQ(low->end, 3ull << 30);
  EXPECT_EQ(high->start, 4ull << 30);
  EXPECT_EQ(high->size, 2ull << 30) << "5 GiB total, 3 below the gap";

  // Without XLF_CAN_BE_LOADED_ABOVE_4G the initrd must respect initrd_addr_max.
  test_support::BzImageSpec spec;
  spec.xloadflags = 0x01;
  auto low_bz = test_support::build_bzimage(spec);
  std::string low_file = write_file("bzImage.low", low_bz.bytes);
  auto b = args(low_file, {});
  *std::find(b.begin(), b.end(), "512M") = "5G";
  auto rl = run(b);
  Printed pl = expect_ok(rl, 0);
  check_bzimage_linux(pl, low_bz.bytes);
  const Range* initrd = pl.find("initrd");
  ASSERT_NE(initrd, nullptr);
  EXPECT_LE(initrd->end, le(low_bz.bytes, 0x22c, 4) + 1);
}

// --- aarch64, riscv64 --------------------------------------------------------

// The DTB the dry run dumped, decompiled by dtc.
std::string decompile(const std::string& dtb) {
  std::string cmd = "dtc -q -I dtb -O dts '" + dtb + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  EXPECT_EQ(status, 0) << out;
  return out;
}

void check_fdt(DryRun& t, const RunResult& r, std::span<const std::byte> file, const std::string& dtb_path,
               bool arm64) {
  Printed p = t.expect_ok(r, 0x80000000);
  const uint64_t text_offset = le(file, 8, 8);
  const uint64_t image_size = le(file, 16, 8);
  const Range* k = p.find("kernel");
  ASSERT_NE(k, nullptr) << r.out;
  EXPECT_EQ(k->start, 0x80000000 + text_offset) << "RAM base + text_offset (header offset 8)";
  EXPECT_EQ(k->size, image_size) << "image_size (header offset 16)";
  const Range* dt = p.find("device tree");
  ASSERT_NE(dt, nullptr) << r.out;
  EXPECT_EQ(dt->start % 8, 0u);
  EXPECT_LE(dt->size, 2 * kMiB);
  EXPECT_EQ(dt->size, std::filesystem::file_size(dtb_path)) << "the dump is the DTB written to guest memory";
  const Range* initrd = p.find("initrd");
  ASSERT_NE(initrd, nullptr);
  EXPECT_LE(initrd->end, dt->start) << "initrd below the DTB";
  EXPECT_GE(initrd->start, k->end);
  EXPECT_EQ(p.reg("PC"), k->start);
  if (arm64) {
    EXPECT_EQ(p.reg("x0"), dt->start);
    EXPECT_EQ(p.reg("x1"), 0u);
    EXPECT_EQ(p.reg("PSTATE"), 0x3c5u) << "EL1h, DAIF masked";
  } else {
    EXPECT_EQ(p.reg("a0"), 0u) << "boot hart 0";
    EXPECT_EQ(p.reg("a1"), dt->start);
    EXPECT_EQ(p.reg("satp"), 0u);
  }
  std::string dts = decompile(dtb_path);
  EXPECT_THAT(dts, HasSubstr(std::string("bootargs = \"") + kCmdline + "\""));
  EXPECT_THAT(dts, HasSubstr("cpu@1")) << "--cpus 2";
  EXPECT_THAT(dts, HasSubstr("linux,initrd-start"));
  EXPECT_THAT(dts, HasSubstr(arm64 ? "arm,psci" : "riscv,isa"));
}

struct FdtCase {
  const char* cache_name;
  const char* arch;
  bool arm64;
};

class DryRunFdt : public DryRun, public ::testing::WithParamInterface<FdtCase> {};

TEST_P(DryRunFdt, RealImageMatchesItsHeader) {
  auto path = kernel(GetParam().cache_name);
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  std::string dtb = (tmp_ / "out.dtb").string();
  auto r = run(args(*path, {"--arch", GetParam().arch, "--dump-dtb", dtb}));
  check_fdt(*this, r, read_bytes(*path), dtb, GetParam().arm64);
  EXPECT_THAT(r.out, HasSubstr(std::string("Dry run: ") + GetParam().arch));
}

TEST_P(DryRunFdt, GeneratedImageMatchesItsHeader) {
  std::vector<std::byte> image;
  if (GetParam().arm64) {
    test_support::Arm64ImageSpec spec;
    spec.text_offset = 0x80000;  // an old kernel's text_offset, so a non-zero value is checked
    image = test_support::build_arm64_image(spec);
  } else {
    image = test_support::build_riscv_image();
  }
  std::string file = write_file("Image", image);
  std::string dtb = (tmp_ / "gen.dtb").string();
  auto r = run(args(file, {"--arch", GetParam().arch, "--dump-dtb", dtb}));
  check_fdt(*this, r, image, dtb, GetParam().arm64);
}

INSTANTIATE_TEST_SUITE_P(Debian, DryRunFdt,
                         ::testing::Values(FdtCase{"arm64", "aarch64", true}, FdtCase{"riscv64", "riscv64", false}),
                         [](const auto& info) { return std::string(info.param.arch); });

// --- errors ------------------------------------------------------------------

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST_F(DryRun, X86KernelForAarch64IsALoadErrorNamingBothArches) {
  auto bz = test_support::build_bzimage();
  std::string file = write_file("bzImage", bz.bytes);
  auto r = run({"--kernel", file, "--arch", "aarch64", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, StartsWith("vmm: " + file + ": "));
  EXPECT_THAT(r.err, HasSubstr("x86_64"));
  EXPECT_THAT(r.err, HasSubstr("aarch64"));
}

// Issue 13: the Linux entry never reads a bzImage's payload, the guest's
// own decompressor does; the dry run (and inspect) decompress and check it.
TEST_F(DryRun, DamagedBzImagePayloadIsALoadErrorForTheLinuxEntry) {
  auto bz = test_support::build_bzimage();
  bz.bytes[bz.pm_offset + bz.payload_offset + bz.payload_length / 2] ^= std::byte{0x55};
  std::string file = write_file("bzImage", bz.bytes);
  for (const char* boot : {"linux", "auto"}) {
    auto r = run({"--kernel", file, "--arch", "x86_64", "--boot", boot, "--dry-run"});
    EXPECT_EQ(r.exit_code, kExitLoad) << boot << ": " << r.out;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("vmm: " + file + ": bzImage payload"));
    EXPECT_THAT(r.err, HasSubstr("xz"));
  }
  auto i = run({"inspect", file});
  EXPECT_EQ(i.exit_code, kExitLoad);
  EXPECT_EQ(i.out, "");
  EXPECT_THAT(i.err, HasSubstr("bzImage payload"));
}

// auto decompresses a bzImage's payload and enters it through PVH when it
// has the entry (sooner to user space in the nested L1 than the guest's own
// decompressor); without one the bzImage boots the Linux way.
TEST_F(DryRun, AutoBootsABzImageThroughPvhWhenItsPayloadHasTheEntry) {
  test_support::BzImageSpec spec;
  spec.payload_plain = test_support::vmlinux_like().build().bytes;
  std::string with_note = write_file("bzImage-pvh", test_support::build_bzimage(spec).bytes);
  auto r = run(args(with_note, {"--arch", "x86_64"}));
  Printed p = expect_ok(r, 0);
  EXPECT_EQ(p.protocol, "pvh (bzImage payload decompressed to vmlinux)");
  EXPECT_EQ(p.reg("RIP"), test_support::kVmlinuxPvhEntry);
  EXPECT_NE(p.find("PVH start_info"), nullptr) << r.out;
  // --boot linux still enters the bzImage itself.
  Printed pl = expect_ok(run(args(with_note, {"--arch", "x86_64", "--boot", "linux"})), 0);
  EXPECT_EQ(pl.protocol, "linux 64-bit (bzImage)");

  std::string without_note = write_file("bzImage-plain", test_support::build_bzimage().bytes);
  Printed pn = expect_ok(run(args(without_note, {"--arch", "x86_64"})), 0);
  EXPECT_EQ(pn.protocol, "linux 64-bit (bzImage)");
}

// The dry run promises to change nothing: it decompresses without the kernel cache.
TEST_F(DryRun, NeverWritesTheKernelCache) {
  test_support::BzImageSpec spec;
  spec.payload_plain = test_support::vmlinux_like().build().bytes;
  std::string file = write_file("bzImage-pvh", test_support::build_bzimage(spec).bytes);
  const std::string cache = (tmp_ / "xdg-cache").string();
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  auto r = run(args(file, {"--arch", "x86_64"}));
  if (saved) ::setenv("XDG_CACHE_HOME", saved->c_str(), 1);
  else ::unsetenv("XDG_CACHE_HOME");
  Printed p = expect_ok(r, 0);
  EXPECT_THAT(p.protocol, StartsWith("pvh"));
  EXPECT_FALSE(std::filesystem::exists(cache)) << cache;
}

TEST_F(DryRun, BzImagePayloadThatIsNotAnElfIsALoadError) {
  test_support::BzImageSpec spec;
  spec.payload_plain = std::vector<std::byte>(0x2000, std::byte{0x90});
  std::string file = write_file("bzImage", test_support::build_bzimage(spec).bytes);
  auto r = run({"--kernel", file, "--arch", "x86_64", "--boot", "linux", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad) << r.out;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, StartsWith("vmm: " + file + ": "));
  EXPECT_THAT(r.err, HasSubstr("do not start with the ELF magic"));
  auto i = run({"inspect", file});
  EXPECT_EQ(i.exit_code, kExitLoad);
  EXPECT_THAT(i.err, HasSubstr("do not start with the ELF magic"));
}

TEST_F(DryRun, BzImageWithAnElfPayloadTheLoaderRefusesIsALoadError) {
  test_support::BzImageSpec spec;
  spec.payload_plain = test_support::minimal_elf64();
  test_support::put_le(spec.payload_plain, 0x20, 0x10, 8);  // e_phoff inside the ELF header
  std::string file = write_file("bzImage", test_support::build_bzimage(spec).bytes);
  auto r = run({"--kernel", file, "--arch", "x86_64", "--boot", "linux", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad) << r.out;
  EXPECT_THAT(r.err, HasSubstr("bzImage payload is not a loadable x86_64 vmlinux"));
  EXPECT_THAT(r.err, HasSubstr("e_phoff 0x10"));
  auto i = run({"inspect", file});
  EXPECT_EQ(i.exit_code, kExitLoad);
  EXPECT_THAT(i.err, HasSubstr("e_phoff 0x10"));
}

// Cut Images (issue 13): refused by the dry run and inspect, not planned.
TEST_F(DryRun, CutArm64ImageIsALoadError) {
  auto image = test_support::build_arm64_image();
  image.resize(image.size() / 2);
  std::string file = write_file("Image", image);
  auto r = run({"--kernel", file, "--arch", "aarch64", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad) << r.out;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("PE section 0 \".text\""));
  EXPECT_THAT(r.err, HasSubstr("the file is cut short"));
  auto i = run({"inspect", file});
  EXPECT_EQ(i.exit_code, kExitLoad);
  EXPECT_THAT(i.err, HasSubstr("the file is cut short"));
}

TEST_F(DryRun, RealX86KernelForAarch64IsALoadError) {
  auto path = kernel("amd64");
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  auto r = run({"--kernel", *path, "--arch", "aarch64", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("x86_64"));
  EXPECT_THAT(r.err, HasSubstr("aarch64"));
}

TEST_F(DryRun, Arm64ImageForX86IsALoadError) {
  std::string file = write_file("Image", test_support::build_arm64_image());
  auto r = run({"--kernel", file, "--arch", "x86_64", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("aarch64"));
  EXPECT_THAT(r.err, HasSubstr("x86_64"));
}

TEST_F(DryRun, MemoryTooSmallForTheKernelIsALoadError) {
  test_support::BzImageSpec spec;
  spec.init_size = 32u << 20;  // 32 MiB of init_size cannot fit in 16 MiB of RAM
  auto bz = test_support::build_bzimage(spec);
  std::string file = write_file("bzImage", bz.bytes);
  auto r = run({"--kernel", file, "--memory", "16M", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("init_size"));

  std::string image = write_file("Image", test_support::build_arm64_image());
  auto big = run({"--kernel", image, "--arch", "aarch64", "--memory", "64M", "--dry-run", "--initrd",
                  write_file("big.img", std::vector<std::byte>(70u << 20))});
  EXPECT_EQ(big.exit_code, kExitLoad) << big.err;
  EXPECT_EQ(count_lines(big.err), 1u) << big.err;
}

TEST_F(DryRun, MemoryBelowTheArchitecturesMinimumIsAUsageError) {
  auto path = kernel("arm64");
  if (!path) GTEST_SKIP() << "kernel not fetched (run scripts/fetch_kernels.sh)";
  // A boot refuses less than 64 MiB on aarch64 before loading anything; so does the dry run.
  auto r = run({"--kernel", *path, "--arch", "aarch64", "--memory", "16M", "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_THAT(r.err, HasSubstr("at least 64 MiB"));
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

TEST_F(DryRun, AnExplicitlyEmptyCmdlineStaysEmpty) {
  for (const char* arch : {"x86_64", "aarch64"}) {
    std::vector<std::byte> image = std::string(arch) == "x86_64" ? test_support::build_bzimage().bytes
                                                                 : test_support::build_arm64_image();
    std::string file = write_file("kernel", image);
    auto r = run({"--kernel", file, "--arch", arch, "--cmdline", "", "--dry-run"});
    EXPECT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Command line:  \"\" (0 bytes)")) << arch << ": not the console=ttyS0 default";
    auto defaulted = run({"--kernel", file, "--arch", arch, "--dry-run"});
    EXPECT_THAT(defaulted.out, HasSubstr("console=ttyS0")) << arch << ": the default when --cmdline is absent";
  }
}

TEST_F(DryRun, FifoKernelOrInitrdIsALoadErrorWithoutBlocking) {
  std::string fifo = (tmp_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string image = write_file("Image", test_support::build_arm64_image());
  for (const auto& args : {std::vector<std::string>{"--kernel", fifo, "--dry-run"},
                           std::vector<std::string>{"--kernel", image, "--arch", "aarch64", "--initrd", fifo, "--dry-run"}}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, kExitLoad) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr(fifo + ": is a FIFO"));
  }
}

TEST_F(DryRun, MissingInitrdIsALoadErrorNamingIt) {
  for (const char* arch : {"x86_64", "aarch64", "riscv64"}) {
    std::vector<std::byte> image = std::string(arch) == "x86_64"    ? test_support::build_bzimage().bytes
                                   : std::string(arch) == "aarch64" ? test_support::build_arm64_image()
                                                                    : test_support::build_riscv_image();
    std::string file = write_file("kernel", image);
    std::string missing = (tmp_ / "no-such-initrd").string();
    auto r = run({"--kernel", file, "--arch", arch, "--initrd", missing, "--dry-run"});
    EXPECT_EQ(r.exit_code, kExitLoad) << arch << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr(missing)) << arch;
  }
}

TEST_F(DryRun, MissingDiskIsALoadErrorNamingIt) {
  for (const char* arch : {"x86_64", "aarch64"}) {
    std::vector<std::byte> image =
        std::string(arch) == "x86_64" ? test_support::build_bzimage().bytes : test_support::build_arm64_image();
    std::string file = write_file("kernel", image);
    std::string missing = (tmp_ / "no-such-disk.img").string();
    auto r = run({"--kernel", file, "--arch", arch, "--virtio-transport", "pci", "--disk", missing + ",ro", "--dry-run"});
    EXPECT_EQ(r.exit_code, kExitLoad) << arch << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--disk"));
    EXPECT_THAT(r.err, HasSubstr(missing)) << arch;
    EXPECT_TRUE(r.out.empty()) << "nothing is planned";
  }
}

TEST_F(DryRun, ShareBecomesAVirtioFsDeviceOrAUsageError) {
  std::string kernel = write_file("bzImage", test_support::build_bzimage().bytes);
  std::string dir = (tmp_ / "shared").string();
  std::filesystem::create_directory(dir);
  auto ok = run({"--kernel", kernel, "--arch", "x86_64", "--virtio-transport", "pci", "--share", dir + ",tag=data",
                 "--dry-run"});
  ASSERT_EQ(ok.exit_code, kExitOk) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("virtio-fs"));
  std::string file = write_file("not-a-dir", std::vector<std::byte>(16));
  auto bad = run({"--kernel", kernel, "--arch", "x86_64", "--virtio-transport", "pci", "--share", file, "--dry-run"});
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--share"));
  EXPECT_THAT(bad.err, HasSubstr("not a directory"));
}

TEST_F(DryRun, ListsTheVirtioDevicesPerTransport) {
  std::string kernel = write_file("bzImage", test_support::build_bzimage().bytes);
  std::string disk = write_file("disk.img", std::vector<std::byte>(1 << 16));
  auto pci = run({"--kernel", kernel, "--arch", "x86_64", "--virtio-transport", "pci", "--disk", disk, "--dry-run"});
  ASSERT_EQ(pci.exit_code, kExitOk) << pci.err;
  EXPECT_THAT(pci.out, HasSubstr("mmio 0xe0000000+0x100000"));
  EXPECT_THAT(pci.out, HasSubstr("pio 0xcf8+0x4 (writes queued), pio 0xcfc+0x4,"));
  EXPECT_THAT(pci.out, HasSubstr("line 16 (level)"));
  EXPECT_THAT(pci.out, HasSubstr("virtio-console 00:01.0"));
  EXPECT_THAT(pci.out, HasSubstr("virtio-rng 00:02.0"));
  EXPECT_THAT(pci.out, HasSubstr("virtio-blk 00:03.0"));
  EXPECT_THAT(pci.out, HasSubstr("virtio-console 00:01.0  BAR4 0x100000000+0x8000")) << "64-bit BARs go above RAM";
  EXPECT_THAT(pci.out, HasSubstr("INTA line 19 (level)")) << "slot 3, INTA: bridge line 3";
  EXPECT_THAT(pci.out, HasSubstr("INTA line 19 (level), MSI-X 2 vectors")) << "virtio-blk: one queue + config";
  EXPECT_THAT(pci.out, HasSubstr("MSI-X 3 vectors")) << "virtio-console: two queues + config";

  auto mmio = run({"--kernel", kernel, "--arch", "x86_64", "--virtio-transport", "mmio", "--no-rng", "--dry-run"});
  ASSERT_EQ(mmio.exit_code, kExitOk) << mmio.err;
  EXPECT_THAT(mmio.out, HasSubstr("virtio-mmio0 virtio-console"));
  EXPECT_THAT(mmio.out, HasSubstr("mmio 0xe0100000+0x200"));
  EXPECT_THAT(mmio.out, HasSubstr("line 5 (level)"));
  EXPECT_THAT(mmio.out, Not(HasSubstr("virtio-rng")));
  EXPECT_THAT(mmio.out, Not(HasSubstr("0xcf8")));
}

// aarch64 plans MSI-X through the GICv3 ITS (a boot on a host without one
// drops it and says so); riscv64 has no MSI routing and lists the vectors as unused.
TEST_F(DryRun, Aarch64ListsMsixThroughTheIts) {
  std::string kernel = write_file("Image", test_support::build_arm64_image());
  std::string disk = write_file("disk.img", std::vector<std::byte>(1 << 16));
  auto r = run({"--kernel", kernel, "--arch", "aarch64", "--virtio-transport", "pci", "--disk", disk, "--dry-run"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0x0000000008080000  0x00000000080a0000  0x0000000000020000"));
  EXPECT_THAT(r.out, HasSubstr("GICv3 ITS"));
  EXPECT_THAT(r.out, HasSubstr("MSI-X 2 vectors (ITS, device ID 0x18)")) << "virtio-blk in slot 3: requester ID 3 << 3";
  EXPECT_THAT(r.out, HasSubstr("MSI-X 3 vectors (ITS, device ID 0x8)")) << "virtio-console in slot 1";
  EXPECT_THAT(r.out, Not(HasSubstr("unused")));

  std::string rv = write_file("rv-Image", test_support::build_riscv_image());
  auto riscv = run({"--kernel", rv, "--arch", "riscv64", "--virtio-transport", "pci", "--dry-run"});
  ASSERT_EQ(riscv.exit_code, kExitOk) << riscv.err;
  EXPECT_THAT(riscv.out, HasSubstr("vectors (unused: no MSI routing here)"));
  EXPECT_THAT(riscv.out, Not(HasSubstr("(ITS")));
}

TEST_F(DryRun, DumpedDeviceTreeHoldsTheVirtioNodes) {
  std::string kernel = write_file("Image", test_support::build_arm64_image());
  for (const char* transport : {"pci", "mmio"}) {
    std::string dtb = (tmp_ / (std::string(transport) + ".dtb")).string();
    auto r = run({"--kernel", kernel, "--arch", "aarch64", "--virtio-transport", transport, "--dry-run", "--dump-dtb", dtb});
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    std::ifstream in(dtb, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool pci = std::string(transport) == "pci";
    EXPECT_EQ(bytes.find("pci-host-ecam-generic") != std::string::npos, pci) << transport;
    EXPECT_EQ(bytes.find("virtio,mmio") != std::string::npos, !pci) << transport;
    EXPECT_NE(bytes.find("arm,gic-v3-its"), std::string::npos) << transport;
  }
}

TEST_F(DryRun, UnwritableDtbDumpIsReported) {
  std::string file = write_file("Image", test_support::build_arm64_image());
  auto r = run({"--kernel", file, "--arch", "aarch64", "--dry-run", "--dump-dtb", (tmp_ / "no/such/dir.dtb").string()});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--dump-dtb"));
}

TEST_F(DryRun, HelpListsEveryExitCodeAndTheDryRun) {
  auto r = run({"--help"});
  EXPECT_EQ(r.exit_code, kExitOk);
  for (const char* code : {"\n  7 ", "\n  8 "}) EXPECT_THAT(r.out, HasSubstr(code));
  EXPECT_THAT(r.out, HasSubstr("--expect matched"));
  EXPECT_THAT(r.out, HasSubstr("SIGINT"));
  EXPECT_THAT(r.out, HasSubstr("never opens /dev/kvm"));
}

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

// A --disk the VMM cannot use is a load error (exit 3) naming it, before
// anything runs: a directory, and an image another process holds locked.
TEST_F(DryRun, DiskThatIsADirectoryOrLockedIsALoadError) {
  std::string kernel = write_file("bzImage", test_support::build_bzimage().bytes);
  std::string dir = (tmp_ / "a-directory").string();
  std::filesystem::create_directory(dir);
  auto r = run({"--kernel", kernel, "--arch", "x86_64", "--disk", dir, "--dry-run"});
  EXPECT_EQ(r.exit_code, kExitLoad) << r.err;
  EXPECT_THAT(r.err, HasSubstr(dir));
  EXPECT_THAT(r.err, HasSubstr("directory"));

  std::string disk = write_file("locked.img", std::vector<std::byte>(1 << 16));
  int fd = ::open(disk.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock lock{};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &lock), 0);
  auto locked = run({"--kernel", kernel, "--arch", "x86_64", "--disk", disk, "--dry-run"});
  EXPECT_EQ(locked.exit_code, kExitLoad) << locked.err;
  EXPECT_THAT(locked.err, HasSubstr(disk));
  EXPECT_THAT(locked.err, HasSubstr("lock"));
  ::close(fd);
  auto free_again = run({"--kernel", kernel, "--arch", "x86_64", "--disk", disk, "--dry-run"});
  EXPECT_EQ(free_again.exit_code, kExitOk) << free_again.err;
}

}  // namespace
}  // namespace vmm
