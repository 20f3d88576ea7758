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

#include "vmm/exit_codes.h"

namespace {

bool have_kvm() { return access("/dev/kvm", R_OK | W_OK) == 0; }

// The build tree: $MINIVMM_BINARY_DIR, else two levels above this test
// binary (<build>/tests/vmm_tests).
std::string binary_dir() {
  if (const char* d = std::getenv("MINIVMM_BINARY_DIR"); d && *d) return d;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return exe.parent_path().parent_path().string();
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs vmm with stdin from /dev/null and collects stdout (the console) and stderr.
RunResult run_vmm(std::vector<std::string> args) {
  std::string vmm = binary_dir() + "/vmm/vmm";
  args.insert(args.begin(), vmm);
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(vmm.c_str(), argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  RunResult r;
  // Drain both pipes (small outputs: stderr after stdout is fine for these guests,
  // but read them alternately so neither can fill up and block the child).
  bool out_open = true, err_open = true;
  char buf[4096];
  while (out_open || err_open) {
    fd_set fds;
    FD_ZERO(&fds);
    if (out_open) FD_SET(out_pipe[0], &fds);
    if (err_open) FD_SET(err_pipe[0], &fds);
    if (select(std::max(out_pipe[0], err_pipe[0]) + 1, &fds, nullptr, nullptr, nullptr) < 0) break;
    for (auto [fd, open_flag, sink] : {std::tuple{out_pipe[0], &out_open, &r.out}, std::tuple{err_pipe[0], &err_open, &r.err}}) {
      if (*open_flag && FD_ISSET(fd, &fds)) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
          *open_flag = false;
        } else {
          sink->append(buf, static_cast<size_t>(n));
        }
      }
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

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

TEST_F(KvmBoot, AutoPicksLinuxForABzImage) {
  auto r = run_vmm({"--kernel", guest("bzimage_guest.bin"), "--timeout", "20"});
  EXPECT_EQ(r.exit_code, vmm::kExitOk) << r.err;
  EXPECT_NE(r.out.find("MINIVMM-GUEST-OK linux64 bzimage"), std::string::npos) << r.out << r.err;
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
  auto r = run_vmm({"--kernel", guest("bzimage_guest.bin"), "--cpus", "2", "--timeout", "20"});
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
