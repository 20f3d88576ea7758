// Runs the built `vmm` executable on fixture files generated here, and checks
// exit codes and output as a user (or a script) sees them.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "support/bzimage_builder.h"
#include "support/elf_builder.h"
#include "support/image_builder.h"
#include "support/vmm_process.h"
#include "vmm/arch.h"
#include "vmm/exit_codes.h"

extern char** environ;

namespace vmm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class VmmBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("MINIVMM_BINARY_DIR");
    ASSERT_NE(dir, nullptr) << "MINIVMM_BINARY_DIR is not set (run through ctest)";
    binary_ = std::filesystem::path(dir) / "vmm" / "vmm";
    ASSERT_TRUE(std::filesystem::exists(binary_)) << binary_ << " was not built";
    std::string tmpl = (std::filesystem::temp_directory_path() / "minivmm_cli_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
  }

  std::string write_fixture(const std::string& name, std::span<const std::byte> bytes) {
    auto path = tmp_ / name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  RunResult run(std::vector<std::string> args) {
    auto out_path = tmp_ / "stdout";
    auto err_path = tmp_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> command = test_support::emulator_prefix();
    command.push_back(binary_.string());
    std::string bin = command.front();
    std::vector<char*> argv;
    for (auto& c : command) argv.push_back(c.data());
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
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
  }

  // A load failure: exit 3, nothing on stdout, exactly one "vmm: <file>: ..." line.
  void expect_load_error(const RunResult& r, const std::string& file) {
    EXPECT_EQ(r.exit_code, kExitLoad) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith("vmm: " + file + ": "));
  }

  std::filesystem::path binary_;
  std::filesystem::path tmp_;
};

TEST_F(VmmBinary, HelpExitsZeroAndDocumentsEveryExitCode) {
  auto r = run({"--help"});
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("vmm inspect KERNEL [--json]"));
  EXPECT_THAT(r.out, HasSubstr("--dry-run"));
  EXPECT_THAT(r.out, HasSubstr("Exit codes:"));
  for (const char* code : {"\n  0 ", "\n  2 ", "\n  3 ", "\n  4 ", "\n  5 ", "\n  6 ", "\n  70 "})
    EXPECT_THAT(r.out, HasSubstr(code));
}

TEST_F(VmmBinary, Version) {
  auto r = run({"--version"});
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_THAT(r.out, StartsWith("vmm (minivmm) "));
}

TEST_F(VmmBinary, BadMemoryIsAUsageError) {
  auto r = run({"--kernel", "k", "--memory", "12Q"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(count_lines(r.err), 1u);
  EXPECT_THAT(r.err, StartsWith("vmm: --memory '12Q': "));
  EXPECT_EQ(r.out, "");
}

TEST_F(VmmBinary, NoArgumentsIsAUsageError) {
  auto r = run({});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("no kernel given"));
}

TEST_F(VmmBinary, UsageErrorsPointToHelpOnce) {
  for (const auto& args : {std::vector<std::string>{}, std::vector<std::string>{"--kernel", "k", "extra"}}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, kExitUsage);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    size_t first = r.err.find("vmm --help");
    ASSERT_NE(first, std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("vmm --help", first + 1), std::string::npos) << "said twice: " << r.err;
  }
}

