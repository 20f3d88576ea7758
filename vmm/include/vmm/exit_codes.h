// The process exit codes of `vmm`, documented in `vmm --help` and README.
#pragma once

namespace vmm {

enum ExitCode : int {
  kExitOk = 0,           // guest powered off or reset on its own, or --expect matched, or inspect/dry-run succeeded
  kExitUsage = 2,        // bad command-line arguments
  kExitLoad = 3,         // kernel/initrd could not be read, parsed or placed
  kExitKvm = 4,          // /dev/kvm missing or a KVM call failed (incl. a vCPU KVM could not run)
  kExitGuestPanic = 5,   // the guest kernel panicked
  kExitTimeout = 6,      // --timeout expired before the guest finished
  kExitExpectUnmet = 7,  // the guest shut down before --expect matched
  kExitInterrupted = 8,  // stopped by SIGINT/SIGTERM
  kExitGuestCrash = 9,   // the guest crashed: a triple fault (x86) or a crash system event
  kExitSeccomp = 10,     // a thread made a system call its seccomp filter forbids (--seccomp kill)
  kExitInternal = 70,    // a bug in minivmm
};

// vmm exec passes the command's own status through, so its failures take
// the values timeout(1) and docker run use for theirs.
enum ExecExitCode : int {
  kExitExecTimeout = 124,      // --timeout expired
  kExitExecFailed = 125,       // minivmm or the guest kernel failed before the command's status came back
  kExitExecInterrupted = 130,  // SIGINT/SIGTERM (as a shell reports an interrupted command)
};

}  // namespace vmm
