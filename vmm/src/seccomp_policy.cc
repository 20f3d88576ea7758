#include "vmm/seccomp_policy.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "vmm/arch.h"

namespace vmm::seccomp {

namespace {

// ioctl's request is an unsigned int in the kernel: compare the low 32 bits.
constexpr uint64_t kIoctlMask = 0xffffffffu;

using Rules = std::vector<Rule>;

void add(Rules& rules, std::string_view name, std::string_view why) {
  rules.push_back({std::string(name), {}, std::string(why)});
}

void add_ioctls(Rules& rules, const std::vector<Ioctl>& ioctls, std::string_view why) {
  for (const auto& i : ioctls)
    rules.push_back({"ioctl", {{1, kIoctlMask, i.request & kIoctlMask}}, fmt::format("{}: {}", i.name, why)});
}

// What every thread does, whatever its job: memory (malloc arenas, thread
// exit), locks, time, signals (the vCPU kick, Asio's signal handler writing
// to its pipe, the SIGSYS report itself), and ending.
void add_common(Rules& rules) {
  add(rules, "futex", "mutexes, condition variables, thread join");
  add(rules, "exit", "thread exit");
  add(rules, "exit_group", "process exit (also the seccomp violation report)");
  add(rules, "rt_sigreturn", "return from a signal handler (vCPU kick, Asio signals)");
  add(rules, "rt_sigprocmask", "signal masks (glibc around thread exit and abort)");
  add(rules, "restart_syscall", "a call interrupted by a signal resumes");
  add(rules, "sched_yield", "spin locks");
  add(rules, "getpid", "pthread_kill, raise");
  add(rules, "gettid", "glibc thread bookkeeping");
  add(rules, "tgkill", "pthread_kill (vCPU kick), abort");
  add(rules, "clock_gettime", "std::chrono clocks when the vDSO falls back");
  add(rules, "gettimeofday", "system_clock when the vDSO falls back");
  add(rules, "time", "time(2) when the vDSO falls back (x86_64; the CMOS RTC)");
  add(rules, "clock_nanosleep", "timed waits");
  add(rules, "nanosleep", "timed waits");
  add(rules, "write", "eventfd kicks, Asio wake-ups, messages to stderr");
  add(rules, "close", "releasing descriptors of objects a thread destroys");
  // Memory: never executable (no JIT here; a guest-driven bug cannot map code).
  rules.push_back({"mmap", {{2, PROT_EXEC, 0}}, "malloc arenas and large allocations, never PROT_EXEC"});
  rules.push_back({"mprotect", {{2, PROT_EXEC, 0}}, "malloc arena growth, never PROT_EXEC"});
  add(rules, "munmap", "free, thread stacks");
  add(rules, "mremap", "realloc of large blocks");
  add(rules, "madvise", "free and thread exit return memory");
  add(rules, "brk", "malloc's main arena");
#if defined(__SANITIZE_ADDRESS__)
  // ASan builds only (they default to --seccomp log, README): the runtime
  // sets and clears each thread's alternate signal stack, also at thread exit.
  add(rules, "sigaltstack", "the ASan runtime's per-thread signal stack");
#endif
}

// poll(2), which glibc makes ppoll on architectures without the old call.
void add_poll(Rules& rules, std::string_view why) {
  add(rules, "poll", fmt::format("{} (x86_64)", why));
  add(rules, "ppoll", why);
}

// An Asio io_context's reactor (epoll), as the main and the I/O threads run it.
void add_event_loop(Rules& rules) {
  add(rules, "epoll_wait", "the Asio reactor (x86_64)");
  add(rules, "epoll_pwait", "the Asio reactor");
  add(rules, "epoll_ctl", "the Asio reactor: descriptors come and go");
  add(rules, "timerfd_settime", "Asio timers");
  add(rules, "read", "eventfds (doorbells, Asio's interrupter), Asio's signal pipe");
}

// Handing work to another thread's Asio io_context (asio::post): when that
// thread sleeps in epoll_wait, Asio wakes it by re-arming its eventfd with
// EPOLL_CTL_MOD (epoll_reactor::interrupt), then writes the eventfd.
void add_post_to_event_loop(Rules& rules) {
  rules.push_back({"epoll_ctl", {{1, 0xffffffffu, EPOLL_CTL_MOD}}, "asio::post wakes the loop (EPOLL_CTL_MOD only)"});
}

void add_interrupts(Rules& rules, const arch::RuntimeIoctls& kvm) {
  add_ioctls(rules, kvm.interrupts, "raise a device interrupt");
}

// glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH) (stdio asks it on a stream's first use).
void add_fstat(Rules& rules, std::string_view why) {
  add(rules, "fstat", why);
  add(rules, "newfstatat", why);
}

Rules build(Role role) {
  const arch::RuntimeIoctls kvm = arch::runtime_ioctls();
  Rules rules;
  add_common(rules);
  switch (role) {
    case Role::kMain:
      add_event_loop(rules);
      add(rules, "rt_sigaction", "Asio's signal_set restores SIGINT/SIGTERM when it goes away");
      add_fstat(rules, "stdio's first write to a stream");
      add(rules, "pread64", "the boot report's /proc/self/statm (opened before the filter)");
      add(rules, "mincore", "the boot report: guest pages resident");
      add(rules, "getrusage", "the boot report: peak RSS");
      add_ioctls(rules, kvm.registers, "where a vCPU was stuck after a timeout");
      add_ioctls(rules, {{TCSETS, "TCSETS"}}, "restore the terminal's mode (tcsetattr)");
      add(rules, "io_uring_enter", "a disk torn down at exit waits for its ring's requests");
      break;
    case Role::kVcpu:
      add_ioctls(rules, {{KVM_RUN, "KVM_RUN"}}, "run the vCPU");
      add_post_to_event_loop(rules);  // console output to the main loop, doorbells to an I/O thread
      add_ioctls(rules, {{KVM_IOEVENTFD, "KVM_IOEVENTFD"}}, "virtio-pci doorbells follow a BAR the guest moves");
      add_interrupts(rules, kvm);
      add_ioctls(rules, kvm.registers, "where the vCPU was, in an error report");
      // The guest's write of 0 to a virtio-blk status register resets the disk
      // on this thread, and the reset waits for the requests still in its ring
      // (VirtioBlk::reset): without this, a guest that resets a busy disk
      // ended the VMM (exit 10; the hostile guest over aarch64 virtio-mmio).
      add(rules, "io_uring_enter", "a guest's reset of a busy disk waits for its ring's requests");
      break;
    case Role::kVirtioBlk:
      add_event_loop(rules);
      add_interrupts(rules, kvm);
      add(rules, "preadv", "disk reads");
      add(rules, "pwritev", "disk writes");
      add(rules, "pread64", "disk reads");
      add(rules, "pwrite64", "disk writes");
      add(rules, "fdatasync", "VIRTIO_BLK_T_FLUSH");
      add(rules, "fsync", "VIRTIO_BLK_T_FLUSH");
      add(rules, "fallocate", "discard and write-zeroes");
      // The ring itself may only READV/WRITEV (IORING_REGISTER_RESTRICTIONS,
      // backends/src/uring_block_io.cc): its requests run in kernel workers
      // no filter sees.
      add(rules, "io_uring_enter", "submit reads and writes, reap their completions");
      break;
    case Role::kFileServer:
      add_event_loop(rules);
      add_interrupts(rules, kvm);
      // Every name is resolved beneath the share's root (openat2 RESOLVE_BENEATH,
      // or /proc/self/fd/N of an fd already inside it): backends/src/share_dir.cc.
      add(rules, "openat", "open a file by its fd's /proc/self/fd path");
      add(rules, "openat2", "lookups confined to the share (RESOLVE_BENEATH)");
      add_fstat(rules, "getattr, lookups");
      add(rules, "statx", "getattr");
      add(rules, "fstatfs", "statfs");
      add(rules, "getdents64", "readdir");
      add(rules, "lseek", "readdir offsets, FUSE_LSEEK");
      add(rules, "preadv", "reads");
      add(rules, "pwritev", "writes");
      add(rules, "pread64", "reads");
      add(rules, "pwrite64", "writes");
      add(rules, "fsync", "fsync");
      add(rules, "fdatasync", "fsync with datasync");
      add(rules, "fallocate", "fallocate");
      add(rules, "ftruncate", "setattr size");
      add(rules, "truncate", "setattr size by path");
      add(rules, "chmod", "setattr mode (x86_64)");
      add(rules, "fchmodat", "setattr mode");
      add(rules, "utimensat", "setattr times");
      add(rules, "mkdirat", "mkdir");
      add(rules, "mknodat", "mknod, create");
      add(rules, "unlinkat", "unlink, rmdir");
      add(rules, "renameat", "rename (x86_64)");
      add(rules, "renameat2", "rename");
      add(rules, "linkat", "link");
      add(rules, "symlinkat", "symlink");
      add(rules, "readlinkat", "readlink");
      add(rules, "faccessat", "access");
      add(rules, "faccessat2", "access with flags");
      add(rules, "getxattr", "getxattr");
      add(rules, "setxattr", "setxattr");
      add(rules, "listxattr", "listxattr");
      add(rules, "removexattr", "removexattr");
      add(rules, "fcntl", "dup of the share root, status flags");
      break;
    case Role::kVirtioConsole:
    case Role::kVirtioDevice:
    case Role::kIrqResample:
      add_event_loop(rules);
      add_interrupts(rules, kvm);
      break;
    case Role::kVirtioRng:
      add_event_loop(rules);
      add_interrupts(rules, kvm);
      add(rules, "getrandom", "the entropy the guest asks for");
      break;
    case Role::kConsoleOutput:
      add_poll(rules, "wait until the console can take more");
      break;
    case Role::kVirtioNet:
      add_event_loop(rules);
      add_interrupts(rules, kvm);
      add(rules, "writev", "a frame to the TAP (non-blocking; --net user queues it to its thread instead)");
      break;
    case Role::kNetUser:
      add_interrupts(rules, kvm);  // frames for the guest go straight into its receive queue
      add_poll(rules, "libslirp's sockets, timers and the wake-up eventfd");
      add(rules, "read", "the wake-up eventfd");
      // The one role with sockets: the guest's TCP and UDP connections (and
      // ICMP echo) become the host's. Internet sockets only: no AF_UNIX,
      // netlink or packet sockets.
      rules.push_back({"socket", {{0, 0xffffffffu, AF_INET}}, "the guest's connections, IPv4"});
      rules.push_back({"socket", {{0, 0xffffffffu, AF_INET6}}, "the guest's connections, IPv6"});
      add(rules, "connect", "an outbound connection of the guest");
      add(rules, "accept", "a connection to a hostfwd port (x86_64)");
      add(rules, "accept4", "a connection to a hostfwd port");
      add(rules, "bind", "a UDP socket's local port");
      add(rules, "listen", "libslirp listens again after a hostfwd connection");
      add(rules, "sendto", "data out on a socket (send)");
      add(rules, "recvfrom", "data in from a socket (recv)");
      add(rules, "sendmsg", "data out on a socket");
      add(rules, "recvmsg", "data in from a socket");
      add(rules, "readv", "data in from a socket");
      add(rules, "writev", "data out on a socket");
      add(rules, "shutdown", "the guest half-closes a connection");
      add(rules, "setsockopt", "non-blocking, reuse, keep-alive and buffer options");
      add(rules, "getsockopt", "SO_ERROR of a connect in progress");
      add(rules, "getsockname", "a socket's local address");
      add(rules, "getpeername", "a socket's remote address");
      add(rules, "fcntl", "O_NONBLOCK on new sockets");
      add_ioctls(rules, {{FIONREAD, "FIONREAD"}, {FIONBIO, "FIONBIO"}}, "a socket's pending bytes, non-blocking mode");
      // DNS for 10.0.2.3 goes to the host's resolver, which libslirp reads
      // from /etc/resolv.conf when the guest first asks: read-only opens only.
      rules.push_back({"openat", {{2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0}},
                       "/etc/resolv.conf, read-only"});
      add_fstat(rules, "whether /etc/resolv.conf changed");
      add(rules, "stat", "whether /etc/resolv.conf changed (x86_64)");
      add(rules, "getrandom", "DHCP transaction and TCP sequence numbers");
      break;
    case Role::kNetTap:
      add_interrupts(rules, kvm);  // frames for the guest go straight into its receive queue
      add_poll(rules, "the TAP and the wake-up eventfd");
      add(rules, "read", "frames from the TAP, the wake-up eventfd");
      add_ioctls(rules, {{TUNSETOFFLOAD, "TUNSETOFFLOAD"}}, "the offloads the guest's driver accepted");
      break;
    case Role::kConsoleInput:
      add_poll(rules, "wait for host input or the stop eventfd");
      add(rules, "read", "host input");
      add_interrupts(rules, kvm);
      add_post_to_event_loop(rules);  // Ctrl-A x to the main loop
      break;
  }
  return rules;
}

uint32_t native_or(uint32_t arch_token) { return arch_token == 0 ? seccomp_arch_native() : arch_token; }

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::unexpected<Error> seccomp_error(int rc, std::string_view what) {
  return fail_errno(-rc, fmt::format("seccomp: {}", what));
}

}  // namespace

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::kKill: return "kill";
    case Mode::kLog: return "log";
    case Mode::kOff: return "off";
  }
  return "?";
}

