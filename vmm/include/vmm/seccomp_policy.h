// The seccomp-bpf allow-lists of minivmm's threads (issue 13, Firecracker's
// per-thread model): every thread the VMM starts has a role, and each role
// may make only the system calls its run loop needs once the VM is set up
// (guest RAM mapped, KVM fds, devices and files open). Everything else ends
// the process (--seccomp kill), is logged by the kernel (log), or is not
// filtered at all (off).
//
// The lists are syscall *names*: libseccomp resolves them for the
// architecture the filter is built for, and a name the architecture does not
// have (open, poll, epoll_wait on aarch64 and riscv64) is skipped. ioctl is
// allowed only with the request numbers a role issues (the KVM ioctls come
// from arch::runtime_ioctls()); mmap and mprotect never with PROT_EXEC; no
// role has execve, execveat, fork, clone, socket or ptrace, and only the
// file-server and block roles touch the file system.
//
// This header is the policy as data, testable without installing anything;
// vmm/sandbox.h installs it in the threads.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/error.h"

namespace vmm::seccomp {

enum class Mode {
  kKill,  // a forbidden syscall ends the process with a message (SIGSYS trap) — the default
  kLog,   // allowed, but the kernel logs it (SCMP_ACT_LOG; see dmesg / the audit log)
  kOff,   // no filter
};
// kill; log in sanitizer builds, whose runtimes (LSan's leak check at exit
// stops the world with clone and ptrace) need calls no role has.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr Mode kDefaultMode = Mode::kLog;
#else
inline constexpr Mode kDefaultMode = Mode::kKill;
#endif
std::string_view to_string(Mode mode);
std::optional<Mode> parse_mode(std::string_view text);

enum class Role : uint8_t {
  kMain,           // the event loop: console batches, signals, timeouts, shutdown and the report
  kVcpu,           // KVM_RUN and the exits it dispatches to the device bus
  kVirtioBlk,      // the I/O thread of a virtio-blk device: reads and writes its disk file
  kFileServer,     // the I/O thread of virtio-fs or virtio-9p: serves the guest's file operations
  kVirtioConsole,  // the I/O thread of a virtio-console (vmm exec: writes the command's stdout/stderr)
  kVirtioRng,      // the I/O thread of virtio-rng: getrandom
  kVirtioDevice,   // the I/O thread of any other virtio device: queues and interrupts only
  kIrqResample,    // re-raises level lines KVM resamples (irqfd with resample)
  kConsoleOutput,  // writes guest console output to the host
  kConsoleInput,   // reads host input for the guest console
  kVirtioNet,      // the I/O thread of a virtio-net device: the guest's frames to the backend
  kNetUser,        // libslirp's thread (--net user): the sockets of the guest's connections
  kNetTap,         // a TAP backend's receive thread (--net tap=)
};
inline constexpr Role kAllRoles[] = {Role::kMain,          Role::kVcpu,          Role::kVirtioBlk,
                                     Role::kFileServer,    Role::kVirtioConsole, Role::kVirtioRng,
                                     Role::kVirtioDevice,  Role::kIrqResample,   Role::kConsoleOutput,
                                     Role::kConsoleInput,  Role::kVirtioNet,     Role::kNetUser,
                                     Role::kNetTap};

// "main", "vcpu", "virtio-blk", ... (what the violation message says).
std::string_view role_name(Role role);
// The I/O-thread role of a virtio device, from its name ("virtio-blk", "virtio-9p", ...).
Role role_for_device(std::string_view device_name);

// One argument test: (arg[index] & mask) == value. All tests of a rule must
// hold; several rules for one syscall are alternatives.
struct ArgEquals {
  unsigned index;
  uint64_t mask;
  uint64_t value;
};

struct Rule {
  std::string name;               // the syscall, as libseccomp names it
  std::vector<ArgEquals> args;    // empty: any arguments
  std::string why;                // what needs it (for the report and the reader)
};

// A request number a role may pass to ioctl(2), with its name.
struct Ioctl {
  unsigned long request;
  std::string_view name;
};

// The allow-list of `role` for this build's architecture: every rule, in the
// order written (one rule per allowed ioctl request).
std::vector<Rule> allow_list(Role role);

// How many distinct syscalls (and ioctl requests) `role` allows on the
// architecture `arch_token` (SCMP_ARCH_*; 0 = this build's). Names the
// architecture lacks are not counted.
struct Figures {
  size_t syscalls = 0;
  size_t ioctls = 0;
};
Figures figures(Role role, uint32_t arch_token = 0);

// The BPF program of `role` for this build's architecture, compiled by
// libseccomp. `mode` must not be kOff.
struct Program {
  std::vector<sock_filter> code;
};
Result<Program> compile(Role role, Mode mode);

// `vmm seccomp-report`: the table of roles and their figures for the three
// architectures (ioctl requests for this build's only).
std::string report();

}  // namespace vmm::seccomp
