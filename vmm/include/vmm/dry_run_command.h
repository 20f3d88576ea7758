// `vmm --kernel K [options] --dry-run [--dump-dtb FILE]`: lay the VM out
// exactly as a real boot would (boot_plan.h), print what lies where in guest
// memory, the entry registers, the protocol and the command line, and exit.
// Never opens /dev/kvm, so it works on any host and for any guest arch.
#pragma once

#include <cstdio>
#include <string>

#include "vmm/boot_plan.h"
#include "vmm/cli.h"

namespace vmm {

// Prints the plan to out, or one "vmm: ..." line to err; returns kExitOk,
// kExitLoad (kernel/initrd unreadable, wrong arch, does not fit) or
// kExitUsage (--dump-dtb file cannot be written).
int run_dry_run(const Options& options, std::FILE* out, std::FILE* err);

std::string format_plan(const BootPlan& plan);

}  // namespace vmm
