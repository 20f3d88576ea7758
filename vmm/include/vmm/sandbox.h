// Installs the seccomp allow-lists of vmm/seccomp_policy.h in minivmm's
// threads. run_vm calls prepare() once the VM is set up (memory, KVM fds,
// devices, files open) and before the threads enter their run loops; each
// thread then calls enter(its role) as its loop starts, so every thread
// carries exactly its own filter (seccomp filters are per thread; no TSYNC).
// Before prepare(), or in mode off, enter() does nothing: unit tests that
// start an IoThread or a console thread run unfiltered.
//
// --seccomp kill traps a forbidden call (SIGSYS) and the handler prints
//   minivmm: seccomp: thread <role> made forbidden syscall <name> (nr N)
// to stderr with async-signal-safe writes, then _exit()s with the code given
// to prepare() (vmm: kExitSeccomp; vmm exec: 125). The whole process ends:
// exit_group, as SCMP_ACT_KILL_PROCESS would, but with the reason on stderr.
#pragma once

#include "vmm/error.h"
#include "vmm/seccomp_policy.h"

namespace vmm::seccomp {

// Compiles every role's filter for `mode` and, in kill mode, installs the
// SIGSYS handler that reports a violation and exits with
// `violation_exit_code`. Mode off: nothing (enter() stays a no-op).
Result<void> prepare(Mode mode, int violation_exit_code);

// The calling thread's filter for `role` (see above). A thread that cannot
// install its filter ends the process with a message (exit code 70): a
// sandbox that silently is not there is worse than none asked for.
void enter(Role role);

// What enter() does with a program: PR_SET_NO_NEW_PRIVS, then
// seccomp(SECCOMP_SET_MODE_FILTER) on the calling thread only.
Result<void> install(const Program& program);

// The role the calling thread entered ("" before enter()).
std::string_view current_role();

}  // namespace vmm::seccomp