TEST_F(VmmBinary, InspectWithoutFileIsAUsageError) {
  auto r = run({"inspect"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(count_lines(r.err), 1u);
}

TEST_F(VmmBinary, InspectMissingFile) {
  std::string path = (tmp_ / "no-such-kernel").string();
  auto r = run({"inspect", path});
  expect_load_error(r, path);
  EXPECT_THAT(r.err, HasSubstr("No such file"));
}

TEST_F(VmmBinary, InspectDirectory) {
  auto r = run({"inspect", tmp_.string()});
  expect_load_error(r, tmp_.string());
}

TEST_F(VmmBinary, InspectFifoIsALoadErrorWithoutWaitingForAWriter) {
  // No writer ever opens it: before the fix vmm blocked in open() forever.
  std::string path = (tmp_ / "kernel.fifo").string();
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  auto r = run({"inspect", path});
  expect_load_error(r, path);
  EXPECT_THAT(r.err, HasSubstr("FIFO"));
}

TEST_F(VmmBinary, InspectEmptyFile) {
  std::string path = write_fixture("empty", {});
  expect_load_error(run({"inspect", path}), path);
}

TEST_F(VmmBinary, InspectGarbage) {
  std::vector<std::byte> garbage(8192);
  std::mt19937 rng(7);
  for (auto& b : garbage) b = static_cast<std::byte>(rng() & 0xff);
  garbage[0] = std::byte{0x00};  // no accidental compression magic
  std::string path = write_fixture("garbage", garbage);
  expect_load_error(run({"inspect", path}), path);
  expect_load_error(run({"inspect", path, "--json"}), path);
}

// vmm exec's failures before the guest runs: 125 and a message naming what is missing.
TEST_F(VmmBinary, ExecWithAMissingKernelFailsWith125NamingIt) {
  auto r = run({"exec", "--kernel", (tmp_ / "nope").string(), "--", "true"});
  EXPECT_EQ(r.exit_code, kExitExecFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("vmm exec: --kernel " + (tmp_ / "nope").string()));
}

TEST_F(VmmBinary, ExecUsageErrorsAreItsFailuresToo) {
  auto r = run({"exec", "--fs", "nfs"});
  EXPECT_EQ(r.exit_code, kExitExecFailed);
  EXPECT_THAT(r.err, HasSubstr("--fs 'nfs': expected virtiofs or 9p"));
}

TEST_F(VmmBinary, ExecNamesTheConfigOptionsAModuleTreeLacks) {
  test_support::BzImageSpec spec;
  std::string kernel = write_fixture("bzImage", test_support::build_bzimage(spec).bytes);
  auto modules = tmp_ / "modules";
  std::filesystem::create_directories(modules / "kernel");
  // virtio_pci and virtio_console exist; neither virtiofs nor 9p does.
  std::ofstream(modules / "modules.dep") << "kernel/virtio_pci.ko:\nkernel/virtio_console.ko:\n";
  std::ofstream(modules / "kernel/virtio_pci.ko") << "x";
  std::ofstream(modules / "kernel/virtio_console.ko") << "x";
  auto fs = run({"exec", "--kernel", kernel, "--modules", modules.string(), "--", "true"});
  EXPECT_EQ(fs.exit_code, kExitExecFailed) << fs.err;
  EXPECT_THAT(fs.err, HasSubstr("lacks what vmm exec needs: CONFIG_VIRTIO_FS"));
  auto p9 = run({"exec", "--fs", "9p", "--kernel", kernel, "--modules", modules.string(), "--", "true"});
  EXPECT_EQ(p9.exit_code, kExitExecFailed) << p9.err;
  EXPECT_THAT(p9.err, HasSubstr("CONFIG_NET_9P_VIRTIO CONFIG_9P_FS"));
  auto bad = run({"exec", "--kernel", kernel, "--modules", (tmp_ / "none").string(), "--", "true"});
  EXPECT_EQ(bad.exit_code, kExitExecFailed);
  EXPECT_THAT(bad.err, HasSubstr("--modules " + (tmp_ / "none").string()));
}

// A boot (not a dry run) decompresses a PVH bzImage through the kernel cache
// in $XDG_CACHE_HOME, during the set-up before KVM is opened, so this holds
// on a host without /dev/kvm too; --no-kernel-cache never creates the directory.
TEST_F(VmmBinary, ABootCachesTheDecompressedKernelUnlessTold) {
  test_support::BzImageSpec spec;
  spec.payload_plain = test_support::vmlinux_like().build().bytes;
  std::string kernel = write_fixture("bzImage-pvh", test_support::build_bzimage(spec).bytes);
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  auto boot = [&](const std::filesystem::path& cache, std::vector<std::string> extra) {
    ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);
    std::vector<std::string> args{"--kernel", kernel, "--console", "none", "--timeout", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run(args);
    if (old) ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
    else ::unsetenv("XDG_CACHE_HOME");
    return r;
  };

  auto cached = boot(tmp_ / "cache", {});
  const auto dir = tmp_ / "cache" / "minivmm" / "vmlinux";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << cached.err;
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
    EXPECT_TRUE(std::filesystem::exists(e.path() / "vmlinux")) << e.path();
    EXPECT_TRUE(std::filesystem::exists(e.path() / "payload")) << e.path();
  }
  EXPECT_EQ(entries, 1u);

  auto uncached = boot(tmp_ / "untouched", {"--no-kernel-cache"});
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "untouched")) << uncached.err;
  EXPECT_EQ(uncached.exit_code, cached.exit_code) << uncached.err;
}

TEST_F(VmmBinary, ExecWithoutItsGuestInitSaysWhereItLooked) {
  test_support::BzImageSpec spec;
  std::string kernel = write_fixture("bzImage", test_support::build_bzimage(spec).bytes);
  auto modules = tmp_ / "modules";
  std::filesystem::create_directories(modules);
  std::ofstream(modules / "modules.dep") << "";
  std::ofstream(modules / "modules.builtin") << "kernel/virtio_pci.ko\nkernel/virtio_console.ko\nkernel/virtiofs.ko\n";
  ::setenv("MINIVMM_EXEC_INIT", (tmp_ / "no-init").c_str(), 1);
  auto r = run({"exec", "--kernel", kernel, "--modules", modules.string(), "--", "true"});
  ::unsetenv("MINIVMM_EXEC_INIT");
  EXPECT_EQ(r.exit_code, kExitExecFailed);
  EXPECT_THAT(r.err, HasSubstr("the guest init " + (tmp_ / "no-init").string() + " is missing"));
}

