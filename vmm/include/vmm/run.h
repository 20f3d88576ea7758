// `vmm --kernel K ...`: boot a kernel in a KVM VM with a console and wait
// for it to finish. run_vm reads as the sequence of its parts: the checked
// options, the console, the machine (memory, devices, boot data, KVM,
// vCPUs), the event loop with its exit policy, and the report.
#pragma once

#include "vmm/cli.h"

namespace vmm {

// Runs the VM to the end; returns an ExitCode (vmm/exit_codes.h). Errors are
// printed to stderr prefixed "vmm: ".
int run_vm(const Options& options);

}  // namespace vmm