std::optional<Mode> parse_mode(std::string_view text) {
  for (Mode m : {Mode::kKill, Mode::kLog, Mode::kOff})
    if (text == to_string(m)) return m;
  return std::nullopt;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kMain: return "main";
    case Role::kVcpu: return "vcpu";
    case Role::kVirtioBlk: return "virtio-blk";
    case Role::kFileServer: return "file-server";
    case Role::kVirtioConsole: return "virtio-console";
    case Role::kVirtioRng: return "virtio-rng";
    case Role::kVirtioDevice: return "virtio-device";
    case Role::kIrqResample: return "irq-resample";
    case Role::kConsoleOutput: return "console-output";
    case Role::kConsoleInput: return "console-input";
    case Role::kVirtioNet: return "virtio-net";
    case Role::kNetUser: return "net-user";
    case Role::kNetTap: return "net-tap";
  }
  return "?";
}

Role role_for_device(std::string_view device_name) {
  if (device_name == "virtio-blk") return Role::kVirtioBlk;
  if (device_name == "virtio-fs" || device_name == "virtio-9p") return Role::kFileServer;
  if (device_name == "virtio-console") return Role::kVirtioConsole;
  if (device_name == "virtio-rng") return Role::kVirtioRng;
  if (device_name == "virtio-net") return Role::kVirtioNet;
  return Role::kVirtioDevice;
}