// --save-initrd: the guest a peer VMM can boot — a newc archive holding the
// init and the run's spec — and what else it needs, with no boot at all.
TEST_F(VmmBinary, ExecSavesItsInitrdAndSaysHowToBootIt) {
  test_support::BzImageSpec spec;
  std::string kernel = write_fixture("bzImage", test_support::build_bzimage(spec).bytes);
  auto modules = tmp_ / "modules";
  std::filesystem::create_directories(modules);
  std::ofstream(modules / "modules.dep") << "";
  std::ofstream(modules / "modules.builtin") << "kernel/virtio_pci.ko\nkernel/virtio_console.ko\nkernel/9p.ko\n"
                                                 "kernel/9pnet_virtio.ko\n";
  std::ofstream(tmp_ / "init") << "#!/bin/sh\n";
  auto share = tmp_ / "data";
  std::filesystem::create_directories(share);
  ::setenv("MINIVMM_EXEC_INIT", (tmp_ / "init").c_str(), 1);
  const char* old_cache = std::getenv("XDG_CACHE_HOME");
  const std::string saved_cache = old_cache ? old_cache : "";
  ::setenv("XDG_CACHE_HOME", tmp_.c_str(), 1);
  auto out = tmp_ / "initrd.cpio";
  auto r = run({"exec", "--fs", "9p", "--kernel", kernel, "--modules", modules.string(), "--share",
                share.string() + ",tag=data", "--save-initrd", out.string(), "--", "echo", "hi"});
  ::unsetenv("MINIVMM_EXEC_INIT");
  // Back to the test main's private cache, not to the user's.
  if (old_cache) ::setenv("XDG_CACHE_HOME", saved_cache.c_str(), 1);
  else ::unsetenv("XDG_CACHE_HOME");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("kernel " + kernel + "\n"));
  // The architecture's own parameters (x86: pci=noearly), then nothing else.
  const std::string arch_extra(arch::exec_cmdline());
  EXPECT_THAT(r.out, HasSubstr("cmdline console=hvc0 quiet panic=-1 rdinit=/init" +
                               (arch_extra.empty() ? "" : " " + arch_extra) + "\n"));
  EXPECT_THAT(r.out, HasSubstr("share vmm-exec-root ro /\n"));
  EXPECT_THAT(r.out, HasSubstr("share data rw " + share.string() + "\n"));
  std::ifstream in(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(bytes.starts_with("070701")) << "a newc archive";
  EXPECT_NE(bytes.find("#!/bin/sh"), std::string::npos) << "the init is in it";
  EXPECT_NE(bytes.find("echo"), std::string::npos) << "the spec is in it";
  auto bad = run({"exec", "--kernel", kernel, "--modules", modules.string(), "--fs", "9p", "--save-initrd",
                  (tmp_ / "no" / "such" / "dir").string(), "--", "true"});
  EXPECT_EQ(bad.exit_code, kExitExecFailed);
  EXPECT_THAT(bad.err, HasSubstr("--save-initrd " + (tmp_ / "no" / "such" / "dir").string()));

  // --append comes last, so the user's word can override the architecture's.
  ::setenv("MINIVMM_EXEC_INIT", (tmp_ / "init").c_str(), 1);
  auto appended = run({"exec", "--kernel", kernel, "--modules", modules.string(), "--fs", "9p", "--append",
                       "pci=earlydump", "--save-initrd", (tmp_ / "again.cpio").string(), "--", "true"});
  ::unsetenv("MINIVMM_EXEC_INIT");
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  EXPECT_THAT(appended.out, HasSubstr("rdinit=/init" + (arch_extra.empty() ? "" : " " + arch_extra) +
                                      " pci=earlydump\n"));
}

TEST_F(VmmBinary, InspectBzImage) {
  test_support::BzImageSpec spec;
  auto image = test_support::build_bzimage(spec);
  std::string path = write_fixture("bzImage", image.bytes);
  auto r = run({"inspect", path});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("format                  bzImage\n"));
  EXPECT_THAT(r.out, HasSubstr("architecture            x86_64\n"));
  EXPECT_THAT(r.out, HasSubstr("payload compression     xz\n"));
  EXPECT_THAT(r.out, HasSubstr("protocol version        2.15\n"));
  EXPECT_THAT(r.out, HasSubstr("kernel version          " + spec.version_string));
  EXPECT_THAT(r.out, HasSubstr("preferred load address  0x1000000\n"));
  EXPECT_THAT(r.out, HasSubstr("relocatable             yes\n"));
  EXPECT_THAT(r.out, HasSubstr("alignment               0x200000\n"));
  EXPECT_THAT(r.out, HasSubstr("header fields:"));
  EXPECT_THAT(r.out, HasSubstr("cmdline_size"));
}

