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

#include <sys/eventfd.h>

#include <utility>  // boost/asio/awaitable.hpp needs std::exchange under C++23
#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>
#include <string>
#include <cstdlib>
#include <vector>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "vmm/console.h"
#include "vmm/exit_codes.h"
#include "vmm/io_thread.h"

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
    // libslirp's thread may open Internet sockets, and only those.
    const int domain = role == Role::kNetUser ? AF_UNIX : AF_INET;
    EXPECT_EXIT((enter_kill(role), syscall(SYS_socket, domain, SOCK_STREAM, 0), _exit(98)),
                ::testing::ExitedWithCode(kCode), message(role, "socket"))
        << role_name(role);
  }
}

// glibc opens /proc/sys/vm/overcommit_memory the first time a thread's own
// arena shrinks its heap; prepare() keeps heaps from shrinking, so a device
// thread may allocate and free freely. Run in a fresh process (threadsafe
// death test: a re-exec), where glibc has not looked yet.
TEST_F(Sandbox, FreeingInAThreadsOwnArenaOpensNothing) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's allocator replaces glibc's arenas (nothing to shrink), and its
  // runtime's own calls (pipe2 memory probes, thread start) fall outside the roles.
  GTEST_SKIP() << "glibc's arenas are not in use under ASan";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kKill, kCode)) _exit(97);
        std::thread t([] {
          enter(Role::kVirtioDevice);
          std::vector<void*> blocks;
          // Below the mmap threshold, so they come from the thread's arena.
          for (int i = 0; i < 512; ++i) {
            void* p = std::malloc(64 * 1024);
            if (p == nullptr) _exit(96);
            std::memset(p, 1, 64 * 1024);
            blocks.push_back(p);
          }
          for (void* p : blocks) std::free(p);
        });
        t.join();
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  GTEST_FLAG_SET(death_test_style, "fast");
}