std::vector<Rule> allow_list(Role role) { return build(role); }

Figures figures(Role role, uint32_t arch_token) {
  const uint32_t arch = native_or(arch_token);
  std::set<int> syscalls;
  Figures f;
  for (const auto& rule : build(role)) {
    // Absent: __NR_SCMP_ERROR, or a negative pseudo-syscall number
    // (libseccomp's stand-in for a call another architecture has).
    const int nr = seccomp_syscall_resolve_name_arch(arch, rule.name.c_str());
    if (nr < 0) continue;
    syscalls.insert(nr);
    if (rule.name == "ioctl") ++f.ioctls;
  }
  f.syscalls = syscalls.size();
  return f;
}

Result<Program> compile(Role role, Mode mode) {
  if (mode == Mode::kOff) return fail("seccomp: no filter to compile in mode off");
  // kill: SIGSYS, so the handler (vmm/sandbox.h) can say which thread made which call.
  const uint32_t deny = mode == Mode::kKill ? SCMP_ACT_TRAP : SCMP_ACT_LOG;
  Ctx ctx(seccomp_init(deny));
  if (!ctx) return fail("seccomp: seccomp_init failed");
  // A syscall of another ABI (x86's int 0x80, x32) is never ours.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    return (seccomp_error(rc, "bad-arch action"));
  for (const auto& rule : build(role)) {
    const int nr = seccomp_syscall_resolve_name(rule.name.c_str());
    if (nr < 0) continue;  // not a syscall of this architecture (see figures())
    std::vector<scmp_arg_cmp> args;
    for (const auto& a : rule.args) args.push_back(SCMP_CMP(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value));
    int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ALLOW, nr, static_cast<unsigned>(args.size()),
                                    args.empty() ? nullptr : args.data());
    if (rc < 0) return (seccomp_error(rc, fmt::format("{} rule for {}", role_name(role), rule.name)));
  }
  // libseccomp 2.5 exports to a file descriptor only: a memfd, read back.
  int fd = ::memfd_create("minivmm-seccomp", MFD_CLOEXEC);
  if (fd < 0) return (seccomp_error(-errno, "memfd_create"));
  int rc = seccomp_export_bpf(ctx.get(), fd);
  off_t size = rc < 0 ? 0 : ::lseek(fd, 0, SEEK_END);
  Program program;
  if (rc >= 0 && size > 0 && size % static_cast<off_t>(sizeof(sock_filter)) == 0) {
    program.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(fd, program.code.data(), static_cast<size_t>(size), 0) != size) rc = -EIO;
  } else if (rc >= 0) {
    rc = -EIO;
  }
  ::close(fd);
  if (rc < 0) return (seccomp_error(rc, fmt::format("exporting the {} filter", role_name(role))));
  return program;
}

std::string report() {
  struct Arch {
    std::string_view name;
    uint32_t token;
  };
  const Arch arches[] = {{"x86_64", SCMP_ARCH_X86_64}, {"aarch64", SCMP_ARCH_AARCH64}, {"riscv64", SCMP_ARCH_RISCV64}};
  const std::string native(arch::name());
  std::string s = fmt::format("minivmm seccomp allow-lists: syscalls allowed per thread role (KVM/tty ioctl requests "
                              "for {}, this build)\n\n",
                              native);
  s += "| thread role | x86_64 | aarch64 | riscv64 | ioctl requests |\n|---|---|---|---|---|\n";
  for (Role role : kAllRoles) {
    s += fmt::format("| {} |", role_name(role));
    for (const auto& a : arches) s += fmt::format(" {} |", figures(role, a.token).syscalls);
    s += fmt::format(" {} |\n", figures(role).ioctls);
  }
  return s;
}

}  // namespace vmm::seccomp