TEST_F(VmmBinary, InspectBzImageShowsThePvhEntryOfItsPayload) {
  test_support::BzImageSpec spec;
  spec.payload_plain = test_support::vmlinux_like().build().bytes;
  auto image = test_support::build_bzimage(spec);
  std::string path = write_fixture("bzImage-pvh", image.bytes);
  auto r = run({"inspect", path});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr(fmt::format("PVH entry               {:#x} (in the payload's vmlinux",
                                           test_support::kVmlinuxPvhEntry)));
}

TEST_F(VmmBinary, InspectBzImageWithACorruptPayloadIsALoadError) {
  auto image = test_support::build_bzimage();
  // Overwrite the middle of the xz payload: the header still parses.
  for (uint64_t i = 0; i < 64; ++i)
    image.bytes[image.pm_offset + image.payload_offset + image.payload_length / 2 + i] = std::byte{0x55};
  std::string path = write_fixture("bzImage-corrupt", image.bytes);
  expect_load_error(run({"inspect", path}), path);
}

TEST_F(VmmBinary, InspectBzImageJson) {
  auto image = test_support::build_bzimage();
  std::string path = write_fixture("bzImage", image.bytes);
  auto r = run({"inspect", "--json", path});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\n"));
  EXPECT_THAT(r.out, HasSubstr("\"format\": \"bzImage\","));
  EXPECT_THAT(r.out, HasSubstr("\"payload_compression\": \"xz\","));
  EXPECT_THAT(r.out, HasSubstr("\"protocol_version\": \"2.15\","));
  EXPECT_THAT(r.out, HasSubstr(fmt::format("\"load_size\": \"{:#x}\",", image.init_size)));
  EXPECT_THAT(r.out, HasSubstr("\"name\": \"cmdline_size\",\n      \"offset\": \"0x238\",\n      \"value\": \"0x7ff\""));
}

TEST_F(VmmBinary, InspectTruncatedBzImage) {
  auto image = test_support::build_bzimage();
  image.bytes.resize(image.pm_offset + 16);  // the protected-mode part is cut short
  std::string path = write_fixture("short-bzImage", image.bytes);
  expect_load_error(run({"inspect", path}), path);
}

TEST_F(VmmBinary, InspectElfVmlinux) {
  auto elf = test_support::vmlinux_like().build();
  std::string path = write_fixture("vmlinux", elf.bytes);
  auto r = run({"inspect", path});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("format                  ELF vmlinux\n"));
  EXPECT_THAT(r.out, HasSubstr(fmt::format("entry (64-bit)          {:#x}\n", test_support::kVmlinuxEntry)));
  EXPECT_THAT(r.out, HasSubstr(fmt::format("PVH entry               {:#x}\n", test_support::kVmlinuxPvhEntry)));
  EXPECT_THAT(r.out, HasSubstr(test_support::kVmlinuxVersion));
}

TEST_F(VmmBinary, InspectArm64Image) {
  test_support::Arm64ImageSpec spec;
  spec.text_offset = 0x80000;
  auto image = test_support::build_arm64_image(spec);
  std::string path = write_fixture("Image", image);
  auto r = run({"inspect", path});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("format                  arm64 Image\n"));
  EXPECT_THAT(r.out, HasSubstr("architecture            aarch64\n"));
  EXPECT_THAT(r.out, HasSubstr("EFI PE stub             yes\n"));
  EXPECT_THAT(r.out, HasSubstr("entry                   0x80000 (offset from the load address)\n"));
}

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

// Output to a reader that has gone (`vmm ... 2>&1 | head -c0`): SIGPIPE is
// ignored, so writes fail with EPIPE; that must neither abort (fmt::print
// throws, and a catch block printing again aborted with 134) nor change the
// exit code.
TEST_F(VmmBinary, AGoneReaderOfStdoutOrStderrIsNotACrash) {
  auto run_with_closed_pipes = [&](std::vector<std::string> args) {
    int out[2], err[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    ::close(out[0]);
    ::close(err[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<std::string> command = test_support::emulator_prefix();
    command.push_back(binary_.string());
    std::vector<char*> argv;
    for (auto& c : command) argv.push_back(c.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, command.front().c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    EXPECT_EQ(rc, 0);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "vmm died by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run_with_closed_pipes({"--kernel", (tmp_ / "missing").string()}), kExitLoad);
  EXPECT_EQ(run_with_closed_pipes({"--help"}), kExitOk);
  EXPECT_EQ(run_with_closed_pipes({"--bogus-option"}), kExitUsage);
}

}  // namespace
}  // namespace vmm
