// KVM integration tests: the vmm binary boots the tiny guests of tests/guests
// through each x86_64 boot path; the guest prints a line naming the path it
// was entered by and resets through the i8042. Skipped without /dev/kvm.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support/vmm_process.h"
#include "vmm/exit_codes.h"

namespace {

using test_support::binary_dir;
using test_support::have_kvm;
using test_support::run_vmm;

class KvmBoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_kvm()) GTEST_SKIP() << "no /dev/kvm: KVM integration tests need a host with KVM (run them in the nested harness)";
    ASSERT_FALSE(binary_dir().empty()) << "cannot find the build tree (set MINIVMM_BINARY_DIR)";
  }
  std::string guest(const char* name) { return binary_dir() + "/tests/guests/" + name; }
};

TEST_F(KvmBoot, PvhFromElf) {
  auto r = run_vmm({"--kernel", guest("elf_guest.elf"), "--boot", "pvh", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK pvh"), std::string::npos) << r.out << r.err;
}

TEST_F(KvmBoot, AutoPicksPvhForAnElfWithThePvhNote) {
  auto r = run_vmm({"--kernel", guest("elf_guest.elf"), "--boot", "auto", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK pvh"), std::string::npos) << r.out << r.err;
}

TEST_F(KvmBoot, Linux64FromElf) {
  auto r = run_vmm({"--kernel", guest("elf_guest.elf"), "--boot", "linux", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK linux64 elf"), std::string::npos) << r.out << r.err;
}

TEST_F(KvmBoot, Linux64FromBzImage) {
  auto r = run_vmm({"--kernel", guest("bzimage_guest.bin"), "--boot", "linux", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK linux64 bzimage"), std::string::npos) << r.out << r.err;
}

// auto decompresses a bzImage's payload and enters it through PVH when it has
// the note (the test guest's payload does); the second boot takes the vmlinux
// from the kernel cache, and the boot report says which happened.
TEST_F(KvmBoot, AutoPicksPvhForABzImageWhosePayloadHasTheNoteAndCachesIt) {
  std::string cache = (std::filesystem::temp_directory_path() / "minivmm_kvm_cache_XXXXXX").string();
  ASSERT_NE(::mkdtemp(cache.data()), nullptr);
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  const std::vector<std::string> args{"--kernel", guest("bzimage_guest.bin"), "--timeout", "20", "--boot-report"};
  auto first = run_vmm(args);
  auto second = run_vmm(args);
  if (old) ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else ::unsetenv("XDG_CACHE_HOME");
  std::error_code ec;
  std::filesystem::remove_all(cache, ec);
  for (const auto* r : {&first, &second}) {
    EXPECT_EQ(r->exit_code, vmm::kExitOk) << r->err;
    EXPECT_NE(r->out.find("MINIVMM-GUEST-OK pvh"), std::string::npos) << r->out << r->err;
  }
  const std::string dir = cache + "/minivmm/vmlinux/";
  EXPECT_NE(first.err.find("    kernel:                 decompressed, cached as " + dir), std::string::npos)
      << first.err;
  EXPECT_NE(second.err.find("    kernel:                 decompressed payload from cache (" + dir), std::string::npos)
      << second.err;
}

TEST_F(KvmBoot, PvhFromBzImagePayload) {
  auto r = run_vmm({"--kernel", guest("bzimage_guest.bin"), "--boot", "pvh", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK pvh"), std::string::npos) << r.out << r.err;
}

TEST_F(KvmBoot, ExpectMatchExitsZeroAndReportIsPrinted) {
  auto r = run_vmm({"--kernel", guest("elf_guest.elf"), "--expect", "GUEST-OK (pvh|linux64)", "--timeout", "20",
                    "--boot-report"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.err.find("minivmm boot report"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("set-up (start→KVM_RUN):"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("set-up (start→KVM_RUN):   not seen"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("io "), std::string::npos) << r.err;
}

TEST_F(KvmBoot, UnmetExpectationIsItsOwnExitCode) {
  auto r = run_vmm({"--kernel", guest("elf_guest.elf"), "--expect", "NEVER-PRINTED", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitExpectUnmet) << r.err;
}

TEST_F(KvmBoot, TwoCpusBoot) {
  auto r = run_vmm({"--kernel", guest("bzimage_guest.bin"), "--boot", "linux", "--cpus", "2", "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK linux64 bzimage"), std::string::npos) << r.out << r.err;
}

TEST_F(KvmBoot, BadKernelIsALoadError) {
  auto r = run_vmm({"--kernel", "/dev/null", "--timeout", "5"});
  EXPECT_EQ(r.exit_code, vmm::kExitLoad) << r.err;
}

}  // namespace

namespace {

TEST_F(KvmBoot, GuestPanicIsDetected) {
  auto r = run_vmm({"--kernel", guest("panic_guest.elf"), "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitGuestPanic) << r.err;
  EXPECT_NE(r.out.find("Kernel panic - not syncing"), std::string::npos) << r.out;
}

TEST_F(KvmBoot, TimeoutEndsAHungGuestAndKicksTheHaltedVcpus) {
  auto r = run_vmm({"--kernel", guest("hang_guest.elf"), "--cpus", "2", "--timeout", "1"});
  EXPECT_EQ(r.exit_code, vmm::kExitTimeout) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST hanging"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("timeout after 1 s"), std::string::npos) << r.err;
}

TEST_F(KvmBoot, SigtermStopsTheVm) {
  // TERM the VMM once the guest has spoken (so the VM is surely running).
  std::string vmm = binary_dir() + "/vmm/vmm";
  std::string kernel = guest("hang_guest.elf");
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(null_fd, 2);
    close(out_pipe[0]);
    execl(vmm.c_str(), vmm.c_str(), "--kernel", kernel.c_str(), "--timeout", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  std::string out;
  char buf[256];
  while (out.find("hanging") == std::string::npos) {
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ASSERT_NE(out.find("hanging"), std::string::npos) << out;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_pipe[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), vmm::kExitInterrupted);
}

}  // namespace
