#include "vmm/sandbox.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "vmm/exit_codes.h"
#include "vmm/text.h"

namespace vmm::seccomp {

namespace {

constexpr size_t kRoles = std::size(kAllRoles);
// Above every syscall number of x86_64, aarch64 and riscv64.
constexpr int kMaxSyscall = 1024;

// Written by prepare() before any thread enters; only read afterwards (also
// from the SIGSYS handler, which must not allocate or lock).
struct State {
  Mode mode = Mode::kOff;
  int exit_code = kExitInternal;
  std::array<std::optional<Program>, kRoles> programs;
  std::array<std::string, kMaxSyscall> names;
};
State* g_state = nullptr;
thread_local const char* t_role = "";

// Async-signal-safe message building: no allocation, no stdio.
struct Line {
  char buf[256];
  size_t len = 0;
  void add(const char* s) {
    while (*s && len < sizeof buf) buf[len++] = *s++;
  }
  void add(long v) {
    char digits[24];
    size_t n = 0;
    bool negative = v < 0;
    unsigned long u = negative ? 0ul - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0 && n < sizeof digits);
    if (negative) add("-");
    while (n > 0 && len < sizeof buf) buf[len++] = digits[--n];
  }
  void write_out() const {
    size_t done = 0;
    while (done < len) {
      ssize_t w = ::write(STDERR_FILENO, buf + done, len - done);
      if (w <= 0) return;
      done += static_cast<size_t>(w);
    }
  }
};

void on_sigsys(int, siginfo_t* info, void*) {
  const int nr = info->si_syscall;
  Line line;
  line.add("minivmm: seccomp: thread ");
  line.add(*t_role ? t_role : "unknown");
  line.add(" made forbidden syscall ");
  const State* s = g_state;
  line.add(s && nr >= 0 && nr < kMaxSyscall && !s->names[static_cast<size_t>(nr)].empty()
               ? s->names[static_cast<size_t>(nr)].c_str()
               : "?");
  line.add(" (nr ");
  line.add(static_cast<long>(nr));
  line.add(")\n");
  line.write_out();
  _exit(s ? s->exit_code : kExitInternal);
}

}  // namespace

Result<void> prepare(Mode mode, int violation_exit_code) {
  auto state = std::make_unique<State>();
  state->mode = mode;
  state->exit_code = violation_exit_code;
  if (mode == Mode::kOff) {
    delete g_state;
    g_state = state.release();
    return {};
  }
  for (Role role : kAllRoles) {
    auto program = compile(role, mode);
    if (!program) return std::unexpected(program.error());
    state->programs[static_cast<size_t>(role)] = std::move(*program);
  }
  for (int nr = 0; nr < kMaxSyscall; ++nr) {
    if (char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) {
      state->names[static_cast<size_t>(nr)] = name;
      std::free(name);
    }
  }
  // libc state that loads lazily, by opening files, on first use: glibc
  // reads /etc/localtime (TZ) the first time any thread converts a time,
  // even with gmtime_r (the x86 CMOS RTC does, on a vCPU thread). Load it now.
  tzset();
  // glibc reads /proc/sys/vm/overcommit_memory the first time a thread's
  // arena heap shrinks after frees (check_may_shrink_heap), on whichever
  // thread frees: after a long network transfer, the main thread freeing
  // slirp's buffers at exit died of it. A thread of our own (its own arena)
  // grows and frees one heap now, so glibc has the answer cached.
  std::thread([] {
    // Blocks under the mmap threshold come from the arena's heap; freed,
    // they leave a top above the trim threshold, and the heap shrinks.
    // volatile: the optimiser may not drop a malloc whose block is unused.
    std::array<void* volatile, 64> blocks{};
    for (auto& b : blocks) b = std::malloc(64 * 1024);
    for (auto& b : blocks) std::free(b);
  }).join();
  if (mode == Mode::kKill) {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, nullptr) != 0) return fail_errno(errno, "seccomp: the SIGSYS handler");
  }
  delete g_state;  // prepare() runs once per process in the VMM; tests call it in forked children
  g_state = state.release();
  return {};
}

Result<void> install(const Program& program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.code.size());
  prog.filter = const_cast<sock_filter*>(program.code.data());
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail_errno(errno, "seccomp: PR_SET_NO_NEW_PRIVS");
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    if (errno != ENOSYS) return fail_errno(errno, "seccomp: SECCOMP_SET_MODE_FILTER");
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
      return fail_errno(errno, "seccomp: PR_SET_SECCOMP");
  }
  return {};
}

void enter(Role role) {
  const State* s = g_state;
  if (!s || s->mode == Mode::kOff) return;
  const auto& program = s->programs[static_cast<size_t>(role)];
  t_role = role_name(role).data();  // role names are string literals
  if (!program) return;
  if (auto r = install(*program); !r) {
    write_stderr(fmt::format("minivmm: seccomp: thread {} could not install its filter: {}\n", role_name(role),
                             r.error().message));
    _exit(kExitInternal);
  }
}

std::string_view current_role() { return t_role; }

}  // namespace vmm::seccomp