TEST_F(Sandbox, UserNetworkingOpensInternetSocketsAndReadsResolvConf) {
  EXPECT_EXIT(
      {
        enter_kill(Role::kNetUser);
        const long s = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
        const long f = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
        _exit(s >= 0 && f >= 0 ? 0 : 97);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, OpeningAPathEndsTheProcessOutsideTheFileServer) {
  for (Role role : kAllRoles) {
    if (role == Role::kFileServer) continue;
    // libslirp's thread reads /etc/resolv.conf: it may open read-only, never for writing.
    const int flags = role == Role::kNetUser ? O_WRONLY | O_APPEND : O_RDONLY;
    EXPECT_EXIT((enter_kill(role), syscall(SYS_openat, AT_FDCWD, "/etc/passwd", flags), _exit(98)),
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

// The run loops themselves under their filters, in a child each: what the
// threads do between set-up and exit (including a thread's own exit) passes.

TEST_F(Sandbox, AnIoThreadServesAndStopsUnderEachIoRole) {
#if defined(__SANITIZE_ADDRESS__)
  // As below: the ASan runtime may probe memory with pipe2 on any thread
  // (IsAccessibleMemoryRange), which no role allows; seen on the I/O and
  // console roles too. ASan builds run the VMM with --seccomp log (README).
  GTEST_SKIP() << "the ASan runtime's own calls (pipe2) are outside the thread roles";
#endif
  for (Role role : {Role::kVirtioBlk, Role::kFileServer, Role::kVirtioConsole, Role::kVirtioRng, Role::kVirtioDevice,
                    Role::kIrqResample}) {
    EXPECT_EXIT(
        {
          if (!prepare(Mode::kKill, kCode)) _exit(97);
          IoThread io("sandboxed", role);
          int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
          std::promise<uint64_t> counted;
          std::promise<void> posted;
          if (!io.watch_eventfd(efd, [&](uint64_t count) { counted.set_value(count); })) _exit(96);
          io.start();
          uint64_t two = 2;
          (void)!write(efd, &two, sizeof two);
          const uint64_t got = counted.get_future().get();
          io.post([&] { posted.set_value(); });
          posted.get_future().wait();
          io.stop();
          _exit(got == 2 ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "")
        << role_name(role);
  }
}

TEST_F(Sandbox, TheConsoleThreadsWorkUnderTheirRoles) {
#if defined(__SANITIZE_ADDRESS__)
  // As below: the ASan runtime may probe memory with pipe2 on any thread
  // (IsAccessibleMemoryRange), which no role allows; seen on the I/O and
  // console roles too. ASan builds run the VMM with --seccomp log (README).
  GTEST_SKIP() << "the ASan runtime's own calls (pipe2) are outside the thread roles";
#endif
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kKill, kCode)) _exit(97);
        int out[2];
        if (pipe(out) != 0) _exit(96);
        ConsoleOutput output(out[1]);
        output.write(std::as_bytes(std::span("hello", 5)));
        output.close(std::chrono::seconds(5));
        char buf[8] = {};
        const bool ok = read(out[0], buf, sizeof buf) == 5 && std::string_view(buf, 5) == "hello";
        _exit(ok && output.written() == 5 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kKill, kCode)) _exit(97);
        int in[2];
        if (pipe(in) != 0) _exit(96);
        std::promise<std::string> delivered;
        ConsoleInput input(
            in[0], [] { return size_t{64}; },
            [&](std::span<const std::byte> bytes) {
              delivered.set_value(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
            },
            nullptr, false);
        (void)!write(in[1], "hi", 2);
        const std::string got = delivered.get_future().get();
        input.stop();
        _exit(got == "hi" ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(Sandbox, TheMainLoopAndAVcpuThreadRunAndEndUnderTheirRoles) {
#if defined(__SANITIZE_ADDRESS__)
  // The ASan runtime probes memory with pipe2 and write on this thread's way
  // through Asio (IsAccessibleMemoryRange): no role has pipe2. ASan builds
  // run the VMM with --seccomp log by default (README).
  GTEST_SKIP() << "the ASan runtime's own calls (pipe2) are outside the vCPU role";
#endif
  EXPECT_EXIT(
      {
        if (!prepare(Mode::kKill, kCode)) _exit(97);
        bool ok = false;
        {  // torn down under the filter too, as run_vm's objects are
          boost::asio::io_context io;
          boost::asio::signal_set signals(io, SIGINT, SIGTERM);
          boost::asio::steady_timer timer(io);
          bool timer_fired = false;
          int rounds = 0;
          std::thread vcpu([&] {
            enter(Role::kVcpu);
            std::string work(256 * 1024, 'v');
            // What a vCPU does to reach the event loop, in lockstep with it:
            // most of these posts find the main thread asleep in epoll_wait,
            // which Asio wakes with epoll_ctl(EPOLL_CTL_MOD) from this thread.
            for (int i = 0; i < 200; ++i) {
              std::promise<void> ran;
              boost::asio::post(io, [&] {
                ++rounds;
                ran.set_value();
              });
              ran.get_future().wait();
            }
            boost::asio::post(io, [&] { signals.cancel(); });
          });
          enter(Role::kMain);
          signals.async_wait([](const boost::system::error_code&, int) {});
          timer.expires_after(std::chrono::milliseconds(0));
          timer.async_wait([&](const boost::system::error_code& ec) { timer_fired = !ec; });
          io.run();
          vcpu.join();
          ok = timer_fired && rounds == 200;
        }
        _exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace vmm::seccomp

namespace vmm::seccomp {
namespace {

// glibc opens /etc/localtime on a process's first time conversion, even
// gmtime_r's; the x86 CMOS RTC converts on a vCPU thread. prepare() loads
// it first. A fresh process (threadsafe style re-executes the test binary)
// has not converted a time yet.
TEST_F(Sandbox, AVcpuConvertsTimesInAFreshProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        enter_kill(Role::kVcpu);
        std::time_t now = std::time(nullptr);
        std::tm tm{};
        _exit(gmtime_r(&now, &tm) != nullptr && tm.tm_year > 100 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  GTEST_FLAG_SET(death_test_style, "fast");
}

}  // namespace
}  // namespace vmm::seccomp
