// Each role's filter, installed for real in a forked child (gtest death
// tests): a forbidden call ends the process with the message and the exit
// code, an allowed call does not.
#include "vmm/sandbox.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "vmm/exit_codes.h"

namespace vmm::seccomp {
namespace {

constexpr int kCode = kExitSeccomp;

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef MINIVMM_TEST_EMULATOR
    GTEST_SKIP() << "qemu-user does not emulate seccomp filters";
#endif
  }
};

// The message a violation prints, as a regular expression.
std::string message(Role role, const char* syscall) {
  const int nr = seccomp_syscall_resolve_name(syscall);
  return fmt::format("minivmm: seccomp: thread {} made forbidden syscall {} \\(nr {}\\)", role_name(role), syscall, nr);
}

// In the child: the role's filter in kill mode.
void enter_kill(Role role) {
  if (!prepare(Mode::kKill, kCode)) _exit(97);
  enter(role);
}

[[noreturn]] void exec_true() {
  const char* argv[] = {"/bin/true", nullptr};
  syscall(SYS_execve, "/bin/true", argv, environ);
  _exit(98);  // not reached when the filter works
}

TEST_F(Sandbox, ExecveEndsTheProcessFromEveryRole) {
  for (Role role : kAllRoles) {
    EXPECT_EXIT((enter_kill(role), exec_true()), ::testing::ExitedWithCode(kCode), message(role, "execve"))
        << role_name(role);
  }
}

TEST_F(Sandbox, SocketEndsTheProcessFromEveryRole) {
  for (Role role : kAllRoles) {
    EXPECT_EXIT((enter_kill(role), syscall(SYS_socket, AF_INET, SOCK_STREAM, 0), _exit(98)),
                ::testing::ExitedWithCode(kCode), message(role, "socket"))
        << role_name(role);
  }
}

TEST_F(Sandbox, OpeningAPathEndsTheProcessOutsideTheFileServer) {
  for (Role role : kAllRoles) {
    if (role == Role::kFileServer) continue;
    EXPECT_EXIT((enter_kill(role), syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY), _exit(98)),
                ::testing::ExitedWithCode(kCode), message(role, "openat"))
        << role_name(role);
  }
}

TEST_F(Sandbox, AVcpuMayRunButNotCreateAVm) {
  // KVM_RUN on a bad fd fails with EBADF: allowed through the filter.
  EXPECT_EXIT((enter_kill(Role::kVcpu), _exit(ioctl(-1, KVM_RUN, 0) == -1 && errno == EBADF ? 0 : 1)),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT((enter_kill(Role::kVcpu), ioctl(-1, KVM_CREATE_VM, 0), _exit(98)), ::testing::ExitedWithCode(kCode),
              message(Role::kVcpu, "ioctl"));
}

TEST_F(Sandbox, ExecutableMemoryEndsTheProcess) {
  EXPECT_EXIT((enter_kill(Role::kMain), mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
               _exit(98)),
              ::testing::ExitedWithCode(kCode), message(Role::kMain, "mmap"));
  // The same mapping without PROT_EXEC is what malloc does: allowed.
  EXPECT_EXIT((enter_kill(Role::kMain),
               _exit(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)),
              ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, EveryRoleKeepsWhatEveryThreadNeeds) {
  for (Role role : kAllRoles) {
    EXPECT_EXIT(
        {
          enter_kill(role);
          std::string grown(1 << 20, 'x');  // malloc: mmap, munmap
          (void)!write(STDERR_FILENO, "alive\n", 6);
          _exit(grown.size() == (1u << 20) && getpid() > 0 && current_role() == role_name(role) ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "alive")
        << role_name(role);
  }
}

TEST_F(Sandbox, TheFileServerMayOpenFiles) {
  EXPECT_EXIT((enter_kill(Role::kFileServer), _exit(::open("/", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : 1)),
              ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, LogModeLetsTheCallThrough) {
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kLog, kCode)) _exit(97);
        enter(Role::kVcpu);
        int fd = static_cast<int>(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
        _exit(fd >= 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, OffAndUnpreparedInstallNothing) {
  EXPECT_EXIT((enter(Role::kVcpu), _exit(::open("/", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : 1)),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kOff, kCode)) _exit(97);
        enter(Role::kVcpu);
        _exit(::open("/", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, TheExitCodeIsTheCallers) {
  // vmm exec reports a violation as its own failure, 125.
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kKill, kExitExecFailed)) _exit(97);
        enter(Role::kConsoleOutput);
        exec_true();
      },
      ::testing::ExitedWithCode(kExitExecFailed), message(Role::kConsoleOutput, "execve"));
}

}  // namespace
}  // namespace vmm::seccomp
